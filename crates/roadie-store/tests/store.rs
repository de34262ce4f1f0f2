//! The store through its public API: migrations and backups, the batching writer,
//! commit-before-visibility, reads, credentials and retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Automation and points tests, in tests/store/ (one test binary per crate).
#[path = "store/automation.rs"]
mod automation;
#[path = "store/points.rs"]
mod points;
#[path = "store/points_model.rs"]
mod points_model;
#[path = "store/support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{EventId, Platform, Timestamp};
use roadie_store::{
    EventRow, MIGRATIONS, NewEvent, OauthCredential, Retention, Store, StoreError, StoreOptions,
};
use rusqlite::Connection;
use support::runtime;

fn no_hook() -> roadie_store::CommitHook {
    Box::new(|_rows: &[EventRow]| {})
}

fn custom(n: usize) -> NewEvent {
    NewEvent {
        at_ms: 1_764_151_200_000 + n as i64,
        platform: Platform::Roadie,
        kind: "custom",
        data_json: format!("{{\"n\":{n}}}"),
    }
}

#[test]
fn new_database_migrates_once_without_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, report) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        assert_eq!(report.applied.len(), MIGRATIONS.len());
        assert!(report.backup.is_none());
        assert!(store.close(Duration::from_secs(5)).await);
        let (store, report) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        assert!(
            report.applied.is_empty(),
            "a migration ran twice: {:?}",
            report.applied
        );
        assert!(report.backup.is_none());
        assert!(store.close(Duration::from_secs(5)).await);
    });
    let connection = Connection::open(&path).unwrap();
    let rows: i64 = connection
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as usize, MIGRATIONS.len());
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn pending_migration_on_existing_data_is_preceded_by_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    {
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch("CREATE TABLE legacy (x INTEGER); INSERT INTO legacy VALUES (42);")
            .unwrap();
    }
    let rt = runtime();
    let report = rt.block_on(async {
        let (store, report) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        store.close(Duration::from_secs(5)).await;
        report
    });
    let backup = report
        .backup
        .expect("no backup before migrating existing data");
    assert!(backup.starts_with(dir.path().join("backups")));
    let copy = Connection::open(&backup).unwrap();
    let x: i64 = copy
        .query_row("SELECT x FROM legacy", [], |r| r.get(0))
        .unwrap();
    assert_eq!(x, 42);
    let has_log: i64 = copy
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'event_log'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(has_log, 0, "the backup must be taken before the migration");
}

#[test]
fn the_event_log_rebuild_keeps_every_event_and_drops_only_the_json_parse() {
    const REBUILD: &str = "20261127190000_event_log_light_check";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    {
        // A database as the previous build left it, with events in it.
        let (connection, _) = support::database_before(&path, REBUILD);
        connection
            .execute_batch(
                r#"INSERT INTO event_log VALUES ('01KB0000000000000000000001', 1, 'twitch', 'follow', '{"user":{"id":"1"}}');
                   INSERT INTO event_log VALUES ('01KB0000000000000000000002', 2, 'kick', 'chat.message', '{"text":"hi"}');"#,
            )
            .unwrap();
    }
    let rt = runtime();
    rt.block_on(async {
        let (store, report) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        assert_eq!(report.applied, vec![REBUILD.to_owned()]);
        let kept = store.events_after(None, vec![], 10).await.unwrap();
        assert_eq!(
            kept.iter()
                .map(|row| (
                    row.id.to_string(),
                    row.kind.to_string(),
                    row.data_json.clone()
                ))
                .collect::<Vec<_>>(),
            vec![
                (
                    "01KB0000000000000000000001".to_owned(),
                    "follow".to_owned(),
                    r#"{"user":{"id":"1"}}"#.to_owned()
                ),
                (
                    "01KB0000000000000000000002".to_owned(),
                    "chat.message".to_owned(),
                    r#"{"text":"hi"}"#.to_owned()
                ),
            ]
        );
        let chats = store
            .events_after(None, vec!["chat.message".into()], 10)
            .await
            .unwrap();
        assert_eq!(chats.len(), 1, "the type index came back");
        // Data that is not a JSON object is still refused.
        let mut bad = custom(0);
        bad.data_json = "not json".into();
        assert!(store.append_events_acked(vec![bad]).await.is_err());
        store.close(Duration::from_secs(5)).await;
    });
    let connection = Connection::open(&path).unwrap();
    let table: String = connection
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'event_log'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(!table.contains("json_valid"), "{table}");
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        store.close(Duration::from_secs(5)).await;
    });
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations VALUES ('29990101000000_future', 'x', 0)",
            [],
        )
        .unwrap();
    let error = Store::open(&path, StoreOptions::default(), no_hook()).unwrap_err();
    assert!(matches!(error, StoreError::NewerDatabase { .. }), "{error}");
}

