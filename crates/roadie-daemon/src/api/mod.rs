//! The local HTTP and WebSocket API (v1), served by axum on `[server] listen`.

mod automation;
mod error;
mod events;
mod obs;
mod overlay;
mod platforms;
mod rewards;
mod secrets;
mod security;
mod tts;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use tokio::sync::watch;
use utoipa::OpenApi;

use roadie_core::Secret;
use roadie_protocol::{ComponentState, Health, KeystoreStatus, Status};

use crate::bus::EventBus;
use crate::health::HealthBoard;
use crate::keystore::KeystoreSlot;

pub use error::ApiError;

/// Everything a request handler may use.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The shared state behind [`AppState`].
#[derive(Debug)]
pub struct AppInner {
    /// When the daemon started.
    pub started: Instant,
    /// The data directory, for status.
    pub data_dir: String,
    /// The bound address.
    pub listen: SocketAddr,
    /// The API token.
    pub token: Secret,
    /// Accepted `Host` header values (lowercase, with port where one is required).
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` header values (lowercase).
    pub allowed_origins: Vec<String>,
    /// The event bus.
    pub bus: EventBus,
    /// Component health.
    pub health: Arc<HealthBoard>,
    /// The keystore, once opened.
    pub keystore: Arc<KeystoreSlot>,
    /// The platform adapters.
    pub platforms: Arc<crate::platforms::PlatformManager>,
    /// Commands, points, scripts.
    pub automation: crate::automation::Automation,
    /// The OBS connection.
    pub obs: crate::obs::Obs,
    /// Text to speech.
    pub tts: crate::tts::Tts,
    /// The token in overlay URLs (not the API token).
    pub overlay_token: Secret,
    /// Flips to true when the daemon shuts down; long-lived handlers watch it.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// Wraps the shared state.
    pub fn new(inner: AppInner) -> AppState {
        AppState(Arc::new(inner))
    }
}

/// Host names accepted for a daemon bound to `listen`, plus the configured extras.
pub fn allowed_hosts(listen: SocketAddr, extra: &[String]) -> (Vec<String>, Vec<String>) {
    let port = listen.port();
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        listen.to_string(),
    ];
    for name in extra {
        let name = name.to_ascii_lowercase();
        if name.contains(':') && !name.starts_with('[') {
            hosts.push(name);
        } else {
            hosts.push(format!("{name}:{port}"));
        }
    }
    hosts.sort();
    hosts.dedup();
    let origins = hosts.iter().map(|host| format!("http://{host}")).collect();
    (hosts, origins)
}

/// The API router.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/events", get(events::stream).post(events::publish))
        .route("/api/v1/events/history", get(events::history))
        .route("/api/v1/auth", get(platforms::status))
        .route("/api/v1/auth/{platform}", delete(platforms::logout))
        .route("/api/v1/auth/{platform}/import", post(platforms::import))
        .route(
            "/api/v1/auth/{platform}/authorize",
            post(platforms::authorize),
        )
        .route(
            "/api/v1/auth/{platform}/exchange",
            post(platforms::exchange),
        )
        .route("/api/v1/auth/{platform}/device", post(platforms::device))
        .route("/api/v1/chat", post(platforms::chat))
        .route(
            "/api/v1/commands",
            get(automation::list_commands).post(automation::upsert_command),
        )
        .route("/api/v1/commands/test", post(automation::test_command))
        .route("/api/v1/commands/export", get(automation::export_commands))
        .route("/api/v1/commands/import", post(automation::import_commands))
        .route(
            "/api/v1/commands/{name}",
            delete(automation::remove_command),
        )
        .route("/api/v1/scripts/test", post(automation::test_script))
        .route("/api/v1/actions", get(automation::list_actions))
        .route("/api/v1/actions/export", get(automation::export_actions))
        .route("/api/v1/actions/import", post(automation::import_actions))
        .route("/api/v1/actions/{name}/run", post(automation::run_action))
        .route("/api/v1/obs", get(obs::status))
        .route("/api/v1/obs/scene", post(obs::scene))
        .route("/api/v1/obs/source", post(obs::source))
        .route("/api/v1/obs/stream", post(obs::stream))
        .route("/api/v1/obs/record", post(obs::record))
        .route("/api/v1/obs/text", post(obs::text))
        .route("/api/v1/obs/media", post(obs::media))
        .route("/api/v1/tts", get(tts::queue))
        .route("/api/v1/tts/say", post(tts::say))
        .route("/api/v1/tts/skip", post(tts::skip))
        .route("/api/v1/tts/pause", post(tts::pause))
        .route("/api/v1/tts/resume", post(tts::resume))
        .route("/api/v1/tts/clear", post(tts::clear))
        .route("/api/v1/points", get(automation::top))
        .route("/api/v1/points/adjust", post(automation::adjust))
        .route("/api/v1/points/link", post(automation::link))
        .route("/api/v1/points/{user}", get(automation::balance))
        .route("/api/v1/rewards", get(rewards::list).post(rewards::create))
        .route(
            "/api/v1/rewards/{id}",
            axum::routing::patch(rewards::update),
        )
        .route(
            "/api/v1/rewards/{reward_id}/redemptions/{redemption_id}",
            post(rewards::decide),
        )
        .route(
            "/api/v1/secrets/{key}",
            put(secrets::set).delete(secrets::delete),
        )
        .route_layer(from_fn_with_state(state.clone(), security::require_token));
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/overlay/tts", get(overlay::page))
        .route("/overlay/tts/ws", get(overlay::socket))
        .route("/webhooks/kick", post(webhooks::kick))
        .merge(protected)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            state.clone(),
            security::check_host_and_origin,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /api/v1/openapi.json",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

/// Liveness: answers without authentication.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Version, uptime, data directory, keystore backend and every component's health.
#[utoipa::path(get, path = "/api/v1/status", security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 401, body = roadie_protocol::ErrorBody)))]
async fn status(State(state): State<AppState>) -> Json<Status> {
    let subscribers = state.bus.subscriber_count();
    state.health.set(
        "event_stream",
        ComponentState::Ok,
        format!("{subscribers} subscriber(s)"),
    );
    let keystore = match state.keystore.get() {
        Some(opened) => KeystoreStatus {
            backend: opened.kind.to_string(),
            reason: opened.reason.clone(),
        },
        None => KeystoreStatus {
            backend: "none".into(),
            reason: state.keystore.problem().unwrap_or_else(|| "opening".into()),
        },
    };
    Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: state.started.elapsed().as_secs(),
        data_dir: state.data_dir.clone(),
        listen: state.listen.to_string(),
        keystore,
        components: state.health.snapshot(),
        youtube_quota: state.platforms.youtube_quota(),
    })
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Roadie local API", description = "The daemon's HTTP and WebSocket API. Every endpoint but health needs `Authorization: Bearer <token>` (the token is in <data-dir>/api-token)."),
    paths(health, status, openapi, events::stream, events::publish, events::history, secrets::set, secrets::delete, platforms::status, platforms::import, platforms::authorize, platforms::exchange, platforms::device, platforms::logout, platforms::chat, webhooks::kick, rewards::list, rewards::create, rewards::update, rewards::decide, automation::list_commands, automation::upsert_command, automation::remove_command, automation::test_command, automation::export_commands, automation::import_commands, automation::test_script, automation::top, automation::balance, automation::adjust, automation::link, automation::list_actions, automation::run_action, automation::export_actions, automation::import_actions, obs::status, obs::scene, obs::source, obs::stream, obs::record, obs::text, obs::media, tts::queue, tts::say, tts::skip, tts::pause, tts::resume, tts::clear),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers and the protocol types.
pub fn openapi_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", security(("bearer" = [])), responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
        .into_response()
}
