//! `roadie commands ...`, `roadie scripts test`, `roadie points ...`.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use roadie_protocol::{
    ActionRun, CommandTest, CommandUpsert, ImportSummary, PointsAdjust, PointsBalance, PointsLink,
    ScriptTest,
};
use serde::Serialize;

use crate::cli::{
    ActionsAction, ActionsArgs, CommandsAction, CommandsArgs, Global, PointsAction, PointsArgs,
    ScriptsAction, ScriptsArgs,
};
use crate::endpoint;

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The failure of a dry run or script: exit 1 with the reason.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failed(pub String);

pub async fn commands(global: &Global, args: &CommandsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    match &args.action {
        CommandsAction::List => {
            let commands = client.commands().await?;
            if global.json {
                return print_json(&commands);
            }
            if commands.is_empty() {
                println!("no commands yet; add one with `roadie commands add !name \"reply\"`");
            }
            for command in commands {
                let mut notes = Vec::new();
                if !command.aliases.is_empty() {
                    notes.push(format!("aliases {}", command.aliases.join(" ")));
                }
                if command.role != "everyone" {
                    notes.push(format!("{} and up", command.role));
                }
                if command.cooldown > 0 {
                    notes.push(format!("cooldown {} s", command.cooldown));
                }
                if command.user_cooldown > 0 {
                    notes.push(format!("user cooldown {} s", command.user_cooldown));
                }
                if !command.platforms.is_empty() {
                    notes.push(format!("on {}", command.platforms.join(", ")));
                }
                if !command.enabled {
                    notes.push("disabled".into());
                }
                notes.push(format!("used {}x", command.count));
                println!(
                    "{}  {}  ({})",
                    command.name,
                    command.template,
                    notes.join("; ")
                );
            }
        }
        CommandsAction::Add {
            name,
            template,
            aliases,
            cooldown,
            user_cooldown,
            role,
            platforms,
            disabled,
        } => {
            let added = client
                .command_upsert(&CommandUpsert {
                    name: name.clone(),
                    template: template.clone(),
                    aliases: aliases.clone(),
                    cooldown: *cooldown,
                    user_cooldown: *user_cooldown,
                    role: role.clone(),
                    platforms: platforms.clone(),
                    enabled: Some(!disabled),
                })
                .await?;
            if global.json {
                return print_json(&added);
            }
            println!("{} saved", added.name);
        }
        CommandsAction::Remove { name } => {
            client.command_remove(name).await?;
            if global.json {
                return print_json(&serde_json::json!({"removed": name}));
            }
            println!("{name} removed");
        }
        CommandsAction::Test {
            line,
            user,
            role,
            platform,
        } => {
            let result = client
                .command_test(&CommandTest {
                    line: line.clone(),
                    user: user.clone(),
                    role: role.clone(),
                    platform: platform.clone(),
                })
                .await?;
            if global.json {
                return print_json(&result);
            }
            match (&result.reply, &result.detail) {
                (Some(reply), _) => println!("{reply}"),
                (None, Some(detail)) => {
                    return Err(Failed(format!("no reply ({}): {detail}", result.outcome)).into());
                }
                (None, None) => return Err(Failed(format!("no reply ({})", result.outcome)).into()),
            }
        }
        CommandsAction::Export => {
            let document = client.commands_export().await?;
            if global.json {
                return print_json(&document);
            }
            print!("{}", document.toml);
        }
        CommandsAction::Import { file } => {
            let text = read_file(file)?;
            let summary = imported(file, client.commands_import(text).await)?;
            if global.json {
                return print_json(&summary);
            }
            println!(
                "imported {} command(s) and {} timer(s)",
                summary.commands, summary.timers
            );
        }
    }
    Ok(())
}

