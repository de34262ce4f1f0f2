//! The event stream: complete and in order, `since` replays exactly what was
//! missed, a slow consumer is cut off without slowing anyone, and the CLI prints it.

use std::time::Duration;

use roadie_client::ClientError;
use roadie_protocol::EventEnvelope;

use crate::support;

async fn read_n(stream: &mut roadie_client::EventStream, count: usize) -> Vec<EventEnvelope> {
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(20), stream.next_event()).await;
        match next {
            Ok(Some(Ok(event))) => events.push(event),
            other => panic!(
                "stream ended after {} of {count} events: {other:?}",
                events.len()
            ),
        }
    }
    events
}

#[test]
fn ten_thousand_events_arrive_complete_and_in_order_and_since_replays_the_missed() {
    let env = support::env();
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    rt.block_on(async {
        let mut live = client.subscribe(&["custom".into()], None).await.unwrap();
        let publisher = client.clone();
        let publishing = tokio::spawn(async move {
            for batch in 0..20 {
                publisher
                    .publish(support::custom_events(500, batch * 500))
                    .await
                    .unwrap();
            }
        });
        let received = read_n(&mut live, 10_000).await;
        publishing.await.unwrap();
        for (expected, event) in received.iter().enumerate() {
            assert_eq!(
                support::sequence_number(event),
                expected as u64,
                "out of order or missing"
            );
            assert_eq!(
                (event.v, event.platform.as_str(), event.kind.as_str()),
                (1, "roadie", "custom")
            );
        }
        assert!(
            received.windows(2).all(|pair| pair[0].id < pair[1].id),
            "ids are not increasing"
        );

        // A subscriber that left after event 4999 comes back with `since`.
        let resume_after = received[4999].id.clone();
        let mut resumed = client.subscribe(&[], Some(&resume_after)).await.unwrap();
        let replayed = read_n(&mut resumed, 5000).await;
        let numbers: Vec<u64> = replayed.iter().map(support::sequence_number).collect();
        assert_eq!(numbers, (5000..10_000).collect::<Vec<u64>>());
        // Then live events follow with no gap and no duplicate.
        client
            .publish(support::custom_events(3, 10_000))
            .await
            .unwrap();
        let live_after = read_n(&mut resumed, 3).await;
        assert_eq!(
            live_after
                .iter()
                .map(support::sequence_number)
                .collect::<Vec<_>>(),
            vec![10_000, 10_001, 10_002]
        );
        // The first subscriber sees the same three.
        let first_after = read_n(&mut live, 3).await;
        assert_eq!(
            first_after.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            live_after.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
        );

        // Type filters apply to replay and live alike.
        let mut none = client
            .subscribe(&["follow".into()], Some(&received[0].id))
            .await
            .unwrap();
        client
            .publish(support::custom_events(1, 20_000))
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), none.next_event())
                .await
                .is_err(),
            "a filtered stream got a custom event"
        );

        // Bad query parameters are refused with a JSON error.
        match client.subscribe(&["no.such.type".into()], None).await {
            Err(ClientError::Api { status: 400, .. }) => {}
            other => panic!("expected a 400, got {other:?}"),
        }
    });

    // The CLI prints stored events, one JSON document per line with --json.
    let output = env.run(
        &["events", "--json", "--limit", "5", "--type", "custom"],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<EventEnvelope> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(support::sequence_number(&lines[4]), 20_000);
}

/// Publishes `total` custom events, each padded with `padding` bytes, while `reader`
/// reads them all.
async fn flood_while_reading(
    client: &roadie_client::Client,
    reader: &mut roadie_client::EventStream,
    total: usize,
    padding: usize,
) {
    let publisher = client.clone();
    let publishing = tokio::spawn(async move {
        let pad = "x".repeat(padding);
        for batch in 0..(total / 500) {
            let mut events = support::custom_events(500, batch * 500);
            for event in &mut events {
                event.data["pad"] = serde_json::json!(pad);
            }
            publisher.publish(events).await.unwrap();
        }
    });
    let all = read_n(reader, total).await;
    assert_eq!(
        support::sequence_number(&all[total - 1]),
        (total - 1) as u64
    );
    publishing.await.unwrap();
}

