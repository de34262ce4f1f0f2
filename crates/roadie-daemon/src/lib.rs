//! Roadie's daemon: wires the store, keystore, event bus and local API together,
//! supervises them, and shuts them down in order.
//!
//! Architecture invariant: this is the only crate that knows HTTP and WebSockets on
//! the serving side and the only one that wires components together; the binary only
//! parses arguments and calls [`run`].

pub mod api;
pub mod automation;
pub mod bus;
pub mod datadir;
mod error;
pub mod health;
pub mod keystore;
pub mod logging;
pub mod obs;
pub mod platforms;
pub mod supervise;
mod trim;
pub mod tts;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

use roadie_core::Secret;
use roadie_protocol::ComponentState;
use roadie_store::{Retention, Store, StoreOptions};

pub use datadir::{DaemonLock, DataDir};
pub use error::DaemonError;

/// How long the API may take to finish open requests and streams at shutdown.
const API_DRAIN: Duration = Duration::from_secs(2);
/// How long the writer may take to commit what is queued at shutdown.
const STORE_DRAIN: Duration = Duration::from_secs(2);
/// How long automation may take to hand its last points to the store at shutdown.
const AUTOMATION_DRAIN: Duration = Duration::from_millis(500);
/// How long after start-up the start-up-only code pages are released.
const SETTLE_BEFORE_TRIM: Duration = Duration::from_secs(10);
/// How often old events are pruned.
const RETENTION_EVERY: Duration = Duration::from_secs(600);

/// What the daemon needs to start.
#[derive(Debug)]
pub struct DaemonOptions {
    /// The validated configuration.
    pub config: roadie_config::Config,
    /// The prepared (and locked) data directory.
    pub data_dir: DataDir,
    /// `ROADIE_KEYSTORE_PASSPHRASE`, when set.
    pub keystore_passphrase: Option<Secret>,
    /// The OS keychain service name (`roadie`; tests use their own).
    pub keystore_namespace: String,
}

/// The contents of `<data-dir>/daemon.json`, for clients to find a running daemon.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RuntimeInfo {
    /// The daemon's process id.
    pub pid: u32,
    /// The address it actually listens on.
    pub listen: String,
    /// Its version.
    pub version: String,
}

