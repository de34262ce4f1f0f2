//! Opening connections with the pragmas every Roadie connection needs.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// The single write connection: WAL, foreign keys, `synchronous=NORMAL` (a commit
/// survives a crash of the process; WAL keeps the file consistent on power loss).
pub(crate) fn open_writer(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(busy_timeout)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    // A checkpoint thread of the writer's does it beside the writer (see `writer`).
    connection.pragma_update(None, "wal_autocheckpoint", 0)?;
    // Small page cache: the daemon must stay light while idle.
    connection.pragma_update(None, "cache_size", -512)?;
    // A burst's batch (up to 4,096 events, about 2 MB of pages) stays in memory until
    // its commit instead of spilling to the WAL half-way and being read back: spills
    // were a twentieth of the writer's time in a chat flood. Only dirty pages may go
    // past the cache size; once committed, the cache shrinks back.
    connection.pragma_update(None, "cache_spill", 2048)?;
    Ok(connection)
}

/// A read-only connection for the reader pool.
pub(crate) fn open_reader(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(busy_timeout)?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.pragma_update(None, "cache_size", -512)?;
    Ok(connection)
}
