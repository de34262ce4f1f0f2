//! The espeak-ng engine: runs the `espeak-ng` program with the text on stdin
//! (`--stdin --stdout`, UTF-8), reads the WAV from stdout, and lists voices from
//! `espeak-ng --voices` once, when probed.

use super::run::{Run, find_program, run};
use super::{
    BoxFuture, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_TEXT_BYTES, Engine, Voice,
    espeak_install_hint, prepare_text, validate_voice,
};
use crate::error::{EngineMissing, TtsError};
use crate::wav::Wav;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Where installers put espeak-ng when it is not in a daemon's `PATH`.
const EXTRA_DIRS: &[&str] = if cfg!(target_os = "windows") {
    &[
        r"C:\Program Files\eSpeak NG",
        r"C:\Program Files (x86)\eSpeak NG",
    ]
} else if cfg!(target_os = "macos") {
    &["/opt/homebrew/bin", "/usr/local/bin", "/opt/local/bin"]
} else {
    &["/usr/bin", "/usr/local/bin"]
};

/// How to run espeak-ng.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspeakConfig {
    /// The program: a bare name looked up in `PATH` (then the usual install
    /// directories), or a path. Default `espeak-ng`.
    pub program: String,
    /// The voice when none is asked for (`None`: espeak-ng's default).
    pub default_voice: Option<String>,
    /// Speed in words per minute (`-s`; `None`: espeak-ng's default, 175).
    pub words_per_minute: Option<u16>,
    /// Time limit for one synthesis. Default 30 s.
    pub timeout: Duration,
    /// Longest text accepted, in bytes.
    pub max_text_bytes: usize,
    /// Most audio read, in bytes.
    pub max_output_bytes: usize,
}

