//! Actions in the daemon: triggered by platform events or run by name, queued per
//! action by its concurrency policy, their steps run in order with a time limit each,
//! `action.ran` reported, and a Twitch redemption fulfilled when its action succeeded
//! or cancelled (refunded) when it failed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use roadie_automation::action::{Admission, RunId, RunQueue};
use roadie_automation::document::{self, Document};
use roadie_automation::{ActionDef, FollowAge, OnError, Step, TriggerContext};
use roadie_core::{EventKind, Platform, RedemptionStatus, StepOutcome, User};
use roadie_protocol::{ActionInfo, ActionRunResult, ActionStepResult, ImportSummary};
use roadie_store::{PointsChange, StoredAction};
use tokio::sync::oneshot;

use super::commands::{CommandsError, problems};
use super::points::PointsApiError;
use super::{Automation, AutomationError, Snapshot, lock, wall_now};

/// A step that talks to a service (chat, the database) gives up after this long.
const STEP_LIMIT: Duration = Duration::from_secs(15);

/// The actions and their run queues.
#[derive(Debug, Default)]
pub(super) struct Actions {
    defs: Vec<ActionDef>,
    queues: HashMap<String, RunQueue>,
    waiting: HashMap<RunId, oneshot::Sender<()>>,
    next_run: u64,
}

impl Actions {
    /// No action is defined (nothing to match events against).
    pub(super) fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

/// A redemption to fulfil or cancel when the run ends.
#[derive(Debug, Clone)]
struct Redemption {
    platform: Platform,
    reward_id: String,
    redemption_id: String,
}

/// Stored form: the action as a one-action config document, so storage and
/// import share one parser and one set of checks.
fn stored(def: &ActionDef) -> StoredAction {
    let toml = document::render(&Document {
        commands: Vec::new(),
        timers: Vec::new(),
        actions: vec![def.clone()],
    });
    StoredAction {
        name: def.name.as_str().to_owned(),
        definition: serde_json::json!({ "toml": toml }).to_string(),
        enabled: def.enabled,
    }
}

fn definition(action: &StoredAction) -> Result<ActionDef, String> {
    let value: serde_json::Value =
        serde_json::from_str(&action.definition).map_err(|error| error.to_string())?;
    let toml = value["toml"]
        .as_str()
        .ok_or("no `toml` in the stored action")?;
    let parsed = document::parse(toml).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    parsed
        .actions
        .into_iter()
        .next()
        .ok_or_else(|| "the stored document has no action".to_owned())
}

pub(super) async fn load(store: &roadie_store::Store) -> Actions {
    let mut actions = Actions::default();
    match store.actions().await {
        Ok(stored) => {
            for action in stored {
                match definition(&action) {
                    Ok(def) => actions.defs.push(def),
                    Err(error) => {
                        tracing::warn!(action = %action.name, %error, "a stored action was skipped");
                    }
                }
            }
        }
        Err(error) => tracing::error!(%error, "could not read the actions; none will run"),
    }
    actions
}

/// An error when the TTS queue refused the text.
pub(super) fn refused(events: &[roadie_tts::TtsEvent]) -> Result<(), String> {
    match events.iter().find_map(|event| match event {
        roadie_tts::TtsEvent::Refused { reason, .. } => Some(reason.to_string()),
        _ => None,
    }) {
        Some(reason) => Err(format!("text to speech refused it: {reason}")),
        None => Ok(()),
    }
}

fn obs_source_state(state: roadie_automation::action::SourceState) -> roadie_obs::SourceState {
    use roadie_automation::action::SourceState as Step;
    match state {
        Step::On => roadie_obs::SourceState::On,
        Step::Off => roadie_obs::SourceState::Off,
        Step::Toggle => roadie_obs::SourceState::Toggle,
    }
}

fn obs_media_action(action: roadie_automation::action::MediaAction) -> roadie_obs::MediaAction {
    use roadie_automation::action::MediaAction as Step;
    match action {
        Step::Play => roadie_obs::MediaAction::Play,
        Step::Pause => roadie_obs::MediaAction::Pause,
        Step::Restart => roadie_obs::MediaAction::Restart,
        Step::Stop => roadie_obs::MediaAction::Stop,
    }
}

fn info(def: &ActionDef) -> ActionInfo {
    ActionInfo {
        name: def.name.as_str().to_owned(),
        enabled: def.enabled,
        steps: def
            .steps
            .iter()
            .map(|step| step.kind().to_owned())
            .collect(),
        triggers: def
            .triggers
            .iter()
            .map(|trigger| trigger.kind.kind().to_owned())
            .collect(),
    }
}

impl Automation {
    /// Every action.
    pub fn list_actions(&self) -> Vec<ActionInfo> {
        let actions = lock(&self.inner.actions);
        let mut listed: Vec<ActionInfo> = actions.defs.iter().map(info).collect();
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        listed
    }

