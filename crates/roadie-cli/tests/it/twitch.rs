//! Twitch end to end, as a user runs it: the daemon configured against the fake
//! Twitch (OAuth, Helix, EventSub on 127.0.0.1:0), `auth import`, `auth login
//! --device`, the browser login, events on the stream, `chat send`, a revoked refresh
//! token turning into `auth_required` while the daemon keeps serving, and `logout`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use roadie_test_support::fake_twitch::FakeTwitch;
use roadie_test_support::{RunningDaemon, TestEnv, wait_output};

use crate::support;

async fn fake_twitch() -> FakeTwitch {
    FakeTwitch::start().await
}

fn configure(env: &TestEnv, fake: &FakeTwitch) {
    env.write_config(&format!("{}poll_seconds = 1\n", fake.config_section()));
}

fn twitch_state(env: &TestEnv) -> (String, String) {
    support::platform_state(env, "twitch")
}

fn wait_for_state(env: &TestEnv, wanted: &str) -> String {
    support::wait_for_platform_state(env, "twitch", wanted)
}

fn token_json(fake: &FakeTwitch) -> (String, String) {
    let (access, refresh) = fake.oauth.mint_tokens(&[
        "user:read:chat",
        "user:write:chat",
        "moderator:read:followers",
    ]);
    let json = format!(
        r#"{{"access_token":"{access}","refresh_token":"{refresh}","expires_in":14400,"scope":["user:read:chat","user:write:chat","moderator:read:followers"],"token_type":"bearer"}}"#
    );
    (access, json)
}

