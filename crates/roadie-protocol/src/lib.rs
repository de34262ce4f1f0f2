//! Wire types of Roadie's local API (v1): JSON bodies, the event envelope, errors.
//!
//! Architecture invariant: these are the only types the daemon serialises onto the
//! API. Domain types from `roadie-core` are converted here, explicitly, so a change
//! inside the daemon never changes the contract by accident.

#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod automation;
pub mod envelope;
pub mod timefmt;

pub use api::*;
pub use auth::*;
pub use automation::*;
pub use envelope::{ENVELOPE_VERSION, EventEnvelope, envelope_json, event_data, event_data_json};
