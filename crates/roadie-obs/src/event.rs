//! OBS events normalised into [`ObsEvent`]: the few Roadie acts on get typed fields,
//! everything else (and any known event whose data does not fit) stays `Other`.

use serde_json::Value;

/// An event from OBS.
#[derive(Debug, Clone, PartialEq)]
pub enum ObsEvent {
    /// `CurrentProgramSceneChanged`: the program scene switched.
    ProgramSceneChanged {
        /// The new program scene.
        scene: String,
    },
    /// `StreamStateChanged`.
    StreamStateChanged {
        /// Whether the stream output is active.
        active: bool,
        /// `OBS_WEBSOCKET_OUTPUT_STARTING`, `..._STARTED`, `..._STOPPING`, ...
        state: String,
    },
    /// `RecordStateChanged`.
    RecordStateChanged {
        /// Whether the record output is active.
        active: bool,
        /// `OBS_WEBSOCKET_OUTPUT_STARTING`, `..._STARTED`, `..._STOPPING`, ...
        state: String,
    },
    /// `SceneItemEnableStateChanged`: a source was shown or hidden in a scene.
    SceneItemEnableStateChanged {
        /// The scene holding the item.
        scene: String,
        /// The scene item's numeric id.
        item_id: i64,
        /// Whether it is now enabled (visible).
        enabled: bool,
    },
    /// `InputSettingsChanged` (obs-websocket 5.4+): e.g. a text source's text changed.
    InputSettingsChanged {
        /// The input's name.
        input: String,
        /// Its new settings object.
        settings: Value,
    },
    /// Any other event, as OBS sent it.
    Other {
        /// `eventType`.
        event_type: String,
        /// `eventData` (`Null` when absent).
        data: Value,
    },
}

fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key)?.as_str().map(str::to_owned)
}

fn flag(data: &Value, key: &str) -> Option<bool> {
    data.get(key)?.as_bool()
}

impl ObsEvent {
    /// Normalises an event from its `eventType` and `eventData`. Never fails: an event
    /// whose data lacks a field Roadie needs becomes [`ObsEvent::Other`].
    pub fn from_raw(event_type: &str, data: Value) -> ObsEvent {
        let typed = match event_type {
            "CurrentProgramSceneChanged" => {
                text(&data, "sceneName").map(|scene| ObsEvent::ProgramSceneChanged { scene })
            }
            "StreamStateChanged" => flag(&data, "outputActive").and_then(|active| {
                text(&data, "outputState")
                    .map(|state| ObsEvent::StreamStateChanged { active, state })
            }),
            "RecordStateChanged" => flag(&data, "outputActive").and_then(|active| {
                text(&data, "outputState")
                    .map(|state| ObsEvent::RecordStateChanged { active, state })
            }),
            "SceneItemEnableStateChanged" => (|| {
                Some(ObsEvent::SceneItemEnableStateChanged {
                    scene: text(&data, "sceneName")?,
                    item_id: data.get("sceneItemId")?.as_i64()?,
                    enabled: flag(&data, "sceneItemEnabled")?,
                })
            })(),
            "InputSettingsChanged" => text(&data, "inputName").and_then(|input| {
                data.get("inputSettings")
                    .filter(|settings| settings.is_object())
                    .map(|settings| ObsEvent::InputSettingsChanged {
                        input,
                        settings: settings.clone(),
                    })
            }),
            _ => None,
        };
        typed.unwrap_or_else(|| ObsEvent::Other {
            event_type: event_type.to_owned(),
            data,
        })
    }

