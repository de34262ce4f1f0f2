//! Roadie's configuration: TOML file, ROADIE_* environment overrides, strict validation.
//!
//! # Where the file is
//!
//! `--config PATH`, else `$ROADIE_CONFIG`, else `<OS config dir>/roadie/config.toml`
//! (`$XDG_CONFIG_HOME` or `~/.config` on Linux, `~/Library/Application Support` on macOS,
//! `%APPDATA%` on Windows); see [`resolve_config_path`]. The data directory follows the
//! same order: `--data-dir DIR`, else `$ROADIE_DATA_DIR`, else `<OS data dir>/roadie`
//! ([`resolve_data_dir`]).
//!
//! A missing file at the default location means defaults. A file named explicitly, by
//! `--config` or by `$ROADIE_CONFIG`, must exist: a typo in a path should not silently
//! run with defaults.
//!
//! # Layers
//!
//! Settings are layered, each layer overriding the one before:
//!
//! 1. built-in defaults (the real services' endpoints, `127.0.0.1:7717`, ...);
//! 2. the config file;
//! 3. environment variables `ROADIE_<SECTION>__<KEY>`.
//!
//! # Environment variables
//!
//! `ROADIE_<SECTION>__<KEY>=value` sets `<key>` in `[<section>]`: a double underscore
//! separates section and key, and both are case-insensitive, so
//! `ROADIE_SERVER__LISTEN=127.0.0.1:0`, `ROADIE_TWITCH__CLIENT_ID=abc` and
//! `ROADIE_EVENTS__RETENTION_DAYS=7` all work.
//!
//! - The value is read as a TOML value when it is one (a number, a boolean, an array
//!   such as `["piper", "--model", "x.onnx"]`, a quoted string), else as a plain string.
//!   A value that reads as a number or boolean but lands on a text key is taken as text,
//!   so `ROADIE_KICK__CHANNEL=1234` is the channel `"1234"`.
//! - Setting a key of a section that the file does not have creates the section:
//!   `ROADIE_TWITCH__CLIENT_ID=abc` alone turns Twitch on.
//! - An unknown section or key is an error that names the variable.
//! - Variables without `__` (`ROADIE_CONFIG`, `ROADIE_DATA_DIR`,
//!   `ROADIE_KEYSTORE_PASSPHRASE`, ...) are not config keys and are ignored here.
//!
//! # Strictness
//!
//! Unknown sections and keys and bad values are errors, never ignored. Each error names
//! where the setting came from (the file and line, or the environment variable), the
//! dotted key (`server.listen`) and what was expected, for example:
//!
//! ```text
//! /home/ana/.config/roadie/config.toml, line 3, key `server.lisen`: unknown key `lisen` in [server]; expected one of: listen, allowed_hosts
//! ```
//!
//! A file with several problems gets them all in one [`ConfigError::Several`], in line
//! order, so one edit fixes them all. Every [`ConfigError`] is a usage error: exit code 2
//! ([`ConfigError::exit_code`]).
//!
//! # Secrets
//!
//! `client_secret` (in `[twitch]`, `[kick]`, `[youtube]`) and `obs.password` may be written
//! in the file, but `roadie secrets set <key>` keeps them in the keystore instead. They are
//! [`roadie_core::Secret`]s, so the `Debug` output of a [`Config`] never shows them. When
//! the file holds one and other users can read it, [`load`] returns a warning.
//!
//! # Platforms
//!
//! A platform section (`[twitch]`, `[kick]`, `[youtube]`) that is absent means that
//! platform is off. `[obs]` is off when absent and on when present, unless it says
//! `enabled = false`.

mod env;
mod error;
mod fields;
mod paths;
mod schema;
mod source;

pub use error::{ConfigError, Location};
pub use paths::{
    default_config_path, default_data_dir, process_env, resolve_config_path, resolve_data_dir,
};
pub use schema::{
    Config, EventsConfig, KeystoreBackend, KeystoreConfig, KickConfig, LogConfig, LogFormat,
    ObsConfig, ServerConfig, TtsConfig, TtsEngine, TwitchConfig, YoutubeConfig, YoutubeCosts,
};

use env::EnvOverride;
use source::KeyLines;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest config file read, so that pointing `--config` at a device cannot hang or
/// exhaust memory.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The settings that hold secrets, as `(section, key)`: each may be kept in the keystore
/// instead, under `section.key` (see [`keystore_secret_keys`]).
const SECRET_KEYS: [(&str, &str); 4] = [
    ("twitch", "client_secret"),
    ("kick", "client_secret"),
    ("youtube", "client_secret"),
    ("obs", "password"),
];

