//! Chat commands in the daemon: loading them from the database, answering them in
//! chat, managing them through the API, the dry run, and config-as-code export and
//! import of commands and timers.

use std::time::Duration;

use roadie_automation::builtin::{commands_reply, points_reply, uptime_reply};
use roadie_automation::document::{self, Document};
use roadie_automation::template::VariableSet;
use roadie_automation::{
    BuiltinCommand, CommandDef, CommandName, CommandSet, Dispatcher, FollowAge, Outcome, RoleGate,
    Template, Timer, TimerDef, Variable, parse_invocation,
};
use roadie_core::{EventKind, Platform, Role, User};
use roadie_protocol::{
    CommandInfo, CommandTest, CommandTestResult, CommandUpsert, DocumentProblem, ImportSummary,
};
use roadie_store::{Store, StoredCommand, StoredTimer};

use super::{Automation, AutomationError, Snapshot, lock, wall_now};

/// Why a command could not be added or imported.
#[derive(Debug, thiserror::Error)]
pub enum CommandsError {
    /// The document has problems, each with its place.
    #[error("the document has {} problem(s)", .0.len())]
    Document(Vec<DocumentProblem>),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] AutomationError),
}

/// The stored commands as a dispatcher with their counters; a stored command that no
/// longer parses is skipped with a warning.
pub(super) async fn load(store: &Store) -> Dispatcher {
    let stored = match store.commands().await {
        Ok(stored) => stored,
        Err(error) => {
            tracing::error!(%error, "could not read the chat commands; none will answer");
            return Dispatcher::default();
        }
    };
    let mut set = CommandSet::new();
    let mut counts = Vec::new();
    for command in stored {
        match definition(&command) {
            Ok(def) => {
                counts.push((def.name.clone(), command.uses));
                if let Err(error) = set.insert(def) {
                    tracing::warn!(command = %command.name, %error, "a stored command was skipped");
                }
            }
            Err(error) => {
                tracing::warn!(command = %command.name, %error, "a stored command was skipped");
            }
        }
    }
    let mut dispatcher = Dispatcher::new(set);
    for (name, count) in counts {
        dispatcher.set_count(&name, count);
    }
    dispatcher
}

fn definition(command: &StoredCommand) -> Result<CommandDef, String> {
    let name = CommandName::parse(&command.name).map_err(|error| error.to_string())?;
    let template = Template::parse_for(&command.template, VariableSet::Command)
        .map_err(|error| error.to_string())?;
    let mut def = CommandDef::new(name, template);
    for alias in &command.aliases {
        def.aliases
            .push(CommandName::parse(alias).map_err(|error| error.to_string())?);
    }
    def.global_cooldown = Duration::from_millis(command.global_cooldown_ms);
    def.user_cooldown = Duration::from_millis(command.user_cooldown_ms);
    def.gate = command
        .role
        .parse::<RoleGate>()
        .map_err(|error| error.to_string())?;
    def.platforms = command.platforms.clone();
    def.enabled = command.enabled;
    Ok(def)
}

fn stored(def: &CommandDef, uses: u64) -> StoredCommand {
    StoredCommand {
        name: def.name.as_str().to_owned(),
        aliases: def
            .aliases
            .iter()
            .map(|alias| alias.as_str().to_owned())
            .collect(),
        template: def.template.source().to_owned(),
        global_cooldown_ms: millis(def.global_cooldown),
        user_cooldown_ms: millis(def.user_cooldown),
        role: def.gate.as_str().to_owned(),
        platforms: def.platforms.clone(),
        enabled: def.enabled,
        uses,
    }
}

