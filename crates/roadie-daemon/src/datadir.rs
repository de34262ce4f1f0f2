//! The data directory: created 0700, holds the database, the API token, logs and the
//! lock that keeps a second daemon from running on the same directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use roadie_core::Secret;

use crate::DaemonError;

/// A prepared data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

/// Held while the daemon runs; the OS releases it when the process dies, even by `kill -9`.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
}

impl DataDir {
    /// Creates the directory (0700) if needed and tightens its mode if it is wider.
    pub fn prepare(path: &Path) -> Result<DataDir, DaemonError> {
        std::fs::create_dir_all(path).map_err(|source| {
            DaemonError::io(
                format!("creating data directory {}", path.display()),
                source,
            )
        })?;
        restrict_mode(path, 0o700)?;
        let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(DataDir { path: absolute })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.path.join("roadie.db")
    }

    /// The API token file (0600).
    pub fn api_token_path(&self) -> PathBuf {
        self.path.join("api-token")
    }

    /// Where a running daemon writes its pid and actual listen address.
    pub fn runtime_file_path(&self) -> PathBuf {
        self.path.join("daemon.json")
    }

    /// Rotated log files.
    pub fn logs_dir(&self) -> PathBuf {
        self.path.join("logs")
    }

    fn lock_path(&self) -> PathBuf {
        self.path.join("roadie.lock")
    }

    /// Takes the single-daemon lock, or says which process holds it.
    pub fn lock(&self) -> Result<DaemonLock, DaemonError> {
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| {
                DaemonError::io(format!("opening lock file {}", path.display()), source)
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(DaemonError::AlreadyRunning {
                    data_dir: self.path.display().to_string(),
                    pid: holder.trim().parse().ok(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(DaemonError::io(
                    format!("locking {}", path.display()),
                    source,
                ));
            }
        }
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(DaemonLock { _file: file })
    }

    /// True when a daemon holds the lock right now.
    pub fn is_locked(&self) -> bool {
        let Ok(file) = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.lock_path())
        else {
            return false;
        };
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                false
            }
            Err(_) => true,
        }
    }

    /// Reads the API token, creating it (0600) on first start.
    pub fn load_or_create_token(&self) -> Result<Secret, DaemonError> {
        load_or_create_secret(&self.api_token_path())
    }

    /// The overlay token: it goes into browser-source URLs, so it is not the API token
    /// (a URL pasted into OBS must not grant the whole API).
    pub fn load_or_create_overlay_token(&self) -> Result<Secret, DaemonError> {
        load_or_create_secret(&self.path.join("overlay-token"))
    }
}

/// Reads a random token file, creating it (0600) when missing or empty.
fn load_or_create_secret(path: &Path) -> Result<Secret, DaemonError> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            restrict_mode(path, 0o600)?;
            return Ok(Secret::new(text.trim().to_owned()));
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(DaemonError::io(
                format!("reading {}", path.display()),
                source,
            ));
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        DaemonError::io(
            "drawing random bytes for a token",
            std::io::Error::other(error.to_string()),
        )
    })?;
    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    write_private(path, token.as_bytes())?;
    Ok(Secret::new(token))
}

/// Writes a file that only the owner may read (0600 from the moment it exists).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), DaemonError> {
    let temporary = path.with_extension("tmp");
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temporary)
        .map_err(|source| DaemonError::io(format!("creating {}", temporary.display()), source))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| DaemonError::io(format!("writing {}", temporary.display()), source))?;
    restrict_mode(&temporary, 0o600)?;
    std::fs::rename(&temporary, path)
        .map_err(|source| DaemonError::io(format!("replacing {}", path.display()), source))
}

#[cfg(unix)]
fn restrict_mode(path: &Path, mode: u32) -> Result<(), DaemonError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path)
        .map_err(|source| DaemonError::io(format!("inspecting {}", path.display()), source))?;
    let current = metadata.permissions().mode() & 0o777;
    if current & !mode != 0 {
        tracing::warn!(path = %path.display(), from = format!("{current:o}"), to = format!("{mode:o}"), "tightening permissions");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|source| DaemonError::io(format!("restricting {}", path.display()), source))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_mode(_path: &Path, _mode: u32) -> Result<(), DaemonError> {
    Ok(())
}
