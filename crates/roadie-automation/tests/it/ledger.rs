//! The reference ledger: entries, refusals, linking, and a property test of 100,000
//! random operations against an independent model.

use proptest::prelude::*;
use roadie_automation::{AccountKey, Entry, Ledger, LedgerError};
use roadie_core::{Platform, Timestamp};
use std::collections::HashSet;

fn key(platform: Platform, id: &str) -> AccountKey {
    AccountKey::new(platform, id)
}

fn entry(account: &AccountKey, delta: i64, source: Option<&str>) -> Entry {
    Entry {
        account: account.clone(),
        delta,
        reason: "test".into(),
        at: Timestamp(0),
        source_event: source.map(str::to_owned),
    }
}

#[test]
fn give_take_and_refusals() {
    let mut ledger = Ledger::new();
    let alice = key(Platform::Twitch, "1");
    assert_eq!(ledger.apply(entry(&alice, 100, Some("e1"))), Ok(100));
    assert_eq!(ledger.apply(entry(&alice, -30, None)), Ok(70));
    assert_eq!(
        ledger.apply(entry(&alice, -71, None)),
        Err(LedgerError::InsufficientPoints {
            balance: 70,
            requested: -71
        })
    );
    assert_eq!(ledger.apply(entry(&alice, -70, None)), Ok(0));
    assert_eq!(
        ledger.apply(entry(&alice, 0, None)),
        Err(LedgerError::ZeroDelta)
    );
    assert_eq!(
        ledger.apply(entry(&alice, 5, Some("e1"))),
        Err(LedgerError::Duplicate {
            source_event: "e1".into()
        })
    );
    assert_eq!(
        ledger.apply(entry(&alice, i64::MIN, None)),
        Err(LedgerError::InsufficientPoints {
            balance: 0,
            requested: i64::MIN
        })
    );
    assert_eq!(ledger.apply(entry(&alice, i64::MAX, None)), Ok(i64::MAX));
    assert_eq!(
        ledger.apply(entry(&alice, 1, Some("e2"))),
        Err(LedgerError::Overflow {
            balance: i64::MAX,
            delta: 1
        })
    );
    // The refused entry's source was not consumed.
    assert_eq!(
        ledger.apply(entry(&alice, -1, Some("e2"))),
        Ok(i64::MAX - 1)
    );
    assert_eq!(ledger.entries().len(), 5);
    assert!(
        LedgerError::InsufficientPoints {
            balance: 3,
            requested: -5
        }
        .to_string()
        .contains("not enough points")
    );
}

#[test]
fn linked_accounts_share_one_balance() {
    let mut ledger = Ledger::new();
    let (tw, kick, yt) = (
        key(Platform::Twitch, "t"),
        key(Platform::Kick, "k"),
        key(Platform::Youtube, "y"),
    );
    ledger.apply(entry(&tw, 10, None)).unwrap();
    ledger.apply(entry(&kick, 5, None)).unwrap();
    assert_eq!(ledger.link(&kick, &tw), Ok(tw.clone()));
    assert_eq!(ledger.balance(&tw), 15);
    assert_eq!(ledger.balance(&kick), 15);
    // Taking from one account draws on the shared balance.
    assert_eq!(ledger.apply(entry(&kick, -12, None)), Ok(3));
    assert_eq!(ledger.balance(&tw), 3);
    // Transitive, idempotent, and the identity is the smallest key.
    ledger.link(&yt, &kick).unwrap();
    assert_eq!(ledger.link(&yt, &tw), Ok(tw.clone()));
    assert_eq!(ledger.identity(&yt), tw);
    assert_eq!(
        ledger.linked(&yt),
        vec![tw.clone(), kick.clone(), yt.clone()]
    );
    assert_eq!(ledger.balance(&yt), 3);
    let loner = key(Platform::Twitch, "z");
    assert_eq!(ledger.linked(&loner), vec![loner.clone()]);
    assert_eq!(ledger.balance(&loner), 0);
    ledger.apply(entry(&loner, 7, None)).unwrap();
    assert_eq!(ledger.top(10), vec![(loner.clone(), 7), (tw.clone(), 3)]);
    assert_eq!(ledger.top(1), vec![(loner, 7)]);
    assert_eq!(tw.to_string(), "twitch:t");
}

#[test]
fn linking_that_would_overflow_is_refused() {
    let mut ledger = Ledger::new();
    let (a, b) = (key(Platform::Twitch, "a"), key(Platform::Kick, "b"));
    ledger.apply(entry(&a, i64::MAX, None)).unwrap();
    ledger.apply(entry(&b, 1, None)).unwrap();
    assert!(matches!(
        ledger.link(&a, &b),
        Err(LedgerError::Overflow { .. })
    ));
    assert_eq!(ledger.linked(&a), vec![a.clone()]);
    assert_eq!(ledger.balance(&b), 1);
}

// ---- property test against an independent model ----

const ACCOUNTS: usize = 6;

fn account(index: usize) -> AccountKey {
    let platform = Platform::ALL[index % 3];
    key(platform, &format!("u{index}"))
}

