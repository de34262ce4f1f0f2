//! The YouTube adapter: the `Platform` strategy for YouTube Live.
//!
//! YouTube has no push channel for chat that Roadie can use over plain HTTPS, so the
//! adapter polls, and every poll costs quota:
//!
//! 1. Look for the channel's active broadcast (`liveBroadcasts.list`, 1 unit), every
//!    `idle_poll` while nothing is live (`Connected`, "no live broadcast").
//! 2. When one is found: `stream.online` with its title, then poll its chat
//!    (`liveChatMessages.list`, 5 units) with the page token, never sooner than
//!    YouTube's `pollingIntervalMillis`, slower when the daily budget demands it (see
//!    [`crate::quota`]). Concurrent viewers are polled every `viewers_every`.
//! 3. The first page of a chat is history: messages published before this `run`
//!    started (or before chat resumed after a quota pause) are skipped, so a daemon
//!    restart does not replay old commands, while a broadcast that starts later is
//!    read from its first message even though the idle search finds it up to
//!    `idle_poll` late. A clock running ahead of Google's may drop a message sent in
//!    the instant the run started. Message ids are de-duplicated.
//! 4. `offlineAt`, `liveChatEnded`, `liveChatNotFound` or a `chatEndedEvent` end the
//!    chat: `stream.offline`, and back to step 1 for the next broadcast.
//!
//! Failures: a broken connection or a 5xx is reported as `Reconnecting` and retried
//! with backoff from the same page token; `rateLimitExceeded` backs off; a 401 is
//! answered with one refresh and one retry, and a refused refresh ends in
//! `AuthRequired`. When the quota is spent (`quotaExceeded`, or no poll left
//! affordable), chat goes idle until the daily reset and the state is `Reconnecting`
//! with a detail saying why and until when: chat is not being read, which is what the
//! state conveys, and the adapter keeps running and resumes by itself.
//!
//! YouTube lists no chatters, so `ChatterList` is not declared.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{ConnectionState, Event, EventKind, Platform as PlatformId, Timestamp};
use roadie_oauth::RotatingTokens;
use roadie_platform::{
    AnalyticsSample, BoxFuture, Capability, CapabilityScopes, ChatError, DedupWindow, Platform,
    PlatformSink, Shutdown,
};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::YoutubeError;
use crate::api::{Broadcast, DataApi};
use crate::message::Normaliser;
use crate::oauth::SCOPE;
use crate::quota::{PollPlan, QuotaPlanner, QuotaStatus, human_duration};
use crate::settings::YoutubeSettings;

/// What YouTube needs for each capability: the one `youtube` scope covers all.
pub const CAPABILITIES: &[CapabilityScopes] = &[
    CapabilityScopes {
        capability: Capability::ChatRead,
        scopes: &[SCOPE],
    },
    CapabilityScopes {
        capability: Capability::ChatSend,
        scopes: &[SCOPE],
    },
    CapabilityScopes {
        capability: Capability::Events,
        scopes: &[SCOPE],
    },
    CapabilityScopes {
        capability: Capability::Polling,
        scopes: &[SCOPE],
    },
];

/// YouTube's longest live chat message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;
/// The poll spacing used when an answer lacks `pollingIntervalMillis`.
const FALLBACK_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Longest wait between retries after failures.
const MAX_RETRY: Duration = Duration::from_secs(60);
/// The first wait after `rateLimitExceeded` is this many `retry_base`s (5 s by
/// default): a rate limit needs a longer pause than a dropped connection.
const RATE_LIMIT_FACTOR: u32 = 5;
/// Longest wait after repeated `rateLimitExceeded`.
const RATE_LIMIT_MAX: Duration = Duration::from_secs(300);
/// Message ids remembered for de-duplication (two full pages of 2,000 and more).
const SEEN_IDS: usize = 20_000;

/// Live broadcasts whose chat answered `liveChatDisabled`, each left alone for a
/// while, then tried again.
struct Chatless {
    retry_after: Duration,
    /// Broadcast id and when its chat was found disabled; the most recent few.
    found: VecDeque<(String, Instant)>,
}

impl Chatless {
    /// Broadcasts remembered at most (one is live at a time; a few for churn).
    const CAPACITY: usize = 16;

    fn new(retry_after: Duration) -> Chatless {
        Chatless {
            retry_after,
            found: VecDeque::new(),
        }
    }

