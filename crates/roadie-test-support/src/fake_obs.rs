//! A fake OBS Studio (obs-websocket 5.x) on 127.0.0.1:0 speaking the real protocol with
//! frames built from the documented examples (data/obs_ws_*.json): Hello with or without
//! an authentication challenge, the Identify check (a wrong string closes with 4009
//! "Authentication failed."), Identified, requests answered from an in-memory OBS
//! (scenes and their items, text and media inputs, stream and record outputs, stats)
//! and the matching events sent to identified sessions that subscribed to them.
//! `kill` drops every connection and stops accepting; `restart` accepts again on the
//! same port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64ct::{Base64, Encoding};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Hello with an authentication challenge (documented example).
pub const HELLO_AUTH_REQUIRED: &str = include_str!("../data/obs_ws_hello_auth_required.json");
/// Hello without authentication (documented example).
pub const HELLO_NO_AUTH: &str = include_str!("../data/obs_ws_hello_no_auth.json");
/// The documented `authentication` object of a Hello: `{challenge, salt}`.
pub const HELLO_AUTH_EXAMPLE_OBJECT: &str =
    include_str!("../data/obs_ws_hello_auth_example_object.json");
/// The documented Identify example (its authentication string does NOT derive from the
/// Hello example; see data/SOURCES.md).
pub const IDENTIFY_EXAMPLE: &str = include_str!("../data/obs_ws_identify.json");
/// The documented Request example (SetCurrentProgramScene).
pub const REQUEST_EXAMPLE: &str =
    include_str!("../data/obs_ws_request_set_current_program_scene.json");
const IDENTIFIED: &str = include_str!("../data/obs_ws_identified.json");
const RESPONSE_SUCCESS: &str = include_str!("../data/obs_ws_request_response_success.json");
const RESPONSE_FAILURE: &str = include_str!("../data/obs_ws_request_response_failure.json");
const EVENT: &str = include_str!("../data/obs_ws_event_studio_mode.json");

/// Event subscription bits (obs-websocket `EventSubscription`).
pub mod intent {
    /// Scenes.
    pub const SCENES: u32 = 1 << 2;
    /// Inputs.
    pub const INPUTS: u32 = 1 << 3;
    /// Outputs.
    pub const OUTPUTS: u32 = 1 << 6;
    /// Scene items.
    pub const SCENE_ITEMS: u32 = 1 << 7;
    /// Media inputs.
    pub const MEDIA_INPUTS: u32 = 1 << 8;
    /// Every non-high-volume category (the default when Identify has none).
    pub const ALL: u32 = (1 << 11) - 1;
}

/// The password the documented Hello example is meant for.
pub const EXAMPLE_PASSWORD: &str = "supersecretpassword";

