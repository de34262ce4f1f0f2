//! Helix against the fake Helix (127.0.0.1:0): subscriptions with their conditions,
//! chat sending and drop reasons, one refresh on 401, 429 back-off; and the outbound
//! chat queue's limits under paused time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::Secret;
use roadie_platform_twitch::chat_queue::{
    ChatSender, LIMIT_PRIVILEGED, LIMIT_REGULAR, OutboundQueue, QueueError,
};
use roadie_platform_twitch::eventsub::SUBSCRIPTION_TYPES;
use roadie_platform_twitch::eventsub::session::{BoxFuture, SubscriptionCreator};
use roadie_platform_twitch::helix::{
    Helix, HelixError, HelixSubscriptionCreator, SentMessage, StaticToken, TokenSource,
};
use roadie_test_support::fake_helix::FakeHelix;

fn helix(fake: &FakeHelix, token: &str) -> Arc<Helix> {
    Arc::new(Helix::new(
        &fake.base_url(),
        "fake-client",
        Arc::new(StaticToken(Secret::new(token))),
    ))
}

#[tokio::test]
async fn every_subscription_is_created_with_its_condition_and_a_forbidden_one_is_skipped() {
    let fake = FakeHelix::start(&["good-token"]).await;
    fake.with(|state| state.forbidden_types.insert("channel.cheer".into()));
    let creator = HelixSubscriptionCreator {
        helix: helix(&fake, "good-token"),
        broadcaster_id: "1337".into(),
        user_id: "1337".into(),
    };
    let active = creator.create("session-abc").await.unwrap();
    assert_eq!(active.len(), SUBSCRIPTION_TYPES.len() - 1);
    assert!(!active.contains(&"channel.cheer".to_owned()));
    let created = fake.with(|state| state.subscriptions.clone());
    assert_eq!(created.len(), SUBSCRIPTION_TYPES.len() - 1);
    for body in &created {
        assert_eq!(body["transport"]["session_id"], "session-abc");
        let expected_version = SUBSCRIPTION_TYPES
            .iter()
            .find(|(kind, _)| *kind == body["type"])
            .unwrap()
            .1;
        assert_eq!(body["version"], expected_version);
        match body["type"].as_str().unwrap() {
            "channel.follow" => assert_eq!(
                body["condition"],
                serde_json::json!({"broadcaster_user_id": "1337", "moderator_user_id": "1337"})
            ),
            "channel.raid" => assert_eq!(
                body["condition"],
                serde_json::json!({"to_broadcaster_user_id": "1337"})
            ),
            "channel.chat.message" => assert_eq!(
                body["condition"],
                serde_json::json!({"broadcaster_user_id": "1337", "user_id": "1337"})
            ),
            _ => assert_eq!(body["condition"]["broadcaster_user_id"], "1337"),
        }
    }
}

#[tokio::test]
async fn chat_reaches_helix_and_a_dropped_message_is_an_error_with_the_reason() {
    let fake = FakeHelix::start(&["good-token"]).await;
    let client = helix(&fake, "good-token");
    let sent = client
        .send_chat_message("1337", "1337", "hello chat", None)
        .await
        .unwrap();
    assert_eq!(sent.message_id, "fake-chat-1");
    let body = fake.with(|state| state.chat_messages[0].clone());
    assert_eq!(
        body,
        serde_json::json!({"broadcaster_id": "1337", "sender_id": "1337", "message": "hello chat"})
    );

    fake.with(|state| {
        state.drop_next_chat = Some((
            "msg_duplicate".into(),
            "Your message is identical to the one you sent within the last 30 seconds.".into(),
        ))
    });
    match client
        .send_chat_message("1337", "1337", "hello chat", None)
        .await
    {
        Err(HelixError::Dropped { code, message }) => {
            assert_eq!(code, "msg_duplicate");
            assert!(message.contains("identical"));
        }
        other => panic!("{other:?}"),
    }
    let user = client.token_user().await.unwrap();
    assert_eq!(
        (user.id.as_str(), user.login.as_str()),
        ("141981764", "twitchdev")
    );
}