    /// Its chat was just found disabled.
    fn insert(&mut self, broadcast_id: &str) {
        self.found.retain(|(id, _)| id != broadcast_id);
        if self.found.len() >= Self::CAPACITY {
            self.found.pop_front();
        }
        self.found
            .push_back((broadcast_id.to_owned(), Instant::now()));
    }

    /// Whether its chat is held back now.
    fn contains(&self, broadcast_id: &str) -> bool {
        self.found
            .iter()
            .any(|(id, found_at)| id == broadcast_id && found_at.elapsed() < self.retry_after)
    }
}

/// The chat being read: where sent messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LiveChat {
    broadcast_id: String,
    chat_id: String,
    title: Option<String>,
}

impl LiveChat {
    fn from_broadcast(broadcast: &Broadcast) -> Option<LiveChat> {
        Some(LiveChat {
            broadcast_id: broadcast.id.clone(),
            chat_id: broadcast.live_chat_id.clone()?,
            title: broadcast.title.clone(),
        })
    }

    fn describe(&self) -> String {
        describe(&self.title, &self.broadcast_id)
    }
}

/// A broadcast as status details name it: its title, quoted, or its id.
fn describe(title: &Option<String>, id: &str) -> String {
    match title {
        Some(title) if !title.is_empty() => format!("\"{title}\""),
        _ => format!("broadcast {id}"),
    }
}

/// Why following a chat stopped.
enum ChatEnd {
    /// The broadcast ended.
    Ended,
    /// The broadcast has no chat.
    Disabled,
    /// The quota is spent until the reset.
    Quota,
    /// Sign in again.
    AuthRequired(String),
}

/// Exponential backoff.
struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Backoff {
        let first = first.max(Duration::from_millis(1));
        Backoff {
            first,
            max: max.max(first),
            next: first,
        }
    }

    fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    fn reset(&mut self) {
        self.next = self.first;
    }
}

/// The YouTube platform.
pub struct YoutubeAdapter {
    settings: YoutubeSettings,
    api: DataApi,
    quota: Arc<Mutex<QuotaPlanner>>,
    live: Mutex<Option<LiveChat>>,
    /// Set when sending chat finds the sign-in gone, so the run loop reports it.
    auth_lost: watch::Sender<Option<String>>,
    last_status: Mutex<Option<(ConnectionState, String)>>,
}

impl std::fmt::Debug for YoutubeAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YoutubeAdapter")
            .field("api", &self.settings.api_url)
            .field("daily_quota", &self.settings.daily_quota)
            .finish_non_exhaustive()
    }
}

async fn wait_auth_lost(watch: &mut watch::Receiver<Option<String>>) -> String {
    loop {
        if let Some(reason) = watch.borrow_and_update().clone() {
            return reason;
        }
        if watch.changed().await.is_err() {
            // The sender lives as long as the adapter; never resolve without a reason.
            std::future::pending::<()>().await;
        }
    }
}

impl YoutubeAdapter {
    /// An adapter for the account signed in with `tokens` (refreshed and stored on
    /// 401 by [`RotatingTokens`]). The send reserve is capped at a quarter of the
    /// budget so a small budget still leaves room to read chat.
    pub fn new(settings: YoutubeSettings, tokens: Arc<RotatingTokens>) -> YoutubeAdapter {
        let reserve = settings.send_reserve.min(settings.daily_quota / 4);
        let quota = Arc::new(Mutex::new(QuotaPlanner::new(
            settings.daily_quota,
            settings.costs,
            reserve,
            settings.viewers_every,
            settings.quota_horizon,
            settings.wall_clock.now(),
        )));
        let api = DataApi::new(
            &settings.api_url,
            tokens,
            Arc::clone(&quota),
            settings.wall_clock.clone(),
            settings.request_timeout,
        );
        YoutubeAdapter {
            settings,
            api,
            quota,
            live: Mutex::new(None),
            auth_lost: watch::channel(None).0,
            last_status: Mutex::new(None),
        }
    }

    /// The quota spending and pacing, for `roadie status`.
    pub fn quota(&self) -> QuotaStatus {
        let now = self.now();
        match self.quota.lock() {
            Ok(mut planner) => {
                planner.roll(now);
                planner.status()
            }
            Err(poisoned) => poisoned.into_inner().status(),
        }
    }

    fn now(&self) -> Timestamp {
        self.settings.wall_clock.now()
    }

