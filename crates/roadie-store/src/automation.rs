//! Chat automation definitions as plain rows: commands (with their use counters),
//! timers, actions (the daemon's JSON) and user scripts with their persisted variables.
//! The store validates only what the schema needs; the daemon owns the domain rules.

use rusqlite::{Connection, OptionalExtension, params};

use roadie_core::Platform;

use crate::StoreError;

/// The role levels a command can require, as stored.
pub const COMMAND_ROLES: &[&str] = &["everyone", "subscriber", "vip", "moderator", "broadcaster"];

/// One chat command. Stored lists are space-separated words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCommand {
    /// Its name, as the daemon spells it (with its `!`); no whitespace or commas.
    pub name: String,
    /// Other words that run it; no whitespace or commas.
    pub aliases: Vec<String>,
    /// The response template.
    pub template: String,
    /// Time between two runs by anybody, ms.
    pub global_cooldown_ms: u64,
    /// Time between two runs by one user, ms.
    pub user_cooldown_ms: u64,
    /// The lowest role that may run it: one of [`COMMAND_ROLES`].
    pub role: String,
    /// Where it runs; empty means every platform. Never Roadie.
    pub platforms: Vec<Platform>,
    /// Switched off commands never run.
    pub enabled: bool,
    /// How often it ran. [`crate::Store::upsert_command`] keeps the stored count of an
    /// existing command (use [`crate::Store::set_command_uses`]); inserts take this one.
    pub uses: u64,
}

/// One timer: a message posted every `interval_s` once chat has had `min_lines` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTimer {
    /// Its name.
    pub name: String,
    /// Seconds between posts; at least 1.
    pub interval_s: u64,
    /// Chat lines needed since the last post.
    pub min_lines: u32,
    /// The message template.
    pub message: String,
    /// Switched off timers never fire.
    pub enabled: bool,
}

/// One named action, stored as the daemon's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAction {
    /// Its name.
    pub name: String,
    /// The definition as JSON text (checked to be valid JSON).
    pub definition: String,
    /// Switched off actions never run.
    pub enabled: bool,
}

/// One user script and the variables it persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScript {
    /// Its name.
    pub name: String,
    /// The JavaScript source.
    pub source: String,
    /// Its variables: a JSON object.
    pub vars: String,
    /// When its source or variables last changed, Unix ms.
    pub updated_ms: i64,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn check_name(field: &'static str, name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    Ok(())
}

fn check_word(field: &'static str, word: &str) -> Result<(), StoreError> {
    if word.is_empty() || word.contains(',') || word.contains(char::is_whitespace) {
        return Err(invalid(
            field,
            format!("{word:?} must be one word (no spaces or commas)"),
        ));
    }
    Ok(())
}

fn to_i64(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| invalid(field, format!("{value} is too large")))
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A command checked and converted to its column values.
struct CommandColumns<'a> {
    command: &'a StoredCommand,
    aliases: String,
    platforms: String,
    global_cooldown_ms: i64,
    user_cooldown_ms: i64,
    uses: i64,
}

fn command_columns(command: &StoredCommand) -> Result<CommandColumns<'_>, StoreError> {
    check_word("command name", &command.name)?;
    for alias in &command.aliases {
        check_word("command alias", alias)?;
    }
    if !COMMAND_ROLES.contains(&command.role.as_str()) {
        return Err(invalid(
            "command role",
            format!(
                "{:?} is not one of {}",
                command.role,
                COMMAND_ROLES.join(", ")
            ),
        ));
    }
    if command.platforms.contains(&Platform::Roadie) {
        return Err(invalid(
            "command platforms",
            "commands run on twitch, kick or youtube",
        ));
    }
    Ok(CommandColumns {
        command,
        aliases: command.aliases.join(" "),
        platforms: command
            .platforms
            .iter()
            .map(|platform| platform.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        global_cooldown_ms: to_i64("global_cooldown_ms", command.global_cooldown_ms)?,
        user_cooldown_ms: to_i64("user_cooldown_ms", command.user_cooldown_ms)?,
        uses: to_i64("uses", command.uses)?,
    })
}

const INSERT_COMMAND: &str = "INSERT INTO commands
    (name, aliases, template, global_cooldown_ms, user_cooldown_ms, role, platforms, enabled, uses, created_ms, updated_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)";

