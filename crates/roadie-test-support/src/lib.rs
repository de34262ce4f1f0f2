//! Test support: a hermetic environment for running the real `roadie` binary
//! (temporary HOME, config and data directories, a cleared environment, an
//! ephemeral port) and handles on the daemons it starts.
//!
//! And fake servers, each speaking its real wire protocol on 127.0.0.1:0 and built
//! from real captured payloads: `fake_eventsub` (Twitch EventSub WebSocket),
//! `fake_helix` (Twitch's API), `fake_oauth` (an OAuth provider with Twitch's endpoints
//! and error bodies) and `fake_obs` (obs-websocket v5). Kick and YouTube fakes come
//! with their adapters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fake_eventsub;
pub mod fake_helix;
pub mod fake_kick;
pub mod fake_oauth;
pub mod fake_obs;
pub mod fake_twitch;
pub mod fake_youtube;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A private HOME, config file location and data directory for one test.
#[derive(Debug)]
pub struct TestEnv {
    root: tempfile::TempDir,
    exe: PathBuf,
    env: Vec<(String, String)>,
}

impl TestEnv {
    /// A new environment running the binary at `exe` (use `env!("CARGO_BIN_EXE_roadie")`).
    ///
    /// Defaults: listen on `127.0.0.1:0`, the encrypted-file keystore (so tests never
    /// touch the developer's keychain), no config file.
    pub fn new(exe: impl Into<PathBuf>) -> TestEnv {
        let root = tempfile::tempdir().unwrap();
        let path = |name: &str| root.path().join(name).display().to_string();
        let mut env = vec![
            ("HOME".to_owned(), path("home")),
            ("XDG_CONFIG_HOME".to_owned(), path("config")),
            ("XDG_DATA_HOME".to_owned(), path("share")),
            ("ROADIE_DATA_DIR".to_owned(), path("data")),
            ("ROADIE_SERVER__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("ROADIE_KEYSTORE__BACKEND".to_owned(), "file".to_owned()),
        ];
        if let Ok(system_path) = std::env::var("PATH") {
            env.push(("PATH".to_owned(), system_path));
        }
        TestEnv {
            root,
            exe: exe.into(),
            env,
        }
    }

    /// The temporary root.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The data directory the daemon uses.
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The default config file location (`$XDG_CONFIG_HOME/roadie/config.toml`).
    pub fn config_path(&self) -> PathBuf {
        self.root
            .path()
            .join("config")
            .join("roadie")
            .join("config.toml")
    }

    /// Writes the default config file.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Sets (or replaces) an environment variable for every command run here.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Removes an environment variable.
    pub fn remove_env(&mut self, name: &str) {
        self.env.retain(|(existing, _)| existing != name);
    }

    /// A command for the binary with this environment and nothing else.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs a client command to completion, feeding `stdin` if given.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                // The command may exit before reading (a usage error): a broken pipe is fine.
                let _ = input.write_all(text.as_bytes());
            }
        }
        wait_output(child, Duration::from_secs(60))
    }

    /// Starts `roadie daemon` and waits until it answers health.
    pub fn spawn_daemon(&self) -> RunningDaemon {
        self.spawn_daemon_with(&[])
    }

    /// Starts `roadie daemon` with extra arguments and waits until it answers health.
    pub fn spawn_daemon_with(&self, extra_args: &[&str]) -> RunningDaemon {
        let runtime_file = self.data_dir().join("daemon.json");
        let _ = std::fs::remove_file(&runtime_file);
        let stderr_path = self.root.path().join(format!("daemon-{}.stderr", unique()));
        let mut args = vec!["daemon"];
        args.extend_from_slice(extra_args);
        let child = self
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let mut daemon = RunningDaemon {
            child,
            address: String::new(),
            token: String::new(),
            stderr_path,
            data_dir: self.data_dir(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("the daemon exited early ({status}):\n{}", daemon.stderr());
            }
            if let Some(address) = read_listen(&runtime_file)
                && health_ok(&address)
            {
                daemon.address = address;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not become healthy:\n{}",
                daemon.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        daemon.token = std::fs::read_to_string(self.data_dir().join("api-token"))
            .unwrap()
            .trim()
            .to_owned();
        daemon
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn read_listen(runtime_file: &Path) -> Option<String> {
    let bytes = std::fs::read(runtime_file).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("listen")?.as_str().map(str::to_owned)
}

fn health_ok(address: &str) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /api/v1/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Waits for a child with a time limit, killing it if the limit passes.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "command did not finish in {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A daemon started by [`TestEnv::spawn_daemon`]; killed when dropped.
#[derive(Debug)]
pub struct RunningDaemon {
    child: Child,
    address: String,
    token: String,
    stderr_path: PathBuf,
    data_dir: PathBuf,
}

impl RunningDaemon {
    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The API token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `limit` for the exit.
    pub fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        signal(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[allow(unsafe_code)]
fn signal(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with our own child's pid; no memory is involved.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Serves `app` on 127.0.0.1 at an ephemeral port until the handle is aborted.
pub(crate) async fn serve_on_loopback(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|error| panic!("bind: {error}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|error| panic!("address: {error}"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (address, server)
}

/// The query parameters of a request (`RawQuery`), decoded.
pub(crate) fn query_pairs(query: Option<String>) -> std::collections::HashMap<String, String> {
    query
        .and_then(|query| reqwest::Url::parse(&format!("http://x/?{query}")).ok())
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}