    fn with_quota<T>(&self, use_it: impl FnOnce(&mut QuotaPlanner, Timestamp) -> T) -> T {
        let now = self.now();
        let mut planner = self
            .quota
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        use_it(&mut planner, now)
    }

    fn set_live(&self, live: Option<LiveChat>) {
        if let Ok(mut slot) = self.live.lock() {
            *slot = live;
        }
    }

    fn live(&self) -> Option<LiveChat> {
        self.live.lock().ok().and_then(|slot| slot.clone())
    }

    /// Reports a state change once (the same state and detail are not repeated).
    fn report(&self, sink: &dyn PlatformSink, state: ConnectionState, detail: String) {
        if let Ok(mut last) = self.last_status.lock() {
            if last
                .as_ref()
                .is_some_and(|(previous, text)| *previous == state && *text == detail)
            {
                return;
            }
            *last = Some((state, detail.clone()));
        }
        sink.status(state, detail);
    }

    async fn emit(&self, sink: &dyn PlatformSink, kind: EventKind) {
        sink.event(Event {
            platform: PlatformId::Youtube,
            at: self.now(),
            kind,
        })
        .await;
    }

    fn log_new_warning(&self) {
        if let Some(warning) = self.with_quota(|planner, _| planner.take_new_warning()) {
            tracing::warn!(%warning, "YouTube quota");
        }
    }

    /// Waits until the quota resets, re-checking the wall clock at least every
    /// `idle_poll` (a suspended machine's timers lag the wall clock).
    async fn idle_for_quota(&self, sink: &dyn PlatformSink) {
        // The live chat stays known: sending may still use the send reserve.
        self.log_new_warning();
        loop {
            let (halted, status, now) = self.with_quota(|planner, now| {
                let halted = planner.halted(now);
                (halted, planner.status(), now)
            });
            if !halted {
                tracing::info!("the YouTube quota day started again; resuming");
                return;
            }
            self.report(
                sink,
                ConnectionState::Reconnecting,
                status
                    .warning
                    .unwrap_or_else(|| "the YouTube API quota is spent".into()),
            );
            let until_reset = Duration::from_millis(status.resets_at.millis_since(now).max(1));
            tokio::time::sleep(
                until_reset.min(self.settings.idle_poll.max(Duration::from_millis(1))),
            )
            .await;
        }
    }

