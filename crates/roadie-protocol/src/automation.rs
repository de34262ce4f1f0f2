//! Wire types for chat commands, timers, points, actions and scripts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A chat command as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommandInfo {
    /// `!name`, lowercase.
    pub name: String,
    /// Other names that run it, `!x`.
    pub aliases: Vec<String>,
    /// The response template, with `$(...)` variables.
    pub template: String,
    /// Seconds between two uses by anyone (0: none).
    pub cooldown: u64,
    /// Seconds between two uses by the same viewer (0: none).
    pub user_cooldown: u64,
    /// Who may use it: `everyone`, `subscriber`, `vip`, `moderator`, `broadcaster`.
    pub role: String,
    /// Platforms it answers on; empty means all.
    pub platforms: Vec<String>,
    /// Whether it answers at all.
    pub enabled: bool,
    /// How often it was used.
    pub count: u64,
}

/// Adds a command or replaces the one with the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommandUpsert {
    /// `!name`.
    pub name: String,
    /// The response template.
    pub template: String,
    /// Other names, `!x`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Seconds between two uses by anyone.
    #[serde(default)]
    pub cooldown: u64,
    /// Seconds between two uses by the same viewer.
    #[serde(default)]
    pub user_cooldown: u64,
    /// Who may use it (default `everyone`).
    #[serde(default)]
    pub role: Option<String>,
    /// Platforms it answers on; empty means all.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Whether it answers (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A dry run of a chat line: what Roadie would answer, nothing sent or counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommandTest {
    /// The chat line, e.g. `!so @bob`.
    pub line: String,
    /// The viewer's login (default `viewer`).
    #[serde(default)]
    pub user: Option<String>,
    /// The viewer's role (default `everyone`).
    #[serde(default)]
    pub role: Option<String>,
    /// The platform (default `twitch`).
    #[serde(default)]
    pub platform: Option<String>,
}

/// What a dry run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommandTestResult {
    /// `reply`, `not_a_command`, `unknown`, `disabled`, `not_on_platform`, `denied`,
    /// `cooldown`.
    pub outcome: String,
    /// The command that matched, if any.
    pub command: Option<String>,
    /// The reply Roadie would send.
    pub reply: Option<String>,
    /// Why nothing would be sent, in words.
    pub detail: Option<String>,
}

/// A config-as-code document (TOML), for export and import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AutomationDocument {
    /// The TOML text.
    pub toml: String,
}

/// What an import replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportSummary {
    /// Commands now defined.
    pub commands: usize,
    /// Timers now defined.
    pub timers: usize,
    /// Actions now defined.
    pub actions: usize,
}

/// One problem in an imported document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DocumentProblem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The dotted path of the value, e.g. `commands[2].template`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A script to run in the sandbox once, with nothing persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScriptTest {
    /// The JavaScript source.
    pub source: String,
    /// The viewer's login the script sees as `user` (default `viewer`).
    #[serde(default)]
    pub user: Option<String>,
    /// The arguments the script sees as `args`.
    #[serde(default)]
    pub args: Vec<String>,
}

/// What a script run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScriptTestResult {
    /// Whether it finished without an error.
    pub ok: bool,
    /// What it passed to `reply`.
    pub replies: Vec<String>,
    /// What it passed to `console.log`.
    pub logs: Vec<String>,
    /// Why it was stopped or failed.
    pub error: Option<String>,
    /// Host calls it made (points, OBS, TTS), described; none took effect.
    pub calls: Vec<String>,
    /// How long it ran, in milliseconds.
    pub elapsed_ms: f64,
}

/// One platform account of a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ViewerAccount {
    /// `twitch`, `kick` or `youtube`.
    pub platform: String,
    /// The platform's stable user id.
    pub id: String,
    /// The login last seen.
    pub login: String,
    /// The display name last seen.
    pub name: String,
}

/// A viewer's balance, shared by their linked accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsBalance {
    /// The linked accounts.
    pub accounts: Vec<ViewerAccount>,
    /// The balance.
    pub balance: i64,
}

/// A points change by the streamer or a moderator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsAdjust {
    /// `platform:login` or a bare login.
    pub user: String,
    /// How many points to give (positive) or take (negative).
    pub amount: i64,
    /// Why (default `give` or `take`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Links two viewers' accounts into one balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsLink {
    /// `platform:login` or a bare login.
    pub first: String,
    /// `platform:login` or a bare login.
    pub second: String,
}

/// An action as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionInfo {
    /// Its name.
    pub name: String,
    /// Whether triggers start it.
    pub enabled: bool,
    /// Its steps' kinds in order, e.g. `chat`, `wait`, `points`.
    pub steps: Vec<String>,
    /// Its triggers, described.
    pub triggers: Vec<String>,
}

/// Runs an action by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionRun {
    /// The viewer it runs for (`platform:login` or a bare login), if any.
    #[serde(default)]
    pub user: Option<String>,
    /// Text the steps see as `$(input)`.
    #[serde(default)]
    pub input: Option<String>,
}

/// How an action run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionRunResult {
    /// Whether every step that ran succeeded.
    pub ok: bool,
    /// Each step that ran.
    pub steps: Vec<ActionStepResult>,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionStepResult {
    /// Its position, from 0.
    pub index: usize,
    /// Its kind.
    pub kind: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u64,
}

/// OBS as the daemon sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsInfo {
    /// Whether an `[obs]` section is configured.
    pub configured: bool,
    /// `connected`, `connecting`, `reconnecting`, `wrong_password` or `off`.
    pub state: String,
    /// In words.
    pub detail: String,
    /// The program scene, when connected.
    pub current_scene: Option<String>,
    /// The scenes, top first, when connected.
    pub scenes: Vec<String>,
}

/// Switches the program scene.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsSceneChange {
    /// The scene's name.
    pub scene: String,
}

/// Shows, hides or toggles a source in a scene.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsSourceChange {
    /// The scene holding it.
    pub scene: String,
    /// The source's name.
    pub source: String,
    /// `on`, `off` or `toggle`.
    pub state: String,
}

/// Whether a source is shown now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsSourceShown {
    /// Shown.
    pub enabled: bool,
}

/// Starts or stops an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsOutputChange {
    /// `start` or `stop`.
    pub action: String,
}

/// One text-to-speech item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TtsItem {
    /// Its id.
    pub id: u64,
    /// The text, after filters.
    pub text: String,
}

/// The text-to-speech queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TtsQueueInfo {
    /// The engine, or why there is none.
    pub engine: String,
    /// Whether new items wait.
    pub paused: bool,
    /// Being spoken.
    pub current: Option<TtsItem>,
    /// Waiting, in order.
    pub pending: Vec<TtsItem>,
    /// Overlay pages connected (browser sources playing the audio).
    pub listeners: usize,
    /// The engine's voices (ids), where it lists them.
    pub voices: Vec<String>,
}

/// Text to speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TtsSay {
    /// The text.
    pub text: String,
    /// A voice, if not the default.
    #[serde(default)]
    pub voice: Option<String>,
}

/// The queued item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TtsQueued {
    /// Its id.
    pub id: u64,
    /// The text as it will be spoken (after filters).
    pub text: String,
    /// Items ahead of it.
    pub ahead: usize,
}

/// Sets a text source's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsTextChange {
    /// The text source.
    pub source: String,
    /// Its new text.
    pub text: String,
}

/// Plays, pauses, restarts or stops a media input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObsMediaChange {
    /// The media input.
    pub source: String,
    /// `play`, `pause`, `restart` or `stop`.
    pub action: String,
}
