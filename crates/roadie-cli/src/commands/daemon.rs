//! `roadie daemon`: loads the config, takes the data directory, and runs until
//! SIGINT or SIGTERM; a watchdog ends the process if shutdown takes over 5 s.

use std::time::Duration;

use anyhow::Context;
use roadie_core::Secret;
use roadie_daemon::logging::{self, LogStyle};
use roadie_daemon::{DaemonOptions, DataDir};

use crate::cli::{Global, LogFormatArg};
use crate::endpoint;

/// Shutdown must finish within this, or the process exits anyway.
const SHUTDOWN_LIMIT: Duration = Duration::from_millis(4800);

pub fn run(global: &Global) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let config = setup.loaded.config.clone();
    let data_dir = DataDir::prepare(&setup.data_dir)?;
    let lock = data_dir.lock()?;
    let style = match global.log_format {
        Some(LogFormatArg::Json) => LogStyle::Json,
        Some(LogFormatArg::Human) => LogStyle::Human,
        None if config.log.format.as_str() == "json" => LogStyle::Json,
        None => LogStyle::Human,
    };
    let _log_guard = logging::init(
        style,
        &config.log.level,
        Some(&data_dir.logs_dir()),
        config.log.keep_files as usize,
    );
    logging::log_panics();
    match &setup.loaded.source {
        Some(path) => tracing::info!(config = %path.display(), "configuration loaded"),
        None => tracing::info!("no configuration file; using defaults (all platforms off)"),
    }
    for warning in &setup.loaded.warnings {
        tracing::warn!("{warning}");
    }
    let passphrase = setup
        .env
        .iter()
        .find(|(name, _)| name == roadie_keystore::PASSPHRASE_ENV)
        .map(|(_, value)| Secret::new(value.clone()));
    let options = DaemonOptions {
        config,
        data_dir,
        keystore_passphrase: passphrase,
        keystore_namespace: "roadie".into(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .thread_name("roadie")
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(roadie_daemon::run(options, shutdown_signal()))?;
    drop(lock);
    Ok(())
}

async fn shutdown_signal() {
    wait_for_signal().await;
    std::thread::spawn(|| {
        std::thread::sleep(SHUTDOWN_LIMIT);
        eprintln!("roadie: shutdown took longer than 5 s; exiting now");
        std::process::exit(1);
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => tracing::info!("SIGINT received"),
        _ = terminate.recv() => tracing::info!("SIGTERM received"),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
