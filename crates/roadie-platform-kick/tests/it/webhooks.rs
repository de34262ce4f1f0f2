//! Signed webhooks: Kick's real test vector verifies and any one-byte change fails;
//! stale timestamps and replayed ids are refused; events heard on both routes count
//! once; and nothing is ingested while the adapter is not running.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use roadie_core::EventKind;
use roadie_platform_kick::normalise::parse_time;
use roadie_platform_kick::webhook::{
    TIMESTAMP_TOLERANCE, WebhookError, WebhookGuard, WebhookHeaders, parse_public_key,
    verify_signature,
};
use roadie_test_support::fake_kick::{FakeKick, SignedWebhook};
use serde_json::{Value, json};

use crate::{MemoryStore, Running, adapter_with, chat_ids, data, data_bytes, settings, wait_for};

fn vector() -> (WebhookHeaders, Vec<u8>) {
    let vector: Value =
        serde_json::from_str(&data("kick_webhook_signature_test_vector.json")).unwrap();
    let header = |name: &str| vector[name].as_str().unwrap().to_owned();
    let headers = WebhookHeaders {
        message_id: header("Kick-Event-Message-Id"),
        subscription_id: header("Kick-Event-Subscription-Id"),
        signature: header("Kick-Event-Signature"),
        timestamp: header("Kick-Event-Message-Timestamp"),
        event_type: header("Kick-Event-Type"),
        event_version: header("Kick-Event-Version"),
    };
    // The raw bytes: the signature covers them exactly.
    (
        headers,
        data_bytes("kick_webhook_REAL_livestream.status.updated_signed_body.json"),
    )
}

fn system_time(rfc3339: &str) -> SystemTime {
    let ms = parse_time(rfc3339).unwrap().unix_ms();
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms as u64)
}

fn headers_of(signed: &SignedWebhook) -> WebhookHeaders {
    WebhookHeaders {
        message_id: signed.message_id.clone(),
        subscription_id: signed.subscription_id.clone(),
        signature: signed.signature.clone(),
        timestamp: signed.timestamp.clone(),
        event_type: signed.event_type.clone(),
        event_version: signed.event_version.clone(),
    }
}

