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