fn template(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `base64(sha256(base64(sha256(password + salt)) + challenge))`, computed here
/// independently of the client under test.
pub fn auth_string(password: &str, salt: &str, challenge: &str) -> String {
    let secret = Base64::encode_string(&Sha256::digest(format!("{password}{salt}").as_bytes()));
    Base64::encode_string(&Sha256::digest(format!("{secret}{challenge}").as_bytes()))
}

/// The salt and challenge of the documented Hello.
pub fn example_challenge() -> (String, String) {
    let hello = template(HELLO_AUTH_REQUIRED);
    let auth = &hello["d"]["authentication"];
    (
        auth["salt"].as_str().unwrap_or_default().to_owned(),
        auth["challenge"].as_str().unwrap_or_default().to_owned(),
    )
}

#[derive(Debug, Clone)]
struct Item {
    id: i64,
    source: String,
    enabled: bool,
}

#[derive(Debug, Clone)]
struct Scene {
    name: String,
    uuid: String,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
struct Input {
    name: String,
    uuid: String,
    kind: String,
    settings: Map<String, Value>,
}

/// A request's failure: `requestStatus.code` and `comment` (`None`: OBS sends none).
type Failure = (u32, Option<String>);

/// An event to send: its intent bit, type and data.
type Emitted = (u32, &'static str, Value);

#[derive(Debug)]
struct Model {
    /// Top of OBS's scene list first.
    scenes: Vec<Scene>,
    current: String,
    inputs: Vec<Input>,
    media_actions: HashMap<String, String>,
    streaming: bool,
    recording: bool,
    stats: Map<String, Value>,
    stream: Map<String, Value>,
    requests: Vec<String>,
    event_subscriptions: Option<u32>,
    identified: usize,
    unresponsive: bool,
}

fn uuid(n: u32) -> String {
    format!("0b5f4ce0-0000-4000-8000-{n:012x}")
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl Model {
    fn new() -> Model {
        let scene = |n: u32, name: &str, items: &[(&str, bool)]| Scene {
            name: name.to_owned(),
            uuid: uuid(n),
            items: items
                .iter()
                .enumerate()
                .map(|(index, (source, enabled))| Item {
                    id: index as i64 + 1,
                    source: (*source).to_owned(),
                    enabled: *enabled,
                })
                .collect(),
        };
        let input = |n: u32, name: &str, kind: &str, settings: Value| Input {
            name: name.to_owned(),
            uuid: uuid(n),
            kind: kind.to_owned(),
            settings: object(settings),
        };
        Model {
            scenes: vec![
                scene(
                    1,
                    "Starting Soon",
                    &[("Countdown", true), ("Intro Video", true)],
                ),
                scene(
                    2,
                    "Live",
                    &[
                        ("Camera", true),
                        ("Alert Text", true),
                        ("Intro Video", false),
                        ("Webcam Frame", false),
                    ],
                ),
                scene(3, "BRB", &[("BRB Text", true)]),
            ],
            current: "Starting Soon".to_owned(),
            inputs: vec![
                input(
                    11,
                    "Countdown",
                    "text_ft2_source_v2",
                    json!({"text": "Starting soon"}),
                ),
                // OBS leaves default settings out: a fresh text source has no `text`.
                input(12, "Alert Text", "text_ft2_source_v2", json!({})),
                input(
                    13,
                    "Intro Video",
                    "ffmpeg_source",
                    json!({"local_file": "/videos/intro.mp4"}),
                ),
                input(14, "Camera", "v4l2_input", json!({})),
                input(
                    15,
                    "Webcam Frame",
                    "image_source",
                    json!({"file": "/images/frame.png"}),
                ),
                input(
                    16,
                    "BRB Text",
                    "text_ft2_source_v2",
                    json!({"text": "Be right back"}),
                ),
            ],
            media_actions: HashMap::new(),
            streaming: false,
            recording: false,
            stats: object(json!({
                "cpuUsage": 3.25,
                "memoryUsage": 512.5,
                "availableDiskSpace": 100_000.0,
                "activeFps": 60.0,
                "averageFrameRenderTime": 1.5,
                "renderSkippedFrames": 2,
                "renderTotalFrames": 36_000,
                "outputSkippedFrames": 7,
                "outputTotalFrames": 35_990,
                "webSocketSessionIncomingMessages": 0,
                "webSocketSessionOutgoingMessages": 0,
            })),
            stream: object(json!({
                "outputReconnecting": false,
                "outputTimecode": "00:00:00.000",
                "outputDuration": 0,
                "outputCongestion": 0.0,
                "outputBytes": 0,
                "outputSkippedFrames": 0,
                "outputTotalFrames": 0,
            })),
            requests: Vec::new(),
            event_subscriptions: None,
            identified: 0,
            unresponsive: false,
        }
    }

    fn scene_index(&self, name: &str) -> Result<usize, Failure> {
        self.scenes
            .iter()
            .position(|scene| scene.name == name)
            .ok_or_else(|| {
                (
                    600,
                    Some(format!("No source was found by the name of `{name}`.")),
                )
            })
    }

    fn input_index(&self, name: &str) -> Result<usize, Failure> {
        self.inputs
            .iter()
            .position(|input| input.name == name)
            .ok_or_else(|| {
                (
                    600,
                    Some(format!("No source was found by the name of `{name}`.")),
                )
            })
    }

    fn item_index(&self, scene: usize, id: i64) -> Result<usize, Failure> {
        self.scenes[scene]
            .items
            .iter()
            .position(|item| item.id == id)
            .ok_or_else(|| {
                (
                    600,
                    Some(format!(
                        "No scene items were found in scene `{}` with the ID `{id}`.",
                        self.scenes[scene].name
                    )),
                )
            })
    }

    /// Answers one request; events to send go to `emitted`.
    fn handle(
        &mut self,
        request_type: &str,
        data: &Value,
        emitted: &mut Vec<Emitted>,
    ) -> Result<Option<Value>, Failure> {
        match request_type {
            "GetVersion" => Ok(Some(json!({
                "obsVersion": "30.2.2",
                "obsWebSocketVersion": "5.5.2",
                "rpcVersion": 1,
                "availableRequests": [
                    "GetVersion", "GetStats", "GetSceneList", "GetCurrentProgramScene",
                    "SetCurrentProgramScene", "GetSceneItemId", "GetSceneItemEnabled",
                    "SetSceneItemEnabled", "GetInputSettings", "SetInputSettings",
                    "TriggerMediaInputAction", "GetStreamStatus", "StartStream", "StopStream",
                    "StartRecord", "StopRecord"
                ],
                "supportedImageFormats": ["png", "jpg"],
                "platform": "linux",
                "platformDescription": "fake"
            }))),
            "GetStats" => Ok(Some(Value::Object(self.stats.clone()))),
            "GetSceneList" => {
                let count = self.scenes.len();
                // obs-websocket 5 lists scenes bottom first; sceneIndex 0 is the bottom.
                let scenes: Vec<Value> = self
                    .scenes
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(position, scene)| {
                        json!({
                            "sceneIndex": count - 1 - position,
                            "sceneName": scene.name,
                            "sceneUuid": scene.uuid,
                        })
                    })
                    .collect();
                let current = self.scene_index(&self.current).ok();
                Ok(Some(json!({
                    "currentProgramSceneName": self.current,
                    "currentProgramSceneUuid": current.map(|index| self.scenes[index].uuid.clone()),
                    "currentPreviewSceneName": null,
                    "currentPreviewSceneUuid": null,
                    "scenes": scenes,
                })))
            }
            "GetCurrentProgramScene" => {
                let index = self.scene_index(&self.current)?;
                let scene = &self.scenes[index];
                Ok(Some(json!({
                    "sceneName": scene.name, "sceneUuid": scene.uuid,
                    "currentProgramSceneName": scene.name, "currentProgramSceneUuid": scene.uuid,
                })))
            }
            "SetCurrentProgramScene" => {
                let name = field_str(data, "sceneName")?;
                let index = self.scene_index(name)?;
                self.current = name.to_owned();
                emitted.push(scene_changed(&self.scenes[index]));
                Ok(None)
            }
            "GetSceneItemId" => {
                let scene = self.scene_index(field_str(data, "sceneName")?)?;
                let source = field_str(data, "sourceName")?;
                self.scenes[scene]
                    .items
                    .iter()
                    .find(|item| item.source == source)
                    .map(|item| Some(json!({ "sceneItemId": item.id })))
                    .ok_or_else(|| {
                        (
                            600,
                            Some(
                                "No scene items were found in the specified scene by that name or offset."
                                    .to_owned(),
                            ),
                        )
                    })
            }
            "GetSceneItemEnabled" => {
                let scene = self.scene_index(field_str(data, "sceneName")?)?;
                let item = self.item_index(scene, field_i64(data, "sceneItemId")?)?;
                Ok(Some(
                    json!({ "sceneItemEnabled": self.scenes[scene].items[item].enabled }),
                ))
            }
            "SetSceneItemEnabled" => {
                let scene = self.scene_index(field_str(data, "sceneName")?)?;
                let id = field_i64(data, "sceneItemId")?;
                let enabled = field_bool(data, "sceneItemEnabled")?;
                let item = self.item_index(scene, id)?;
                self.scenes[scene].items[item].enabled = enabled;
                let scene = &self.scenes[scene];
                emitted.push((
                    intent::SCENE_ITEMS,
                    "SceneItemEnableStateChanged",
                    json!({
                        "sceneName": scene.name, "sceneUuid": scene.uuid,
                        "sceneItemId": id, "sceneItemEnabled": enabled,
                    }),
                ));
                Ok(None)
            }
            "GetInputSettings" => {
                let input = &self.inputs[self.input_index(field_str(data, "inputName")?)?];
                Ok(Some(json!({
                    "inputSettings": input.settings, "inputKind": input.kind,
                })))
            }
            "SetInputSettings" => {
                let index = self.input_index(field_str(data, "inputName")?)?;
                let settings = match data.get("inputSettings") {
                    None => return Err(missing("inputSettings")),
                    Some(Value::Object(settings)) => settings.clone(),
                    Some(_) => {
                        return Err((
                            401,
                            Some(
                                "The field value of `inputSettings` must be an object.".to_owned(),
                            ),
                        ));
                    }
                };
                let overlay = match data.get("overlay") {
                    None => true,
                    Some(Value::Bool(overlay)) => *overlay,
                    Some(_) => {
                        return Err((
                            401,
                            Some("The field value of `overlay` must be a boolean.".to_owned()),
                        ));
                    }
                };
                let input = &mut self.inputs[index];
                if overlay {
                    input.settings.extend(settings);
                } else {
                    input.settings = settings;
                }
                emitted.push((
                    intent::INPUTS,
                    "InputSettingsChanged",
                    json!({
                        "inputName": input.name, "inputUuid": input.uuid,
                        "inputSettings": input.settings,
                    }),
                ));
                Ok(None)
            }
            "TriggerMediaInputAction" => {
                let index = self.input_index(field_str(data, "inputName")?)?;
                let action = field_str(data, "mediaAction")?;
                const ACTIONS: [&str; 7] = [
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_NONE",
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_PLAY",
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_PAUSE",
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP",
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART",
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_NEXT",
                    "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_PREVIOUS",
                ];
                if !ACTIONS.contains(&action) {
                    return Err((
                        400,
                        Some("You have specified an invalid media input action.".to_owned()),
                    ));
                }
                let input = &self.inputs[index];
                if input.kind != "ffmpeg_source" && input.kind != "vlc_source" {
                    return Err((
                        602,
                        Some("The specified input is not a media input.".to_owned()),
                    ));
                }
                let (name, uuid) = (input.name.clone(), input.uuid.clone());
                self.media_actions.insert(name.clone(), action.to_owned());
                emitted.push((
                    intent::MEDIA_INPUTS,
                    "MediaInputActionTriggered",
                    json!({ "inputName": name, "inputUuid": uuid, "mediaAction": action }),
                ));
                Ok(None)
            }
            "GetStreamStatus" => {
                let mut status = self.stream.clone();
                status.insert("outputActive".to_owned(), json!(self.streaming));
                Ok(Some(Value::Object(status)))
            }
            "StartStream" | "StopStream" => {
                let start = request_type == "StartStream";
                match (start, self.streaming) {
                    (true, true) => return Err((500, None)),
                    (false, false) => return Err((501, None)),
                    _ => {}
                }
                self.streaming = start;
                for (active, state) in output_states(start) {
                    emitted.push((
                        intent::OUTPUTS,
                        "StreamStateChanged",
                        json!({ "outputActive": active, "outputState": state }),
                    ));
                }
                Ok(None)
            }
            "StartRecord" | "StopRecord" => {
                let start = request_type == "StartRecord";
                match (start, self.recording) {
                    (true, true) => return Err((500, None)),
                    (false, false) => return Err((501, None)),
                    _ => {}
                }
                self.recording = start;
                let path = "/videos/2024-01-01 20-00-00.mkv";
                for (active, state) in output_states(start) {
                    let stopped = state == "OBS_WEBSOCKET_OUTPUT_STOPPED";
                    emitted.push((
                        intent::OUTPUTS,
                        "RecordStateChanged",
                        json!({
                            "outputActive": active, "outputState": state,
                            "outputPath": if stopped { json!(path) } else { Value::Null },
                        }),
                    ));
                }
                Ok((!start).then(|| json!({ "outputPath": path })))
            }
            _ => Err((204, Some("Your request type is not valid.".to_owned()))),
        }
    }
}

fn scene_changed(scene: &Scene) -> Emitted {
    (
        intent::SCENES,
        "CurrentProgramSceneChanged",
        json!({ "sceneName": scene.name, "sceneUuid": scene.uuid }),
    )
}

fn output_states(start: bool) -> [(bool, &'static str); 2] {
    if start {
        [
            (false, "OBS_WEBSOCKET_OUTPUT_STARTING"),
            (true, "OBS_WEBSOCKET_OUTPUT_STARTED"),
        ]
    } else {
        [
            (true, "OBS_WEBSOCKET_OUTPUT_STOPPING"),
            (false, "OBS_WEBSOCKET_OUTPUT_STOPPED"),
        ]
    }
}

fn missing(name: &str) -> Failure {
    (
        300,
        Some(format!("Your request is missing the `{name}` field.")),
    )
}

fn field_str<'a>(data: &'a Value, name: &str) -> Result<&'a str, Failure> {
    match data.get(name) {
        None => Err(missing(name)),
        Some(value) => value.as_str().ok_or_else(|| {
            (
                401,
                Some(format!("The field value of `{name}` must be a string.")),
            )
        }),
    }
}

fn field_i64(data: &Value, name: &str) -> Result<i64, Failure> {
    match data.get(name) {
        None => Err(missing(name)),
        Some(value) => value.as_i64().ok_or_else(|| {
            (
                401,
                Some(format!("The field value of `{name}` must be a number.")),
            )
        }),
    }
}

fn field_bool(data: &Value, name: &str) -> Result<bool, Failure> {
    match data.get(name) {
        None => Err(missing(name)),
        Some(value) => value.as_bool().ok_or_else(|| {
            (
                401,
                Some(format!("The field value of `{name}` must be a boolean.")),
            )
        }),
    }
}

#[derive(Debug)]
struct Shared {
    password: Option<String>,
    model: Mutex<Model>,
    /// Event frames with their intent bit, for every identified session.
    events: broadcast::Sender<(u32, String)>,
    /// Closes every session with a code and reason.
    closes: broadcast::Sender<(u16, String)>,
    accepted: AtomicUsize,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A running fake OBS; everything stops when it is dropped.
#[derive(Debug)]
pub struct FakeObs {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for FakeObs {
    fn drop(&mut self) {
        if let Ok(mut server) = self.server.lock()
            && let Some(server) = server.take()
        {
            server.abort();
        }
        if let Ok(mut tasks) = self.shared.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }
}

impl FakeObs {
    /// Starts the fake on 127.0.0.1:0; with a password, Hello carries the documented
    /// example's salt and challenge and Identify must carry the matching string.
    pub async fn start(password: Option<&str>) -> FakeObs {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("bind: {error}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("address: {error}"));
        let shared = Arc::new(Shared {
            password: password.map(str::to_owned),
            model: Mutex::new(Model::new()),
            events: broadcast::channel(256).0,
            closes: broadcast::channel(16).0,
            accepted: AtomicUsize::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        FakeObs {
            address,
            shared,
            server: Mutex::new(Some(server)),
        }
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.address)
    }

    /// Drops every connection abruptly (no close frame) and stops accepting.
    pub async fn kill(&self) {
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            server.abort();
            let _ = server.await;
        }
        let tasks: Vec<JoinHandle<()>> = self.shared.tasks.lock().unwrap().drain(..).collect();
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts connections again on the same port (after [`FakeObs::kill`]).
    pub async fn restart(&self) {
        self.kill().await;
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) if attempts < 100 => {
                    attempts += 1;
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("rebinding {}: {error}", self.address),
            }
        };
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&self.shared)));
        *self.server.lock().unwrap() = Some(server);
    }

    /// Sends a close frame with `code` and `reason` to every session (e.g. 4011
    /// SessionInvalidated), then drops it.
    pub fn close_all(&self, code: u16, reason: &str) {
        let _ = self.shared.closes.send((code, reason.to_owned()));
    }

    fn model<T>(&self, read: impl FnOnce(&mut Model) -> T) -> T {
        read(&mut self.shared.model.lock().unwrap())
    }

    /// The current program scene.
    pub fn current_scene(&self) -> String {
        self.model(|model| model.current.clone())
    }

    /// Whether `source` is enabled in `scene` (`None` if there is no such item).
    pub fn item_enabled(&self, scene: &str, source: &str) -> Option<bool> {
        self.model(|model| {
            let scene = model.scenes.iter().find(|each| each.name == scene)?;
            scene
                .items
                .iter()
                .find(|item| item.source == source)
                .map(|item| item.enabled)
        })
    }

    /// The `text` setting of an input (`None` if unset or no such input).
    pub fn text(&self, input: &str) -> Option<String> {
        self.input_settings(input)?
            .get("text")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// An input's settings object.
    pub fn input_settings(&self, input: &str) -> Option<Value> {
        self.model(|model| {
            model
                .inputs
                .iter()
                .find(|each| each.name == input)
                .map(|each| Value::Object(each.settings.clone()))
        })
    }

    /// The last media action triggered on `input`.
    pub fn media_action(&self, input: &str) -> Option<String> {
        self.model(|model| model.media_actions.get(input).cloned())
    }

    /// Whether the stream output is active.
    pub fn streaming(&self) -> bool {
        self.model(|model| model.streaming)
    }

    /// Whether the record output is active.
    pub fn recording(&self) -> bool {
        self.model(|model| model.recording)
    }

    /// The request types received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.model(|model| model.requests.clone())
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Sessions identified so far.
    pub fn identified(&self) -> usize {
        self.model(|model| model.identified)
    }

    /// `eventSubscriptions` of the last Identify.
    pub fn event_subscriptions(&self) -> Option<u32> {
        self.model(|model| model.event_subscriptions)
    }

    /// While true, requests are recorded but never answered.
    pub fn set_unresponsive(&self, unresponsive: bool) {
        self.model(|model| model.unresponsive = unresponsive);
    }

    /// Sets a `GetStats` field.
    pub fn set_stats_field(&self, name: &str, value: Value) {
        self.model(|model| model.stats.insert(name.to_owned(), value));
    }

    /// Sets a `GetStreamStatus` field (`outputActive` follows StartStream/StopStream).
    pub fn set_stream_field(&self, name: &str, value: Value) {
        self.model(|model| model.stream.insert(name.to_owned(), value));
    }

    /// Switches the program scene as the streamer would in OBS (emits the event);
    /// false if there is no such scene.
    pub fn switch_scene(&self, name: &str) -> bool {
        let event = self.model(|model| {
            let index = model.scene_index(name).ok()?;
            model.current = name.to_owned();
            Some(scene_changed(&model.scenes[index]))
        });
        match event {
            Some(event) => {
                self.emit(event.0, event.1, event.2);
                true
            }
            None => false,
        }
    }

    /// Sends an event to every identified session subscribed to `intent`.
    pub fn emit(&self, intent: u32, event_type: &str, data: Value) {
        let _ = self
            .shared
            .events
            .send((intent, event_frame(intent, event_type, data)));
    }
}

fn event_frame(intent: u32, event_type: &str, data: Value) -> String {
    let mut frame = template(EVENT);
    frame["d"]["eventType"] = json!(event_type);
    frame["d"]["eventIntent"] = json!(intent);
    frame["d"]["eventData"] = data;
    frame.to_string()
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let task = tokio::spawn(serve(stream, Arc::clone(&shared)));
        if let Ok(mut tasks) = shared.tasks.lock() {
            tasks.retain(|task| !task.is_finished());
            tasks.push(task);
        }
    }
}

/// Echoes the `obswebsocket.json` subprotocol when the client offers it, as OBS does.
#[allow(clippy::result_large_err)]
fn choose_subprotocol(
    request: &Request,
    mut response: Response,
) -> Result<Response, tokio_tungstenite::tungstenite::handshake::server::ErrorResponse> {
    let offered = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim() == "obswebsocket.json");
    if offered {
        response.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("obswebsocket.json"),
        );
    }
    Ok(response)
}

