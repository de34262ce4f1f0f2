//! Benchmark: Twitch EventSub chat through Roadie against @twurple/eventsub-ws (the
//! Node library Firebot uses), both fed the same `channel.chat.message` frames by the
//! fake EventSub server over loopback.
//!
//! Roadie is the release `roadie daemon`, signed in to the fake Twitch, and a message
//! counts when a client of `/api/v1/events` has it: parsed, normalised, deduplicated,
//! committed to SQLite and fanned out. twurple counts a message when its handler ran.
//!
//! Prints throughput for floods (default 100,000 messages; three rounds, Roadie and
//! twurple interleaved so a shared machine's changing speed weighs on both alike) for
//! both and the median ratio, the p50/p99/max notification-to-event latency through
//! Roadie at 1,000 messages per second, and the idle RSS of both with Twitch connected. Budgets are printed beside
//! the figures; a budget missed is reported, not a failure. A missing peer (the release
//! binary, node, twurple's packages) is a failure.
//!
//! Run: `cargo build --release --bin roadie && npm ci --prefix bench/twurple &&
//! cargo bench -p roadie-test-support --bench eventsub_vs_twurple`
//! Options: `--messages N`, `--latency-messages N`, `--rate PER_SECOND`, `--idle-secs S`,
//! `--rounds N`, `--roadie-only`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use common::{
    cpu_time, latencies, mb, micros, ms, percentile, roadie_binary, rss_kb, spawn_event_reader,
    thread_cpu, verdict, wait_count, workspace_root,
};
use roadie_test_support::TestEnv;
use roadie_test_support::fake_eventsub::FakeEventSub;
use roadie_test_support::fake_twitch::FakeTwitch;

const SCOPES: &[&str] = &[
    "user:read:chat",
    "user:write:chat",
    "moderator:read:followers",
];
const USER_ID: &str = "141981764";
const WARMUP: usize = 1_000;
const TWURPLE_VERSION: &str = "8.1.4";

#[derive(Debug)]
struct Options {
    messages: usize,
    latency_messages: usize,
    rate: u64,
    idle: Duration,
    /// Floods per side, interleaved (Roadie, twurple, Roadie, ...); the median counts.
    rounds: usize,
    /// Skip the twurple side (profiling Roadie alone).
    roadie_only: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        messages: 100_000,
        latency_messages: 10_000,
        rate: 1_000,
        idle: Duration::from_secs(15),
        rounds: 3,
        roadie_only: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--messages" => options.messages = value("--messages")? as usize,
            "--latency-messages" => {
                options.latency_messages = value("--latency-messages")? as usize
            }
            "--rate" => options.rate = value("--rate")?.max(1),
            "--idle-secs" => options.idle = Duration::from_secs(value("--idle-secs")?),
            "--rounds" => options.rounds = (value("--rounds")? as usize).max(1),
            "--roadie-only" => options.roadie_only = true,
            // cargo bench passes `--bench`; filters do not apply to this harness.
            _ => {}
        }
    }
    Ok(options)
}

fn twurple_dir() -> Result<PathBuf, String> {
    let dir = workspace_root().join("bench/twurple");
    if dir.join("node_modules/@twurple/eventsub-ws").is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "twurple is not installed: run `npm ci --prefix {}`",
            dir.display()
        ))
    }
}

fn chat_frames(
    fake: &FakeEventSub,
    subscription_id: Option<&str>,
    numbers: std::ops::Range<usize>,
) -> Vec<String> {
    numbers
        .map(|number| {
            let text = format!("bench message {number}: gg that was a clean run, PogChamp");
            fake.notification_frame_for(
                subscription_id,
                "channel.chat.message",
                FakeEventSub::chat_event(&format!("bench-{number}"), &text),
            )
        })
        .collect()
}

fn send_all(fake: &FakeEventSub, frames: Vec<String>) -> Result<(), String> {
    for frame in frames {
        if !fake.send_raw(frame) {
            return Err("the fake EventSub has no connection to send to".into());
        }
    }
    Ok(())
}

/// One flood's figures.
struct Flood {
    rate: f64,
    cpu_per_message: Duration,
}

impl Flood {
    /// `messages` seen in `elapsed`, costing `cpu_used`.
    fn new(messages: usize, elapsed: Duration, cpu_used: Duration) -> Flood {
        Flood {
            rate: messages as f64 / elapsed.as_secs_f64(),
            cpu_per_message: cpu_used / messages.max(1) as u32,
        }
    }
}

