//! Against the real OBS Studio (headless, started by `scripts/obs-peer.sh`), behind
//! `ROADIE_TEST_OBS=1`: then a missing OBS is a failure. A scene switch is confirmed by
//! OBS's own event, hiding a source by `GetSceneItemEnabled`, a text source's text is
//! read back, a wrong password is a clear error, and OBS killed and started again is
//! reconnected to by the same client on its own.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use roadie_obs::{ObsClient, ObsError, ObsEvent, ObsState, SourceState};

use crate::support::{LIMIT, config, next_event, wait_for};

const PASSWORD: &str = "roadie-peer-pass";

/// The peer's URL when the switch is on; `None` (the test is skipped) otherwise.
fn peer() -> Option<String> {
    if std::env::var("ROADIE_TEST_OBS").as_deref() != Ok("1") {
        eprintln!("skipped: set ROADIE_TEST_OBS=1 (scripts/obs-peer.sh) to run against real OBS");
        return None;
    }
    let port = std::env::var("OBS_PORT").unwrap_or_else(|_| "4455".into());
    Some(format!("ws://127.0.0.1:{port}"))
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/obs-peer.sh")
}

fn peer_command(action: &str) {
    let status = std::process::Command::new(script())
        .arg(action)
        .status()
        .expect("scripts/obs-peer.sh");
    assert!(status.success(), "obs-peer.sh {action} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_obs_scenes_sources_text_password_and_restart() {
    let Some(url) = peer() else { return };
    // Fails here (not skipped) when the switch is on and OBS is not there.
    let client = ObsClient::spawn(config(&url, Some(PASSWORD)));
    let state = wait_for(&client, ObsState::is_connected).await;
    assert!(
        matches!(&state, ObsState::Connected { ws_version, .. } if ws_version.starts_with('5')),
        "{state:?}"
    );

    let scenes = client.scenes().await.unwrap();
    assert_eq!(scenes.scenes, ["Live", "BRB"]);

    // A scene switch, confirmed by OBS's own event.
    let mut events = client.events();
    client.set_scene("BRB").await.unwrap();
    let changed = next_event(&mut events, |event| {
        matches!(event, ObsEvent::ProgramSceneChanged { .. })
    })
    .await;
    assert_eq!(
        changed,
        ObsEvent::ProgramSceneChanged {
            scene: "BRB".into()
        }
    );
    client.set_scene("Live").await.unwrap();

    // Hiding a source, confirmed by GetSceneItemEnabled.
    let shown = client
        .set_source_enabled("Live", "Alert Text", SourceState::Off)
        .await
        .unwrap();
    assert!(!shown);
    assert!(!client.source_enabled("Live", "Alert Text").await.unwrap());
    let toggled = client
        .set_source_enabled("Live", "Alert Text", SourceState::Toggle)
        .await
        .unwrap();
    assert!(toggled);
    assert!(client.source_enabled("Live", "Alert Text").await.unwrap());

    // A text source's text, read back.
    client
        .set_text("Alert Text", "thanks for the raid!")
        .await
        .unwrap();
    assert_eq!(
        client.input_text("Alert Text").await.unwrap(),
        "thanks for the raid!"
    );

    // A scene that does not exist: OBS's refusal, in words.
    let missing = client.set_scene("No Such Scene").await.unwrap_err();
    assert!(
        matches!(&missing, ObsError::Request { code: 600, .. }),
        "{missing}"
    );

    // A wrong password: a clear state, no retry storm.
    let wrong = ObsClient::spawn(config(&url, Some("not-the-password")));
    wait_for(&wrong, |state| matches!(state, ObsState::WrongPassword)).await;
    assert!(matches!(
        wrong.set_scene("BRB").await,
        Err(ObsError::WrongPassword)
    ));
    wrong.shutdown().await;

    // OBS killed and started again: the same client comes back by itself.
    // Watched from before the restart: the script returns once OBS answers again, and
    // by then the client may have reconnected already.
    let mut states = client.state_changes();
    let dropped =
        tokio::spawn(async move { states.wait_for(|state| !state.is_connected()).await.is_ok() });
    let began = Instant::now();
    tokio::task::spawn_blocking(|| peer_command("restart"))
        .await
        .unwrap();
    let saw_drop = tokio::time::timeout(LIMIT, dropped).await;
    assert!(
        matches!(saw_drop, Ok(Ok(true))),
        "the client never noticed OBS going away"
    );
    wait_for(&client, ObsState::is_connected).await;
    eprintln!("reconnected {:?} after the restart began", began.elapsed());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.set_scene("BRB").await {
            Ok(()) => break,
            Err(error) if Instant::now() < deadline => {
                eprintln!("after the restart: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("no request works after the restart: {error}"),
        }
    }
    assert_eq!(
        client
            .scenes()
            .await
            .unwrap()
            .current_program_scene
            .as_deref(),
        Some("BRB")
    );
    client.shutdown().await;
}
