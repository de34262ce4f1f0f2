//! Every Twitch EventSub fixture (real payloads, see data/SOURCES.md) decodes and
//! yields the SPEC event with the right fields. One table, one row per file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use roadie_core::{CheerUnit, EventKind, RedemptionStatus, Reward, Role, User};
use roadie_platform_twitch::eventsub::frame::parse_chat_fast;
use roadie_platform_twitch::eventsub::normalise::ChatMessageSeed;
use roadie_platform_twitch::eventsub::{DedupWindow, Frame, Normaliser, parse_frame};
use serde_json::value::RawValue;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn user(id: &str, login: &str, name: &str, roles: &[Role]) -> User {
    User {
        id: id.into(),
        login: login.into(),
        name: name.into(),
        roles: roles.to_vec(),
    }
}

/// Normalises a fixture: a full WebSocket frame, or a `{subscription, event}` payload.
fn normalise(name: &str, normaliser: &Normaliser) -> Vec<EventKind> {
    let text = data(name);
    if name.starts_with("twitch_eventsub_ws_") {
        match parse_frame(&text).unwrap() {
            Frame::Notification {
                subscription,
                event,
                metadata,
            } => {
                assert_eq!(
                    metadata.subscription_type.as_deref(),
                    Some(subscription.kind.as_ref())
                );
                let slow = normaliser.normalise(&subscription.kind, event).unwrap();
                // Chat takes the one-pass path in the daemon: it must agree.
                if let Some((fast_metadata, fast)) = parse_chat_fast(&text, ChatMessageSeed) {
                    assert_eq!(fast_metadata, metadata, "{name}");
                    assert_eq!(vec![fast], slow, "{name}");
                }
                slow
            }
            other => panic!("{name} is not a notification: {other:?}"),
        }
    } else {
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let kind = value["subscription"]["type"].as_str().unwrap().to_owned();
        let event = RawValue::from_string(value["event"].to_string()).unwrap();
        normaliser.normalise(&kind, &event).unwrap()
    }
}

#[test]
fn every_notification_fixture_yields_its_spec_event() {
    let viewer32 = user(
        "4145994",
        "viewer32",
        "viewer32",
        &[Role::Moderator, Role::Subscriber],
    );
    let cool_user = user("1234", "cool_user", "Cool_User", &[]);
    let table: Vec<(&str, Vec<EventKind>)> = vec![
        (
            "twitch_eventsub_payload_channel.chat.message.json",
            vec![EventKind::ChatMessage {
                message_id: "cc106a89-1814-919d-454c-f4f2f970aae7".into(),
                user: viewer32.clone(),
                text: "Hi chat".into(),
                reply_to: None,
            }],
        ),
        (
            "twitch_eventsub_ws_notification_channel.chat.message.json",
            vec![EventKind::ChatMessage {
                message_id: "cc106a89-1814-919d-454c-f4f2f970aae7".into(),
                user: viewer32,
                text: "Hi chat".into(),
                reply_to: None,
            }],
        ),
        // An announcement has no dedicated type: it is a chat line.
        (
            "twitch_eventsub_payload_channel.chat.notification.json",
            vec![EventKind::ChatMessage {
                message_id: "ab24e0b0-2260-4bac-94e4-05eedd4ecd0e".into(),
                user: user(
                    "444",
                    "cool_chatter",
                    "Cool_Chatter",
                    &[Role::Moderator, Role::Subscriber],
                ),
                text: "chat-msg".into(),
                reply_to: None,
            }],
        ),
        (
            "twitch_eventsub_payload_channel.follow_v2.json",
            vec![EventKind::Follow {
                user: cool_user.clone(),
            }],
        ),
        (
            "twitch_eventsub_ws_notification_channel.follow_v1.json",
            vec![EventKind::Follow {
                user: user("1337", "awesome_user", "Awesome_User", &[]),
            }],
        ),
        (
            "twitch_eventsub_payload_channel.subscribe.json",
            vec![EventKind::Subscription {
                user: cool_user.clone(),
                tier: "1000".into(),
                months: None,
                message: None,
            }],
        ),
        (
            "twitch_eventsub_payload_channel.subscription.gift.json",
            vec![EventKind::SubscriptionGift {
                gifter: Some(cool_user.clone()),
                count: 2,
                tier: "1000".into(),
            }],
        ),
        (
            "twitch_eventsub_payload_channel.cheer.json",
            vec![EventKind::Cheer {
                user: Some(cool_user.clone()),
                amount: 1000,
                unit: CheerUnit::Bits,
                message: Some("pogchamp".into()),
            }],
        ),
        (
            "twitch_eventsub_payload_channel.raid.json",
            vec![EventKind::Raid {
                from: cool_user,
                viewers: 9001,
            }],
        ),
        (
            "twitch_eventsub_payload_channel.channel_points_custom_reward_redemption.add.json",
            vec![EventKind::Redemption {
                redemption_id: "17fa2df1-ad76-4804-bfa5-a40ef63efe63".into(),
                user: user("9001", "cooler_user", "Cooler_User", &[]),
                reward: Reward {
                    id: "92af127c-7326-4483-a52b-b0da0be61c01".into(),
                    title: "title".into(),
                    cost: 100,
                },
                input: Some("pogchamp".into()),
                status: RedemptionStatus::Unfulfilled,
            }],
        ),
        (
            "twitch_eventsub_payload_channel.update.json",
            vec![EventKind::StreamUpdated {
                title: Some("Best Stream Ever".into()),
                category: Some("Grand Theft Auto".into()),
            }],
        ),
        (
            "twitch_eventsub_payload_stream.online.json",
            vec![EventKind::StreamOnline {
                title: None,
                category: None,
            }],
        ),
        (
            "twitch_eventsub_ws_notification_stream.online.json",
            vec![EventKind::StreamOnline {
                title: None,
                category: None,
            }],
        ),
        (
            "twitch_eventsub_payload_stream.offline.json",
            vec![EventKind::StreamOffline {
                title: None,
                category: None,
            }],
        ),
        (
            "twitch_eventsub_ws_notification_stream.offline.json",
            vec![EventKind::StreamOffline {
                title: None,
                category: None,
            }],
        ),
    ];
    let normaliser = Normaliser::all_active();
    let mut covered: Vec<&str> = Vec::new();
    for (name, expected) in &table {
        assert_eq!(&normalise(name, &normaliser), expected, "{name}");
        covered.push(name);
    }
    // Every notification fixture in data/ is in the table.
    for entry in std::fs::read_dir(format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let is_notification = name.starts_with("twitch_eventsub_payload_")
            || name.starts_with("twitch_eventsub_ws_notification_");
        if is_notification {
            assert!(
                covered.contains(&name.as_str()),
                "{name} has no row in the table"
            );
        }
    }
}