#[test]
fn twitch_sign_in_events_chat_and_a_lost_sign_in_end_to_end() {
    let rt = support::runtime();
    let fake = rt.block_on(fake_twitch());
    let env = support::env();
    configure(&env, &fake);
    let daemon = env.spawn_daemon();
    let (state, detail) = twitch_state(&env);
    assert_eq!(state, "auth_required");
    assert!(detail.contains("roadie auth login twitch"), "{detail}");

    // An invalid token is refused and nothing is stored.
    let refused = env.run(
        &["auth", "import", "twitch"],
        Some(r#"{"access_token":"not-a-real-token"}"#),
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("rejects"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let (access, json) = token_json(&fake);
    let imported = env.run(&["auth", "import", "twitch"], Some(&json));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(
        String::from_utf8_lossy(&imported.stdout).contains("signed in as twitchdev (141981764)")
    );
    wait_for_state(&env, "connected");
    let subscribed = fake.helix.with(|state| state.subscriptions.len());
    assert!(subscribed >= 10, "only {subscribed} subscriptions created");

    // A chat message from Twitch reaches the event stream as the SPEC envelope.
    let client = support::client(&daemon);
    let envelope = rt.block_on(async {
        let mut stream = client
            .subscribe(&["chat.message".into()], None)
            .await
            .unwrap();
        fake.eventsub
            .send_chat("twitch-message-1", "hello from twitch");
        tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    });
    assert_eq!(
        (envelope.platform.as_str(), envelope.kind.as_str()),
        ("twitch", "chat.message")
    );
    assert_eq!(envelope.data["message_id"], "twitch-message-1");
    assert_eq!(envelope.data["text"], "hello from twitch");
    assert_eq!(envelope.data["user"]["login"], "viewer32");

    // Going live opens a stream session; polls store samples in it.
    fake.helix.with(|state| {
        state.live = true;
        state.viewers = 78365;
        state.followers = 8;
        state.chatters = 8;
    });
    fake.eventsub.send_raw(fake.eventsub.notification_frame("stream.online", serde_json::json!({
        "id": "9001", "broadcaster_user_id": "141981764", "broadcaster_user_login": "twitchdev",
        "broadcaster_user_name": "TwitchDev", "type": "live", "started_at": "2020-10-11T10:11:12.123Z"
    })));
    let database = env.data_dir().join("roadie.db");
    let deadline = Instant::now() + Duration::from_secs(10);
    let (sessions, samples) = loop {
        let connection = rusqlite::Connection::open_with_flags(
            &database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let sessions: i64 = connection.query_row("SELECT count(*) FROM stream_sessions WHERE platform = 'twitch' AND ended_at_ms IS NULL", [], |row| row.get(0)).unwrap();
        let samples: i64 = connection.query_row("SELECT count(*) FROM stream_samples WHERE viewers = 78365 AND followers = 8 AND chatters = 8", [], |row| row.get(0)).unwrap();
        if (sessions >= 1 && samples >= 1) || Instant::now() > deadline {
            break (sessions, samples);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(sessions, 1, "one open stream session");
    assert!(samples >= 1, "no analytics sample stored");
    let viewers = rt
        .block_on(client.history(&["viewers".into()], None, Some(10)))
        .unwrap();
    assert_eq!(
        viewers
            .events
            .last()
            .map(|event| event.data["count"].clone()),
        Some(serde_json::json!(78365))
    );

    // `chat send` reaches Helix.
    let sent = env.run(&["chat", "send", "hi chat, from roadie"], None);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(fake.helix.chat_texts(), vec!["hi chat, from roadie"]);
    let too_long = env.run(
        &["chat", "send", "--platform", "twitch", &"y".repeat(600)],
        None,
    );
    assert_eq!(too_long.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("600"));

    // Rewards: Roadie's own are managed through the API; others are refused with why.
    fake.helix.add_foreign_reward("made-on-twitch", "Hydrate");
    let (created, listed, decided, foreign) = rt.block_on(async {
        let http = reqwest::Client::new();
        let url = |path: &str| format!("http://{}{path}", daemon.address());
        let created: serde_json::Value = http
            .post(url("/api/v1/rewards"))
            .bearer_auth(daemon.token())
            .json(
                &serde_json::json!({"title": "Play a sound", "cost": 300, "input_required": true}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let listed: serde_json::Value = http
            .get(url("/api/v1/rewards"))
            .bearer_auth(daemon.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no reward created: {created}"))
            .to_owned();
        let decided = http
            .post(url(&format!(
                "/api/v1/rewards/{id}/redemptions/redemption-1"
            )))
            .bearer_auth(daemon.token())
            .json(&serde_json::json!({"status": "canceled"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let foreign: serde_json::Value = http
            .patch(url("/api/v1/rewards/made-on-twitch"))
            .bearer_auth(daemon.token())
            .json(&serde_json::json!({"cost": 1}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (created, listed, decided, foreign)
    });
    assert_eq!(
        (
            created["title"].as_str(),
            created["cost"].as_u64(),
            created["input_required"].as_bool()
        ),
        (Some("Play a sound"), Some(300), Some(true))
    );
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "only Roadie's own rewards: {listed}"
    );
    assert_eq!(decided, 204);
    assert_eq!(
        fake.helix.with(|state| state
            .redemption_updates
            .last()
            .map(|update| update.2.clone())),
        Some("CANCELED".to_owned())
    );
    assert!(
        foreign["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only the app that created a reward"),
        "{foreign}"
    );

    // No token in status, auth status, events or files.
    let status = env.run(&["auth", "status", "--json"], None);
    assert!(!String::from_utf8_lossy(&status.stdout).contains(&access));
    let events = env.run(&["events", "--json", "--limit", "1000"], None);
    assert!(!String::from_utf8_lossy(&events.stdout).contains(&access));

    // The refresh token is revoked and the access token expires: the next Helix call
    // fails its one refresh, Twitch reports auth_required, the daemon keeps serving.
    fake.oauth.expire_access_token(&access);
    fake.oauth.revoke_refresh_tokens();
    let failed = env.run(&["chat", "send", "anyone there?"], None);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    let detail = wait_for_state(&env, "auth_required");
    assert!(detail.contains("roadie auth login twitch"), "{detail}");
    assert_eq!(rt.block_on(client.health()).unwrap().status, "ok");
    let status = rt.block_on(client.status()).unwrap();
    let twitch = status
        .components
        .iter()
        .find(|component| component.name == "twitch")
        .unwrap();
    assert_eq!(serde_json::to_value(twitch.state).unwrap(), "auth_required");
    let history = rt
        .block_on(client.history(&["platform.status".into()], None, Some(100)))
        .unwrap();
    assert!(
        history
            .events
            .iter()
            .any(|event| event.platform == "twitch" && event.data["state"] == "auth_required")
    );

    // Fixed without a restart: sign in again with the device flow.
    fake.oauth.script_device(&["authorization_pending"]);
    let login = env
        .command(&["auth", "login", "twitch", "--device"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let login = wait_output(login, Duration::from_secs(30));
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert!(String::from_utf8_lossy(&login.stderr).contains("enter the code ABCDEFGH"));
    assert!(String::from_utf8_lossy(&login.stdout).contains("signed in as twitchdev"));
    wait_for_state(&env, "connected");

    // No token of either sign-in in any file (database, WAL, logs, stderr): the
    // encrypted vault is the only place they live.
    let tokens: Vec<String> = {
        let oauth = fake.oauth.state.lock().unwrap();
        oauth
            .access_tokens
            .keys()
            .cloned()
            .chain(oauth.refresh_tokens.iter().cloned())
            .collect()
    };
    assert!(tokens.len() >= 2);
    for token in tokens.iter().chain([access.clone()].iter()) {
        let hits = crate::secrets::files_containing(env.root(), token.as_bytes());
        assert!(hits.is_empty(), "token found in {hits:?}");
    }

    // Logout revokes and forgets.
    let logout = env.run(&["auth", "logout", "twitch"], None);
    assert!(
        String::from_utf8_lossy(&logout.stdout).contains("tokens are revoked and deleted"),
        "{}",
        String::from_utf8_lossy(&logout.stdout)
    );
    assert_eq!(
        fake.oauth.state.lock().unwrap().revoked.len(),
        2,
        "access and refresh tokens revoked"
    );
    let (state, _) = twitch_state(&env);
    assert_eq!(state, "auth_required");
    drop(daemon);
}

#[test]
fn browser_sign_in_with_pkce_through_the_cli() {
    let rt = support::runtime();
    let fake = rt.block_on(fake_twitch());
    let env = support::env();
    configure(&env, &fake);
    let _daemon: RunningDaemon = env.spawn_daemon();
    let mut login = env
        .command(&["auth", "login", "twitch"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(login.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the CLI printed no URL"
        );
        if let Some(start) = line.find("http://") {
            break line[start..].trim().to_owned();
        }
    };
    assert!(
        url.contains("code_challenge_method=S256")
            && url.contains("state=")
            && url.contains("scope="),
        "{url}"
    );
    // Twitch matches the registered redirect URL's port: the fixed default one.
    assert!(
        url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A17563%2Fcallback"),
        "{url}"
    );
    // "The browser": follow the authorize URL to the CLI's callback page.
    let page = rt.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    assert!(page.contains("Connected"), "{page}");
    let output = wait_output(login, Duration::from_secs(30));
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("signed in as twitchdev"));
    wait_for_state(&env, "connected");
}

#[test]
fn logging_out_of_a_platform_that_is_not_configured_leaves_it_disabled() {
    let env = support::env();
    let _daemon: RunningDaemon = env.spawn_daemon();
    assert_eq!(twitch_state(&env).0, "disabled");
    let out = support::run_ok(&env, &["auth", "logout", "twitch"]);
    assert!(out.contains("nobody was signed in"), "{out}");
    let (state, detail) = twitch_state(&env);
    assert_eq!(state, "disabled", "{detail}");
    assert!(detail.contains("no [twitch] section"), "{detail}");
}

#[test]
fn platforms_without_a_config_section_add_nothing_to_the_log_at_start() {
    let env = support::env();
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    assert_eq!(twitch_state(&env).0, "disabled");
    // The start-up states are recorded by then; an acknowledged publish commits after
    // anything queued before it.
    std::thread::sleep(Duration::from_millis(300));
    rt.block_on(client.publish(support::custom_events(1, 0)))
        .unwrap();
    let history = rt
        .block_on(client.history(&["platform.status".into()], None, Some(100)))
        .unwrap();
    assert!(history.events.is_empty(), "{:?}", history.events);
}