/// Runs the daemon until `shutdown` completes, then stops accepting, closes streams,
/// flushes the writer and returns.
pub async fn run(
    options: DaemonOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let started = Instant::now();
    let DaemonOptions {
        config,
        data_dir,
        keystore_passphrase,
        keystore_namespace,
    } = options;
    let health = Arc::new(health::HealthBoard::default());
    let token = data_dir.load_or_create_token()?;
    let overlay_token = data_dir.load_or_create_overlay_token()?;

    let (fanout, hook) = bus::EventBus::fanout();
    let database = data_dir.database_path();
    let (store, report) =
        tokio::task::spawn_blocking(move || Store::open(&database, StoreOptions::default(), hook))
            .await
            .map_err(|error| {
                DaemonError::io(
                    "opening the database",
                    std::io::Error::other(error.to_string()),
                )
            })??;
    if let Some(backup) = &report.backup {
        tracing::info!(backup = %backup.display(), "database backed up before migrating");
    }
    let store_detail = if report.applied.is_empty() {
        "schema up to date".to_owned()
    } else {
        format!(
            "applied {} migration(s): {}",
            report.applied.len(),
            report.applied.join(", ")
        )
    };
    health.set("store", ComponentState::Ok, store_detail);
    watch_store_writes(store.write_problem(), Arc::clone(&health));
    let bus = bus::EventBus::new(store.clone(), fanout);

    let (shutdown_sender, shutdown_receiver) = watch::channel(false);
    let obs = obs::Obs::start(&config.obs, bus.clone(), Arc::clone(&health));
    let tts = tts::Tts::start(
        &config.tts,
        bus.clone(),
        Arc::clone(&health),
        shutdown_receiver.clone(),
    );
    let (automation, automation_tasks) = automation::Automation::new(
        store.clone(),
        bus.clone(),
        obs.clone(),
        tts.clone(),
        data_dir.path().join("scripts"),
    )
    .await;
    let keystore_slot = Arc::new(keystore::KeystoreSlot::default());
    let platforms = Arc::new(platforms::PlatformManager::new(
        config.clone(),
        bus.clone(),
        store.clone(),
        automation.clone(),
        Arc::clone(&health),
        Arc::clone(&keystore_slot),
    ));
    health.set("keystore", ComponentState::Degraded, "opening");
    spawn_keystore_open(
        KeystoreUsers {
            platforms: Arc::clone(&platforms),
            obs_without_password: (config.obs.enabled && config.obs.password.is_none())
                .then(|| obs.clone()),
        },
        &config,
        &data_dir,
        keystore_passphrase,
        keystore_namespace,
        Arc::clone(&keystore_slot),
        Arc::clone(&health),
    );

    let listen = config.server.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| DaemonError::Bind {
            address: listen.to_string(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| DaemonError::Bind {
        address: listen.to_string(),
        source,
    })?;
    let runtime_info = RuntimeInfo {
        pid: std::process::id(),
        listen: bound.to_string(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let runtime_json = serde_json::to_vec(&runtime_info).unwrap_or_default();
    datadir::write_private(&data_dir.runtime_file_path(), &runtime_json)?;
    health.set("api", ComponentState::Ok, format!("listening on {bound}"));
    health.set("event_stream", ComponentState::Ok, "0 subscriber(s)");

    automation.attach_platforms(Arc::clone(&platforms));
    let automation_task = automation.spawn(automation_tasks, shutdown_receiver.clone());
    let (allowed_hosts, allowed_origins) = api::allowed_hosts(bound, &config.server.allowed_hosts);
    let state = api::AppState::new(api::AppInner {
        started,
        data_dir: data_dir.path().display().to_string(),
        listen: bound,
        token,
        allowed_hosts,
        allowed_origins,
        bus: bus.clone(),
        health: Arc::clone(&health),
        keystore: keystore_slot,
        platforms: Arc::clone(&platforms),
        automation: automation.clone(),
        obs: obs.clone(),
        tts,
        overlay_token,
        shutdown: shutdown_receiver.clone(),
    });
    // Once start-up (and the first retention pass) is over, give start-up-only code
    // pages back; see `trim`.
    let mut settle = shutdown_receiver.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(SETTLE_BEFORE_TRIM) => {
                let advised = tokio::task::spawn_blocking(trim::release_startup_code).await.unwrap_or(0);
                tracing::debug!(advised_kib = advised / 1024, "released start-up code pages");
            }
            _ = settle.changed() => {}
        }
    });
    let retention = Retention {
        max_age_days: config.events.retention_days,
        max_events: config.events.max_events,
    };
    let pruner = tokio::spawn(prune_periodically(
        store.clone(),
        retention,
        shutdown_receiver.clone(),
    ));

    tracing::info!(listen = %bound, data_dir = %data_dir.path().display(), version = env!("CARGO_PKG_VERSION"), startup_ms = started.elapsed().as_millis() as u64, "roadie daemon ready");

    let mut drain_started = shutdown_receiver.clone();
    // Events are small frames written one by one: without TCP_NODELAY, Nagle's
    // algorithm holds each behind the previous one's ACK (tens of ms with delayed ACKs).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    let server = axum::serve(listener, api::router(state)).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections");
        let _ = shutdown_sender.send(true);
    });
    let drain_deadline = async move {
        let _ = drain_started.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(API_DRAIN).await;
    };
    tokio::select! {
        served = server => {
            if let Err(error) = served {
                tracing::error!(%error, "the API server failed");
            }
        }
        () = drain_deadline => tracing::warn!("open API connections did not finish in time; closing them"),
    }
    pruner.abort();
    platforms.stop_all().await;
    obs.shutdown().await;
    if tokio::time::timeout(AUTOMATION_DRAIN, automation_task)
        .await
        .is_err()
    {
        tracing::warn!("automation did not finish in time");
    }
    if store.close(STORE_DRAIN).await {
        tracing::info!("database writer flushed");
    } else {
        tracing::error!("the database writer did not finish in time");
    }
    let _ = std::fs::remove_file(data_dir.runtime_file_path());
    tracing::info!("roadie daemon stopped");
    Ok(())
}