    /// The actions as a TOML document.
    pub fn export_actions(&self) -> String {
        let actions = lock(&self.inner.actions).defs.clone();
        document::render(&Document {
            commands: Vec::new(),
            timers: Vec::new(),
            actions,
        })
    }

    /// Replaces every action with the document's (commands and timers are kept); the
    /// whole document is checked first and nothing changes when it has a problem.
    pub async fn import_actions(&self, text: &str) -> Result<ImportSummary, CommandsError> {
        let parsed = document::parse(text).map_err(problems)?;
        if !parsed.commands.is_empty() || !parsed.timers.is_empty() {
            return Err(CommandsError::Other(AutomationError::BadRequest(
                "this document has [[commands]] or [[timers]]: import it with `roadie commands import`"
                    .into(),
            )));
        }
        let store = &self.inner.store;
        let commands = store.commands().await.map_err(AutomationError::from)?;
        let timers = store.timers().await.map_err(AutomationError::from)?;
        let summary = ImportSummary {
            commands: commands.len(),
            timers: timers.len(),
            actions: parsed.actions.len(),
        };
        let stored_actions = parsed.actions.iter().map(stored).collect();
        store
            .replace_automation(commands, timers, stored_actions)
            .await
            .map_err(AutomationError::from)?;
        lock(&self.inner.actions).defs = parsed.actions;
        Ok(summary)
    }

    /// Runs an action by name (API, CLI, Stream Deck) and waits for it to finish.
    pub async fn run_action_by_name(
        &self,
        name: &str,
        user: Option<String>,
        input: Option<String>,
    ) -> Result<ActionRunResult, AutomationError> {
        let def = lock(&self.inner.actions)
            .defs
            .iter()
            .find(|def| def.name.as_str() == name.trim().to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| AutomationError::NotFound(format!("there is no action {name:?}")))?;
        let (platform, user) = match user {
            Some(name) => {
                let rows = self
                    .resolve_viewer(&name)
                    .await
                    .map_err(|error| match error {
                        PointsApiError::UnknownViewer(_) => {
                            AutomationError::NotFound(error.to_string())
                        }
                        PointsApiError::Store(error) => AutomationError::Store(error),
                        other => AutomationError::BadRequest(other.to_string()),
                    })?;
                let row = &rows[0];
                let user = User {
                    id: row.user_id.clone(),
                    login: row.login.clone(),
                    name: row.name.clone(),
                    roles: Vec::new(),
                };
                (row.platform, Some(user))
            }
            None => (Platform::Roadie, None),
        };
        let context = TriggerContext::manual(user, input);
        let steps = self.run_action(def, platform, context, "api", None).await?;
        Ok(ActionRunResult {
            ok: steps.iter().all(|step| step.error.is_none()),
            steps: steps
                .into_iter()
                .map(|step| ActionStepResult {
                    index: step.index,
                    kind: step.kind,
                    error: step.error,
                    elapsed_ms: step.elapsed_ms,
                })
                .collect(),
        })
    }

