//! `ObsClient`, the cheap-to-clone handle on one supervised obs-websocket connection:
//! its state, its events and typed requests. Requests never wait for a connection:
//! without an identified session they fail at once.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::Secret;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::error::{ObsError, status_name};
use crate::event::ObsEvent;
use crate::protocol::RequestResponse;
use crate::supervisor;
use crate::types::{MediaAction, ObsStats, SceneList, SourceState, StreamStatus};

/// obs-websocket's default address.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:4455";

/// How to reach OBS, and the client's timings.
#[derive(Debug, Clone)]
pub struct ObsConfig {
    /// `ws://host:port` of obs-websocket.
    pub url: String,
    /// The server password, when obs-websocket has authentication on.
    pub password: Option<Secret>,
    /// How long a request may wait for its answer.
    pub request_timeout: Duration,
    /// How long connecting plus the Hello/Identify/Identified handshake may take.
    pub connect_timeout: Duration,
    /// First reconnect delay; it doubles per failed attempt.
    pub backoff_initial: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// After OBS refused the password, how long to wait before trying the same
    /// password again (a new password is tried at once).
    pub wrong_password_pause: Duration,
    /// A WebSocket ping goes out this often; a connection silent for three of these
    /// counts as lost.
    pub keepalive: Duration,
}

impl ObsConfig {
    /// Defaults for `url` and `password`: requests time out after 10 s, reconnects back
    /// off from 250 ms to 30 s, a refused password is retried after 10 minutes.
    pub fn new(url: impl Into<String>, password: Option<Secret>) -> ObsConfig {
        ObsConfig {
            url: url.into(),
            password,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            wrong_password_pause: Duration::from_secs(600),
            keepalive: Duration::from_secs(10),
        }
    }
}

impl Default for ObsConfig {
    fn default() -> Self {
        ObsConfig::new(DEFAULT_URL, None)
    }
}

/// The connection's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObsState {
    /// No session; the client retries after a backoff delay.
    Disconnected {
        /// Why (never carries the password).
        reason: String,
    },
    /// Connecting and identifying.
    Connecting,
    /// Identified: requests work and events flow.
    Connected {
        /// OBS Studio's version.
        obs_version: String,
        /// obs-websocket's version.
        ws_version: String,
    },
    /// OBS refused the password (or needs one and none is set). No retry until
    /// [`ObsClient::set_password`] or [`ObsConfig::wrong_password_pause`].
    WrongPassword,
}

impl ObsState {
    /// True when identified.
    pub fn is_connected(&self) -> bool {
        matches!(self, ObsState::Connected { .. })
    }
}

/// What the handle asks of the connection task.
#[derive(Debug)]
pub(crate) enum Command {
    Request {
        request_type: String,
        data: Option<Value>,
        reply: oneshot::Sender<Result<RequestResponse, ObsError>>,
    },
    SetPassword(Option<Secret>),
    Shutdown,
}

#[derive(Debug)]
struct Inner {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<ObsState>,
    events: broadcast::Sender<ObsEvent>,
    request_timeout: Duration,
}

/// A handle on the OBS connection; clones share it. The connection task ends when
/// [`ObsClient::shutdown`] is called or the last handle is dropped.
#[derive(Debug, Clone)]
pub struct ObsClient {
    inner: Arc<Inner>,
}

impl ObsClient {
    /// Starts the connection task on the current tokio runtime; it connects at once
    /// and reconnects forever (see [`ObsState`]).
    pub fn spawn(config: ObsConfig) -> ObsClient {
        let (commands, command_receiver) = mpsc::channel(64);
        let (state_sender, state) = watch::channel(ObsState::Connecting);
        let (events, _) = broadcast::channel(256);
        let request_timeout = config.request_timeout;
        tokio::spawn(supervisor::run(
            config,
            command_receiver,
            state_sender,
            events.clone(),
        ));
        ObsClient {
            inner: Arc::new(Inner {
                commands,
                state,
                events,
                request_timeout,
            }),
        }
    }

