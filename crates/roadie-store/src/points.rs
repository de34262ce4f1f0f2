//! Viewers, identities and the loyalty-points ledger. Every change is an entry;
//! balances are derived (the sum over the entries of every account linked into one
//! identity) and never stored. Source keys make replayed changes idempotent.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use roadie_core::Platform;

use crate::StoreError;

/// A platform account seen in chat or in an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerSeen {
    /// Twitch, Kick or YouTube.
    pub platform: Platform,
    /// The platform's stable user id.
    pub user_id: String,
    /// The current login (it can change; the id does not).
    pub login: String,
    /// The current display name.
    pub name: String,
    /// When, Unix ms.
    pub at_ms: i64,
}

/// A stored platform account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerRow {
    /// Twitch, Kick or YouTube.
    pub platform: Platform,
    /// The platform's stable user id.
    pub user_id: String,
    /// The latest login seen.
    pub login: String,
    /// The latest display name seen.
    pub name: String,
    /// The identity it belongs to (shared by linked accounts).
    pub identity: i64,
    /// First seen, Unix ms.
    pub first_seen_ms: i64,
    /// Last seen, Unix ms.
    pub last_seen_ms: i64,
}

/// One change to apply to a viewer's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsChange {
    /// Twitch, Kick or YouTube.
    pub platform: Platform,
    /// The platform's stable user id.
    pub user_id: String,
    /// The login to record for the viewer.
    pub login: String,
    /// The display name to record for the viewer.
    pub name: String,
    /// Points added (positive) or taken (negative); never zero.
    pub delta: i64,
    /// Why, for people reading the ledger.
    pub reason: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// What caused it, when that can repeat (a replayed event): at most one entry per key.
    pub source_key: Option<String>,
    /// Lets a negative change take the identity's balance below zero.
    pub allow_negative_balance: bool,
}

/// A stored ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Its id (entries are numbered in the order they were recorded).
    pub id: i64,
    /// The account's platform.
    pub platform: Platform,
    /// The account's user id.
    pub user_id: String,
    /// The change.
    pub delta: i64,
    /// Why.
    pub reason: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// Its source key, if any.
    pub source_key: Option<String>,
}

/// An identity's balance and its accounts, as listed by [`crate::Store::top`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityTotal {
    /// The identity.
    pub identity: i64,
    /// Its balance.
    pub total: i64,
    /// Its accounts, by platform and user id.
    pub accounts: Vec<ViewerRow>,
}