    /// Starts every action a platform event triggers, each in its own task.
    pub(super) fn trigger_actions(&self, platform: Platform, kind: &EventKind) {
        let triggered: Vec<(ActionDef, TriggerContext)> = {
            let actions = lock(&self.inner.actions);
            roadie_automation::action::triggered(&actions.defs, platform, kind)
                .into_iter()
                .map(|(def, context)| (def.clone(), context))
                .collect()
        };
        let redemption = match kind {
            EventKind::Redemption {
                redemption_id,
                reward,
                status: RedemptionStatus::Unfulfilled,
                ..
            } if matches!(platform, Platform::Twitch | Platform::Kick) => Some(Redemption {
                platform,
                reward_id: reward.id.clone(),
                redemption_id: redemption_id.clone(),
            }),
            _ => None,
        };
        let trigger = kind.type_name();
        for (def, context) in triggered {
            let automation = self.clone();
            let redemption = redemption.clone();
            tokio::spawn(async move {
                if let Err(error) = automation
                    .run_action(def, platform, context, trigger, redemption)
                    .await
                {
                    tracing::warn!(%error, "an action did not run");
                }
            });
        }
    }

    /// Admits a run by the action's policy, runs its steps, reports `action.ran`, and
    /// settles a redemption. Returns the steps that ran.
    async fn run_action(
        &self,
        def: ActionDef,
        platform: Platform,
        context: TriggerContext,
        trigger: &str,
        redemption: Option<Redemption>,
    ) -> Result<Vec<StepOutcome>, AutomationError> {
        let name = def.name.as_str().to_owned();
        let (run, admission) = {
            let mut actions = lock(&self.inner.actions);
            actions.next_run += 1;
            let run = RunId(actions.next_run);
            let queue = actions
                .queues
                .entry(name.clone())
                .or_insert_with(|| RunQueue::new(def.concurrency));
            (run, queue.offer(run))
        };
        match admission {
            Admission::Start => {}
            Admission::Queued(_) => {
                let (ready, started) = oneshot::channel();
                lock(&self.inner.actions).waiting.insert(run, ready);
                let _ = started.await;
            }
            Admission::Refused(refusal) => {
                if let Some(redemption) = &redemption {
                    self.settle(redemption, false).await;
                }
                return Err(AutomationError::BadRequest(format!(
                    "action {name}: {refusal}"
                )));
            }
        }
        let steps = self.run_steps(&def, platform, &context, run).await;
        {
            let mut actions = lock(&self.inner.actions);
            let next = actions
                .queues
                .get_mut(&name)
                .and_then(|queue| queue.finished(run));
            if let Some(next) = next
                && let Some(ready) = actions.waiting.remove(&next)
            {
                let _ = ready.send(());
            }
        }
        let ok = steps.iter().all(|step| step.error.is_none());
        if let Some(redemption) = &redemption {
            self.settle(redemption, ok).await;
        }
        self.publish(
            EventKind::ActionRan {
                action: name,
                trigger: trigger.to_owned(),
                user: context.user.clone(),
                ok,
                steps: steps.clone(),
            },
            platform,
        )
        .await;
        Ok(steps)
    }

    async fn settle(&self, redemption: &Redemption, fulfilled: bool) {
        let Some(platforms) = self.platforms() else {
            return;
        };
        if let Err(error) = platforms
            .finish_redemption(
                redemption.platform,
                &redemption.reward_id,
                &redemption.redemption_id,
                fulfilled,
            )
            .await
        {
            tracing::warn!(%error, redemption = %redemption.redemption_id, fulfilled, "could not settle a redemption");
        }
    }

    async fn run_steps(
        &self,
        def: &ActionDef,
        platform: Platform,
        context: &TriggerContext,
        run: RunId,
    ) -> Vec<StepOutcome> {
        let mut outcomes = Vec::new();
        for (index, step) in def.steps.iter().enumerate() {
            let started = Instant::now();
            let result = match step {
                Step::Wait { duration } => {
                    tokio::time::sleep(*duration).await;
                    Ok(())
                }
                other => {
                    match tokio::time::timeout(
                        STEP_LIMIT,
                        self.run_step(def, other, platform, context, run, index),
                    )
                    .await
                    {
                        Ok(result) => result,
                        Err(_) => Err(format!(
                            "gave up after {} s without an answer",
                            STEP_LIMIT.as_secs()
                        )),
                    }
                }
            };
            let failed = result.is_err();
            outcomes.push(StepOutcome {
                index,
                kind: step.kind().to_owned(),
                error: result.err(),
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            });
            if failed && def.on_error == OnError::Stop {
                break;
            }
        }
        outcomes
    }

