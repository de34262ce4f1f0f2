//! Shared helpers: a client for a fake, waiting for states and events with limits.

use std::time::Duration;

use roadie_core::Secret;
use roadie_obs::{ObsClient, ObsConfig, ObsEvent, ObsState};
use roadie_test_support::fake_obs::FakeObs;
use tokio::sync::broadcast;

/// The longest any wait in these tests may take.
pub const LIMIT: Duration = Duration::from_secs(15);

/// A config for `url` with short but safe timings.
pub fn config(url: &str, password: Option<&str>) -> ObsConfig {
    let mut config = ObsConfig::new(url, password.map(Secret::new));
    config.request_timeout = Duration::from_secs(5);
    config
}

/// Waits until the client's state satisfies `test`; returns that state.
pub async fn wait_for(client: &ObsClient, test: impl Fn(&ObsState) -> bool) -> ObsState {
    let mut states = client.state_changes();
    let result = tokio::time::timeout(LIMIT, states.wait_for(|state| test(state))).await;
    match result {
        Ok(Ok(state)) => state.clone(),
        _ => panic!("state never matched; last: {:?}", client.state()),
    }
}

/// A client connected to `fake`.
pub async fn connected(fake: &FakeObs, password: Option<&str>) -> ObsClient {
    let client = ObsClient::spawn(config(&fake.url(), password));
    wait_for(&client, ObsState::is_connected).await;
    client
}

/// The next event satisfying `test` (others are skipped).
pub async fn next_event(
    events: &mut broadcast::Receiver<ObsEvent>,
    test: impl Fn(&ObsEvent) -> bool,
) -> ObsEvent {
    let wait = async {
        loop {
            let event = events.recv().await.expect("event channel");
            if test(&event) {
                return event;
            }
        }
    };
    tokio::time::timeout(LIMIT, wait)
        .await
        .expect("no such event")
}
