//! Benchmark: text to speech and OBS through the release `roadie daemon`.
//!
//! - TTS: the time from `POST /api/v1/tts/say` to the clip's audio arriving at a
//!   connected overlay (espeak-ng synthesis included), p50 and p99 over `--tts N`
//!   lines; the overlay answers `ended` at once so the next line starts.
//! - OBS: `SetCurrentProgramScene` against the fake obs-websocket server, once from a
//!   direct client and once through Roadie (`POST /api/v1/obs/scene`), p50 and p99 of
//!   each and the difference: what Roadie adds to an OBS request.
//!
//! Budgets: p99 under 150 ms to audio; under 1 ms added to an OBS request. A missing
//! peer (the release binary, espeak-ng) is a failure.
//!
//! Run: `cargo build --release --bin roadie &&
//! cargo bench -p roadie-test-support --bench tts_and_obs` (`--tts N`, `--obs N`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roadie_core::Secret;
use roadie_obs::{ObsClient, ObsConfig};
use roadie_test_support::TestEnv;
use roadie_test_support::fake_obs::FakeObs;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn roadie_binary() -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let exe = target.join("release").join("roadie");
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(format!(
            "{} is missing: run `cargo build --release --bin roadie` first",
            exe.display()
        ))
    }
}

fn count_arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn verdict(pass: bool) -> &'static str {
    if pass { "within budget" } else { "OVER BUDGET" }
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: serde_json::Value) {
    let answer = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{url}: {}", answer.status());
}

async fn bench_tts(exe: &Path, lines: usize) -> Result<Vec<Duration>, String> {
    if std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("espeak-ng is not installed (apt-get install espeak-ng)".into());
    }
    let env = TestEnv::new(exe);
    env.write_config("[tts]\nengine = \"espeak-ng\"\n");
    let daemon = tokio::task::block_in_place(|| env.spawn_daemon());
    let overlay_token = std::fs::read_to_string(env.data_dir().join("overlay-token"))
        .map_err(|error| error.to_string())?;
    let url = format!(
        "ws://{}/overlay/tts/ws?token={}",
        daemon.address(),
        overlay_token.trim()
    );
    let (mut overlay, _) = tokio_tungstenite::connect_async(url.into_client_request().unwrap())
        .await
        .map_err(|error| format!("overlay: {error}"))?;
    let http = reqwest::Client::new();
    let say = format!("http://{}/api/v1/tts/say", daemon.address());
    // Wait until the engine was found (the first line would otherwise wait for it).
    let queue_url = format!("http://{}/api/v1/tts", daemon.address());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let queue: serde_json::Value = http
            .get(&queue_url)
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if queue["engine"] == "espeak-ng" && queue["listeners"] == 1 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("TTS never became ready: {queue}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut latencies = Vec::with_capacity(lines);
    for line in 0..lines + 3 {
        let began = Instant::now();
        post(
            &http,
            &say,
            daemon.token(),
            serde_json::json!({"text": format!("Thanks for the follow, viewer number {line}!")}),
        )
        .await;
        let mut id = None;
        let arrived = loop {
            match overlay.next().await {
                Some(Ok(Message::Text(text))) => {
                    let note: serde_json::Value = serde_json::from_str(&text).unwrap();
                    if note["type"] == "clip" {
                        id = note["id"].as_u64();
                    }
                }
                Some(Ok(Message::Binary(_))) => break began.elapsed(),
                Some(Ok(_)) => {}
                other => return Err(format!("the overlay socket ended: {other:?}")),
            }
        };
        // The first lines warm the page cache and espeak's data files.
        if line >= 3 {
            latencies.push(arrived);
        }
        let id = id.ok_or("a clip came without its note")?;
        overlay
            .send(Message::text(format!(r#"{{"type":"ended","id":{id}}}"#)))
            .await
            .map_err(|error| error.to_string())?;
    }
    Ok(latencies)
}

async fn bench_obs(exe: &Path, requests: usize) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let fake = FakeObs::start(Some("bench")).await;
    let env = TestEnv::new(exe);
    env.write_config(&format!(
        "[obs]\nurl = \"{}\"\npassword = \"bench\"\n",
        fake.url()
    ));
    let daemon = tokio::task::block_in_place(|| env.spawn_daemon());
    let direct = ObsClient::spawn(ObsConfig::new(fake.url(), Some(Secret::new("bench"))));
    let mut states = direct.state_changes();
    tokio::time::timeout(
        Duration::from_secs(10),
        states.wait_for(|state| state.is_connected()),
    )
    .await
    .map_err(|_| "the direct client did not connect")?
    .map_err(|_| "the direct client stopped")?;
    let http = reqwest::Client::new();
    let status_url = format!("http://{}/api/v1/obs", daemon.address());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status: serde_json::Value = http
            .get(&status_url)
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["state"] == "connected" {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("Roadie did not connect to the fake OBS: {status}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let scene_url = format!("http://{}/api/v1/obs/scene", daemon.address());
    let scenes = ["Live", "BRB"];
    let mut direct_times = Vec::with_capacity(requests);
    let mut roadie_times = Vec::with_capacity(requests);
    for round in 0..requests + 50 {
        let scene = scenes[round % 2];
        let began = Instant::now();
        direct
            .set_scene(scene)
            .await
            .map_err(|error| error.to_string())?;
        let direct_took = began.elapsed();
        let began = Instant::now();
        post(
            &http,
            &scene_url,
            daemon.token(),
            serde_json::json!({"scene": scene}),
        )
        .await;
        let roadie_took = began.elapsed();
        if round >= 50 {
            direct_times.push(direct_took);
            roadie_times.push(roadie_took);
        }
    }
    direct.shutdown().await;
    Ok((direct_times, roadie_times))
}

fn run() -> Result<(), String> {
    let exe = roadie_binary()?;
    let lines = count_arg("--tts", 50);
    let requests = count_arg("--obs", 500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    println!("TTS and OBS through Roadie ({})", exe.display());

    let mut tts = runtime.block_on(bench_tts(&exe, lines))?;
    tts.sort_unstable();
    let (p50, p99) = (percentile(&tts, 0.5), percentile(&tts, 0.99));
    println!(
        "tts   request to audio at the overlay (espeak-ng, {} lines): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms   budget p99 < 150 ms  {}",
        tts.len(),
        ms(p50),
        ms(p99),
        ms(tts.last().copied().unwrap_or_default()),
        verdict(p99 < Duration::from_millis(150))
    );

    let (mut direct, mut through) = runtime.block_on(bench_obs(&exe, requests))?;
    direct.sort_unstable();
    through.sort_unstable();
    let added = percentile(&through, 0.5).saturating_sub(percentile(&direct, 0.5));
    println!(
        "obs   SetCurrentProgramScene x{}: direct p50 {:.3} ms p99 {:.3} ms; through Roadie's API p50 {:.3} ms p99 {:.3} ms",
        direct.len(),
        ms(percentile(&direct, 0.5)),
        ms(percentile(&direct, 0.99)),
        ms(percentile(&through, 0.5)),
        ms(percentile(&through, 0.99)),
    );
    println!(
        "      added by Roadie (p50): {:.3} ms   budget < 1 ms  {}",
        ms(added),
        verdict(added < Duration::from_millis(1))
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tts/obs benchmark failed: {error}");
            ExitCode::FAILURE
        }
    }
}
