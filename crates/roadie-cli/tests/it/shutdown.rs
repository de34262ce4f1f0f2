//! SIGINT or SIGTERM: stop accepting, finish what was acknowledged, exit within 5 s.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::support;

#[test]
fn sigint_during_writes_exits_in_time_with_every_acknowledged_event_stored() {
    let env = support::env();
    let mut daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let rt = support::runtime();
    let (stream_end, elapsed) = rt.block_on(async {
        let mut stream = client.subscribe(&[], None).await.unwrap();
        let acked_by_writer = Arc::clone(&acked);
        let writer_client = client.clone();
        let writer = tokio::spawn(async move {
            for batch in 0..1000 {
                match writer_client
                    .publish(support::custom_events(500, batch * 500))
                    .await
                {
                    Ok(published) => acked_by_writer.lock().unwrap().extend(published.ids),
                    Err(_) => break,
                }
            }
        });
        while acked.lock().unwrap().len() < 5_000 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let began = Instant::now();
        #[allow(unsafe_code)]
        // SAFETY: kill(2) on the daemon we started.
        unsafe {
            libc::kill(daemon.pid() as i32, libc::SIGINT);
        }
        // The stream ends with the daemon's "going away" close (or the socket closing).
        let mut end = None;
        while let Ok(Some(next)) =
            tokio::time::timeout(Duration::from_secs(6), stream.next_event()).await
        {
            if let Err(error) = next {
                end = Some(error.to_string());
                break;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(6), writer).await;
        (end, began)
    });
    let status = daemon
        .terminate(Duration::from_secs(6))
        .expect("the daemon did not exit after SIGINT");
    assert!(elapsed.elapsed() < Duration::from_secs(6));
    assert!(status.success(), "{status:?}\n{}", daemon.stderr());
    let stderr = daemon.stderr();
    assert!(
        stderr.contains("SIGINT received") && stderr.contains("database writer flushed"),
        "{stderr}"
    );
    if let Some(end) = stream_end {
        assert!(
            end.contains("1001") || end.contains("shutting down") || end.contains("closed"),
            "{end}"
        );
    }
    // Nothing answers any more.
    assert!(
        std::net::TcpStream::connect(daemon.address()).is_err(),
        "still accepting after shutdown"
    );

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 5_000);
    let connection = Connection::open(env.data_dir().join("roadie.db")).unwrap();
    let mut lookup = connection
        .prepare("SELECT count(*) FROM event_log WHERE id = ?1")
        .unwrap();
    for id in &acked {
        let found: i64 = lookup.query_row([id], |row| row.get(0)).unwrap();
        assert_eq!(
            found, 1,
            "acknowledged event {id} is missing after shutdown"
        );
    }
}