/// The keystore keys the daemon reads settings from: `obs.password`,
/// `twitch.client_secret`, ...
pub fn keystore_secret_keys() -> impl Iterator<Item = String> {
    SECRET_KEYS
        .iter()
        .map(|(section, key)| format!("{section}.{key}"))
}

/// A configuration and how it was obtained.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The layered, validated configuration.
    pub config: Config,
    /// The file actually read; `None` when no file existed and defaults were used.
    pub source: Option<PathBuf>,
    /// Things worth logging that do not stop the start (for example a config file that
    /// holds a secret and is readable by other users).
    pub warnings: Vec<String>,
}

/// Loads the configuration: defaults, then the file at `path`, then the
/// `ROADIE_<SECTION>__<KEY>` variables of `env`.
///
/// `env` is the environment as `(name, value)` pairs (the binary passes [`process_env`]);
/// passing it in keeps tests away from the process environment.
///
/// A missing file means defaults (plus environment) when `path_is_explicit` is false, and
/// is [`ConfigError::Missing`] when it is true. Pass `true` when the path came from
/// `--config` or `$ROADIE_CONFIG`, as [`resolve_config_path`] reports.
pub fn load(
    path: &Path,
    env: &[(String, String)],
    path_is_explicit: bool,
) -> Result<LoadedConfig, ConfigError> {
    let Some((text, mode)) = read_file(path, path_is_explicit)? else {
        let (config, warnings) = layer(None, env)?;
        return Ok(LoadedConfig {
            config,
            source: None,
            warnings,
        });
    };
    // The file must be valid on its own: a bad value stays an error even when an
    // environment variable happens to override it.
    layer(Some((path, &text)), &[])?;
    let (config, mut warnings) = layer(Some((path, &text)), env)?;
    if let Some(warning) = permission_warning(path, &text, mode) {
        warnings.push(warning);
    }
    Ok(LoadedConfig {
        config,
        source: Some(path.to_path_buf()),
        warnings,
    })
}

impl Config {
    /// Parses a configuration from TOML text alone (no environment), with the same
    /// strictness as [`load`]. Errors name the file as `<inline config>`. Meant for tests
    /// and tools that build a configuration in memory.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        layer(Some((Path::new("<inline config>"), text)), &[]).map(|(config, _)| config)
    }
}

/// Reads the file: `None` when it is missing and that is allowed. Also returns the Unix
/// permission bits when known.
fn read_file(path: &Path, explicit: bool) -> Result<Option<(String, Option<u32>)>, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if explicit {
                Err(ConfigError::Missing {
                    path: path.to_path_buf(),
                })
            } else {
                Ok(None)
            };
        }
        Err(e) => return Err(read_error(e)),
    };
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_dir() {
        return Err(read_error(std::io::Error::other("it is a directory")));
    }
    let mode = file_mode(&metadata);
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(read_error(std::io::Error::other(format!(
            "it is larger than {MAX_FILE_BYTES} bytes"
        ))));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it is not UTF-8 text",
        ))
    })?;
    Ok(Some((text, mode)))
}

#[cfg(unix)]
fn file_mode(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_metadata: &std::fs::Metadata) -> Option<u32> {
    None
}

/// A warning when the file holds a secret and its mode lets group or others read it.
fn permission_warning(path: &Path, text: &str, mode: Option<u32>) -> Option<String> {
    let mode = mode?;
    if mode & 0o077 == 0 {
        return None;
    }
    let table: toml::Table = text.parse().ok()?;
    let found: Vec<String> = SECRET_KEYS
        .iter()
        .filter(|(section, key)| {
            table
                .get(*section)
                .and_then(toml::Value::as_table)
                .is_some_and(|s| s.contains_key(*key))
        })
        .map(|(section, key)| format!("{section}.{key}"))
        .collect();
    let first = found.first()?;
    Some(format!(
        "config file {} holds a secret ({}) but other users can read it (mode {:04o}); \
         run `chmod 600 {}`, or move the secret to the keystore with `roadie secrets set {first}` \
         and remove it from the file",
        path.display(),
        found.join(", "),
        mode & 0o777,
        path.display(),
    ))
}

/// Everything known about where settings came from, for error locations.
struct Origins<'a> {
    file: Option<&'a Path>,
    lines: KeyLines,
    overrides: &'a [EnvOverride],
}

