//! Embedded, timestamp-named migrations, applied in order, each in its own
//! transaction, after a backup of the database whenever any are pending.
//!
//! A landed migration is never edited: `LANDED` pins each one's checksum and a test
//! fails when the text changes. Add a new file instead.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// `YYYYMMDDHHMMSS_name`, the order key.
    pub version: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

/// Every migration this build knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: "20261126120000_init",
        sql: include_str!("../migrations/20261126120000_init.sql"),
    },
    Migration {
        version: "20261126150000_stream_analytics",
        sql: include_str!("../migrations/20261126150000_stream_analytics.sql"),
    },
    Migration {
        version: "20261127090000_automation",
        sql: include_str!("../migrations/20261127090000_automation.sql"),
    },
    Migration {
        version: "20261127100000_obs_health",
        sql: include_str!("../migrations/20261127100000_obs_health.sql"),
    },
    Migration {
        version: "20261127190000_event_log_light_check",
        sql: include_str!("../migrations/20261127190000_event_log_light_check.sql"),
    },
];

/// What opening the database did.
#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    /// Migrations applied now, in order.
    pub applied: Vec<String>,
    /// The backup written before applying them (none for a new database).
    pub backup: Option<PathBuf>,
}

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version       TEXT    PRIMARY KEY NOT NULL,
    checksum      TEXT    NOT NULL,
    applied_at_ms INTEGER NOT NULL
)";

/// FNV-1a 64 of the migration text: enough to notice an edit, no crypto needed.
pub(crate) fn checksum(sql: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sql.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

pub(crate) fn apply(
    connection: &mut Connection,
    path: &Path,
    keep_backups: usize,
) -> Result<MigrationReport, StoreError> {
    connection.execute_batch(CREATE_LEDGER)?;
    let applied: Vec<String> = {
        let mut statement =
            connection.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    if let Some(unknown) = applied.iter().find(|version| {
        !MIGRATIONS
            .iter()
            .any(|known| known.version == version.as_str())
    }) {
        return Err(StoreError::NewerDatabase {
            path: path.display().to_string(),
            version: unknown.clone(),
        });
    }
    let pending: Vec<&Migration> = MIGRATIONS
        .iter()
        .filter(|migration| !applied.iter().any(|done| done == migration.version))
        .collect();
    let mut report = MigrationReport::default();
    if pending.is_empty() {
        return Ok(report);
    }
    if !applied.is_empty() || has_user_tables(connection)? {
        report.backup = Some(backup(connection, path, pending[0].version, keep_backups)?);
    }
    for migration in pending {
        let transaction = connection.transaction()?;
        // Re-check inside the transaction: another process may have raced us here.
        let already: Option<String> = transaction
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |row| row.get(0),
            )
            .optional()?;
        if already.is_some() {
            continue;
        }
        transaction.execute_batch(migration.sql)?;
        transaction.execute(
            "INSERT INTO schema_migrations (version, checksum, applied_at_ms) VALUES (?1, ?2, ?3)",
            params![migration.version, checksum(migration.sql), crate::now_ms()],
        )?;
        transaction.commit()?;
        tracing::info!(migration = migration.version, "applied database migration");
        report.applied.push(migration.version.to_owned());
    }
    Ok(report)
}

fn has_user_tables(connection: &Connection) -> Result<bool, StoreError> {
    let count: i64 = connection.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' AND name NOT LIKE 'sqlite_%'",
        [],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

fn backup(
    connection: &Connection,
    path: &Path,
    next_version: &str,
    keep: usize,
) -> Result<PathBuf, StoreError> {
    let directory = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("backups");
    std::fs::create_dir_all(&directory).map_err(|source| StoreError::Io {
        context: format!("creating backup directory {}", directory.display()),
        source,
    })?;
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("roadie");
    let target = directory.join(format!(
        "{stem}-{}-before-{next_version}.db",
        crate::now_ms()
    ));
    // VACUUM INTO writes a consistent, compacted copy even while WAL holds changes.
    connection.execute("VACUUM INTO ?1", [target.to_string_lossy().as_ref()])?;
    tracing::info!(backup = %target.display(), "backed up the database before migrating");
    prune_backups(&directory, stem, keep);
    Ok(target)
}

/// The backups of the database at `path`, oldest first.
pub(crate) fn backups_of(path: &Path) -> Vec<PathBuf> {
    let directory = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("backups");
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("roadie");
    list_backups(&directory, stem)
}

fn list_backups(directory: &Path, stem: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let prefix = format!("{stem}-");
    let mut backups: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|candidate| {
            candidate
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".db"))
        })
        .collect();
    // Names embed the millisecond time right after the stem, so they sort by age.
    backups.sort();
    backups
}

fn prune_backups(directory: &Path, stem: &str, keep: usize) {
    let backups = list_backups(directory, stem);
    let excess = backups.len().saturating_sub(keep.max(1));
    for old in backups.into_iter().take(excess) {
        if let Err(error) = std::fs::remove_file(&old) {
            tracing::warn!(backup = %old.display(), %error, "could not delete an old backup");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checksums of landed migrations. Editing a landed migration fails this test:
    /// write a new migration instead.
    const LANDED: &[(&str, &str)] = &[
        ("20261126120000_init", "a90b810a3e4ea7be"),
        ("20261126150000_stream_analytics", "e3a631cce8d9f9a1"),
        ("20261127090000_automation", "e15c07334a3c3d86"),
        ("20261127100000_obs_health", "374fd0f6a06ca558"),
        ("20261127190000_event_log_light_check", "c3c1b53c203cce4d"),
    ];

    #[test]
    fn landed_migrations_are_unchanged_and_ordered() {
        for (version, expected) in LANDED {
            let migration = MIGRATIONS
                .iter()
                .find(|m| m.version == *version)
                .expect("landed migration missing");
            assert_eq!(
                checksum(migration.sql),
                *expected,
                "migration {version} was edited after it landed"
            );
        }
        let mut versions: Vec<&str> = MIGRATIONS.iter().map(|m| m.version).collect();
        let sorted = {
            let mut copy = versions.clone();
            copy.sort();
            copy
        };
        assert_eq!(versions, sorted, "MIGRATIONS must be in version order");
        versions.dedup();
        assert_eq!(versions.len(), MIGRATIONS.len());
        for migration in MIGRATIONS {
            let (stamp, name) = migration.version.split_at(14);
            assert!(
                stamp.bytes().all(|b| b.is_ascii_digit()) && name.starts_with('_'),
                "{}",
                migration.version
            );
        }
    }
}
