//! `kill -9` in the middle of a burst of 100,000 event writes loses nothing anyone
//! saw or was told was stored, corrupts nothing, and re-runs no migration.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::support;

#[test]
fn kill_9_during_a_write_burst_keeps_every_seen_event() {
    let env = support::env();
    let mut daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let pid = daemon.pid();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let rt = support::runtime();
    rt.block_on(async {
        let mut stream = client.subscribe(&[], None).await.unwrap();
        let seen_by_reader = Arc::clone(&seen);
        let reader = tokio::spawn(async move {
            while let Some(Ok(event)) = stream.next_event().await {
                seen_by_reader.lock().unwrap().push(event.id);
            }
        });
        let acked_by_writer = Arc::clone(&acked);
        let writer_client = client.clone();
        let writer = tokio::spawn(async move {
            for batch in 0..100 {
                match writer_client
                    .publish(support::custom_events(1000, batch * 1000))
                    .await
                {
                    Ok(published) => acked_by_writer.lock().unwrap().extend(published.ids),
                    Err(_) => break,
                }
            }
        });
        // Kill once a good part of the burst is through, while it is still going.
        loop {
            let count = seen.lock().unwrap().len();
            if count >= 30_000 {
                break;
            }
            assert!(
                !writer.is_finished(),
                "the burst ended before the kill (only {count} seen)"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        #[allow(unsafe_code)]
        // SAFETY: kill(2) on the daemon we started.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), writer).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
    });
    daemon.kill9();
    let seen = seen.lock().unwrap().clone();
    let acked = acked.lock().unwrap().clone();
    assert!(
        seen.len() >= 30_000 && seen.len() < 100_000,
        "saw {} events",
        seen.len()
    );

    let database = env.data_dir().join("roadie.db");
    {
        let connection = Connection::open(&database).unwrap();
        let integrity: String = connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
        let mut lookup = connection
            .prepare("SELECT count(*) FROM event_log WHERE id = ?1")
            .unwrap();
        for id in seen.iter().chain(acked.iter()) {
            let found: i64 = lookup.query_row([id], |row| row.get(0)).unwrap();
            assert_eq!(
                found, 1,
                "event {id} was seen or acknowledged before the kill but is gone"
            );
        }
    }

    let mut restarted = env.spawn_daemon();
    let rt = support::runtime();
    let status = rt.block_on(support::client(&restarted).status()).unwrap();
    let store = status
        .components
        .iter()
        .find(|component| component.name == "store")
        .unwrap();
    assert_eq!(
        store.detail, "schema up to date",
        "a migration ran again after the crash"
    );
    assert!(!restarted.stderr().contains("applied database migration"));
    // New events continue after the old ones.
    let fresh = rt
        .block_on(support::client(&restarted).publish(support::custom_events(1, 0)))
        .unwrap();
    assert!(fresh.ids[0] > *seen.last().unwrap());
    restarted.terminate(Duration::from_secs(6)).unwrap();
    let connection = Connection::open(&database).unwrap();
    let migrations: i64 = connection
        .query_row("SELECT count(*) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(migrations as usize, roadie_store_migrations());
}

fn roadie_store_migrations() -> usize {
    // The binary's migrations, counted from the migrations directory.
    std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../roadie-store/migrations"
    ))
    .unwrap()
    .filter(|entry| {
        entry
            .as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|ext| ext == "sql")
    })
    .count()
}
