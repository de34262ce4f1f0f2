//! OBS in the daemon: the obs-websocket client when `[obs]` is configured, its
//! connection state in health and `roadie status`, OBS's own events as `obs.*`
//! events, stream-health samples while streaming, and the operations the API, the
//! CLI and action steps use.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::{Event, EventKind, ObsTopic, Platform, Secret, Timestamp};
use roadie_obs::{MediaAction, ObsClient, ObsConfig, ObsError, ObsEvent, ObsState, SourceState};
use roadie_protocol::ComponentState;
use roadie_store::ObsHealthSample;
use serde_json::json;

use crate::bus::EventBus;
use crate::health::HealthBoard;

/// The OBS connection, or why there is none.
#[derive(Debug, Clone)]
pub struct Obs {
    client: Option<ObsClient>,
}

/// Why an OBS operation failed, in words for the streamer.
#[derive(Debug, thiserror::Error)]
pub enum ObsServiceError {
    /// No `[obs]` section.
    #[error("OBS is not configured: add an [obs] section (url, password) to the config")]
    NotConfigured,
    /// The client's error.
    #[error("{0}")]
    Obs(#[from] ObsError),
}

fn now() -> Timestamp {
    Timestamp(roadie_store::now_ms())
}

fn describe(state: &ObsState) -> (ComponentState, String, &'static str) {
    match state {
        ObsState::Connected {
            obs_version,
            ws_version,
        } => (
            ComponentState::Ok,
            format!("connected to OBS {obs_version} (obs-websocket {ws_version})"),
            "connected",
        ),
        ObsState::Connecting => (ComponentState::Degraded, "connecting".into(), "connecting"),
        ObsState::Disconnected { reason } => (
            ComponentState::Degraded,
            format!("not connected, retrying: {reason}"),
            "reconnecting",
        ),
        ObsState::WrongPassword => (
            ComponentState::Down,
            "OBS refused the password: set the right one with `roadie secrets set obs.password` (or [obs] password) and restart".into(),
            "wrong_password",
        ),
    }
}

impl Obs {
    /// Connects when configured; otherwise every operation says how to configure it.
    pub fn start(
        config: &roadie_config::ObsConfig,
        bus: EventBus,
        health: Arc<HealthBoard>,
    ) -> Obs {
        let store = bus.store().clone();
        if !config.enabled {
            health.set("obs", ComponentState::Disabled, "no [obs] section");
            return Obs { client: None };
        }
        let client = ObsClient::spawn(ObsConfig::new(config.url.clone(), config.password.clone()));
        let mut states = client.state_changes();
        let status_bus = bus.clone();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let state = states.borrow_and_update().clone();
                let (component, detail, word) = describe(&state);
                health.set("obs", component, detail.clone());
                if last != Some(word) {
                    last = Some(word);
                    publish(
                        &status_bus,
                        ObsTopic::Status,
                        json!({"state": word, "detail": detail}),
                    )
                    .await;
                }
                if states.changed().await.is_err() {
                    // The connection task is gone: only a panic ends it before the
                    // daemon stops, and `connected` must not stay on show after it.
                    health.set(
                        "obs",
                        ComponentState::Down,
                        "the OBS connection stopped (a bug in Roadie; see the log); restart the daemon",
                    );
                    break;
                }
            }
        });
        let mut events = client.events();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        if let Some((topic, data)) = topic_of(event) {
                            publish(&bus, topic, data).await;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "OBS events came faster than they were recorded");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        tokio::spawn(sample_health(
            client.clone(),
            store,
            Duration::from_secs(u64::from(config.health_seconds.max(1))),
        ));
        Obs {
            client: Some(client),
        }
    }

    /// Sets the password from the keystore when the config has none.
    pub async fn use_password(&self, password: Secret) {
        if let Some(client) = &self.client
            && let Err(error) = client.set_password(Some(password)).await
        {
            tracing::warn!(%error, "could not give OBS its password");
        }
    }

    fn client(&self) -> Result<&ObsClient, ObsServiceError> {
        self.client.as_ref().ok_or(ObsServiceError::NotConfigured)
    }

    /// The connection state, in words, and whether OBS is configured at all.
    pub fn state(&self) -> Option<ObsState> {
        self.client.as_ref().map(ObsClient::state)
    }

    /// The scenes and the current one.
    pub async fn scenes(&self) -> Result<roadie_obs::SceneList, ObsServiceError> {
        Ok(self.client()?.scenes().await?)
    }

    /// Switches the program scene.
    pub async fn set_scene(&self, scene: &str) -> Result<(), ObsServiceError> {
        Ok(self.client()?.set_scene(scene).await?)
    }

    /// Shows, hides or toggles a source in a scene; returns whether it is shown now.
    pub async fn set_source(
        &self,
        scene: &str,
        source: &str,
        state: SourceState,
    ) -> Result<bool, ObsServiceError> {
        Ok(self
            .client()?
            .set_source_enabled(scene, source, state)
            .await?)
    }

    /// Sets a text source's text.
    pub async fn set_text(&self, input: &str, text: &str) -> Result<(), ObsServiceError> {
        Ok(self.client()?.set_text(input, text).await?)
    }

    /// Plays, pauses, restarts or stops a media input.
    pub async fn media(&self, input: &str, action: MediaAction) -> Result<(), ObsServiceError> {
        Ok(self.client()?.media(input, action).await?)
    }

    /// Starts or stops streaming.
    pub async fn stream(&self, start: bool) -> Result<(), ObsServiceError> {
        let client = self.client()?;
        if start {
            client.start_stream().await?;
        } else {
            client.stop_stream().await?;
        }
        Ok(())
    }

    /// Starts or stops recording.
    pub async fn record(&self, start: bool) -> Result<(), ObsServiceError> {
        let client = self.client()?;
        if start {
            client.start_record().await?;
        } else {
            client.stop_record().await?;
        }
        Ok(())
    }

    /// Closes the connection at shutdown.
    pub async fn shutdown(&self) {
        if let Some(client) = &self.client {
            client.shutdown().await;
        }
    }
}

