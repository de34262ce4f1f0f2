//! Request and response bodies of the HTTP API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::EventEnvelope;

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the daemon answers.
    pub status: String,
    /// The daemon's version.
    pub version: String,
}

/// The state of one part of the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    /// Working.
    Ok,
    /// Working with a problem (see `detail`).
    Degraded,
    /// Not working.
    Down,
    /// Switched off by configuration.
    Disabled,
    /// Needs the user to sign in again.
    AuthRequired,
}

/// Health of one component in `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentHealth {
    /// Component name, e.g. `store`, `keystore`, `twitch`.
    pub name: String,
    /// Its state.
    pub state: ComponentState,
    /// A human-readable explanation.
    pub detail: String,
    /// When the state last changed, RFC 3339 UTC.
    pub since: String,
}

/// The keystore in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeystoreStatus {
    /// `os` or `file`.
    pub backend: String,
    /// Why this backend was chosen.
    pub reason: String,
}

/// `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// The daemon's version.
    pub version: String,
    /// Seconds since the daemon started.
    pub uptime_seconds: u64,
    /// The data directory.
    pub data_dir: String,
    /// The address the API listens on.
    pub listen: String,
    /// The keystore backend.
    pub keystore: KeystoreStatus,
    /// Every component's health.
    pub components: Vec<ComponentHealth>,
    /// YouTube's daily API quota, while YouTube is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub youtube_quota: Option<QuotaInfo>,
}

/// Spending of YouTube's daily API quota (per Google project, reset at midnight
/// Pacific time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuotaInfo {
    /// Units spent today.
    pub used: u64,
    /// The daily budget (`[youtube] daily_quota`).
    pub budget: u64,
    /// Units left.
    pub remaining: u64,
    /// The current spacing of chat polls in milliseconds (slowed to last the day).
    pub poll_interval_ms: u64,
    /// Why polling is slowed or stopped, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The budget is spent: chat is idle until the reset.
    pub exhausted: bool,
}

/// Error body of every failed request: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `unauthorized`, `bad_request`.
    pub code: String,
    /// A human-readable message.
    pub message: String,
}

/// A user-defined event to publish (`custom` type, platform `roadie`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomEvent {
    /// The event's name.
    pub name: String,
    /// Free-form payload.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// `POST /api/v1/events` body: one custom event or a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PublishRequest {
    /// One event.
    One(CustomEvent),
    /// Several, published in order.
    Many(Vec<CustomEvent>),
}

/// `POST /api/v1/events` answer, sent once the events are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Published {
    /// The new events' ids, in order.
    pub ids: Vec<String>,
}

/// `GET /api/v1/events/history` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventHistory {
    /// Events, oldest first.
    pub events: Vec<EventEnvelope>,
}

/// `PUT /api/v1/secrets/{key}` body.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    /// The secret. It is stored in the keystore and never returned by any endpoint.
    pub value: String,
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue { value: [redacted] }")
    }
}

/// Answer to a secret change: never carries the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SecretChanged {
    /// The key.
    pub key: String,
    /// `stored` or `deleted` or `absent`.
    pub result: String,
    /// The keystore backend that holds it (`os` or `file`).
    pub backend: String,
    /// Something to know about the key, e.g. that Roadie never reads it (a typo?).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
