//! Hello → Identify → Identified, with and without a password; a refused or missing
//! password parks the client (no reconnect storm) until a new password is set.

use std::time::{Duration, Instant};

use roadie_core::Secret;
use roadie_obs::{ObsClient, ObsError, ObsState};
use roadie_test_support::fake_obs::FakeObs;

use crate::support::{config, connected, wait_for};

#[tokio::test]
async fn connects_without_authentication() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    assert_eq!(
        client.state(),
        ObsState::Connected {
            obs_version: "30.2.2".into(),
            ws_version: "5.5.2".into()
        }
    );
    assert_eq!(fake.identified(), 1);
    // General | Config | Scenes | Inputs | Outputs | SceneItems | MediaInputs.
    assert_eq!(
        fake.event_subscriptions(),
        Some(1 | 2 | 4 | 8 | 64 | 128 | 256)
    );
    assert_eq!(client.scenes().await.unwrap().scenes.len(), 3);
}

#[tokio::test]
async fn connects_with_the_right_password() {
    let fake = FakeObs::start(Some("correct horse battery")).await;
    let client = connected(&fake, Some("correct horse battery")).await;
    assert!(client.state().is_connected());
    assert_eq!(fake.identified(), 1);
    assert_eq!(fake.connections(), 1);
    client.set_scene("Live").await.unwrap();
    assert_eq!(fake.current_scene(), "Live");
}

#[tokio::test]
async fn wrong_password_is_reported_and_not_retried_in_a_storm() {
    let fake = FakeObs::start(Some("right")).await;
    let client = ObsClient::spawn(config(&fake.url(), Some("wrong")));
    wait_for(&client, |state| *state == ObsState::WrongPassword).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        fake.connections() <= 2,
        "{} connections in 2 s",
        fake.connections()
    );
    assert_eq!(fake.identified(), 0);
    assert_eq!(client.state(), ObsState::WrongPassword);
    let started = Instant::now();
    assert_eq!(client.scenes().await, Err(ObsError::WrongPassword));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn missing_password_counts_as_wrong_password() {
    let fake = FakeObs::start(Some("right")).await;
    let client = ObsClient::spawn(config(&fake.url(), None));
    wait_for(&client, |state| *state == ObsState::WrongPassword).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.connections(), 1);
    assert_eq!(
        client.set_text("Alert Text", "x").await,
        Err(ObsError::WrongPassword)
    );
}

#[tokio::test]
async fn a_new_password_is_tried_at_once() {
    let fake = FakeObs::start(Some("right")).await;
    let client = ObsClient::spawn(config(&fake.url(), Some("wrong")));
    wait_for(&client, |state| *state == ObsState::WrongPassword).await;
    client
        .set_password(Some(Secret::new("right")))
        .await
        .unwrap();
    wait_for(&client, ObsState::is_connected).await;
    assert_eq!(fake.identified(), 1);
    assert_eq!(fake.connections(), 2);
}

#[tokio::test]
async fn the_password_never_shows() {
    let fake = FakeObs::start(Some("hunter2-obs")).await;
    let config = config(&fake.url(), Some("not-hunter2-obs"));
    assert!(!format!("{config:?}").contains("hunter2"));
    let client = ObsClient::spawn(config);
    let state = wait_for(&client, |state| *state == ObsState::WrongPassword).await;
    let error = client.scenes().await.unwrap_err();
    for text in [
        format!("{state:?}"),
        format!("{client:?}"),
        format!("{error}"),
        format!("{error:?}"),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_given_while_the_first_attempt_runs_is_tried_at_once() {
    // The daemon reads the password from the keystore after it started the client:
    // the first attempt may go out without it and be refused.
    let fake = FakeObs::start(Some("from-the-keystore")).await;
    for _ in 0..5 {
        let client = ObsClient::spawn(config(&fake.url(), None));
        client
            .set_password(Some(Secret::new("from-the-keystore")))
            .await
            .unwrap();
        wait_for(&client, ObsState::is_connected).await;
        client.shutdown().await;
    }
}
