//! Chat automation in the daemon: platform events come in through [`Automation::observe`];
//! chat commands are answered on the platform they came from, chat activity earns
//! points, and the daemon's own events (`command.ran`, `points.changed`) go out on the
//! bus. The rules live in `roadie-automation`; this module owns state, storage and I/O.

mod actions;
mod commands;
mod points;
mod scripts;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use roadie_automation::{
    AccrualPolicy, Dispatcher, Environment, FollowAge, MessageAccrual, Timer, Variable,
    WatchAccrual, parse_invocation,
};
use roadie_core::{Event, EventKind, Platform, Timestamp, User};
use roadie_store::Store;
use tokio::sync::mpsc;

use crate::bus::EventBus;
use crate::platforms::PlatformManager;

pub use commands::CommandsError;
pub use points::PointsApiError;

/// Points earned in chat are written in batches this often (or when this many wait).
const POINTS_FLUSH_EVERY: Duration = Duration::from_secs(1);
const POINTS_BATCH: usize = 256;
/// How often timers are checked.
const TIMER_TICK: Duration = Duration::from_secs(5);

/// Why an automation request failed, for the API to answer.
#[derive(Debug, thiserror::Error)]
pub enum AutomationError {
    /// The request is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error("storage: {0}")]
    Store(#[from] roadie_store::StoreError),
}

/// The automation service; cheap to clone.
#[derive(Debug, Clone)]
pub struct Automation {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    bus: EventBus,
    platforms: Mutex<Option<Arc<PlatformManager>>>,
    dispatcher: Mutex<Dispatcher>,
    actions: Mutex<actions::Actions>,
    timers: Mutex<Vec<Timer>>,
    /// When each platform's stream went live (for `$(uptime)`).
    live_since: Mutex<HashMap<Platform, Timestamp>>,
    accrual: Mutex<MessageAccrual>,
    watch_accrual: Mutex<WatchAccrual>,
    points_queue: mpsc::Sender<roadie_store::PointsChange>,
    /// The origin of the monotonic clock cooldowns run on (tokio's, so tests can pause it).
    clock_origin: tokio::time::Instant,
    /// Where action steps find script files.
    scripts_dir: std::path::PathBuf,
    /// OBS, for action steps and scripts.
    obs: crate::obs::Obs,
    /// Text to speech, for action steps and scripts.
    tts: crate::tts::Tts,
}

/// What the automation loop needs to run; returned by [`Automation::new`].
#[derive(Debug)]
pub struct AutomationTasks {
    points: mpsc::Receiver<roadie_store::PointsChange>,
}

impl Automation {
    /// A service over `store` and `bus`, with the commands stored so far. Platforms are
    /// attached later ([`Automation::attach_platforms`]): they need the service first.
    pub async fn new(
        store: Store,
        bus: EventBus,
        obs: crate::obs::Obs,
        tts: crate::tts::Tts,
        scripts_dir: std::path::PathBuf,
    ) -> (Automation, AutomationTasks) {
        let (points_queue, points_receiver) = mpsc::channel(POINTS_BATCH * 8);
        let dispatcher = commands::load(&store).await;
        let actions = actions::load(&store).await;
        let timers = load_timers(&store).await;
        let automation = Automation {
            inner: Arc::new(Inner {
                store,
                bus,
                platforms: Mutex::new(None),
                dispatcher: Mutex::new(dispatcher),
                actions: Mutex::new(actions),
                timers: Mutex::new(timers),
                live_since: Mutex::default(),
                accrual: Mutex::new(MessageAccrual::new(AccrualPolicy::default())),
                watch_accrual: Mutex::new(WatchAccrual::new(AccrualPolicy::default())),
                points_queue,
                clock_origin: tokio::time::Instant::now(),
                scripts_dir,
                obs,
                tts,
            }),
        };
        let tasks = AutomationTasks {
            points: points_receiver,
        };
        (automation, tasks)
    }

    /// Gives the service the platforms to reply through.
    pub fn attach_platforms(&self, platforms: Arc<PlatformManager>) {
        *lock(&self.inner.platforms) = Some(platforms);
    }

