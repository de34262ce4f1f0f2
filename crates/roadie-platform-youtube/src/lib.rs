//! The YouTube adapter: the `Platform` strategy for YouTube Live.
//!
//! - [`oauth`]: Google sign-in (loopback with PKCE and `access_type=offline`, the
//!   device flow limited to the `youtube` scope), refresh, revoke, the account's channel.
//! - [`message`]: `liveChatMessages.list` pages and every snippet type normalised into
//!   SPEC events; [`api`] reads the other Data API answers and Google's error bodies.
//! - [`quota`]: the daily quota budget and the poll pacing that keeps inside it.
//! - [`adapter`]: [`YoutubeAdapter`], which finds the live broadcast, polls its chat at
//!   YouTube's `pollingIntervalMillis` (slower when the budget demands), sends chat
//!   and polls concurrent viewers.
//!
//! Every user brings their own Google Cloud project (client id and secret in the
//! configuration). The Data API quota (10,000 units a day by default) belongs to that
//! project, so the budget here is the user's own, shared with anything else that uses
//! the same project.
//!
//! Architecture invariant: this crate depends on `roadie-core`, `roadie-oauth` and
//! `roadie-platform`, never on another platform adapter, the daemon or the store.

pub mod adapter;
pub mod api;
pub mod error;
pub mod message;
pub mod oauth;
pub mod quota;
pub mod settings;

pub use adapter::{CAPABILITIES, YoutubeAdapter};
pub use error::YoutubeError;
pub use quota::{QuotaCosts, QuotaStatus};
pub use settings::{WallClock, YoutubeSettings};
