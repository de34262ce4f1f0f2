//! Finding the daemon: the same config and data directory as `roadie daemon`, the
//! actual address from `<data-dir>/daemon.json` when one is running, and the token.

use std::path::PathBuf;

use anyhow::Context;
use roadie_client::Client;
use roadie_config::LoadedConfig;
use roadie_daemon::{DataDir, RuntimeInfo};

use crate::cli::Global;

/// The configuration and data directory a command works with.
pub struct Setup {
    pub loaded: LoadedConfig,
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
}

pub fn setup(global: &Global) -> anyhow::Result<Setup> {
    let env = roadie_config::process_env();
    let loaded = match roadie_config::resolve_config_path(global.config.as_deref(), &env) {
        Some((path, explicit)) => roadie_config::load(&path, &env, explicit)?,
        None => roadie_config::load(std::path::Path::new(""), &env, false)?,
    };
    let data_dir = roadie_config::resolve_data_dir(global.data_dir.as_deref(), &env)
        .context("no data directory: pass --data-dir or set ROADIE_DATA_DIR")?;
    Ok(Setup {
        loaded,
        data_dir,
        env,
    })
}

/// A client for the daemon that owns `setup.data_dir`.
/// The running daemon's address (from its runtime file), else the configured one.
pub fn address(setup: &Setup) -> String {
    let runtime_file = setup.data_dir.join("daemon.json");
    std::fs::read(&runtime_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<RuntimeInfo>(&bytes).ok())
        .map(|info| info.listen)
        .unwrap_or_else(|| setup.loaded.config.server.listen.to_string())
}

/// The URL of the TTS overlay for an OBS browser source (its token is read from the
/// data directory, never sent over the API).
pub fn overlay_url(setup: &Setup) -> Option<String> {
    let token = std::fs::read_to_string(setup.data_dir.join("overlay-token")).ok()?;
    Some(format!(
        "http://{}/overlay/tts?token={}",
        address(setup),
        token.trim()
    ))
}

pub fn client(setup: &Setup) -> Client {
    let address = address(setup);
    let token = std::fs::read_to_string(setup.data_dir.join("api-token"))
        .ok()
        .map(|text| text.trim().to_owned());
    Client::new(address, token)
}

/// True when a daemon holds this data directory's lock.
pub fn daemon_running(setup: &Setup) -> bool {
    setup.data_dir.is_dir()
        && DataDir::prepare(&setup.data_dir)
            .map(|dir| dir.is_locked())
            .unwrap_or(false)
}