/// A damaged file is named as such, with what to do now and the newest backup.
#[test]
fn a_damaged_database_says_how_to_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        for n in 0..2000 {
            store.append_event(custom(n)).await.unwrap();
        }
        assert!(store.close(Duration::from_secs(5)).await);
    });
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    for name in ["roadie-1000-before-x.db", "roadie-2000-before-y.db"] {
        std::fs::copy(&path, backups.join(name)).unwrap();
    }
    // Garble every page but the first (the file header and the schema's root).
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096 * 12, "{}", bytes.len());
    bytes[4096..].fill(0x5a);
    std::fs::write(&path, bytes).unwrap();

    let error = Store::open(&path, StoreOptions::default(), no_hook()).unwrap_err();
    let StoreError::Damaged { backup, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(
        backup.as_deref(),
        Some(backups.join("roadie-2000-before-y.db").as_path())
    );
    let message = error.to_string();
    assert!(
        message.contains("is damaged")
            && message.contains("mv ")
            && message.contains("roadie-2000"),
        "{message}"
    );

    std::fs::write(&path, "not a database at all, just text ".repeat(200)).unwrap();
    let error = Store::open(&path, StoreOptions::default(), no_hook()).unwrap_err();
    assert!(matches!(error, StoreError::Damaged { .. }), "{error}");
}

#[test]
fn events_are_committed_before_the_hook_sees_them_and_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let seen: Arc<Mutex<Vec<EventId>>> = Arc::default();
    let invisible: Arc<Mutex<usize>> = Arc::default();
    let hook_path = path.clone();
    let (seen_in_hook, invisible_in_hook) = (Arc::clone(&seen), Arc::clone(&invisible));
    let hook: roadie_store::CommitHook = Box::new(move |rows: &[EventRow]| {
        // A separate connection must already see every announced row.
        let reader = Connection::open(&hook_path).unwrap();
        let last = rows.last().unwrap().id.to_string();
        let found: i64 = reader
            .query_row(
                "SELECT count(*) FROM event_log WHERE id = ?1",
                [last],
                |r| r.get(0),
            )
            .unwrap();
        if found != 1 {
            *invisible_in_hook.lock().unwrap() += 1;
        }
        seen_in_hook
            .lock()
            .unwrap()
            .extend(rows.iter().map(|row| row.id));
    });
    let rt = runtime();
    rt.block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), hook).unwrap();
        for n in 0..5000 {
            store.append_event(custom(n)).await.unwrap();
        }
        let acked = store
            .append_events_acked((5000..5010).map(custom).collect())
            .await
            .unwrap();
        assert_eq!(acked.len(), 10);
        store.flush().await.unwrap();
        let stored = store.events_after(None, vec![], 100_000).await.unwrap();
        assert_eq!(stored.len(), 5010);
        assert!(stored.windows(2).all(|pair| pair[0].id < pair[1].id));
        for (n, row) in stored.iter().enumerate() {
            assert_eq!(
                row.data_json,
                format!("{{\"n\":{n}}}"),
                "out of order at {n}"
            );
        }
        assert_eq!(
            &stored[5000..].iter().map(|r| r.id).collect::<Vec<_>>(),
            &acked
        );
        let tail = store
            .events_after(Some(stored[4999].id), vec![], 100)
            .await
            .unwrap();
        assert_eq!(tail.len(), 10);
        let recent = store.recent_events(vec![], 3).await.unwrap();
        assert_eq!(
            recent.iter().map(|r| r.id).collect::<Vec<_>>(),
            stored[5007..].iter().map(|r| r.id).collect::<Vec<_>>()
        );
        assert_eq!(store.event_count().await.unwrap(), 5010);
        assert!(store.close(Duration::from_secs(5)).await);
    });
    assert_eq!(
        *invisible.lock().unwrap(),
        0,
        "the hook announced rows a reader could not see"
    );
    assert_eq!(seen.lock().unwrap().len(), 5010);
}