/// An import's answer; a refused document's problems are printed one per line, each
/// with its place in the file.
fn imported(
    file: &Path,
    answer: Result<ImportSummary, roadie_client::ClientError>,
) -> anyhow::Result<ImportSummary> {
    match answer {
        Ok(summary) => Ok(summary),
        Err(roadie_client::ClientError::Api { code, message, .. })
            if code == "invalid_document" =>
        {
            for problem in message.lines() {
                eprintln!("{}: {problem}", file.display());
            }
            let count = message.lines().count();
            Err(Failed(format!(
                "{} was not imported: {count} problem(s); nothing changed",
                file.display()
            ))
            .into())
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn actions(global: &Global, args: &ActionsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    match &args.action {
        ActionsAction::List => {
            let actions = client.actions().await?;
            if global.json {
                return print_json(&actions);
            }
            if actions.is_empty() {
                println!("no actions yet; write them in TOML and `roadie actions import FILE`");
            }
            for action in actions {
                let triggers = if action.triggers.is_empty() {
                    "run by name".to_owned()
                } else {
                    action.triggers.join(", ")
                };
                println!(
                    "{}  steps: {}  triggers: {}{}",
                    action.name,
                    action.steps.join(" > "),
                    triggers,
                    if action.enabled { "" } else { "  (disabled)" }
                );
            }
        }
        ActionsAction::Run { name, user, input } => {
            let result = client
                .action_run(
                    name,
                    &ActionRun {
                        user: user.clone(),
                        input: input.clone(),
                    },
                )
                .await?;
            if global.json {
                print_json(&result)?;
            } else {
                for step in &result.steps {
                    match &step.error {
                        None => println!(
                            "{}. {} ok ({} ms)",
                            step.index + 1,
                            step.kind,
                            step.elapsed_ms
                        ),
                        Some(error) => {
                            println!("{}. {} FAILED: {error}", step.index + 1, step.kind)
                        }
                    }
                }
            }
            if !result.ok {
                return Err(Failed(format!("action {name} failed")).into());
            }
        }
        ActionsAction::Export => {
            let document = client.actions_export().await?;
            if global.json {
                return print_json(&document);
            }
            print!("{}", document.toml);
        }
        ActionsAction::Import { file } => {
            let text = read_file(file)?;
            let summary = imported(file, client.actions_import(text).await)?;
            if global.json {
                return print_json(&summary);
            }
            println!("imported {} action(s)", summary.actions);
        }
    }
    Ok(())
}

pub async fn scripts(global: &Global, args: &ScriptsArgs) -> anyhow::Result<()> {
    let ScriptsAction::Test { file, user, args } = &args.action;
    let source = read_file(file)?;
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    let result = client
        .script_test(&ScriptTest {
            source,
            user: user.clone(),
            args: args.clone(),
        })
        .await?;
    if global.json {
        print_json(&result)?;
    } else {
        for reply in &result.replies {
            println!("{reply}");
        }
        for log in &result.logs {
            eprintln!("log: {log}");
        }
        for call in &result.calls {
            eprintln!("would call: {call}");
        }
    }
    match result.error {
        Some(error) if !global.json => Err(Failed(format!("the script failed: {error}")).into()),
        Some(error) => Err(Failed(error).into()),
        None => Ok(()),
    }
}

fn describe(balance: &PointsBalance) -> String {
    let accounts: Vec<String> = balance
        .accounts
        .iter()
        .map(|account| format!("{}:{}", account.platform, account.login))
        .collect();
    format!("{}  {}", balance.balance, accounts.join(" + "))
}

pub async fn points(global: &Global, args: &PointsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let client = endpoint::client(&setup);
    let balance = match &args.action {
        PointsAction::Top { limit } => {
            let top = client.points_top(*limit).await?;
            if global.json {
                return print_json(&top);
            }
            if top.is_empty() {
                println!("nobody has points yet");
            }
            for (rank, entry) in top.iter().enumerate() {
                println!("{:>3}. {}", rank + 1, describe(entry));
            }
            return Ok(());
        }
        PointsAction::Balance { user } => client.points_balance(user).await?,
        PointsAction::Give { user, amount } | PointsAction::Take { user, amount } => {
            let sign = if matches!(args.action, PointsAction::Take { .. }) {
                -1
            } else {
                1
            };
            client
                .points_adjust(&PointsAdjust {
                    user: user.clone(),
                    amount: sign * i64::from(*amount),
                    reason: None,
                })
                .await?
        }
        PointsAction::Link { first, second } => {
            client
                .points_link(&PointsLink {
                    first: first.clone(),
                    second: second.clone(),
                })
                .await?
        }
    };
    if global.json {
        return print_json(&balance);
    }
    println!("{}", describe(&balance));
    Ok(())
}