/// Hands out `stale` first; a refresh swaps in `fresh` (or fails when `fresh` is None).
struct Rotating {
    current: Mutex<String>,
    fresh: Option<String>,
    refreshes: AtomicUsize,
}

impl TokenSource for Rotating {
    fn current(&self) -> Secret {
        Secret::new(self.current.lock().unwrap().clone())
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Secret, HelixError>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            match &self.fresh {
                Some(fresh) => {
                    *self.current.lock().unwrap() = fresh.clone();
                    Ok(Secret::new(fresh.clone()))
                }
                None => Err(HelixError::AuthRequired(
                    "the refresh token was revoked".into(),
                )),
            }
        })
    }
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_and_a_failed_refresh_means_sign_in_again() {
    let fake = FakeHelix::start(&["fresh-token"]).await;
    let tokens = Arc::new(Rotating {
        current: Mutex::new("expired-token".into()),
        fresh: Some("fresh-token".into()),
        refreshes: AtomicUsize::new(0),
    });
    let client = Helix::new(&fake.base_url(), "fake-client", tokens.clone());
    client
        .send_chat_message("1", "1", "after refresh", None)
        .await
        .unwrap();
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    client
        .send_chat_message("1", "1", "no refresh needed", None)
        .await
        .unwrap();
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);

    let revoked = Arc::new(Rotating {
        current: Mutex::new("expired-token".into()),
        fresh: None,
        refreshes: AtomicUsize::new(0),
    });
    let client = Helix::new(&fake.base_url(), "fake-client", revoked.clone());
    assert!(matches!(
        client.send_chat_message("1", "1", "x", None).await,
        Err(HelixError::AuthRequired(_))
    ));
    assert_eq!(revoked.refreshes.load(Ordering::SeqCst), 1);

    // A refresh that yields a token Twitch still rejects: one retry, then sign-in.
    let useless = Arc::new(Rotating {
        current: Mutex::new("expired-token".into()),
        fresh: Some("also-bad".into()),
        refreshes: AtomicUsize::new(0),
    });
    let client = Helix::new(&fake.base_url(), "fake-client", useless.clone());
    assert!(matches!(
        client.send_chat_message("1", "1", "x", None).await,
        Err(HelixError::AuthRequired(_))
    ));
    assert_eq!(useless.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_429_is_waited_out_and_retried() {
    let fake = FakeHelix::start(&["good-token"]).await;
    fake.with(|state| state.throttle_next = 1);
    let client = helix(&fake, "good-token");
    let started = std::time::Instant::now();
    client
        .send_chat_message("1", "1", "patience", None)
        .await
        .unwrap();
    assert_eq!(fake.with(|state| state.requests), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "did not back off"
    );
    assert_eq!(fake.with(|state| state.chat_messages.len()), 1);
}

/// Records when each message went out (tokio's clock, so paused time works).
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(tokio::time::Instant, String)>>,
}

