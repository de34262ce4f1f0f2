//! Scripts in the daemon: `roadie scripts test` runs a script once in the sandbox,
//! on a blocking thread, with a recording host (nothing it asks for takes effect).

use roadie_protocol::{ScriptTest, ScriptTestResult};
use roadie_scripts::{HostCall, Limits, ObsCall, RecordingHost, ScriptInput, ScriptUser};

use super::{Automation, AutomationError};

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