    /// Finds broadcasts and follows their chat until the sign-in is gone; returns why.
    async fn drive(&self, sink: &dyn PlatformSink) -> String {
        let mut failures = Backoff::new(self.settings.retry_base, MAX_RETRY);
        let mut on_air: Option<Broadcast> = None;
        // Broadcasts whose chat ended, and those whose chat is disabled (for now).
        let mut finished = DedupWindow::new(64);
        let mut chatless = Chatless::new(self.settings.chat_retry);
        let mut seen = DedupWindow::new(SEEN_IDS);
        let mut normaliser = Normaliser::default();
        let idle_poll = self.settings.idle_poll.max(Duration::from_millis(1));
        // Chat published before this is history: not news to this run.
        let mut history_before = self.now();
        loop {
            let cost = self.with_quota(|planner, _| planner.costs().broadcasts_list);
            if !self.with_quota(|planner, now| planner.guard(cost, now)) {
                self.idle_for_quota(sink).await;
                // What was said while chat was idle is stale by now.
                history_before = self.now();
                continue;
            }
            let broadcasts = match self.api.active_broadcasts().await {
                Ok(broadcasts) => broadcasts,
                Err(YoutubeError::AuthRequired(reason)) => return reason,
                Err(YoutubeError::QuotaExceeded(_)) => {
                    self.with_quota(|planner, now| planner.exhaust(now));
                    continue;
                }
                Err(error) => {
                    let wait = failures.next_wait();
                    self.report(
                        sink,
                        ConnectionState::Reconnecting,
                        format!(
                            "cannot list YouTube broadcasts ({error}); retrying in {}",
                            human_duration(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
                        ),
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            failures.reset();
            // Prefer a broadcast whose chat can be read.
            let candidates: Vec<&Broadcast> = broadcasts
                .iter()
                .filter(|broadcast| !finished.contains(&broadcast.id))
                .collect();
            let chosen = candidates
                .iter()
                .copied()
                .find(|broadcast| {
                    broadcast.live_chat_id.is_some() && !chatless.contains(&broadcast.id)
                })
                .or_else(|| candidates.first().copied())
                .cloned();
            let Some(broadcast) = chosen else {
                self.set_live(None);
                if let Some(ended) = on_air.take() {
                    // It ended while chat was idle (quota) or without saying so.
                    self.emit(
                        sink,
                        EventKind::StreamOffline {
                            title: ended.title,
                            category: None,
                        },
                    )
                    .await;
                }
                self.with_quota(|planner, _| planner.set_idle_spacing(idle_poll));
                self.report(
                    sink,
                    ConnectionState::Connected,
                    format!(
                        "signed in; no live broadcast (looking again every {})",
                        human_duration(u64::try_from(idle_poll.as_millis()).unwrap_or(u64::MAX))
                    ),
                );
                tokio::time::sleep(idle_poll).await;
                continue;
            };
            if on_air.as_ref().map(|known| &known.id) != Some(&broadcast.id) {
                if let Some(previous) = on_air.take() {
                    self.emit(
                        sink,
                        EventKind::StreamOffline {
                            title: previous.title,
                            category: None,
                        },
                    )
                    .await;
                }
                tracing::info!(broadcast = %broadcast.id, "a YouTube broadcast is live");
                self.emit(
                    sink,
                    EventKind::StreamOnline {
                        title: broadcast.title.clone(),
                        category: None,
                    },
                )
                .await;
                on_air = Some(broadcast.clone());
            }
            let readable =
                LiveChat::from_broadcast(&broadcast).filter(|_| !chatless.contains(&broadcast.id));
            let Some(live) = readable else {
                // Live without a readable chat: only the cheap search goes on, and the
                // chat is tried again now and then (it may be turned on mid-stream).
                self.set_live(None);
                self.with_quota(|planner, _| planner.set_idle_spacing(idle_poll));
                // A steady text: the status is reported only when it changes.
                let every = u64::try_from(self.settings.chat_retry.as_millis()).unwrap_or(u64::MAX);
                self.report(
                    sink,
                    ConnectionState::Connected,
                    format!(
                        "{} is live, but its chat is disabled (trying it again every {})",
                        describe(&broadcast.title, &broadcast.id),
                        human_duration(every)
                    ),
                );
                tokio::time::sleep(idle_poll).await;
                continue;
            };
            let end = self
                .follow_chat(&live, sink, history_before, &mut seen, &mut normaliser)
                .await;
            if !matches!(end, ChatEnd::Quota) {
                self.set_live(None);
            }
            match end {
                ChatEnd::Ended => {
                    tracing::info!(broadcast = %live.broadcast_id, "the YouTube broadcast ended");
                    finished.first_seen(&live.broadcast_id);
                    on_air = None;
                    self.emit(
                        sink,
                        EventKind::StreamOffline {
                            title: live.title.clone(),
                            category: None,
                        },
                    )
                    .await;
                }
                ChatEnd::Disabled => chatless.insert(&live.broadcast_id),
                ChatEnd::Quota => {}
                ChatEnd::AuthRequired(reason) => return reason,
            }
        }
    }

    /// Sleeps until `until`, polling viewers whenever they are due meanwhile.
    async fn wait_with_viewers(
        &self,
        until: Instant,
        next_viewers: &mut Option<Instant>,
        live: &LiveChat,
        sink: &dyn PlatformSink,
    ) -> Result<(), String> {
        loop {
            let now = Instant::now();
            if let Some(due) = *next_viewers
                && due <= now
            {
                // The planner spaces viewer polls out when the budget is tight.
                *next_viewers = self
                    .with_quota(|planner, _| planner.viewer_spacing())
                    .map(|spacing| now + spacing);
                self.poll_viewers(live, sink).await?;
                continue;
            }
            if now >= until {
                return Ok(());
            }
            let wake = next_viewers.map_or(until, |due| due.min(until));
            tokio::time::sleep_until(wake).await;
        }
    }

    /// Reads one broadcast's chat until it ends, the quota halts it or the sign-in is
    /// gone.
    async fn follow_chat(
        &self,
        live: &LiveChat,
        sink: &dyn PlatformSink,
        history_before: Timestamp,
        seen: &mut DedupWindow,
        normaliser: &mut Normaliser,
    ) -> ChatEnd {
        self.set_live(Some(live.clone()));
        let mut page_token: Option<String> = None;
        let mut failures = Backoff::new(self.settings.retry_base, MAX_RETRY);
        let mut throttled =
            Backoff::new(self.settings.retry_base * RATE_LIMIT_FACTOR, RATE_LIMIT_MAX);
        let mut interval = FALLBACK_POLL_INTERVAL;
        let mut healthy = false;
        let viewers = !self.settings.viewers_every.is_zero();
        let mut next_viewers = viewers.then(Instant::now);
        let mut next_poll = Instant::now();
        loop {
            if let Err(reason) = self
                .wait_with_viewers(next_poll, &mut next_viewers, live, sink)
                .await
            {
                return ChatEnd::AuthRequired(reason);
            }
            if self.with_quota(|planner, now| planner.halted(now)) {
                return ChatEnd::Quota;
            }
            let page = match self
                .api
                .messages(&live.chat_id, page_token.as_deref())
                .await
            {
                Ok(page) => page,
                Err(YoutubeError::ChatEnded | YoutubeError::ChatNotFound) => return ChatEnd::Ended,
                Err(YoutubeError::ChatDisabled) => return ChatEnd::Disabled,
                Err(YoutubeError::QuotaExceeded(_)) => {
                    self.with_quota(|planner, now| planner.exhaust(now));
                    return ChatEnd::Quota;
                }
                Err(YoutubeError::AuthRequired(reason)) => return ChatEnd::AuthRequired(reason),
                Err(YoutubeError::RateLimited(message)) => {
                    let wait = throttled.next_wait().max(interval);
                    tracing::warn!(
                        %message,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "YouTube rate limit; backing off"
                    );
                    next_poll = Instant::now() + wait;
                    continue;
                }
                Err(error) => {
                    healthy = false;
                    if matches!(error, YoutubeError::Api { .. }) {
                        // A refused request (an expired or invalid page token...) would
                        // be refused again: start over from the chat's recent history;
                        // de-duplication and the history cutoff keep that from
                        // repeating anything.
                        page_token = None;
                    }
                    let wait = failures.next_wait().max(interval);
                    self.report(
                        sink,
                        ConnectionState::Reconnecting,
                        format!(
                            "lost the YouTube live chat ({error}); retrying in {} ms",
                            wait.as_millis()
                        ),
                    );
                    next_poll = Instant::now() + wait;
                    continue;
                }
            };
            failures.reset();
            throttled.reset();
            if let Some(asked) = page.polling_interval {
                interval = asked;
            }
            if page.unreadable > 0 {
                tracing::debug!(
                    count = page.unreadable,
                    "skipped unreadable YouTube chat items"
                );
            }
            if !healthy {
                healthy = true;
                self.report(
                    sink,
                    ConnectionState::Connected,
                    format!("reading the live chat of {}", live.describe()),
                );
            }
            let received_at = self.now();
            let mut chat_ended = false;
            for item in &page.items {
                chat_ended |= item.ends_chat();
                if !seen.first_seen(&item.id) {
                    continue;
                }
                // History from before this run (or before a quota pause): not news.
                if item.published().is_some_and(|at| at < history_before) {
                    continue;
                }
                if let Some(event) = normaliser.normalise(item, received_at) {
                    sink.event(event).await;
                }
            }
            if chat_ended || page.offline_at.is_some() {
                return ChatEnd::Ended;
            }
            if page.next_page_token.is_some() {
                page_token = page.next_page_token;
            }
            let plan = self.with_quota(|planner, now| planner.plan_poll(interval, viewers, now));
            match plan {
                PollPlan::After(wait) => {
                    if let Some(warning) = self.with_quota(|planner, _| planner.take_new_warning())
                    {
                        tracing::warn!(%warning, "YouTube quota");
                        self.report(
                            sink,
                            ConnectionState::Connected,
                            format!("reading the live chat of {}; {warning}", live.describe()),
                        );
                    }
                    next_poll = Instant::now() + wait;
                    if viewers
                        && next_viewers.is_none()
                        && let Some(spacing) =
                            self.with_quota(|planner, _| planner.viewer_spacing())
                    {
                        next_viewers = Some(Instant::now() + spacing);
                    }
                }
                PollPlan::Halt(_) => return ChatEnd::Quota,
            }
        }
    }

    /// One viewer poll: a `viewers` event and an analytics sample when YouTube shows
    /// the count. Skipped when it would eat into the send reserve.
    async fn poll_viewers(&self, live: &LiveChat, sink: &dyn PlatformSink) -> Result<(), String> {
        let cost = self.with_quota(|planner, _| planner.costs().videos_list);
        if !self.with_quota(|planner, now| planner.affordable_outside_reserve(cost, now)) {
            return Ok(());
        }
        match self.api.concurrent_viewers(&live.broadcast_id).await {
            Ok(Some(count)) => {
                let at = self.now();
                sink.event(Event {
                    platform: PlatformId::Youtube,
                    at,
                    kind: EventKind::Viewers { count },
                })
                .await;
                sink.analytics(AnalyticsSample {
                    at,
                    viewers: Some(count),
                    followers: None,
                    chatters: None,
                })
                .await;
            }
            Ok(None) => {}
            Err(YoutubeError::AuthRequired(reason)) => return Err(reason),
            Err(YoutubeError::QuotaExceeded(_)) => {
                self.with_quota(|planner, now| planner.exhaust(now));
            }
            Err(error) => tracing::debug!(%error, "polling YouTube viewers failed"),
        }
        Ok(())
    }
}

impl Platform for YoutubeAdapter {
    fn id(&self) -> PlatformId {
        PlatformId::Youtube
    }

    fn capabilities(&self) -> &'static [CapabilityScopes] {
        CAPABILITIES
    }

    fn run(
        self: Arc<Self>,
        sink: Arc<dyn PlatformSink>,
        shutdown: Shutdown,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let mut shutdown = shutdown;
            if let Ok(mut last) = self.last_status.lock() {
                *last = None;
            }
            self.auth_lost.send_replace(None);
            let mut auth_watch = self.auth_lost.subscribe();
            self.report(
                sink.as_ref(),
                ConnectionState::Reconnecting,
                "connecting to YouTube".into(),
            );
            let lost = tokio::select! {
                _ = &mut shutdown => None,
                reason = self.drive(sink.as_ref()) => Some(reason),
                reason = wait_auth_lost(&mut auth_watch) => Some(reason),
            };
            self.set_live(None);
            if let Some(reason) = lost {
                tracing::error!(%reason, "YouTube needs a new sign-in: run `roadie auth login youtube`");
                self.report(
                    sink.as_ref(),
                    ConnectionState::AuthRequired,
                    format!("{reason}; run `roadie auth login youtube`"),
                );
                shutdown.await;
            }
        })
    }

    fn send_chat(&self, text: &str) -> BoxFuture<'_, Result<Vec<String>, ChatError>> {
        let text = text.trim().to_owned();
        Box::pin(async move {
            if text.is_empty() {
                return Err(ChatError::Refused("the message is empty".into()));
            }
            let length = text.chars().count();
            if length > MAX_MESSAGE_CHARS {
                return Err(ChatError::Refused(format!(
                    "the message is {length} characters long; YouTube live chat takes at most {MAX_MESSAGE_CHARS}"
                )));
            }
            let cost = self.with_quota(|planner, _| planner.costs().messages_insert);
            if !self.with_quota(|planner, now| planner.affordable(cost, 0, now)) {
                return Err(ChatError::Unavailable(format!(
                    "the YouTube API quota for today is spent (sending costs {cost} units); it resets at midnight Pacific time"
                )));
            }
            let Some(live) = self.live() else {
                return Err(ChatError::Unavailable(
                    "no active broadcast: YouTube live chat exists only while a broadcast is live"
                        .into(),
                ));
            };
            match self.api.insert_message(&live.chat_id, &text).await {
                Ok(id) if id.is_empty() => Ok(Vec::new()),
                Ok(id) => Ok(vec![id]),
                Err(YoutubeError::AuthRequired(reason)) => {
                    self.auth_lost.send_replace(Some(reason.clone()));
                    Err(ChatError::AuthRequired(reason))
                }
                Err(YoutubeError::QuotaExceeded(message)) => {
                    self.with_quota(|planner, now| planner.exhaust(now));
                    Err(ChatError::Unavailable(format!(
                        "the YouTube API quota is spent: {message}"
                    )))
                }
                Err(
                    error @ (YoutubeError::ChatEnded
                    | YoutubeError::ChatNotFound
                    | YoutubeError::ChatDisabled
                    | YoutubeError::Transport(_)
                    | YoutubeError::Unavailable { .. }
                    | YoutubeError::RateLimited(_)),
                ) => Err(ChatError::Unavailable(error.to_string())),
                Err(error) => Err(ChatError::Platform(error.to_string())),
            }
        })
    }
}
