//! Events from OBS arrive normalised: scene switches (ours and the streamer's), scene
//! items, outputs, input settings; others stay `Other`; unsubscribed ones never come.

use roadie_obs::{MediaAction, ObsEvent, SourceState};
use roadie_test_support::fake_obs::FakeObs;
use serde_json::json;

use crate::support::{connected, next_event};

#[tokio::test]
async fn switching_scenes_yields_program_scene_changed() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let mut events = client.events();
    client.set_scene("Live").await.unwrap();
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::ProgramSceneChanged {
            scene: "Live".into()
        }
    );
    // The streamer switches in OBS itself.
    assert!(fake.switch_scene("BRB"));
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::ProgramSceneChanged {
            scene: "BRB".into()
        }
    );
}

#[tokio::test]
async fn items_outputs_and_inputs_report_their_changes() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let mut events = client.events();

    client
        .set_source_enabled("Live", "Camera", SourceState::Off)
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::SceneItemEnableStateChanged {
            scene: "Live".into(),
            item_id: 1,
            enabled: false
        }
    );

    client.start_stream().await.unwrap();
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::StreamStateChanged {
            active: false,
            state: "OBS_WEBSOCKET_OUTPUT_STARTING".into()
        }
    );
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::StreamStateChanged {
            active: true,
            state: "OBS_WEBSOCKET_OUTPUT_STARTED".into()
        }
    );

    client.start_record().await.unwrap();
    assert_eq!(
        next_event(&mut events, |event| matches!(
            event,
            ObsEvent::RecordStateChanged { active: true, .. }
        ))
        .await,
        ObsEvent::RecordStateChanged {
            active: true,
            state: "OBS_WEBSOCKET_OUTPUT_STARTED".into()
        }
    );

    client
        .set_text("Alert Text", "new follower!")
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::InputSettingsChanged {
            input: "Alert Text".into(),
            settings: json!({"text": "new follower!"})
        }
    );

    client
        .media("Intro Video", MediaAction::Restart)
        .await
        .unwrap();
    match next_event(&mut events, |_| true).await {
        ObsEvent::Other { event_type, data } => {
            assert_eq!(event_type, "MediaInputActionTriggered");
            assert_eq!(
                data["mediaAction"],
                "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unsubscribed_categories_never_arrive() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let mut events = client.events();
    // Ui (1 << 10) and Vendors (1 << 9) are not in Roadie's subscriptions.
    fake.emit(
        1 << 10,
        "StudioModeStateChanged",
        json!({"studioModeEnabled": true}),
    );
    fake.emit(1 << 9, "VendorEvent", json!({"vendorName": "x"}));
    fake.emit(1, "CustomEvent", json!({"hello": "roadie"}));
    assert_eq!(
        next_event(&mut events, |_| true).await,
        ObsEvent::Other {
            event_type: "CustomEvent".into(),
            data: json!({"hello": "roadie"})
        }
    );
}

#[tokio::test]
async fn every_handle_sees_the_events() {
    let fake = FakeObs::start(None).await;
    let client = connected(&fake, None).await;
    let other = client.clone();
    let mut first = client.events();
    let mut second = other.events();
    assert!(fake.switch_scene("Live"));
    for events in [&mut first, &mut second] {
        assert_eq!(
            next_event(events, |_| true).await,
            ObsEvent::ProgramSceneChanged {
                scene: "Live".into()
            }
        );
    }
}
