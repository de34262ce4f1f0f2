//! Scripts in the daemon: `roadie scripts test` runs a script once in the sandbox,
//! on a blocking thread, with a recording host (nothing it asks for takes effect);
//! action steps run scripts from files with the daemon's host.

use roadie_core::{EventKind, Platform, User};
use roadie_protocol::{ScriptTest, ScriptTestResult};
use roadie_scripts::{Host, HostCall, Limits, ObsCall, RecordingHost, ScriptInput, ScriptUser};
use roadie_store::PointsChange;

use super::{Automation, AutomationError, random_between, wall_now};

fn describe(call: &HostCall) -> String {
    match call {
        HostCall::PointsGet { login } => {
            format!("points.get({})", login.as_deref().unwrap_or("caller"))
        }
        HostCall::PointsAdd { login, delta } => {
            format!(
                "points.add({}, {delta})",
                login.as_deref().unwrap_or("caller")
            )
        }
        HostCall::Random { low, high } => format!("random({low}, {high})"),
        HostCall::Obs(ObsCall::Scene { scene }) => format!("obs.scene({scene:?})"),
        HostCall::Obs(other) => format!("obs: {other:?}"),
        HostCall::TtsSay { text } => format!("tts.say({text:?})"),
    }
}

impl Automation {
    /// Runs `request.source` once in the sandbox with the default limits.
    pub async fn test_script(
        &self,
        request: ScriptTest,
    ) -> Result<ScriptTestResult, AutomationError> {
        let login = request.user.unwrap_or_else(|| "viewer".into());
        let input = ScriptInput {
            script_name: "test".into(),
            user: ScriptUser {
                id: format!("test:{login}"),
                login: login.clone(),
                name: login.clone(),
                platform: "twitch".into(),
                roles: Vec::new(),
            },
            args: request.args,
            vars: serde_json::Map::new(),
        };
        let source = request.source;
        let started = std::time::Instant::now();
        let (outcome, calls) = tokio::task::spawn_blocking(move || {
            let mut host = RecordingHost::new(login);
            let outcome = roadie_scripts::run(&source, input, &mut host, &Limits::default());
            (outcome, host.calls)
        })
        .await
        .map_err(|error| AutomationError::BadRequest(format!("the sandbox failed: {error}")))?;
        let calls = calls.iter().map(describe).collect();
        Ok(match outcome {
            Ok(output) => ScriptTestResult {
                ok: true,
                replies: output.replies,
                logs: output.logs,
                error: None,
                calls,
                elapsed_ms: output.elapsed.as_secs_f64() * 1000.0,
            },
            Err(error) => ScriptTestResult {
                ok: false,
                replies: Vec::new(),
                logs: Vec::new(),
                error: Some(error.to_string()),
                calls,
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            },
        })
    }
}

/// The host for scripts run by actions: points through the ledger, OBS and TTS not
/// available yet. Runs on the blocking thread that runs the script; reaches the
/// async services through the runtime handle.
struct DaemonHost {
    automation: Automation,
    handle: tokio::runtime::Handle,
    platform: Platform,
    caller: Option<User>,
    /// Points changes made, to report as `points.changed` after the run.
    changes: Vec<(Platform, User, i64, i64)>,
}

impl DaemonHost {
    fn account(&self, login: Option<&str>) -> Result<(Platform, User), String> {
        match login {
            None => match (&self.caller, self.platform) {
                (Some(user), platform) if platform != Platform::Roadie => {
                    Ok((platform, user.clone()))
                }
                _ => Err("this run has no viewer; name one: points.get(\"login\")".into()),
            },
            Some(login) => {
                let rows = self
                    .handle
                    .block_on(self.automation.resolve_viewer(login))
                    .map_err(|error| error.to_string())?;
                let row = &rows[0];
                Ok((
                    row.platform,
                    User {
                        id: row.user_id.clone(),
                        login: row.login.clone(),
                        name: row.name.clone(),
                        roles: Vec::new(),
                    },
                ))
            }
        }
    }
}

impl Host for DaemonHost {
    fn points_get(&mut self, login: Option<&str>) -> Result<i64, String> {
        let (platform, user) = self.account(login)?;
        self.handle
            .block_on(self.automation.inner.store.balance(platform, user.id))
            .map(|balance| balance.unwrap_or(0))
            .map_err(|error| error.to_string())
    }

    fn points_add(&mut self, login: Option<&str>, delta: i64) -> Result<i64, String> {
        let (platform, user) = self.account(login)?;
        let change = PointsChange {
            platform,
            user_id: user.id.clone(),
            login: user.login.clone(),
            name: user.name.clone(),
            delta,
            reason: "script".into(),
            at_ms: wall_now().unix_ms(),
            source_key: None,
            allow_negative_balance: false,
        };
        let applied = self
            .handle
            .block_on(self.automation.inner.store.apply_points(vec![change]))
            .map_err(|error| error.to_string())?;
        match applied.into_iter().next() {
            Some(Ok(balance)) => {
                self.changes.push((platform, user, delta, balance));
                Ok(balance)
            }
            Some(Err(refused)) => Err(refused.to_string()),
            None => Err("the points change was not applied".into()),
        }
    }

