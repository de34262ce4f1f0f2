//! Secrets set through the CLI are stored, and appear in no log, no database file,
//! no other file and no API answer.

use std::path::Path;
use std::time::Duration;

use crate::support;

pub fn files_containing(directory: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|window| window == needle)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[test]
fn a_secret_set_through_the_cli_leaks_nowhere() {
    let marker = "s3cret-MARKER-7f3a9c1e-obs-password";
    let env = support::env();
    let mut daemon = env.spawn_daemon();

    let set = env.run(
        &["secrets", "set", "obs.password"],
        Some(&format!("{marker}\n")),
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(String::from_utf8_lossy(&set.stdout).contains("obs.password: stored (file keystore)"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.data_dir().join("keystore.vault"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "vault mode");
    }
    let overwrite = env.run(&["secrets", "set", "obs.password", "--json"], Some(marker));
    let answer: serde_json::Value = serde_json::from_slice(&overwrite.stdout).unwrap();
    assert_eq!(answer["result"], "stored");

    let rt = support::runtime();
    let client = support::client(&daemon);
    let answers = rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut bodies = Vec::new();
        for path in [
            "/api/v1/status",
            "/api/v1/events/history?limit=1000",
            "/api/v1/openapi.json",
            "/api/v1/health",
        ] {
            let body = http
                .get(format!("http://{}{path}", daemon.address()))
                .bearer_auth(daemon.token())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            bodies.push(body);
        }
        // A malformed secret request must not echo the body back either.
        let bad = http
            .put(format!(
                "http://{}/api/v1/secrets/obs.password",
                daemon.address()
            ))
            .bearer_auth(daemon.token())
            .header("content-type", "application/json")
            .body(format!("{{\"value\": \"{marker}\", \"extra\": 1}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        bodies.push(bad.text().await.unwrap());
        client.history(&[], None, Some(1000)).await.unwrap();
        bodies
    });
    for body in &answers {
        assert!(
            !body.contains(marker),
            "an API answer holds the secret: {body}"
        );
    }

    let status = env.run(&["status", "--json"], None);
    assert!(!String::from_utf8_lossy(&status.stdout).contains(marker));
    let events = env.run(&["events", "--json", "--limit", "1000"], None);
    assert!(!String::from_utf8_lossy(&events.stdout).contains(marker));

    daemon.terminate(Duration::from_secs(6)).unwrap();
    assert!(
        !daemon.stderr().contains(marker),
        "the daemon's stderr holds the secret"
    );
    let hits = files_containing(env.root(), marker.as_bytes());
    assert!(
        hits.is_empty(),
        "files hold the secret in plain text: {hits:?}"
    );
    assert!(env.data_dir().join("roadie.db").exists() && env.data_dir().join("logs").is_dir());

    // With no daemon running, the CLI goes straight to the keystore.
    let deleted = env.run(&["secrets", "delete", "obs.password"], None);
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    assert!(String::from_utf8_lossy(&deleted.stdout).contains("obs.password: deleted"));
    let again = env.run(&["secrets", "delete", "obs.password"], None);
    assert!(String::from_utf8_lossy(&again.stdout).contains("obs.password: absent"));
}

#[test]
fn bad_keys_and_empty_values_are_usage_errors() {
    let env = support::env();
    let bad_key = env.run(&["secrets", "set", "Not A Key"], Some("x"));
    assert_eq!(bad_key.status.code(), Some(2));
    let empty = env.run(&["secrets", "set", "obs.password"], Some(""));
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("stdin"));
}

#[test]
fn token_keys_are_refused_and_a_key_roadie_never_reads_is_pointed_out() {
    let env = support::env();
    // Without a daemon the CLI writes to the keystore itself; with one, through the API:
    // the same rules either way.
    for with_daemon in [false, true] {
        let daemon = with_daemon.then(|| env.spawn_daemon());
        let token = env.run(&["secrets", "set", "oauth.twitch.141981764"], Some("x"));
        assert_eq!(token.status.code(), Some(2), "daemon: {with_daemon}");
        assert!(
            String::from_utf8_lossy(&token.stderr).contains("roadie auth"),
            "{}",
            String::from_utf8_lossy(&token.stderr)
        );
        let delete = env.run(&["secrets", "delete", "oauth.twitch.141981764"], None);
        assert_eq!(delete.status.code(), Some(2), "daemon: {with_daemon}");

        let typo = env.run(&["secrets", "set", "obs.pasword"], Some("hunter2"));
        assert!(
            typo.status.success(),
            "{}",
            String::from_utf8_lossy(&typo.stderr)
        );
        let stderr = String::from_utf8_lossy(&typo.stderr);
        assert!(
            stderr.contains("does not read obs.pasword") && stderr.contains("obs.password"),
            "daemon {with_daemon}: {stderr}"
        );
        let known = env.run(
            &["secrets", "set", "obs.password", "--json"],
            Some("hunter2"),
        );
        assert!(known.status.success());
        assert!(
            known.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&known.stderr)
        );
        let answer: serde_json::Value = serde_json::from_slice(&known.stdout).unwrap();
        assert_eq!(answer["result"], "stored");
        assert!(answer.get("note").is_none(), "{answer}");
        if let Some(daemon) = daemon {
            // The API keeps the same rules for its other clients.
            let rt = support::runtime();
            let client = support::client(&daemon);
            let refused = rt.block_on(client.set_secret("oauth.twitch.141981764", "x".into()));
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|error| error.to_string().contains("roadie auth")),
                "{refused:?}"
            );
            let noted = rt
                .block_on(client.set_secret("obs.pasword", "x".into()))
                .unwrap();
            assert!(noted.note.is_some_and(|note| note.contains("obs.password")));
        }
    }
}