/// After a clean stop the database file alone holds every event: a streamer who copies
/// `roadie.db` as a backup, without the `-wal` file beside it, loses nothing.
#[test]
fn after_a_clean_stop_the_database_file_alone_holds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        for n in 0..500 {
            store.append_event(custom(n)).await.unwrap();
        }
        store.flush().await.unwrap();
        // A reader connection from the pool stays open, as in the daemon.
        assert_eq!(store.event_count().await.unwrap(), 500);
        assert!(store.close(Duration::from_secs(5)).await);
    });
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let count: i64 = Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM event_log", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 500);
}

/// A store on a fresh database whose write lock another connection holds, as a
/// database browser would; the busy timeout is short so the tests do not wait 5 s.
fn locked_store(
    path: &std::path::Path,
    options: StoreOptions,
    hook: roadie_store::CommitHook,
) -> (Store, Connection) {
    let options = StoreOptions {
        busy_timeout: Duration::from_millis(50),
        ..options
    };
    let (store, _) = Store::open(path, options, hook).unwrap();
    let other = Connection::open(path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    (store, other)
}

/// Waits until the store reports that it cannot write; what it says.
async fn write_problem_reported(store: &Store) -> String {
    let mut problem = store.write_problem();
    tokio::time::timeout(Duration::from_secs(5), problem.wait_for(Option::is_some))
        .await
        .expect("the held writes were never reported")
        .unwrap()
        .clone()
        .unwrap()
}

/// Another program (a database browser, a backup tool) holding the write lock past
/// the busy timeout: nothing is dropped, the problem is reported while it lasts, and
/// everything held is stored and announced once the lock is gone.
#[test]
fn events_wait_out_another_programs_write_lock_and_none_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let announced: Arc<Mutex<usize>> = Arc::default();
    let counter = Arc::clone(&announced);
    let hook: roadie_store::CommitHook = Box::new(move |rows: &[EventRow]| {
        *counter.lock().unwrap() += rows.len();
    });
    let rt = runtime();
    rt.block_on(async {
        let (store, other) = locked_store(&path, StoreOptions::default(), hook);
        let mut problem = store.write_problem();
        for n in 0..100 {
            store.append_event(custom(n)).await.unwrap();
        }
        let acked = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .append_events_acked((100..110).map(custom).collect())
                    .await
            }
        });
        let reported = write_problem_reported(&store).await;
        assert!(reported.contains("another program"), "{reported}");
        // Held well past several busy timeouts: nothing stored, nothing lost.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!acked.is_finished());
        assert_eq!(*announced.lock().unwrap(), 0);

        other.execute_batch("COMMIT").unwrap();
        let ids = tokio::time::timeout(Duration::from_secs(5), acked)
            .await
            .expect("the held events were never stored")
            .unwrap()
            .unwrap();
        assert_eq!(ids.len(), 10);
        store.flush().await.unwrap();
        assert_eq!(store.event_count().await.unwrap(), 110);
        assert_eq!(*announced.lock().unwrap(), 110);
        tokio::time::timeout(Duration::from_secs(5), problem.wait_for(Option::is_none))
            .await
            .expect("the problem was never cleared")
            .unwrap();
        assert!(store.close(Duration::from_secs(5)).await);
    });
}