#[derive(Debug, Clone)]
enum Op {
    Give(usize, i64, Option<u8>),
    Take(usize, i64, Option<u8>),
    Link(usize, usize),
    /// Re-sends the source of an earlier accepted entry (index modulo their number).
    Replay(usize, usize, i64),
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => 1..=500i64,
        1 => Just(0i64),
        1 => (i64::MAX / 3)..=i64::MAX,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..ACCOUNTS;
    let source = proptest::option::weighted(0.6, any::<u8>());
    prop_oneof![
        4 => (who.clone(), amount(), source.clone()).prop_map(|(a, n, s)| Op::Give(a, n, s)),
        3 => (who.clone(), amount(), source).prop_map(|(a, n, s)| Op::Take(a, n, s)),
        1 => (who.clone(), who.clone()).prop_map(|(a, b)| Op::Link(a, b)),
        2 => (any::<usize>(), who, 1..=100i64).prop_map(|(i, a, n)| Op::Replay(i, a, n)),
    ]
}

/// The model: group labels, per-account sums in i128, the accepted sources.
struct Model {
    group: [usize; ACCOUNTS],
    sums: [i128; ACCOUNTS],
    sources: Vec<String>,
    seen: HashSet<String>,
}

impl Model {
    fn balance(&self, index: usize) -> i128 {
        (0..ACCOUNTS)
            .filter(|other| self.group[*other] == self.group[index])
            .map(|other| self.sums[other])
            .sum()
    }

    fn expected(
        &self,
        index: usize,
        delta: i64,
        source: &Option<String>,
    ) -> Result<i64, LedgerError> {
        let balance = self.balance(index);
        let after = balance + i128::from(delta);
        let balance = i64::try_from(balance).unwrap();
        if delta == 0 {
            Err(LedgerError::ZeroDelta)
        } else if let Some(s) = source.as_ref().filter(|s| self.seen.contains(*s)) {
            Err(LedgerError::Duplicate {
                source_event: s.clone(),
            })
        } else if after > i128::from(i64::MAX) {
            Err(LedgerError::Overflow { balance, delta })
        } else if after < 0 {
            Err(LedgerError::InsufficientPoints {
                balance,
                requested: delta,
            })
        } else {
            Ok(i64::try_from(after).unwrap())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// 100 cases x 1,000 operations = 100,000 ledger operations.
    #[test]
    fn ledger_matches_the_model(ops in proptest::collection::vec(op(), 1000)) {
        let mut ledger = Ledger::new();
        let mut model = Model {
            group: std::array::from_fn(|i| i),
            sums: [0; ACCOUNTS],
            sources: Vec::new(),
            seen: HashSet::new(),
        };
        for op in ops {
            let (index, delta, source) = match op {
                Op::Give(a, n, s) => (a, n, s.map(|s| format!("src-{s}"))),
                Op::Take(a, n, s) => (a, -n, s.map(|s| format!("src-{s}"))),
                Op::Replay(i, a, n) => {
                    if model.sources.is_empty() {
                        continue;
                    }
                    let source = model.sources[i % model.sources.len()].clone();
                    (a, n, Some(source))
                }
                Op::Link(a, b) => {
                    let total = model.balance(a) + model.balance(b);
                    let result = ledger.link(&account(a), &account(b));
                    let (ga, gb) = (model.group[a], model.group[b]);
                    if ga == gb || total <= i128::from(i64::MAX) {
                        prop_assert!(result.is_ok(), "{result:?}");
                        for label in model.group.iter_mut() {
                            if *label == gb {
                                *label = ga;
                            }
                        }
                    } else {
                        let refused = matches!(result, Err(LedgerError::Overflow { .. }));
                        prop_assert!(refused, "{result:?}");
                    }
                    continue;
                }
            };
            let expected = model.expected(index, delta, &source);
            let got = ledger.apply(entry(&account(index), delta, source.as_deref()));
            prop_assert_eq!(&got, &expected);
            if got.is_ok() {
                model.sums[index] += i128::from(delta);
                if let Some(source) = source {
                    model.seen.insert(source.clone());
                    model.sources.push(source);
                }
            }
            for a in 0..ACCOUNTS {
                prop_assert_eq!(i128::from(ledger.balance(&account(a))), model.balance(a));
            }
        }
        // Balances are the sums of the accepted entries of all linked accounts.
        for a in 0..ACCOUNTS {
            let linked = ledger.linked(&account(a));
            let from_entries: i128 = ledger
                .entries()
                .iter()
                .filter(|e| linked.contains(&e.account))
                .map(|e| i128::from(e.delta))
                .sum();
            prop_assert_eq!(i128::from(ledger.balance(&account(a))), from_entries);
            prop_assert!(ledger.balance(&account(a)) >= 0);
            // Linked accounts share one balance and one identity.
            for b in 0..ACCOUNTS {
                let same = model.group[a] == model.group[b];
                prop_assert_eq!(linked.contains(&account(b)), same);
                if same {
                    prop_assert_eq!(ledger.balance(&account(a)), ledger.balance(&account(b)));
                    prop_assert_eq!(ledger.identity(&account(a)), ledger.identity(&account(b)));
                }
            }
        }
        // No source credited twice.
        let mut sources = HashSet::new();
        for e in ledger.entries() {
            if let Some(source) = &e.source_event {
                prop_assert!(sources.insert(source.clone()), "{source} twice");
            }
        }
        prop_assert_eq!(sources.len(), model.seen.len());
    }
}
