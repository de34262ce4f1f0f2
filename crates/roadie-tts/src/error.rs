//! Typed errors: [`TtsError`] for one synthesis or voice listing, [`EngineMissing`]
//! when the configured engine cannot be used at all (with how to install it).

use crate::wav::WavError;
use std::time::Duration;

/// Why speaking a text or listing voices failed.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// The program does not exist (or is not executable).
    #[error("{program}: program not found: {source}")]
    ProgramNotFound {
        /// The program as configured.
        program: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The program exists but could not be started.
    #[error("{program}: could not start: {source}")]
    Spawn {
        /// The program as configured.
        program: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Reading from or writing to the program failed.
    #[error("{program}: I/O error: {source}")]
    Io {
        /// The program as configured.
        program: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The program ran past its time limit and was killed.
    #[error("{program}: no result within {timeout:?}; killed")]
    Timeout {
        /// The program as configured.
        program: String,
        /// The limit.
        timeout: Duration,
        /// The killed process, when the OS gave an id.
        pid: Option<u32>,
    },
    /// The program exited unsuccessfully.
    #[error("{program}: exited with {status}{}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        /// The program as configured.
        program: String,
        /// The exit status, as the OS describes it.
        status: String,
        /// The start of what it wrote on stderr, trimmed.
        stderr: String,
    },
    /// The program wrote more audio than allowed; it was killed.
    #[error("{program}: more than {limit} bytes of output; killed")]
    OutputTooLarge {
        /// The program as configured.
        program: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The program succeeded but did not write the `{output}` file.
    #[error("{program}: exited successfully but wrote no output file")]
    NoOutput {
        /// The program as configured.
        program: String,
    },
    /// The program's output is not usable WAV.
    #[error("{program}: output is not usable WAV: {source}")]
    BadWav {
        /// The program as configured.
        program: String,
        /// What is wrong with it.
        source: WavError,
    },
    /// Nothing to say (empty or only whitespace and control characters).
    #[error("the text is empty")]
    EmptyText,
    /// The text is over the engine's limit.
    #[error("the text is {len} bytes, over the limit of {max}")]
    TextTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A voice name that cannot be passed to a program safely.
    #[error("invalid voice name {voice:?}: {reason}")]
    InvalidVoice {
        /// The voice as given.
        voice: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The engine does not know this voice.
    #[error("unknown voice {voice:?}")]
    UnknownVoice {
        /// The voice as given.
        voice: String,
    },
    /// The command line needs `{voice}` but there is neither a voice nor a default.
    #[error("the command uses {{voice}} but no voice was given and none is configured")]
    VoiceRequired,
    /// The configured command line is unusable.
    #[error("invalid TTS command: {reason}")]
    InvalidCommand {
        /// What is wrong with it.
        reason: String,
    },
}

/// The configured engine cannot be used; the daemon runs without TTS and says how to
/// get it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TTS engine {engine} is unavailable: {reason}. {how_to_install}")]
pub struct EngineMissing {
    /// The engine (`espeak-ng`, or the command's program).
    pub engine: String,
    /// What went wrong when looking for it.
    pub reason: String,
    /// How to install or configure it on this operating system.
    pub how_to_install: String,
}
