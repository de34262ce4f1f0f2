//! The YouTube adapter: the `Platform` strategy for YouTube Live.