    /// Runs the timers and the points writer until `shutdown` turns true; pending
    /// points are written before the returned task ends.
    pub fn spawn(
        &self,
        tasks: AutomationTasks,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let points = self.clone();
        let AutomationTasks {
            points: points_receiver,
        } = tasks;
        let points_shutdown = shutdown.clone();
        let flusher = tokio::spawn(async move {
            points.flush_points(points_receiver, points_shutdown).await;
        });
        let timers = self.clone();
        let mut timers_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TIMER_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        timers.run_timers().await;
                    }
                    () = stopping(&mut timers_shutdown) => break,
                }
            }
        });
        tokio::spawn(async move {
            stopping(&mut shutdown).await;
            let _ = flusher.await;
        })
    }

    /// The people in chat on `platform` at `at` (a poll about once a minute while
    /// live): each earns watch-time points once per minute.
    pub async fn watched(&self, platform: Platform, at: Timestamp, chatters: Vec<User>) {
        let minute = at.unix_ms().div_euclid(60_000);
        let entries = lock(&self.inner.watch_accrual).credit(
            platform,
            minute,
            chatters.iter().map(|user| user.id.as_str()),
        );
        let by_id: HashMap<&str, &User> = chatters
            .iter()
            .map(|user| (user.id.as_str(), user))
            .collect();
        for entry in entries {
            let Some(user) = by_id.get(entry.account.user_id.as_str()) else {
                continue;
            };
            let change = points::ledger_change(user, entry);
            if self.inner.points_queue.send(change).await.is_err() {
                return;
            }
        }
    }

    /// Whether automation reacts to this kind of platform event.
    pub fn wants(&self, event: &Event) -> bool {
        matches!(
            event.kind,
            EventKind::ChatMessage { .. }
                | EventKind::StreamOnline { .. }
                | EventKind::StreamOffline { .. }
                | EventKind::Redemption { .. }
                | EventKind::Follow { .. }
                | EventKind::Subscription { .. }
                | EventKind::SubscriptionGift { .. }
                | EventKind::Cheer { .. }
                | EventKind::Raid { .. }
                | EventKind::Tip { .. }
        )
    }

    /// A platform event, once queued for storage, handled on the platform's own task:
    /// handling never waits (replies, actions and points go on in tasks and queues of
    /// their own), and a hop through a queue to a task of its own cost more CPU per chat
    /// line than the handling itself.
    pub fn observe(&self, event: Event) {
        if self.wants(&event) {
            self.handle_guarded(event);
        }
    }

    /// The platform is live and has been since `since`, unless automation already knew
    /// (for a restart mid-stream, where no `stream.online` comes).
    pub fn resume_live(&self, platform: Platform, since: Timestamp) {
        lock(&self.inner.live_since)
            .entry(platform)
            .or_insert(since);
    }

    /// Handles one event. A panic in it (a bug) is logged and costs only that event:
    /// unguarded, it would end this task, and every command, point and action after it
    /// would silently stop.
    fn handle_guarded(&self, event: Event) {
        let kind = event.kind.type_name();
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(event)));
        if let Err(panic) = handled {
            tracing::error!(
                kind,
                reason = %crate::logging::panic_message(panic.as_ref()),
                "handling an event panicked (a bug in Roadie); going on with the next"
            );
        }
    }

    fn handle(&self, event: Event) {
        let has_actions = !lock(&self.inner.actions).is_empty();
        if has_actions {
            self.trigger_actions(event.platform, &event.kind);
        }
        match event.kind {
            EventKind::ChatMessage {
                message_id,
                user,
                text,
                ..
            } => self.on_chat(event.platform, event.at, message_id, user, text),
            EventKind::StreamOnline { .. } => {
                lock(&self.inner.live_since).insert(event.platform, event.at);
            }
            EventKind::StreamOffline { .. } => {
                lock(&self.inner.live_since).remove(&event.platform);
            }
            _ => {}
        }
    }

    fn on_chat(
        &self,
        platform: Platform,
        at: Timestamp,
        message_id: String,
        user: User,
        text: String,
    ) {
        for timer in lock(&self.inner.timers).iter_mut() {
            timer.on_chat_line();
        }
        let credit = lock(&self.inner.accrual).credit(platform, &user.id, &message_id, at);
        if let Some(entry) = credit {
            let change = points::ledger_change(&user, entry);
            if self.inner.points_queue.try_send(change).is_err() {
                tracing::warn!("points for chat are backed up; one credit skipped");
            }
        }
        if parse_invocation(&text).is_some() {
            let automation = self.clone();
            tokio::spawn(async move {
                automation.run_command(platform, user, text).await;
            });
        }
    }

    /// Posts the timers that are due on every platform that is live; returns what
    /// was due (timer name, platform, text), sent or not.
    async fn run_timers(&self) -> Vec<(String, Platform, String)> {
        let live: Vec<Platform> = lock(&self.inner.live_since).keys().copied().collect();
        let now = self.monotonic_now();
        let due: Vec<Timer> = lock(&self.inner.timers)
            .iter_mut()
            .filter_map(|timer| timer.poll(now, !live.is_empty()).then(|| timer.clone()))
            .collect();
        let platforms = self.platforms();
        let mut posted = Vec::new();
        for timer in due {
            for platform in &live {
                let snapshot = Snapshot {
                    balance: 0,
                    uptime: self.uptime(*platform),
                    now: wall_now(),
                    followage: FollowAge::Unknown,
                };
                let text = timer.render(*platform, &snapshot);
                if let Some(platforms) = &platforms
                    && let Err(error) = platforms.send_chat(Some(*platform), &text).await
                {
                    tracing::warn!(%error, timer = %timer.def().name, "could not post a timer");
                }
                posted.push((timer.def().name.clone(), *platform, text));
            }
        }
        posted
    }

    /// Whether `line` runs a command whose template shows `wanted`.
    fn line_shows(&self, line: &str, wanted: Variable) -> bool {
        parse_invocation(line).is_some_and(|invocation| {
            lock(&self.inner.dispatcher)
                .commands()
                .lookup(invocation.word)
                .is_some_and(|def| def.template.variables().any(|variable| variable == wanted))
        })
    }

    /// How long `user` has followed on `platform`, looked up only when `line` runs a
    /// command whose template shows it.
    async fn followage_for(&self, line: &str, platform: Platform, user: &User) -> FollowAge {
        let wanted = self.line_shows(line, Variable::FollowAge);
        let Some(platforms) = self.platforms().filter(|_| wanted) else {
            return FollowAge::Unknown;
        };
        match platforms.followed_at(platform, &user.id).await {
            Ok(Some(since)) => {
                let age = wall_now().unix_ms().saturating_sub(since.unix_ms());
                FollowAge::Since(Duration::from_millis(u64::try_from(age).unwrap_or(0)))
            }
            Ok(None) => FollowAge::NotFollowing,
            Err(error) => {
                tracing::debug!(%error, "no follow date");
                FollowAge::Unknown
            }
        }
    }

    /// The monotonic "now" cooldowns and timers run on.
    fn monotonic_now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.inner.clock_origin)
    }

    fn uptime(&self, platform: Platform) -> Option<Duration> {
        let since = lock(&self.inner.live_since).get(&platform).copied()?;
        let elapsed = wall_now().unix_ms().saturating_sub(since.unix_ms());
        Some(Duration::from_millis(u64::try_from(elapsed).unwrap_or(0)))
    }

    fn platforms(&self) -> Option<Arc<PlatformManager>> {
        lock(&self.inner.platforms).clone()
    }

    async fn publish(&self, kind: EventKind, platform: Platform) {
        let event = Event {
            platform,
            at: wall_now(),
            kind,
        };
        if let Err(error) = self.inner.bus.publish(&event).await {
            tracing::error!(%error, "could not store an automation event");
        }
    }
}