impl Origins<'_> {
    fn env_for_key(&self, section: &str, key: &str) -> Option<&EnvOverride> {
        self.overrides
            .iter()
            .find(|o| o.section == section && o.key == key)
    }

    /// The exact origin of `path` (its `[section] key` part), if any layer set it.
    fn exact(&self, path: &[String]) -> Option<Location> {
        if let [section, key, ..] = path
            && let Some(o) = self.env_for_key(section, key)
        {
            return Some(Location::Env { var: o.var.clone() });
        }
        let head = &path[..path.len().min(2)];
        match self.file {
            Some(file) if !head.is_empty() && self.lines.contains(head) => Some(Location::File {
                path: file.to_path_buf(),
                line: self.lines.line_of(path),
            }),
            _ => None,
        }
    }

    /// The best location for `path`, trying `near` (a related key) when `path` itself was
    /// not set, then its section.
    fn locate(&self, path: &[String], near: Option<&[String]>) -> Location {
        if let Some(location) = self.exact(path) {
            return location;
        }
        if let Some(location) = near.and_then(|near| self.exact(near)) {
            return location;
        }
        let section = path.first();
        if let (Some(file), Some(section)) = (self.file, section)
            && self.lines.contains(std::slice::from_ref(section))
        {
            return Location::File {
                path: file.to_path_buf(),
                line: self.lines.line_of(path),
            };
        }
        if let Some(o) = section.and_then(|s| self.overrides.iter().find(|o| &o.section == s)) {
            return Location::Env { var: o.var.clone() };
        }
        match self.file {
            Some(file) => Location::File {
                path: file.to_path_buf(),
                line: None,
            },
            None => Location::Defaults,
        }
    }

    fn error(&self, path: &[String], near: Option<&[String]>, message: String) -> ConfigError {
        ConfigError::Invalid {
            location: self.locate(path, near),
            key: dotted(path),
            message,
        }
    }
}

/// `["tts", "command", "[1]"]` → `tts.command[1]`.
fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        if !out.is_empty() && !segment.starts_with('[') {
            out.push('.');
        }
        out.push_str(segment);
    }
    out
}

/// Layers defaults, the file (`(path, text)`) and the environment, then validates.
fn layer(
    file: Option<(&Path, &str)>,
    env: &[(String, String)],
) -> Result<(Config, Vec<String>), ConfigError> {
    let mut table = match file {
        Some((path, text)) => text.parse::<toml::Table>().map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| source::line_col(text, span.start));
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?,
        None => toml::Table::new(),
    };
    let overrides = env::collect(env)?;
    env::apply(&mut table, &overrides);
    let origins = Origins {
        file: file.map(|(path, _)| path),
        lines: file
            .map(|(_, text)| KeyLines::new(text))
            .unwrap_or_default(),
        overrides: &overrides,
    };

    let config = deserialize(table, &origins)?;
    let warnings = validate(&config, &origins)?;
    Ok((config, warnings))
}

/// Deserializes the merged table.
///
/// Every bad key is reported, not only the first: each one found is taken out of the
/// table and the rest is read again, so a file with three typos needs one edit, not three
/// starts. Only a key that cannot be taken out (a required key that is missing) ends the
/// search early. The rules across keys ([`validate`]) are checked over what remains.
fn deserialize(mut table: toml::Table, origins: &Origins<'_>) -> Result<Config, ConfigError> {
    let mut found: Vec<ConfigError> = Vec::new();
    let mut removed: Vec<Vec<String>> = Vec::new();
    loop {
        let failure = match deserialize_once(&mut table, origins) {
            Ok(config) if found.is_empty() => return Ok(config),
            Ok(rest) => {
                // The keys that read can still break a rule across keys; say so now too,
                // unless a key of that section was taken out (the rule may only fail
                // because of that).
                if let Err(error) = validate(&rest, origins)
                    && !removed
                        .iter()
                        .any(|gone| gone.first().map(String::as_str) == error.section())
                {
                    found.push(error);
                }
                break;
            }
            Err(failure) => failure,
        };
        // `client_idd = ...` is taken out, and then `client_id` is missing: the first
        // message already names the expected keys, so the second would only repeat it.
        let follows_a_removed_key = failure.missing_key
            && removed.iter().any(|gone| {
                gone.len() == failure.path.len()
                    && gone[..gone.len() - 1] == failure.path[..failure.path.len() - 1]
            });
        if follows_a_removed_key {
            break;
        }
        found.push(failure.error);
        if found.len() >= MAX_REPORTED_ERRORS || !remove_key(&mut table, &failure.path) {
            break;
        }
        removed.push(failure.path);
    }
    Err(ConfigError::from_several(found))
}

/// At most this many problems are listed at once.
const MAX_REPORTED_ERRORS: usize = 20;