/// A signed-in Roadie daemon with an events client attached, between floods.
struct RoadieRun {
    fake: FakeTwitch,
    daemon: roadie_test_support::RunningDaemon,
    _env: TestEnv,
    counter: tokio::sync::watch::Receiver<usize>,
    reader: tokio::task::JoinHandle<Result<common::SeenAt, String>>,
    sent_at: Vec<Instant>,
    idle_rss_kb: u64,
    /// The next message number to send.
    next: usize,
}

async fn wait_connected(fake: &FakeTwitch) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let subscribed = fake.helix.with(|state| {
            state
                .subscriptions
                .iter()
                .any(|subscription| subscription["type"] == "channel.chat.message")
        });
        if subscribed && fake.eventsub.current_session().is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("Roadie did not subscribe to channel.chat.message within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts the daemon, measures its idle RSS, then the paced latency run.
async fn start_roadie(exe: &Path, options: &Options) -> Result<RoadieRun, String> {
    let fake = FakeTwitch::start().await;
    let env = TestEnv::new(exe);
    env.write_config(&fake.config_section());
    let daemon = tokio::task::block_in_place(|| env.spawn_daemon());
    let (access, refresh) = fake.oauth.mint_tokens(SCOPES);
    let token_json = serde_json::json!({
        "access_token": access, "refresh_token": refresh, "expires_in": 14400,
        "scope": SCOPES, "token_type": "bearer",
    })
    .to_string();
    let imported =
        tokio::task::block_in_place(|| env.run(&["auth", "import", "twitch"], Some(&token_json)));
    if !imported.status.success() {
        return Err(format!(
            "auth import failed: {}",
            String::from_utf8_lossy(&imported.stderr)
        ));
    }
    wait_connected(&fake).await?;

    tokio::time::sleep(options.idle).await;
    let idle_rss_kb = rss_kb(daemon.pid()).ok_or("cannot read the daemon's RSS")?;

    let latency_total = WARMUP + options.latency_messages;
    let slots = latency_total + options.messages * options.rounds;
    let marks = (0..=options.rounds)
        .map(|round| latency_total + round * options.messages)
        .collect();
    let url = format!("ws://{}/api/v1/events?type=chat.message", daemon.address());
    let (mut counter, reader) = spawn_event_reader(url, daemon.token().to_owned(), slots, marks);
    // The subscription is live once the daemon has it; a short pause is enough locally.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Paced: one message per period, each stamped as it is handed to the server.
    let frames = chat_frames(&fake.eventsub, None, 0..latency_total);
    let period = Duration::from_nanos(1_000_000_000 / options.rate);
    let mut sent_at = Vec::with_capacity(latency_total);
    let start = tokio::time::Instant::now();
    for (index, frame) in frames.into_iter().enumerate() {
        tokio::time::sleep_until(start + period * index as u32).await;
        sent_at.push(Instant::now());
        if !fake.eventsub.send_raw(frame) {
            return Err("the fake EventSub lost its connection".into());
        }
    }
    wait_count(&mut counter, latency_total).await?;
    Ok(RoadieRun {
        fake,
        daemon,
        _env: env,
        counter,
        reader,
        sent_at,
        idle_rss_kb,
        next: latency_total,
    })
}

/// The next `count` message numbers, moving `next` past them.
fn next_range(next: &mut usize, count: usize) -> std::ops::Range<usize> {
    let range = *next..*next + count;
    *next = range.end;
    range
}

/// Everything handed over at once, timed until the events client has the last.
async fn flood_roadie(run: &mut RoadieRun, messages: usize) -> Result<Flood, String> {
    let range = next_range(&mut run.next, messages);
    let frames = chat_frames(&run.fake.eventsub, None, range.clone());
    let pid = run.daemon.pid();
    let cpu_before = cpu_time(pid).unwrap_or_default();
    let harness_before = cpu_time(std::process::id()).unwrap_or_default();
    let threads_before = thread_cpu(pid);
    let began = Instant::now();
    send_all(&run.fake.eventsub, frames)?;
    wait_count(&mut run.counter, range.end).await?;
    let elapsed = began.elapsed();
    let cpu_used = cpu_time(pid).unwrap_or_default().saturating_sub(cpu_before);
    let threads_after = thread_cpu(pid);
    let per_thread: Vec<String> = threads_after
        .iter()
        .map(|(name, after)| {
            let before = threads_before.get(name).copied().unwrap_or_default();
            format!("{name} {:.2} s", after.saturating_sub(before).as_secs_f64())
        })
        .collect();
    let harness_used = cpu_time(std::process::id())
        .unwrap_or_default()
        .saturating_sub(harness_before);
    let flood = Flood::new(messages, elapsed, cpu_used);
    println!(
        "  roadie  flood: {:>9.0} msg/s, {:>6.2} µs CPU per message ({:.2} s wall; daemon {:.2} s CPU: {}; harness with the fake server and events client {:.2} s CPU)",
        flood.rate,
        micros(flood.cpu_per_message),
        elapsed.as_secs_f64(),
        cpu_used.as_secs_f64(),
        per_thread.join(", "),
        harness_used.as_secs_f64()
    );
    Ok(flood)
}

/// The paced run's latencies and the RSS after the floods.
async fn finish_roadie(run: RoadieRun) -> Result<(Vec<Duration>, u64), String> {
    let seen_at = run.reader.await.map_err(|error| error.to_string())??;
    let rss_after_kb = rss_kb(run.daemon.pid()).unwrap_or(0);
    Ok((latencies(&run.sent_at, &seen_at, WARMUP), rss_after_kb))
}

struct Twurple {
    child: Child,
    stdin: ChildStdin,
    lines: std_mpsc::Receiver<String>,
}

impl Drop for Twurple {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Twurple {
    async fn line(&self, prefix: &str, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            match self.lines.try_recv() {
                Ok(line) if line.starts_with(prefix) => {
                    return Ok(line[prefix.len()..].trim().to_owned());
                }
                Ok(line) if line.starts_with("failed") => {
                    return Err(format!("twurple: {line}"));
                }
                Ok(other) => eprintln!("twurple: {other}"),
                Err(std_mpsc::TryRecvError::Disconnected) => {
                    return Err("twurple exited".into());
                }
                Err(std_mpsc::TryRecvError::Empty) => {
                    if Instant::now() > deadline {
                        return Err(format!("twurple did not print `{prefix}` in {limit:?}"));
                    }
                    // Sub-millisecond polling keeps the timing honest for the flood.
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
            }
        }
    }

    async fn count(&mut self, mark: usize, limit: Duration) -> Result<(), String> {
        writeln!(self.stdin, "mark {mark}").map_err(|error| error.to_string())?;
        self.stdin.flush().map_err(|error| error.to_string())?;
        let seen: usize = self
            .line("count ", limit)
            .await?
            .parse()
            .map_err(|_| "twurple printed a bad count".to_owned())?;
        if seen < mark {
            return Err(format!("twurple counted {seen}, wanted {mark}"));
        }
        Ok(())
    }
}

/// A node process running twurple's EventSub client, between floods.
struct TwurpleRun {
    fake: FakeTwitch,
    twurple: Twurple,
    subscription_id: String,
    idle_rss_kb: u64,
    next: usize,
}

/// Starts twurple, measures its idle RSS, then warms it up.
async fn start_twurple(dir: &Path, options: &Options) -> Result<TwurpleRun, String> {
    let fake = FakeTwitch::start().await;
    let (access, _) = fake.oauth.mint_tokens(SCOPES);
    let mut child = Command::new("node")
        .arg(dir.join("bench.mjs"))
        .args([
            &fake.eventsub.url(),
            &fake.helix.base_url(),
            "fake-client",
            &access,
            USER_ID,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start node: {error}"))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (line_tx, lines) = std_mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut twurple = Twurple {
        child,
        stdin,
        lines,
    };
    let subscription_id = twurple.line("ready ", Duration::from_secs(20)).await?;

    tokio::time::sleep(options.idle).await;
    let idle_rss_kb = rss_kb(twurple.child.id()).ok_or("cannot read node's RSS")?;

    let frames = chat_frames(&fake.eventsub, Some(&subscription_id), 0..WARMUP);
    send_all(&fake.eventsub, frames)?;
    twurple.count(WARMUP, Duration::from_secs(30)).await?;
    Ok(TwurpleRun {
        fake,
        twurple,
        subscription_id,
        idle_rss_kb,
        next: WARMUP,
    })
}

/// The same flood to twurple, timed until its handler has run for the last message.
async fn flood_twurple(run: &mut TwurpleRun, messages: usize) -> Result<Flood, String> {
    let range = next_range(&mut run.next, messages);
    let frames = chat_frames(
        &run.fake.eventsub,
        Some(&run.subscription_id),
        range.clone(),
    );
    let twurple = &mut run.twurple;
    writeln!(twurple.stdin, "mark {}", range.end).map_err(|error| error.to_string())?;
    twurple.stdin.flush().map_err(|error| error.to_string())?;
    let cpu_before = cpu_time(twurple.child.id()).unwrap_or_default();
    let began = Instant::now();
    send_all(&run.fake.eventsub, frames)?;
    twurple
        .line(
            "count ",
            Duration::from_secs(30) + Duration::from_millis(messages as u64),
        )
        .await?;
    let elapsed = began.elapsed();
    let cpu_used = cpu_time(twurple.child.id())
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    let flood = Flood::new(messages, elapsed, cpu_used);
    println!(
        "  twurple flood: {:>9.0} msg/s, {:>6.2} µs CPU per message ({:.2} s wall)",
        flood.rate,
        micros(flood.cpu_per_message),
        elapsed.as_secs_f64()
    );
    Ok(flood)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn run() -> Result<(), String> {
    let options = options()?;
    let exe = roadie_binary()?;
    let twurple_dir = twurple_dir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    println!(
        "Twitch EventSub chat over loopback: Roadie ({}) against @twurple/eventsub-ws {TWURPLE_VERSION} (node {})",
        exe.display(),
        Command::new("node")
            .arg("--version")
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .map_err(|error| format!("node is not installed: {error}"))?
    );
    println!(
        "  {} messages per flood, {} paced at {}/s for latency, idle measured after {} s connected",
        options.messages,
        options.latency_messages,
        options.rate,
        options.idle.as_secs()
    );
    println!(
        "  {} flood rounds, interleaved (Roadie then twurple); the median ratio counts",
        options.rounds
    );
    runtime.block_on(async {
        let mut roadie = start_roadie(&exe, &options).await?;
        let mut twurple = if options.roadie_only {
            None
        } else {
            Some(start_twurple(&twurple_dir, &options).await?)
        };
        // Interleaved so that a machine slowing down or speeding up (shared CPUs)
        // weighs on both sides alike.
        let mut roadie_floods = Vec::new();
        let mut ratios = Vec::new();
        for _ in 0..options.rounds {
            let ours = flood_roadie(&mut roadie, options.messages).await?;
            if let Some(twurple) = twurple.as_mut() {
                let theirs = flood_twurple(twurple, options.messages).await?;
                ratios.push(ours.rate / theirs.rate);
            }
            roadie_floods.push(ours);
        }
        let roadie_idle = roadie.idle_rss_kb;
        let (mut latencies, roadie_rss_after) = finish_roadie(roadie).await?;
        let roadie_rate = median(roadie_floods.iter().map(|flood| flood.rate).collect());
        let roadie_cpu = median(
            roadie_floods
                .iter()
                .map(|flood| micros(flood.cpu_per_message))
                .collect(),
        );
        latencies.sort_unstable();
        let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));
        let max = latencies.last().copied().unwrap_or_default();
        println!(
            "latency     roadie at {}/s over {} messages: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms    budget p99 < 2 ms  {}",
            options.rate,
            latencies.len(),
            ms(p50),
            ms(p99),
            ms(max),
            verdict(p99 < Duration::from_millis(2) && latencies.len() == options.latency_messages)
        );
        let Some(twurple) = twurple else {
            println!(
                "throughput  roadie  {roadie_rate:>9.0} msg/s, {roadie_cpu:.2} µs CPU per message (median)"
            );
            return Ok(());
        };

        let ratio = median(ratios.clone());
        let rss_ratio = roadie_idle as f64 / twurple.idle_rss_kb.max(1) as f64;
        let twurple_rss_after = rss_kb(twurple.twurple.child.id()).unwrap_or(0);
        println!(
            "throughput  roadie  {roadie_rate:>9.0} msg/s, {roadie_cpu:>6.2} µs CPU per message, median of {} (normalised, stored, seen by an /api/v1/events client)",
            options.rounds
        );
        println!(
            "            ratio per round: {}",
            ratios
                .iter()
                .map(|ratio| format!("{ratio:.2}x"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "            ratio   {ratio:>9.2}x (median)    budget >= 3x      {}",
            verdict(ratio >= 3.0)
        );
        println!(
            "idle RSS    roadie {:.1} MB, twurple {:.1} MB (Twitch connected); ratio {rss_ratio:.3}    budget < 0.1  {}",
            mb(roadie_idle),
            mb(twurple.idle_rss_kb),
            verdict(rss_ratio < 0.1)
        );
        println!(
            "RSS after the floods: roadie {:.1} MB, twurple {:.1} MB",
            mb(roadie_rss_after),
            mb(twurple_rss_after)
        );
        Ok(())
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eventsub benchmark failed: {error}");
            ExitCode::FAILURE
        }
    }
}
