//! What the chat-flood benchmarks share: finding the release binary, reading a
//! process's RSS and CPU time, and an `/api/v1/events` client that times each
//! `bench-<n>` chat message as it arrives.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn roadie_binary() -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
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

pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system, all threads) a process has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after_name = stat.rsplit_once(')')?.1;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf has no preconditions and only reads a constant.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos(
        (user + system) * 1_000_000_000 / ticks,
    ))
}

/// CPU time per thread name (threads of one name summed), for where the time went.
pub fn thread_cpu(pid: u32) -> std::collections::BTreeMap<String, Duration> {
    let mut threads = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok();
        let used = stat.as_deref().and_then(|stat| {
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
            let user: u64 = fields.next()?.parse().ok()?;
            let system: u64 = fields.next()?.parse().ok()?;
            Some(user + system)
        });
        if let Some(ticks) = used {
            // SAFETY: sysconf has no preconditions and only reads a constant.
            #[allow(unsafe_code)]
            let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
            *threads.entry(name).or_default() +=
                Duration::from_nanos(ticks * 1_000_000_000 / per_second);
        }
    }
    threads
}

/// Waits for `done` with a limit proportional to the work.
pub async fn wait_count(counter: &mut watch::Receiver<usize>, wanted: usize) -> Result<(), String> {
    let limit = Duration::from_secs(30) + Duration::from_millis(wanted as u64 / 2);
    let waited = tokio::time::timeout(limit, counter.wait_for(|seen| *seen >= wanted))
        .await
        .map(|result| result.is_ok());
    match waited {
        Ok(true) => Ok(()),
        Ok(false) => Err("the event stream closed".to_owned()),
        Err(_) => Err(format!(
            "only {} of {wanted} events arrived within {limit:?}",
            *counter.borrow()
        )),
    }
}

/// When each `bench-<n>` message reached the events client (`None`: never).
pub type SeenAt = Vec<Option<Instant>>;

/// Reads `/api/v1/events?type=chat.message`, timing each `bench-<n>` message.
pub fn spawn_event_reader(
    url: String,
    token: String,
    slots: usize,
    marks: Vec<usize>,
) -> (
    watch::Receiver<usize>,
    tokio::task::JoinHandle<Result<SeenAt, String>>,
) {
    let (count_tx, count_rx) = watch::channel(0usize);
    let reader = tokio::spawn(async move {
        let mut request = url
            .into_client_request()
            .map_err(|error| error.to_string())?;
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}")
                .parse()
                .map_err(|_| "bad token".to_owned())?,
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|error| format!("events stream: {error}"))?;
        let mut seen_at = vec![None; slots];
        let mut count = 0usize;
        while let Some(message) = socket.next().await {
            let now = Instant::now();
            let Ok(Message::Text(text)) = message else {
                break;
            };
            let number = text
                .split_once("\"message_id\":\"bench-")
                .and_then(|(_, rest)| rest.split_once('"'))
                .and_then(|(digits, _)| digits.parse::<usize>().ok());
            if let Some(slot) = number.and_then(|number| seen_at.get_mut(number))
                && slot.is_none()
            {
                *slot = Some(now);
                count += 1;
                // Waking the waiter per event would cost the reader more than the work
                // measured; every 256 events and at each mark the harness waits for is enough.
                if count.is_multiple_of(256) || marks.contains(&count) {
                    count_tx.send_replace(count);
                }
                if count == slots {
                    break;
                }
            }
        }
        Ok(seen_at)
    });
    (count_rx, reader)
}

pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

pub fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

pub fn verdict(pass: bool) -> &'static str {
    if pass { "within budget" } else { "OVER BUDGET" }
}

/// Send-to-seen latencies of the messages after the first `warmup`, for the ones seen.
pub fn latencies(sent_at: &[Instant], seen_at: &SeenAt, warmup: usize) -> Vec<Duration> {
    sent_at
        .iter()
        .zip(seen_at)
        .skip(warmup)
        .filter_map(|(sent, seen)| seen.map(|seen| seen.saturating_duration_since(*sent)))
        .collect()
}
