//! Points accrual: watch time once per viewer per minute, chat activity capped per
//! minute, policy validation, and idempotence through the ledger.

use roadie_automation::points::accrual::{MESSAGE_REASON, WATCH_REASON, minute_of};
use roadie_automation::{
    AccountKey, AccrualPolicy, Ledger, LedgerError, MessageAccrual, PolicyError, WatchAccrual,
};
use roadie_core::{Platform, Timestamp};

fn accounts(entries: &[roadie_automation::Entry]) -> Vec<String> {
    entries.iter().map(|e| e.account.user_id.clone()).collect()
}

#[test]
fn default_policy() {
    let policy = AccrualPolicy::default();
    assert_eq!(
        (
            policy.per_minute_watched,
            policy.per_message,
            policy.message_cap_per_minute
        ),
        (10, 1, 5)
    );
    assert_eq!(policy.validate(), Ok(()));
    let negative = AccrualPolicy {
        per_message: -1,
        ..policy
    };
    assert_eq!(
        negative.validate(),
        Err(PolicyError {
            field: "per_message",
            value: -1
        })
    );
}

#[test]
fn watch_time_credits_each_viewer_once_per_minute() {
    let mut watch = WatchAccrual::new(AccrualPolicy::default());
    let tw = Platform::Twitch;
    let first = watch.credit(tw, 100, ["a", "b", "a", "", "c"]);
    assert_eq!(accounts(&first), vec!["a", "b", "c"]);
    assert!(first.iter().all(|e| e.delta == 10
        && e.reason == WATCH_REASON
        && e.at == Timestamp(100 * 60_000)
        && e.account.platform == tw));
    // A second page (or a repeat) of the same minute credits only newcomers.
    assert_eq!(accounts(&watch.credit(tw, 100, ["b", "d"])), vec!["d"]);
    // An older minute is ignored, a newer one credits everyone again.
    assert!(watch.credit(tw, 99, ["e"]).is_empty());
    assert_eq!(accounts(&watch.credit(tw, 101, ["a", "b"])), vec!["a", "b"]);
    // Platforms are independent.
    assert_eq!(
        accounts(&watch.credit(Platform::Kick, 100, ["a"])),
        vec!["a"]
    );
    // Source keys are distinct per viewer, minute and platform.
    let first_sources: Vec<_> = first
        .iter()
        .map(|e| e.source_event.clone().unwrap())
        .collect();
    assert_eq!(first_sources[0], "watch:twitch:100:a");

    let mut off = WatchAccrual::new(AccrualPolicy {
        per_minute_watched: 0,
        ..AccrualPolicy::default()
    });
    assert!(off.credit(tw, 1, ["a"]).is_empty());
}

#[test]
fn messages_credit_up_to_the_cap_per_minute() {
    let mut chat = MessageAccrual::new(AccrualPolicy::default());
    let tw = Platform::Twitch;
    let at = |s: i64| Timestamp(6_000_000 + s * 1000);
    let credited = (0..7)
        .filter(|n| chat.credit(tw, "a", &format!("m{n}"), at(*n)).is_some())
        .count();
    assert_eq!(credited, 5);
    // Another viewer has their own cap; another platform too.
    assert!(chat.credit(tw, "b", "mb", at(10)).is_some());
    assert!(chat.credit(Platform::Kick, "a", "mk", at(10)).is_some());
    // The next minute starts over; a late message from the previous minute earns nothing.
    let entry = chat.credit(tw, "a", "m8", at(60)).unwrap();
    assert_eq!(
        (entry.delta, entry.reason.as_str(), entry.at),
        (1, MESSAGE_REASON, at(60))
    );
    assert_eq!(entry.source_event.as_deref(), Some("chat:twitch:m8"));
    assert!(chat.credit(tw, "b", "late", at(59)).is_none());
    assert!(chat.credit(tw, "", "anon", at(61)).is_none());
    assert_eq!(minute_of(at(60)), 101);
    assert_eq!(minute_of(Timestamp(-1)), -1);
}

#[test]
fn replayed_credits_are_refused_by_the_ledger() {
    let mut ledger = Ledger::new();
    let mut watch = WatchAccrual::new(AccrualPolicy::default());
    for entry in watch.credit(Platform::Twitch, 5, ["a", "b"]) {
        ledger.apply(entry).unwrap();
    }
    // A restarted daemon (fresh accrual state) replaying the same minute.
    let mut restarted = WatchAccrual::new(AccrualPolicy::default());
    for entry in restarted.credit(Platform::Twitch, 5, ["a", "b"]) {
        assert!(matches!(
            ledger.apply(entry),
            Err(LedgerError::Duplicate { .. })
        ));
    }
    assert_eq!(ledger.balance(&AccountKey::new(Platform::Twitch, "a")), 10);
}