/// While the writer cannot take more (here another program holds the lock), a try
/// gives the event back instead of waiting; everything taken is stored afterwards.
#[test]
fn a_full_queue_gives_a_tried_event_back_and_loses_none_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let options = StoreOptions {
            queue_capacity: 8,
            max_batch: 4,
            ..StoreOptions::default()
        };
        let (store, other) = locked_store(&path, options, no_hook());
        let mut taken = 0;
        let given_back = loop {
            match store.try_append_event(custom(taken)).unwrap() {
                None => taken += 1,
                Some(event) => break event,
            }
            assert!(taken < 1000, "the queue never filled");
        };
        assert_eq!(given_back.data_json, custom(taken).data_json);
        other.execute_batch("COMMIT").unwrap();
        store.append_event(given_back).await.unwrap();
        store.flush().await.unwrap();
        assert_eq!(store.event_count().await.unwrap(), taken as u64 + 1);
        assert!(store.close(Duration::from_secs(5)).await);
    });
}

/// A shutdown while the lock is still held ends the wait: the daemon can stop, and
/// whoever waited for an acknowledgement hears that it failed.
#[test]
fn a_shutdown_ends_the_wait_for_a_locked_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, other) = locked_store(&path, StoreOptions::default(), no_hook());
        let acked = tokio::spawn({
            let store = store.clone();
            async move { store.append_events_acked(vec![custom(1)]).await }
        });
        write_problem_reported(&store).await;
        assert!(store.close(Duration::from_secs(5)).await);
        assert!(acked.await.unwrap().is_err());
        other.execute_batch("COMMIT").unwrap();
    });
}

/// With the queue full behind a locked database, a stop still returns within its time
/// limit (saying the writer did not finish) instead of hanging the daemon's exit.
#[test]
fn a_stop_behind_a_full_queue_keeps_its_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let options = StoreOptions {
        max_batch: 2,
        queue_capacity: 4,
        ..StoreOptions::default()
    };
    let rt = runtime();
    rt.block_on(async {
        let (store, other) = locked_store(&path, options, no_hook());
        let filler = tokio::spawn({
            let store = store.clone();
            async move {
                for n in 0..100 {
                    if store.append_event(custom(n)).await.is_err() {
                        break;
                    }
                }
            }
        });
        write_problem_reported(&store).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!filler.is_finished(), "the queue never filled");
        let started = std::time::Instant::now();
        assert!(!store.close(Duration::from_millis(500)).await);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        filler.abort();
        other.execute_batch("COMMIT").unwrap();
    });
}

#[test]
fn the_writer_checkpoints_the_wal_into_the_database_file() {
    // SQLite's own checkpoint is off (it would run inside COMMIT, before the fan-out);
    // the writer's must still move the log into the file, or the WAL grows forever.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let before = runtime().block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        store.flush().await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        for chunk in 0..50 {
            store
                .append_events_acked((chunk * 200..(chunk + 1) * 200).map(custom).collect())
                .await
                .unwrap();
        }
        // Keep the store open: closing it would checkpoint on its own. The checkpoint
        // thread runs beside the writer: give it a moment.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut after = std::fs::metadata(&path).unwrap().len();
        while after <= before + 200_000 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            after = std::fs::metadata(&path).unwrap().len();
        }
        assert!(
            after > before + 200_000,
            "10,000 events never reached the database file: {before} -> {after} bytes"
        );
        store.close(std::time::Duration::from_secs(5)).await;
        before
    });
    assert!(before > 0);
}