    /// The obs-websocket `eventType` this event came from.
    pub fn event_type(&self) -> &str {
        match self {
            ObsEvent::ProgramSceneChanged { .. } => "CurrentProgramSceneChanged",
            ObsEvent::StreamStateChanged { .. } => "StreamStateChanged",
            ObsEvent::RecordStateChanged { .. } => "RecordStateChanged",
            ObsEvent::SceneItemEnableStateChanged { .. } => "SceneItemEnableStateChanged",
            ObsEvent::InputSettingsChanged { .. } => "InputSettingsChanged",
            ObsEvent::Other { event_type, .. } => event_type,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn normalises_the_documented_shapes() {
        assert_eq!(
            ObsEvent::from_raw(
                "CurrentProgramSceneChanged",
                json!({"sceneName": "Live", "sceneUuid": "u"})
            ),
            ObsEvent::ProgramSceneChanged {
                scene: "Live".into()
            }
        );
        assert_eq!(
            ObsEvent::from_raw(
                "StreamStateChanged",
                json!({"outputActive": true, "outputState": "OBS_WEBSOCKET_OUTPUT_STARTED"})
            ),
            ObsEvent::StreamStateChanged {
                active: true,
                state: "OBS_WEBSOCKET_OUTPUT_STARTED".into()
            }
        );
        assert_eq!(
            ObsEvent::from_raw(
                "RecordStateChanged",
                json!({"outputActive": false, "outputState": "OBS_WEBSOCKET_OUTPUT_STOPPED", "outputPath": "/a.mkv"})
            ),
            ObsEvent::RecordStateChanged {
                active: false,
                state: "OBS_WEBSOCKET_OUTPUT_STOPPED".into()
            }
        );
        assert_eq!(
            ObsEvent::from_raw(
                "SceneItemEnableStateChanged",
                json!({"sceneName": "Live", "sceneUuid": "u", "sceneItemId": 3, "sceneItemEnabled": false})
            ),
            ObsEvent::SceneItemEnableStateChanged {
                scene: "Live".into(),
                item_id: 3,
                enabled: false
            }
        );
        assert_eq!(
            ObsEvent::from_raw(
                "InputSettingsChanged",
                json!({"inputName": "Alert", "inputUuid": "u", "inputSettings": {"text": "hi"}})
            ),
            ObsEvent::InputSettingsChanged {
                input: "Alert".into(),
                settings: json!({"text": "hi"})
            }
        );
    }

    #[test]
    fn incomplete_known_events_stay_other() {
        let data = json!({"outputActive": "yes"});
        assert_eq!(
            ObsEvent::from_raw("StreamStateChanged", data.clone()),
            ObsEvent::Other {
                event_type: "StreamStateChanged".into(),
                data
            }
        );
        let event =
            ObsEvent::from_raw("StudioModeStateChanged", json!({"studioModeEnabled": true}));
        assert_eq!(event.event_type(), "StudioModeStateChanged");
    }

    proptest! {
        #[test]
        fn random_data_never_panics(
            kind in prop_oneof![
                Just("CurrentProgramSceneChanged".to_owned()),
                Just("StreamStateChanged".to_owned()),
                Just("RecordStateChanged".to_owned()),
                Just("SceneItemEnableStateChanged".to_owned()),
                Just("InputSettingsChanged".to_owned()),
                ".{0,30}",
            ],
            scene in proptest::option::of(prop_oneof![".{0,10}".prop_map(Value::from), any::<i64>().prop_map(Value::from)]),
            flag in proptest::option::of(prop_oneof![any::<bool>().prop_map(Value::from), any::<f64>().prop_map(Value::from)]),
            id in proptest::option::of(prop_oneof![any::<i64>().prop_map(Value::from), any::<u64>().prop_map(Value::from), any::<f64>().prop_map(Value::from)]),
        ) {
            let mut data = json!({});
            for key in ["sceneName", "inputName", "outputState"] {
                if let Some(scene) = &scene { data[key] = scene.clone(); }
            }
            for key in ["outputActive", "sceneItemEnabled"] {
                if let Some(flag) = &flag { data[key] = flag.clone(); }
            }
            if let Some(id) = &id { data["sceneItemId"] = id.clone(); }
            let event = ObsEvent::from_raw(&kind, data);
            prop_assert_eq!(event.event_type(), kind.as_str());
        }
    }
}