#[test]
fn session_frames_decode() {
    match parse_frame(&data("twitch_eventsub_ws_session_welcome.json")).unwrap() {
        Frame::Welcome { session, .. } => {
            assert_eq!(session.id, "AQoQILE98gtqShGmLD7AM6yJThAB");
            assert_eq!(session.keepalive_timeout_seconds, Some(10));
            assert_eq!(session.reconnect_url, None);
        }
        other => panic!("{other:?}"),
    }
    match parse_frame(&data("twitch_eventsub_ws_session_reconnect.json")).unwrap() {
        Frame::Reconnect { session, .. } => assert_eq!(
            session.reconnect_url.as_deref(),
            Some("wss://eventsub.wss.twitch.tv?...")
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_frame(&data("twitch_eventsub_ws_session_keepalive.json")).unwrap(),
        Frame::Keepalive { .. }
    ));
    match parse_frame(&data("twitch_eventsub_ws_revocation.json")).unwrap() {
        Frame::Revocation { subscription, .. } => {
            assert_eq!(subscription.kind, "channel.follow");
            assert_eq!(subscription.status, "authorization_revoked");
        }
        other => panic!("{other:?}"),
    }
}

/// The real announcement notice with its notice type switched to `resub`, filled in
/// with the resub object's documented fields.
fn resub_notice() -> Box<RawValue> {
    let mut value: serde_json::Value = serde_json::from_str(&data(
        "twitch_eventsub_payload_channel.chat.notification.json",
    ))
    .unwrap();
    let event = &mut value["event"];
    event["notice_type"] = "resub".into();
    event["announcement"] = serde_json::Value::Null;
    event["resub"] = serde_json::json!({
        "cumulative_months": 16, "duration_months": 1, "streak_months": null, "sub_tier": "2000",
        "is_prime": false, "is_gift": false, "gifter_is_anonymous": null, "gifter_user_id": null,
        "gifter_user_name": null, "gifter_user_login": null
    });
    RawValue::from_string(event.to_string()).unwrap()
}

