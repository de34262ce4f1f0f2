//! OBS end to end against the fake obs-websocket server: the password from the
//! keystore, status and scenes, scene, source, stream and text changes from the CLI and
//! from an action, OBS's own scene switch as an `obs.scene` event, a wrong password
//! shown clearly, and OBS going away and coming back without touching Roadie.

use std::time::{Duration, Instant};

use roadie_test_support::TestEnv;
use roadie_test_support::fake_obs::FakeObs;
use serde_json::Value;

use crate::support;

fn obs_state(env: &TestEnv) -> Value {
    let output = env.run(&["obs", "status", "--json"], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn wait_for_obs(env: &TestEnv, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = obs_state(env);
        if status["state"] == wanted {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "OBS stayed {status}, wanted {wanted}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run_ok(env: &TestEnv, args: &[&str]) -> String {
    let output = env.run(args, None);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn obs_is_driven_from_the_cli_and_actions_and_survives_a_restart() {
    let rt = support::runtime();
    let fake = rt.block_on(FakeObs::start(Some("hunter2")));
    let env = support::env();
    // The password lives in the keystore, not in the file.
    env.write_config(&format!(
        "[obs]\nurl = \"{}\"\nhealth_seconds = 1\n",
        fake.url()
    ));
    let stored = env.run(&["secrets", "set", "obs.password"], Some("hunter2"));
    assert!(stored.status.success());
    let daemon = env.spawn_daemon();

    let status = wait_for_obs(&env, "connected");
    assert_eq!(status["current_scene"], "Starting Soon");
    assert_eq!(
        status["scenes"],
        serde_json::json!(["Starting Soon", "Live", "BRB"])
    );

    run_ok(&env, &["obs", "scene", "Live"]);
    assert_eq!(fake.current_scene(), "Live");
    let shown = run_ok(&env, &["obs", "source", "Live", "Webcam Frame", "toggle"]);
    assert!(shown.contains("shown"), "{shown}");
    assert_eq!(fake.item_enabled("Live", "Webcam Frame"), Some(true));
    run_ok(&env, &["obs", "stream", "start"]);
    assert!(fake.streaming());

    // While streaming, OBS's health is sampled and stored, the bitrate from the bytes.
    fake.set_stream_field("outputSkippedFrames", serde_json::json!(3));
    fake.set_stream_field("outputTotalFrames", serde_json::json!(300));
    fake.set_stream_field("outputCongestion", serde_json::json!(0.25));
    fake.set_stream_field("outputBytes", serde_json::json!(1_000_000));
    fake.set_stats_field("cpuUsage", serde_json::json!(12.5));
    let database = env.data_dir().join("roadie.db");
    let samples = |database: &std::path::Path| -> Vec<(i64, f64, f64, Option<f64>)> {
        let connection = rusqlite::Connection::open_with_flags(
            database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut statement = connection
            .prepare("SELECT output_skipped_frames, congestion, cpu_percent, bitrate_kbps FROM obs_health_samples ORDER BY at_ms")
            .unwrap();
        statement
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while samples(&database).is_empty() {
        assert!(Instant::now() < deadline, "no OBS health sample stored");
        std::thread::sleep(Duration::from_millis(100));
    }
    let first = samples(&database)[0];
    assert_eq!((first.0, first.1, first.2), (3, 0.25, 12.5));
    fake.set_stream_field("outputBytes", serde_json::json!(2_250_000));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rates: Vec<f64> = samples(&database)
            .iter()
            .filter_map(|sample| sample.3)
            .collect();
        if rates.iter().any(|rate| *rate > 100.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no bitrate from the bytes sent: {rates:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let missing = env.run(&["obs", "scene", "No Such Scene"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("No Such Scene"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );

    // Text and media inputs through the API.
    rt.block_on(async {
        let http = reqwest::Client::new();
        for (path, body) in [
            (
                "text",
                serde_json::json!({"source": "Countdown", "text": "5 minutes"}),
            ),
            (
                "media",
                serde_json::json!({"source": "Intro Video", "action": "restart"}),
            ),
        ] {
            let answer = http
                .post(format!("http://{}/api/v1/obs/{path}", daemon.address()))
                .bearer_auth(daemon.token())
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 204, "{path}");
        }
        let refused = http
            .post(format!("http://{}/api/v1/obs/media", daemon.address()))
            .bearer_auth(daemon.token())
            .json(&serde_json::json!({"source": "Intro Video", "action": "rewind"}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 400);
    });
    assert_eq!(fake.text("Countdown").as_deref(), Some("5 minutes"));
    assert!(
        fake.media_action("Intro Video")
            .is_some_and(|action| action.contains("RESTART")),
        "{:?}",
        fake.media_action("Intro Video")
    );

    // OBS's own scene switch arrives as an event.
    let client = support::client(&daemon);
    let event = rt.block_on(async {
        let mut stream = client.subscribe(&["obs.scene".into()], None).await.unwrap();
        assert!(fake.switch_scene("BRB"));
        tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    });
    assert_eq!(event.platform, "roadie");
    assert_eq!(event.data["scene"], "BRB");

    // Action steps go through the same connection.
    let actions = env.root().join("actions.toml");
    std::fs::write(
        &actions,
        "[[actions]]\nname = \"alert\"\n\n[[actions.steps]]\ntype = \"obs_text\"\nsource = \"Alert Text\"\ntext = \"thanks $(input)!\"\n\n[[actions.steps]]\ntype = \"obs_scene\"\nscene = \"Live\"\n",
    )
    .unwrap();
    run_ok(&env, &["actions", "import", actions.to_str().unwrap()]);
    run_ok(&env, &["actions", "run", "alert", "--input", "bob"]);
    assert_eq!(fake.text("Alert Text").as_deref(), Some("thanks bob!"));
    assert_eq!(fake.current_scene(), "Live");

    // OBS closed and started again: Roadie reconnects on its own.
    rt.block_on(fake.kill());
    wait_for_obs(&env, "reconnecting");
    let offline = env.run(&["obs", "scene", "BRB"], None);
    assert_eq!(
        offline.status.code(),
        Some(1),
        "a request while OBS is away"
    );
    rt.block_on(fake.restart());
    wait_for_obs(&env, "connected");
    run_ok(&env, &["obs", "scene", "BRB"]);
    assert_eq!(fake.current_scene(), "BRB");
}

#[test]
fn a_wrong_obs_password_is_a_clear_error_not_a_retry_storm() {
    let rt = support::runtime();
    let fake = rt.block_on(FakeObs::start(Some("right")));
    let env = support::env();
    env.write_config(&format!(
        "[obs]\nurl = \"{}\"\npassword = \"wrong\"\n",
        fake.url()
    ));
    let _daemon = env.spawn_daemon();
    let status = wait_for_obs(&env, "wrong_password");
    assert!(
        status["detail"]
            .as_str()
            .unwrap()
            .contains("roadie secrets set obs.password"),
        "{status}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        fake.connections() <= 2,
        "{} connection attempts",
        fake.connections()
    );
    let refused = env.run(&["obs", "scene", "Live"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("password"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn without_an_obs_section_obs_commands_say_how_to_configure_it() {
    let env = support::env();
    let _daemon = env.spawn_daemon();
    assert_eq!(obs_state(&env)["state"], "off");
    let refused = env.run(&["obs", "scene", "Live"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("[obs] section"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
