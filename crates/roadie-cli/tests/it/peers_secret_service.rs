//! Real peer: the daemon with `backend = "auto"` on a real, unlocked Secret Service
//! (gnome-keyring in a private D-Bus session, see scripts/with-secret-service.sh).
//! Runs when `ROADIE_TEST_SECRET_SERVICE=1`; then a missing Secret Service fails.

use std::time::{Duration, Instant};

use crate::support;

fn switched_on() -> bool {
    let on = std::env::var("ROADIE_TEST_SECRET_SERVICE").is_ok_and(|value| value == "1");
    if !on {
        eprintln!("real Secret Service suite not run: ROADIE_TEST_SECRET_SERVICE is not 1");
    }
    on
}

fn secret_tool_lookup(key: &str) -> Option<String> {
    let output = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "roadie", "username", key])
        .output()
        .expect("secret-tool (libsecret-tools) is needed for the Secret Service suite");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn daemon_stores_cli_secrets_in_the_real_secret_service() {
    if !switched_on() {
        return;
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .expect("the suite needs a session bus with a Secret Service");
    let mut env = support::env();
    env.set_env("ROADIE_KEYSTORE__BACKEND", "auto");
    env.set_env("DBUS_SESSION_BUS_ADDRESS", &bus);
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        let status = rt.block_on(client.status()).unwrap();
        if status.keystore.backend != "none" || Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.keystore.backend, "os",
        "auto did not pick the Secret Service: {}",
        status.keystore.reason
    );

    let key = format!("test.peer-{}", std::process::id());
    let marker = format!("peer-secret-{}", std::process::id());
    let set = env.run(&["secrets", "set", &key], Some(&marker));
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(String::from_utf8_lossy(&set.stdout).contains("(os keystore)"));
    assert_eq!(
        secret_tool_lookup(&key).as_deref(),
        Some(marker.as_str()),
        "secret-tool does not see the item"
    );

    let deleted = env.run(&["secrets", "delete", &key], None);
    assert!(String::from_utf8_lossy(&deleted.stdout).contains("deleted"));
    assert_eq!(secret_tool_lookup(&key), None);
    drop(daemon);
    assert!(
        !env.data_dir().join("keystore.vault").exists(),
        "the file backend was used"
    );
}
