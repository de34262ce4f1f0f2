//! Every typed request against the fake, with its effect checked in the fake's model,
//! and the failures: OBS's refusals, time-outs.

use std::time::Duration;

use roadie_obs::{MediaAction, ObsClient, ObsError, SourceState};
use roadie_test_support::fake_obs::FakeObs;
use serde_json::json;

use crate::support::{config, connected, wait_for};

fn count(requests: &[String], kind: &str) -> usize {
    requests.iter().filter(|each| *each == kind).count()
}

#[tokio::test]
async fn scenes_are_listed_top_first_and_switched() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let list = client.scenes().await.unwrap();
    assert_eq!(list.scenes, ["Starting Soon", "Live", "BRB"]);
    assert_eq!(list.current_program_scene.as_deref(), Some("Starting Soon"));
    assert_eq!(list.current_preview_scene, None);

    client.set_scene("Live").await.unwrap();
    assert_eq!(fake.current_scene(), "Live");
    assert_eq!(
        client
            .scenes()
            .await
            .unwrap()
            .current_program_scene
            .as_deref(),
        Some("Live")
    );
    assert_eq!(
        fake.requests(),
        ["GetSceneList", "SetCurrentProgramScene", "GetSceneList"]
    );
}

#[tokio::test]
async fn refusals_carry_code_and_comment() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    match client.set_scene("Nowhere").await {
        Err(ObsError::Request { code, comment }) => {
            assert_eq!(code, 600);
            assert!(comment.contains("Nowhere"), "{comment}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.current_scene(), "Starting Soon");
    match client.call("NoSuchRequest", None).await {
        Err(ObsError::Request { code, .. }) => assert_eq!(code, 204),
        other => panic!("{other:?}"),
    }
    // The client still works after refusals.
    client.set_scene("BRB").await.unwrap();
    assert_eq!(fake.current_scene(), "BRB");
}

#[tokio::test]
async fn scene_items_are_resolved_then_shown_hidden_and_toggled() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    assert_eq!(
        client.scene_item_id("Live", "Webcam Frame").await.unwrap(),
        4
    );
    assert_eq!(client.scene_item_id("Live", "Camera").await.unwrap(), 1);
    assert_eq!(fake.item_enabled("Live", "Webcam Frame"), Some(false));

    assert!(
        client
            .set_source_enabled("Live", "Webcam Frame", SourceState::On)
            .await
            .unwrap()
    );
    assert_eq!(fake.item_enabled("Live", "Webcam Frame"), Some(true));
    assert!(client.source_enabled("Live", "Webcam Frame").await.unwrap());

    assert!(
        !client
            .set_source_enabled("Live", "Webcam Frame", SourceState::Off)
            .await
            .unwrap()
    );
    assert_eq!(fake.item_enabled("Live", "Webcam Frame"), Some(false));
    assert!(!client.source_enabled("Live", "Webcam Frame").await.unwrap());

    assert!(
        client
            .set_source_enabled("Live", "Webcam Frame", SourceState::Toggle)
            .await
            .unwrap()
    );
    assert_eq!(fake.item_enabled("Live", "Webcam Frame"), Some(true));
    assert!(
        !client
            .set_source_enabled("Live", "Webcam Frame", SourceState::Toggle)
            .await
            .unwrap()
    );
    assert_eq!(fake.item_enabled("Live", "Webcam Frame"), Some(false));
    // Only the item asked for changed.
    assert_eq!(fake.item_enabled("Live", "Camera"), Some(true));
    assert_eq!(
        fake.item_enabled("Starting Soon", "Intro Video"),
        Some(true)
    );

    let requests = fake.requests();
    assert_eq!(count(&requests, "SetSceneItemEnabled"), 4);
    // A toggle reads the current state first; On and Off do not.
    assert_eq!(count(&requests, "GetSceneItemEnabled"), 2 + 2);
    assert_eq!(count(&requests, "GetSceneItemId"), 2 + 4 + 2);
}

#[tokio::test]
async fn a_missing_source_changes_nothing() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    match client
        .set_source_enabled("Live", "Nope", SourceState::Toggle)
        .await
    {
        Err(ObsError::Request { code, .. }) => assert_eq!(code, 600),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.source_enabled("Nope", "Camera").await,
        Err(ObsError::Request { code: 600, .. })
    ));
    assert_eq!(count(&fake.requests(), "SetSceneItemEnabled"), 0);
}

#[tokio::test]
async fn text_sources_are_written_and_read() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    // A fresh text source has no `text` setting at all (OBS leaves defaults out).
    assert_eq!(client.input_text("Alert Text").await.unwrap(), "");
    assert_eq!(
        client.input_text("Countdown").await.unwrap(),
        "Starting soon"
    );

    client
        .set_text("Alert Text", "Thanks for the raid, ünïcødé 🎉")
        .await
        .unwrap();
    assert_eq!(
        fake.text("Alert Text").as_deref(),
        Some("Thanks for the raid, ünïcødé 🎉")
    );
    assert_eq!(
        client.input_text("Alert Text").await.unwrap(),
        "Thanks for the raid, ünïcødé 🎉"
    );

    // Overlay: the other settings stay.
    client.set_text("Intro Video", "caption").await.unwrap();
    assert_eq!(
        fake.input_settings("Intro Video").unwrap(),
        json!({"local_file": "/videos/intro.mp4", "text": "caption"})
    );
    assert!(matches!(
        client.set_text("Missing", "x").await,
        Err(ObsError::Request { code: 600, .. })
    ));
}

