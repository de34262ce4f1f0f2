//! The command engine: any program that writes WAV (Piper and the like), configured
//! as an argument vector with the placeholders `{text}`, `{voice}` and `{output}`.
//!
//! Without `{text}` the text goes to the program's stdin. With `{output}` the program
//! writes to a fresh temporary WAV path that is read afterwards; without it the WAV
//! is read from stdout. Placeholders are substituted once, inside single arguments:
//! no shell ever sees the text.

use super::run::{Run, find_program, run};
use super::{
    BoxFuture, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_TEXT_BYTES, Engine, Voice, prepare_text,
    validate_voice,
};
use crate::error::{EngineMissing, TtsError};
use crate::wav::{Wav, WavError};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to run a WAV-writing program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandConfig {
    /// The program, then its arguments, with `{text}`, `{voice}` and `{output}`
    /// placeholders, such as `["piper", "-m", "{voice}", "-f", "{output}"]`.
    pub argv: Vec<String>,
    /// The voice when none is asked for.
    pub default_voice: Option<String>,
    /// The voices offered. When not empty, only these ids are accepted.
    pub voices: Vec<Voice>,
    /// Time limit for one synthesis. Default 60 s (neural engines load a model).
    pub timeout: Duration,
    /// Longest text accepted, in bytes.
    pub max_text_bytes: usize,
    /// Most audio read, in bytes.
    pub max_output_bytes: usize,
}