impl Default for EspeakConfig {
    fn default() -> Self {
        EspeakConfig {
            program: "espeak-ng".to_owned(),
            default_voice: None,
            words_per_minute: None,
            timeout: Duration::from_secs(30),
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// espeak-ng, found and checked.
#[derive(Debug, Clone)]
pub struct EspeakEngine {
    config: EspeakConfig,
    path: PathBuf,
    version: String,
    voices: Vec<Voice>,
}

/// Time limit for `--version` and `--voices`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

impl EspeakEngine {
    /// Finds the program, checks that it runs (`--version`) and lists its voices.
    pub async fn probe(config: &EspeakConfig) -> Result<EspeakEngine, EngineMissing> {
        let missing = |reason: String| EngineMissing {
            engine: "espeak-ng".to_owned(),
            reason,
            how_to_install: espeak_install_hint(),
        };
        let path = find_program(config.program.as_ref(), EXTRA_DIRS).ok_or_else(|| {
            missing(format!(
                "`{}` was not found in PATH or the usual install directories",
                config.program
            ))
        })?;
        let info = |args: &[&str]| Run {
            display: &config.program,
            program: &path,
            args: args.iter().map(OsString::from).collect(),
            stdin: None,
            timeout: PROBE_TIMEOUT,
            max_stdout: 1024 * 1024,
        };
        let version = run(info(&["--version"]))
            .await
            .and_then(|out| out.success(&config.program))
            .map_err(|error| missing(format!("`{} --version` failed: {error}", path.display())))?;
        let version = String::from_utf8_lossy(&version.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let listing = run(info(&["--voices"]))
            .await
            .and_then(|out| out.success(&config.program))
            .map_err(|error| missing(format!("`{} --voices` failed: {error}", path.display())))?;
        let voices = parse_voices(&String::from_utf8_lossy(&listing.stdout));
        tracing::info!(path = %path.display(), %version, voices = voices.len(), "espeak-ng found");
        Ok(EspeakEngine {
            config: config.clone(),
            path,
            version,
            voices,
        })
    }

    /// The program that runs.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// What `espeak-ng --version` said (`eSpeak NG text-to-speech: 1.51 ...`).
    pub fn version(&self) -> &str {
        &self.version
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<Wav, TtsError> {
        let program = self.config.program.as_str();
        // `[[...]]` is espeak-ng's phoneme input; chat text should be read as text.
        let text = prepare_text(text, self.config.max_text_bytes)?.replace("[[", "[ [");
        let mut args: Vec<OsString> =
            vec!["--stdout".into(), "--stdin".into(), "-b".into(), "1".into()];
        if let Some(voice) = voice.or(self.config.default_voice.as_deref()) {
            validate_voice(voice)?;
            args.push("-v".into());
            args.push(voice.into());
        }
        if let Some(wpm) = self.config.words_per_minute {
            args.push("-s".into());
            args.push(wpm.to_string().into());
        }
        let output = run(Run {
            display: program,
            program: &self.path,
            args,
            stdin: Some(text.as_bytes()),
            timeout: self.config.timeout,
            max_stdout: self.config.max_output_bytes,
        })
        .await?;
        if !output.status.success() && output.stderr.contains("voice does not exist") {
            return Err(TtsError::UnknownVoice {
                voice: voice
                    .or(self.config.default_voice.as_deref())
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        let output = output.success(program)?;
        let wav = Wav::parse(output.stdout).map_err(|source| TtsError::BadWav {
            program: program.to_owned(),
            source,
        })?;
        if wav.info().frames == 0 {
            return Err(TtsError::BadWav {
                program: program.to_owned(),
                source: crate::wav::WavError::Empty,
            });
        }
        Ok(wav)
    }
}

impl Engine for EspeakEngine {
    fn name(&self) -> &str {
        "espeak-ng"
    }

    fn speak<'a>(
        &'a self,
        text: &'a str,
        voice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Wav, TtsError>> {
        Box::pin(self.synthesize(text, voice))
    }

    fn voices(&self) -> Result<Vec<Voice>, TtsError> {
        Ok(self.voices.clone())
    }
}

/// Parses `espeak-ng --voices`:
/// `Pty Language Age/Gender VoiceName File Other Languages`, one voice a line.
/// MBROLA voices (`mb/...`) are left out: they need data packages that are rarely
/// installed.
fn parse_voices(listing: &str) -> Vec<Voice> {
    listing
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let priority = fields.next()?;
            if !priority.bytes().all(|b| b.is_ascii_digit()) {
                return None; // the header
            }
            let language = fields.next()?;
            let age_gender = fields.next()?;
            let name = fields.next()?;
            let file = fields.next()?;
            if file.starts_with("mb/") {
                return None;
            }
            let gender = age_gender
                .rsplit('/')
                .next()
                .filter(|g| matches!(*g, "M" | "F"))
                .map(str::to_owned);
            Some(Voice {
                id: language.to_owned(),
                name: name.replace('_', " "),
                language: Some(language.to_owned()),
                gender,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_voice_table() {
        let listing = "\
Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  af              --/M      Afrikaans          gmw/af
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/F      English_(America)  gmw/en-US            (en 3)
 3  en-uk           --/M      english-mb-en1     mb/mb-en1            (en-gb 3)(en 2)
garbage
";
        let voices = parse_voices(listing);
        assert_eq!(voices.len(), 3);
        assert_eq!(voices[1].id, "en-gb");
        assert_eq!(voices[1].name, "English (Great Britain)");
        assert_eq!(voices[2].gender.as_deref(), Some("F"));
        assert!(parse_voices("").is_empty());
    }

    #[tokio::test]
    async fn missing_program_says_how_to_install() {
        let config = EspeakConfig {
            program: "/nonexistent/roadie/espeak-ng".to_owned(),
            ..EspeakConfig::default()
        };
        let missing = EspeakEngine::probe(&config).await.unwrap_err();
        assert_eq!(missing.engine, "espeak-ng");
        assert!(missing.how_to_install.contains("espeak-ng"), "{missing}");
        assert!(missing.reason.contains("not found"), "{missing}");
    }
}