#[test]
fn ids_keep_increasing_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        let first = store.append_events_acked(vec![custom(1)]).await.unwrap();
        store.close(Duration::from_secs(5)).await;
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        let second = store.append_events_acked(vec![custom(2)]).await.unwrap();
        assert!(second[0] > first[0]);
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn type_filters_select_only_those_types() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = support::open(dir.path());
        let mut events = Vec::new();
        for n in 0..30 {
            let mut event = custom(n);
            event.kind = if n % 3 == 0 { "follow" } else { "custom" };
            event.platform = Platform::Twitch;
            events.push(event);
        }
        store.append_events_acked(events).await.unwrap();
        let follows = store
            .events_after(None, vec!["follow".into()], 100)
            .await
            .unwrap();
        assert_eq!(follows.len(), 10);
        assert!(
            follows
                .iter()
                .all(|row| row.kind == "follow" && row.platform == "twitch")
        );
        let both = store
            .events_after(None, vec!["follow".into(), "custom".into()], 100)
            .await
            .unwrap();
        assert_eq!(both.len(), 30);
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn credentials_keep_metadata_only_and_validate_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let rt = runtime();
    rt.block_on(async {
        let (store, _) = Store::open(&path, StoreOptions::default(), no_hook()).unwrap();
        let mut credential = OauthCredential {
            platform: Platform::Twitch,
            account_id: "141981764".into(),
            account_login: "twitchdev".into(),
            scopes: vec!["user:read:chat".into(), "moderator:read:followers".into()],
            expires_at: Some(Timestamp(1_764_151_200_000)),
            keystore_key: "oauth.twitch.141981764".into(),
        };
        store.upsert_credential(credential.clone(), 1).await.unwrap();
        credential.account_login = "twitchdev_renamed".into();
        credential.scopes.push("bits:read".into());
        store.upsert_credential(credential.clone(), 2).await.unwrap();
        assert_eq!(store.credentials().await.unwrap(), vec![credential.clone()]);

        let mut roadie = credential.clone();
        roadie.platform = Platform::Roadie;
        assert!(matches!(store.upsert_credential(roadie, 3).await, Err(StoreError::Invalid { field: "platform", .. })));
        let mut bad_scope = credential.clone();
        bad_scope.scopes = vec!["a,b".into()];
        assert!(store.upsert_credential(bad_scope, 3).await.is_err());

        // The schema itself refuses an unknown platform.
        let raw = store
            .write(|connection| {
                connection
                    .execute("INSERT INTO oauth_credentials VALUES ('myspace', '1', 'x', '', NULL, 'k', 0, 0)", [])
                    .map_err(StoreError::from)
            })
            .await;
        assert!(raw.is_err());
        // ... and that failure rolled back only itself.
        assert_eq!(store.credentials().await.unwrap().len(), 1);

        assert!(store.delete_credential(Platform::Twitch, "141981764".into()).await.unwrap());
        assert!(!store.delete_credential(Platform::Twitch, "141981764".into()).await.unwrap());
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn retention_bounds_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = support::open(dir.path());
        let ids = store
            .append_events_acked((0..100).map(custom).collect())
            .await
            .unwrap();
        let deleted = store
            .prune_events(
                Retention {
                    max_age_days: 0,
                    max_events: 40,
                },
                roadie_store::now_ms(),
            )
            .await
            .unwrap();
        assert_eq!(deleted, 60);
        let kept = store.events_after(None, vec![], 1000).await.unwrap();
        assert_eq!(kept.first().map(|row| row.id), Some(ids[60]));
        // Everything is younger than a day, so age-based retention keeps it all...
        let deleted = store
            .prune_events(
                Retention {
                    max_age_days: 1,
                    max_events: 0,
                },
                roadie_store::now_ms(),
            )
            .await
            .unwrap();
        assert_eq!(deleted, 0);
        // ... and deletes it all when "now" is two days later.
        let later = roadie_store::now_ms() + 2 * 86_400_000;
        let deleted = store
            .prune_events(
                Retention {
                    max_age_days: 1,
                    max_events: 0,
                },
                later,
            )
            .await
            .unwrap();
        assert_eq!(deleted, 40);
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn a_bad_fire_and_forget_event_costs_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let announced: Arc<Mutex<Vec<EventId>>> = Arc::default();
    let announced_in_hook = Arc::clone(&announced);
    let hook: roadie_store::CommitHook = Box::new(move |rows: &[EventRow]| {
        announced_in_hook
            .lock()
            .unwrap()
            .extend(rows.iter().map(|row| row.id));
    });
    let rt = runtime();
    rt.block_on(async {
        let (store, _) =
            Store::open(&dir.path().join("roadie.db"), StoreOptions::default(), hook).unwrap();
        // Sent back to back, they reach the writer in big batches: the bad ones sit
        // inside multi-row chunks.
        let bad = |n: usize| n % 97 == 13;
        for n in 0..3000 {
            let mut event = custom(n);
            if bad(n) {
                event.data_json = "not json".into();
            }
            store.append_event(event).await.unwrap();
        }
        store.flush().await.unwrap();
        let stored = store.events_after(None, vec![], 10_000).await.unwrap();
        let expected: Vec<String> = (0..3000)
            .filter(|n| !bad(*n))
            .map(|n| format!("{{\"n\":{n}}}"))
            .collect();
        assert_eq!(
            stored
                .iter()
                .map(|row| row.data_json.clone())
                .collect::<Vec<_>>(),
            expected
        );
        assert_eq!(
            *announced.lock().unwrap(),
            stored.iter().map(|row| row.id).collect::<Vec<_>>(),
            "the hook announced exactly the stored rows"
        );
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn a_producers_events_are_stored_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = support::open(dir.path());
        for size in [3usize, 50, 120] {
            let mut events: Vec<NewEvent> = (0..size).map(custom).collect();
            events[size - 1].data_json = "not json".into();
            assert!(
                store.append_events_acked(events).await.is_err(),
                "size {size}"
            );
            assert_eq!(
                store.event_count().await.unwrap(),
                0,
                "a failed batch of {size} left rows behind"
            );
        }
        let ids = store
            .append_events_acked((0..120).map(custom).collect())
            .await
            .unwrap();
        assert_eq!(ids.len(), 120);
        let stored = store.events_after(None, vec![], 1000).await.unwrap();
        assert_eq!(stored.iter().map(|row| row.id).collect::<Vec<_>>(), ids);
        assert!(
            stored
                .iter()
                .enumerate()
                .all(|(n, row)| row.data_json == format!("{{\"n\":{n}}}"))
        );
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn a_session_left_open_by_a_stop_mid_stream_is_not_merged_into_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = support::open(dir.path());
        let sample = |at: i64| roadie_store::StreamSample {
            at: Timestamp(at),
            viewers: Some(5),
            followers: None,
            chatters: None,
        };
        let minute = 60_000;
        let first = store
            .stream_online(Platform::Kick, Timestamp(0), Some("Day one".into()), None)
            .await
            .unwrap();
        assert!(!first.announced);
        // The daemon stores the announcement after opening the session.
        store
            .append_events_acked(vec![NewEvent {
                at_ms: 0,
                platform: Platform::Kick,
                kind: "stream.online",
                data_json: r#"{"title":"Day one","category":null}"#.into(),
            }])
            .await
            .unwrap();
        // Live for an hour, then Roadie stops without seeing the end.
        for at in (minute..=60 * minute).step_by(60_000) {
            let session = store
                .add_stream_sample(Platform::Kick, sample(at))
                .await
                .unwrap()
                .unwrap();
            assert_eq!((session.id, session.announced), (first.id, true));
        }
        // Restarted 5 minutes later, mid-stream: the same stream goes on.
        let again = store
            .stream_online(
                Platform::Kick,
                Timestamp(65 * minute),
                Some("Day one".into()),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            (again.id, again.announced, again.started_at),
            (first.id, true, Timestamp(0))
        );
        // The next day: a new stream; the old one ends at its last sample.
        let day = 24 * 60 * minute;
        let next = store
            .stream_online(Platform::Kick, Timestamp(day), Some("Day two".into()), None)
            .await
            .unwrap();
        assert_ne!(next.id, first.id);
        assert!(!next.announced);
        let sessions = store.stream_sessions(10).await.unwrap();
        assert_eq!(
            sessions
                .iter()
                .map(|session| (
                    session.started_at,
                    session.ended_at,
                    session.title.as_deref()
                ))
                .collect::<Vec<_>>(),
            [
                (Timestamp(day), None, Some("Day two")),
                // Ended at its last sample: the repeated announcement carries no figures.
                (Timestamp(0), Some(Timestamp(60 * minute)), Some("Day one")),
            ]
        );
        // A sample after a long silence opens a new session too (joined a new stream).
        let later = store
            .add_stream_sample(Platform::Kick, sample(day + 60 * minute))
            .await
            .unwrap()
            .unwrap();
        assert!(!later.announced);
        assert_ne!(later.id, next.id);
        store.close(Duration::from_secs(5)).await;
    });
}

#[test]
fn stream_sessions_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = support::open(dir.path());
        use roadie_store::StreamSample;
        // Joined mid-stream: the first sample opens a session.
        let sample = |at: i64, viewers: Option<u64>, followers: Option<u64>| StreamSample {
            at: Timestamp(at),
            viewers,
            followers,
            chatters: None,
        };
        let first = store
            .add_stream_sample(Platform::Twitch, sample(1_000, Some(10), None))
            .await
            .unwrap()
            .unwrap();
        let same = store
            .stream_online(
                Platform::Twitch,
                Timestamp(1_500),
                Some("Speedrun".into()),
                Some("Celeste".into()),
            )
            .await
            .unwrap();
        assert_eq!(first.id, same.id, "an open session is reused");
        // A poll opened it before the platform's announcement: that still goes out.
        assert_eq!((first.announced, same.announced), (false, false));
        assert_eq!(same.started_at, Timestamp(1_000));
        store
            .add_stream_sample(Platform::Twitch, sample(61_000, Some(12), Some(800)))
            .await
            .unwrap();
        store
            .add_stream_sample(Platform::Twitch, sample(61_000, None, None))
            .await
            .unwrap();
        assert!(
            store
                .stream_offline(Platform::Twitch, Timestamp(120_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .stream_offline(Platform::Twitch, Timestamp(121_000))
                .await
                .unwrap()
        );
        // A poll that still sees the stream live just after it ended (Helix caches)
        // stores nothing and opens no session.
        assert_eq!(
            store
                .add_stream_sample(Platform::Twitch, sample(150_000, Some(3), None))
                .await
                .unwrap(),
            None
        );
        let next = store
            .stream_online(Platform::Twitch, Timestamp(200_000), None, None)
            .await
            .unwrap();
        assert_ne!(next.id, first.id);
        assert!(!next.announced);
        assert!(
            store
                .stream_online(Platform::Roadie, Timestamp(0), None, None)
                .await
                .is_err()
        );

        let sessions = store.stream_sessions(10).await.unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[1].id, first.id);
        assert_eq!(
            (sessions[1].started_at, sessions[1].ended_at),
            (Timestamp(1_000), Some(Timestamp(120_000)))
        );
        assert_eq!(
            (
                sessions[1].title.as_deref(),
                sessions[1].category.as_deref()
            ),
            (Some("Speedrun"), Some("Celeste"))
        );
        let samples = store.stream_samples(first.id).await.unwrap();
        assert_eq!(
            samples,
            vec![
                sample(1_000, Some(10), None),
                sample(61_000, Some(12), Some(800))
            ]
        );
        store.close(Duration::from_secs(5)).await;
    });
}
