//! Text to speech end to end with the `command` engine (`cat` of a prepared WAV, so
//! no speech engine is needed here; the real espeak-ng is a real-peer suite): filters
//! and limits on the way in, `tts.*` events, pause, resume, skip, an action's TTS step,
//! and a daemon without any engine that keeps running and says how to get one.

use std::time::Duration;

use roadie_test_support::TestEnv;

use crate::support;

/// A mono 16-bit 22,050 Hz WAV of `seconds` of a square-ish tone.
pub fn wav(seconds: f64) -> Vec<u8> {
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
    let (code, out, _) = run(&env, &["tts", "pause"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("paused: "), "{out}");
    assert_eq!(run(&env, &["tts", "pause"]).1.trim(), "already paused");
    assert_eq!(run(&env, &["tts", "say", "first"]).0, Some(0));
    next("tts.queued");
    let (_, queue, _) = run(&env, &["tts", "queue"]);
    assert!(queue.contains("engine: cat"), "{queue}");
    assert!(
        queue.contains("(paused)") && queue.contains("first"),
        "{queue}"
    );
    let (code, out, _) = run(&env, &["tts", "resume"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), "resumed: 1 waiting item(s) go on");
    let started = next("tts.started");
    assert_eq!(started["text"], "first");
    let (code, out, _) = run(&env, &["tts", "skip"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), format!("skipped #{}: first", started["id"]));
    assert_eq!(next("tts.skipped")["reason"], "requested");
    assert_eq!(
        run(&env, &["tts", "skip"]).1.trim(),
        "nothing was being spoken"
    );
    assert_eq!(
        run(&env, &["tts", "clear"]).1.trim(),
        "the queue was already empty"
    );

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
    let tts_line = status
        .lines()
        .find(|line| line.trim_start().starts_with("tts"))
        .unwrap_or_else(|| panic!("no tts line in {status}"));
    // The hint is said once, not repeated after the error that already carries it.
    assert_eq!(
        tts_line.matches("point tts.command at a program").count(),
        1,
        "{tts_line}"
    );
}

fn overlay_token(env: &TestEnv) -> String {
    std::fs::read_to_string(env.data_dir().join("overlay-token"))
        .unwrap()
        .trim()
        .to_owned()
}

fn command_engine(env: &TestEnv) {
    let clip = env.root().join("clip.wav");
    std::fs::write(&clip, wav(0.6)).unwrap();
    env.write_config(&format!(
        "[tts]\nengine = \"command\"\ncommand = [\"cat\", \"{}\"]\n",
        clip.display()
    ));
}

#[test]
fn the_overlay_gets_each_clip_and_reports_it_heard() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let env = support::env();
    command_engine(&env);
    let daemon = env.spawn_daemon();
    let token = overlay_token(&env);
    let api_token = daemon.token().to_owned();
    assert_ne!(
        token, api_token,
        "the overlay URL must not carry the API token"
    );
    let rt = support::runtime();
    let client = support::client(&daemon);
    let page = get_overlay(daemon.address(), &token);
    assert!(
        page.0 == 200 && page.1.contains("/overlay/tts/ws"),
        "{page:?}"
    );
    assert_eq!(get_overlay(daemon.address(), "wrong").0, 401);
    let (finished, (wav_bytes, id)) = rt.block_on(async {
        let mut events = client
            .subscribe(&["tts.finished".into()], None)
            .await
            .unwrap();
        let url = format!("ws://{}/overlay/tts/ws?token={token}", daemon.address());
        let (mut overlay, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while client.tts_queue().await.unwrap().listeners == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the overlay never counted"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client.tts_say("hello overlay", None).await.unwrap();
        let note = loop {
            match overlay.next().await.unwrap().unwrap() {
                Message::Text(text) => {
                    break serde_json::from_str::<serde_json::Value>(&text).unwrap();
                }
                _ => continue,
            }
        };
        assert_eq!(note["type"], "clip");
        let id = note["id"].as_u64().unwrap();
        let Message::Binary(wav_bytes) = overlay.next().await.unwrap().unwrap() else {
            panic!("the clip's audio did not follow its note");
        };
        overlay
            .send(Message::text(format!(
                r#"{{"type":"loaded","id":{id},"duration":0.6}}"#
            )))
            .await
            .unwrap();
        overlay
            .send(Message::text(format!(r#"{{"type":"ended","id":{id}}}"#)))
            .await
            .unwrap();
        let finished = tokio::time::timeout(Duration::from_secs(10), events.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        (finished.data, (wav_bytes.to_vec(), id))
    });
    assert_eq!(&wav_bytes[..4], b"RIFF");
    assert_eq!(&wav_bytes[8..12], b"WAVE");
    assert_eq!(finished["id"].as_u64(), Some(id));
    assert_eq!(finished["heard"], true);
    assert_eq!(finished["duration"], 0.6);
}

/// `GET /overlay/tts?token=` over a plain socket: (status, body).
fn get_overlay(address: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /overlay/tts?token={token} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Real peer: headless Chromium plays the overlay (behind `ROADIE_TEST_CHROMIUM=1`;
/// then a missing Chromium fails the test).
#[test]
fn in_headless_chromium_the_overlay_loads_a_clip_with_a_positive_duration() {
    if std::env::var("ROADIE_TEST_CHROMIUM").as_deref() != Ok("1") {
        eprintln!("skipped: set ROADIE_TEST_CHROMIUM=1 to run headless Chromium");
        return;
    }
    let env = support::env();
    command_engine(&env);
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    let profile = env.root().join("chromium-profile");
    let url = format!(
        "http://{}/overlay/tts?token={}",
        daemon.address(),
        overlay_token(&env)
    );
    let mut chromium = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--autoplay-policy=no-user-gesture-required",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(&url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium is not installed (apt-get install chromium)");
    let finished = rt.block_on(async {
        let mut events = client
            .subscribe(&["tts.finished".into()], None)
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while client.tts_queue().await.unwrap().listeners == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "Chromium never opened the overlay's socket"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        client.tts_say("hello from chromium", None).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), events.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    });
    let _ = chromium.kill();
    let _ = chromium.wait();
    let duration = finished.data["duration"].as_f64().unwrap_or(0.0);
    assert!(
        duration > 0.5 && duration < 0.7,
        "the audio element reported {duration} s for a 0.6 s clip: {}",
        finished.data
    );
    eprintln!(
        "Chromium: duration {duration} s, heard {}",
        finished.data["heard"]
    );
}
