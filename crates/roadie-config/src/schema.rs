//! The configuration schema: one struct per TOML section, with the defaults of the real services.
//!
//! Every struct denies unknown keys. Values that have a proper type (socket address,
//! enums) are stored as that type; URLs are checked (scheme and host) and stored as text
//! without a trailing `/`, so `format!("{base}/users")` is always right.

use crate::fields;
use roadie_core::{Platform, Secret};
use serde::Deserialize;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// The whole configuration, after defaults, file and environment have been layered.
///
/// Obtain it from [`crate::load`] or [`Config::from_toml_str`]: deserializing it directly
/// (with `toml::from_str`) checks each key but skips the checks that span several keys
/// (such as `tts.engine = "command"` needing `tts.command`) and the error locations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(
    deny_unknown_fields,
    default,
    expecting = "a TOML document of Roadie sections"
)]
pub struct Config {
    /// `[server]`: the local HTTP/WebSocket API.
    pub server: ServerConfig,
    /// `[twitch]`: absent means Twitch is off.
    pub twitch: Option<TwitchConfig>,
    /// `[kick]`: absent means Kick is off.
    pub kick: Option<KickConfig>,
    /// `[youtube]`: absent means YouTube is off.
    pub youtube: Option<YoutubeConfig>,
    /// `[obs]`: obs-websocket v5; see [`ObsConfig::enabled`].
    pub obs: ObsConfig,
    /// `[tts]`: the local text-to-speech engine.
    pub tts: TtsConfig,
    /// `[keystore]`: where tokens and secrets are kept.
    pub keystore: KeystoreConfig,
    /// `[events]`: event history retention.
    pub events: EventsConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
}

impl Config {
    /// The streaming platforms whose section is present, in the order Twitch, Kick, YouTube.
    pub fn enabled_platforms(&self) -> Vec<Platform> {
        let mut platforms = Vec::new();
        if self.twitch.is_some() {
            platforms.push(Platform::Twitch);
        }
        if self.kick.is_some() {
            platforms.push(Platform::Kick);
        }
        if self.youtube.is_some() {
            platforms.push(Platform::Youtube);
        }
        platforms
    }
}

/// `[server]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [server] table")]
pub struct ServerConfig {
    /// Address of the local API; always a loopback address. Default `127.0.0.1:7717`.
    #[serde(default = "default_listen", deserialize_with = "fields::loopback_addr")]
    pub listen: SocketAddr,
    /// Extra host names accepted in the `Host` header besides the listen address and
    /// `localhost` (lower-cased). Default empty.
    #[serde(default, deserialize_with = "fields::host_names")]
    pub allowed_hosts: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            allowed_hosts: Vec::new(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7717))
}

/// `[twitch]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [twitch] table")]
pub struct TwitchConfig {
    /// The user's own application client id. Required.
    #[serde(deserialize_with = "fields::non_empty")]
    pub client_id: String,
    /// Optional: public clients use the device flow without one.
    #[serde(default, deserialize_with = "fields::opt_secret")]
    pub client_secret: Option<Secret>,
    /// OAuth base URL. Default `https://id.twitch.tv/oauth2`.
    #[serde(default = "twitch_auth_url", deserialize_with = "fields::http_url")]
    pub auth_url: String,
    /// Helix API base URL. Default `https://api.twitch.tv/helix`.
    #[serde(default = "twitch_helix_url", deserialize_with = "fields::http_url")]
    pub helix_url: String,
    /// EventSub WebSocket URL. Default `wss://eventsub.wss.twitch.tv/ws`.
    #[serde(default = "twitch_eventsub_url", deserialize_with = "fields::ws_url")]
    pub eventsub_url: String,
    /// Seconds between viewer, follower and chatter polls while live (1 to 600). Default 60.
    #[serde(
        default = "twitch_poll_seconds",
        deserialize_with = "fields::poll_seconds"
    )]
    pub poll_seconds: u32,
}

impl TwitchConfig {
    /// A Twitch section with this client id and every other key at its default.
    pub fn new(client_id: impl Into<String>) -> Self {
        TwitchConfig {
            client_id: client_id.into(),
            client_secret: None,
            auth_url: twitch_auth_url(),
            helix_url: twitch_helix_url(),
            eventsub_url: twitch_eventsub_url(),
            poll_seconds: twitch_poll_seconds(),
        }
    }
}

