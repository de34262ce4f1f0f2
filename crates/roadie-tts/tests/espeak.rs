//! Real programs behind the engines: espeak-ng (only with `ROADIE_TEST_ESPEAK=1`,
//! and then it must be installed), plus `sleep`, `cp` and `cat` standing in for a
//! stuck or a file-writing engine (Unix, always on).

#![allow(clippy::unwrap_used)]

use roadie_tts::{
    CommandConfig, CommandEngine, Engine, EngineConfig, EspeakConfig, TtsError, Wav, probe,
};
use std::time::{Duration, Instant};

const LINE: &str = "Thanks for the follow, StreamFan42, and welcome to the stream!";

/// The espeak-ng engine when the switch is on (failing when it is missing); `None`
/// when the switch is off.
async fn espeak(test: &str) -> Option<Box<dyn Engine>> {
    if std::env::var("ROADIE_TEST_ESPEAK").ok().as_deref() != Some("1") {
        eprintln!(
            "{test}: skipped (set ROADIE_TEST_ESPEAK=1 to run it against the real espeak-ng)"
        );
        return None;
    }
    match probe(&EngineConfig::Espeak(EspeakConfig::default())).await {
        Ok(engine) => Some(engine),
        Err(missing) => panic!("ROADIE_TEST_ESPEAK=1 but espeak-ng is unusable: {missing}"),
    }
}

#[tokio::test]
async fn espeak_speaks_a_line_as_valid_wav() {
    let Some(engine) = espeak("espeak_speaks_a_line_as_valid_wav").await else {
        return;
    };
    assert_eq!(engine.name(), "espeak-ng");
    let started = Instant::now();
    let wav = engine.speak(LINE, None).await.unwrap();
    let elapsed = started.elapsed();
    let info = *wav.info();
    let level = wav.ensure_audible().unwrap();
    eprintln!(
        "espeak-ng: {} Hz, {} ch, {} bit, {:?} of audio in {elapsed:?}, peak {:.3}, rms {:.4}, sizes repaired: {}",
        info.sample_rate,
        info.channels,
        info.bits_per_sample,
        info.duration(),
        level.peak,
        level.rms,
        info.sizes_repaired
    );
    assert!(info.sample_rate >= 8_000, "{info:?}");
    assert_eq!(info.channels, 1);
    assert_eq!(info.bits_per_sample, 16);
    assert!(info.duration() > Duration::from_millis(500), "{info:?}");
    assert!(level.peak > 0.05 && level.rms > 0.005, "{level:?}");
    // The canonical form has true sizes and the same samples.
    let clean = Wav::parse(wav.to_canonical().unwrap()).unwrap();
    assert!(!clean.info().sizes_repaired);
    assert_eq!(clean.samples(), wav.samples());
}

#[tokio::test]
async fn espeak_lists_and_uses_voices() {
    let Some(engine) = espeak("espeak_lists_and_uses_voices").await else {
        return;
    };
    let voices = engine.voices().unwrap();
    assert!(!voices.is_empty());
    assert!(voices.iter().any(|v| v.id == "en-gb"), "{voices:?}");
    let default = engine.speak("one two three", None).await.unwrap();
    let british = engine.speak("one two three", Some("en-gb")).await.unwrap();
    let german = engine.speak("one two three", Some("de")).await.unwrap();
    assert!(german.samples() != british.samples() || default.samples() != british.samples());
    assert!(matches!(
        engine.speak("hello", Some("xx-no-such-voice")).await,
        Err(TtsError::UnknownVoice { .. })
    ));
    assert!(matches!(
        engine.speak("hello", Some("-w/tmp/roadie-pwned.wav")).await,
        Err(TtsError::InvalidVoice { .. })
    ));
}

#[tokio::test]
async fn espeak_reads_hostile_text_as_text() {
    let Some(engine) = espeak("espeak_reads_hostile_text_as_text").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let text = format!(
        "-w {m} $(touch {m}); `touch {m}` | touch {m} && --help [[h@l'oU]] <speak>hi</speak>",
        m = marker.display()
    );
    let wav = engine.speak(&text, None).await.unwrap();
    assert!(wav.info().frames > 0);
    assert!(!marker.exists());
    assert!(matches!(
        engine.speak(" \u{0} ", None).await,
        Err(TtsError::EmptyText)
    ));
}

