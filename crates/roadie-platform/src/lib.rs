//! The platform strategy: the one trait Twitch, Kick and YouTube adapters implement,
//! the capabilities they declare with the OAuth scopes each needs, the sink they
//! report to, and the conformance suite every adapter runs against its own fake.
//!
//! Architecture invariant: this crate depends on `roadie-core` only: no async runtime,
//! no HTTP, no WebSocket. Adapters depend on it and never on each other; the daemon
//! holds adapters as `Arc<dyn Platform>` and never names a concrete one outside the
//! place that builds them.

pub mod conformance;
pub mod dedup;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use roadie_core::{ConnectionState, Event, Platform as PlatformId};

pub use dedup::DedupWindow;

/// How long to wait before reconnect attempt number `failures` (1-based):
/// [`roadie_core::backoff_delay`] with fresh random bits for its jitter.
pub fn reconnect_delay(
    initial: std::time::Duration,
    max: std::time::Duration,
    failures: u32,
) -> std::time::Duration {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(failures);
    roadie_core::backoff_delay(initial, max, failures, random)
}

/// A boxed, sendable future (trait objects cannot have async methods).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something a platform can do for Roadie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Receive chat messages.
    ChatRead,
    /// Send chat messages.
    ChatSend,
    /// Receive follows, subscriptions, cheers, raids, bans...
    Events,
    /// Reward redemptions (and managing Roadie's own rewards).
    Rewards,
    /// List who is in chat (watch-time points).
    ChatterList,
    /// Poll viewers and followers for analytics.
    Polling,
}

/// A capability and the OAuth scopes it needs on this platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityScopes {
    /// The capability.
    pub capability: Capability,
    /// The scopes, all required.
    pub scopes: &'static [&'static str],
}

/// Channel figures polled while live, for analytics (the viewer count also goes out
/// as a `viewers` event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnalyticsSample {
    /// When it was taken.
    pub at: roadie_core::Timestamp,
    /// Concurrent viewers, when live.
    pub viewers: Option<u64>,
    /// Total followers, when the token may read them.
    pub followers: Option<u64>,
    /// People in chat, when the token may list them.
    pub chatters: Option<u64>,
}

/// Where an adapter reports. Implemented by the daemon (and by test recorders).
pub trait PlatformSink: Send + Sync {
    /// A normalised event; waits while the daemon's queue is full.
    fn event(&self, event: Event) -> BoxFuture<'_, ()>;
    /// The connection's state changed.
    fn status(&self, state: ConnectionState, detail: String);
    /// The people in chat right now (polled about once a minute while live), for
    /// watch-time points. Platforms that cannot list chatters never call it.
    fn chatters(
        &self,
        at: roadie_core::Timestamp,
        chatters: Vec<roadie_core::User>,
    ) -> BoxFuture<'_, ()> {
        let _ = (at, chatters);
        Box::pin(std::future::ready(()))
    }
    /// A polled analytics sample.
    fn analytics(&self, sample: AnalyticsSample) -> BoxFuture<'_, ()> {
        let _ = sample;
        Box::pin(std::future::ready(()))
    }
}

/// Why a chat message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The text cannot be sent (too long for the platform, empty...), with the reason.
    #[error("{0}")]
    Refused(String),
    /// The platform refused or dropped it, with its reason.
    #[error("{0}")]
    Platform(String),
    /// Not signed in, or the sign-in expired: `roadie auth login`.
    #[error("{0}")]
    AuthRequired(String),
    /// The adapter cannot send right now (starting, stopped, rate-limit queue full).
    #[error("{0}")]
    Unavailable(String),
}

/// Resolves when the adapter must stop.
pub type Shutdown = BoxFuture<'static, ()>;

/// One platform connection: the strategy every adapter implements.
pub trait Platform: Send + Sync {
    /// Which platform this is.
    fn id(&self) -> PlatformId;

    /// What it can do, and with which scopes.
    fn capabilities(&self) -> &'static [CapabilityScopes];

    /// Connects and keeps connected (reconnecting with backoff, refreshing tokens)
    /// until `shutdown` resolves, reporting events and state changes to `sink`.
    fn run(
        self: Arc<Self>,
        sink: Arc<dyn PlatformSink>,
        shutdown: Shutdown,
    ) -> BoxFuture<'static, ()>;

    /// Sends a chat message (split or refused per the platform's limits, queued per
    /// its rate limits); returns the platform's message ids.
    fn send_chat(&self, text: &str) -> BoxFuture<'_, Result<Vec<String>, ChatError>>;
}

/// Every scope an adapter's capabilities need, de-duplicated, in declaration order.
pub fn all_scopes(capabilities: &[CapabilityScopes]) -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = Vec::new();
    for capability in capabilities {
        for scope in capability.scopes {
            if !scopes.contains(scope) {
                scopes.push(scope);
            }
        }
    }
    scopes
}