fn stored_timer(def: &TimerDef) -> StoredTimer {
    StoredTimer {
        name: def.name.clone(),
        interval_s: def.interval.as_secs().max(1),
        min_lines: def.min_lines,
        message: def.message.source().to_owned(),
        enabled: def.enabled,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn info(def: &CommandDef, count: u64) -> CommandInfo {
    CommandInfo {
        name: def.name.as_str().to_owned(),
        aliases: def
            .aliases
            .iter()
            .map(|alias| alias.as_str().to_owned())
            .collect(),
        template: def.template.source().to_owned(),
        cooldown: def.global_cooldown.as_secs(),
        user_cooldown: def.user_cooldown.as_secs(),
        role: def.gate.as_str().to_owned(),
        platforms: def
            .platforms
            .iter()
            .map(|platform| platform.as_str().to_owned())
            .collect(),
        enabled: def.enabled,
        count,
    }
}

fn bad(message: impl Into<String>) -> AutomationError {
    AutomationError::BadRequest(message.into())
}

fn parse_platform(text: &str) -> Result<Platform, AutomationError> {
    text.parse::<Platform>()
        .ok()
        .filter(|platform| *platform != Platform::Roadie)
        .ok_or_else(|| {
            bad(format!(
                "{text:?} is not a platform: use twitch, kick or youtube"
            ))
        })
}

pub(super) fn problems(errors: Vec<document::DocumentError>) -> CommandsError {
    CommandsError::Document(
        errors
            .into_iter()
            .map(|error| DocumentProblem {
                line: error.line,
                column: error.column,
                path: error.path.clone(),
                message: error.message.clone(),
            })
            .collect(),
    )
}

/// A made-up viewer for the dry run.
fn test_user(login: &str, role: RoleGate) -> User {
    let roles = match role {
        RoleGate::Everyone => vec![],
        RoleGate::Subscriber => vec![Role::Subscriber],
        RoleGate::Vip => vec![Role::Vip],
        RoleGate::Moderator => vec![Role::Moderator],
        RoleGate::Broadcaster => vec![Role::Broadcaster],
    };
    User {
        id: format!("test:{login}"),
        login: login.to_owned(),
        name: login.to_owned(),
        roles,
    }
}

impl Automation {
    /// Every command with its counter, by name.
    pub fn list_commands(&self) -> Vec<CommandInfo> {
        let dispatcher = lock(&self.inner.dispatcher);
        let mut listed: Vec<CommandInfo> = dispatcher
            .commands()
            .iter()
            .map(|def| info(def, dispatcher.count(def.name.as_str())))
            .collect();
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        listed
    }

    /// Adds a command or replaces the one with that name (its counter is kept).
    pub async fn upsert_command(
        &self,
        request: CommandUpsert,
    ) -> Result<CommandInfo, AutomationError> {
        let name = CommandName::parse(&request.name).map_err(|error| bad(error.to_string()))?;
        let template = Template::parse_for(&request.template, VariableSet::Command)
            .map_err(|error| bad(format!("template: {error}")))?;
        let mut def = CommandDef::new(name, template);
        for alias in &request.aliases {
            def.aliases
                .push(CommandName::parse(alias).map_err(|error| bad(format!("alias: {error}")))?);
        }
        def.global_cooldown = Duration::from_secs(request.cooldown);
        def.user_cooldown = Duration::from_secs(request.user_cooldown);
        if let Some(role) = &request.role {
            def.gate = role
                .parse::<RoleGate>()
                .map_err(|error| bad(error.to_string()))?;
        }
        def.platforms = request
            .platforms
            .iter()
            .map(|platform| parse_platform(platform))
            .collect::<Result<_, _>>()?;
        def.enabled = request.enabled.unwrap_or(true);
        // Check against the other commands before storing anything.
        let count = {
            let dispatcher = lock(&self.inner.dispatcher);
            let mut trial = dispatcher.commands().clone();
            trial
                .upsert(def.clone())
                .map_err(|error| bad(error.to_string()))?;
            dispatcher.count(def.name.as_str())
        };
        self.inner.store.upsert_command(stored(&def, count)).await?;
        let mut dispatcher = lock(&self.inner.dispatcher);
        dispatcher
            .commands_mut()
            .upsert(def.clone())
            .map_err(|error| bad(error.to_string()))?;
        Ok(info(&def, dispatcher.count(def.name.as_str())))
    }

    /// Removes a command; false when there was none.
    pub async fn remove_command(&self, name: &str) -> Result<bool, AutomationError> {
        let name = CommandName::parse(name).map_err(|error| bad(error.to_string()))?;
        let removed = self
            .inner
            .store
            .remove_command(name.as_str().to_owned())
            .await?;
        let known = lock(&self.inner.dispatcher)
            .remove_command(name.as_str())
            .is_some();
        Ok(removed || known)
    }

    /// What Roadie would answer to a chat line; nothing is sent, counted or cooled.
    pub async fn test_command(
        &self,
        request: CommandTest,
    ) -> Result<CommandTestResult, AutomationError> {
        let platform = parse_platform(request.platform.as_deref().unwrap_or("twitch"))?;
        let role = request
            .role
            .as_deref()
            .unwrap_or("everyone")
            .parse::<RoleGate>()
            .map_err(|error| bad(error.to_string()))?;
        let login = request.user.unwrap_or_else(|| "viewer".into());
        let user = test_user(&login, role);
        let balance = match self.resolve_viewer(&format!("{platform}:{login}")).await {
            Ok(rows) => self
                .inner
                .store
                .balance(rows[0].platform, rows[0].user_id.clone())
                .await?
                .unwrap_or(0),
            Err(_) => 0,
        };
        let snapshot = Snapshot {
            balance,
            uptime: self.uptime(platform),
            now: wall_now(),
            followage: FollowAge::Unknown,
        };
        let outcome = lock(&self.inner.dispatcher).preview(
            &request.line,
            &user,
            platform,
            self.monotonic_now(),
            &snapshot,
        );
        let result = |outcome: &str, command: Option<String>, reply, detail: Option<String>| {
            CommandTestResult {
                outcome: outcome.into(),
                command,
                reply,
                detail,
            }
        };
        Ok(match outcome {
            Outcome::Reply { command, text, .. } => {
                result("reply", Some(command.as_str().into()), Some(text), None)
            }
            Outcome::Builtin { builtin, .. } => {
                let reply = self.builtin_reply(builtin, &user, platform, balance);
                result("reply", Some(builtin.name().into()), Some(reply), None)
            }
            Outcome::NotACommand => result(
                "not_a_command",
                None,
                None,
                Some("the line does not start with !".into()),
            ),
            Outcome::Unknown => result(
                "unknown",
                None,
                None,
                Some("no command has that name or alias".into()),
            ),
            Outcome::Disabled { command } => result(
                "disabled",
                Some(command.as_str().into()),
                None,
                Some("the command is switched off".into()),
            ),
            Outcome::NotOnPlatform { command } => result(
                "not_on_platform",
                Some(command.as_str().into()),
                None,
                Some(format!("the command does not answer on {platform}")),
            ),
            Outcome::Denied { command, needed } => result(
                "denied",
                Some(command.as_str().into()),
                None,
                Some(format!("only {} and above may use it", needed.as_str())),
            ),
            Outcome::Cooldown {
                command,
                remaining,
                scope,
            } => result(
                "cooldown",
                Some(command.as_str().into()),
                None,
                Some(format!(
                    "{scope:?} cooldown: {} s left",
                    remaining.as_secs_f64().ceil()
                )),
            ),
        })
    }

    fn builtin_reply(
        &self,
        builtin: BuiltinCommand,
        user: &User,
        platform: Platform,
        balance: i64,
    ) -> String {
        match builtin {
            BuiltinCommand::Commands => {
                commands_reply(lock(&self.inner.dispatcher).commands(), user, platform)
            }
            BuiltinCommand::Points => points_reply(&user.name, balance),
            BuiltinCommand::Uptime => uptime_reply(self.uptime(platform)),
        }
    }

    /// Answers a chat line that looks like a command.
    pub(super) async fn run_command(&self, platform: Platform, user: User, text: String) {
        // The balance is read from the store only for a reply that shows it (the
        // built-in `!points`, or `$(points)`): every other reply goes out sooner.
        let shows_balance = parse_invocation(&text)
            .is_some_and(|invocation| BuiltinCommand::lookup(invocation.word).is_some())
            || self.line_shows(&text, Variable::Points);
        let balance = if shows_balance {
            match self.inner.store.balance(platform, user.id.clone()).await {
                Ok(balance) => balance.unwrap_or(0),
                Err(error) => {
                    tracing::warn!(%error, "could not read a balance for a command");
                    0
                }
            }
        } else {
            0
        };
        let snapshot = Snapshot {
            balance,
            uptime: self.uptime(platform),
            now: wall_now(),
            followage: self.followage_for(&text, platform, &user).await,
        };
        let outcome = lock(&self.inner.dispatcher).evaluate(
            &text,
            &user,
            platform,
            self.monotonic_now(),
            &snapshot,
        );
        let (command, reply, count) = match outcome {
            Outcome::Reply {
                command,
                text,
                count,
            } => (command.as_str().to_owned(), text, count),
            Outcome::Builtin { builtin, .. } => (
                builtin.name().to_owned(),
                self.builtin_reply(builtin, &user, platform, balance),
                0,
            ),
            other => {
                tracing::debug!(?other, "a chat line was not answered");
                return;
            }
        };
        let sent = if reply.trim().is_empty() {
            None
        } else {
            match self.platforms() {
                Some(platforms) => match platforms.send_chat(Some(platform), &reply).await {
                    Ok(_) => Some(reply),
                    Err(error) => {
                        tracing::warn!(%error, %command, "could not send a command's reply");
                        None
                    }
                },
                None => None,
            }
        };
        // The counter is stored after the reply is out: the viewer should not wait
        // for a database commit.
        if count > 0
            && let Err(error) = self
                .inner
                .store
                .set_command_uses(command.clone(), count)
                .await
        {
            tracing::warn!(%error, "could not store a command's counter");
        }
        self.publish(
            EventKind::CommandRan {
                command,
                user,
                reply: sent,
                count,
            },
            platform,
        )
        .await;
    }

    /// Commands and timers as a TOML document.
    pub async fn export_commands(&self) -> Result<String, AutomationError> {
        let commands: Vec<CommandDef> = {
            let dispatcher = lock(&self.inner.dispatcher);
            let mut commands: Vec<CommandDef> = dispatcher.commands().iter().cloned().collect();
            commands.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
            commands
        };
        let mut timers = Vec::new();
        for timer in self.inner.store.timers().await? {
            match timer_definition(&timer) {
                Ok(def) => timers.push(def),
                Err(error) => {
                    tracing::warn!(timer = %timer.name, %error, "a stored timer was skipped")
                }
            }
        }
        Ok(document::render(&Document {
            commands,
            timers,
            actions: Vec::new(),
        }))
    }

    /// Replaces every command and timer with the document's (actions are kept); the
    /// document is checked whole first, and nothing changes when it has a problem.
    pub async fn import_commands(&self, text: &str) -> Result<ImportSummary, CommandsError> {
        let parsed = document::parse(text).map_err(problems)?;
        if !parsed.actions.is_empty() {
            return Err(CommandsError::Other(bad(
                "this document has [[actions]]: import it with `roadie actions import`",
            )));
        }
        let set = parsed
            .command_set()
            .map_err(|error| CommandsError::Other(bad(error.to_string())))?;
        let store = &self.inner.store;
        let actions = store.actions().await.map_err(AutomationError::from)?;
        let commands: Vec<StoredCommand> =
            parsed.commands.iter().map(|def| stored(def, 0)).collect();
        let timers: Vec<StoredTimer> = parsed.timers.iter().map(stored_timer).collect();
        let summary = ImportSummary {
            commands: commands.len(),
            timers: timers.len(),
            actions: actions.len(),
        };
        let previous_counts: Vec<(CommandName, u64)> = {
            let dispatcher = lock(&self.inner.dispatcher);
            parsed
                .commands
                .iter()
                .map(|def| (def.name.clone(), dispatcher.count(def.name.as_str())))
                .collect()
        };
        let commands = commands
            .into_iter()
            .zip(&previous_counts)
            .map(|(mut command, (_, count))| {
                command.uses = *count;
                command
            })
            .collect();
        store
            .replace_automation(commands, timers, actions)
            .await
            .map_err(AutomationError::from)?;
        let mut dispatcher = Dispatcher::new(set);
        for (name, count) in previous_counts {
            dispatcher.set_count(&name, count);
        }
        *lock(&self.inner.dispatcher) = dispatcher;
        *lock(&self.inner.timers) = parsed.timers.into_iter().map(Timer::new).collect();
        Ok(summary)
    }
}

pub(super) fn timer_definition(timer: &StoredTimer) -> Result<TimerDef, String> {
    let message = Template::parse_for(&timer.message, VariableSet::Command)
        .map_err(|error| error.to_string())?;
    let mut def = TimerDef::new(
        &timer.name,
        Duration::from_secs(timer.interval_s),
        timer.min_lines,
        message,
    )
    .map_err(|error| error.to_string())?;
    def.enabled = timer.enabled;
    Ok(def)
}
