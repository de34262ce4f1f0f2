//! File-system helpers for the file backend: private (0600) files, a private data
//! directory, atomic replace-by-rename with fsync, and the cross-process lock file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::KeystoreError;

/// Options that create files readable and writable by the owner only (0600 on unix;
/// on other platforms the file is simply created).
#[cfg(unix)]
fn private_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.mode(0o600);
    options
}

/// Options that create files readable and writable by the owner only (0600 on unix;
/// on other platforms the file is simply created).
#[cfg(not(unix))]
fn private_options() -> OpenOptions {
    OpenOptions::new()
}

/// Creates `dir` and missing parents (0700 on unix for the ones created here).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), KeystoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| KeystoreError::io("cannot create directory", dir, e))
}

/// Reads a whole file; `Ok(None)` if it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, KeystoreError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeystoreError::io("cannot read", path, e)),
    }
}

/// Whether `path` exists (errors other than "not found" are reported).
pub(crate) fn exists(path: &Path) -> Result<bool, KeystoreError> {
    path.try_exists()
        .map_err(|e| KeystoreError::io("cannot check", path, e))
}

/// Replaces `target` with `bytes` atomically: write a 0600 temp file in the same
/// directory, fsync it, rename it over `target`, fsync the directory.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keystore".to_owned());
    let suffix = u64::from_le_bytes(crate::vault::random_bytes::<8>()?);
    let tmp = dir.join(format!(".{name}.tmp-{}-{suffix:016x}", std::process::id()));

    let result = (|| {
        let mut file = private_options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| KeystoreError::io("cannot create", &tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| KeystoreError::io("cannot write", &tmp, e))?;
        file.sync_all()
            .map_err(|e| KeystoreError::io("cannot fsync", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, target).map_err(|e| KeystoreError::io("cannot replace", target, e))
    })();
    if result.is_err() {
        // Best effort: do not leave the temp file behind.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), KeystoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| KeystoreError::io("cannot fsync directory", dir, e))
}

/// Directories cannot be opened for fsync here; the rename is as durable as the OS makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), KeystoreError> {
    Ok(())
}

/// A held lock on `keystore.lock`, released when dropped.
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

/// Opens (creating it 0600 if needed) the lock file and takes a shared or exclusive
/// lock on it, blocking until it is granted. Each call opens the file anew, so locks
/// taken by different threads of one process also exclude each other.
pub(crate) fn lock(path: &Path, exclusive: bool) -> Result<LockGuard, KeystoreError> {
    let file = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| KeystoreError::io("cannot open lock file", path, e))?;
    let locked = if exclusive {
        file.lock()
    } else {
        file.lock_shared()
    };
    locked.map_err(|e| KeystoreError::io("cannot lock", path, e))?;
    Ok(LockGuard { _file: file })
}

/// Warns if a file holding key material is readable by group or others (unix only).
pub(crate) fn warn_if_not_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format_args!("{mode:o}"),
                    "keystore file is accessible by other users; expected mode 600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
