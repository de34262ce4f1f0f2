//! The conformance suite: the behaviour every adapter must show against its own fake
//! platform. Adapters call [`run_suite`] from a test with a [`FakeDriver`] for their
//! fake. Runtime-agnostic: the driver provides sleeping and spawning.

use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use roadie_core::{ConnectionState, Event, EventKind};

use crate::{BoxFuture, Capability, ChatError, Platform, PlatformSink, Shutdown};

/// Controls an adapter's fake platform.
pub trait FakeDriver: Send + Sync {
    /// Makes the fake emit a chat message with this platform id and text.
    fn inject_chat(&self, message_id: &str, text: &str) -> BoxFuture<'_, ()>;
    /// Chat texts the fake received from the adapter, in order.
    fn received_chats(&self) -> Vec<String>;
    /// Cuts the adapter's live connection abruptly (no close handshake).
    fn drop_connection(&self) -> BoxFuture<'_, ()>;
    /// Sleeps (in the adapter's runtime).
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
    /// Runs a future in the background (in the adapter's runtime).
    fn spawn(&self, future: BoxFuture<'static, ()>);
}

/// A sink that records everything, for tests.
#[derive(Debug, Default)]
pub struct RecordingSink {
    /// Events, in arrival order.
    pub events: Mutex<Vec<Event>>,
    /// State changes, in order.
    pub states: Mutex<Vec<(ConnectionState, String)>>,
    /// Analytics samples, in order.
    pub samples: Mutex<Vec<crate::AnalyticsSample>>,
    /// Chatter lists, in order.
    pub chatters: Mutex<Vec<Vec<roadie_core::User>>>,
}

impl PlatformSink for RecordingSink {
    fn event(&self, event: Event) -> BoxFuture<'_, ()> {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
        Box::pin(std::future::ready(()))
    }

    fn status(&self, state: ConnectionState, detail: String) {
        if let Ok(mut states) = self.states.lock() {
            states.push((state, detail));
        }
    }

    fn chatters(
        &self,
        _at: roadie_core::Timestamp,
        chatters: Vec<roadie_core::User>,
    ) -> BoxFuture<'_, ()> {
        if let Ok(mut lists) = self.chatters.lock() {
            lists.push(chatters);
        }
        Box::pin(std::future::ready(()))
    }

    fn analytics(&self, sample: crate::AnalyticsSample) -> BoxFuture<'_, ()> {
        if let Ok(mut samples) = self.samples.lock() {
            samples.push(sample);
        }
        Box::pin(std::future::ready(()))
    }
}

#[derive(Default)]
struct TriggerState {
    fired: bool,
    wakers: Vec<Waker>,
}

/// A one-shot signal usable as a [`Shutdown`] future, with no runtime behind it.
#[derive(Clone, Default)]
pub struct Trigger(Arc<Mutex<TriggerState>>);

impl std::fmt::Debug for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trigger")
    }
}

impl Trigger {
    /// Fires the signal.
    pub fn fire(&self) {
        if let Ok(mut state) = self.0.lock() {
            state.fired = true;
            for waker in state.wakers.drain(..) {
                waker.wake();
            }
        }
    }

    /// A future that resolves once fired.
    pub fn wait(&self) -> Shutdown {
        let state = Arc::clone(&self.0);
        Box::pin(std::future::poll_fn(move |context| {
            let Ok(mut state) = state.lock() else {
                return Poll::Ready(());
            };
            if state.fired {
                return Poll::Ready(());
            }
            state.wakers.push(context.waker().clone());
            Poll::Pending
        }))
    }
}

async fn wait_until(
    driver: &dyn FakeDriver,
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> bool,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if check() {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(format!("{what}: not within {limit:?}"));
        }
        driver.sleep(Duration::from_millis(20)).await;
    }
}

