//! The store's error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// File system trouble around the database (backups, directories).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database holds migrations this build does not know: it was written by a newer Roadie.
    #[error(
        "the database at {path} was migrated by a newer roadie (unknown migration {version}); refusing to run an older build against it"
    )]
    NewerDatabase {
        /// The database file.
        path: String,
        /// The unknown migration.
        version: String,
    },
    /// The database file is damaged (SQLite says corrupt, or not a database).
    #[error("{}", damaged_message(path, reason, backup.as_deref()))]
    Damaged {
        /// The database file.
        path: std::path::PathBuf,
        /// SQLite's words.
        reason: String,
        /// The newest backup, if any.
        backup: Option<std::path::PathBuf>,
    },
    /// A value is not acceptable for the schema.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A points operation was refused (an unknown viewer, an overflowing link).
    #[error(transparent)]
    Points(#[from] crate::PointsError),
    /// The writer thread has stopped (shutdown or a crash).
    #[error("the database writer has stopped")]
    WriterGone,
}

/// What to do about a damaged database, spelled out: the streamer may have to go live
/// in minutes.
fn damaged_message(
    path: &std::path::Path,
    reason: &str,
    backup: Option<&std::path::Path>,
) -> String {
    let path = path.display();
    let restore = backup
        .map(|backup| {
            format!(
                ", or copy the backup {} to {path} to go back to it",
                backup.display()
            )
        })
        .unwrap_or_default();
    format!(
        "the database {path} is damaged ({reason}); Roadie cannot start on it. To go on now, \
         move it aside with its -wal and -shm files (e.g. `mv {path} {path}.damaged`) and \
         start again: Roadie creates a fresh, empty database{restore}. \
         `sqlite3 {path}.damaged .recover` often saves most of the damaged one"
    )
}