/// What waits for the keystore: the platforms' tokens, and OBS's password when the
/// config has none.
struct KeystoreUsers {
    platforms: Arc<platforms::PlatformManager>,
    obs_without_password: Option<obs::Obs>,
}

/// Shows in `status` when the database cannot be written (events are then held in
/// memory by the store's writer) and when it can again.
fn watch_store_writes(
    mut problem: watch::Receiver<Option<String>>,
    health: Arc<health::HealthBoard>,
) {
    tokio::spawn(async move {
        while problem.changed().await.is_ok() {
            let now = problem.borrow_and_update().clone();
            match now {
                Some(problem) => health.set("store", ComponentState::Degraded, problem),
                None => health.set(
                    "store",
                    ComponentState::Ok,
                    "writable again; the held events are stored",
                ),
            }
        }
    });
}

fn spawn_keystore_open(
    users: KeystoreUsers,
    config: &roadie_config::Config,
    data_dir: &DataDir,
    passphrase: Option<Secret>,
    namespace: String,
    slot: Arc<keystore::KeystoreSlot>,
    health: Arc<health::HealthBoard>,
) {
    let choice = config
        .keystore
        .backend
        .as_str()
        .parse::<roadie_keystore::BackendChoice>();
    let data_dir = data_dir.path().to_path_buf();
    let opening = tokio::task::spawn_blocking(move || {
        let choice = match choice {
            Ok(choice) => choice,
            Err(error) => {
                slot.fail(error.to_string());
                health.set("keystore", ComponentState::Down, error.to_string());
                return;
            }
        };
        match roadie_keystore::open(roadie_keystore::KeystoreOptions {
            choice,
            data_dir,
            passphrase,
            namespace,
        }) {
            Ok(opened) => {
                // Opening reads only the vault header; one read proves the passphrase
                // (or key file) really decrypts it, so status can say so at start.
                if let Err(error) = opened.store.get("roadie.keystore-check") {
                    tracing::error!(%error, "the keystore cannot be read; secrets cannot be read or stored");
                    health.set("keystore", ComponentState::Down, error.to_string());
                    slot.fail(error.to_string());
                    return;
                }
                health.set(
                    "keystore",
                    ComponentState::Ok,
                    format!("{}: {}", opened.kind, opened.reason),
                );
                slot.fill(opened);
            }
            Err(error) => {
                tracing::error!(%error, "the keystore is not available; secrets cannot be read or stored");
                health.set("keystore", ComponentState::Down, error.to_string());
                slot.fail(error.to_string());
            }
        }
    });
    // Platforms need their tokens from the keystore: start them once it has opened
    // (or failed, which they then report).
    tokio::spawn(async move {
        let _ = opening.await;
        // The OBS password may live in the keystore (`roadie secrets set obs.password`).
        let KeystoreUsers {
            platforms,
            obs_without_password,
        } = users;
        if let Some(obs) = obs_without_password {
            match platforms.read_secret("obs.password").await {
                Ok(Some(password)) => obs.use_password(password).await,
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not read obs.password"),
            }
        }
        platforms.start_all().await;
    });
}

async fn prune_periodically(
    store: Store,
    retention: Retention,
    mut shutdown: watch::Receiver<bool>,
) {
    if retention.max_age_days == 0 && retention.max_events == 0 {
        return;
    }
    // First pass shortly after start, off the start-up path.
    let mut wait = Duration::from_secs(5);
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        match store.prune_events(retention, roadie_store::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "pruned old events per [events] retention"),
            Err(error) => tracing::warn!(%error, "pruning old events failed"),
        }
        wait = RETENTION_EVERY;
    }
}