#[cfg(unix)]
mod commands {
    use super::*;
    use std::path::Path;

    /// A one-second 440 Hz tone, 16-bit mono at 16 kHz.
    fn tone() -> Vec<u8> {
        let rate = 16_000u32;
        let samples: Vec<u8> = (0..rate)
            .flat_map(|n| {
                let t = f64::from(n) / f64::from(rate);
                let value = (t * 440.0 * std::f64::consts::TAU).sin() * 10_000.0;
                (value as i16).to_le_bytes()
            })
            .collect();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
        out.extend_from_slice(&samples);
        out
    }

    fn engine(argv: &[&str], timeout: Duration) -> CommandEngine {
        let mut config = CommandConfig::new(argv.iter().map(|s| (*s).to_owned()).collect());
        config.timeout = timeout;
        CommandEngine::new(config).unwrap()
    }

    #[tokio::test]
    async fn a_stuck_program_is_killed_at_the_timeout() {
        let engine = engine(&["sleep", "10"], Duration::from_millis(300));
        let started = Instant::now();
        let err = engine.speak("hello", None).await.unwrap_err();
        let elapsed = started.elapsed();
        let TtsError::Timeout { pid, timeout, .. } = err else {
            panic!("expected a timeout, got {err}");
        };
        assert_eq!(timeout, Duration::from_millis(300));
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        // Killed and reaped: the process is gone.
        if let Some(pid) = pid
            && Path::new("/proc/self").exists()
        {
            assert!(
                !Path::new(&format!("/proc/{pid}")).exists(),
                "sleep {pid} still exists"
            );
        }
    }

    #[tokio::test]
    async fn the_output_placeholder_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let prepared = dir.path().join("tone.wav");
        std::fs::write(&prepared, tone()).unwrap();
        let config = EngineConfig::Command(CommandConfig::new(vec![
            "cp".to_owned(),
            prepared.to_string_lossy().into_owned(),
            "{output}".to_owned(),
        ]));
        let engine = probe(&config).await.unwrap();
        assert_eq!(engine.name(), "cp");
        let wav = engine
            .speak("the text goes to stdin, which cp ignores", None)
            .await
            .unwrap();
        assert_eq!(wav.bytes(), tone().as_slice());
        assert_eq!(wav.info().sample_rate, 16_000);
        assert_eq!(wav.duration(), Duration::from_secs(1));
        assert!(wav.ensure_audible().unwrap().peak > 0.3);
    }

    #[tokio::test]
    async fn text_is_one_argument_never_a_shell_line() {
        let dir = tempfile::tempdir().unwrap();
        // A file whose name is a shell attack: cp can only copy it if the whole name
        // reached it as one argument, untouched.
        let hostile = dir.path().join("a b; rm -rf x $(id) `id` |y& 'q\" *.wav");
        std::fs::write(&hostile, tone()).unwrap();
        let engine = engine(&["cp", "--", "{text}", "{output}"], Duration::from_secs(20));
        let wav = engine
            .speak(&hostile.to_string_lossy(), None)
            .await
            .unwrap();
        assert_eq!(wav.info().frames, 16_000);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn without_output_the_wav_comes_from_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let prepared = dir.path().join("tone.wav");
        std::fs::write(&prepared, tone()).unwrap();
        let cat = engine(
            &["cat", &prepared.to_string_lossy()],
            Duration::from_secs(20),
        );
        assert_eq!(
            cat.speak("ignored", None).await.unwrap().info().frames,
            16_000
        );
        // A program that writes no WAV, or no output file, is an error, not a panic.
        let echo = engine(&["echo", "{text}"], Duration::from_secs(20));
        assert!(matches!(
            echo.speak("not audio", None).await,
            Err(TtsError::BadWav { .. })
        ));
        let silent = engine(&["true", "{output}"], Duration::from_secs(20));
        assert!(matches!(
            silent.speak("x", None).await,
            Err(TtsError::NoOutput { .. })
        ));
        let failing = engine(&["false"], Duration::from_secs(20));
        assert!(matches!(
            failing.speak("x", None).await,
            Err(TtsError::Failed { .. })
        ));
    }
}