impl CommandConfig {
    /// A command with default limits and no voices.
    pub fn new(argv: Vec<String>) -> CommandConfig {
        CommandConfig {
            argv,
            default_voice: None,
            voices: Vec::new(),
            timeout: Duration::from_secs(60),
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Text,
    Voice,
    Output,
}

/// An argument split into literal text and placeholders.
fn parse_arg(arg: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = arg;
    while let Some(start) = rest.find('{') {
        let (before, from_brace) = rest.split_at(start);
        literal.push_str(before);
        let placeholder = [
            ("{text}", Segment::Text),
            ("{voice}", Segment::Voice),
            ("{output}", Segment::Output),
        ]
        .into_iter()
        .find(|(name, _)| from_brace.starts_with(name));
        match placeholder {
            Some((name, segment)) => {
                if !literal.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                segments.push(segment);
                rest = from_brace.get(name.len()..).unwrap_or_default();
            }
            None => {
                literal.push('{');
                rest = from_brace.get(1..).unwrap_or_default();
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() || segments.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    segments
}

/// A WAV-writing program, validated.
#[derive(Debug, Clone)]
pub struct CommandEngine {
    config: CommandConfig,
    name: String,
    path: PathBuf,
    args: Vec<Vec<Segment>>,
    uses_text: bool,
    uses_voice: bool,
    uses_output: bool,
}

impl CommandEngine {
    /// Validates the command line (the program is looked up when it runs).
    pub fn new(config: CommandConfig) -> Result<CommandEngine, TtsError> {
        let Some((program, rest)) = config.argv.split_first() else {
            return Err(TtsError::InvalidCommand {
                reason: "the command is empty".to_owned(),
            });
        };
        if program.trim().is_empty() {
            return Err(TtsError::InvalidCommand {
                reason: "the program name is empty".to_owned(),
            });
        }
        if parse_arg(program)
            .iter()
            .any(|s| !matches!(s, Segment::Literal(_)))
        {
            return Err(TtsError::InvalidCommand {
                reason: "the program name cannot contain a placeholder".to_owned(),
            });
        }
        for voice in config
            .default_voice
            .iter()
            .chain(config.voices.iter().map(|v| &v.id))
        {
            validate_voice(voice)?;
        }
        let args: Vec<Vec<Segment>> = rest.iter().map(|arg| parse_arg(arg)).collect();
        let uses = |wanted: Segment| args.iter().flatten().any(|s| *s == wanted);
        let name = Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.clone());
        Ok(CommandEngine {
            name,
            path: PathBuf::from(program),
            uses_text: uses(Segment::Text),
            uses_voice: uses(Segment::Voice),
            uses_output: uses(Segment::Output),
            args,
            config,
        })
    }

    /// Validates the command line and checks that the program exists.
    pub fn probe(config: &CommandConfig) -> Result<CommandEngine, EngineMissing> {
        let program = config.argv.first().cloned().unwrap_or_default();
        let mut engine = CommandEngine::new(config.clone()).map_err(|error| EngineMissing {
            engine: program.clone(),
            reason: error.to_string(),
            how_to_install: "Fix tts.command: a list of strings, the program then its arguments."
                .to_owned(),
        })?;
        engine.path = find_program(program.as_ref(), &[]).ok_or_else(|| EngineMissing {
            engine: engine.name.clone(),
            reason: format!("`{program}` was not found in PATH"),
            how_to_install: command_install_hint(&engine.name),
        })?;
        tracing::info!(path = %engine.path.display(), "TTS command found");
        Ok(engine)
    }

    fn build_args(&self, text: &str, voice: Option<&str>, output: Option<&Path>) -> Vec<OsString> {
        self.args
            .iter()
            .map(|segments| {
                let mut arg = OsString::new();
                for segment in segments {
                    match segment {
                        Segment::Literal(literal) => arg.push(literal),
                        Segment::Text => arg.push(text),
                        Segment::Voice => arg.push(voice.unwrap_or_default()),
                        Segment::Output => {
                            if let Some(output) = output {
                                arg.push(output);
                            }
                        }
                    }
                }
                arg
            })
            .collect()
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<Wav, TtsError> {
        let program = self.name.as_str();
        let text = prepare_text(text, self.config.max_text_bytes)?;
        let voice = voice.or(self.config.default_voice.as_deref());
        if let Some(voice) = voice {
            validate_voice(voice)?;
            if !self.config.voices.is_empty() && !self.config.voices.iter().any(|v| v.id == voice) {
                return Err(TtsError::UnknownVoice {
                    voice: voice.to_owned(),
                });
            }
        } else if self.uses_voice {
            return Err(TtsError::VoiceRequired);
        }
        let io_error = |source| TtsError::Io {
            program: program.to_owned(),
            source,
        };
        let dir = if self.uses_output {
            Some(
                tempfile::Builder::new()
                    .prefix("roadie-tts-")
                    .tempdir()
                    .map_err(io_error)?,
            )
        } else {
            None
        };
        let output_path = dir.as_ref().map(|dir| dir.path().join("speech.wav"));
        let args = self.build_args(&text, voice, output_path.as_deref());
        let output = run(Run {
            display: program,
            program: &self.path,
            args,
            stdin: (!self.uses_text).then_some(text.as_bytes()),
            timeout: self.config.timeout,
            max_stdout: if self.uses_output {
                // Logs only; the audio is in the file.
                64 * 1024
            } else {
                self.config.max_output_bytes
            },
        })
        .await;
        let output = match output {
            // A chatty program may fill the log cap; with {output} that is harmless.
            Err(TtsError::OutputTooLarge { .. }) if self.uses_output => {
                return Err(TtsError::Failed {
                    program: program.to_owned(),
                    status: "killed".to_owned(),
                    stderr: "too much output on stdout".to_owned(),
                });
            }
            other => other?.success(program)?,
        };
        let bytes = match &output_path {
            Some(path) => self.read_output(path).await?,
            None => output.stdout,
        };
        drop(dir);
        let wav = Wav::parse(bytes).map_err(|source| TtsError::BadWav {
            program: program.to_owned(),
            source,
        })?;
        if wav.info().frames == 0 {
            return Err(TtsError::BadWav {
                program: program.to_owned(),
                source: WavError::Empty,
            });
        }
        Ok(wav)
    }

    async fn read_output(&self, path: &Path) -> Result<Vec<u8>, TtsError> {
        let program = self.name.as_str();
        let meta = match tokio::fs::metadata(path).await {
            Ok(meta) => meta,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(TtsError::NoOutput {
                    program: program.to_owned(),
                });
            }
            Err(source) => {
                return Err(TtsError::Io {
                    program: program.to_owned(),
                    source,
                });
            }
        };
        if meta.len() > self.config.max_output_bytes as u64 {
            return Err(TtsError::OutputTooLarge {
                program: program.to_owned(),
                limit: self.config.max_output_bytes,
            });
        }
        tokio::fs::read(path).await.map_err(|source| TtsError::Io {
            program: program.to_owned(),
            source,
        })
    }
}

impl Engine for CommandEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn speak<'a>(
        &'a self,
        text: &'a str,
        voice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Wav, TtsError>> {
        Box::pin(self.synthesize(text, voice))
    }

    fn voices(&self) -> Result<Vec<Voice>, TtsError> {
        Ok(self.config.voices.clone())
    }
}

fn command_install_hint(program: &str) -> String {
    let piper = "Piper: `pip install piper-tts` plus a voice model, then \
                 tts.command = [\"python3\", \"-m\", \"piper\", \"-m\", \"/path/to/voice.onnx\", \
                 \"-f\", \"{output}\"] (the text goes to stdin)";
    if program.to_ascii_lowercase().contains("piper") {
        format!("Install it or fix tts.command. {piper}")
    } else {
        format!(
            "Install `{program}` or point tts.command at a program that writes WAV; \
             or use tts.engine = \"espeak-ng\". {piper}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.to_owned())
    }

    #[test]
    fn placeholders() {
        let cases: &[(&str, Vec<Segment>)] = &[
            ("plain", vec![lit("plain")]),
            ("", vec![lit("")]),
            ("{text}", vec![Segment::Text]),
            ("--out={output}", vec![lit("--out="), Segment::Output]),
            ("{voice}.onnx", vec![Segment::Voice, lit(".onnx")]),
            ("{unknown}{text}", vec![lit("{unknown}"), Segment::Text]),
            ("{{text}}", vec![lit("{"), Segment::Text, lit("}")]),
            ("{", vec![lit("{")]),
            ("é{text}ü", vec![lit("é"), Segment::Text, lit("ü")]),
        ];
        for (arg, expected) in cases {
            assert_eq!(&parse_arg(arg), expected, "{arg}");
        }
    }

    #[test]
    fn substitution_happens_once() {
        let engine = CommandEngine::new(CommandConfig::new(vec![
            "prog".into(),
            "--text={text}".into(),
            "{voice}".into(),
            "{output}".into(),
        ]))
        .unwrap();
        let args = engine.build_args(
            "say {voice} $(id); `x`",
            Some("en"),
            Some(Path::new("/t/o.wav")),
        );
        assert_eq!(
            args,
            vec![
                OsString::from("--text=say {voice} $(id); `x`"),
                OsString::from("en"),
                OsString::from("/t/o.wav"),
            ]
        );
        assert!(engine.uses_text && engine.uses_voice && engine.uses_output);
    }

    #[test]
    fn invalid_commands() {
        for argv in [vec![], vec![" ".to_owned()], vec!["{text}".to_owned()]] {
            assert!(matches!(
                CommandEngine::new(CommandConfig::new(argv)),
                Err(TtsError::InvalidCommand { .. })
            ));
        }
        let mut config = CommandConfig::new(vec!["piper".into()]);
        config.default_voice = Some("-x".into());
        assert!(matches!(
            CommandEngine::new(config),
            Err(TtsError::InvalidVoice { .. })
        ));
    }

    #[tokio::test]
    async fn voice_rules() {
        let mut config = CommandConfig::new(vec!["cat".into(), "{voice}".into()]);
        let engine = CommandEngine::new(config.clone()).unwrap();
        assert!(matches!(
            engine.speak("hi", None).await,
            Err(TtsError::VoiceRequired)
        ));
        assert!(matches!(
            engine.speak("hi", Some("--help")).await,
            Err(TtsError::InvalidVoice { .. })
        ));
        config.voices = vec![Voice::named("a"), Voice::named("b")];
        let engine = CommandEngine::new(config).unwrap();
        assert!(matches!(
            engine.speak("hi", Some("c")).await,
            Err(TtsError::UnknownVoice { .. })
        ));
        assert_eq!(engine.voices().unwrap().len(), 2);
        assert!(matches!(
            engine.speak(" \u{0} ", Some("a")).await,
            Err(TtsError::EmptyText)
        ));
    }

    #[test]
    fn probe_reports_missing_programs() {
        let missing = CommandEngine::probe(&CommandConfig::new(vec![
            "roadie-no-such-piper".into(),
            "{output}".into(),
        ]))
        .unwrap_err();
        assert_eq!(missing.engine, "roadie-no-such-piper");
        assert!(
            missing.how_to_install.contains("pip install piper-tts"),
            "{missing}"
        );
        let invalid = CommandEngine::probe(&CommandConfig::new(vec![])).unwrap_err();
        assert!(invalid.reason.contains("empty"), "{invalid}");
    }
}