#[test]
fn a_consumer_that_falls_behind_catches_up_from_the_database_and_misses_nothing() {
    let env = support::env();
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    rt.block_on(async {
        let mut behind = client.subscribe(&[], None).await.unwrap();
        let mut reader = client.subscribe(&[], None).await.unwrap();
        // Ten times the fan-out's capacity while `behind` reads nothing for a moment.
        let total = 80_000;
        flood_while_reading(&client, &mut reader, total, 0).await;
        let caught_up = read_n(&mut behind, total).await;
        for (expected, event) in caught_up.iter().enumerate() {
            assert_eq!(
                support::sequence_number(event),
                expected as u64,
                "out of order or missing"
            );
        }
    });
    assert!(
        !daemon
            .stderr()
            .contains("cut off a slow event-stream subscriber")
    );
}

#[test]
fn a_consumer_that_stops_reading_is_cut_off_with_a_reason_and_the_daemon_carries_on() {
    let env = support::env();
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    rt.block_on(async {
        let mut sleeper = client.subscribe(&[], None).await.unwrap();
        let mut reader = client.subscribe(&[], None).await.unwrap();
        // 80 MB: more than the sleeper's socket buffers hold (up to 32 MB on Linux).
        let total = 40_000;
        // The reader keeps up and gets everything, while the sleeper reads nothing for
        // longer than the daemon waits on a client that takes no frames (10 s).
        flood_while_reading(&client, &mut reader, total, 2000).await;
        tokio::time::sleep(Duration::from_secs(11)).await;
        // Now the sleeper wakes: after what fitted in buffers, the daemon's close arrives.
        let mut delivered = 0usize;
        let closed = loop {
            match tokio::time::timeout(Duration::from_secs(20), sleeper.next_event())
                .await
                .unwrap()
            {
                Some(Ok(_)) => delivered += 1,
                Some(Err(error)) => break error,
                None => panic!("closed without a reason after {delivered} events"),
            }
        };
        match closed {
            ClientError::StreamClosed { code, reason } => {
                assert_eq!(code, 1008);
                assert!(
                    reason.contains("too slow") && reason.contains("since="),
                    "{reason}"
                );
            }
            other => panic!("unexpected end: {other:?}"),
        }
        assert!(delivered < total, "the slow consumer was never cut off");
        assert_eq!(client.health().await.unwrap().status, "ok");
    });
    assert!(
        daemon
            .stderr()
            .contains("cut off a slow event-stream subscriber")
    );
}

/// `roadie events --follow` outlives the daemon, like `tail -F`: a stop or a `kill -9`
/// is waited out, and the events of the daemon that comes back are printed.
#[test]
fn the_cli_follow_waits_for_a_restarted_daemon_and_goes_on() {
    use std::io::BufRead;

    let env = support::env();
    let mut daemon = env.spawn_daemon();
    let mut follower = env
        .command(&["events", "--follow", "--type", "custom"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (lines, printed) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let rt = support::runtime();
    let expect = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = printed
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("event {n} was never printed"));
            if line.contains(&format!("\"n\":{n}")) {
                return;
            }
        }
    };
    let publish = |daemon: &roadie_test_support::RunningDaemon, n: usize| {
        rt.block_on(support::client(daemon).publish(support::custom_events(1, n)))
            .unwrap();
    };

    // The follower subscribes a moment after it starts: publish until it prints.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        publish(&daemon, 0);
        if let Ok(line) = printed.recv_timeout(Duration::from_millis(300)) {
            assert!(line.contains("\"n\":0"), "{line}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the follower printed nothing"
        );
    }
    while printed.try_recv().is_ok() {}

    daemon.terminate(Duration::from_secs(10)).unwrap();
    let mut daemon = env.spawn_daemon();
    publish(&daemon, 1);
    expect(1);

    daemon.kill9();
    let daemon = env.spawn_daemon();
    publish(&daemon, 2);
    expect(2);

    assert!(
        follower.try_wait().unwrap().is_none(),
        "the follower gave up"
    );
    let _ = follower.kill();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().unwrap(), &mut stderr).unwrap();
    let _ = follower.wait();
    assert!(stderr.contains("waiting for it to come back"), "{stderr}");
    assert!(stderr.contains("the daemon is back"), "{stderr}");
}
