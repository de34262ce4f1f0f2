//! The adapter against the fake YouTube on 127.0.0.1:0: the shared conformance suite,
//! history skipped, poll spacing, broadcast end and restart, the quota budget (pacing,
//! exhaustion, resuming after the reset), chat sending, token refresh, sign-in loss
//! and viewers.

use std::sync::Arc;
use std::time::Duration;

use roadie_core::{ConnectionState, EventKind};
use roadie_platform::conformance::{FakeDriver, run_suite};
use roadie_platform::{BoxFuture, Capability, ChatError, Platform};
use roadie_test_support::fake_youtube::{
    Ending, Failure, FakeAuthor, FakeYoutube, FakeYoutubeOptions, rfc3339_micros,
};

use crate::{MemoryStore, MovableClock, Running, adapter_for, settings_for};

struct Driver(FakeYoutube);

impl FakeDriver for Driver {
    fn inject_chat(&self, message_id: &str, text: &str) -> BoxFuture<'_, ()> {
        self.0.inject_text(message_id, text);
        Box::pin(async {})
    }

    fn received_chats(&self) -> Vec<String> {
        self.0.received_chats()
    }

    fn drop_connection(&self) -> BoxFuture<'_, ()> {
        self.0.drop_next_poll();
        Box::pin(async {})
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }
}

