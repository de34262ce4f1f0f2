//! Typed answers of the requests Roadie makes (scene list, stream status, stats) and
//! the small enums of its commands (source state, media action), with lenient parsers
//! of the response data: numbers may come as integers or floats, a missing figure is 0.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// `GetSceneList`, reduced to what Roadie shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneList {
    /// The current program scene (`None` if OBS reports it as `null`).
    pub current_program_scene: Option<String>,
    /// The current preview scene (`None` outside studio mode).
    pub current_preview_scene: Option<String>,
    /// Scene names in the order of OBS's scene list, top first. (obs-websocket 5 sends
    /// them bottom first; they are reordered by `sceneIndex`.)
    pub scenes: Vec<String>,
}

impl SceneList {
    /// Parses `GetSceneList`'s response data; `None` if it has no `scenes` array.
    pub fn from_response(data: &Value) -> Option<SceneList> {
        let entries = data.get("scenes")?.as_array()?;
        let mut scenes: Vec<(Option<i64>, String)> = entries
            .iter()
            .filter_map(|scene| {
                let name = scene.get("sceneName")?.as_str()?.to_owned();
                Some((scene.get("sceneIndex").and_then(Value::as_i64), name))
            })
            .collect();
        if scenes.iter().all(|(index, _)| index.is_some()) {
            scenes.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
        } else {
            scenes.reverse();
        }
        let name = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(SceneList {
            current_program_scene: name("currentProgramSceneName"),
            current_preview_scene: name("currentPreviewSceneName"),
            scenes: scenes.into_iter().map(|(_, name)| name).collect(),
        })
    }
}

/// A non-negative count from a JSON number (integer or float); 0 if absent or invalid.
fn count(data: &Value, key: &str) -> u64 {
    match data.get(key) {
        Some(value) => value.as_u64().unwrap_or_else(|| {
            value
                .as_f64()
                .filter(|number| number.is_finite() && *number >= 0.0)
                // Saturating float-to-int conversion; the fraction is dropped.
                .map_or(0, |number| number as u64)
        }),
        None => 0,
    }
}

/// A finite float; 0 if absent or invalid.
fn figure(data: &Value, key: &str) -> f64 {
    data.get(key)
        .and_then(Value::as_f64)
        .filter(|number| number.is_finite())
        .unwrap_or(0.0)
}

/// `GetStreamStatus`.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamStatus {
    /// `outputActive`: the stream is live.
    pub active: bool,
    /// `outputReconnecting`.
    pub reconnecting: bool,
    /// `outputTimecode`, e.g. `00:12:03.250`.
    pub timecode: String,
    /// `outputDuration` in milliseconds.
    pub duration_ms: u64,
    /// `outputCongestion`, 0.0 to 1.0.
    pub congestion: f64,
    /// `outputBytes` sent so far.
    pub bytes: u64,
    /// `outputSkippedFrames`: frames dropped by the output (network).
    pub skipped_frames: u64,
    /// `outputTotalFrames`.
    pub total_frames: u64,
}

impl StreamStatus {
    /// Parses `GetStreamStatus`'s response data; `None` without a boolean `outputActive`.
    pub fn from_response(data: &Value) -> Option<StreamStatus> {
        Some(StreamStatus {
            active: data.get("outputActive")?.as_bool()?,
            reconnecting: data
                .get("outputReconnecting")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            timecode: data
                .get("outputTimecode")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            duration_ms: count(data, "outputDuration"),
            congestion: figure(data, "outputCongestion"),
            bytes: count(data, "outputBytes"),
            skipped_frames: count(data, "outputSkippedFrames"),
            total_frames: count(data, "outputTotalFrames"),
        })
    }
}

/// `GetStats`: OBS's health figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ObsStats {
    /// `cpuUsage`, percent.
    pub cpu_usage: f64,
    /// `memoryUsage`, MB.
    pub memory_usage: f64,
    /// `availableDiskSpace`, MB.
    pub available_disk_space: f64,
    /// `activeFps`.
    pub active_fps: f64,
    /// `averageFrameRenderTime`, ms.
    pub average_frame_render_time: f64,
    /// `renderSkippedFrames`: frames the renderer missed (GPU overload).
    pub render_skipped_frames: u64,
    /// `renderTotalFrames`.
    pub render_total_frames: u64,
    /// `outputSkippedFrames`: frames the outputs skipped (encoder overload).
    pub output_skipped_frames: u64,
    /// `outputTotalFrames`.
    pub output_total_frames: u64,
}