#[tokio::test]
async fn media_actions_reach_the_input() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    for action in [
        MediaAction::Play,
        MediaAction::Pause,
        MediaAction::Restart,
        MediaAction::Stop,
    ] {
        client.media("Intro Video", action).await.unwrap();
        assert_eq!(
            fake.media_action("Intro Video").as_deref(),
            Some(action.as_obs())
        );
    }
    assert_eq!(
        fake.media_action("Intro Video").as_deref(),
        Some("OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP")
    );
    assert!(matches!(
        client.media("Camera", MediaAction::Restart).await,
        Err(ObsError::Request { .. })
    ));
    assert_eq!(fake.media_action("Camera"), None);
}

#[tokio::test]
async fn stream_and_record_start_and_stop() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    assert!(!client.stream_status().await.unwrap().active);

    client.start_stream().await.unwrap();
    assert!(fake.streaming());
    assert!(client.stream_status().await.unwrap().active);
    assert_eq!(
        client.start_stream().await,
        Err(ObsError::Request {
            code: 500,
            comment: "OutputRunning".into()
        })
    );
    client.stop_stream().await.unwrap();
    assert!(!fake.streaming());
    assert_eq!(
        client.stop_stream().await,
        Err(ObsError::Request {
            code: 501,
            comment: "OutputNotRunning".into()
        })
    );

    client.start_record().await.unwrap();
    assert!(fake.recording());
    assert!(!fake.streaming());
    client.stop_record().await.unwrap();
    assert!(!fake.recording());
    assert!(matches!(
        client.stop_record().await,
        Err(ObsError::Request { code: 501, .. })
    ));
}

#[tokio::test]
async fn stream_status_and_stats_carry_the_health_figures() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    fake.set_stream_field("outputSkippedFrames", json!(42));
    fake.set_stream_field("outputTotalFrames", json!(6000));
    fake.set_stream_field("outputCongestion", json!(0.125));
    fake.set_stream_field("outputBytes", json!(1_234_567_890_u64));
    fake.set_stream_field("outputDuration", json!(61_000));
    fake.set_stream_field("outputTimecode", json!("00:01:01.000"));
    client.start_stream().await.unwrap();
    let status = client.stream_status().await.unwrap();
    assert!(status.active);
    assert!(!status.reconnecting);
    assert_eq!(status.skipped_frames, 42);
    assert_eq!(status.total_frames, 6000);
    assert!((status.congestion - 0.125).abs() < 1e-9);
    assert_eq!(status.bytes, 1_234_567_890);
    assert_eq!(status.duration_ms, 61_000);
    assert_eq!(status.timecode, "00:01:01.000");

    let stats = client.stats().await.unwrap();
    assert!((stats.cpu_usage - 3.25).abs() < 1e-9);
    assert!((stats.active_fps - 60.0).abs() < 1e-9);
    assert_eq!(stats.output_skipped_frames, 7);
    assert_eq!(stats.output_total_frames, 35_990);
    assert_eq!(stats.render_skipped_frames, 2);
    assert_eq!(stats.render_total_frames, 36_000);
    fake.set_stats_field("cpuUsage", json!(55.5));
    fake.set_stats_field("renderSkippedFrames", json!(99));
    let stats = client.stats().await.unwrap();
    assert!((stats.cpu_usage - 55.5).abs() < 1e-9);
    assert_eq!(stats.render_skipped_frames, 99);
}

#[tokio::test]
async fn an_unanswered_request_times_out_and_the_next_one_works() {
    let fake = FakeObs::start(None).await;
    let mut config = config(&fake.url(), None);
    config.request_timeout = Duration::from_millis(300);
    let client = ObsClient::spawn(config);
    wait_for(&client, |state| state.is_connected()).await;
    fake.set_unresponsive(true);
    match client.scenes().await {
        Err(ObsError::Timeout {
            request_type,
            timeout,
        }) => {
            assert_eq!(request_type, "GetSceneList");
            assert_eq!(timeout, Duration::from_millis(300));
        }
        other => panic!("{other:?}"),
    }
    fake.set_unresponsive(false);
    client.set_scene("Live").await.unwrap();
    assert_eq!(fake.current_scene(), "Live");
    assert!(client.state().is_connected());
}

#[tokio::test]
async fn concurrent_requests_are_matched_by_id() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let mut tasks = Vec::new();
    for round in 0..20 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let input = ["Countdown", "BRB Text"][round % 2];
            let expected = ["Starting soon", "Be right back"][round % 2];
            assert_eq!(client.input_text(input).await.unwrap(), expected);
            assert_eq!(
                client.scene_item_id("Live", "Intro Video").await.unwrap(),
                3
            );
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(fake.requests().len(), 40);
}