async fn close(socket: &mut WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let _ = socket
        .close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        }))
        .await;
}

/// What one text frame from the client leads to.
enum Step {
    Continue,
    Close(u16, String),
}

async fn next_event(
    events: &mut Option<broadcast::Receiver<(u32, String)>>,
) -> Result<(u32, String), broadcast::error::RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, choose_subprotocol).await
    else {
        return;
    };
    let hello = if shared.password.is_some() {
        HELLO_AUTH_REQUIRED
    } else {
        HELLO_NO_AUTH
    };
    if socket
        .send(Message::text(template(hello).to_string()))
        .await
        .is_err()
    {
        return;
    }
    let mut closes = shared.closes.subscribe();
    let mut events: Option<broadcast::Receiver<(u32, String)>> = None;
    let mut subscriptions = 0u32;
    loop {
        tokio::select! {
            message = socket.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        close(&mut socket, 4002, "Binary frames are not valid in the JSON protocol.").await;
                        return;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let mut replies = Vec::new();
                let mut emitted = Vec::new();
                let step = on_text(&shared, &text, &mut events, &mut subscriptions, &mut replies, &mut emitted);
                for reply in replies {
                    if socket.send(Message::text(reply)).await.is_err() {
                        return;
                    }
                }
                for (intent, event_type, data) in emitted {
                    let _ = shared.events.send((intent, event_frame(intent, event_type, data)));
                }
                if let Step::Close(code, reason) = step {
                    close(&mut socket, code, &reason).await;
                    return;
                }
            }
            event = next_event(&mut events) => match event {
                Ok((intent, frame)) => {
                    if subscriptions & intent != 0 && socket.send(Message::text(frame)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            close_order = closes.recv() => {
                if let Ok((code, reason)) = close_order {
                    close(&mut socket, code, &reason).await;
                }
                return;
            }
        }
    }
}

/// Handles one text frame: replies to send, events to emit, and whether to close.
fn on_text(
    shared: &Shared,
    text: &str,
    events: &mut Option<broadcast::Receiver<(u32, String)>>,
    subscriptions: &mut u32,
    replies: &mut Vec<String>,
    emitted: &mut Vec<Emitted>,
) -> Step {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return Step::Close(4002, "Unable to decode the message.".to_owned());
    };
    let Some(op) = frame.get("op").and_then(Value::as_u64) else {
        return Step::Close(4003, "Your request is missing an `op`.".to_owned());
    };
    let data = frame.get("d").cloned().unwrap_or(Value::Null);
    if !data.is_object() {
        return Step::Close(4003, "Your request is missing a `d`.".to_owned());
    }
    let identified = events.is_some();
    match op {
        1 if identified => Step::Close(
            4008,
            "You are already identified with the obs-websocket server.".to_owned(),
        ),
        1 => {
            let Some(rpc_version) = data.get("rpcVersion").and_then(Value::as_u64) else {
                return Step::Close(4003, "Your payload is missing an `rpcVersion`.".to_owned());
            };
            if rpc_version != 1 {
                return Step::Close(
                    4010,
                    "Your requested RPC version is not supported.".to_owned(),
                );
            }
            if let Some(password) = &shared.password {
                let (salt, challenge) = example_challenge();
                let expected = auth_string(password, &salt, &challenge);
                if data.get("authentication").and_then(Value::as_str) != Some(expected.as_str()) {
                    return Step::Close(4009, "Authentication failed.".to_owned());
                }
            }
            *subscriptions = subscriptions_of(&data);
            *events = Some(shared.events.subscribe());
            let mut model = shared.model.lock().unwrap();
            model.identified += 1;
            model.event_subscriptions = Some(*subscriptions);
            replies.push(template(IDENTIFIED).to_string());
            Step::Continue
        }
        _ if !identified => Step::Close(
            4007,
            "The session is not identified with the obs-websocket server.".to_owned(),
        ),
        3 => {
            *subscriptions = subscriptions_of(&data);
            shared.model.lock().unwrap().event_subscriptions = Some(*subscriptions);
            replies.push(template(IDENTIFIED).to_string());
            Step::Continue
        }
        6 => {
            let (Some(request_type), Some(request_id)) = (
                data.get("requestType").and_then(Value::as_str),
                data.get("requestId").and_then(Value::as_str),
            ) else {
                return Step::Close(
                    4003,
                    "Your request is missing a `requestType` or `requestId`.".to_owned(),
                );
            };
            let request_data = data.get("requestData").cloned().unwrap_or(Value::Null);
            let mut model = shared.model.lock().unwrap();
            model.requests.push(request_type.to_owned());
            if model.unresponsive {
                return Step::Continue;
            }
            let outcome = model.handle(request_type, &request_data, emitted);
            drop(model);
            replies.push(response_frame(request_type, request_id, outcome));
            Step::Continue
        }
        8 => Step::Close(
            4012,
            "Request batches are not supported by this fake.".to_owned(),
        ),
        _ => Step::Close(4006, "The opcode is not valid.".to_owned()),
    }
}

fn subscriptions_of(data: &Value) -> u32 {
    data.get("eventSubscriptions")
        .and_then(Value::as_u64)
        .and_then(|bits| u32::try_from(bits).ok())
        .unwrap_or(intent::ALL)
}

fn response_frame(
    request_type: &str,
    request_id: &str,
    outcome: Result<Option<Value>, Failure>,
) -> String {
    let mut frame = match &outcome {
        Ok(_) => template(RESPONSE_SUCCESS),
        Err(_) => template(RESPONSE_FAILURE),
    };
    frame["d"]["requestType"] = json!(request_type);
    frame["d"]["requestId"] = json!(request_id);
    match outcome {
        Ok(Some(data)) => frame["d"]["responseData"] = data,
        Ok(None) => {}
        Err((code, comment)) => {
            let status = &mut frame["d"]["requestStatus"];
            status["code"] = json!(code);
            match comment {
                Some(comment) => status["comment"] = json!(comment),
                None => {
                    if let Some(status) = status.as_object_mut() {
                        status.remove("comment");
                    }
                }
            }
        }
    }
    frame.to_string()
}