fn twitch_auth_url() -> String {
    "https://id.twitch.tv/oauth2".to_owned()
}
fn twitch_helix_url() -> String {
    "https://api.twitch.tv/helix".to_owned()
}
fn twitch_eventsub_url() -> String {
    "wss://eventsub.wss.twitch.tv/ws".to_owned()
}
/// Platforms update viewer counts about once a minute; polling faster buys nothing.
fn twitch_poll_seconds() -> u32 {
    60
}

/// `[kick]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [kick] table")]
pub struct KickConfig {
    /// The user's own application client id. Required.
    #[serde(deserialize_with = "fields::non_empty")]
    pub client_id: String,
    /// Kick requires a client secret; it may live in the keystore (`kick.client_secret`)
    /// instead of here.
    #[serde(default, deserialize_with = "fields::opt_secret")]
    pub client_secret: Option<Secret>,
    /// The channel slug. `None` means the channel of the authenticated user.
    #[serde(default, deserialize_with = "fields::opt_slug")]
    pub channel: Option<String>,
    /// OAuth base URL. Default `https://id.kick.com`.
    #[serde(default = "kick_auth_url", deserialize_with = "fields::http_url")]
    pub auth_url: String,
    /// Public API base URL. Default `https://api.kick.com/public/v1`.
    #[serde(default = "kick_api_url", deserialize_with = "fields::http_url")]
    pub api_url: String,
    /// Pusher WebSocket URL of the public chat feed.
    #[serde(default = "kick_pusher_url", deserialize_with = "fields::ws_url")]
    pub pusher_url: String,
    /// Channel information base URL (`<url>/<slug>`). Default `https://kick.com/api/v2/channels`.
    #[serde(
        default = "kick_channel_info_url",
        deserialize_with = "fields::http_url"
    )]
    pub channel_info_url: String,
    /// Seconds between viewer-count polls while live (1 to 600). Default 60.
    #[serde(
        default = "twitch_poll_seconds",
        deserialize_with = "fields::poll_seconds"
    )]
    pub poll_seconds: u32,
    /// Accept Kick's signed webhooks at `POST /webhooks/kick` (for users who expose
    /// the daemon through a tunnel). Default false: the Pusher feed needs no public URL.
    #[serde(default)]
    pub webhook: bool,
    /// The channel's chatroom id, for when Kick's channel-information endpoint refuses
    /// Roadie (Cloudflare): open `https://kick.com/api/v2/channels/<slug>` in a browser
    /// and copy `chatroom.id`. Set together with `channel_id`. Default: looked up.
    #[serde(default, deserialize_with = "fields::opt_positive_u64")]
    pub chatroom_id: Option<u64>,
    /// The channel's id (`id` on the same page). Set together with `chatroom_id`.
    #[serde(default, deserialize_with = "fields::opt_positive_u64")]
    pub channel_id: Option<u64>,
}

impl KickConfig {
    /// A Kick section with this client id and every other key at its default.
    pub fn new(client_id: impl Into<String>) -> Self {
        KickConfig {
            client_id: client_id.into(),
            client_secret: None,
            channel: None,
            auth_url: kick_auth_url(),
            api_url: kick_api_url(),
            pusher_url: kick_pusher_url(),
            channel_info_url: kick_channel_info_url(),
            poll_seconds: twitch_poll_seconds(),
            webhook: false,
            chatroom_id: None,
            channel_id: None,
        }
    }
}

fn kick_auth_url() -> String {
    "https://id.kick.com".to_owned()
}
fn kick_api_url() -> String {
    "https://api.kick.com/public/v1".to_owned()
}
fn kick_pusher_url() -> String {
    "wss://ws-us2.pusher.com/app/32cbd69e4b950bf97679?protocol=7&client=js&version=8.4.0&flash=false"
        .to_owned()
}
fn kick_channel_info_url() -> String {
    "https://kick.com/api/v2/channels".to_owned()
}