#[test]
fn a_resub_is_counted_once_whichever_subscription_reports_it() {
    // With channel.subscription.message active, the chat notice is not an event...
    let both = Normaliser::all_active();
    assert!(
        both.normalise("channel.chat.notification", &resub_notice())
            .unwrap()
            .is_empty()
    );
    // ... and without it, the notice is the one event.
    let chat_only = Normaliser::new(["channel.chat.message", "channel.chat.notification"]);
    let events = chat_only
        .normalise("channel.chat.notification", &resub_notice())
        .unwrap();
    assert_eq!(events.len(), 1);
    match &events[0] {
        EventKind::Subscription {
            user, tier, months, ..
        } => {
            assert_eq!(
                (user.login.as_str(), tier.as_str(), *months),
                ("cool_chatter", "2000", Some(16))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gift_recipients_are_not_counted_again_and_anonymous_gifters_are_null() {
    let normaliser = Normaliser::all_active();
    let mut subscribe: serde_json::Value =
        serde_json::from_str(&data("twitch_eventsub_payload_channel.subscribe.json")).unwrap();
    subscribe["event"]["is_gift"] = true.into();
    let event = RawValue::from_string(subscribe["event"].to_string()).unwrap();
    assert!(
        normaliser
            .normalise("channel.subscribe", &event)
            .unwrap()
            .is_empty()
    );

    let mut gift: serde_json::Value = serde_json::from_str(&data(
        "twitch_eventsub_payload_channel.subscription.gift.json",
    ))
    .unwrap();
    gift["event"]["is_anonymous"] = true.into();
    for field in ["user_id", "user_login", "user_name"] {
        gift["event"][field] = serde_json::Value::Null;
    }
    let event = RawValue::from_string(gift["event"].to_string()).unwrap();
    assert_eq!(
        normaliser
            .normalise("channel.subscription.gift", &event)
            .unwrap(),
        vec![EventKind::SubscriptionGift {
            gifter: None,
            count: 2,
            tier: "1000".into()
        }]
    );
}

#[test]
fn a_redelivered_notification_yields_one_event() {
    let normaliser = Normaliser::all_active();
    let frame = data("twitch_eventsub_ws_notification_channel.chat.message.json");
    let mut window = DedupWindow::new(1024);
    let mut events = Vec::new();
    for _ in 0..3 {
        if let Frame::Notification {
            metadata,
            subscription,
            event,
        } = parse_frame(&frame).unwrap()
            && window.first_seen(&metadata.message_id)
        {
            events.extend(normaliser.normalise(&subscription.kind, event).unwrap());
        }
    }
    assert_eq!(events.len(), 1);
}

#[test]
fn a_notification_with_the_wrong_shape_is_an_error_not_a_panic() {
    let normaliser = Normaliser::all_active();
    let event = RawValue::from_string(r#"{"user_id": 5}"#.into()).unwrap();
    for (kind, _) in roadie_platform_twitch::eventsub::SUBSCRIPTION_TYPES {
        let _ = normaliser.normalise(kind, &event);
    }
    assert!(normaliser.normalise("channel.follow", &event).is_err());
    assert!(normaliser.normalise("channel.cheer", &event).is_err());
}

#[test]
fn chat_takes_the_one_pass_path_in_any_key_order_and_agrees_with_the_full_parse() {
    let text = data("twitch_eventsub_ws_notification_channel.chat.message.json");
    let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
    let slow = |text: &str| match parse_frame(text).unwrap() {
        Frame::Notification {
            subscription,
            event,
            ..
        } => Normaliser::default()
            .normalise(&subscription.kind, event)
            .unwrap(),
        other => panic!("not a notification: {other:?}"),
    };
    // As Twitch sends it (metadata first): one pass, same event.
    let (_, fast) = parse_chat_fast(&text, ChatMessageSeed).expect("the real frame is fast");
    assert_eq!(vec![fast], slow(&text));
    // Sorted keys put `event` before `subscription`: still one pass.
    let sorted = frame.to_string();
    let (_, fast) = parse_chat_fast(&sorted, ChatMessageSeed).expect("sorted keys are fast");
    assert_eq!(vec![fast], slow(&sorted));
    // Payload first: the full parse decides.
    let payload_first = format!(
        r#"{{"payload":{},"metadata":{}}}"#,
        frame["payload"], frame["metadata"]
    );
    assert!(parse_chat_fast(&payload_first, ChatMessageSeed).is_none());
    assert_eq!(slow(&payload_first), slow(&text));
    // A broken chat body, other types, trailing garbage: not fast; the full parse reports.
    let mut broken = frame.clone();
    broken["payload"]["event"]["message"] = serde_json::json!(7);
    assert!(parse_chat_fast(&broken.to_string(), ChatMessageSeed).is_none());
    let mut follow = frame.clone();
    follow["metadata"]["subscription_type"] = serde_json::json!("channel.follow");
    assert!(parse_chat_fast(&follow.to_string(), ChatMessageSeed).is_none());
    assert!(parse_chat_fast(&format!("{text} x"), ChatMessageSeed).is_none());
    let keepalive = data("twitch_eventsub_ws_session_keepalive.json");
    assert!(parse_chat_fast(&keepalive, ChatMessageSeed).is_none());
}
