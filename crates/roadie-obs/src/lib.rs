//! Roadie's OBS Studio client: obs-websocket 5.x over tokio-tungstenite.
//!
//! [`ObsClient::spawn`] starts one supervised connection: Hello → Identify (RPC 1, the
//! authentication string when OBS asks for one, Roadie's event subscriptions) →
//! Identified; requests are matched to responses by `requestId`, each under a time
//! limit; events are normalised into [`ObsEvent`] and broadcast. A dropped connection
//! is reopened forever with jittered exponential backoff (250 ms → 30 s); a refused
//! password ([`ObsState::WrongPassword`]) is not retried until the password changes or
//! a long pause has passed. Requests never wait for a connection: without one they
//! fail at once with [`ObsError::NotConnected`].
//!
//! The password is a [`roadie_core::Secret`] and never appears in logs, errors or
//! `Debug` output.

mod client;
mod error;
mod event;
#[cfg(test)]
mod json_strategy;
pub mod protocol;
mod supervisor;
mod types;

pub use client::{DEFAULT_URL, ObsClient, ObsConfig, ObsState};
pub use error::ObsError;
pub use event::ObsEvent;
pub use types::{MediaAction, ObsStats, SceneList, SourceState, StreamStatus, UnknownWord};
