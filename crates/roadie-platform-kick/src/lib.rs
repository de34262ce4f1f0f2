//! Roadie's Kick adapter: sign-in helpers for id.kick.com (OAuth 2.1 with PKCE and the
//! client secret), the unofficial Pusher feed for reading chat and channel events,
//! Kick's signed webhooks, the public API for sending chat, finishing reward
//! redemptions and polling viewers, and the `Platform` strategy tying them together.
//!
//! Events heard on both routes (Pusher and webhook) are emitted once: one
//! de-duplication window ([`dedup::EventDedup`]) is shared by both (see [`normalise`]
//! for the keys).
//!
//! Architecture invariant: this crate depends on `roadie-core`, `roadie-oauth` and
//! `roadie-platform`, never on another platform adapter, the daemon or the store.

pub mod adapter;
pub mod api;
pub mod dedup;
pub mod error;
pub mod normalise;
pub mod oauth;
pub mod pusher;
pub mod subscriptions;
pub mod webhook;

pub use adapter::{CAPABILITIES, KickAdapter, KickSettings};
pub use error::KickError;