fn chat_ids(sink: &RecordingSink) -> Vec<String> {
    sink.events
        .lock()
        .map(|events| {
            events
                .iter()
                .filter_map(|event| match &event.kind {
                    EventKind::ChatMessage { message_id, .. } => Some(message_id.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn last_state(sink: &RecordingSink) -> Option<ConnectionState> {
    sink.states
        .lock()
        .ok()
        .and_then(|states| states.last().map(|(state, _)| *state))
}

/// Runs the suite; the error names the first rule the adapter broke.
pub async fn run_suite(adapter: Arc<dyn Platform>, driver: &dyn FakeDriver) -> Result<(), String> {
    let capabilities = adapter.capabilities();
    for needed in [Capability::ChatRead, Capability::ChatSend] {
        if !capabilities
            .iter()
            .any(|declared| declared.capability == needed)
        {
            return Err(format!("{:?} is not declared", needed));
        }
    }

    let sink = Arc::new(RecordingSink::default());
    let stop = Trigger::default();
    let finished = Trigger::default();
    let run = Arc::clone(&adapter).run(sink.clone(), stop.wait());
    let done = finished.clone();
    driver.spawn(Box::pin(async move {
        run.await;
        done.fire();
    }));
    wait_until(driver, Duration::from_secs(10), "reports connected", || {
        last_state(&sink) == Some(ConnectionState::Connected)
    })
    .await?;

    // Chat arrives normalised, once per platform message id.
    driver
        .inject_chat("conformance-1", "hello from the fake")
        .await;
    driver
        .inject_chat("conformance-1", "hello from the fake")
        .await;
    driver.inject_chat("conformance-2", "second").await;
    wait_until(
        driver,
        Duration::from_secs(5),
        "chat messages arrive",
        || chat_ids(&sink).len() >= 2,
    )
    .await?;
    driver.sleep(Duration::from_millis(200)).await;
    let ids = chat_ids(&sink);
    if ids != ["conformance-1", "conformance-2"] {
        return Err(format!(
            "expected each chat message once, in order; got {ids:?}"
        ));
    }
    let platform_ok = sink
        .events
        .lock()
        .map(|events| events.iter().all(|event| event.platform == adapter.id()))
        .unwrap_or(false);
    if !platform_ok {
        return Err("an event carries the wrong platform".into());
    }
    if let Ok(events) = sink.events.lock()
        && let Some(EventKind::ChatMessage { text, user, .. }) =
            events.first().map(|event| &event.kind)
        && (text != "hello from the fake" || user.id.is_empty() || user.login.is_empty())
    {
        return Err(format!(
            "chat message fields are wrong: text {text:?}, user {user:?}"
        ));
    }

    // Sending reaches the platform; text that cannot be chat is refused with a reason.
    adapter
        .send_chat("conformance says hi")
        .await
        .map_err(|error| format!("send_chat failed: {error}"))?;
    wait_until(
        driver,
        Duration::from_secs(5),
        "the fake receives the chat message",
        || {
            driver
                .received_chats()
                .iter()
                .any(|text| text == "conformance says hi")
        },
    )
    .await?;
    match adapter.send_chat("").await {
        Err(ChatError::Refused(reason)) if !reason.is_empty() => {}
        other => {
            return Err(format!(
                "an empty message must be refused with a reason, got {other:?}"
            ));
        }
    }

    // An abrupt drop is followed by reconnection, and later chat arrives.
    let before_drop = sink.states.lock().map(|states| states.len()).unwrap_or(0);
    driver.drop_connection().await;
    let states_since_drop = || {
        sink.states
            .lock()
            .map(|states| {
                states
                    .iter()
                    .skip(before_drop)
                    .map(|(state, _)| *state)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    wait_until(
        driver,
        Duration::from_secs(5),
        "reports reconnecting after a drop",
        || states_since_drop().contains(&ConnectionState::Reconnecting),
    )
    .await?;
    wait_until(
        driver,
        Duration::from_secs(10),
        "reconnects after a drop",
        || {
            let since = states_since_drop();
            let reconnecting_at = since
                .iter()
                .position(|state| *state == ConnectionState::Reconnecting);
            reconnecting_at.is_some_and(|at| since[at..].contains(&ConnectionState::Connected))
        },
    )
    .await?;
    driver.inject_chat("conformance-3", "after the drop").await;
    wait_until(
        driver,
        Duration::from_secs(5),
        "chat after a reconnect arrives",
        || chat_ids(&sink).contains(&"conformance-3".to_owned()),
    )
    .await?;

    // Shutdown ends `run`.
    stop.fire();
    let ended = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&ended);
    let watcher = finished.wait();
    driver.spawn(Box::pin(async move {
        watcher.await;
        if let Ok(mut ended) = flag.lock() {
            *ended = true;
        }
    }));
    wait_until(
        driver,
        Duration::from_secs(5),
        "run ends after shutdown",
        || ended.lock().map(|ended| *ended).unwrap_or(false),
    )
    .await
}
