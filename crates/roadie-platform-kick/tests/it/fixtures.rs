//! Every Kick Pusher and webhook fixture (real or documented payloads, see
//! data/SOURCES.md) yields the SPEC event with the right fields. One table, one row per
//! file; the docs' `.txt`/`.jsonc` examples are read after stripping their comments and
//! trailing commas, with the event type taken from their `Kick-Event-Type` line.

use roadie_core::{CheerUnit, EventKind, RedemptionStatus, Reward, Role, Timestamp, User};
use roadie_platform_kick::normalise::{SUB_TIER, parse_time, pusher_event};
use roadie_platform_kick::pusher::{PusherFrame, parse_frame};
use roadie_platform_kick::webhook::parse_body;

use crate::data;

fn user(id: &str, login: &str, name: &str, roles: &[Role]) -> User {
    User {
        id: id.into(),
        login: login.into(),
        name: name.into(),
        roles: roles.to_vec(),
    }
}

/// The docs' JSON-like text as JSON: the part from the first line starting with `{`,
/// without `//` comments (outside strings) and trailing commas.
fn jsonc_to_json(text: &str) -> String {
    let start = text
        .lines()
        .position(|line| line.starts_with('{'))
        .unwrap_or(0);
    let body: Vec<&str> = text.lines().skip(start).collect();
    let body = body.join("\n");
    let mut without_comments = String::new();
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            without_comments.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '/' && chars.peek() == Some(&'/') {
            for skipped in chars.by_ref() {
                if skipped == '\n' {
                    without_comments.push('\n');
                    break;
                }
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        without_comments.push(c);
    }
    let chars: Vec<char> = without_comments.chars().collect();
    let mut json = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for (index, c) in chars.iter().enumerate() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if *c == '"' {
            in_string = true;
        } else if *c == ','
            && chars[index + 1..]
                .iter()
                .find(|next| !next.is_whitespace())
                .is_some_and(|next| *next == '}' || *next == ']')
        {
            continue;
        }
        json.push(*c);
    }
    json
}

/// The `Kick-Event-Type` a docs example names in its header lines.
fn docs_event_type(text: &str) -> String {
    text.lines()
        .find_map(|line| line.trim().strip_prefix("- Kick-Event-Type:"))
        .map(|value| {
            value
                .trim()
                .trim_matches(|c| c == '"' || c == '“' || c == '”')
                .to_owned()
        })
        .unwrap()
}

/// Normalises one fixture: a Pusher frame, or a webhook body of `event_type` (from the
/// row, or from the docs example's header).
fn normalise(file: &str, event_type: Option<&str>) -> Vec<(EventKind, Option<Timestamp>)> {
    let text = data(file);
    let events = if file.starts_with("kick_pusher_") {
        match parse_frame(&text).unwrap() {
            PusherFrame::Event { event, data, .. } => pusher_event(&event, &data).unwrap(),
            other => panic!("{file} is not an event frame: {other:?}"),
        }
    } else if file.ends_with(".txt") || file.ends_with(".jsonc") {
        let kind = event_type
            .map(str::to_owned)
            .unwrap_or_else(|| docs_event_type(&text));
        parse_body(&kind, jsonc_to_json(&text).as_bytes()).unwrap()
    } else {
        parse_body(event_type.unwrap(), text.as_bytes()).unwrap()
    };
    events
        .into_iter()
        .map(|event| (event.kind, event.at))
        .collect()
}