    fn random(&mut self, low: i64, high: i64) -> i64 {
        random_between(low, high)
    }

    fn obs(&mut self, call: ObsCall) -> Result<(), String> {
        let obs = &self.automation.inner.obs;
        let done = match call {
            ObsCall::Scene { scene } => self.handle.block_on(obs.set_scene(&scene)),
            ObsCall::Source {
                scene,
                source,
                visibility,
            } => {
                let state = match visibility {
                    roadie_scripts::Visibility::On => roadie_obs::SourceState::On,
                    roadie_scripts::Visibility::Off => roadie_obs::SourceState::Off,
                    roadie_scripts::Visibility::Toggle => roadie_obs::SourceState::Toggle,
                };
                self.handle
                    .block_on(obs.set_source(&scene, &source, state))
                    .map(|_| ())
            }
            ObsCall::Text { source, text } => self.handle.block_on(obs.set_text(&source, &text)),
        };
        done.map_err(|error| error.to_string())
    }

    fn tts_say(&mut self, text: &str) -> Result<(), String> {
        // Spoken for the viewer who started the script (their voice and rate limit).
        let speaker = self
            .caller
            .as_ref()
            .filter(|_| self.platform != Platform::Roadie)
            .map(|user| roadie_tts::Speaker {
                platform: self.platform,
                id: user.id.clone(),
                login: user.login.clone(),
            });
        let events = self
            .handle
            .block_on(self.automation.inner.tts.say(speaker, text, None));
        super::actions::refused(&events)
    }
}

impl Automation {
    /// Where an action's `script = "name"` is looked for: `<data-dir>/scripts/name`
    /// (`.js` added when the name has no extension), or an absolute path.
    fn script_path(&self, name: &str) -> std::path::PathBuf {
        let path = std::path::Path::new(name);
        if path.is_absolute() {
            return path.to_path_buf();
        }
        let mut path = self.inner.scripts_dir.join(name);
        if path.extension().is_none() {
            path.set_extension("js");
        }
        path
    }

    /// Runs a script step: the viewer and input from the trigger, the variables the
    /// script kept last time; replies go to chat, variables are saved.
    pub(super) async fn run_script_step(
        &self,
        script: &str,
        platform: Platform,
        user: Option<User>,
        input: Option<String>,
    ) -> Result<(), String> {
        let path = self.script_path(script);
        let reading = path.clone();
        let source = tokio::task::spawn_blocking(move || std::fs::read_to_string(reading))
            .await
            .map_err(|error| error.to_string())?
            .map_err(|error| format!("cannot read script {}: {error}", path.display()))?;
        let store = &self.inner.store;
        let vars = store
            .script(script.to_owned())
            .await
            .map_err(|error| error.to_string())?
            .and_then(|stored| serde_json::from_str(&stored.vars).ok())
            .unwrap_or_default();
        let script_user = user
            .as_ref()
            .map(|user| ScriptUser {
                id: user.id.clone(),
                login: user.login.clone(),
                name: user.name.clone(),
                platform: platform.as_str().to_owned(),
                roles: user
                    .roles
                    .iter()
                    .map(|role| role.as_str().to_owned())
                    .collect(),
            })
            .unwrap_or_default();
        let input = ScriptInput {
            script_name: script.to_owned(),
            user: script_user,
            args: input
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            vars,
        };
        let mut host = DaemonHost {
            automation: self.clone(),
            handle: tokio::runtime::Handle::current(),
            platform,
            caller: user,
            changes: Vec::new(),
        };
        let code = source.clone();
        let (outcome, host) = tokio::task::spawn_blocking(move || {
            let outcome = roadie_scripts::run(&code, input, &mut host, &Limits::default());
            (outcome, host)
        })
        .await
        .map_err(|error| format!("the sandbox failed: {error}"))?;
        for (platform, user, delta, balance) in host.changes {
            self.publish(
                EventKind::PointsChanged {
                    user,
                    delta,
                    balance,
                    reason: "script".into(),
                },
                platform,
            )
            .await;
        }
        let output = outcome.map_err(|error| error.to_string())?;
        let vars = serde_json::Value::Object(output.vars).to_string();
        store
            .upsert_script(script.to_owned(), source)
            .await
            .and(
                store
                    .set_script_vars(script.to_owned(), vars)
                    .await
                    .map(|_| ()),
            )
            .map_err(|error| format!("could not save the script's variables: {error}"))?;
        if !output.replies.is_empty() {
            let platforms = self
                .platforms()
                .ok_or("no platform is connected to send the script's replies to")?;
            let target = (platform != Platform::Roadie).then_some(platform);
            for reply in output.replies {
                platforms
                    .send_chat(target, &reply)
                    .await
                    .map_err(|error| error.to_string())?;
            }
        }
        Ok(())
    }
}