/// `[youtube]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [youtube] table")]
pub struct YoutubeConfig {
    /// The user's own OAuth client id. Required.
    #[serde(deserialize_with = "fields::non_empty")]
    pub client_id: String,
    /// The OAuth client secret; it may live in the keystore (`youtube.client_secret`).
    #[serde(default, deserialize_with = "fields::opt_secret")]
    pub client_secret: Option<Secret>,
    /// Authorization endpoint. Default `https://accounts.google.com/o/oauth2/v2/auth`.
    #[serde(default = "youtube_auth_url", deserialize_with = "fields::http_url")]
    pub auth_url: String,
    /// Token endpoint. Default `https://oauth2.googleapis.com/token`.
    #[serde(default = "youtube_token_url", deserialize_with = "fields::http_url")]
    pub token_url: String,
    /// Device authorization endpoint. Default `https://oauth2.googleapis.com/device/code`.
    #[serde(default = "youtube_device_url", deserialize_with = "fields::http_url")]
    pub device_url: String,
    /// Data API base URL. Default `https://www.googleapis.com/youtube/v3`.
    #[serde(default = "youtube_api_url", deserialize_with = "fields::http_url")]
    pub api_url: String,
    /// Daily API quota budget in units; always greater than zero. Default 10000.
    #[serde(
        default = "youtube_daily_quota",
        deserialize_with = "fields::positive_u32"
    )]
    pub daily_quota: u32,
    /// Seconds between concurrent-viewer polls while live (1 to 600). Default 60.
    #[serde(
        default = "twitch_poll_seconds",
        deserialize_with = "fields::poll_seconds"
    )]
    pub poll_seconds: u32,
    /// How many hours a stream usually lasts. Absent (the default): chat polling is
    /// paced so the quota lasts until the daily reset, whenever the stream ends. Set:
    /// polling is paced for this many more hours (a moving horizon), which polls faster
    /// at the risk of running dry on a longer stream.
    #[serde(default, deserialize_with = "fields::opt_positive_u32")]
    pub stream_hours: Option<u32>,
    /// Quota units each API method costs (`[youtube.costs]`); quota is per Google
    /// project, so users with their own project may see other prices.
    #[serde(default)]
    pub costs: YoutubeCosts,
}

/// `[youtube.costs]`: quota units per call.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [youtube.costs] table", default)]
pub struct YoutubeCosts {
    /// `liveBroadcasts.list`. Default 1.
    pub live_broadcasts_list: u32,
    /// `liveChatMessages.list`. Default 5.
    pub live_chat_messages_list: u32,
    /// `liveChatMessages.insert`. Default 50.
    pub live_chat_messages_insert: u32,
    /// `videos.list`. Default 1.
    pub videos_list: u32,
    /// `channels.list`. Default 1.
    pub channels_list: u32,
}

impl Default for YoutubeCosts {
    fn default() -> Self {
        YoutubeCosts {
            live_broadcasts_list: 1,
            live_chat_messages_list: 5,
            live_chat_messages_insert: 50,
            videos_list: 1,
            channels_list: 1,
        }
    }
}

impl YoutubeConfig {
    /// A YouTube section with this client id and every other key at its default.
    pub fn new(client_id: impl Into<String>) -> Self {
        YoutubeConfig {
            client_id: client_id.into(),
            client_secret: None,
            auth_url: youtube_auth_url(),
            token_url: youtube_token_url(),
            device_url: youtube_device_url(),
            api_url: youtube_api_url(),
            daily_quota: youtube_daily_quota(),
            poll_seconds: twitch_poll_seconds(),
            stream_hours: None,
            costs: YoutubeCosts::default(),
        }
    }
}

fn youtube_auth_url() -> String {
    "https://accounts.google.com/o/oauth2/v2/auth".to_owned()
}
fn youtube_token_url() -> String {
    "https://oauth2.googleapis.com/token".to_owned()
}
fn youtube_device_url() -> String {
    "https://oauth2.googleapis.com/device/code".to_owned()
}
fn youtube_api_url() -> String {
    "https://www.googleapis.com/youtube/v3".to_owned()
}
fn youtube_daily_quota() -> u32 {
    10_000
}

/// `[obs]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "RawObsConfig")]
pub struct ObsConfig {
    /// Whether to connect to OBS. Without an `[obs]` section this is `false`; with one
    /// it is `true` unless the section says `enabled = false`.
    pub enabled: bool,
    /// obs-websocket URL. Default `ws://127.0.0.1:4455`.
    pub url: String,
    /// obs-websocket password; it may live in the keystore (`obs.password`).
    pub password: Option<Secret>,
    /// Seconds between stream-health samples while streaming. Default 10.
    pub health_seconds: u32,
}

impl Default for ObsConfig {
    fn default() -> Self {
        ObsConfig {
            enabled: false,
            url: obs_url(),
            password: None,
            health_seconds: obs_health_seconds(),
        }
    }
}

