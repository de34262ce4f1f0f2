//! The points ledger as an in-memory reference model: every change is an entry with a
//! reason; an entry whose source event was already recorded is refused; balances never
//! go below zero or overflow; accounts linked into one identity share one balance.
//! The daemon's SQLite ledger is property-tested against this model, so its API stays
//! small: [`Ledger::apply`], [`Ledger::link`] and read-only queries.

use roadie_core::{Platform, Timestamp};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

/// One platform account: the platform and its stable user id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    /// The platform.
    pub platform: Platform,
    /// The platform's user id (not the login, which can change).
    pub user_id: String,
}

impl AccountKey {
    /// The account `user_id` on `platform`.
    pub fn new(platform: Platform, user_id: impl Into<String>) -> AccountKey {
        AccountKey {
            platform,
            user_id: user_id.into(),
        }
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.user_id)
    }
}

/// One change to an account's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The account changed.
    pub account: AccountKey,
    /// Points added (positive) or taken (negative); never zero.
    pub delta: i64,
    /// Why, for people reading the ledger (`watch time`, `!gamble`, `given by alice`).
    pub reason: String,
    /// When.
    pub at: Timestamp,
    /// What caused it, when that can repeat (a replayed event, a retried request):
    /// at most one entry per source is ever accepted.
    pub source_event: Option<String>,
}

/// Why the ledger refused a change. A refused change leaves the ledger as it was,
/// source key included (a retry of a refused entry can still succeed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// An entry with this source event was already accepted.
    #[error("source event {source_event:?} was already recorded")]
    Duplicate {
        /// The repeated source.
        source_event: String,
    },
    /// Taking more than the identity has.
    #[error("not enough points: the balance is {balance}, {requested} requested")]
    InsufficientPoints {
        /// The identity's balance.
        balance: i64,
        /// The delta asked for (negative).
        requested: i64,
    },
    /// The balance would leave the range of `i64`.
    #[error("the balance {balance} cannot change by {delta} without overflowing")]
    Overflow {
        /// The identity's balance.
        balance: i64,
        /// The change (or, when linking, the other identity's balance).
        delta: i64,
    },
    /// An entry of zero points changes nothing and is refused.
    #[error("an entry must change the balance; the delta is zero")]
    ZeroDelta,
}

/// The in-memory ledger.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    sources: HashSet<String>,
    // Account to its identity's representative (the smallest account key of the
    // group); accounts never linked are absent and represent themselves.
    identity: HashMap<AccountKey, AccountKey>,
    // Representative to every account of its group, for groups of two or more.
    members: HashMap<AccountKey, BTreeSet<AccountKey>>,
    // Representative to balance; absent means zero.
    balances: HashMap<AccountKey, i64>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Records `entry` and returns the identity's new balance.
    ///
    /// Checks, in order: zero delta, duplicate source event, overflow, and a balance
    /// that would go below zero (only a negative delta can do that).
    pub fn apply(&mut self, entry: Entry) -> Result<i64, LedgerError> {
        if entry.delta == 0 {
            return Err(LedgerError::ZeroDelta);
        }
        if let Some(source) = &entry.source_event
            && self.sources.contains(source)
        {
            return Err(LedgerError::Duplicate {
                source_event: source.clone(),
            });
        }
        let identity = self.identity(&entry.account);
        let balance = self.balances.get(&identity).copied().unwrap_or(0);
        let after = balance
            .checked_add(entry.delta)
            .ok_or(LedgerError::Overflow {
                balance,
                delta: entry.delta,
            })?;
        if after < 0 {
            return Err(LedgerError::InsufficientPoints {
                balance,
                requested: entry.delta,
            });
        }
        self.balances.insert(identity, after);
        if let Some(source) = &entry.source_event {
            self.sources.insert(source.clone());
        }
        self.entries.push(entry);
        Ok(after)
    }

    /// Links the identities of `a` and `b` into one, whose balance is the sum of both;
    /// returns its representative. Linking accounts already linked changes nothing.
    pub fn link(&mut self, a: &AccountKey, b: &AccountKey) -> Result<AccountKey, LedgerError> {
        let (first, second) = (self.identity(a), self.identity(b));
        if first == second {
            return Ok(first);
        }
        let (balance_first, balance_second) = (self.balance(&first), self.balance(&second));
        let total = balance_first
            .checked_add(balance_second)
            .ok_or(LedgerError::Overflow {
                balance: balance_first,
                delta: balance_second,
            })?;
        let (keep, merged) = if first < second {
            (first, second)
        } else {
            (second, first)
        };
        let mut group = self.members.remove(&keep).unwrap_or_else(|| {
            let mut single = BTreeSet::new();
            single.insert(keep.clone());
            single
        });
        let moved = self.members.remove(&merged).unwrap_or_else(|| {
            let mut single = BTreeSet::new();
            single.insert(merged.clone());
            single
        });
        group.extend(moved);
        for account in &group {
            self.identity.insert(account.clone(), keep.clone());
        }
        self.members.insert(keep.clone(), group);
        self.balances.remove(&merged);
        self.balances.insert(keep.clone(), total);
        Ok(keep)
    }

    /// The representative of `account`'s identity: the smallest key among its linked
    /// accounts (the account itself when it was never linked).
    pub fn identity(&self, account: &AccountKey) -> AccountKey {
        self.identity
            .get(account)
            .cloned()
            .unwrap_or_else(|| account.clone())
    }

    /// Every account linked with `account`, itself included, sorted.
    pub fn linked(&self, account: &AccountKey) -> Vec<AccountKey> {
        let identity = self.identity(account);
        match self.members.get(&identity) {
            Some(group) => group.iter().cloned().collect(),
            None => vec![identity],
        }
    }

    /// The balance of `account`'s identity: the sum of the entries of all its linked
    /// accounts.
    pub fn balance(&self, account: &AccountKey) -> i64 {
        self.balances
            .get(&self.identity(account))
            .copied()
            .unwrap_or(0)
    }

    /// The `n` richest identities with any entry, by balance (highest first), ties by
    /// representative.
    pub fn top(&self, n: usize) -> Vec<(AccountKey, i64)> {
        let mut all: Vec<(AccountKey, i64)> = self
            .balances
            .iter()
            .map(|(identity, balance)| (identity.clone(), *balance))
            .collect();
        all.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        all.truncate(n);
        all
    }

    /// Every accepted entry, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
