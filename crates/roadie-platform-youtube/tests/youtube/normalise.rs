//! Every chat item in tests/data (the real captured excerpt and one item per
//! documented snippet type) yields the SPEC event with the right fields; one table,
//! one row per item. Plus the gift-counting rule and property tests: no input makes
//! the parsers panic.

use proptest::prelude::*;
use roadie_core::{EventKind, Platform, Role, Timestamp, User};
use roadie_platform_youtube::api::{parse_broadcasts, parse_channel, parse_error, parse_viewers};
use roadie_platform_youtube::message::{
    ChatItem, Normaliser, amount_from_micros, parse_page, parse_time,
};
use serde_json::Value;

fn data(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn user(id: &str, name: &str, roles: &[Role]) -> User {
    User {
        id: id.into(),
        login: name.into(),
        name: name.into(),
        roles: roles.to_vec(),
    }
}

fn time(text: &str) -> Timestamp {
    parse_time(text).unwrap()
}

/// Normalises `items` in order with one normaliser: (item id, events).
fn normalise_all(items: &[Value]) -> Vec<(String, Option<roadie_core::Event>)> {
    // Through the page parser, as the adapter reads them.
    let page = serde_json::json!({"kind": "youtube#liveChatMessageListResponse", "pollingIntervalMillis": 2000, "items": items});
    let page = parse_page(page.to_string().as_bytes()).unwrap();
    assert_eq!(page.unreadable, 0);
    let mut normaliser = Normaliser::default();
    page.items
        .iter()
        .map(|item| (item.id.clone(), normaliser.normalise(item, Timestamp(1))))
        .collect()
}

#[test]
fn every_item_yields_its_spec_event() {
    let real = data("youtube_livechat_items_textMessageEvent_REAL_excerpt.json");
    let documented = data("youtube_livechat_items_documented_types.json");
    let mut all = real.clone();
    all.extend(documented);
    let crew = "Roadie Crew";
    let table: Vec<(&str, Option<EventKind>)> = vec![
        (
            "LCC.CjgKDQoLRDlmcUZkdjVFTm8qJwoYVUNQc2ZNNHZ1dV9GbWpRWGZXQ0hkaDRnEgtEOWZxRmR2NUVObxIcChpDSzdtNC02aWtmOENGYkFJMWdBZFBTVURSZw",
            Some(EventKind::ChatMessage {
                message_id: "LCC.CjgKDQoLRDlmcUZkdjVFTm8qJwoYVUNQc2ZNNHZ1dV9GbWpRWGZXQ0hkaDRnEgtEOWZxRmR2NUVObxIcChpDSzdtNC02aWtmOENGYkFJMWdBZFBTVURSZw".into(),
                user: user("UCrjdRCm0gGcdrYtl8z66t6g", "Mr Perfect", &[]),
                text: "kitni hai".into(),
                reply_to: None,
            }),
        ),
        (
            "LCC.CjgKDQoLRDlmcUZkdjVFTm8qJwoYVUNQc2ZNNHZ1dV9GbWpRWGZXQ0hkaDRnEgtEOWZxRmR2NUVObxIcChpDUEtEcGZDaWtmOENGVW9GMWdBZG5PTUFlQQ",
            Some(EventKind::ChatMessage {
                message_id: "LCC.CjgKDQoLRDlmcUZkdjVFTm8qJwoYVUNQc2ZNNHZ1dV9GbWpRWGZXQ0hkaDRnEgtEOWZxRmR2NUVObxIcChpDUEtEcGZDaWtmOENGVW9GMWdBZG5PTUFlQQ".into(),
                user: user("UClCnF2JQ9_AjR0St5VH3_SA", "~ice fairy~", &[]),
                text: "what language do you speak?".into(),
                reply_to: None,
            }),
        ),
        (
            "LCC.doc-superChatEvent",
            Some(EventKind::Tip {
                user: user("UCdocSuperChatter00000001", "Generous Viewer", &[Role::Subscriber]),
                amount: "5".into(),
                currency: "USD".into(),
                message: Some("keep it up!".into()),
            }),
        ),
        (
            "LCC.doc-superChatEvent-no-comment",
            Some(EventKind::Tip {
                user: user("UCdocQuietTipper000000001", "Quiet Tipper", &[]),
                amount: "0.99".into(),
                currency: "JPY".into(),
                message: None,
            }),
        ),
        (
            "LCC.doc-superStickerEvent",
            Some(EventKind::Tip {
                user: user("UCdocStickerFan0000000001", "Sticker Fan", &[]),
                amount: "5.5".into(),
                currency: "EUR".into(),
                message: None,
            }),
        ),
        (
            "LCC.doc-newSponsorEvent",
            Some(EventKind::Subscription {
                user: user("UCdocNewMember00000000001", "New Member", &[Role::Subscriber]),
                tier: crew.into(),
                months: Some(1),
                message: None,
            }),
        ),
        (
            "LCC.doc-newSponsorEvent-upgrade",
            Some(EventKind::Subscription {
                user: user("UCdocUpgrader000000000001", "Upgrader", &[Role::Subscriber]),
                tier: "Stage Crew".into(),
                months: None,
                message: None,
            }),
        ),
        (
            "LCC.doc-memberMilestoneChatEvent",
            Some(EventKind::Subscription {
                user: user(
                    "UCdocLoyalMember000000001",
                    "Loyal Member",
                    &[Role::Moderator, Role::Subscriber],
                ),
                tier: crew.into(),
                months: Some(12),
                message: Some("one year already!".into()),
            }),
        ),
        (
            "LCC.doc-membershipGiftingEvent",
            Some(EventKind::SubscriptionGift {
                gifter: Some(user("UCdocGifter00000000000001", "Big Gifter", &[])),
                count: 5,
                tier: crew.into(),
            }),
        ),
        // Counted by the gifting event above: not a second subscription.
        ("LCC.doc-giftMembershipReceivedEvent", None),
        (
            "LCC.doc-messageDeletedEvent",
            Some(EventKind::ChatDeleted {
                message_id: "LCC.doc-some-rude-message".into(),
            }),
        ),
        (
            "LCC.doc-userBannedEvent-temporary",
            Some(EventKind::UserBanned {
                user: user("UCdocSpammer0000000000001", "Spammer", &[]),
                until: Some(Timestamp(
                    time("2026-11-26T18:00:10.000000+00:00").0 + 300_000,
                )),
            }),
        ),
        (
            "LCC.doc-userBannedEvent-permanent",
            Some(EventKind::UserBanned {
                user: user("UCdocTroll000000000000001", "Troll", &[]),
                until: None,
            }),
        ),
        ("LCC.doc-sponsorOnlyModeStartedEvent", None),
        ("LCC.doc-tombstone", None),
        ("LCC.doc-chatEndedEvent", None),
    ];
    let results = normalise_all(&all);
    assert_eq!(
        results.len(),
        table.len(),
        "one table row per item in tests/data"
    );
    for ((id, event), (expected_id, expected)) in results.iter().zip(&table) {
        assert_eq!(id, expected_id);
        assert_eq!(
            event.as_ref().map(|event| &event.kind),
            expected.as_ref(),
            "item {id}"
        );
        if let Some(event) = event {
            assert_eq!(event.platform, Platform::Youtube);
            // The event's time is the item's publishedAt.
            let item = all.iter().find(|item| item["id"] == id.as_str()).unwrap();
            assert_eq!(
                event.at,
                time(item["snippet"]["publishedAt"].as_str().unwrap()),
                "item {id}"
            );
        }
    }
    let ended: ChatItem = serde_json::from_value(all.last().unwrap().clone()).unwrap();
    assert!(ended.ends_chat(), "chatEndedEvent ends the chat");
}

#[test]
fn a_gift_received_without_its_gifting_event_is_the_recipients_subscription() {
    let documented = data("youtube_livechat_items_documented_types.json");
    let received = documented
        .iter()
        .find(|item| item["snippet"]["type"] == "giftMembershipReceivedEvent")
        .unwrap()
        .clone();
    let results = normalise_all(&[received]);
    assert_eq!(
        results[0].1.as_ref().map(|event| event.kind.clone()),
        Some(EventKind::Subscription {
            user: user(
                "UCdocLuckyViewer000000001",
                "Lucky Viewer",
                &[Role::Subscriber]
            ),
            tier: "Roadie Crew".into(),
            months: None,
            message: None,
        })
    );
}

#[test]
fn authors_fall_back_to_the_snippet_and_bad_items_are_skipped() {
    let items = vec![
        // No authorDetails (part without it): the snippet's channel id names the user.
        serde_json::json!({"id": "a", "snippet": {"type": "textMessageEvent", "authorChannelId": "UCx", "displayMessage": "hi"}}),
        // No author at all: not a usable chat message.
        serde_json::json!({"id": "b", "snippet": {"type": "textMessageEvent", "textMessageDetails": {"messageText": "who?"}}}),
        // A Super Chat without an amount is not a tip.
        serde_json::json!({"id": "c", "snippet": {"type": "superChatEvent", "superChatDetails": {"currency": "USD"}}, "authorDetails": {"channelId": "UCy", "displayName": "Y"}}),
        // The owner, as the broadcaster.
        serde_json::json!({"id": "d", "snippet": {"type": "textMessageEvent", "textMessageDetails": {"messageText": "hello chat"}}, "authorDetails": {"channelId": "UCo", "displayName": "", "isChatOwner": true, "isChatModerator": "yes"}}),
    ];
    let results = normalise_all(&items);
    assert_eq!(
        results[0].1.as_ref().map(|event| event.kind.clone()),
        Some(EventKind::ChatMessage {
            message_id: "a".into(),
            user: user("UCx", "UCx", &[]),
            text: "hi".into(),
            reply_to: None
        })
    );
    assert!(results[1].1.is_none());
    assert!(results[2].1.is_none());
    match results[3].1.as_ref().map(|event| &event.kind) {
        Some(EventKind::ChatMessage { user: author, .. }) => {
            assert_eq!(author, &user("UCo", "UCo", &[Role::Broadcaster]));
        }
        other => panic!("{other:?}"),
    }
    // Without publishedAt, the time of reception stands in.
    assert_eq!(results[0].1.as_ref().unwrap().at, Timestamp(1));
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| serde_json::Number::from_f64(number)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("textMessageEvent"),
            Just("superChatEvent"),
            Just("superStickerEvent"),
            Just("newSponsorEvent"),
            Just("memberMilestoneChatEvent"),
            Just("membershipGiftingEvent"),
            Just("giftMembershipReceivedEvent"),
            Just("messageDeletedEvent"),
            Just("userBannedEvent"),
            Just("temporary"),
            Just("5000000"),
            Just("2023-05-25T20:08:08.479833+00:00"),
        ]
        .prop_map(|text| Value::String(text.into())),
    ];
    let keys = prop_oneof![
        Just("id"),
        Just("type"),
        Just("snippet"),
        Just("authorDetails"),
        Just("channelId"),
        Just("displayName"),
        Just("publishedAt"),
        Just("textMessageDetails"),
        Just("messageText"),
        Just("superChatDetails"),
        Just("superStickerDetails"),
        Just("amountMicros"),
        Just("currency"),
        Just("memberMonth"),
        Just("membershipGiftingDetails"),
        Just("giftMembershipsCount"),
        Just("userBannedDetails"),
        Just("bannedUserDetails"),
        Just("banType"),
        Just("banDurationSeconds"),
        Just("items"),
        Just("pollingIntervalMillis"),
        Just("nextPageToken"),
        Just("offlineAt"),
        Just("liveStreamingDetails"),
        Just("concurrentViewers"),
        Just("error"),
        Just("errors"),
        Just("reason"),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((keys.clone(), inner), 0..8).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_page(&body);
        let _ = parse_broadcasts(&body);
        let _ = parse_viewers(&body);
        let _ = parse_channel(&body);
        let _ = parse_error(403, &body);
    }

    #[test]
    fn arbitrary_json_pages_and_items_never_panic(items in proptest::collection::vec(arbitrary_json(), 0..8), interval in arbitrary_json()) {
        let page = serde_json::json!({"pollingIntervalMillis": interval, "nextPageToken": "t", "items": items});
        let parsed = parse_page(page.to_string().as_bytes()).unwrap();
        prop_assert_eq!(parsed.items.len() + parsed.unreadable, items.len());
        let mut normaliser = Normaliser::default();
        for item in &parsed.items {
            if let Some(event) = normaliser.normalise(item, Timestamp(0)) {
                prop_assert_eq!(event.platform, Platform::Youtube);
            }
        }
        for value in &items {
            let body = value.to_string();
            let _ = parse_broadcasts(body.as_bytes());
            let _ = parse_viewers(body.as_bytes());
            let _ = parse_error(400, body.as_bytes());
            let wrapped = serde_json::json!({"items": [value]}).to_string();
            let _ = parse_broadcasts(wrapped.as_bytes());
            let _ = parse_viewers(wrapped.as_bytes());
            let _ = parse_channel(wrapped.as_bytes());
        }
    }

    #[test]
    fn amounts_are_exact(micros in any::<u64>()) {
        let text = amount_from_micros(micros);
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        prop_assert!(fraction.len() <= 6 && !fraction.ends_with('0'));
        let back = whole.parse::<u128>().unwrap() * 1_000_000
            + format!("{fraction:0<6}").parse::<u128>().unwrap();
        prop_assert_eq!(back, u128::from(micros));
    }
}
