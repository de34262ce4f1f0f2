//! The SQLite ledger against roadie-automation's in-memory `Ledger`, the reference
//! model: 20 cases x 5,000 random operations (gives, takes, replayed source keys,
//! links, renames) over nine accounts on three platforms. Every result must match
//! the model's; after each case every identity's balance must equal the model's and
//! the sum of its accounts' entries read back with plain SQL.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use proptest::prelude::*;
use roadie_automation::{AccountKey, Entry, Ledger, LedgerError};
use roadie_core::{Platform, Timestamp};
use roadie_store::{PointsChange, PointsError, Store, StoreError};
use rusqlite::{Connection, params};

use super::support::{close, open, seen};

const PLATFORMS: [Platform; 3] = [Platform::Twitch, Platform::Kick, Platform::Youtube];
/// Three users on each platform; the same user id on two platforms is two accounts.
const ACCOUNTS: usize = 9;
/// Accounts the store knows before a case starts; the others appear with their first
/// accepted change (until then linking them is refused as unknown).
const SEEN_FIRST: usize = 6;
const OPS_PER_CASE: usize = 5_000;
/// Most changes sent in one `apply_points` call.
const BATCH: usize = 256;

fn account(index: usize) -> AccountKey {
    AccountKey::new(PLATFORMS[index % 3], format!("u{}", index / 3))
}

#[derive(Debug, Clone)]
enum Op {
    Give(usize, i64, Option<u16>),
    Take(usize, i64, Option<u16>),
    /// Re-sends the source key of an earlier accepted change (index modulo their count).
    Replay(usize, usize, i64),
    Link(usize, usize),
    /// The account shows up under another login.
    Rename(usize, u8),
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        24 => 1..=500i64,
        1 => Just(0i64),
        1 => (i64::MAX / 3)..=i64::MAX,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..ACCOUNTS;
    // Fresh keys mostly; repeats come from replays and the odd collision.
    let source = proptest::option::weighted(0.6, 0..4_000u16);
    // Links are rare: nine accounts collapse into one identity after eight merges,
    // and merges should happen all along a case, between gives and takes.
    prop_oneof![
        400 => (who.clone(), amount(), source.clone()).prop_map(|(a, n, s)| Op::Give(a, n, s)),
        350 => (who.clone(), take_amount(), source).prop_map(|(a, n, s)| Op::Take(a, n, s)),
        150 => (any::<usize>(), who.clone(), 1..=100i64).prop_map(|(i, a, n)| Op::Replay(i, a, n)),
        4 => (who.clone(), who.clone()).prop_map(|(a, b)| Op::Link(a, b)),
        30 => (who, any::<u8>()).prop_map(|(a, l)| Op::Rename(a, l)),
    ]
}

/// Takes run a little larger than gives, so balances hit zero now and then.
fn take_amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        24 => 1..=700i64,
        1 => Just(0i64),
        1 => (i64::MAX / 3)..=i64::MAX,
    ]
}

fn expected_error(error: LedgerError) -> PointsError {
    match error {
        LedgerError::ZeroDelta => PointsError::ZeroDelta,
        LedgerError::Duplicate { source_event } => PointsError::Duplicate {
            source_key: source_event,
        },
        LedgerError::InsufficientPoints { balance, requested } => {
            PointsError::Insufficient { balance, requested }
        }
        LedgerError::Overflow { balance, delta } => PointsError::Overflow { balance, delta },
    }
}

/// One case: the model, the store, and what the store must answer.
struct Case {
    model: Ledger,
    store: Store,
    sql: Connection,
    /// Accounts with a viewer row.
    known: [bool; ACCOUNTS],
    /// Current login per account.
    logins: [String; ACCOUNTS],
    /// Accepted source keys, in order (for replays).
    sources: Vec<String>,
    pending: Vec<PointsChange>,
    expected: Vec<(usize, Result<i64, PointsError>)>,
    clock: i64,
    /// How often each outcome occurred, to show the case exercised every path.
    outcomes: BTreeMap<&'static str, usize>,
}

fn outcome<T>(result: &Result<T, PointsError>) -> &'static str {
    match result {
        Ok(_) => "accepted",
        Err(PointsError::ZeroDelta) => "zero",
        Err(PointsError::Duplicate { .. }) => "duplicate",
        Err(PointsError::Insufficient { .. }) => "insufficient",
        Err(PointsError::Overflow { .. }) => "overflow",
        Err(PointsError::UnknownViewer { .. }) => "unknown",
        Err(PointsError::Invalid { .. }) => "invalid",
    }
}

