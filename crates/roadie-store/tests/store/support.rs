//! Helpers shared by the store tests.

use std::path::Path;
use std::time::Duration;

use roadie_core::Platform;
use roadie_store::{EventRow, MIGRATIONS, PointsChange, Store, StoreOptions, ViewerSeen};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Opens (creating) `roadie.db` in `dir`.
pub fn open(dir: &Path) -> Store {
    let hook: roadie_store::CommitHook = Box::new(|_rows: &[EventRow]| {});
    Store::open(&dir.join("roadie.db"), StoreOptions::default(), hook)
        .unwrap()
        .0
}

/// A database at `path` as a build before migration `version` left it (every earlier
/// migration applied and recorded), and the index of `version` in `MIGRATIONS`.
pub fn database_before(path: &Path, version: &str) -> (rusqlite::Connection, usize) {
    let position = MIGRATIONS
        .iter()
        .position(|migration| migration.version == version)
        .unwrap();
    assert!(position > 0);
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)",
        )
        .unwrap();
    for migration in &MIGRATIONS[..position] {
        connection.execute_batch(migration.sql).unwrap();
        connection
            .execute(
                "INSERT INTO schema_migrations VALUES (?1, 'old', 0)",
                [migration.version],
            )
            .unwrap();
    }
    (connection, position)
}

pub async fn close(store: Store) {
    assert!(store.close(Duration::from_secs(5)).await);
}

/// A change of `delta` points for `platform:user_id` (login = user id).
pub fn change(platform: Platform, user_id: &str, delta: i64, key: Option<&str>) -> PointsChange {
    PointsChange {
        platform,
        user_id: user_id.into(),
        login: user_id.into(),
        name: user_id.to_uppercase(),
        delta,
        reason: if delta > 0 { "given" } else { "taken" }.into(),
        at_ms: 1_000,
        source_key: key.map(str::to_owned),
        allow_negative_balance: false,
    }
}

/// A sighting of `platform:user_id` as `login` at `at_ms`.
pub fn seen(platform: Platform, user_id: &str, login: &str, at_ms: i64) -> ViewerSeen {
    ViewerSeen {
        platform,
        user_id: user_id.into(),
        login: login.into(),
        name: login.into(),
        at_ms,
    }
}

/// Every file in tests/store/ must be a module of tests/store.rs, or its tests never run.
#[test]
fn no_forgotten_test_files() {
    let listed = include_str!("../store.rs");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/store")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".rs") {
            continue; // e.g. proptest's regression seeds
        }
        assert!(
            listed.contains(&format!("#[path = \"store/{name}\"]")),
            "tests/store/{name} is not a module of tests/store.rs"
        );
    }
}
