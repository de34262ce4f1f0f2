//! Losing OBS: requests fail at once while disconnected, pending ones fail when the
//! connection drops, and the client reconnects by itself when OBS is back or after any
//! close other than a refused password.

use std::time::{Duration, Instant};

use roadie_obs::{ObsClient, ObsError, ObsEvent, ObsState};
use roadie_test_support::fake_obs::FakeObs;

use crate::support::{config, connected, next_event, wait_for};

#[tokio::test]
async fn reconnects_after_obs_dies_and_comes_back() {
    let fake = FakeObs::start(Some("pw")).await;
    let client = connected(&fake, Some("pw")).await;
    client.set_scene("Live").await.unwrap();

    fake.kill().await;
    let state = wait_for(&client, |state| !state.is_connected()).await;
    assert!(
        matches!(state, ObsState::Disconnected { .. } | ObsState::Connecting),
        "{state:?}"
    );
    assert_eq!(client.set_scene("BRB").await, Err(ObsError::NotConnected));
    // Let a few attempts fail while nothing listens.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!client.state().is_connected());

    fake.restart().await;
    wait_for(&client, ObsState::is_connected).await;
    let mut events = client.events();
    client.set_scene("BRB").await.unwrap();
    assert_eq!(fake.current_scene(), "BRB");
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::ProgramSceneChanged {
            scene: "BRB".into()
        }
    );
    assert_eq!(fake.identified(), 2);
}

#[tokio::test]
async fn a_request_while_disconnected_fails_at_once() {
    // A port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = config(&format!("ws://127.0.0.1:{port}"), None);
    config.request_timeout = Duration::from_secs(60);
    let client = ObsClient::spawn(config);
    let started = Instant::now();
    assert_eq!(client.scenes().await, Err(ObsError::NotConnected));
    wait_for(&client, |state| {
        matches!(state, ObsState::Disconnected { .. })
    })
    .await;
    assert_eq!(client.start_stream().await, Err(ObsError::NotConnected));
    assert_eq!(client.stats().await, Err(ObsError::NotConnected));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_pending_request_fails_when_the_connection_drops() {
    let fake = FakeObs::start(None).await;
    let mut config = config(&fake.url(), None);
    config.request_timeout = Duration::from_secs(60);
    let client = ObsClient::spawn(config);
    wait_for(&client, ObsState::is_connected).await;
    fake.set_unresponsive(true);
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.stats().await }
    });
    while !fake.requests().iter().any(|each| each == "GetStats") {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    fake.kill().await;
    let result = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .expect("the pending request hung")
        .unwrap();
    assert_eq!(
        result,
        Err(ObsError::ConnectionLost {
            request_type: "GetStats".into()
        })
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn other_close_codes_lead_to_a_reconnect() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let mut states = client.state_changes();
    fake.close_all(4011, "Your session has been invalidated.");
    let state = tokio::time::timeout(
        Duration::from_secs(10),
        states.wait_for(|state| matches!(state, ObsState::Disconnected { .. })),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    let ObsState::Disconnected { reason } = state else {
        unreachable!()
    };
    assert!(reason.contains("4011"), "{reason}");
    wait_for(&client, ObsState::is_connected).await;
    assert_eq!(fake.identified(), 2);
    client.set_scene("Live").await.unwrap();
    assert_eq!(fake.current_scene(), "Live");
}

#[tokio::test]
async fn shutdown_closes_the_session_and_stops_reconnecting() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    client.shutdown().await;
    wait_for(&client, |state| {
        matches!(state, ObsState::Disconnected { .. })
    })
    .await;
    assert_eq!(client.scenes().await, Err(ObsError::NotConnected));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fake.connections(), 1);
}