/// Takes the key at `path` (up to its first list index) out of `table`; false when there
/// is no such key.
fn remove_key(table: &mut toml::Table, path: &[String]) -> bool {
    let keys: Vec<&String> = path
        .iter()
        .take_while(|segment| !segment.starts_with('['))
        .collect();
    let Some((last, sections)) = keys.split_last() else {
        return false;
    };
    let mut current = table;
    for section in sections {
        match current.get_mut(section.as_str()) {
            Some(toml::Value::Table(inner)) => current = inner,
            _ => return false,
        }
    }
    current.remove(last.as_str()).is_some()
}

/// The first problem [`deserialize_once`] met.
struct Failure {
    error: ConfigError,
    /// The key path it is about.
    path: Vec<String>,
    /// A required key is missing (so there is nothing to take out).
    missing_key: bool,
}

/// One attempt at reading the merged table. When a value from the environment was read
/// as TOML and does not fit its key, it is retried as the plain string.
fn deserialize_once(table: &mut toml::Table, origins: &Origins<'_>) -> Result<Config, Failure> {
    let mut first_errors: HashMap<usize, ConfigError> = HashMap::new();
    loop {
        let value = toml::Value::Table(table.clone());
        let error = match serde_path_to_error::deserialize::<_, Config>(value) {
            Ok(config) => return Ok(config),
            Err(error) => error,
        };
        let mut path: Vec<String> = error
            .path()
            .iter()
            .map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => format!("[{index}]"),
                serde_path_to_error::Segment::Map { key } => key.clone(),
                serde_path_to_error::Segment::Enum { variant } => variant.clone(),
                serde_path_to_error::Segment::Unknown => "?".to_owned(),
            })
            .collect();
        let missing_key = error.inner().message().starts_with("missing field `");
        let message = describe(&mut path, error.inner().message());
        let built = origins.error(&path, None, message);

        let env_index = match path.as_slice() {
            [section, key, ..] => origins
                .overrides
                .iter()
                .position(|o| &o.section == section && &o.key == key),
            _ => None,
        };
        let Some(index) = env_index else {
            return Err(Failure {
                error: built,
                path,
                missing_key,
            });
        };
        if let Some(first) = first_errors.remove(&index) {
            return Err(Failure {
                error: first,
                path,
                missing_key,
            });
        }
        let o = &origins.overrides[index];
        if o.value.is_str() {
            return Err(Failure {
                error: built,
                path,
                missing_key,
            });
        }
        first_errors.insert(index, built);
        if let Some(toml::Value::Table(section)) = table.get_mut(&o.section) {
            section.insert(o.key.clone(), toml::Value::String(o.raw.clone()));
        }
    }
}

/// Rewrites serde's message into Roadie's words, completing `path` with the key that an
/// unknown-key or missing-key message names.
fn describe(path: &mut Vec<String>, message: &str) -> String {
    let names = backticked(message);
    if message.starts_with("unknown field `")
        && let Some((name, expected)) = names.split_first()
    {
        if path.last() != Some(name) {
            path.push(name.clone());
        }
        let expected = if expected.is_empty() {
            "none".to_owned()
        } else {
            expected.join(", ")
        };
        return match &path[..path.len() - 1] {
            [] => format!("unknown section `[{name}]`; expected one of: {expected}"),
            section => format!(
                "unknown key `{name}` in [{}]; expected one of: {expected}",
                dotted(section)
            ),
        };
    }
    if message.starts_with("missing field `")
        && let Some(name) = names.first()
    {
        let section = dotted(path);
        path.push(name.clone());
        return format!("missing required key `{name}` in [{section}]");
    }
    message.to_owned()
}

/// The `backticked` words of a serde message, in order.
fn backticked(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Checks that involve more than one key; returns warnings.
fn validate(config: &Config, origins: &Origins<'_>) -> Result<Vec<String>, ConfigError> {
    let mut warnings = Vec::new();
    let path = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let command = path(&["tts", "command"]);
    let engine = path(&["tts", "engine"]);
    match (&config.tts.command, config.tts.engine) {
        (None, TtsEngine::Command) => {
            return Err(origins.error(
                &command,
                Some(&engine),
                "required when tts.engine = \"command\": a list of strings, the program then \
                 its arguments, such as [\"piper-wav\", \"--voice\", \"en\"]"
                    .to_owned(),
            ));
        }
        (Some(argv), _) if argv.first().is_none_or(|program| program.trim().is_empty()) => {
            return Err(origins.error(
                &command,
                None,
                "expected a non-empty list whose first string is the program".to_owned(),
            ));
        }
        (Some(_), TtsEngine::EspeakNg) => {
            warnings.push(format!(
                "{}: tts.command is set but tts.engine is \"espeak-ng\", so the command is not used; \
                 set tts.engine = \"command\" to use it",
                origins.locate(&command, None)
            ));
        }
        _ => {}
    }
    Ok(warnings)
}
