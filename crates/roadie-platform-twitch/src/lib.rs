//! Roadie's Twitch adapter: EventSub (frames, normalisation, de-duplication and the
//! session task), Helix (subscriptions, chat, users; token refresh on 401 and rate
//! limits) and the rate-limited outbound chat queue.
//!
//! Architecture invariant: this crate depends on `roadie-core` and never on another
//! platform adapter, the daemon or the store.

pub mod adapter;
pub mod chat_queue;
pub mod eventsub;
pub mod helix;
