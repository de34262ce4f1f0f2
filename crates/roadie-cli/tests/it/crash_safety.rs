//! `kill -9` in the middle of a burst of 100,000 event writes loses nothing anyone
//! saw or was told was stored, corrupts nothing, and re-runs no migration; another
//! program holding the database's write lock delays events but loses none.

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

fn store_component(client: &roadie_client::Client) -> (String, String) {
    let status = support::runtime().block_on(client.status()).unwrap();
    let store = status
        .components
        .into_iter()
        .find(|component| component.name == "store")
        .unwrap();
    (
        serde_json::to_value(store.state)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned(),
        store.detail,
    )
}

#[test]
fn a_database_locked_by_another_program_delays_events_and_loses_none() {
    let env = support::env();
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    // A database browser with an open write transaction, longer than the busy timeout.
    let other = Connection::open(env.data_dir().join("roadie.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let rt = support::runtime();
    let publisher = {
        let client = client.clone();
        rt.spawn(async move { client.publish(support::custom_events(5, 0)).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let detail = loop {
        let (state, detail) = store_component(&client);
        if state == "degraded" {
            break detail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "store stayed {state}: {detail}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(detail.contains("another program"), "{detail}");
    assert!(
        !publisher.is_finished(),
        "acknowledged before it was stored"
    );

    other.execute_batch("COMMIT").unwrap();
    let published = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(15), publisher).await })
        .expect("the held events were never stored")
        .unwrap()
        .unwrap();
    assert_eq!(published.ids.len(), 5);
    let stored: i64 = other
        .query_row(
            "SELECT count(*) FROM event_log WHERE type = 'custom'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stored, 5);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store_component(&client).0 != "ok" {
        assert!(
            std::time::Instant::now() < deadline,
            "the store never reported it could write again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
