//! Benchmark: the chat flood of the Twitch benchmark, for Kick and YouTube. The
//! release `roadie daemon` is signed in to each fake platform; a message counts when a
//! client of `/api/v1/events` has it (parsed, normalised, de-duplicated, committed to
//! SQLite and fanned out).
//!
//! Kick: chat frames (the captured `ChatMessageEvent` shape) pushed over the fake
//! Pusher WebSocket. Prints flood throughput, the p50/p99 latency from the frame
//! handed to the server to the event at the client at a paced rate, and idle RSS.
//!
//! YouTube: live chat is polled, so latency is bounded by `pollingIntervalMillis`
//! (the fake answers with 100 ms here, and the budget is large enough that the quota
//! planner never slows polling). Prints throughput with the flood served in pages of
//! up to 2,000 messages (one poll each, `pollingIntervalMillis` apart), the latency at
//! the paced rate, the quota units the run took, and idle RSS.
//!
//! Run: `cargo build --release --bin roadie && cargo bench -p roadie-test-support
//! --bench platform_chat_flood`. Options: `--messages N`, `--latency-messages N`,
//! `--rate PER_SECOND`, `--idle-secs S`, `--only kick|youtube`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::{
    cpu_time, latencies, mb, micros, ms, percentile, roadie_binary, rss_kb, spawn_event_reader,
    thread_cpu, wait_count,
};
use roadie_test_support::TestEnv;
use roadie_test_support::fake_kick::FakeKick;
use roadie_test_support::fake_youtube::{FakeYoutube, FakeYoutubeOptions, YOUTUBE_SCOPE};

const WARMUP: usize = 500;

#[derive(Debug)]
struct Options {
    messages: usize,
    latency_messages: usize,
    rate: u64,
    idle: Duration,
    only: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        messages: 100_000,
        latency_messages: 5_000,
        rate: 1_000,
        idle: Duration::from_secs(10),
        only: None,
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
            "--only" => options.only = args.next(),
            // cargo bench passes `--bench`; filters do not apply to this harness.
            _ => {}
        }
    }
    Ok(options)
}

/// What one platform's run measured.
struct Figures {
    idle_rss_kb: u64,
    rate: f64,
    cpu_per_message: Duration,
    latencies: Vec<Duration>,
    detail: String,
}

fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while !check() {
        if Instant::now() > deadline {
            return Err(format!("{what}: not within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn import(env: &TestEnv, platform: &str, token_json: &str) -> Result<(), String> {
    let imported =
        tokio::task::block_in_place(|| env.run(&["auth", "import", platform], Some(token_json)));
    if imported.status.success() {
        Ok(())
    } else {
        Err(format!(
            "auth import {platform} failed: {}",
            String::from_utf8_lossy(&imported.stderr)
        ))
    }
}

/// Where the daemon's CPU went during a flood, for the report.
fn cpu_report(pid: u32, before: &std::collections::BTreeMap<String, Duration>) -> String {
    thread_cpu(pid)
        .iter()
        .map(|(name, after)| {
            let spent = after.saturating_sub(before.get(name).copied().unwrap_or_default());
            format!("{name} {:.2} s", spent.as_secs_f64())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn bench_kick(exe: &Path, options: &Options) -> Result<Figures, String> {
    let fake = FakeKick::start().await;
    let env = TestEnv::new(exe);
    env.write_config(&fake.config_section());
    let daemon = tokio::task::block_in_place(|| env.spawn_daemon());
    let scopes = ["user:read", "channel:read", "chat:write"];
    let (access, refresh) = fake.mint_tokens(&scopes);
    let token_json = serde_json::json!({
        "access_token": access, "refresh_token": refresh, "expires_in": 3600,
        "scope": scopes.join(" "), "token_type": "Bearer",
    })
    .to_string();
    import(&env, "kick", &token_json)?;
    tokio::task::block_in_place(|| {
        wait_until("the Pusher subscriptions", Duration::from_secs(20), || {
            fake.subscriptions().len() >= 4
        })
    })?;

    tokio::time::sleep(options.idle).await;
    let idle_rss_kb = rss_kb(daemon.pid()).ok_or("cannot read the daemon's RSS")?;

    let latency_total = WARMUP + options.latency_messages;
    let slots = latency_total + options.messages;
    let url = format!("ws://{}/api/v1/events?type=chat.message", daemon.address());
    let (mut counter, reader) = spawn_event_reader(
        url,
        daemon.token().to_owned(),
        slots,
        vec![latency_total, slots],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let frame = |number: usize| {
        fake.chat_frame(
            &format!("bench-{number}"),
            &format!("bench message {number}: gg that was a clean run, KEKW"),
        )
    };
    let paced: Vec<String> = (0..latency_total).map(frame).collect();
    let period = Duration::from_nanos(1_000_000_000 / options.rate);
    let mut sent_at = Vec::with_capacity(latency_total);
    let start = tokio::time::Instant::now();
    for (index, frame) in paced.into_iter().enumerate() {
        tokio::time::sleep_until(start + period * index as u32).await;
        sent_at.push(Instant::now());
        if fake.send_chat_frames(vec![frame]) == 0 {
            return Err("the fake Pusher lost its connection".into());
        }
    }
    wait_count(&mut counter, latency_total).await?;

    let flood: Vec<String> = (latency_total..slots).map(frame).collect();
    let cpu_before = cpu_time(daemon.pid()).unwrap_or_default();
    let threads_before = thread_cpu(daemon.pid());
    let began = Instant::now();
    if fake.send_chat_frames(flood) == 0 {
        return Err("the fake Pusher lost its connection".into());
    }
    wait_count(&mut counter, slots).await?;
    let elapsed = began.elapsed();
    let cpu_used = cpu_time(daemon.pid())
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    let detail = format!(
        "flood {:.2} s wall; daemon {:.2} s CPU: {}",
        elapsed.as_secs_f64(),
        cpu_used.as_secs_f64(),
        cpu_report(daemon.pid(), &threads_before)
    );
    let seen_at = reader.await.map_err(|error| error.to_string())??;
    let latencies = latencies(&sent_at, &seen_at, WARMUP);
    Ok(Figures {
        idle_rss_kb,
        rate: options.messages as f64 / elapsed.as_secs_f64(),
        cpu_per_message: cpu_used / options.messages.max(1) as u32,
        latencies,
        detail,
    })
}

/// YouTube's chat poll spacing in the benchmark (the fake's `pollingIntervalMillis`).
const YOUTUBE_POLL_MS: u64 = 100;

async fn bench_youtube(exe: &Path, options: &Options) -> Result<Figures, String> {
    let fake = FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: YOUTUBE_POLL_MS,
        daily_limit: 100_000_000,
        ..FakeYoutubeOptions::default()
    })
    .await;
    let env = TestEnv::new(exe);
    env.write_config(&fake.config_section());
    let daemon = tokio::task::block_in_place(|| env.spawn_daemon());
    let (access, refresh) = fake.mint_tokens();
    let token_json = serde_json::json!({
        "access_token": access, "refresh_token": refresh, "expires_in": 3599,
        "scope": YOUTUBE_SCOPE, "token_type": "Bearer",
    })
    .to_string();
    import(&env, "youtube", &token_json)?;
    tokio::task::block_in_place(|| {
        wait_until("the first chat poll", Duration::from_secs(20), || {
            !fake.poll_times().is_empty()
        })
    })?;

    tokio::time::sleep(options.idle).await;
    let idle_rss_kb = rss_kb(daemon.pid()).ok_or("cannot read the daemon's RSS")?;
    let units_before = fake.quota_spent();

    let latency_total = WARMUP + options.latency_messages;
    let slots = latency_total + options.messages;
    let url = format!("ws://{}/api/v1/events?type=chat.message", daemon.address());
    let (mut counter, reader) = spawn_event_reader(
        url,
        daemon.token().to_owned(),
        slots,
        vec![latency_total, slots],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let period = Duration::from_nanos(1_000_000_000 / options.rate);
    let mut sent_at = Vec::with_capacity(latency_total);
    let start = tokio::time::Instant::now();
    for number in 0..latency_total {
        tokio::time::sleep_until(start + period * number as u32).await;
        sent_at.push(Instant::now());
        fake.flood("bench-", number..number + 1);
    }
    wait_count(&mut counter, latency_total).await?;

    let cpu_before = cpu_time(daemon.pid()).unwrap_or_default();
    let threads_before = thread_cpu(daemon.pid());
    let polls_before = fake.poll_times().len();
    let began = Instant::now();
    fake.flood("bench-", latency_total..slots);
    wait_count(&mut counter, slots).await?;
    let elapsed = began.elapsed();
    let cpu_used = cpu_time(daemon.pid())
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    let polls = fake.poll_times().len() - polls_before;
    let units = fake.quota_spent() - units_before;
    let detail = format!(
        "flood {:.2} s wall over {polls} polls {YOUTUBE_POLL_MS} ms apart; daemon {:.2} s CPU: {}; \
         {units} quota units for all {slots} messages, paced and flooded",
        elapsed.as_secs_f64(),
        cpu_used.as_secs_f64(),
        cpu_report(daemon.pid(), &threads_before),
    );
    let seen_at = reader.await.map_err(|error| error.to_string())??;
    let latencies = latencies(&sent_at, &seen_at, WARMUP);
    Ok(Figures {
        idle_rss_kb,
        rate: options.messages as f64 / elapsed.as_secs_f64(),
        cpu_per_message: cpu_used / options.messages.max(1) as u32,
        latencies,
        detail,
    })
}

fn report(platform: &str, transport: &str, options: &Options, figures: Figures) {
    println!("{platform} ({transport})");
    println!("  ({})", figures.detail);
    println!(
        "  throughput {:>9.0} msg/s, {:>6.2} µs daemon CPU per message ({} messages, normalised, stored, seen by an /api/v1/events client)",
        figures.rate,
        micros(figures.cpu_per_message),
        options.messages
    );
    if !figures.latencies.is_empty() {
        let mut latencies = figures.latencies;
        latencies.sort_unstable();
        println!(
            "  latency at {}/s over {} messages: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            options.rate,
            latencies.len(),
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.99)),
            ms(latencies.last().copied().unwrap_or_default())
        );
    }
    println!(
        "  idle RSS {:.1} MB ({platform} connected)",
        mb(figures.idle_rss_kb)
    );
}

fn run() -> Result<(), String> {
    let options = options()?;
    let exe = roadie_binary()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    println!(
        "Chat floods over loopback through Roadie ({}): {} messages per flood, {} paced at {}/s for latency",
        exe.display(),
        options.messages,
        options.latency_messages,
        options.rate
    );
    let wants = |platform: &str| options.only.as_deref().is_none_or(|only| only == platform);
    if wants("kick") {
        let figures = runtime.block_on(bench_kick(&exe, &options))?;
        report("kick", "Pusher feed", &options, figures);
    }
    if wants("youtube") {
        let figures = runtime.block_on(bench_youtube(&exe, &options))?;
        report(
            "youtube",
            "liveChatMessages.list polling, 100 ms pollingIntervalMillis",
            &options,
            figures,
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("platform chat-flood benchmark failed: {error}");
            ExitCode::FAILURE
        }
    }
}