    async fn run_step(
        &self,
        def: &ActionDef,
        step: &Step,
        platform: Platform,
        context: &TriggerContext,
        run: RunId,
        index: usize,
    ) -> Result<(), String> {
        match step {
            Step::Chat { text } => {
                let snapshot = self.snapshot(platform, context.user.as_ref()).await;
                let text = def.render(text, platform, context, &snapshot);
                let platforms = self
                    .platforms()
                    .ok_or("no platform is connected to send chat to")?;
                let target = (platform != Platform::Roadie).then_some(platform);
                platforms
                    .send_chat(target, &text)
                    .await
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            }
            Step::Tts { text, voice } => {
                let snapshot = self.snapshot(platform, context.user.as_ref()).await;
                let text = def.render(text, platform, context, &snapshot);
                // Spoken for the viewer who triggered it (their voice and rate limit),
                // or as the streamer for runs without one.
                let speaker = context
                    .user
                    .as_ref()
                    .filter(|_| platform != Platform::Roadie)
                    .map(|user| roadie_tts::Speaker {
                        platform,
                        id: user.id.clone(),
                        login: user.login.clone(),
                    });
                let events = self.inner.tts.say(speaker, &text, voice.clone()).await;
                refused(&events)
            }
            Step::ObsScene { scene } => self
                .inner
                .obs
                .set_scene(scene)
                .await
                .map_err(|error| error.to_string()),
            Step::ObsSource {
                scene,
                source,
                state,
            } => self
                .inner
                .obs
                .set_source(scene, source, obs_source_state(*state))
                .await
                .map(|_| ())
                .map_err(|error| error.to_string()),
            Step::ObsText { source, text } => {
                let snapshot = self.snapshot(platform, context.user.as_ref()).await;
                let text = def.render(text, platform, context, &snapshot);
                self.inner
                    .obs
                    .set_text(source, &text)
                    .await
                    .map_err(|error| error.to_string())
            }
            Step::ObsMedia { source, action } => self
                .inner
                .obs
                .media(source, obs_media_action(*action))
                .await
                .map_err(|error| error.to_string()),
            Step::Points { delta, reason } => {
                let user = context
                    .user
                    .as_ref()
                    .ok_or("this run has no viewer to change points for")?;
                if platform == Platform::Roadie {
                    return Err("this run has no platform viewer".into());
                }
                let change = PointsChange {
                    platform,
                    user_id: user.id.clone(),
                    login: user.login.clone(),
                    name: user.name.clone(),
                    delta: *delta,
                    reason: reason.clone(),
                    at_ms: wall_now().unix_ms(),
                    source_key: Some(format!("action:{}:{}:{index}", def.name.as_str(), run.0)),
                    allow_negative_balance: false,
                };
                let applied = self
                    .inner
                    .store
                    .apply_points(vec![change])
                    .await
                    .map_err(|error| error.to_string())?;
                match applied.into_iter().next() {
                    Some(Ok(balance)) => {
                        self.publish(
                            EventKind::PointsChanged {
                                user: user.clone(),
                                delta: *delta,
                                balance,
                                reason: reason.clone(),
                            },
                            platform,
                        )
                        .await;
                        Ok(())
                    }
                    Some(Err(refused)) => Err(refused.to_string()),
                    None => Err("the points change was not applied".into()),
                }
            }
            Step::Script { script } => {
                self.run_script_step(
                    script,
                    platform,
                    context.user.clone(),
                    context.input.clone(),
                )
                .await
            }
            Step::Event { name, data } => {
                self.publish(
                    EventKind::Custom {
                        name: name.clone(),
                        data: data.clone(),
                    },
                    Platform::Roadie,
                )
                .await;
                Ok(())
            }
            Step::Wait { .. } => Ok(()),
        }
    }

    async fn snapshot(&self, platform: Platform, user: Option<&User>) -> Snapshot {
        let balance = match user {
            Some(user) if platform != Platform::Roadie => self
                .inner
                .store
                .balance(platform, user.id.clone())
                .await
                .ok()
                .flatten()
                .unwrap_or(0),
            _ => 0,
        };
        Snapshot {
            balance,
            uptime: self.uptime(platform),
            now: wall_now(),
            // Follow dates are looked up for chat commands only.
            followage: FollowAge::Unknown,
        }
    }
}