fn insert_command(
    connection: &Connection,
    columns: &CommandColumns<'_>,
    upsert: bool,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sql = if upsert {
        // The counter belongs to the running command, not to its definition.
        format!(
            "{INSERT_COMMAND} ON CONFLICT (name) DO UPDATE SET
                aliases = excluded.aliases, template = excluded.template,
                global_cooldown_ms = excluded.global_cooldown_ms,
                user_cooldown_ms = excluded.user_cooldown_ms, role = excluded.role,
                platforms = excluded.platforms, enabled = excluded.enabled,
                updated_ms = excluded.updated_ms"
        )
    } else {
        INSERT_COMMAND.to_owned()
    };
    let command = columns.command;
    connection.prepare_cached(&sql)?.execute(params![
        command.name,
        columns.aliases,
        command.template,
        columns.global_cooldown_ms,
        columns.user_cooldown_ms,
        command.role,
        columns.platforms,
        command.enabled,
        columns.uses,
        now_ms,
    ])?;
    Ok(())
}

pub(crate) fn upsert_command(
    connection: &Connection,
    command: &StoredCommand,
    now_ms: i64,
) -> Result<(), StoreError> {
    insert_command(connection, &command_columns(command)?, true, now_ms)
}

pub(crate) fn commands(connection: &Connection) -> Result<Vec<StoredCommand>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT name, aliases, template, global_cooldown_ms, user_cooldown_ms, role, platforms, enabled, uses
         FROM commands ORDER BY name",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            StoredCommand {
                name: row.get(0)?,
                aliases: Vec::new(),
                template: row.get(2)?,
                global_cooldown_ms: to_u64(row.get(3)?),
                user_cooldown_ms: to_u64(row.get(4)?),
                role: row.get(5)?,
                platforms: Vec::new(),
                enabled: row.get(7)?,
                uses: to_u64(row.get(8)?),
            },
            row.get::<_, String>(1)?,
            row.get::<_, String>(6)?,
        ))
    })?;
    let mut commands = Vec::new();
    for row in rows {
        let (mut command, aliases, platforms) = row?;
        command.aliases = words(&aliases).map(str::to_owned).collect();
        command.platforms = words(&platforms)
            .map(|word| {
                word.parse::<Platform>()
                    .map_err(|error| invalid("command platforms", error.to_string()))
            })
            .collect::<Result<_, _>>()?;
        commands.push(command);
    }
    Ok(commands)
}

/// Stored lists are separated by spaces; commas are accepted too.
fn words(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| !word.is_empty())
}

pub(crate) fn remove_command(connection: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(connection
        .prepare_cached("DELETE FROM commands WHERE name = ?1")?
        .execute([name])?
        > 0)
}

pub(crate) fn bump_command_uses(
    connection: &Connection,
    name: &str,
) -> Result<Option<u64>, StoreError> {
    let uses: Option<i64> = connection
        .prepare_cached("UPDATE commands SET uses = uses + 1 WHERE name = ?1 RETURNING uses")?
        .query_row([name], |row| row.get(0))
        .optional()?;
    Ok(uses.map(to_u64))
}

pub(crate) fn set_command_uses(
    connection: &Connection,
    name: &str,
    uses: u64,
) -> Result<bool, StoreError> {
    let uses = to_i64("uses", uses)?;
    Ok(connection
        .prepare_cached("UPDATE commands SET uses = ?2 WHERE name = ?1")?
        .execute(params![name, uses])?
        > 0)
}

fn check_timer(timer: &StoredTimer) -> Result<i64, StoreError> {
    check_name("timer name", &timer.name)?;
    if timer.interval_s == 0 {
        return Err(invalid("timer interval_s", "must be at least 1 second"));
    }
    to_i64("timer interval_s", timer.interval_s)
}

const INSERT_TIMER: &str =
    "INSERT INTO timers (name, interval_s, min_lines, message, enabled, created_ms, updated_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";

fn insert_timer(
    connection: &Connection,
    timer: &StoredTimer,
    upsert: bool,
    now_ms: i64,
) -> Result<(), StoreError> {
    let interval = check_timer(timer)?;
    let sql = if upsert {
        format!(
            "{INSERT_TIMER} ON CONFLICT (name) DO UPDATE SET
                interval_s = excluded.interval_s, min_lines = excluded.min_lines,
                message = excluded.message, enabled = excluded.enabled,
                updated_ms = excluded.updated_ms"
        )
    } else {
        INSERT_TIMER.to_owned()
    };
    connection.prepare_cached(&sql)?.execute(params![
        timer.name,
        interval,
        timer.min_lines,
        timer.message,
        timer.enabled,
        now_ms
    ])?;
    Ok(())
}

pub(crate) fn upsert_timer(
    connection: &Connection,
    timer: &StoredTimer,
    now_ms: i64,
) -> Result<(), StoreError> {
    insert_timer(connection, timer, true, now_ms)
}