#[test]
fn a_wrong_passphrase_is_a_clear_error_and_loses_nothing() {
    let mut env = support::env();
    env.set_env("ROADIE_KEYSTORE_PASSPHRASE", "correct horse battery staple");
    let set = env.run(
        &["secrets", "set", "kick.client_secret"],
        Some("kick-secret-value"),
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let vault = env.data_dir().join("keystore.vault");
    let before = std::fs::read(&vault).unwrap();

    env.set_env("ROADIE_KEYSTORE_PASSPHRASE", "wrong passphrase");
    let wrong = env.run(&["secrets", "set", "kick.client_secret"], Some("other"));
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .to_lowercase()
            .contains("passphrase"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert_eq!(
        std::fs::read(&vault).unwrap(),
        before,
        "the vault changed under a wrong passphrase"
    );

    // The daemon still starts, reports the keystore as down, and keeps serving.
    let daemon = env.spawn_daemon();
    let rt = support::runtime();
    let status = rt.block_on(support::client(&daemon).status()).unwrap();
    let keystore = status
        .components
        .iter()
        .find(|component| component.name == "keystore")
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut keystore = keystore.clone();
    while keystore.detail == "opening" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let status = rt.block_on(support::client(&daemon).status()).unwrap();
        keystore = status
            .components
            .into_iter()
            .find(|component| component.name == "keystore")
            .unwrap();
    }
    assert_eq!(serde_json::to_value(keystore.state).unwrap(), "down");
    assert!(
        keystore.detail.to_lowercase().contains("passphrase"),
        "{}",
        keystore.detail
    );
    drop(daemon);
    assert_eq!(std::fs::read(&vault).unwrap(), before);

    env.set_env("ROADIE_KEYSTORE_PASSPHRASE", "correct horse battery staple");
    let delete = env.run(&["secrets", "delete", "kick.client_secret"], None);
    assert!(
        String::from_utf8_lossy(&delete.stdout).contains("deleted"),
        "{}",
        String::from_utf8_lossy(&delete.stderr)
    );
}
