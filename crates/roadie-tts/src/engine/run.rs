//! Running an engine program: no shell, stdin fed and stdout/stderr read
//! concurrently (so no pipe can fill up and deadlock), output capped, and the
//! process killed and reaped when it overruns its time limit.

use crate::error::TtsError;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How much of stderr is kept for error messages.
const STDERR_KEEP: usize = 2048;
/// How long to wait for a killed process to be reaped.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// One program run.
pub(crate) struct Run<'a> {
    /// Shown in errors and logs.
    pub display: &'a str,
    pub program: &'a Path,
    pub args: Vec<OsString>,
    /// Written to stdin, which is then closed; stdin is empty when `None`.
    pub stdin: Option<&'a [u8]>,
    pub timeout: Duration,
    /// More stdout than this kills the program.
    pub max_stdout: usize,
}

/// What a successful run produced.
#[derive(Debug)]
pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The start of stderr, lossily decoded and trimmed.
    pub stderr: String,
}

impl Output {
    /// `Err(Failed)` unless the program exited successfully.
    pub fn success(self, program: &str) -> Result<Output, TtsError> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(TtsError::Failed {
                program: program.to_owned(),
                status: self.status.to_string(),
                stderr: self.stderr,
            })
        }
    }
}

/// Reads up to `cap` bytes; returns whether more was available. Past the cap the
/// reader is drained (`drain`) or left alone.
async fn read_capped<R: AsyncRead + Unpin>(
    reader: Option<R>,
    cap: usize,
    drain: bool,
) -> io::Result<(Vec<u8>, bool)> {
    let Some(mut reader) = reader else {
        return Ok((Vec::new(), false));
    };
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, false));
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        if n > room {
            if !drain {
                return Ok((kept, true));
            }
            // Keep reading so the program never blocks on a full pipe.
            let mut sink = tokio::io::sink();
            tokio::io::copy(&mut reader, &mut sink).await?;
            return Ok((kept, true));
        }
    }
}

/// Runs the program to completion, within the time limit.
pub(crate) async fn run(spec: Run<'_>) -> Result<Output, TtsError> {
    let program = spec.display;
    let mut command = Command::new(spec.program);
    command
        .args(&spec.args)
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            TtsError::ProgramNotFound {
                program: program.to_owned(),
                source,
            }
        } else {
            TtsError::Spawn {
                program: program.to_owned(),
                source,
            }
        }
    })?;
    let pid = child.id();
    tracing::debug!(program, pid, "TTS program started");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let io_error = |source| TtsError::Io {
        program: program.to_owned(),
        source,
    };

    let work = async {
        let feed = async {
            if let (Some(mut pipe), Some(data)) = (stdin, spec.stdin) {
                match pipe.write_all(data).await {
                    // The program may exit without reading its input (`cp`, a crash).
                    Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
                    other => other?,
                }
                pipe.shutdown().await.or_else(|error| {
                    if error.kind() == io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(error)
                    }
                })?;
            }
            Ok::<(), io::Error>(())
        };
        let (fed, out, err) = tokio::join!(
            feed,
            read_capped(stdout, spec.max_stdout, false),
            read_capped(stderr, STDERR_KEEP, true),
        );
        fed.map_err(io_error)?;
        let (stdout, overflow) = out.map_err(io_error)?;
        if overflow {
            return Err(TtsError::OutputTooLarge {
                program: program.to_owned(),
                limit: spec.max_stdout,
            });
        }
        let (stderr, _) = err.map_err(io_error)?;
        let status = child.wait().await.map_err(io_error)?;
        Ok(Output {
            status,
            stdout,
            stderr: String::from_utf8_lossy(&stderr).trim().to_owned(),
        })
    };

    let result = match tokio::time::timeout(spec.timeout, work).await {
        Ok(result) => result,
        Err(_elapsed) => {
            tracing::warn!(program, pid, timeout = ?spec.timeout, "TTS program timed out; killing it");
            Err(TtsError::Timeout {
                program: program.to_owned(),
                timeout: spec.timeout,
                pid,
            })
        }
    };
    if result.is_err() {
        // Kill and reap whatever is left, so no process outlives the error.
        if let Ok(None) = child.try_wait() {
            let _ = child.start_kill();
            if tokio::time::timeout(REAP_WAIT, child.wait()).await.is_err() {
                tracing::warn!(program, pid, "killed TTS program was not reaped in time");
            }
        }
    }
    result
}

/// Finds `program` like the OS would: a path with a directory is taken as is, a
/// bare name is looked up in `PATH`, then in `extra` directories (where installers
/// put it although daemons often lack it in `PATH`).
pub(crate) fn find_program(program: &OsStr, extra: &[&str]) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.components().count() != 1 || path.is_absolute() {
        return is_executable(path).then(|| path.to_path_buf());
    }
    let dirs = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(extra.iter().map(PathBuf::from))
        .flat_map(|dir| candidates(&dir, path))
        .find(|candidate| is_executable(candidate))
}

fn candidates(dir: &Path, name: &Path) -> Vec<PathBuf> {
    let plain = dir.join(name);
    if cfg!(windows) && name.extension().is_none() {
        let mut all: Vec<PathBuf> = ["exe", "com", "cmd", "bat"]
            .iter()
            .map(|ext| plain.with_extension(ext))
            .collect();
        all.push(plain);
        all
    } else {
        vec![plain]
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn spec<'a>(program: &'a Path, args: &[&str], stdin: Option<&'a [u8]>) -> Run<'a> {
        Run {
            display: "test",
            program,
            args: args.iter().map(OsString::from).collect(),
            stdin,
            timeout: Duration::from_secs(20),
            max_stdout: 1024,
        }
    }

    #[test]
    fn finds_programs() {
        assert!(find_program(OsStr::new("sh"), &[]).is_some());
        assert!(find_program(OsStr::new("/bin/sh"), &[]).is_some());
        assert!(find_program(OsStr::new("roadie-no-such-program-xyz"), &[]).is_none());
        assert!(find_program(OsStr::new("/nonexistent/dir/espeak-ng"), &[]).is_none());
        // A directory is not a program.
        assert!(find_program(OsStr::new("/tmp"), &[]).is_none());
    }

    #[tokio::test]
    async fn stdin_in_stdout_out() {
        let cat = find_program(OsStr::new("cat"), &[]).unwrap();
        let out = run(spec(&cat, &[], Some(b"a; rm -rf / $(id)")))
            .await
            .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"a; rm -rf / $(id)");
    }

    #[tokio::test]
    async fn too_much_output_kills() {
        let yes = find_program(OsStr::new("yes"), &[]).unwrap();
        let err = run(spec(&yes, &[], None)).await.unwrap_err();
        assert!(
            matches!(err, TtsError::OutputTooLarge { limit: 1024, .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn failures_keep_stderr() {
        let ls = find_program(OsStr::new("ls"), &[]).unwrap();
        let out = run(spec(&ls, &["/nonexistent-roadie-path"], None))
            .await
            .unwrap();
        let err = out.success("ls").unwrap_err();
        match err {
            TtsError::Failed { stderr, .. } => assert!(stderr.contains("nonexistent-roadie-path")),
            other => panic!("{other}"),
        }
        let missing = Path::new("/nonexistent/roadie-prog");
        let err = run(spec(missing, &[], None)).await.unwrap_err();
        assert!(matches!(err, TtsError::ProgramNotFound { .. }), "{err}");
    }
}