    /// The current state.
    pub fn state(&self) -> ObsState {
        self.inner.state.borrow().clone()
    }

    /// A receiver of state changes (`changed()`, `wait_for`).
    pub fn state_changes(&self) -> watch::Receiver<ObsState> {
        self.inner.state.clone()
    }

    /// A receiver of the events from now on (all sessions, across reconnects).
    pub fn events(&self) -> broadcast::Receiver<ObsEvent> {
        self.inner.events.subscribe()
    }

    /// Replaces the password. After a refusal the client retries at once with it;
    /// otherwise it is used from the next connection on.
    pub async fn set_password(&self, password: Option<Secret>) -> Result<(), ObsError> {
        self.inner
            .commands
            .send(Command::SetPassword(password))
            .await
            .map_err(|_| ObsError::ShutDown)
    }

    /// Closes the connection and ends the connection task.
    pub async fn shutdown(&self) {
        let _ = self.inner.commands.send(Command::Shutdown).await;
    }

    /// Sends any request and returns its `responseData` (`Null` when there is none).
    pub async fn call(&self, request_type: &str, data: Option<Value>) -> Result<Value, ObsError> {
        match &*self.inner.state.borrow() {
            ObsState::Connected { .. } => {}
            ObsState::WrongPassword => return Err(ObsError::WrongPassword),
            ObsState::Disconnected { .. } | ObsState::Connecting => {
                return Err(ObsError::NotConnected);
            }
        }
        let timeout = self.inner.request_timeout;
        let (reply, answer) = oneshot::channel();
        let exchange = async {
            self.inner
                .commands
                .send(Command::Request {
                    request_type: request_type.to_owned(),
                    data,
                    reply,
                })
                .await
                .map_err(|_| ObsError::ShutDown)?;
            answer.await.map_err(|_| ObsError::ConnectionLost {
                request_type: request_type.to_owned(),
            })?
        };
        let response = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| ObsError::Timeout {
                request_type: request_type.to_owned(),
                timeout,
            })??;
        let status = response.request_status;
        if !status.result {
            return Err(ObsError::Request {
                code: status.code,
                comment: status
                    .comment
                    .unwrap_or_else(|| status_name(status.code).to_owned()),
            });
        }
        Ok(response.response_data)
    }

    /// `GetSceneList`: scene names (top first) and the current program scene.
    pub async fn scenes(&self) -> Result<SceneList, ObsError> {
        let data = self.call("GetSceneList", None).await?;
        SceneList::from_response(&data)
            .ok_or_else(|| unexpected("GetSceneList", "no `scenes` array"))
    }

    /// `SetCurrentProgramScene`.
    pub async fn set_scene(&self, scene: &str) -> Result<(), ObsError> {
        self.call(
            "SetCurrentProgramScene",
            Some(json!({ "sceneName": scene })),
        )
        .await
        .map(drop)
    }

    /// `GetSceneItemId`: the id of the first item showing `source` in `scene`.
    pub async fn scene_item_id(&self, scene: &str, source: &str) -> Result<i64, ObsError> {
        let data = self
            .call(
                "GetSceneItemId",
                Some(json!({ "sceneName": scene, "sourceName": source })),
            )
            .await?;
        data.get("sceneItemId")
            .and_then(Value::as_i64)
            .ok_or_else(|| unexpected("GetSceneItemId", "no numeric `sceneItemId`"))
    }

    async fn item_enabled(&self, scene: &str, item_id: i64) -> Result<bool, ObsError> {
        let data = self
            .call(
                "GetSceneItemEnabled",
                Some(json!({ "sceneName": scene, "sceneItemId": item_id })),
            )
            .await?;
        data.get("sceneItemEnabled")
            .and_then(Value::as_bool)
            .ok_or_else(|| unexpected("GetSceneItemEnabled", "no boolean `sceneItemEnabled`"))
    }

    /// Whether `source` is enabled (visible) in `scene`.
    pub async fn source_enabled(&self, scene: &str, source: &str) -> Result<bool, ObsError> {
        let item_id = self.scene_item_id(scene, source).await?;
        self.item_enabled(scene, item_id).await
    }

    /// Shows, hides or toggles `source` in `scene` (the scene item id is resolved
    /// first; a toggle reads the current state). Returns the new state.
    pub async fn set_source_enabled(
        &self,
        scene: &str,
        source: &str,
        state: SourceState,
    ) -> Result<bool, ObsError> {
        let item_id = self.scene_item_id(scene, source).await?;
        let enabled = match state {
            SourceState::On => true,
            SourceState::Off => false,
            SourceState::Toggle => !self.item_enabled(scene, item_id).await?,
        };
        self.call(
            "SetSceneItemEnabled",
            Some(
                json!({ "sceneName": scene, "sceneItemId": item_id, "sceneItemEnabled": enabled }),
            ),
        )
        .await?;
        Ok(enabled)
    }

    /// Sets a text source's text (`SetInputSettings` with `overlay`: other settings stay).
    pub async fn set_text(&self, input: &str, text: &str) -> Result<(), ObsError> {
        self.call(
            "SetInputSettings",
            Some(json!({ "inputName": input, "inputSettings": { "text": text }, "overlay": true })),
        )
        .await
        .map(drop)
    }

    /// `GetInputSettings`: the input's non-default settings object.
    pub async fn input_settings(&self, input: &str) -> Result<Value, ObsError> {
        let data = self
            .call("GetInputSettings", Some(json!({ "inputName": input })))
            .await?;
        data.get("inputSettings")
            .filter(|settings| settings.is_object())
            .cloned()
            .ok_or_else(|| unexpected("GetInputSettings", "no `inputSettings` object"))
    }

    /// A text source's text (empty when never set: OBS leaves defaults out).
    pub async fn input_text(&self, input: &str) -> Result<String, ObsError> {
        let settings = self.input_settings(input).await?;
        Ok(settings
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// `TriggerMediaInputAction`: play, pause, restart or stop a media source.
    pub async fn media(&self, input: &str, action: MediaAction) -> Result<(), ObsError> {
        self.call(
            "TriggerMediaInputAction",
            Some(json!({ "inputName": input, "mediaAction": action.as_obs() })),
        )
        .await
        .map(drop)
    }

    /// `StartStream` (code 500 OutputRunning if it is live already).
    pub async fn start_stream(&self) -> Result<(), ObsError> {
        self.call("StartStream", None).await.map(drop)
    }

    /// `StopStream` (code 501 OutputNotRunning if it is not live).
    pub async fn stop_stream(&self) -> Result<(), ObsError> {
        self.call("StopStream", None).await.map(drop)
    }

    /// `StartRecord`.
    pub async fn start_record(&self) -> Result<(), ObsError> {
        self.call("StartRecord", None).await.map(drop)
    }

    /// `StopRecord`.
    pub async fn stop_record(&self) -> Result<(), ObsError> {
        self.call("StopRecord", None).await.map(drop)
    }

    /// `GetStreamStatus`.
    pub async fn stream_status(&self) -> Result<StreamStatus, ObsError> {
        let data = self.call("GetStreamStatus", None).await?;
        StreamStatus::from_response(&data)
            .ok_or_else(|| unexpected("GetStreamStatus", "no boolean `outputActive`"))
    }

    /// `GetStats`: CPU, render and output frame figures.
    pub async fn stats(&self) -> Result<ObsStats, ObsError> {
        let data = self.call("GetStats", None).await?;
        ObsStats::from_response(&data).ok_or_else(|| unexpected("GetStats", "not an object"))
    }
}

fn unexpected(request_type: &str, detail: &str) -> ObsError {
    ObsError::UnexpectedResponse {
        request_type: request_type.to_owned(),
        detail: detail.to_owned(),
    }
}
