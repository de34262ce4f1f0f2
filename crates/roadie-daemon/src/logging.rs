//! Logging: human-readable or JSON lines on stderr, and a daily-rotated log file in
//! the data directory. Secrets never reach a log: they are `Secret` values whose
//! `Debug` and `Display` print a redaction.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the file writer flushing; drop it last.
#[derive(Debug)]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    /// For people.
    Human,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber. `filter` holds `target=level` directives such as
/// `info` or `info,roadie_daemon=debug`; `RUST_LOG` overrides it. With `log_dir`, lines also go
/// to `roadie.log.YYYY-MM-DD` there, keeping `keep_files` days.
pub fn init(style: LogStyle, filter: &str, log_dir: Option<&Path>, keep_files: usize) -> LogGuard {
    // `Targets` (plain `target=level` directives) instead of EnvFilter: no regex engine
    // in the binary, which keeps the daemon's resident memory down.
    let make_filter = || {
        std::env::var("RUST_LOG")
            .ok()
            .and_then(|directives| directives.parse::<Targets>().ok())
            .or_else(|| filter.parse::<Targets>().ok())
            .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
    };
    let stderr = match style {
        LogStyle::Human => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .boxed(),
        LogStyle::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let mut guard = None;
    let file_layer = log_dir.and_then(|directory| {
        if let Err(error) = create_private_dir(directory) {
            eprintln!(
                "roadie: cannot create the log directory {}: {error}",
                directory.display()
            );
            return None;
        }
        let appender = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("roadie.log")
            .max_log_files(keep_files.max(1))
            .build(directory)
            .map_err(|error| {
                eprintln!(
                    "roadie: cannot write log files in {}: {error}",
                    directory.display()
                )
            })
            .ok()?;
        // The default queue holds 128,000 lines, preallocated: 4 MB resident for
        // nothing. 4,096 lines absorb any burst the daemon logs; past that, lines are
        // dropped rather than blocking the daemon.
        let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .buffered_lines_limit(4096)
            .lossy(true)
            .finish(appender);
        guard = Some(worker);
        let layer = match style {
            LogStyle::Human => tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .boxed(),
            LogStyle::Json => tracing_subscriber::fmt::layer()
                .json()
                .with_writer(writer)
                .boxed(),
        };
        Some(layer.with_filter(make_filter()))
    });
    let _ = tracing_subscriber::registry()
        .with(stderr.with_filter(make_filter()))
        .with(file_layer)
        .try_init();
    LogGuard { _file: guard }
}

fn create_private_dir(directory: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(directory)
}

/// Sends every panic to the log as well (the default hook only writes to stderr, which
/// a daemon started at login or by a service manager may not keep): a panic is a bug,
/// and the log is what a streamer attaches to a report.
pub fn log_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|location| format!("{}:{}", location.file(), location.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            %location,
            "panic: {} (a bug in Roadie)",
            panic_message(info.payload())
        );
        default(info);
    }));
}

/// The text a panic was raised with.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}
