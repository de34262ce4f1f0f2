//! The Kick adapter: the `Platform` strategy for Kick.