fn obs_health_seconds() -> u32 {
    10
}

fn obs_url() -> String {
    "ws://127.0.0.1:4455".to_owned()
}

/// `[obs]` as written: `enabled` defaults to true once the section exists.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [obs] table")]
struct RawObsConfig {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default = "obs_url", deserialize_with = "fields::ws_url")]
    url: String,
    #[serde(default, deserialize_with = "fields::opt_secret")]
    password: Option<Secret>,
    #[serde(
        default = "obs_health_seconds",
        deserialize_with = "fields::positive_u32"
    )]
    health_seconds: u32,
}

impl From<RawObsConfig> for ObsConfig {
    fn from(raw: RawObsConfig) -> Self {
        ObsConfig {
            enabled: raw.enabled.unwrap_or(true),
            url: raw.url,
            password: raw.password,
            health_seconds: raw.health_seconds,
        }
    }
}

/// `[tts]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [tts] table")]
pub struct TtsConfig {
    /// The engine. Default `espeak-ng`.
    #[serde(default)]
    pub engine: TtsEngine,
    /// Program and arguments for `engine = "command"` (required then, ignored otherwise).
    /// The program reads the text and writes WAV.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// The voice when neither the request nor the viewer has one.
    #[serde(default)]
    pub voice: Option<String>,
    /// Longest text spoken, in characters (longer is cut at a word). Default 300.
    #[serde(default = "tts_max_chars")]
    pub max_chars: u32,
    /// Words or phrases never spoken: a request holding one is refused.
    #[serde(default)]
    pub banned_words: Vec<String>,
    /// Per-viewer voices: `"twitch:alice" = "en-gb"`.
    #[serde(default, deserialize_with = "fields::user_voices")]
    pub user_voices: std::collections::BTreeMap<String, String>,
}

fn tts_max_chars() -> u32 {
    300
}

impl Default for TtsConfig {
    fn default() -> Self {
        TtsConfig {
            engine: TtsEngine::default(),
            command: None,
            voice: None,
            max_chars: tts_max_chars(),
            banned_words: Vec::new(),
            user_voices: std::collections::BTreeMap::new(),
        }
    }
}

/// `tts.engine`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TtsEngine {
    /// `espeak-ng`.
    #[default]
    EspeakNg,
    /// `command`: any program that writes WAV (Piper and the like).
    Command,
}

impl TtsEngine {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            TtsEngine::EspeakNg => "espeak-ng",
            TtsEngine::Command => "command",
        }
    }
}

/// `[keystore]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [keystore] table")]
pub struct KeystoreConfig {
    /// The backend. Default `auto`.
    #[serde(default)]
    pub backend: KeystoreBackend,
}

/// `keystore.backend`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeystoreBackend {
    /// The OS keychain when available, else the encrypted file.
    #[default]
    Auto,
    /// The OS keychain only.
    Os,
    /// The encrypted file only.
    File,
}

impl KeystoreBackend {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            KeystoreBackend::Auto => "auto",
            KeystoreBackend::Os => "os",
            KeystoreBackend::File => "file",
        }
    }
}

/// `[events]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [events] table")]
pub struct EventsConfig {
    /// Days of event history to keep; 0 keeps everything. Default 90.
    #[serde(default = "events_retention_days")]
    pub retention_days: u32,
    /// Most events to keep; 0 means unlimited. Default 5 000 000.
    #[serde(default = "events_max_events")]
    pub max_events: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            retention_days: events_retention_days(),
            max_events: events_max_events(),
        }
    }
}

fn events_retention_days() -> u32 {
    90
}
fn events_max_events() -> u64 {
    5_000_000
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [log] table")]
pub struct LogConfig {
    /// A tracing filter such as `info` or `roadie=debug,hyper=warn`. Default `info`.
    #[serde(default = "log_level", deserialize_with = "fields::log_filter")]
    pub level: String,
    /// `human` or `json`. Default `human`.
    #[serde(default)]
    pub format: LogFormat,
    /// Days of rotated log files to keep. Default 14.
    #[serde(default = "log_keep_files")]
    pub keep_files: u32,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: log_level(),
            format: LogFormat::default(),
            keep_files: log_keep_files(),
        }
    }
}

fn log_level() -> String {
    "info".to_owned()
}
fn log_keep_files() -> u32 {
    14
}

/// `log.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        }
    }
}
