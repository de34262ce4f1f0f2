//! `roadie secrets set|delete KEY`: through the running daemon, or straight into the
//! keystore when no daemon runs (so secrets can be set up before the first start).
//! The value comes from stdin and is never echoed.

use std::io::Read;

use anyhow::Context;
use roadie_core::Secret;
use roadie_keystore::{BackendChoice, KeystoreOptions};
use roadie_protocol::SecretChanged;

use crate::cli::{Global, SecretsAction, SecretsArgs};
use crate::endpoint::{self, Setup};
use crate::exit::UsageError;

pub async fn run(global: &Global, args: &SecretsArgs) -> anyhow::Result<()> {
    let setup = endpoint::setup(global)?;
    let key = match &args.action {
        SecretsAction::Set { key } | SecretsAction::Delete { key } => key.clone(),
    };
    roadie_keystore::validate_key(&key).map_err(|error| UsageError(error.to_string()))?;
    // Checked here too: without a daemon the CLI writes to the keystore itself.
    let note = roadie_daemon::keystore::check_secret_key(&key).map_err(UsageError)?;
    let value = match &args.action {
        SecretsAction::Set { .. } => Some(read_value()?),
        SecretsAction::Delete { .. } => None,
    };
    let (result, backend) = if endpoint::daemon_running(&setup) {
        let client = endpoint::client(&setup);
        let changed = match value {
            Some(value) => {
                client
                    .set_secret(&key, value.expose_secret().to_owned())
                    .await?
            }
            None => client.delete_secret(&key).await?,
        };
        (changed.result, changed.backend)
    } else {
        direct(&setup, &key, value).await?
    };
    if global.json {
        println!(
            "{}",
            serde_json::to_string(&SecretChanged {
                key,
                result,
                backend,
                note,
            })?
        );
    } else {
        println!("{key}: {result} ({backend} keystore)");
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
    }
    Ok(())
}

fn read_value() -> anyhow::Result<Secret> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the secret from stdin")?;
    let trimmed = text
        .strip_suffix('\n')
        .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
        .unwrap_or(&text);
    if trimmed.is_empty() {
        return Err(UsageError("no secret on stdin (pipe it in, e.g. `printf %s \"$PASSWORD\" | roadie secrets set obs.password`)".into()).into());
    }
    Ok(Secret::new(trimmed.to_owned()))
}

async fn direct(
    setup: &Setup,
    key: &str,
    value: Option<Secret>,
) -> anyhow::Result<(String, String)> {
    let choice: BackendChoice = setup
        .loaded
        .config
        .keystore
        .backend
        .as_str()
        .parse()
        .map_err(|error| UsageError(format!("{error}")))?;
    let passphrase = setup
        .env
        .iter()
        .find(|(name, _)| name == roadie_keystore::PASSPHRASE_ENV)
        .map(|(_, value)| Secret::new(value.clone()));
    let data_dir = roadie_daemon::DataDir::prepare(&setup.data_dir)?
        .path()
        .to_path_buf();
    let key = key.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<(String, String)> {
        let opened = roadie_keystore::open(KeystoreOptions {
            choice,
            data_dir,
            passphrase,
            namespace: "roadie".into(),
        })?;
        let result = match value {
            Some(secret) => {
                opened.store.set(&key, &secret)?;
                "stored"
            }
            None if opened.store.delete(&key)? => "deleted",
            None => "absent",
        };
        Ok((result.to_owned(), opened.kind.to_string()))
    })
    .await?
}