/// Why a points change (or a link) was refused. A refused change writes nothing: no
/// entry, no source key, no viewer row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    /// A change of zero points is refused.
    #[error("a points change must not be zero")]
    ZeroDelta,
    /// An entry with this source key was already recorded.
    #[error("source {source_key:?} was already recorded")]
    Duplicate {
        /// The repeated key.
        source_key: String,
    },
    /// Taking more than the identity has.
    #[error("not enough points: the balance is {balance}, {requested} requested")]
    Insufficient {
        /// The identity's balance.
        balance: i64,
        /// The change asked for (negative).
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
    /// The account has never been seen.
    #[error("unknown viewer {platform}:{user_id}")]
    UnknownViewer {
        /// Its platform.
        platform: Platform,
        /// Its user id.
        user_id: String,
    },
    /// A value the schema does not accept.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

fn check_account(platform: Platform, user_id: &str) -> Result<(), PointsError> {
    if platform == Platform::Roadie {
        return Err(PointsError::Invalid {
            field: "platform",
            reason: "viewers belong to twitch, kick or youtube".into(),
        });
    }
    if user_id.is_empty() {
        return Err(PointsError::Invalid {
            field: "user_id",
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

fn parse_platform(text: &str) -> rusqlite::Result<Platform> {
    text.parse::<Platform>().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(error))
    })
}

const VIEWER_COLUMNS: &str =
    "platform, user_id, login, name, identity, first_seen_ms, last_seen_ms";

fn viewer_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ViewerRow> {
    Ok(ViewerRow {
        platform: parse_platform(&row.get::<_, String>(0)?)?,
        user_id: row.get(1)?,
        login: row.get(2)?,
        name: row.get(3)?,
        identity: row.get(4)?,
        first_seen_ms: row.get(5)?,
        last_seen_ms: row.get(6)?,
    })
}

/// Records a sighting and returns the viewer's identity, creating both for a new
/// viewer. Login and name follow the newest sighting (an older one replayed late does
/// not bring back an old login).
fn seen(
    connection: &Connection,
    platform: Platform,
    user_id: &str,
    login: &str,
    name: &str,
    at_ms: i64,
) -> Result<i64, StoreError> {
    let existing: Option<i64> = connection
        .prepare_cached(
            "UPDATE viewers SET
                 login = CASE WHEN ?5 >= last_seen_ms THEN ?3 ELSE login END,
                 name = CASE WHEN ?5 >= last_seen_ms THEN ?4 ELSE name END,
                 first_seen_ms = min(first_seen_ms, ?5),
                 last_seen_ms = max(last_seen_ms, ?5)
             WHERE platform = ?1 AND user_id = ?2
             RETURNING identity",
        )?
        .query_row(
            params![platform.as_str(), user_id, login, name, at_ms],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(identity) = existing {
        return Ok(identity);
    }
    connection
        .prepare_cached("INSERT INTO identities DEFAULT VALUES")?
        .execute([])?;
    let identity = connection.last_insert_rowid();
    connection
        .prepare_cached(
            "INSERT INTO viewers (platform, user_id, login, name, identity, first_seen_ms, last_seen_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?
        .execute(params![platform.as_str(), user_id, login, name, identity, at_ms])?;
    Ok(identity)
}

pub(crate) fn upsert_viewer(
    connection: &Connection,
    viewer: &ViewerSeen,
) -> Result<i64, StoreError> {
    check_account(viewer.platform, &viewer.user_id)?;
    seen(
        connection,
        viewer.platform,
        &viewer.user_id,
        &viewer.login,
        &viewer.name,
        viewer.at_ms,
    )
}

fn identity_of(
    connection: &Connection,
    platform: Platform,
    user_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT identity FROM viewers WHERE platform = ?1 AND user_id = ?2")?
        .query_row(params![platform.as_str(), user_id], |row| row.get(0))
        .optional()?)
}

/// The identity's balance: the sum of the entries of all its accounts.
///
/// SQLite's `sum()` fails when a partial sum overflows even if the total fits (entries
/// are summed in index order, not in the order they were recorded); the exact sum is
/// then taken in 128 bits here.
fn identity_balance(connection: &Connection, identity: i64) -> Result<i64, StoreError> {
    let fast: rusqlite::Result<Option<i64>> = connection
        .prepare_cached(
            "SELECT sum(l.delta) FROM viewers v
             JOIN points_ledger l ON l.platform = v.platform AND l.user_id = v.user_id
             WHERE v.identity = ?1",
        )
        .and_then(|mut statement| statement.query_row([identity], |row| row.get(0)));
    if let Ok(sum) = fast {
        return Ok(sum.unwrap_or(0));
    }
    let mut statement = connection.prepare_cached(
        "SELECT l.delta FROM viewers v
         JOIN points_ledger l ON l.platform = v.platform AND l.user_id = v.user_id
         WHERE v.identity = ?1",
    )?;
    let mut rows = statement.query([identity])?;
    let mut total: i128 = 0;
    while let Some(row) = rows.next()? {
        total += i128::from(row.get::<_, i64>(0)?);
    }
    exact(total)
}

fn exact(total: i128) -> Result<i64, StoreError> {
    i64::try_from(total).map_err(|_| StoreError::Invalid {
        field: "points balance",
        reason: format!("{total} is outside the range of i64"),
    })
}

pub(crate) fn balance(
    connection: &Connection,
    platform: Platform,
    user_id: &str,
) -> Result<Option<i64>, StoreError> {
    match identity_of(connection, platform, user_id)? {
        Some(identity) => Ok(Some(identity_balance(connection, identity)?)),
        None => Ok(None),
    }
}

/// Applies the changes in order, each in a savepoint of its own. A refused change is
/// reported in its slot and writes nothing; a database error fails the whole call.
pub(crate) fn apply(
    connection: &Connection,
    changes: &[PointsChange],
) -> Result<Vec<Result<i64, PointsError>>, StoreError> {
    // Balances computed during this call (identities cannot change inside it).
    let mut balances: HashMap<i64, i64> = HashMap::new();
    let mut results = Vec::with_capacity(changes.len());
    for change in changes {
        if let Err(refused) = check_account(change.platform, &change.user_id) {
            results.push(Err(refused));
            continue;
        }
        if change.delta == 0 {
            results.push(Err(PointsError::ZeroDelta));
            continue;
        }
        if let Some(key) = &change.source_key {
            let recorded: Option<i64> = connection
                .prepare_cached("SELECT 1 FROM points_ledger WHERE source_key = ?1")?
                .query_row([key], |row| row.get(0))
                .optional()?;
            if recorded.is_some() {
                results.push(Err(PointsError::Duplicate {
                    source_key: key.clone(),
                }));
                continue;
            }
        }
        connection
            .prepare_cached("SAVEPOINT points_change")?
            .execute([])?;
        let outcome = match apply_one(connection, change, &mut balances) {
            Ok(outcome) => outcome,
            Err(error) => {
                let _ =
                    connection.execute_batch("ROLLBACK TO points_change; RELEASE points_change");
                return Err(error);
            }
        };
        if outcome.is_err() {
            connection
                .prepare_cached("ROLLBACK TO points_change")?
                .execute([])?;
        }
        connection
            .prepare_cached("RELEASE points_change")?
            .execute([])?;
        results.push(outcome);
    }
    Ok(results)
}

fn apply_one(
    connection: &Connection,
    change: &PointsChange,
    balances: &mut HashMap<i64, i64>,
) -> Result<Result<i64, PointsError>, StoreError> {
    let identity = seen(
        connection,
        change.platform,
        &change.user_id,
        &change.login,
        &change.name,
        change.at_ms,
    )?;
    let balance = match balances.get(&identity) {
        Some(balance) => *balance,
        None => identity_balance(connection, identity)?,
    };
    let Some(after) = balance.checked_add(change.delta) else {
        return Ok(Err(PointsError::Overflow {
            balance,
            delta: change.delta,
        }));
    };
    if change.delta < 0 && after < 0 && !change.allow_negative_balance {
        return Ok(Err(PointsError::Insufficient {
            balance,
            requested: change.delta,
        }));
    }
    connection
        .prepare_cached(
            "INSERT INTO points_ledger (platform, user_id, delta, reason, at_ms, source_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            change.platform.as_str(),
            change.user_id,
            change.delta,
            change.reason,
            change.at_ms,
            change.source_key,
        ])?;
    balances.insert(identity, after);
    Ok(Ok(after))
}

/// Links the identities of two known accounts; the smaller identity id survives and
/// the other is deleted. Returns the surviving identity.
pub(crate) fn link(
    connection: &Connection,
    (platform_a, user_a): (Platform, &str),
    (platform_b, user_b): (Platform, &str),
) -> Result<i64, StoreError> {
    let known = |platform: Platform, user_id: &str| -> Result<i64, StoreError> {
        identity_of(connection, platform, user_id)?.ok_or_else(|| {
            StoreError::Points(PointsError::UnknownViewer {
                platform,
                user_id: user_id.to_owned(),
            })
        })
    };
    let first = known(platform_a, user_a)?;
    let second = known(platform_b, user_b)?;
    if first == second {
        return Ok(first);
    }
    let balance_first = identity_balance(connection, first)?;
    let balance_second = identity_balance(connection, second)?;
    if balance_first.checked_add(balance_second).is_none() {
        return Err(StoreError::Points(PointsError::Overflow {
            balance: balance_first,
            delta: balance_second,
        }));
    }
    let (keep, merged) = (first.min(second), first.max(second));
    connection
        .prepare_cached("UPDATE viewers SET identity = ?1 WHERE identity = ?2")?
        .execute([keep, merged])?;
    connection
        .prepare_cached("DELETE FROM identities WHERE id = ?1")?
        .execute([merged])?;
    Ok(keep)
}

fn accounts_of(connection: &Connection, identity: i64) -> Result<Vec<ViewerRow>, StoreError> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {VIEWER_COLUMNS} FROM viewers WHERE identity = ?1 ORDER BY platform, user_id"
    ))?;
    let rows = statement.query_map([identity], viewer_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every account linked with this one, itself included (empty for an unknown account).
pub(crate) fn linked(
    connection: &Connection,
    platform: Platform,
    user_id: &str,
) -> Result<Vec<ViewerRow>, StoreError> {
    match identity_of(connection, platform, user_id)? {
        Some(identity) => accounts_of(connection, identity),
        None => Ok(Vec::new()),
    }
}

/// The `limit` identities with the highest balances among those with any entry;
/// ties by identity id.
pub(crate) fn top(connection: &Connection, limit: usize) -> Result<Vec<IdentityTotal>, StoreError> {
    let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
    let fast: rusqlite::Result<Vec<(i64, i64)>> = connection
        .prepare_cached(
            "SELECT v.identity, sum(l.delta) AS total FROM points_ledger l
             JOIN viewers v ON v.platform = l.platform AND v.user_id = l.user_id
             GROUP BY v.identity ORDER BY total DESC, v.identity LIMIT ?1",
        )
        .and_then(|mut statement| {
            statement
                .query_map([limit_sql], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        });
    let totals = match fast {
        Ok(totals) => totals,
        // A partial sum overflowed (see `identity_balance`): sum exactly here.
        Err(_) => {
            let mut statement = connection.prepare_cached(
                "SELECT v.identity, l.delta FROM points_ledger l
                 JOIN viewers v ON v.platform = l.platform AND v.user_id = l.user_id",
            )?;
            let mut rows = statement.query([])?;
            let mut sums: HashMap<i64, i128> = HashMap::new();
            while let Some(row) = rows.next()? {
                *sums.entry(row.get(0)?).or_default() += i128::from(row.get::<_, i64>(1)?);
            }
            let mut totals = sums
                .into_iter()
                .map(|(identity, total)| Ok((identity, exact(total)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            totals.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            totals.truncate(limit);
            totals
        }
    };
    totals
        .into_iter()
        .map(|(identity, total)| {
            Ok(IdentityTotal {
                identity,
                total,
                accounts: accounts_of(connection, identity)?,
            })
        })
        .collect()
}

/// Accounts whose login is `login`, ignoring case, newest sighting first.
pub(crate) fn find(
    connection: &Connection,
    login: &str,
    platform: Option<Platform>,
) -> Result<Vec<ViewerRow>, StoreError> {
    let platform = platform.map(Platform::as_str);
    if login.is_ascii() {
        // NOCASE folds ASCII only, which is all an ASCII login can differ by.
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {VIEWER_COLUMNS} FROM viewers
             WHERE login = ?1 COLLATE NOCASE AND (?2 IS NULL OR platform = ?2)
             ORDER BY last_seen_ms DESC, platform, user_id"
        ))?;
        let rows = statement.query_map(params![login, platform], viewer_row)?;
        return Ok(rows.collect::<Result<_, _>>()?);
    }
    // Rare: a non-ASCII login (some YouTube handles). Compare with Unicode lowercase.
    let wanted = login.to_lowercase();
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {VIEWER_COLUMNS} FROM viewers WHERE (?1 IS NULL OR platform = ?1)
         ORDER BY last_seen_ms DESC, platform, user_id"
    ))?;
    let rows = statement.query_map(params![platform], viewer_row)?;
    let mut found = Vec::new();
    for row in rows {
        let row = row?;
        if row.login.to_lowercase() == wanted {
            found.push(row);
        }
    }
    Ok(found)
}

/// The newest `limit` entries of the account's identity (all its linked accounts),
/// newest first.
pub(crate) fn entries(
    connection: &Connection,
    platform: Platform,
    user_id: &str,
    limit: usize,
) -> Result<Vec<LedgerEntry>, StoreError> {
    let Some(identity) = identity_of(connection, platform, user_id)? else {
        return Ok(Vec::new());
    };
    let mut statement = connection.prepare_cached(
        "SELECT l.id, l.platform, l.user_id, l.delta, l.reason, l.at_ms, l.source_key
         FROM viewers v
         JOIN points_ledger l ON l.platform = v.platform AND l.user_id = v.user_id
         WHERE v.identity = ?1 ORDER BY l.id DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(
        params![identity, i64::try_from(limit).unwrap_or(i64::MAX)],
        |row| {
            Ok(LedgerEntry {
                id: row.get(0)?,
                platform: parse_platform(&row.get::<_, String>(1)?)?,
                user_id: row.get(2)?,
                delta: row.get(3)?,
                reason: row.get(4)?,
                at_ms: row.get(5)?,
                source_key: row.get(6)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
