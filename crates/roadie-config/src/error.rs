//! Configuration errors. Every one is a usage error (exit code 2) and names where the
//! bad setting came from: a file and line, or an environment variable.

use std::fmt;
use std::path::PathBuf;

/// Where a setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A config file, with the 1-based line when it is known.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: Option<usize>,
    },
    /// A `ROADIE_<SECTION>__<KEY>` environment variable.
    Env {
        /// The variable name, as spelled in the environment.
        var: String,
    },
    /// Neither the file nor the environment: the built-in defaults.
    Defaults,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File {
                path,
                line: Some(line),
            } => write!(f, "{}, line {line}", path.display()),
            Location::File { path, line: None } => write!(f, "{}", path.display()),
            Location::Env { var } => write!(f, "environment variable {var}"),
            Location::Defaults => f.write_str("built-in defaults"),
        }
    }
}

/// Why the configuration could not be loaded.
///
/// All variants are usage errors: map them to exit code 2 with [`ConfigError::exit_code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file named explicitly (`--config` or `$ROADIE_CONFIG`) does not exist.
    #[error(
        "config file {} does not exist (it was named by --config or $ROADIE_CONFIG; \
         a missing file only means defaults at the default location)",
        path.display()
    )]
    Missing {
        /// The file that was asked for.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, a directory, not UTF-8, too large).
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}, line {line}, column {column}: invalid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A malformed `ROADIE_..__..` variable name or conflicting variables.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong with it.
        message: String,
    },
    /// An unknown section or key, a value of the wrong type, or a value that fails validation.
    #[error("{location}, key `{key}`: {message}")]
    Invalid {
        /// Where the setting was made.
        location: Location,
        /// The dotted key path, such as `server.listen` or `tts.command[1]`.
        key: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// More than one problem, in the file's line order. Still one line (the CLI's
    /// reason is always one line), with each problem numbered.
    #[error("{} problems in the configuration: {}", errors.len(), list(errors))]
    Several {
        /// Every problem found, in the file's line order.
        errors: Vec<ConfigError>,
    },
}

fn list(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .enumerate()
        .map(|(index, error)| format!("({}) {error}", index + 1))
        .collect::<Vec<_>>()
        .join(" ")
}

impl ConfigError {
    /// One error as itself, several as [`ConfigError::Several`].
    pub(crate) fn from_several(mut errors: Vec<ConfigError>) -> ConfigError {
        errors.sort_by_key(|error| match error {
            ConfigError::Invalid {
                location: Location::File { line, .. },
                ..
            } => line.unwrap_or(usize::MAX),
            _ => usize::MAX,
        });
        if errors.len() == 1
            && let Some(only) = errors.pop()
        {
            return only;
        }
        ConfigError::Several { errors }
    }

    /// The config section an [`ConfigError::Invalid`] is about (`tts` for `tts.command`).
    pub(crate) fn section(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => key.split(['.', '[']).next(),
            _ => None,
        }
    }

    /// The process exit code for this error: always 2 (usage error).
    pub fn exit_code(&self) -> u8 {
        2
    }
}
