//! The daemon's error type.

/// Why the daemon could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Another daemon holds the data directory.
    #[error("another roadie daemon is already running on {data_dir}{}", pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default())]
    AlreadyRunning {
        /// The data directory.
        data_dir: String,
        /// The other daemon's process id, when known.
        pid: Option<u32>,
    },
    /// File or socket trouble.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] roadie_store::StoreError),
    /// The API address could not be bound.
    #[error("cannot listen on {address}: {source}{hint}", hint = bind_hint(.source))]
    Bind {
        /// The address.
        address: String,
        /// The error.
        source: std::io::Error,
    },
}

/// What to do about a taken address: the API port is fixed, so a second program on it
/// (or a second Roadie with its own data directory) stops the daemon from starting.
fn bind_hint(source: &std::io::Error) -> &'static str {
    match source.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another program uses it: stop it, or set [server] listen to a free port \
             (e.g. ROADIE_SERVER__LISTEN=127.0.0.1:7718)"
        }
        _ => "",
    }
}

impl DaemonError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> DaemonError {
        DaemonError::Io {
            context: context.into(),
            source,
        }
    }
}