impl ObsStats {
    /// Parses `GetStats`'s response data; `None` if it is not an object.
    pub fn from_response(data: &Value) -> Option<ObsStats> {
        data.as_object()?;
        Some(ObsStats {
            cpu_usage: figure(data, "cpuUsage"),
            memory_usage: figure(data, "memoryUsage"),
            available_disk_space: figure(data, "availableDiskSpace"),
            active_fps: figure(data, "activeFps"),
            average_frame_render_time: figure(data, "averageFrameRenderTime"),
            render_skipped_frames: count(data, "renderSkippedFrames"),
            render_total_frames: count(data, "renderTotalFrames"),
            output_skipped_frames: count(data, "outputSkippedFrames"),
            output_total_frames: count(data, "outputTotalFrames"),
        })
    }
}

/// What to do with a scene item's visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Show it.
    On,
    /// Hide it.
    Off,
    /// Flip it.
    Toggle,
}

/// A word that is not a [`SourceState`] or [`MediaAction`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not one of {expected}")]
pub struct UnknownWord {
    /// What was given.
    pub given: String,
    /// The accepted words.
    pub expected: &'static str,
}

impl FromStr for SourceState {
    type Err = UnknownWord;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word.to_ascii_lowercase().as_str() {
            "on" | "show" => Ok(SourceState::On),
            "off" | "hide" => Ok(SourceState::Off),
            "toggle" => Ok(SourceState::Toggle),
            _ => Err(UnknownWord {
                given: word.to_owned(),
                expected: "on, off, toggle",
            }),
        }
    }
}

/// A media input action (`TriggerMediaInputAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaAction {
    /// Play (resume).
    Play,
    /// Pause.
    Pause,
    /// Restart from the beginning.
    Restart,
    /// Stop.
    Stop,
}

impl MediaAction {
    /// The obs-websocket enum value.
    pub fn as_obs(self) -> &'static str {
        match self {
            MediaAction::Play => "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_PLAY",
            MediaAction::Pause => "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_PAUSE",
            MediaAction::Restart => "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART",
            MediaAction::Stop => "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP",
        }
    }
}

impl fmt::Display for MediaAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediaAction::Play => "play",
            MediaAction::Pause => "pause",
            MediaAction::Restart => "restart",
            MediaAction::Stop => "stop",
        })
    }
}

impl FromStr for MediaAction {
    type Err = UnknownWord;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word.to_ascii_lowercase().as_str() {
            "play" => Ok(MediaAction::Play),
            "pause" => Ok(MediaAction::Pause),
            "restart" => Ok(MediaAction::Restart),
            "stop" => Ok(MediaAction::Stop),
            _ => Err(UnknownWord {
                given: word.to_owned(),
                expected: "play, pause, restart, stop",
            }),
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
    fn scene_list_is_top_first() {
        let data = json!({
            "currentProgramSceneName": "Live",
            "currentPreviewSceneName": null,
            "scenes": [
                {"sceneIndex": 0, "sceneName": "BRB"},
                {"sceneIndex": 1, "sceneName": "Live"},
                {"sceneIndex": 2, "sceneName": "Starting"},
            ]
        });
        let list = SceneList::from_response(&data).unwrap();
        assert_eq!(list.scenes, ["Starting", "Live", "BRB"]);
        assert_eq!(list.current_program_scene.as_deref(), Some("Live"));
        assert_eq!(list.current_preview_scene, None);
    }

    #[test]
    fn counts_accept_floats_and_reject_nonsense() {
        let data = json!({"outputActive": true, "outputBytes": 12.9, "outputSkippedFrames": -3,
            "outputTotalFrames": "7", "outputCongestion": 0.25});
        let status = StreamStatus::from_response(&data).unwrap();
        assert_eq!(status.bytes, 12);
        assert_eq!(status.skipped_frames, 0);
        assert_eq!(status.total_frames, 0);
        assert!((status.congestion - 0.25).abs() < f64::EPSILON);
        assert!(StreamStatus::from_response(&json!({})).is_none());
        assert!(ObsStats::from_response(&json!([])).is_none());
    }

    #[test]
    fn words_parse() {
        assert_eq!(
            "Toggle".parse::<SourceState>().unwrap(),
            SourceState::Toggle
        );
        assert_eq!(
            "restart".parse::<MediaAction>().unwrap(),
            MediaAction::Restart
        );
        assert!("sideways".parse::<SourceState>().is_err());
    }

    fn any_json() -> impl Strategy<Value = Value> {
        crate::json_strategy::json_with_keys(
            &[
                "scenes",
                "sceneName",
                "sceneIndex",
                "outputActive",
                "outputBytes",
                "cpuUsage",
                "currentProgramSceneName",
            ],
            3,
        )
    }

    proptest! {
        #[test]
        fn response_parsers_never_panic(data in any_json()) {
            let _ = SceneList::from_response(&data);
            let _ = StreamStatus::from_response(&data);
            let _ = ObsStats::from_response(&data);
        }

        #[test]
        fn words_never_panic(word in ".{0,12}") {
            let _ = word.parse::<SourceState>();
            let _ = word.parse::<MediaAction>();
        }
    }
}
