//! Speech engines: the [`Engine`] trait, its two implementations (espeak-ng and any
//! WAV-writing command) and [`probe`], which finds the configured one or explains
//! how to install it so that the daemon can start without TTS.
//!
//! Programs are started directly with an argument vector, never through a shell, so
//! chat text cannot become a command. Each run has a time limit after which the
//! process is killed, and a limit on how much output is read.

mod command;
mod espeak;
mod run;

pub use command::{CommandConfig, CommandEngine};
pub use espeak::{EspeakConfig, EspeakEngine};

use crate::error::{EngineMissing, TtsError};
use crate::wav::Wav;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed future that can move between threads, so that `dyn Engine` works.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A voice an engine offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// What to pass as `voice` to [`Engine::speak`] (espeak-ng: the language code).
    pub id: String,
    /// A readable name.
    pub name: String,
    /// The language, when known (`en-us`).
    pub language: Option<String>,
    /// `M` or `F`, when the engine says.
    pub gender: Option<String>,
}

impl Voice {
    /// A voice known only by its id.
    pub fn named(id: impl Into<String>) -> Voice {
        let id = id.into();
        Voice {
            name: id.clone(),
            id,
            language: None,
            gender: None,
        }
    }
}

/// Something that turns text into WAV audio.
pub trait Engine: Send + Sync + fmt::Debug {
    /// The engine's name for status and logs (`espeak-ng`, or the command's program).
    fn name(&self) -> &str;

    /// Speaks `text` with `voice` (the engine's default when `None`) and returns the
    /// checked audio: parsed WAV with at least one frame.
    fn speak<'a>(
        &'a self,
        text: &'a str,
        voice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Wav, TtsError>>;

    /// The voices on offer (listed once, when the engine was probed or built).
    fn voices(&self) -> Result<Vec<Voice>, TtsError>;
}

/// Which engine to use and how; the daemon builds it from `[tts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineConfig {
    /// `engine = "espeak-ng"`.
    Espeak(EspeakConfig),
    /// `engine = "command"`.
    Command(CommandConfig),
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::Espeak(EspeakConfig::default())
    }
}

/// Finds and checks the configured engine. On failure the daemon keeps running
/// without TTS and shows [`EngineMissing::how_to_install`].
pub async fn probe(config: &EngineConfig) -> Result<Box<dyn Engine>, EngineMissing> {
    match config {
        EngineConfig::Espeak(config) => {
            let engine = EspeakEngine::probe(config).await?;
            Ok(Box::new(engine))
        }
        EngineConfig::Command(config) => {
            let engine = CommandEngine::probe(config)?;
            Ok(Box::new(engine))
        }
    }
}

/// Default limit on the text given to an engine, in bytes.
pub const DEFAULT_MAX_TEXT_BYTES: usize = 20_000;
/// Default limit on the audio read from an engine, in bytes (25 minutes of 22 kHz
/// 16-bit mono).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// The text as an engine gets it: control characters (other than newlines and tabs)
/// replaced by spaces, trimmed, non-empty and within `max_bytes`.
fn prepare_text(text: &str, max_bytes: usize) -> Result<String, TtsError> {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err(TtsError::EmptyText);
    }
    if trimmed.len() > max_bytes {
        return Err(TtsError::TextTooLong {
            len: trimmed.len(),
            max: max_bytes,
        });
    }
    Ok(trimmed.to_owned())
}

/// Checks that a voice name is safe to pass as one argument: it cannot look like an
/// option and holds only the characters voice names and model paths use.
fn validate_voice(voice: &str) -> Result<(), TtsError> {
    let invalid = |reason| {
        Err(TtsError::InvalidVoice {
            voice: voice.to_owned(),
            reason,
        })
    };
    if voice.is_empty() {
        return invalid("empty");
    }
    if voice.len() > 256 {
        return invalid("longer than 256 bytes");
    }
    if voice.starts_with('-') {
        return invalid("starts with '-'");
    }
    if !voice
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.' | '/' | ':'))
    {
        return invalid("only letters, digits and - _ + . / : are allowed");
    }
    if voice.split(['/', '\\']).any(|part| part == "..") {
        return invalid("contains '..'");
    }
    Ok(())
}

/// How to install espeak-ng on this operating system.
fn espeak_install_hint() -> String {
    if cfg!(target_os = "windows") {
        "Install it with `winget install eSpeak-NG.eSpeak-NG` (or the .msi from \
         https://github.com/espeak-ng/espeak-ng/releases), or set tts.engine = \"command\""
            .to_owned()
    } else if cfg!(target_os = "macos") {
        "Install it with `brew install espeak-ng` (or `sudo port install espeak-ng`), or set \
         tts.engine = \"command\""
            .to_owned()
    } else {
        "Install it with your package manager: `sudo apt install espeak-ng` (Debian, Ubuntu), \
         `sudo dnf install espeak-ng` (Fedora), `sudo pacman -S espeak-ng` (Arch); or set \
         tts.engine = \"command\""
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_preparation() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("hello", Ok("hello")),
            ("  hi\u{0}there\u{7}  ", Ok("hi there")),
            ("line\none", Ok("line\none")),
            ("", Err("empty")),
            (" \u{1b}\r ", Err("empty")),
            ("abcdefghijk", Err("long")),
        ];
        for (input, expected) in cases {
            let got = prepare_text(input, 10);
            match (expected, got) {
                (Ok(want), Ok(got)) => assert_eq!(&got, want, "{input:?}"),
                (Err("empty"), Err(TtsError::EmptyText)) => {}
                (Err("long"), Err(TtsError::TextTooLong { len: 11, max: 10 })) => {}
                (want, got) => panic!("{input:?}: expected {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn voice_validation() {
        for ok in [
            "en",
            "en-us",
            "en-us+f3",
            "gmw/en-US",
            "/opt/voices/en_US-joe.onnx",
            "x:y",
        ] {
            assert!(validate_voice(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-w/etc/passwd",
            "--output=x",
            "en us",
            "en;rm",
            "$(id)",
            "../../etc/x",
            "a/../b",
            "é",
        ] {
            assert!(
                matches!(validate_voice(bad), Err(TtsError::InvalidVoice { .. })),
                "{bad}"
            );
        }
        assert!(validate_voice(&"a".repeat(257)).is_err());
    }
}
