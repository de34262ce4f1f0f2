//! Roadie's domain core: the closed event enum, sortable event ids, timestamps and
//! the redacting `Secret` type.
//!
//! Architecture invariant: this crate does no I/O and knows no async runtime, clock
//! or random source. Time and randomness come in as parameters, so everything here
//! is deterministic and testable without a runtime.

pub mod backoff;
pub mod event;
pub mod id;
pub mod secret;
pub mod time;

pub use backoff::backoff_delay;
pub use event::{
    CheerUnit, ConnectionState, Event, EventKind, ObsTopic, Platform, RecordedEvent,
    RedemptionStatus, Reward, Role, StepOutcome, TtsPhase, UnknownName, User,
};
pub use id::{EncodedEventId, EventId, EventIdGenerator, ParseEventIdError};
pub use secret::Secret;
pub use time::Timestamp;