fn fast() -> FakeYoutubeOptions {
    FakeYoutubeOptions {
        polling_interval_ms: 50,
        ..FakeYoutubeOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn youtube_passes_the_platform_conformance_suite() {
    let fake = FakeYoutube::start_with(fast()).await;
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let declared: Vec<Capability> = adapter
        .capabilities()
        .iter()
        .map(|entry| entry.capability)
        .collect();
    assert!(
        !declared.contains(&Capability::ChatterList),
        "YouTube lists no chatters"
    );
    let driver = Driver(fake);
    let adapter: Arc<dyn Platform> = adapter;
    run_suite(adapter, &driver).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_skipped_and_polls_keep_youtubes_spacing_and_page_token() {
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: 150,
        ..FakeYoutubeOptions::default()
    })
    .await;
    // Backlog from before Roadie joined the chat.
    fake.inject_text("old-1", "said before");
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
        - 3_600_000_000;
    let mut old = serde_json::json!({"kind": "youtube#liveChatMessage", "id": "old-2", "snippet": {"type": "textMessageEvent", "publishedAt": rfc3339_micros(hour_ago), "hasDisplayContent": true, "displayMessage": "!gamble all", "textMessageDetails": {"messageText": "!gamble all"}}});
    old["authorDetails"] = FakeAuthor::viewer("Early Bird").details();
    fake.inject_item(old);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    fake.inject_chat("new-1", "hello", &FakeAuthor::viewer("Late Bird"));
    running
        .wait(Duration::from_secs(5), "new chat", |running| {
            running.chat_ids().contains(&"new-1".to_owned())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.set_polling_interval(300);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = running.chat_ids();
    running.stop().await;
    assert_eq!(ids, ["new-1"], "history is not news");

    let polls = fake.poll_times();
    assert!(polls.len() >= 6, "{} polls", polls.len());
    for pair in polls.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(150),
            "polls {:?} apart",
            pair[1] - pair[0]
        );
    }
    // After the change, the new interval is kept (the first gap after it may still
    // be the old one).
    let late: Vec<Duration> = polls
        .windows(2)
        .rev()
        .take(3)
        .map(|pair| pair[1] - pair[0])
        .collect();
    assert!(
        late.iter().all(|gap| *gap >= Duration::from_millis(300)),
        "{late:?}"
    );
    let requests = fake.with(|state| state.requests.clone());
    let chats: Vec<&String> = requests
        .iter()
        .filter(|request| request.starts_with("GET /liveChat/messages"))
        .collect();
    assert!(!chats[0].contains("pageToken"), "{}", chats[0]);
    assert!(
        chats[0].contains("part=id%2Csnippet%2CauthorDetails"),
        "{}",
        chats[0]
    );
    assert!(chats[0].contains("maxResults=2000"));
    assert!(chats[1].contains("pageToken=fakePage2"), "{}", chats[1]);
    assert_eq!(
        requests
            .iter()
            .find(|request| request.starts_with("GET /liveBroadcasts"))
            .unwrap(),
        "GET /liveBroadcasts?part=id%2Csnippet%2Cstatus&broadcastStatus=active"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_end_stops_polling_and_the_next_broadcast_resumes_it() {
    let fake = FakeYoutube::start_with(fast()).await;
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    fake.inject_text("first-1", "one");
    running
        .wait(Duration::from_secs(5), "first chat", |running| {
            running.chat_ids() == ["first-1"]
        })
        .await;

    // offlineAt in the chat's answer.
    fake.end_broadcast(Ending::OfflineAt);
    let offline = |count: usize| {
        move |running: &Running| {
            running
                .kinds()
                .iter()
                .filter(|kind| matches!(kind, EventKind::StreamOffline { .. }))
                .count()
                >= count
        }
    };
    running
        .wait(
            Duration::from_secs(5),
            "stream.offline (offlineAt)",
            offline(1),
        )
        .await;
    running
        .wait(Duration::from_secs(5), "idle status", |running| {
            running.last_state().is_some_and(|(state, detail)| {
                state == ConnectionState::Connected && detail.contains("no live broadcast")
            })
        })
        .await;
    let polls = fake.poll_times().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        fake.poll_times().len(),
        polls,
        "no chat polls while offline"
    );
    match adapter.send_chat("anyone?").await {
        Err(ChatError::Unavailable(reason)) => assert!(reason.contains("no active broadcast")),
        other => panic!("{other:?}"),
    }

    // A new broadcast: found by the idle search, announced, read from its first
    // message even though the search found it later.
    fake.start_broadcast("Second stream");
    fake.inject_text("second-1", "two");
    running
        .wait(
            Duration::from_secs(5),
            "second broadcast found",
            |running| {
                running
                    .last_state()
                    .is_some_and(|(_, detail)| detail.contains("Second stream"))
            },
        )
        .await;
    running
        .wait(
            Duration::from_secs(5),
            "second broadcast's chat",
            |running| running.chat_ids().contains(&"second-1".to_owned()),
        )
        .await;

    // liveChatEnded.
    fake.end_broadcast(Ending::ChatEnded);
    running
        .wait(
            Duration::from_secs(5),
            "stream.offline (liveChatEnded)",
            offline(2),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let polls = fake.poll_times().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        fake.poll_times().len(),
        polls,
        "no chat polls after liveChatEnded"
    );

    fake.start_broadcast("Third stream");
    running
        .wait(Duration::from_secs(5), "third broadcast", |running| {
            running.kinds().iter().any(|kind| {
                matches!(kind, EventKind::StreamOnline { title: Some(title), .. } if title == "Third stream")
            })
        })
        .await;
    running.stop().await;

    let story: Vec<String> = running
        .kinds()
        .into_iter()
        .filter_map(|kind| match kind {
            EventKind::StreamOnline { title, .. } => {
                Some(format!("online {}", title.unwrap_or_default()))
            }
            EventKind::StreamOffline { title, .. } => {
                Some(format!("offline {}", title.unwrap_or_default()))
            }
            EventKind::ChatMessage { message_id, .. } => Some(message_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        story,
        [
            "online Fake stream",
            "first-1",
            "offline Fake stream",
            "online Second stream",
            "second-1",
            "offline Second stream",
            "online Third stream"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_budget_slows_polling_stays_inside_it_and_warns() {
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: 20,
        ..FakeYoutubeOptions::default()
    })
    .await;
    let mut settings = settings_for(&fake);
    settings.daily_quota = 300;
    settings.send_reserve = 50;
    // Plan for a 2-second "stream" (a moving horizon), so the test is short.
    settings.quota_horizon = Some(Duration::from_secs(2));
    let (adapter, _) = adapter_for(&fake, settings, Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = adapter.quota();
    running.stop().await;

    let spent = fake.quota_spent();
    assert!(
        spent <= 300,
        "the fake charged {spent} of a 300-unit budget"
    );
    assert!(spent >= 150, "only {spent} spent: the budget is used");
    assert!(
        status.used <= spent && spent <= status.used + 5,
        "adapter counted {}, fake {spent}",
        status.used
    );
    assert_eq!(status.budget, 300);
    let warning = status.warning.clone().expect("a slowdown warning");
    assert!(warning.contains("polling YouTube chat every"), "{warning}");
    assert!(warning.contains("instead of every 20 ms"), "{warning}");
    assert!(status.interval_ms > 20, "{status:?}");
    assert!(!status.exhausted);
    assert!(
        running
            .states()
            .iter()
            .any(|(state, detail)| *state == ConnectionState::Connected
                && detail.contains("polling YouTube chat every")),
        "the status says polling slowed: {:?}",
        running.states()
    );
    let polls = fake.poll_times();
    // Naive polling at 20 ms would have made ~150 polls (750 units).
    assert!(polls.len() < 60, "{} polls", polls.len());
    for pair in polls.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_exceeded_idles_until_the_reset_then_resumes() {
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: 20,
        daily_limit: 40,
        ..FakeYoutubeOptions::default()
    })
    .await;
    let clock = MovableClock::default();
    let mut settings = settings_for(&fake);
    settings.wall_clock = clock.clock();
    let (adapter, _) = adapter_for(&fake, settings, Arc::default());
    let running = Running::start(&adapter);
    running
        .wait(Duration::from_secs(10), "quota idle", |running| {
            running.last_state().is_some_and(|(state, detail)| {
                state == ConnectionState::Reconnecting && detail.contains("quota")
            })
        })
        .await;
    let status = adapter.quota();
    assert!(status.exhausted, "{status:?}");
    assert_eq!(status.remaining, 0);
    assert!(
        status
            .warning
            .unwrap()
            .contains("resets at midnight Pacific")
    );
    // Idle: no calls at all, and sending is refused with a reason, without a crash.
    let requests = fake.with(|state| state.requests.len());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fake.with(|state| state.requests.len()),
        requests,
        "idle means no calls"
    );
    match adapter.send_chat("still there?").await {
        Err(ChatError::Unavailable(reason)) => assert!(reason.contains("quota"), "{reason}"),
        other => panic!("{other:?}"),
    }

    // Midnight Pacific passes; Google's count starts again.
    fake.reset_quota();
    fake.set_daily_limit(10_000);
    clock.advance(Duration::from_secs(25 * 3600));
    fake.advance_clock(Duration::from_secs(25 * 3600));
    running
        .wait(Duration::from_secs(5), "resumed", |running| {
            running
                .last_state()
                .is_some_and(|(state, _)| state == ConnectionState::Connected)
        })
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    fake.inject_text("after-reset", "good morning");
    running
        .wait(Duration::from_secs(5), "chat after the reset", |running| {
            running.chat_ids().contains(&"after-reset".to_owned())
        })
        .await;
    let status = adapter.quota();
    assert!(!status.exhausted);
    assert!(status.used < 100, "{status:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_chat_reaches_youtube_and_refuses_what_it_cannot_send() {
    let fake = FakeYoutube::start_with(fast()).await;
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    let ids = adapter.send_chat("  hello YouTube  ").await.unwrap();
    assert_eq!(ids.len(), 1);
    assert!(ids[0].starts_with("LCC."), "{ids:?}");
    // 200 characters of two bytes each: characters count, not bytes.
    let longest = "é".repeat(200);
    adapter.send_chat(&longest).await.unwrap();
    assert_eq!(
        fake.received_chats(),
        vec!["hello YouTube".to_owned(), longest]
    );
    let inserted = fake.with(|state| state.inserted[0].clone());
    assert_eq!(inserted["snippet"]["type"], "textMessageEvent");
    assert_eq!(
        inserted["snippet"]["liveChatId"].as_str(),
        fake.live_chat_id().as_deref()
    );
    match adapter.send_chat(&"x".repeat(201)).await {
        Err(ChatError::Refused(reason)) => {
            assert!(reason.contains("201") && reason.contains("200"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    for empty in ["", "   "] {
        assert!(matches!(
            adapter.send_chat(empty).await,
            Err(ChatError::Refused(reason)) if reason.contains("empty")
        ));
    }
    assert_eq!(fake.received_chats().len(), 2);
    assert_eq!(fake.spent_by_method()["liveChatMessages.insert"], 100);
    assert!(adapter.quota().used >= 100);
    // The sender's own message comes back through the chat like anyone's.
    running
        .wait(Duration::from_secs(5), "own message", |running| {
            running.kinds().iter().any(|kind| {
                matches!(kind, EventKind::ChatMessage { text, user, .. }
                    if text == "hello YouTube" && user.roles.contains(&roadie_core::Role::Broadcaster))
            })
        })
        .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_live_broadcast_chat_is_unavailable() {
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        live: false,
        ..fast()
    })
    .await;
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    let (_, detail) = running.last_state().unwrap();
    assert!(detail.contains("no live broadcast"), "{detail}");
    match adapter.send_chat("hello?").await {
        Err(ChatError::Unavailable(reason)) => {
            assert!(reason.starts_with("no active broadcast"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(fake.poll_times().is_empty());
    // The idle search is slow and cheap: one liveBroadcasts.list per idle_poll.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let searches = fake.spent_by_method()["liveBroadcasts.list"];
    assert!((2..=6).contains(&searches), "{searches} searches");
    assert_eq!(adapter.quota().interval_ms, 100);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_with_chat_disabled_is_announced_and_its_chat_left_alone_for_a_while() {
    let fake = FakeYoutube::start_with(fast()).await;
    fake.disable_chat();
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let running = Running::start(&adapter);
    running
        .wait(Duration::from_secs(5), "chat disabled", |running| {
            running.last_state().is_some_and(|(state, detail)| {
                state == ConnectionState::Connected && detail.contains("chat is disabled")
            })
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.stop().await;
    assert_eq!(
        running.kinds()[0],
        EventKind::StreamOnline {
            title: Some("Fake stream".into()),
            category: None
        }
    );
    assert_eq!(
        fake.poll_times().len(),
        1,
        "the disabled chat is asked once"
    );
    assert!(
        fake.spent_by_method()["liveBroadcasts.list"] >= 3,
        "the cheap search goes on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_chat_is_tried_again_and_read_once_turned_on() {
    let fake = FakeYoutube::start_with(fast()).await;
    fake.disable_chat();
    let mut settings = settings_for(&fake);
    settings.chat_retry = Duration::from_millis(400);
    let (adapter, _) = adapter_for(&fake, settings, Arc::default());
    let running = Running::start(&adapter);
    running
        .wait(Duration::from_secs(5), "chat disabled", |running| {
            running.last_state().is_some_and(|(_, detail)| {
                detail.contains("chat is disabled (trying it again every 400 ms)")
            })
        })
        .await;
    // The streamer turns chat on mid-stream.
    fake.enable_chat();
    fake.inject_text("after-enable", "chat is on now");
    running
        .wait(Duration::from_secs(5), "the chat read", |running| {
            running.kinds().iter().any(|kind| {
                matches!(kind, EventKind::ChatMessage { text, .. } if text == "chat is on now")
            })
        })
        .await;
    running.stop().await;
    assert!(
        fake.poll_times().len() >= 2,
        "the disabled chat was asked, then read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_stream_is_refreshed_and_stored_without_losing_chat() {
    let fake = FakeYoutube::start_with(fast()).await;
    let store = Arc::new(MemoryStore::default());
    let (adapter, access) = adapter_for(&fake, settings_for(&fake), store.clone());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    fake.inject_text("before", "one");
    running
        .wait(Duration::from_secs(5), "before", |running| {
            running.chat_ids() == ["before"]
        })
        .await;
    fake.expire_access_token(&access);
    fake.inject_text("during", "two");
    fake.inject_text("after", "three");
    running
        .wait(
            Duration::from_secs(5),
            "chat after the refresh",
            |running| running.chat_ids().len() >= 3,
        )
        .await;
    assert_eq!(running.chat_ids(), ["before", "during", "after"]);
    adapter.send_chat("still talking").await.unwrap();
    let saved = store.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1, "the refreshed token was stored once");
    assert_ne!(saved[0].access_token.expose_secret(), access);
    // Google does not rotate: the refresh token carries over.
    assert!(saved[0].refresh_token.is_some());
    assert_eq!(
        saved[0].account_id.as_deref(),
        Some("UCfakeRoadieChannel0000001")
    );
    assert!(
        !running
            .states()
            .iter()
            .any(|(state, _)| *state == ConnectionState::AuthRequired)
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_reports_auth_required() {
    let fake = FakeYoutube::start_with(fast()).await;
    let (adapter, access) = adapter_for(&fake, settings_for(&fake), Arc::default());
    fake.expire_access_token(&access);
    fake.revoke_refresh_tokens();
    let running = Running::start(&adapter);
    running
        .wait(Duration::from_secs(10), "auth required", |running| {
            running
                .last_state()
                .is_some_and(|(state, _)| state == ConnectionState::AuthRequired)
        })
        .await;
    let (_, detail) = running.last_state().unwrap();
    assert!(detail.contains("roadie auth login youtube"), "{detail}");
    assert!(detail.contains("invalid_grant"), "{detail}");
    assert!(matches!(
        adapter.send_chat("anyone?").await,
        Err(ChatError::Unavailable(_) | ChatError::AuthRequired(_))
    ));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_with_a_dead_sign_in_is_auth_required_and_stops_the_adapter() {
    // Slow polls, so the send is the first call to meet the dead token.
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: 10_000,
        ..FakeYoutubeOptions::default()
    })
    .await;
    let (adapter, _) = adapter_for(&fake, settings_for(&fake), Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    fake.expire_access_tokens();
    fake.revoke_refresh_tokens();
    match adapter.send_chat("hello").await {
        Err(ChatError::AuthRequired(reason)) => {
            assert!(reason.contains("invalid_grant"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    running
        .wait(Duration::from_secs(5), "auth required", |running| {
            running
                .last_state()
                .is_some_and(|(state, _)| state == ConnectionState::AuthRequired)
        })
        .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_are_polled_into_events_and_samples() {
    let fake = FakeYoutube::start_with(fast()).await;
    fake.set_viewers(Some(4321));
    let mut settings = settings_for(&fake);
    settings.viewers_every = Duration::from_millis(200);
    let (adapter, _) = adapter_for(&fake, settings, Arc::default());
    let running = Running::start(&adapter);
    running
        .wait(Duration::from_secs(5), "a viewer sample", |running| {
            !running.sink.samples.lock().unwrap().is_empty()
        })
        .await;
    let sample = running.sink.samples.lock().unwrap()[0];
    assert_eq!(
        (sample.viewers, sample.followers, sample.chatters),
        (Some(4321), None, None)
    );
    assert!(
        running
            .kinds()
            .contains(&EventKind::Viewers { count: 4321 })
    );
    fake.set_viewers(Some(99));
    running
        .wait(Duration::from_secs(5), "the new count", |running| {
            running.kinds().contains(&EventKind::Viewers { count: 99 })
        })
        .await;
    // Hidden counts make no events.
    fake.set_viewers(None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let samples = running.sink.samples.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(running.sink.samples.lock().unwrap().len(), samples);
    running.stop().await;
    let broadcast = fake.with(|state| state.broadcasts[0].id.clone());
    let requests = fake.with(|state| state.requests.clone());
    assert!(
        requests.contains(&format!(
            "GET /videos?part=liveStreamingDetails&id={broadcast}"
        )),
        "{requests:?}"
    );
    let calls = fake.spent_by_method()["videos.list"];
    assert!(
        (4..=12).contains(&calls),
        "{calls} viewer polls in ~1.5 s at 200 ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_reconnect_and_rate_limits_back_off() {
    let fake = FakeYoutube::start_with(fast()).await;
    let mut settings = settings_for(&fake);
    settings.retry_base = Duration::from_millis(100);
    let (adapter, _) = adapter_for(&fake, settings, Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    let before = running.states().len();
    fake.fail_next_polls(2, Failure::Status(503));
    fake.inject_text("through", "made it");
    running
        .wait(Duration::from_secs(5), "chat after 503s", |running| {
            running.chat_ids().contains(&"through".to_owned())
        })
        .await;
    let since: Vec<ConnectionState> = running.states()[before..]
        .iter()
        .map(|(state, _)| *state)
        .collect();
    assert_eq!(
        since.first(),
        Some(&ConnectionState::Reconnecting),
        "{since:?}"
    );
    assert_eq!(since.last(), Some(&ConnectionState::Connected), "{since:?}");

    // A refused page token: start over from the history, repeating nothing.
    let requests_before = fake.with(|state| state.requests.len());
    fake.fail_next_polls(1, Failure::Status(400));
    fake.inject_text("after-400", "still here");
    running
        .wait(Duration::from_secs(5), "chat after a 400", |running| {
            running.chat_ids().contains(&"after-400".to_owned())
        })
        .await;
    let requests = fake.with(|state| state.requests[requests_before..].to_vec());
    assert!(
        requests
            .iter()
            .skip(1)
            .any(|request| request.starts_with("GET /liveChat/messages")
                && !request.contains("pageToken")),
        "{requests:?}"
    );
    assert_eq!(
        running.chat_ids(),
        ["through", "after-400"],
        "nothing repeated"
    );

    let polls_before = fake.poll_times().len();
    fake.fail_next_polls(1, Failure::RateLimited);
    running
        .wait(Duration::from_secs(5), "polls after the rate limit", |_| {
            fake.poll_times().len() >= polls_before + 3
        })
        .await;
    let polls = fake.poll_times();
    let gaps: Vec<Duration> = polls[polls_before..]
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .collect();
    // rateLimitExceeded: backed off for five retry bases (500 ms), not 50 ms.
    assert!(
        gaps.iter().any(|gap| *gap >= Duration::from_millis(500)),
        "{gaps:?}"
    );
    running.stop().await;
}

/// A whole quota day of the real adapter against the fake, in paused time: YouTube
/// asks for a poll every second (86,400 polls, 432,000 units if obeyed naively); the
/// adapter spreads the 10,000-unit budget over the day instead.
#[tokio::test(start_paused = true)]
async fn a_simulated_day_of_polling_stays_inside_the_daily_quota() {
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: 1000,
        ..FakeYoutubeOptions::default()
    })
    .await;
    let mut settings = settings_for(&fake);
    // From one second after midnight Pacific (2026-01-15 08:00:01 UTC).
    settings.wall_clock = roadie_platform_youtube::WallClock::following_tokio(
        roadie_core::Timestamp(1_768_464_001_000),
    );
    settings.quota_horizon = None;
    settings.request_timeout = Duration::from_secs(30);
    let (adapter, _) = adapter_for(&fake, settings, Arc::default());
    let running = Running::start(&adapter);
    running.wait_connected().await;
    // Until a minute before the reset.
    tokio::time::sleep(Duration::from_secs(24 * 3600 - 120)).await;
    let status = adapter.quota();
    running.stop().await;

    let spent = fake.quota_spent();
    assert!(spent <= 10_000, "spent {spent}");
    assert!(spent >= 9_000, "only {spent} of the budget used");
    assert!(
        status.remaining >= 450,
        "the send reserve is kept: {status:?}"
    );
    let warning = status.warning.clone().expect("a slowdown warning");
    assert!(warning.contains("instead of every 1 s"), "{warning}");
    let polls = fake.poll_times();
    assert!(polls.len() > 1_500, "{} polls", polls.len());
    for pair in polls.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_secs(1));
    }
    let by_method = fake.spent_by_method();
    assert!(by_method["videos.list"] > 1_300, "{by_method:?}");
    assert!(
        !running
            .states()
            .iter()
            .skip(1)
            .any(|(state, _)| *state != ConnectionState::Connected),
        "no failures along the way: {:?}",
        running.states()
    );
}
