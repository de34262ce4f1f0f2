//! Text to speech in the daemon: the engine probed at start (a machine without one
//! keeps running and says how to get one), the queue (filters, limits, per-user rate,
//! skip, pause, resume, clear), a player task that speaks one item at a time, and the
//! `tts.*` events. Audio is played by the overlay pages (`/overlay/tts`, a browser
//! source in OBS); without one the queue still advances, each item taking its spoken
//! length, and reports that nothing was heard.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use roadie_core::{Event, EventKind, Platform, Timestamp, TtsPhase};
use roadie_protocol::ComponentState;
use roadie_tts::{
    CommandConfig, Engine, EngineConfig, EspeakConfig, QueueConfig, Request, Speaker, TtsEvent,
    TtsQueue,
};
use serde_json::json;
use tokio::sync::{Notify, broadcast, oneshot};

/// How long after a clip's length an overlay may take to say it ended.
const OVERLAY_GRACE: Duration = Duration::from_secs(5);

use crate::bus::EventBus;
use crate::health::HealthBoard;
use crate::supervise::restart_on_panic;

/// The TTS service; cheap to clone.
#[derive(Clone)]
pub struct Tts {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tts").finish_non_exhaustive()
    }
}

struct Inner {
    queue: Mutex<TtsQueue>,
    engine: Mutex<Option<Arc<dyn Engine>>>,
    /// Why there is no engine, with how to install one.
    missing: Mutex<Option<String>>,
    bus: EventBus,
    /// Something changed: the player looks for the next item.
    wake: Notify,
    /// The current item was skipped or cleared: the player stops waiting for it.
    interrupt: Notify,
    /// Clips for the overlay pages listening (and a stop when one is skipped).
    clips: broadcast::Sender<Arc<OverlayMessage>>,
    /// The clip being played: what the overlay reported about it.
    playing: Mutex<Option<Playing>>,
}

/// What the overlay pages are sent.
#[derive(Debug)]
pub enum OverlayMessage {
    /// Play this WAV.
    Clip {
        /// The item's id.
        id: u64,
        /// The audio.
        wav: Vec<u8>,
    },
    /// Stop this item (skipped or cleared).
    Stop {
        /// The item's id.
        id: u64,
    },
}

struct Playing {
    id: u64,
    /// The length the overlay's audio element reported, in seconds.
    duration: Option<f64>,
    ended: Option<oneshot::Sender<()>>,
}