#[test]
fn kicks_real_signature_verifies_and_one_byte_changes_fail() {
    let key = parse_public_key(&data("kick_webhook_public_key.pem")).unwrap();
    let (headers, body) = vector();
    verify_signature(&key, &headers, &body).unwrap();

    let mut changed_body = body.clone();
    changed_body[20] ^= 0x01;
    assert_eq!(
        verify_signature(&key, &headers, &changed_body),
        Err(WebhookError::BadSignature)
    );
    let mut longer_body = body.clone();
    longer_body.push(b'\n');
    assert_eq!(
        verify_signature(&key, &headers, &longer_body),
        Err(WebhookError::BadSignature)
    );

    let mut changed_id = headers.clone();
    changed_id.message_id.replace_range(0..1, "1");
    assert_ne!(changed_id.message_id, headers.message_id);
    assert_eq!(
        verify_signature(&key, &changed_id, &body),
        Err(WebhookError::BadSignature)
    );

    let mut changed_time = headers.clone();
    changed_time.timestamp = headers.timestamp.replace(":19Z", ":18Z");
    assert_ne!(changed_time.timestamp, headers.timestamp);
    assert_eq!(
        verify_signature(&key, &changed_time, &body),
        Err(WebhookError::BadSignature)
    );

    let mut changed_signature = headers.clone();
    changed_signature.signature.replace_range(0..1, "g");
    assert_eq!(
        verify_signature(&key, &changed_signature, &body),
        Err(WebhookError::BadSignature)
    );
    let mut not_base64 = headers.clone();
    not_base64.signature = "%%%".into();
    assert_eq!(
        verify_signature(&key, &not_base64, &body),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn stale_timestamps_and_replayed_ids_are_refused() {
    let key = parse_public_key(&data("kick_webhook_public_key.pem")).unwrap();
    let (headers, body) = vector();
    let sent = system_time("2025-04-01T07:56:19Z");
    let mut guard = WebhookGuard::new(64, TIMESTAMP_TOLERANCE);
    assert!(matches!(
        guard.check(&key, &headers, &body, sent + Duration::from_secs(301)),
        Err(WebhookError::Stale { .. })
    ));
    assert!(matches!(
        guard.check(&key, &headers, &body, sent - Duration::from_secs(301)),
        Err(WebhookError::Stale { .. })
    ));
    // A forged copy does not use up the real delivery's id.
    let mut forged = body.clone();
    forged[30] ^= 0x02;
    assert_eq!(
        guard.check(&key, &headers, &forged, sent),
        Err(WebhookError::BadSignature)
    );
    guard
        .check(&key, &headers, &body, sent + Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        guard.check(&key, &headers, &body, sent + Duration::from_secs(11)),
        Err(WebhookError::Replayed(headers.message_id.clone()))
    );
    let mut missing = headers.clone();
    missing.signature.clear();
    assert_eq!(
        guard.check(&key, &missing, &body, sent),
        Err(WebhookError::MissingHeader("Kick-Event-Signature"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_ingests_the_real_delivery_with_an_injected_key() {
    let fake = FakeKick::start().await;
    let mut settings = settings(&fake);
    settings.webhook_public_key = Some(data("kick_webhook_public_key.pem"));
    let running = Running::start_with(fake, settings).await;
    let (headers, body) = vector();
    let now = system_time("2025-04-01T07:56:29Z");
    assert_eq!(
        running.adapter.ingest_webhook(&headers, &body, now).await,
        Ok(1)
    );
    assert_eq!(
        running.kinds(),
        [EventKind::StreamOnline {
            title: Some("Multiplatform bot!".into()),
            category: None
        }]
    );
    assert_eq!(
        running.sink.events.lock().unwrap()[0].at,
        parse_time("2025-04-01T07:56:18Z").unwrap()
    );
    assert_eq!(
        running.adapter.ingest_webhook(&headers, &body, now).await,
        Err(WebhookError::Replayed(headers.message_id.clone()))
    );
    // Now, years later, the same capture is stale.
    let replay = running
        .adapter
        .ingest_webhook(&headers, &body, SystemTime::now())
        .await;
    assert!(
        matches!(replay, Err(WebhookError::Stale { .. })),
        "{replay:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_fetched_from_kick_and_deliveries_are_checked() {
    let running = Running::start(FakeKick::start().await).await;
    let body = data("kick_webhook_channel.followed.json");
    let signed = running.fake.sign_webhook("channel.followed", &body);
    let now = SystemTime::now();
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), now)
            .await,
        Ok(1)
    );
    assert!(matches!(&running.kinds()[0], EventKind::Follow { user } if user.id == "987654321"));
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), now)
            .await,
        Err(WebhookError::Replayed(signed.message_id.clone()))
    );
    let tampered = body.replace("follower_name", "someone_else");
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), tampered.as_bytes(), now)
            .await,
        Err(WebhookError::BadSignature)
    );
    // Signed six minutes ago, or six minutes ahead.
    for offset in [-360, 360] {
        let stamp = time_text(now, offset);
        let signed = running.fake.sign_webhook_as(
            "channel.followed",
            &body,
            &format!("01OLD{offset}"),
            &stamp,
        );
        let refused = running
            .adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), now)
            .await;
        assert!(
            matches!(refused, Err(WebhookError::Stale { .. })),
            "{offset}: {refused:?}"
        );
    }
    // Four minutes off is within the window.
    let stamp = time_text(now, -240);
    let signed = running.fake.sign_webhook_as(
        "kicks.gifted",
        &data("kick_webhook_kicks.gifted.json"),
        "01RECENT",
        &stamp,
    );
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), signed.body.as_bytes(), now)
            .await,
        Ok(1)
    );
    // A verified body that is not what its type says is refused as malformed.
    let signed = running
        .fake
        .sign_webhook("chat.message.sent", "{\"content\": 5}");
    assert!(matches!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), signed.body.as_bytes(), now)
            .await,
        Err(WebhookError::Malformed(_))
    ));
    running.stop().await;
}

