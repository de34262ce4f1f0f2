//! Text to speech end to end with the `command` engine (`cat` of a prepared WAV, so
//! no speech engine is needed here; the real espeak-ng is a real-peer suite): filters
//! and limits on the way in, `tts.*` events, pause, resume, skip, an action's TTS step,
//! and a daemon without any engine that keeps running and says how to get one.

use std::time::Duration;

use roadie_test_support::TestEnv;

use crate::support;

/// A mono 16-bit 22,050 Hz WAV of `seconds` of a square-ish tone.
fn wav(seconds: f64) -> Vec<u8> {
    let rate: u32 = 22_050;
    let frames = (f64::from(rate) * seconds) as u32;
    let data_len = frames * 2;
    let mut bytes = Vec::with_capacity(44 + data_len as usize);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for frame in 0..frames {
        let sample: i16 = if (frame / 50) % 2 == 0 { 8000 } else { -8000 };
        bytes.extend_from_slice(&sample.to_le_bytes());
    }
    bytes
}

fn run(env: &TestEnv, args: &[&str]) -> (Option<i32>, String, String) {
    let output = env.run(args, None);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_tts_queue_filters_speaks_reports_and_obeys_controls() {
    let env = support::env();
    let clip = env.root().join("clip.wav");
    std::fs::write(&clip, wav(0.6)).unwrap();
    env.write_config(&format!(
        "[tts]\nengine = \"command\"\ncommand = [\"cat\", \"{}\"]\nmax_chars = 40\nbanned_words = [\"darn\"]\n",
        clip.display()
    ));
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();

    let mut stream = rt
        .block_on(client.subscribe(
            &[
                "tts.queued".into(),
                "tts.started".into(),
                "tts.finished".into(),
                "tts.skipped".into(),
            ],
            None,
        ))
        .unwrap();
    let mut next = |wanted: &str| {
        let envelope = rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(10), stream.next_event()).await
            })
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(envelope.kind, wanted, "{}", envelope.data);
        envelope.data
    };

    // Links go; the queue speaks it (the engine is found), and with no overlay
    // listening nothing is heard.
    let (code, out, err) = run(
        &env,
        &["tts", "say", "hello https://spam.example.com/x world"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("hello world"), "{out}");
    let queued = next("tts.queued");
    assert_eq!(queued["text"], "hello world");
    assert_eq!(next("tts.started")["text"], "hello world");
    assert_eq!(next("tts.finished")["heard"], false);

    // Banned words are refused; long text is cut.
    let (code, _, err) = run(&env, &["tts", "say", "oh darn it"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not queued"), "{err}");
    let (code, out, _) = run(
        &env,
        &[
            "tts",
            "say",
            "one two three four five six seven eight nine ten eleven",
        ],
    );
    assert_eq!(code, Some(0));
    let long = next("tts.queued");
    assert!(
        long["text"].as_str().unwrap().chars().count() <= 40,
        "{long}"
    );
    assert!(out.contains("queued"), "{out}");
    next("tts.started");
    next("tts.finished");

    // Paused: items wait; resumed: they play. Skip ends the one being spoken.
    assert_eq!(run(&env, &["tts", "pause"]).0, Some(0));
    assert_eq!(run(&env, &["tts", "say", "first"]).0, Some(0));
    next("tts.queued");
    let (_, queue, _) = run(&env, &["tts", "queue"]);
    assert!(
        queue.contains("engine: command") || queue.contains("engine:"),
        "{queue}"
    );
    assert!(
        queue.contains("(paused)") && queue.contains("first"),
        "{queue}"
    );
    assert_eq!(run(&env, &["tts", "resume"]).0, Some(0));
    assert_eq!(next("tts.started")["text"], "first");
    assert_eq!(run(&env, &["tts", "skip"]).0, Some(0));
    assert_eq!(next("tts.skipped")["reason"], "requested");

    // An action's TTS step goes through the same queue.
    let actions = env.root().join("actions.toml");
    std::fs::write(
        &actions,
        "[[actions]]\nname = \"speak\"\n\n[[actions.steps]]\ntype = \"tts\"\ntext = \"thanks $(input)\"\n",
    )
    .unwrap();
    assert_eq!(
        run(&env, &["actions", "import", actions.to_str().unwrap()]).0,
        Some(0)
    );
    let (code, _, err) = run(&env, &["actions", "run", "speak", "--input", "bob"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(next("tts.queued")["text"], "thanks bob");
}

#[test]
fn without_an_engine_the_daemon_runs_and_says_how_to_get_one() {
    let env = support::env();
    env.write_config("[tts]\nengine = \"command\"\ncommand = [\"roadie-no-such-tts-program\"]\n");
    let _daemon = env.spawn_daemon();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (code, out, _) = run(&env, &["tts", "queue"]);
        assert_eq!(code, Some(0));
        if out.contains("engine: none") {
            assert!(out.contains("roadie-no-such-tts-program"), "{out}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, status, _) = run(&env, &["status"]);
    assert!(status.contains("tts"), "{status}");
}