/// The queue as the API shows it.
#[derive(Debug, Clone)]
pub struct QueueView {
    /// The engine in use, or why there is none.
    pub engine: String,
    /// Whether new items wait.
    pub paused: bool,
    /// The item being spoken: id and text.
    pub current: Option<(u64, String)>,
    /// Waiting items: id and text.
    pub pending: Vec<(u64, String)>,
    /// Overlay pages connected.
    pub listeners: usize,
    /// The engine's voice ids.
    pub voices: Vec<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now() -> Timestamp {
    Timestamp(roadie_store::now_ms())
}

fn engine_config(config: &roadie_config::TtsConfig) -> EngineConfig {
    match config.engine {
        roadie_config::TtsEngine::EspeakNg => EngineConfig::Espeak(EspeakConfig {
            default_voice: config.voice.clone(),
            ..EspeakConfig::default()
        }),
        roadie_config::TtsEngine::Command => {
            let mut command = CommandConfig::new(config.command.clone().unwrap_or_default());
            command.default_voice = config.voice.clone();
            EngineConfig::Command(command)
        }
    }
}

fn queue_config(config: &roadie_config::TtsConfig) -> QueueConfig {
    // `user_voices` keys are `platform:login` (checked when the config is loaded).
    let user_voices = config
        .user_voices
        .iter()
        .filter_map(|(user, voice)| {
            let (platform, login) = user.split_once(':')?;
            let platform = platform.parse::<Platform>().ok()?;
            Some(((platform, login.to_ascii_lowercase()), voice.clone()))
        })
        .collect();
    QueueConfig {
        max_chars: usize::try_from(config.max_chars).unwrap_or(usize::MAX),
        banned_words: config.banned_words.clone(),
        default_voice: config.voice.clone(),
        user_voices,
        ..QueueConfig::default()
    }
}

impl Tts {
    /// Probes the engine in the background and starts the player.
    pub fn start(
        config: &roadie_config::TtsConfig,
        bus: EventBus,
        health: Arc<HealthBoard>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Tts {
        let tts = Tts::idle(config, bus);
        health.set("tts", ComponentState::Degraded, "looking for the engine");
        let engine_config = engine_config(config);
        let player_health = Arc::clone(&health);
        let probing = tts.clone();
        tokio::spawn(async move {
            match roadie_tts::probe(&engine_config).await {
                Ok(engine) => {
                    let name = engine.name().to_owned();
                    health.set("tts", ComponentState::Ok, format!("engine {name}"));
                    *lock(&probing.inner.engine) = Some(Arc::from(engine));
                    *lock(&probing.inner.missing) = None;
                }
                Err(missing) => {
                    let detail = missing.to_string();
                    tracing::warn!("text to speech is off: {detail}");
                    health.set("tts", ComponentState::Disabled, detail.clone());
                    *lock(&probing.inner.missing) = Some(detail);
                }
            }
            probing.inner.wake.notify_one();
        });
        let player = tts.clone();
        tokio::spawn(async move {
            let start = || {
                let player = player.clone();
                let mut shutdown = shutdown.clone();
                async move {
                    tokio::select! {
                        () = player.play() => {}
                        _ = shutdown.wait_for(|stop| *stop) => {}
                    }
                }
            };
            let report = |reason: String, _delay| {
                player_health.set(
                    "tts",
                    ComponentState::Degraded,
                    format!("the player restarted after a crash ({reason})"),
                );
            };
            restart_on_panic("tts player", start, shutdown.clone(), report).await;
        });
        tts
    }

    /// A queue without an engine or a player: items wait. For tests that must not
    /// have background timers (tokio's paused clock jumps to the next one).
    pub(crate) fn idle(config: &roadie_config::TtsConfig, bus: EventBus) -> Tts {
        Tts {
            inner: Arc::new(Inner {
                queue: Mutex::new(TtsQueue::new(queue_config(config))),
                engine: Mutex::new(None),
                missing: Mutex::new(Some("looking for the engine".into())),
                bus,
                wake: Notify::new(),
                interrupt: Notify::new(),
                clips: broadcast::channel(16).0,
                playing: Mutex::new(None),
            }),
        }
    }

    /// The overlay pages' feed.
    pub fn overlay_feed(&self) -> broadcast::Receiver<Arc<OverlayMessage>> {
        self.inner.clips.subscribe()
    }

    /// An overlay's audio element loaded item `id`, `duration` seconds long.
    pub fn overlay_loaded(&self, id: u64, duration: f64) {
        if let Some(playing) = lock(&self.inner.playing).as_mut()
            && playing.id == id
            && duration.is_finite()
            && duration > 0.0
        {
            playing.duration = Some(duration);
        }
    }

    /// An overlay played item `id` to its end.
    pub fn overlay_ended(&self, id: u64) {
        if let Some(playing) = lock(&self.inner.playing).as_mut()
            && playing.id == id
            && let Some(ended) = playing.ended.take()
        {
            let _ = ended.send(());
        }
    }

    fn stop_overlay(&self) {
        if let Some(playing) = lock(&self.inner.playing).as_ref() {
            let _ = self
                .inner
                .clips
                .send(Arc::new(OverlayMessage::Stop { id: playing.id }));
        }
    }

    /// Queues `text` from `user` (`None`: the streamer, through the CLI or an action).
    pub async fn say(
        &self,
        user: Option<Speaker>,
        text: &str,
        voice: Option<String>,
    ) -> Vec<TtsEvent> {
        let speaker = user.unwrap_or(Speaker {
            platform: Platform::Roadie,
            id: "streamer".into(),
            login: "streamer".into(),
        });
        let events = lock(&self.inner.queue).enqueue(Request {
            user: speaker,
            text: text.to_owned(),
            voice,
            requested_at: now(),
        });
        self.publish(&events).await;
        self.inner.wake.notify_one();
        events
    }

    /// Skips the item being spoken.
    pub async fn skip(&self) {
        let events = lock(&self.inner.queue).skip();
        self.stop_overlay();
        self.inner.interrupt.notify_one();
        self.publish(&events).await;
        self.inner.wake.notify_one();
    }

    /// Holds new items back (the one being spoken finishes).
    pub async fn pause(&self) {
        let events = lock(&self.inner.queue).pause();
        self.publish(&events).await;
    }

    /// Lets items start again.
    pub async fn resume(&self) {
        let events = lock(&self.inner.queue).resume();
        self.publish(&events).await;
        self.inner.wake.notify_one();
    }

    /// Drops every item, the current one too.
    pub async fn clear(&self) {
        let events = lock(&self.inner.queue).clear();
        self.stop_overlay();
        self.inner.interrupt.notify_one();
        self.publish(&events).await;
    }

    /// The queue now.
    pub fn view(&self) -> QueueView {
        let engine = match (&*lock(&self.inner.engine), &*lock(&self.inner.missing)) {
            (Some(engine), _) => engine.name().to_owned(),
            (None, Some(missing)) => format!("none: {missing}"),
            (None, None) => "none".to_owned(),
        };
        let voices = lock(&self.inner.engine)
            .as_ref()
            .and_then(|engine| engine.voices().ok())
            .map(|voices| voices.into_iter().map(|voice| voice.id).collect())
            .unwrap_or_default();
        let queue = lock(&self.inner.queue);
        QueueView {
            engine,
            paused: queue.is_paused(),
            current: queue.current().map(|item| (item.id.0, item.text.clone())),
            pending: queue
                .pending()
                .map(|item| (item.id.0, item.text.clone()))
                .collect(),
            listeners: self.inner.clips.receiver_count(),
            voices,
        }
    }

    /// Speaks one item at a time, for as long as the daemon runs.
    async fn play(&self) {
        loop {
            let started = lock(&self.inner.queue).next();
            let item = started.iter().find_map(|event| match event {
                TtsEvent::Started {
                    id, text, voice, ..
                } => Some((*id, text.clone(), voice.clone())),
                _ => None,
            });
            self.publish(&started).await;
            let Some((id, text, voice)) = item else {
                self.inner.wake.notified().await;
                continue;
            };
            let engine = lock(&self.inner.engine).clone();
            let spoken = match engine {
                Some(engine) => engine
                    .speak(&text, voice.as_deref())
                    .await
                    .map_err(|error| error.to_string()),
                None => Err("no text-to-speech engine".to_owned()),
            };
            let audio = spoken.and_then(|wav| {
                let bytes = wav.to_canonical().map_err(|error| error.to_string())?;
                Ok((wav.duration(), bytes))
            });
            let (length, wav) = match audio {
                Ok((length, bytes)) => (length, Some(bytes)),
                Err(error) => {
                    tracing::warn!(%error, "could not speak a TTS item");
                    (Duration::ZERO, None)
                }
            };
            let (ended, heard_it) = oneshot::channel();
            *lock(&self.inner.playing) = Some(Playing {
                id: id.0,
                duration: None,
                ended: Some(ended),
            });
            let listeners = wav
                .map(|wav| {
                    self.inner
                        .clips
                        .send(Arc::new(OverlayMessage::Clip { id: id.0, wav }))
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            // With a listener: until it says the clip ended (or well after it should
            // have). Without one: the clip's length, so the queue keeps its pace.
            let heard = if listeners > 0 {
                tokio::select! {
                    answer = heard_it => answer.is_ok(),
                    () = tokio::time::sleep(length + OVERLAY_GRACE) => false,
                    () = self.inner.interrupt.notified() => false,
                }
            } else {
                tokio::select! {
                    () = tokio::time::sleep(length) => {}
                    () = self.inner.interrupt.notified() => {}
                }
                false
            };
            let duration = lock(&self.inner.playing)
                .take()
                .and_then(|playing| playing.duration);
            let finished = lock(&self.inner.queue).finished(id, heard);
            self.publish_finished(&finished, duration).await;
        }
    }

    /// Like [`Tts::publish`], adding the length the overlay reported to `tts.finished`.
    async fn publish_finished(&self, events: &[TtsEvent], duration: Option<f64>) {
        for event in events {
            let Some((phase, mut data)) = wire(event) else {
                continue;
            };
            if phase == TtsPhase::Finished {
                data["duration"] = json!(duration);
            }
            self.send(phase, data).await;
        }
    }

    async fn send(&self, phase: TtsPhase, data: serde_json::Value) {
        let event = Event {
            platform: Platform::Roadie,
            at: now(),
            kind: EventKind::Tts { phase, data },
        };
        if let Err(error) = self.inner.bus.publish(&event).await {
            tracing::warn!(%error, "could not record a TTS event");
        }
    }

    async fn publish(&self, events: &[TtsEvent]) {
        for event in events {
            let Some((phase, data)) = wire(event) else {
                continue;
            };
            self.send(phase, data).await;
        }
    }
}

fn speaker(user: &Speaker) -> serde_json::Value {
    json!({"platform": user.platform.as_str(), "id": user.id, "login": user.login})
}

fn wire(event: &TtsEvent) -> Option<(TtsPhase, serde_json::Value)> {
    Some(match event {
        TtsEvent::Queued {
            id,
            user,
            text,
            voice,
            ahead,
            ..
        } => (
            TtsPhase::Queued,
            json!({"id": id.0, "user": speaker(user), "text": text, "voice": voice, "ahead": ahead}),
        ),
        TtsEvent::Started {
            id, text, voice, ..
        } => (
            TtsPhase::Started,
            json!({"id": id.0, "text": text, "voice": voice}),
        ),
        TtsEvent::Finished { id, heard } => {
            (TtsPhase::Finished, json!({"id": id.0, "heard": heard}))
        }
        TtsEvent::Skipped { id, reason } => (
            TtsPhase::Skipped,
            json!({"id": id.0, "reason": reason.as_str()}),
        ),
        TtsEvent::Refused { user, reason } => (
            TtsPhase::Refused,
            json!({"user": speaker(user), "reason": reason.to_string()}),
        ),
        TtsEvent::Paused | TtsEvent::Resumed => return None,
    })
}
