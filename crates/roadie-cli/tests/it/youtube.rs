//! YouTube end to end, as a user runs it: the daemon configured against the fake
//! YouTube (Google OAuth and the Data API on 127.0.0.1:0), `auth import youtube`, the
//! live chat polled onto the event stream (a text message and a Super Chat from the
//! documented item shapes), the quota spending in `roadie status`, `chat send
//! --platform youtube` (over-long refused with the reason), and `logout` revoking the
//! grant.

use std::process::Stdio;
use std::time::{Duration, Instant};

use roadie_test_support::fake_youtube::{FakeYoutube, FakeYoutubeOptions, YOUTUBE_SCOPE};
use roadie_test_support::{RunningDaemon, TestEnv, wait_output};
use serde_json::{Value, json};

use crate::support::{self, run_ok};

fn token_json(fake: &FakeYoutube) -> String {
    let (access, refresh) = fake.mint_tokens();
    json!({"access_token": access, "refresh_token": refresh, "expires_in": 3599,
        "scope": YOUTUBE_SCOPE, "token_type": "Bearer"})
    .to_string()
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within 15 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The fake YouTube with a live broadcast whose chat asks for polls every 200 ms.
fn start_fake(rt: &tokio::runtime::Runtime) -> FakeYoutube {
    rt.block_on(FakeYoutube::start_with(FakeYoutubeOptions {
        polling_interval_ms: 200,
        // At 10,000 units the planner rightly spaces polls by many seconds (the test
        // of that pacing is the adapter's); a big project polls at YouTube's pace.
        daily_limit: 1_000_000,
        ..FakeYoutubeOptions::default()
    }))
}

fn configure(env: &TestEnv, fake: &FakeYoutube) {
    env.write_config(&format!("{}poll_seconds = 1\n", fake.config_section()));
}

/// The documented Super Chat item, published now (older chat is backlog and skipped).
fn super_chat_item(fake: &FakeYoutube) -> Value {
    let items: Vec<Value> = serde_json::from_str(include_str!(
        "../../../roadie-platform-youtube/tests/data/youtube_livechat_items_documented_types.json"
    ))
    .unwrap();
    let mut item = items
        .into_iter()
        .find(|item| item["snippet"]["type"] == "superChatEvent")
        .unwrap();
    item["snippet"]["publishedAt"] = json!(fake.with(|state| state.now_text()));
    item
}

fn next_event(
    rt: &tokio::runtime::Runtime,
    daemon: &RunningDaemon,
    kind: &str,
    cause: impl FnOnce(),
) -> roadie_protocol::EventEnvelope {
    let client = support::client(daemon);
    rt.block_on(async {
        let mut stream = client.subscribe(&[kind.into()], None).await.unwrap();
        cause();
        tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap_or_else(|_| panic!("no {kind} in 10 s:\n{}", daemon.stderr()))
            .unwrap()
            .unwrap()
    })
}

#[test]
fn youtube_sign_in_chat_quota_and_logout_end_to_end() {
    let rt = support::runtime();
    let fake = start_fake(&rt);
    let env = support::env();
    configure(&env, &fake);
    let daemon = env.spawn_daemon();
    let (state, detail) = support::platform_state(&env, "youtube");
    assert_eq!(state, "auth_required");
    assert!(detail.contains("roadie auth login youtube"), "{detail}");

    // A token Google does not know is refused, and nothing is stored.
    let refused = env.run(
        &["auth", "import", "youtube"],
        Some(r#"{"access_token":"not-a-google-token"}"#),
    );
    assert_eq!(refused.status.code(), Some(1));

    let imported = env.run(&["auth", "import", "youtube"], Some(&token_json(&fake)));
    assert!(
        imported.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&imported.stderr),
        daemon.stderr()
    );
    let said = String::from_utf8_lossy(&imported.stdout).into_owned();
    assert!(said.starts_with("youtube: signed in as"), "{said}");
    support::wait_for_platform_state(&env, "youtube", "connected");
    wait_until("the first chat poll", || !fake.poll_times().is_empty());

    // A chat message polled from the live chat reaches the event stream.
    let envelope = next_event(&rt, &daemon, "chat.message", || {
        fake.inject_text("yt-message-1", "hello from youtube");
    });
    assert_eq!(
        (envelope.platform.as_str(), envelope.kind.as_str()),
        ("youtube", "chat.message")
    );
    assert_eq!(envelope.data["message_id"], "yt-message-1");
    assert_eq!(envelope.data["text"], "hello from youtube");
    assert_eq!(envelope.data["user"]["login"], "Fake Viewer");

    // A Super Chat is a tip with the exact amount.
    let tip = next_event(&rt, &daemon, "tip", || {
        fake.inject_item(super_chat_item(&fake));
    });
    assert_eq!(tip.platform, "youtube");
    assert_eq!(tip.data["amount"], "5");
    assert_eq!(tip.data["currency"], "USD");
    assert_eq!(tip.data["message"], "keep it up!");

    // The quota spent so far shows in `roadie status`, as the fake counted it.
    let status: Value = serde_json::from_str(&run_ok(&env, &["status", "--json"])).unwrap();
    let quota = &status["youtube_quota"];
    assert_eq!(quota["budget"], 1_000_000, "{status}");
    let used = quota["used"].as_u64().unwrap();
    assert!(used > 0, "{status}");
    assert!(
        u64::from(fake.quota_spent()) >= used,
        "the daemon counts {used}, the fake {}",
        fake.quota_spent()
    );
    assert_eq!(quota["exhausted"], false);
    let human = run_ok(&env, &["status"]);
    assert!(human.contains("quota"), "{human}");

    // Chat goes out through liveChatMessages.insert; too long is refused with the reason.
    let sent = run_ok(
        &env,
        &["chat", "send", "--platform", "youtube", "hello from roadie"],
    );
    assert!(sent.contains("youtube"), "{sent}");
    wait_until("the fake receives the chat", || {
        fake.received_chats()
            .iter()
            .any(|text| text == "hello from roadie")
    });
    let long = "x".repeat(201);
    let refused = env.run(&["chat", "send", "--platform", "youtube", &long], None);
    assert_eq!(refused.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        reason.contains("201 characters") && reason.contains("at most 200"),
        "{reason}"
    );
    assert_eq!(fake.received_chats().len(), 1);

    // Logging out revokes the grant and leaves the daemon serving.
    let out = run_ok(&env, &["auth", "logout", "youtube"]);
    assert!(out.contains("revoked"), "{out}");
    let revoked = fake.with(|state| state.revoked.clone());
    assert!(!revoked.is_empty(), "{revoked:?}");
    let (state, _) = support::platform_state(&env, "youtube");
    assert_eq!(state, "auth_required");
    let status: Value = serde_json::from_str(&run_ok(&env, &["status", "--json"])).unwrap();
    assert!(status["youtube_quota"].is_null(), "{status}");

    // Back without a restart through Google's device flow, which allows only the
    // `youtube` scope and names its page `verification_url`.
    fake.script_device(&["authorization_pending"]);
    let login = env
        .command(&["auth", "login", "youtube", "--device"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let login = wait_output(login, Duration::from_secs(30));
    let said = String::from_utf8_lossy(&login.stderr).into_owned();
    assert!(login.status.success(), "{said}");
    assert!(
        said.contains("https://www.google.com/device") && said.contains("FAK-EYT-ABC"),
        "{said}"
    );
    assert_eq!(
        fake.with(|state| state.device_scope.clone()).as_deref(),
        Some(YOUTUBE_SCOPE)
    );
    assert!(fake.device_polls().len() >= 2);
    support::wait_for_platform_state(&env, "youtube", "connected");

    // No Google token in any file (database, WAL, logs): only the encrypted vault.
    let tokens: Vec<String> = fake.with(|state| {
        state
            .access_tokens
            .keys()
            .chain(state.refresh_tokens.keys())
            .cloned()
            .collect()
    });
    assert!(tokens.len() >= 2);
    for token in &tokens {
        let hits = crate::secrets::files_containing(env.root(), token.as_bytes());
        assert!(hits.is_empty(), "token found in {hits:?}");
    }
}

/// `(stream.online events, stream sessions)` stored for YouTube.
fn youtube_online_record(env: &TestEnv) -> (i64, i64) {
    let connection = rusqlite::Connection::open(env.data_dir().join("roadie.db")).unwrap();
    let count = |sql: &str| -> i64 { connection.query_row(sql, [], |row| row.get(0)).unwrap() };
    (
        count(
            "SELECT count(*) FROM event_log WHERE platform = 'youtube' AND type = 'stream.online'",
        ),
        count("SELECT count(*) FROM stream_sessions WHERE platform = 'youtube'"),
    )
}

#[test]
fn a_restart_mid_broadcast_does_not_announce_the_stream_again() {
    let rt = support::runtime();
    let fake = start_fake(&rt);
    let env = support::env();
    configure(&env, &fake);
    let mut daemon = env.spawn_daemon();
    let imported = env.run(&["auth", "import", "youtube"], Some(&token_json(&fake)));
    assert!(imported.status.success(), "{}", daemon.stderr());
    wait_until("the first chat poll", || !fake.poll_times().is_empty());
    daemon.terminate(Duration::from_secs(6)).unwrap();
    assert_eq!(
        youtube_online_record(&env),
        (1, 1),
        "one broadcast went live"
    );

    // Restarted while the broadcast is still live: the adapter finds it anew, and it is
    // the same stream, not a second one.
    let polls_before = fake.poll_times().len();
    let mut restarted = env.spawn_daemon();
    wait_until("chat polled after the restart", || {
        fake.poll_times().len() > polls_before
    });
    let said = restarted.stderr();
    restarted.terminate(Duration::from_secs(6)).unwrap();
    assert_eq!(
        youtube_online_record(&env),
        (1, 1),
        "the restart announced the stream again:\n{said}"
    );
}
