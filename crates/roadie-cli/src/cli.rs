//! Command-line arguments. Only what works is listed here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Roadie: a light, local companion daemon for livestreamers.
#[derive(Debug, Parser)]
#[command(name = "roadie", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Config file (default: $ROADIE_CONFIG, else <config dir>/roadie/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (default: $ROADIE_DATA_DIR, else <data dir>/roadie).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Machine-readable output: one JSON document, or one per line for streams.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log line format of the daemon (overrides [log] format).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    /// For people.
    Human,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground (Ctrl-C stops it).
    Daemon,
    /// Show the running daemon's health.
    Status,
    /// Print stored events, or follow the live stream.
    Events(EventsArgs),
    /// Store or delete secrets in the keystore (the value is read from stdin).
    Secrets(SecretsArgs),
    /// Sign in to a platform, or out; show who is signed in.
    Auth(AuthArgs),
    /// Send chat.
    Chat(ChatArgs),
    /// Chat commands: list, add, remove, test (a dry run), export and import.
    Commands(CommandsArgs),
    /// Run a script in the daemon's sandbox.
    Scripts(ScriptsArgs),
    /// Loyalty points: balances, leaderboard, give, take, link accounts.
    Points(PointsArgs),
    /// Actions: list, run by name, export and import.
    Actions(ActionsArgs),
    /// OBS: status, scenes, sources, streaming and recording.
    Obs(ObsArgs),
    /// Text to speech: say, skip, pause, resume, clear, and the queue.
    Tts(TtsArgs),
    /// Measure start-up time, idle memory and event throughput.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep streaming live events until interrupted.
    #[arg(long, short)]
    pub follow: bool,
    /// Only this event type (repeatable), e.g. chat.message.
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
    /// Start after this event id (replays stored events first).
    #[arg(long, value_name = "ID")]
    pub since: Option<String>,
    /// How many stored events to print without --follow.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct SecretsArgs {
    #[command(subcommand)]
    pub action: SecretsAction,
}

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Store KEY (e.g. obs.password, kick.client_secret); the value is read from stdin.
    Set {
        /// The key.
        key: String,
    },
    /// Delete KEY.
    Delete {
        /// The key.
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Seconds to wait before sampling idle memory.
    #[arg(long, default_value_t = 60)]
    pub idle_secs: u64,
    /// Events to push through bus, store and fan-out.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Daemon starts to time.
    #[arg(long, default_value_t = 5)]
    pub starts: usize,
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub action: AuthAction,
}

#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Sign in: opens a browser page (PKCE), or with --device shows a code to enter.
    Login {
        /// twitch, kick or youtube.
        platform: String,
        /// Use the device-code flow (no browser on this machine needed).
        #[arg(long)]
        device: bool,
        /// The browser flow's callback port: the redirect URL registered with the app
        /// is `http://localhost:PORT/callback`. Default 17563 for twitch and kick (they
        /// match the port too); youtube takes any port, so a free one by default.
        #[arg(long, value_name = "PORT")]
        port: Option<u16>,
    },
    /// Import the platform's token answer as JSON on stdin; it is validated first.
    Import {
        /// twitch, kick or youtube.
        platform: String,
    },
    /// Show each platform's sign-in and connection state.
    Status,
    /// Sign out: revoke the tokens at the platform and delete them.
    Logout {
        /// twitch, kick or youtube.
        platform: String,
    },
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(subcommand)]
    pub action: ChatAction,
}

#[derive(Debug, Subcommand)]
pub enum ChatAction {
    /// Send a message (split at word boundaries when over the platform's limit).
    Send {
        /// The platform; may be left out when exactly one is connected.
        #[arg(long)]
        platform: Option<String>,
        /// The message.
        text: String,
    },
}

#[derive(Debug, Args)]
pub struct CommandsArgs {
    #[command(subcommand)]
    pub action: CommandsAction,
}