/// While OBS streams, samples its health (`GetStreamStatus`, `GetStats`) every
/// `every` and stores it for the per-stream reports; the bitrate comes from the bytes
/// sent since the previous sample.
async fn sample_health(client: ObsClient, store: roadie_store::Store, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut previous: Option<(std::time::Instant, u64)> = None;
    loop {
        tick.tick().await;
        if !client.state().is_connected() {
            previous = None;
            continue;
        }
        let status = match client.stream_status().await {
            Ok(status) if status.active => status,
            Ok(_) => {
                previous = None;
                continue;
            }
            Err(ObsError::ShutDown) => return,
            Err(error) => {
                tracing::debug!(%error, "no stream status from OBS");
                continue;
            }
        };
        let stats = match client.stats().await {
            Ok(stats) => stats,
            Err(error) => {
                tracing::debug!(%error, "no stats from OBS");
                continue;
            }
        };
        let taken = std::time::Instant::now();
        let bitrate_kbps = previous.and_then(|(then, bytes)| {
            let seconds = taken.duration_since(then).as_secs_f64();
            (seconds > 0.0 && status.bytes >= bytes)
                .then(|| (status.bytes - bytes) as f64 * 8.0 / seconds / 1000.0)
        });
        previous = Some((taken, status.bytes));
        let sample = ObsHealthSample {
            at: now(),
            output_skipped_frames: status.skipped_frames,
            output_total_frames: status.total_frames,
            render_skipped_frames: stats.render_skipped_frames,
            render_total_frames: stats.render_total_frames,
            congestion: status.congestion,
            output_bytes: status.bytes,
            bitrate_kbps,
            cpu_percent: stats.cpu_usage,
        };
        if let Err(error) = store.add_obs_sample(sample).await {
            tracing::warn!(%error, "could not store an OBS health sample");
        }
    }
}

fn topic_of(event: ObsEvent) -> Option<(ObsTopic, serde_json::Value)> {
    Some(match event {
        ObsEvent::ProgramSceneChanged { scene } => (ObsTopic::Scene, json!({"scene": scene})),
        ObsEvent::StreamStateChanged { active, state } => {
            (ObsTopic::Stream, json!({"active": active, "state": state}))
        }
        ObsEvent::RecordStateChanged { active, state } => {
            (ObsTopic::Record, json!({"active": active, "state": state}))
        }
        ObsEvent::SceneItemEnableStateChanged {
            scene,
            item_id,
            enabled,
        } => (
            ObsTopic::Source,
            json!({"scene": scene, "item_id": item_id, "enabled": enabled}),
        ),
        _ => return None,
    })
}

async fn publish(bus: &EventBus, topic: ObsTopic, data: serde_json::Value) {
    let event = Event {
        platform: Platform::Roadie,
        at: now(),
        kind: EventKind::Obs { topic, data },
    };
    if let Err(error) = bus.publish(&event).await {
        tracing::warn!(%error, "could not record an OBS event");
    }
}