impl ChatSender for Recorder {
    fn send(&self, text: &str) -> BoxFuture<'_, Result<SentMessage, HelixError>> {
        let text = text.to_owned();
        Box::pin(async move {
            self.sent
                .lock()
                .unwrap()
                .push((tokio::time::Instant::now(), text));
            Ok(SentMessage {
                message_id: "m".into(),
            })
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_100_is_held_to_20_per_30_seconds() {
    let recorder = Arc::new(Recorder::default());
    let (queue, _task) = OutboundQueue::start(recorder.clone(), LIMIT_REGULAR, 200);
    let started = tokio::time::Instant::now();
    let mut waiting = Vec::new();
    for n in 0..100 {
        let queue = queue.clone();
        waiting.push(tokio::spawn(async move {
            queue.send(&format!("message {n}")).await
        }));
    }
    for handle in waiting {
        handle.await.unwrap().unwrap();
    }
    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 100);
    let times: Vec<Duration> = sent.iter().map(|(at, _)| *at - started).collect();
    for (index, at) in times.iter().enumerate() {
        let in_window = times
            .iter()
            .filter(|other| **other >= *at && **other < *at + Duration::from_secs(30))
            .count();
        assert!(
            in_window <= 20,
            "{in_window} messages in the 30 s after message {index}"
        );
    }
    // Five windows' worth: the last goes out 120 s after the first.
    assert_eq!(times[99], Duration::from_secs(120));
    assert_eq!(times[19], Duration::ZERO);
    assert_eq!(times[20], Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_moderator_sends_100_at_once_and_long_text_is_split_or_refused() {
    let recorder = Arc::new(Recorder::default());
    let (queue, _task) = OutboundQueue::start(recorder.clone(), LIMIT_PRIVILEGED, 200);
    let started = tokio::time::Instant::now();
    for n in 0..100 {
        queue.send(&format!("message {n}")).await.unwrap();
    }
    assert!(
        recorder
            .sent
            .lock()
            .unwrap()
            .iter()
            .all(|(at, _)| *at == started)
    );

    let long = "word ".repeat(150);
    let parts = queue.send(&long).await.unwrap();
    assert_eq!(parts.len(), 2);
    let sent = recorder.sent.lock().unwrap().clone();
    assert!(sent[100].1.chars().count() <= 500 && sent[101].1.chars().count() <= 500);
    assert_eq!(format!("{} {}", sent[100].1, sent[101].1), long.trim());
    match queue.send(&"x".repeat(600)).await {
        Err(QueueError::Refused(reason)) => assert!(reason.contains("600"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rewards_are_created_listed_updated_and_their_redemptions_finished() {
    use roadie_platform_twitch::helix::RewardChanges;
    let fake = FakeHelix::start(&["good-token"]).await;
    fake.add_foreign_reward("made-on-twitch", "Hydrate");
    let client = helix(&fake, "good-token");

    let refused = client
        .create_reward(
            "1337",
            &RewardChanges {
                title: Some("  ".into()),
                cost: Some(10),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(refused, Err(HelixError::Api { status: 400, .. })));
    let created = client
        .create_reward(
            "1337",
            &RewardChanges {
                title: Some("Play a sound".into()),
                cost: Some(500),
                is_user_input_required: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            created.title.as_str(),
            created.cost,
            created.is_user_input_required
        ),
        ("Play a sound", 500, true)
    );
    let own = client.own_rewards("1337").await.unwrap();
    assert_eq!(
        own.iter()
            .map(|reward| reward.id.as_str())
            .collect::<Vec<_>>(),
        vec![created.id.as_str()],
        "only Roadie's own rewards"
    );

    let updated = client
        .update_reward(
            "1337",
            &created.id,
            &RewardChanges {
                cost: Some(750),
                is_paused: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.cost, updated.is_paused, updated.title.as_str()),
        (750, true, "Play a sound")
    );

    client
        .finish_redemption("1337", &created.id, "redemption-1", true)
        .await
        .unwrap();
    client
        .finish_redemption("1337", &created.id, "redemption-2", false)
        .await
        .unwrap();
    assert_eq!(
        fake.with(|state| state.redemption_updates.clone()),
        vec![
            (
                "redemption-1".to_owned(),
                created.id.clone(),
                "FULFILLED".to_owned()
            ),
            (
                "redemption-2".to_owned(),
                created.id.clone(),
                "CANCELED".to_owned()
            )
        ]
    );

    // A reward made elsewhere: the error says why Roadie cannot touch it.
    for result in [
        client
            .update_reward(
                "1337",
                "made-on-twitch",
                &RewardChanges {
                    cost: Some(1),
                    ..Default::default()
                },
            )
            .await
            .map(|_| ()),
        client
            .finish_redemption("1337", "made-on-twitch", "redemption-3", true)
            .await,
    ] {
        match result {
            Err(HelixError::Api {
                status: 403,
                message,
            }) => assert!(
                message.contains("only the app that created a reward"),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