#[derive(Debug, Subcommand)]
pub enum CommandsAction {
    /// List the commands with their counters.
    List,
    /// Add a command, or replace the one with that name.
    Add {
        /// `!name`.
        name: String,
        /// The reply, with variables such as $(user), $(touser), $(args), $(count).
        template: String,
        /// Another name that runs it (repeatable).
        #[arg(long = "alias", value_name = "!x")]
        aliases: Vec<String>,
        /// Seconds between two uses by anyone.
        #[arg(long, default_value_t = 0, value_name = "S")]
        cooldown: u64,
        /// Seconds between two uses by the same viewer.
        #[arg(long, default_value_t = 0, value_name = "S")]
        user_cooldown: u64,
        /// Who may use it: everyone, subscriber, vip, moderator, broadcaster.
        #[arg(long, value_name = "R")]
        role: Option<String>,
        /// Answer only on this platform (repeatable; default: all).
        #[arg(long = "platform", value_name = "P")]
        platforms: Vec<String>,
        /// Add it switched off.
        #[arg(long)]
        disabled: bool,
    },
    /// Remove a command.
    Remove {
        /// `!name`.
        name: String,
    },
    /// What Roadie would answer to a chat line; nothing is sent.
    Test {
        /// The chat line, e.g. "!so @bob".
        line: String,
        /// The viewer's login.
        #[arg(long, value_name = "LOGIN")]
        user: Option<String>,
        /// The viewer's role.
        #[arg(long, value_name = "R")]
        role: Option<String>,
        /// The platform.
        #[arg(long, value_name = "P")]
        platform: Option<String>,
    },
    /// Print commands and timers as TOML.
    Export,
    /// Replace every command and timer with a TOML file's (checked first).
    Import {
        /// The TOML file (`-` for stdin).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ScriptsArgs {
    #[command(subcommand)]
    pub action: ScriptsAction,
}

#[derive(Debug, Subcommand)]
pub enum ScriptsAction {
    /// Run a script once in the sandbox and print its replies or its error; nothing it
    /// asks for (points, OBS, TTS) takes effect.
    Test {
        /// The JavaScript file.
        file: PathBuf,
        /// The viewer's login the script sees as `user`.
        #[arg(long, value_name = "LOGIN")]
        user: Option<String>,
        /// An argument the script sees in `args` (repeatable).
        #[arg(long = "arg", value_name = "A")]
        args: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct PointsArgs {
    #[command(subcommand)]
    pub action: PointsAction,
}

#[derive(Debug, Subcommand)]
pub enum PointsAction {
    /// A viewer's balance (`platform:login` or a login).
    Balance {
        /// The viewer.
        user: String,
    },
    /// The highest balances.
    Top {
        /// How many.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Give points.
    Give {
        /// The viewer.
        user: String,
        /// How many.
        amount: u32,
    },
    /// Take points (never below zero).
    Take {
        /// The viewer.
        user: String,
        /// How many.
        amount: u32,
    },
    /// Link two viewers' accounts (e.g. twitch:alice and youtube:alice) into one balance.
    Link {
        /// One viewer.
        first: String,
        /// The other.
        second: String,
    },
}

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub action: ActionsAction,
}

#[derive(Debug, Subcommand)]
pub enum ActionsAction {
    /// List the actions.
    List,
    /// Run an action now and print how each step went.
    Run {
        /// The action's name.
        name: String,
        /// The viewer it runs for (`platform:login` or a login).
        #[arg(long, value_name = "LOGIN")]
        user: Option<String>,
        /// Text the steps see as $(input).
        #[arg(long, value_name = "TEXT")]
        input: Option<String>,
    },
    /// Print the actions as TOML.
    Export,
    /// Replace every action with a TOML file's (checked first).
    Import {
        /// The TOML file (`-` for stdin).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ObsArgs {
    #[command(subcommand)]
    pub action: ObsAction,
}

#[derive(Debug, Subcommand)]
pub enum ObsAction {
    /// The connection to OBS and its scenes.
    Status,
    /// Switch the program scene.
    Scene {
        /// The scene.
        name: String,
    },
    /// Show, hide or toggle a source in a scene.
    Source {
        /// The scene.
        scene: String,
        /// The source.
        source: String,
        /// on, off or toggle.
        state: String,
    },
    /// Start or stop streaming.
    Stream {
        /// start or stop.
        action: String,
    },
    /// Start or stop recording.
    Record {
        /// start or stop.
        action: String,
    },
}

#[derive(Debug, Args)]
pub struct TtsArgs {
    #[command(subcommand)]
    pub action: TtsAction,
}

#[derive(Debug, Subcommand)]
pub enum TtsAction {
    /// Queue text to speak.
    Say {
        /// The text.
        text: String,
        /// A voice other than the default.
        #[arg(long)]
        voice: Option<String>,
    },
    /// Skip what is being spoken.
    Skip,
    /// Hold new items back.
    Pause,
    /// Let items start again.
    Resume,
    /// Drop every item.
    Clear,
    /// Show the engine and the queue.
    Queue,
}