pub(crate) fn timers(connection: &Connection) -> Result<Vec<StoredTimer>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT name, interval_s, min_lines, message, enabled FROM timers ORDER BY name",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(StoredTimer {
            name: row.get(0)?,
            interval_s: to_u64(row.get(1)?),
            min_lines: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
            message: row.get(3)?,
            enabled: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn remove_timer(connection: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(connection
        .prepare_cached("DELETE FROM timers WHERE name = ?1")?
        .execute([name])?
        > 0)
}

const INSERT_ACTION: &str =
    "INSERT INTO actions (name, definition, enabled, created_ms, updated_ms)
    VALUES (?1, ?2, ?3, ?4, ?4)";

fn insert_action(
    connection: &Connection,
    action: &StoredAction,
    upsert: bool,
    now_ms: i64,
) -> Result<(), StoreError> {
    check_name("action name", &action.name)?;
    let sql = if upsert {
        format!(
            "{INSERT_ACTION} ON CONFLICT (name) DO UPDATE SET
                definition = excluded.definition, enabled = excluded.enabled,
                updated_ms = excluded.updated_ms"
        )
    } else {
        INSERT_ACTION.to_owned()
    };
    connection.prepare_cached(&sql)?.execute(params![
        action.name,
        action.definition,
        action.enabled,
        now_ms
    ])?;
    Ok(())
}

pub(crate) fn upsert_action(
    connection: &Connection,
    action: &StoredAction,
    now_ms: i64,
) -> Result<(), StoreError> {
    insert_action(connection, action, true, now_ms)
}

pub(crate) fn actions(connection: &Connection) -> Result<Vec<StoredAction>, StoreError> {
    let mut statement =
        connection.prepare_cached("SELECT name, definition, enabled FROM actions ORDER BY name")?;
    let rows = statement.query_map([], |row| {
        Ok(StoredAction {
            name: row.get(0)?,
            definition: row.get(1)?,
            enabled: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn remove_action(connection: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(connection
        .prepare_cached("DELETE FROM actions WHERE name = ?1")?
        .execute([name])?
        > 0)
}

/// Replaces every command, timer and action. Runs inside one writer job, so a failure
/// anywhere (a duplicate name, invalid JSON) rolls the whole swap back.
pub(crate) fn replace(
    connection: &Connection,
    commands: &[StoredCommand],
    timers: &[StoredTimer],
    actions: &[StoredAction],
    now_ms: i64,
) -> Result<(), StoreError> {
    let columns: Vec<CommandColumns<'_>> = commands
        .iter()
        .map(command_columns)
        .collect::<Result<_, _>>()?;
    connection.execute_batch("DELETE FROM commands; DELETE FROM timers; DELETE FROM actions;")?;
    for command in &columns {
        insert_command(connection, command, false, now_ms)?;
    }
    for timer in timers {
        insert_timer(connection, timer, false, now_ms)?;
    }
    for action in actions {
        insert_action(connection, action, false, now_ms)?;
    }
    Ok(())
}

pub(crate) fn script(
    connection: &Connection,
    name: &str,
) -> Result<Option<StoredScript>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT name, source, vars, updated_ms FROM scripts WHERE name = ?1")?
        .query_row([name], script_row)
        .optional()?)
}

pub(crate) fn scripts(connection: &Connection) -> Result<Vec<StoredScript>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT name, source, vars, updated_ms FROM scripts ORDER BY name")?;
    let rows = statement.query_map([], script_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn script_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredScript> {
    Ok(StoredScript {
        name: row.get(0)?,
        source: row.get(1)?,
        vars: row.get(2)?,
        updated_ms: row.get(3)?,
    })
}

/// Inserts a script or replaces its source, keeping the variables it persisted.
pub(crate) fn upsert_script(
    connection: &Connection,
    name: &str,
    source: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    check_name("script name", name)?;
    connection
        .prepare_cached(
            "INSERT INTO scripts (name, source, updated_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET source = excluded.source, updated_ms = excluded.updated_ms",
        )?
        .execute(params![name, source, now_ms])?;
    Ok(())
}

pub(crate) fn remove_script(connection: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(connection
        .prepare_cached("DELETE FROM scripts WHERE name = ?1")?
        .execute([name])?
        > 0)
}

/// Replaces a script's variables (a JSON object); false when there is no such script.
pub(crate) fn set_script_vars(
    connection: &Connection,
    name: &str,
    vars: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(connection
        .prepare_cached("UPDATE scripts SET vars = ?2, updated_ms = ?3 WHERE name = ?1")?
        .execute(params![name, vars, now_ms])?
        > 0)
}