fn time_text(now: SystemTime, offset_s: i64) -> String {
    let seconds = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset_s;
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_heard_on_both_routes_is_emitted_once() {
    let running = Running::start(FakeKick::start().await).await;
    let fake = &running.fake;
    let now = SystemTime::now();

    // Chat: Pusher first, then the webhook with the same message id.
    fake.inject_chat("both-routes-1", "hello twice");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink) == ["both-routes-1"]
    })
    .await;
    let mut chat: Value =
        serde_json::from_str(&data("kick_webhook_chat.message.sent.json")).unwrap();
    chat["message_id"] = json!("both-routes-1");
    let body = chat.to_string();
    let signed = fake.sign_webhook("chat.message.sent", &body);
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), now)
            .await,
        Ok(0)
    );

    // Follow: the webhook first, then Pusher (which names the follower only).
    let body = data("kick_webhook_channel.followed.json");
    let signed = fake.sign_webhook("channel.followed", &body);
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), now)
            .await,
        Ok(1)
    );
    fake.push_event(
        "App\\Events\\FollowersUpdated",
        &fake.channel_channel(),
        &json!({"followersCount": 3, "channel_id": 1174682, "username": "follower_name", "followed": true}),
    );

    // A ban both ways (the same user id).
    fake.push_event(
        "App\\Events\\UserBannedEvent",
        &fake.chat_channel(),
        &json!({"id": "ban-1", "user": {"id": 135790135, "username": "banned_user_name", "slug": "banned_user_channel"},
                "banned_by": {"id": 987654321, "username": "moderator_name", "slug": "moderator_channel"}, "permanent": true}),
    );
    fake.inject_chat("marker", "after everything");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink).contains(&"marker".to_owned())
    })
    .await;
    let body = data("kick_webhook_moderation.banned_permanent.json");
    let signed = fake.sign_webhook("moderation.banned", &body);
    assert_eq!(
        running
            .adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), now)
            .await,
        Ok(0)
    );

    let kinds = running.kinds();
    assert_eq!(chat_ids(&running.sink), ["both-routes-1", "marker"]);
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| matches!(kind, EventKind::Follow { .. }))
            .count(),
        1,
        "{kinds:#?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| matches!(kind, EventKind::UserBanned { .. }))
            .count(),
        1,
        "{kinds:#?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_ingested_while_not_running() {
    let fake = FakeKick::start().await;
    let (adapter, _, _) = adapter_with(&fake, settings(&fake), Arc::new(MemoryStore::default()));
    let body = data("kick_webhook_channel.followed.json");
    let signed = fake.sign_webhook("channel.followed", &body);
    assert_eq!(
        adapter
            .ingest_webhook(&headers_of(&signed), body.as_bytes(), SystemTime::now())
            .await,
        Err(WebhookError::NotRunning)
    );
}

/// Waits for `check` on the fake's state.
async fn wait_for_fake(
    fake: &FakeKick,
    mut check: impl FnMut(&roadie_test_support::fake_kick::KickState) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check(&fake.state.lock().unwrap()) {
        assert!(tokio::time::Instant::now() < deadline, "not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_events_are_subscribed_once_and_refusals_leave_the_feed_running() {
    use roadie_platform_kick::subscriptions::WEBHOOK_EVENTS;

    let fake = FakeKick::start().await;
    fake.state.lock().unwrap().refused_events.insert(
        "kicks.gifted".into(),
        "webhooks are not enabled for app".into(),
    );
    let mut with_webhooks = settings(&fake);
    with_webhooks.subscribe_webhooks = true;
    let running = Running::start_with(fake, with_webhooks.clone()).await;
    wait_for_fake(&running.fake, |state| !state.subscribe_requests.is_empty()).await;
    let (request, listed) = {
        let state = running.fake.state.lock().unwrap();
        (
            state.subscribe_requests[0].clone(),
            state.event_subscriptions.clone(),
        )
    };
    assert_eq!(request["method"], "webhook");
    assert_eq!(
        request["broadcaster_user_id"],
        json!(running.fake.options().user_id)
    );
    let asked: Vec<&str> = request["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(asked, WEBHOOK_EVENTS);
    assert_eq!(listed.len(), WEBHOOK_EVENTS.len() - 1);
    // The feed keeps running whatever Kick refused.
    running.fake.inject_chat("after-subscribing", "still here");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink).contains(&"after-subscribing".to_owned())
    })
    .await;
    running.stop().await;

    // Started again (a daemon restart): only the missing event is asked for.
    let fake = FakeKick::start().await;
    fake.state.lock().unwrap().event_subscriptions = listed;
    let mut with_webhooks = settings(&fake);
    with_webhooks.subscribe_webhooks = true;
    let running = Running::start_with(fake, with_webhooks).await;
    wait_for_fake(&running.fake, |state| !state.subscribe_requests.is_empty()).await;
    let request = running.fake.state.lock().unwrap().subscribe_requests[0].clone();
    assert_eq!(
        request["events"],
        json!([{"name": "kicks.gifted", "version": 1}])
    );
    assert_eq!(
        running.fake.state.lock().unwrap().event_subscriptions.len(),
        WEBHOOK_EVENTS.len()
    );
    running.stop().await;

    // Without `webhook = true` nothing is subscribed.
    let running = Running::start(FakeKick::start().await).await;
    running.fake.inject_chat("no-webhooks", "feed only");
    wait_for(&running.sink, Duration::from_secs(5), |sink| {
        chat_ids(sink).contains(&"no-webhooks".to_owned())
    })
    .await;
    assert!(
        running
            .fake
            .state
            .lock()
            .unwrap()
            .subscribe_requests
            .is_empty()
    );
    running.stop().await;
}
