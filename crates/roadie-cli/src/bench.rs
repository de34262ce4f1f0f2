//! `roadie bench`: starts real daemons from this binary in a scratch data directory
//! and prints measured figures against the budgets: start-to-health time, idle RSS,
//! and events per second through bus, store and WebSocket fan-out.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use roadie_client::Client;
use roadie_protocol::CustomEvent;

use crate::cli::{BenchArgs, Global};

const START_BUDGET_MS: f64 = 100.0;
const IDLE_RSS_BUDGET_KB: u64 = 10 * 1024;
const THROUGHPUT_BUDGET: f64 = 100_000.0;
const PUBLISH_BATCH: usize = 2_000;
const PUBLISHERS: usize = 2;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Daemon {
    child: Child,
    address: String,
    token: String,
}

impl Daemon {
    fn client(&self) -> Client {
        Client::new(self.address.clone(), Some(self.token.clone()))
    }

    fn stop(mut self) {
        terminate(&self.child);
        let deadline = Instant::now() + Duration::from_secs(6);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
fn terminate(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

#[cfg(not(unix))]
fn terminate(_child: &Child) {}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Starts a daemon and returns it with the time from spawn to its first healthy answer.
async fn start_daemon(exe: &Path, data_dir: &Path) -> anyhow::Result<(Daemon, Duration)> {
    let port = free_port()?;
    let address = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(data_dir.with_extension("log"))?;
    let began = Instant::now();
    let child = Command::new(exe)
        .arg("daemon")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--config")
        .arg(data_dir.with_extension("toml"))
        .env("ROADIE_SERVER__LISTEN", &address)
        .env("ROADIE_KEYSTORE__BACKEND", "file")
        .env("ROADIE_LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting the daemon")?;
    let probe = Client::new(address.clone(), None);
    let mut daemon = Daemon {
        child,
        address,
        token: String::new(),
    };
    loop {
        if probe.health().await.is_ok() {
            break;
        }
        if let Ok(Some(status)) = daemon.child.try_wait() {
            bail!(
                "the daemon exited ({status}) before answering; see {}",
                data_dir.with_extension("log").display()
            );
        }
        if began.elapsed() > Duration::from_secs(20) {
            daemon.stop();
            bail!("the daemon did not answer within 20 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    let elapsed = began.elapsed();
    daemon.token = std::fs::read_to_string(data_dir.join("api-token"))?
        .trim()
        .to_owned();
    Ok((daemon, elapsed))
}

fn rss_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn verdict(pass: bool) -> &'static str {
    if pass { "within budget" } else { "OVER BUDGET" }
}

pub fn run(global: &Global, args: &BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(bench(global, args))
}

async fn bench(global: &Global, args: &BenchArgs) -> anyhow::Result<()> {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("roadie-bench-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0)?;
    // The daemons run from a private copy of this binary. Run from the same file, they
    // would share its code pages with this process, and the daemon's hand-back of its
    // start-up code (see roadie-daemon's `trim`) cannot drop pages another process
    // maps: the idle RSS would count this bench's code, not what a streamer's daemon
    // holds (about 2 MB more, measured).
    let this_binary = std::env::current_exe().context("finding this binary")?;
    let copy = scratch.0.join("roadie-daemon-copy");
    let copied = std::fs::copy(&this_binary, &copy).is_ok()
        && std::process::Command::new(&copy)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
    let exe = if copied {
        copy
    } else {
        // A temp dir mounted noexec, for one: share pages, and say so.
        eprintln!(
            "bench: cannot run a copy of this binary from the temp dir; idle RSS will include pages shared with the bench"
        );
        this_binary
    };
    let data_dir = scratch.0.join("data");
    std::fs::write(data_dir.with_extension("toml"), "")?;

    eprintln!("bench: timing {} daemon starts", args.starts.max(2));
    let mut start_times = Vec::new();
    let mut last = None;
    for attempt in 0..args.starts.max(2) {
        let (daemon, elapsed) = start_daemon(&exe, &data_dir).await?;
        start_times.push(elapsed);
        if attempt + 1 == args.starts.max(2) {
            last = Some(daemon);
        } else {
            daemon.stop();
        }
    }
    let Some(daemon) = last else {
        bail!("no daemon started")
    };
    let first_start = start_times[0];
    let mut warm: Vec<Duration> = start_times[1..].to_vec();
    warm.sort();
    let warm_median = warm[warm.len() / 2];
    let warm_max = warm[warm.len() - 1];

    eprintln!("bench: idling {} s before sampling memory", args.idle_secs);
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let pid = daemon.child.id();
    let idle_rss = rss_kb(pid, "VmRSS:");

    eprintln!(
        "bench: pushing {} events through bus, store and fan-out",
        args.events
    );
    let (rate, publish_rate) = throughput(&daemon, args.events).await?;
    let peak_rss = rss_kb(pid, "VmHWM:");
    daemon.stop();

    let start_pass = warm_median.as_secs_f64() * 1000.0 < START_BUDGET_MS;
    let rss_pass = idle_rss.is_some_and(|kb| kb < IDLE_RSS_BUDGET_KB);
    let rate_pass = rate > THROUGHPUT_BUDGET;
    if global.json {
        println!(
            "{}",
            serde_json::json!({
                "start_to_health_ms": {"first": ms(first_start), "median": ms(warm_median), "max": ms(warm_max), "budget": START_BUDGET_MS},
                "idle_rss_kb": {"value": idle_rss, "after_secs": args.idle_secs, "budget": IDLE_RSS_BUDGET_KB},
                "events_per_second": {"end_to_end": rate.round(), "stored_and_acked": publish_rate.round(), "events": args.events, "budget": THROUGHPUT_BUDGET},
                "peak_rss_kb": peak_rss,
            })
        );
    } else {
        println!(
            "roadie bench ({} cores)",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        println!(
            "  start to health      median {:.1} ms, max {:.1} ms over {} warm starts (first start with migrations: {:.1} ms)   budget < {START_BUDGET_MS} ms: {}",
            ms(warm_median),
            ms(warm_max),
            warm.len(),
            ms(first_start),
            verdict(start_pass)
        );
        match idle_rss {
            Some(kb) => println!(
                "  idle RSS after {} s   {:.1} MB   budget < 10 MB: {}",
                args.idle_secs,
                kb as f64 / 1024.0,
                verdict(rss_pass)
            ),
            None => println!("  idle RSS             not measurable on this OS (needs /proc)"),
        }
        println!(
            "  events per second    {:.0} published -> stored -> delivered over WebSocket ({} events; {:.0}/s stored and acknowledged)   budget > 100000/s: {}",
            rate,
            args.events,
            publish_rate,
            verdict(rate_pass)
        );
        if let Some(kb) = peak_rss {
            println!("  peak RSS during run  {:.1} MB", kb as f64 / 1024.0);
        }
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Publishes `total` events in batches while a WebSocket subscriber counts them.
/// Returns (end-to-end events/s, stored-and-acked events/s).
async fn throughput(daemon: &Daemon, total: usize) -> anyhow::Result<(f64, f64)> {
    let client = daemon.client();
    let mut stream = client.subscribe(&["custom".to_owned()], None).await?;
    let batch: Vec<CustomEvent> = (0..PUBLISH_BATCH)
        .map(|n| CustomEvent { name: "bench".into(), data: serde_json::json!({"n": n, "text": "a chat-sized payload of about sixty characters"}) })
        .collect();
    let began = Instant::now();
    let receiver = tokio::spawn(async move {
        let mut received = 0usize;
        while received < total {
            match stream.next_text().await {
                Some(Ok(_)) => received += 1,
                Some(Err(error)) => return Err(anyhow::Error::from(error)),
                None => bail!("stream closed after {received} events"),
            }
        }
        Ok(Instant::now())
    });
    // Several producers at once, as a streamer's platforms and actions would be.
    let mut publishers = Vec::new();
    for publisher in 0..PUBLISHERS {
        let client = client.clone();
        let batch = batch.clone();
        let share = total / PUBLISHERS + usize::from(publisher < total % PUBLISHERS);
        publishers.push(tokio::spawn(async move {
            let mut sent = 0usize;
            while sent < share {
                let size = PUBLISH_BATCH.min(share - sent);
                client.publish(batch[..size].to_vec()).await?;
                sent += size;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for publisher in publishers {
        publisher.await??;
    }
    let published = began.elapsed();
    let finished = tokio::time::timeout(Duration::from_secs(120), receiver)
        .await
        .context("the subscriber did not receive everything in 120 s")???;
    let elapsed = finished.duration_since(began);
    Ok((
        total as f64 / elapsed.as_secs_f64(),
        total as f64 / published.as_secs_f64(),
    ))
}
