//! Roadie's Twitch adapter. This first part is pure: decoding EventSub WebSocket
//! frames, normalising notifications into core events, and dropping redelivered
//! notifications by `message_id`. The connection task, OAuth and Helix build on it.
//!
//! Architecture invariant: this crate depends on `roadie-core` and never on another
//! platform adapter, the daemon or the store.

pub mod eventsub;