impl Case {
    fn change(&mut self, index: usize, delta: i64, source: Option<String>) -> PointsChange {
        self.clock += 1;
        let key = account(index);
        let entry = Entry {
            account: key.clone(),
            delta,
            reason: "model".into(),
            at: Timestamp(self.clock),
            source_event: source.clone(),
        };
        let result = self.model.apply(entry).map_err(expected_error);
        if result.is_ok() {
            self.known[index] = true;
            if let Some(source) = &source {
                self.sources.push(source.clone());
            }
        }
        *self.outcomes.entry(outcome(&result)).or_default() += 1;
        self.expected.push((index, result));
        PointsChange {
            platform: key.platform,
            user_id: key.user_id,
            login: self.logins[index].clone(),
            name: self.logins[index].to_uppercase(),
            delta,
            reason: "model".into(),
            at_ms: self.clock,
            source_key: source,
            allow_negative_balance: false,
        }
    }

    async fn flush(&mut self) -> Result<(), TestCaseError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let changes = std::mem::take(&mut self.pending);
        let results = self.store.apply_points(changes).await.unwrap();
        let expected = std::mem::take(&mut self.expected);
        prop_assert_eq!(results.len(), expected.len());
        for (got, (index, want)) in results.into_iter().zip(expected) {
            prop_assert_eq!(got, want, "account {}", account(index));
        }
        Ok(())
    }

    fn identity(&self, index: usize) -> Option<i64> {
        let key = account(index);
        self.sql
            .query_row(
                "SELECT identity FROM viewers WHERE platform = ?1 AND user_id = ?2",
                params![key.platform.as_str(), key.user_id],
                |row| row.get(0),
            )
            .ok()
    }

    async fn link(&mut self, a: usize, b: usize) -> Result<(), TestCaseError> {
        self.flush().await?;
        let (key_a, key_b) = (account(a), account(b));
        let before = (self.identity(a), self.identity(b));
        let got = self
            .store
            .link_viewers(
                (key_a.platform, key_a.user_id.clone()),
                (key_b.platform, key_b.user_id.clone()),
            )
            .await;
        if !(self.known[a] && self.known[b]) {
            let unknown = matches!(
                got,
                Err(StoreError::Points(PointsError::UnknownViewer { .. }))
            );
            prop_assert!(unknown, "{:?}", got);
            *self.outcomes.entry("link unknown").or_default() += 1;
            return Ok(());
        }
        match self.model.link(&key_a, &key_b) {
            Ok(_) => {
                let (Some(first), Some(second)) = before else {
                    return Err(TestCaseError::fail("a known account has no identity"));
                };
                prop_assert_eq!(got.unwrap(), first.min(second));
                let kind = if first == second {
                    "link no-op"
                } else {
                    "link merged"
                };
                *self.outcomes.entry(kind).or_default() += 1;
            }
            Err(error) => {
                let refused = matches!(
                    &got,
                    Err(StoreError::Points(refusal)) if *refusal == expected_error(error.clone())
                );
                prop_assert!(refused, "{:?} but the model said {:?}", got, error);
                *self.outcomes.entry("link overflow").or_default() += 1;
            }
        }
        Ok(())
    }

    async fn rename(&mut self, index: usize, login: u8) -> Result<(), TestCaseError> {
        self.flush().await?;
        self.clock += 1;
        let key = account(index);
        self.logins[index] = format!("{}_{login}", key.user_id);
        self.store
            .upsert_viewer(seen(
                key.platform,
                &key.user_id,
                &self.logins[index],
                self.clock,
            ))
            .await
            .unwrap();
        self.known[index] = true;
        Ok(())
    }

    /// Every identity's balance equals the model's and the plain SQL sum of its
    /// accounts' entries; links, entries and source keys match the model.
    async fn check(&self) -> Result<(), TestCaseError> {
        for index in 0..ACCOUNTS {
            let key = account(index);
            let want = self.model.balance(&key);
            let got = self
                .store
                .balance(key.platform, key.user_id.clone())
                .await
                .unwrap();
            let Some(identity) = self.identity(index) else {
                prop_assert!(!self.known[index]);
                prop_assert_eq!(got, None);
                prop_assert_eq!(want, 0);
                continue;
            };
            prop_assert_eq!(got, Some(want), "balance of {}", key);
            let mut statement = self
                .sql
                .prepare(
                    "SELECT l.delta FROM points_ledger l
                     JOIN viewers v ON v.platform = l.platform AND v.user_id = l.user_id
                     WHERE v.identity = ?1",
                )
                .unwrap();
            let sum: i128 = statement
                .query_map([identity], |row| row.get::<_, i64>(0))
                .unwrap()
                .map(|delta| i128::from(delta.unwrap()))
                .sum();
            prop_assert_eq!(sum, i128::from(want), "SQL sum for {}", key);
            // Same identity in the store exactly when linked in the model.
            let model_group: BTreeSet<String> = self
                .model
                .linked(&key)
                .iter()
                .map(ToString::to_string)
                .collect();
            let store_group: BTreeSet<String> = self
                .store
                .linked_viewers(key.platform, key.user_id.clone())
                .await
                .unwrap()
                .into_iter()
                .map(|row| format!("{}:{}", row.platform, row.user_id))
                .collect();
            prop_assert_eq!(store_group, model_group);
        }
        // The entries themselves: per account, in order.
        let mut statement = self
            .sql
            .prepare("SELECT platform, user_id, delta, source_key FROM points_ledger ORDER BY id")
            .unwrap();
        let stored: Vec<(String, i64, Option<String>)> = statement
            .query_map([], |row| {
                Ok((
                    format!("{}:{}", row.get::<_, String>(0)?, row.get::<_, String>(1)?),
                    row.get(2)?,
                    row.get(3)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let modelled: Vec<(String, i64, Option<String>)> = self
            .model
            .entries()
            .iter()
            .map(|entry| {
                (
                    entry.account.to_string(),
                    entry.delta,
                    entry.source_event.clone(),
                )
            })
            .collect();
        prop_assert_eq!(stored, modelled);
        // `top` lists every identity with entries, with the model's balances.
        let top = self.store.top(ACCOUNTS).await.unwrap();
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for row in &top {
            let first = &row.accounts[0];
            let key = AccountKey::new(first.platform, first.user_id.clone());
            prop_assert_eq!(row.total, self.model.balance(&key));
            totals.insert(self.model.identity(&key).to_string(), row.total);
        }
        prop_assert!(top.windows(2).all(|pair| pair[0].total >= pair[1].total));
        let with_entries: BTreeSet<String> = self
            .model
            .entries()
            .iter()
            .map(|entry| self.model.identity(&entry.account).to_string())
            .collect();
        prop_assert_eq!(
            totals.keys().cloned().collect::<BTreeSet<_>>(),
            with_entries
        );
        Ok(())
    }
}

async fn run(ops: Vec<Op>) -> Result<BTreeMap<&'static str, usize>, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let sql = Connection::open(dir.path().join("roadie.db")).unwrap();
    let mut case = Case {
        model: Ledger::new(),
        store,
        sql,
        known: [false; ACCOUNTS],
        logins: std::array::from_fn(|index| account(index).user_id),
        sources: Vec::new(),
        pending: Vec::new(),
        expected: Vec::new(),
        clock: 0,
        outcomes: BTreeMap::new(),
    };
    for index in 0..SEEN_FIRST {
        let key = account(index);
        case.store
            .upsert_viewer(seen(key.platform, &key.user_id, &key.user_id, 0))
            .await
            .unwrap();
        case.known[index] = true;
    }
    for op in ops {
        let (index, delta, source) = match op {
            Op::Give(a, n, s) => (a, n, s.map(|s| format!("src-{s}"))),
            Op::Take(a, n, s) => (a, -n, s.map(|s| format!("src-{s}"))),
            Op::Replay(i, a, n) => {
                if case.sources.is_empty() {
                    continue;
                }
                let source = case.sources[i % case.sources.len()].clone();
                (a, n, Some(source))
            }
            Op::Link(a, b) => {
                case.link(a, b).await?;
                continue;
            }
            Op::Rename(a, login) => {
                case.rename(a, login).await?;
                continue;
            }
        };
        let change = case.change(index, delta, source);
        case.pending.push(change);
        if case.pending.len() >= BATCH {
            case.flush().await?;
        }
    }
    case.flush().await?;
    case.check().await?;
    close(case.store).await;
    Ok(case.outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 20,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    /// 20 cases x 5,000 operations = 100,000 ledger operations against the model.
    #[test]
    fn the_sqlite_ledger_matches_the_reference_model(
        ops in proptest::collection::vec(op(), OPS_PER_CASE)
    ) {
        let started = Instant::now();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let outcomes = runtime.block_on(run(ops))?;
        eprintln!(
            "ledger model case: {OPS_PER_CASE} operations in {:?}: {outcomes:?}",
            started.elapsed()
        );
    }
}