#[test]
fn every_kick_fixture_yields_its_spec_event() {
    let follower = user("987654321", "follower_channel", "follower_name", &[]);
    let subscriber = user("987654321", "subscriber_channel", "subscriber_name", &[]);
    let gifter = user("987654321", "gifter_channel", "gifter_name", &[]);
    let kicker = user("987654321", "gift_sender_channel", "gift_sender", &[]);
    let banned = user("135790135", "banned_user_channel", "banned_user_name", &[]);
    let chatter = user(
        "987654321",
        "sender_channel",
        "sender_name",
        &[Role::Moderator, Role::Subscriber],
    );
    let emote_text = "Hello [emote:4148074:HYPERCLAP] [emote:4148074:HYPERCLAP] [emote:37226:KEKW]";
    let redemption = EventKind::Redemption {
        redemption_id: "01KBHE78QE4HZY1617DK5FC7YD".into(),
        user: user("123", "naughty_user", "naughty-user", &[]),
        reward: Reward {
            id: "01KBHE7RZNHB0SKDV1H86CD4F3".into(),
            title: "Uban Request".into(),
            cost: 1000,
        },
        input: Some("unban me".into()),
        status: RedemptionStatus::Canceled,
    };
    let gift = EventKind::SubscriptionGift {
        gifter: Some(gifter),
        count: 1,
        tier: SUB_TIER.into(),
    };
    let subscription = |months| EventKind::Subscription {
        user: subscriber.clone(),
        tier: SUB_TIER.into(),
        months: Some(months),
        message: None,
    };
    let kicks = EventKind::Cheer {
        user: Some(kicker),
        amount: 500,
        unit: CheerUnit::Kicks,
        message: Some("w".into()),
    };
    let updated = EventKind::StreamUpdated {
        title: Some("Stream Title".into()),
        category: Some("Category name".into()),
    };
    let online = EventKind::StreamOnline {
        title: Some("Stream Title".into()),
        category: None,
    };
    let offline = EventKind::StreamOffline {
        title: Some("Stream Title".into()),
        category: None,
    };
    // (file, webhook type when not in the file, event)
    let table: Vec<(&str, Option<&str>, EventKind)> = vec![
        (
            "kick_pusher_ChatMessageEvent_badges.json",
            None,
            EventKind::ChatMessage {
                message_id: "c0c85e41-2d34-45f4-9b57-bc7799245858".into(),
                user: user(
                    "2789967",
                    "virtualmeal",
                    "virtualmeal",
                    &[Role::Moderator, Role::Subscriber],
                ),
                text: "corsette is crazy".into(),
                reply_to: None,
            },
        ),
        // Kick's host is the raid.
        (
            "kick_pusher_StreamHostedEvent_REAL.json",
            None,
            EventKind::Raid {
                from: user("2341810", "abc", "ABC", &[]),
                viewers: 8,
            },
        ),
        (
            "kick_webhook_REAL_livestream.status.updated_signed_body.json",
            Some("livestream.status.updated"),
            EventKind::StreamOnline {
                title: Some("Multiplatform bot!".into()),
                category: None,
            },
        ),
        (
            "kick_webhook_chat.message.sent.json",
            Some("chat.message.sent"),
            EventKind::ChatMessage {
                message_id: "unique_message_id_123".into(),
                user: chatter.clone(),
                text: emote_text.into(),
                reply_to: None,
            },
        ),
        (
            "kick_webhook_docs_chat.message.sent.txt",
            None,
            EventKind::ChatMessage {
                message_id: "unique_message_id_123".into(),
                user: chatter,
                text: emote_text.into(),
                reply_to: Some("unique_message_id_456".into()),
            },
        ),
        (
            "kick_webhook_channel.followed.json",
            Some("channel.followed"),
            EventKind::Follow {
                user: follower.clone(),
            },
        ),
        (
            "kick_webhook_docs_channel.followed.txt",
            None,
            EventKind::Follow { user: follower },
        ),
        (
            "kick_webhook_channel.subscription.new.json",
            Some("channel.subscription.new"),
            subscription(1),
        ),
        (
            "kick_webhook_docs_channel.subscription.new.txt",
            None,
            subscription(1),
        ),
        (
            "kick_webhook_channel.subscription.renewal.json",
            Some("channel.subscription.renewal"),
            subscription(3),
        ),
        (
            "kick_webhook_docs_channel.subscription.renewal.txt",
            None,
            subscription(3),
        ),
        (
            "kick_webhook_channel.subscription.gifts.jsonc",
            Some("channel.subscription.gifts"),
            gift.clone(),
        ),
        (
            "kick_webhook_docs_channel.subscription.gifts.txt",
            None,
            gift,
        ),
        (
            "kick_webhook_channel.reward.redemption.updated.json",
            Some("channel.reward.redemption.updated"),
            redemption.clone(),
        ),
        (
            "kick_webhook_docs_channel.reward.redemption.updated.txt",
            None,
            redemption,
        ),
        (
            "kick_webhook_kicks.gifted.json",
            Some("kicks.gifted"),
            kicks.clone(),
        ),
        ("kick_webhook_docs_kicks.gifted.txt", None, kicks),
        (
            "kick_webhook_livestream.metadata.updated.json",
            Some("livestream.metadata.updated"),
            updated.clone(),
        ),
        (
            "kick_webhook_docs_livestream.metadata.updated.txt",
            None,
            updated,
        ),
        (
            "kick_webhook_livestream.status.updated_live.json",
            Some("livestream.status.updated"),
            online.clone(),
        ),
        (
            "kick_webhook_docs_livestream.status.updated_started.txt",
            None,
            online,
        ),
        (
            "kick_webhook_livestream.status.updated_offline.json",
            Some("livestream.status.updated"),
            offline.clone(),
        ),
        (
            "kick_webhook_docs_livestream.status.updated_ended.txt",
            None,
            offline,
        ),
        (
            "kick_webhook_moderation.banned_permanent.json",
            Some("moderation.banned"),
            EventKind::UserBanned {
                user: banned.clone(),
                until: None,
            },
        ),
        (
            "kick_webhook_docs_moderation.banned.txt",
            None,
            EventKind::UserBanned {
                user: banned,
                until: parse_time("2025-01-14T16:10:06Z"),
            },
        ),
    ];
    for (file, event_type, expected) in &table {
        let events = normalise(file, *event_type);
        let kinds: Vec<&EventKind> = events.iter().map(|(kind, _)| kind).collect();
        assert_eq!(kinds, vec![expected], "{file}");
    }

    // Every Pusher and webhook fixture is in the table (the API answers, key and test
    // vector are covered by the API and webhook tests).
    let mut files: Vec<String> =
        std::fs::read_dir(format!("{}/tests/data", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| {
                (name.starts_with("kick_pusher_") || name.starts_with("kick_webhook_"))
                    && !name.ends_with(".pem")
                    && name != "kick_webhook_signature_test_vector.json"
                    && name != "kick_pusher_connection_established.json"
            })
            .collect();
    files.sort();
    let mut covered: Vec<String> = table
        .iter()
        .map(|(file, _, _)| (*file).to_owned())
        .collect();
    covered.sort();
    assert_eq!(files, covered);

    // Times come from the payloads.
    let chat = normalise("kick_pusher_ChatMessageEvent_badges.json", None);
    assert_eq!(chat[0].1, parse_time("2026-01-08T10:12:23Z"));
    let redeemed = normalise(
        "kick_webhook_channel.reward.redemption.updated.json",
        Some("channel.reward.redemption.updated"),
    );
    assert_eq!(redeemed[0].1, parse_time("2025-12-02T22:54:19.323Z"));
}

#[test]
fn the_handshake_fixture_announces_the_activity_timeout() {
    assert_eq!(
        parse_frame(&data("kick_pusher_connection_established.json")).unwrap(),
        PusherFrame::ConnectionEstablished {
            socket_id: "214617.19803".into(),
            activity_timeout: Some(120),
        }
    );
}

#[test]
fn redemption_states_map_to_the_spec_ones() {
    let body = data("kick_webhook_channel.reward.redemption.updated.json");
    for (kick, spec) in [
        ("pending", RedemptionStatus::Unfulfilled),
        ("accepted", RedemptionStatus::Fulfilled),
        ("rejected", RedemptionStatus::Canceled),
    ] {
        let changed = body.replace("\"rejected\"", &format!("\"{kick}\""));
        let events = parse_body("channel.reward.redemption.updated", changed.as_bytes()).unwrap();
        assert!(
            matches!(&events[0].kind, EventKind::Redemption { status, .. } if *status == spec),
            "{kick}"
        );
    }
}

#[test]
fn an_anonymous_webhook_gifter_is_none() {
    // The docs: an anonymous gifter arrives with is_anonymous and null fields.
    let text = jsonc_to_json(&data("kick_webhook_channel.subscription.gifts.jsonc"))
        .replace(
            "\"is_anonymous\": false,\n    \"user_id\": 987654321",
            "\"is_anonymous\": true,\n    \"user_id\": null",
        )
        .replace("\"gifter_name\"", "null");
    assert!(text.contains("\"user_id\": null"), "{text}");
    let events = parse_body("channel.subscription.gifts", text.as_bytes()).unwrap();
    assert_eq!(
        events[0].kind,
        EventKind::SubscriptionGift {
            gifter: None,
            count: 1,
            tier: SUB_TIER.into()
        }
    );
}