/// What templates read, snapshotted before rendering (reads are async; rendering
/// is not).
struct Snapshot {
    balance: i64,
    uptime: Option<Duration>,
    now: Timestamp,
    followage: FollowAge,
}

impl Environment for Snapshot {
    fn points(&self, _platform: Platform, _user: &User) -> i64 {
        self.balance
    }

    fn uptime(&self, _platform: Platform) -> Option<Duration> {
        self.uptime
    }

    fn followage(&self, _platform: Platform, _user: &User) -> FollowAge {
        self.followage
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn random(&self, low: i64, high: i64) -> i64 {
        random_between(low, high)
    }
}

async fn load_timers(store: &Store) -> Vec<Timer> {
    let stored = match store.timers().await {
        Ok(stored) => stored,
        Err(error) => {
            tracing::error!(%error, "could not read the timers; none will post");
            return Vec::new();
        }
    };
    stored
        .iter()
        .filter_map(|timer| match commands::timer_definition(timer) {
            Ok(def) => Some(Timer::new(def)),
            Err(error) => {
                tracing::warn!(timer = %timer.name, %error, "a stored timer was skipped");
                None
            }
        })
        .collect()
}

/// A uniform integer in `low..=high` from the OS's random source.
fn random_between(low: i64, high: i64) -> i64 {
    if high <= low {
        return low;
    }
    let span = (i128::from(high) - i128::from(low) + 1) as u128;
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return low;
    }
    // 128 random bits over a span of at most 2^64: the modulo bias is below 2^-64.
    let drawn = u128::from_le_bytes(bytes) % span;
    (i128::from(low) + drawn as i128) as i64
}

/// Resolves once `shutdown` is (or was) set; the guard is not held across awaits.
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

fn wall_now() -> Timestamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(now.as_millis()).unwrap_or(i64::MAX))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod paused;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_stays_in_bounds() {
        for _ in 0..1000 {
            let drawn = random_between(-3, 3);
            assert!((-3..=3).contains(&drawn), "{drawn}");
        }
        assert_eq!(random_between(5, 5), 5);
        assert_eq!(random_between(9, 1), 9);
        let extreme = random_between(i64::MIN, i64::MAX);
        assert!((i64::MIN..=i64::MAX).contains(&extreme));
    }
}
