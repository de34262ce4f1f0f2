//! Kick end to end, as a user runs it: the daemon configured against the fake Kick
//! (OAuth, the public API, channel info and a Pusher WebSocket on 127.0.0.1:0),
//! `auth import kick`, chat from the Pusher feed on the event stream, `chat send
//! --platform kick` (over-long refused with the reason), a reward redemption running
//! its action and being accepted or rejected, signed webhooks counted once with the
//! feed, and `logout` revoking both tokens.

use std::time::{Duration, Instant};

use roadie_test_support::TestEnv;
use roadie_test_support::fake_kick::FakeKick;
use serde_json::json;

use crate::support::{self, run_ok};

const SCOPES: &[&str] = &[
    "user:read",
    "channel:read",
    "chat:write",
    "events:subscribe",
    "channel:rewards:read",
    "channel:rewards:write",
];

fn token_json(fake: &FakeKick) -> String {
    let (access, refresh) = fake.mint_tokens(SCOPES);
    json!({"access_token": access, "refresh_token": refresh, "expires_in": 3600,
        "scope": SCOPES.join(" "), "token_type": "Bearer"})
    .to_string()
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within 15 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn post_webhook(
    rt: &tokio::runtime::Runtime,
    address: &str,
    signed: &roadie_test_support::fake_kick::SignedWebhook,
) -> (u16, String) {
    rt.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("http://{address}/webhooks/kick"))
            .header("Kick-Event-Message-Id", &signed.message_id)
            .header("Kick-Event-Subscription-Id", &signed.subscription_id)
            .header("Kick-Event-Signature", &signed.signature)
            .header("Kick-Event-Message-Timestamp", &signed.timestamp)
            .header("Kick-Event-Type", &signed.event_type)
            .header("Kick-Event-Version", &signed.event_version)
            .body(signed.body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    })
}

fn configure(env: &TestEnv, fake: &FakeKick) {
    env.write_config(&format!(
        "{}webhook = true\npoll_seconds = 1\n",
        fake.config_section()
    ));
}

#[test]
fn kick_sign_in_chat_redemptions_webhooks_and_logout_end_to_end() {
    let rt = support::runtime();
    let fake = rt.block_on(FakeKick::start());
    let env = support::env();
    configure(&env, &fake);
    let daemon = env.spawn_daemon();
    let (state, detail) = support::platform_state(&env, "kick");
    assert_eq!(state, "auth_required");
    assert!(detail.contains("roadie auth login kick"), "{detail}");

    // A token Kick does not know is refused, and nothing is stored.
    let refused = env.run(
        &["auth", "import", "kick"],
        Some(r#"{"access_token":"not-a-kick-token"}"#),
    );
    assert_eq!(refused.status.code(), Some(1));
    let refusal = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(refusal.contains("not active"), "{refusal}");

    let imported = env.run(&["auth", "import", "kick"], Some(&token_json(&fake)));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let said = String::from_utf8_lossy(&imported.stdout).into_owned();
    assert!(said.starts_with("kick: signed in as"), "{said}");
    support::wait_for_platform_state(&env, "kick", "connected");
    wait_until("the Pusher subscriptions", || {
        fake.subscriptions().len() >= 4
    });
    // `webhook = true`: the webhook events are subscribed at Kick.
    wait_until("the webhook subscriptions", || {
        fake.with(|state| state.event_subscriptions.len()) >= 10
    });

    // A chat message from the Pusher feed reaches the event stream as the SPEC envelope.
    let client = support::client(&daemon);
    let envelope = rt.block_on(async {
        let mut stream = client
            .subscribe(&["chat.message".into()], None)
            .await
            .unwrap();
        fake.inject_chat("kick-message-1", "hello from kick");
        tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    });
    assert_eq!(
        (envelope.platform.as_str(), envelope.kind.as_str()),
        ("kick", "chat.message")
    );
    assert_eq!(envelope.data["message_id"], "kick-message-1");
    assert_eq!(envelope.data["text"], "hello from kick");
    assert!(!envelope.data["user"]["login"].as_str().unwrap().is_empty());

    // Chat goes out through the public API; too long is refused with the reason.
    let sent = run_ok(
        &env,
        &["chat", "send", "--platform", "kick", "hello from roadie"],
    );
    assert!(sent.contains("kick"), "{sent}");
    wait_until("the fake receives the chat", || {
        fake.received_chats()
            .iter()
            .any(|text| text == "hello from roadie")
    });
    let long = "word ".repeat(120);
    let refused = env.run(&["chat", "send", "--platform", "kick", &long], None);
    assert_eq!(refused.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(reason.contains("500 characters"), "{reason}");

    // A redemption runs its action and is accepted; one whose action fails is rejected.
    let actions = env.root().join("actions.toml");
    std::fs::write(
        &actions,
        r#"[[actions]]
name = "hydrate"

[[actions.triggers]]
type = "redemption"
reward = "Hydrate"

[[actions.steps]]
type = "chat"
text = "$(user) drinks: $(input)"

[[actions]]
name = "scene"

[[actions.triggers]]
type = "redemption"
reward = "Change scene"

[[actions.steps]]
type = "obs_scene"
scene = "Just Chatting"
"#,
    )
    .unwrap();
    run_ok(&env, &["actions", "import", actions.to_str().unwrap()]);
    for (id, title) in [("01HYDRATE", "Hydrate"), ("01SCENE", "Change scene")] {
        fake.add_pending_redemption(id, 77, title, 250);
        fake.push_event(
            "RewardRedeemedEvent",
            &fake.chatroom_channel(),
            &json!({"reward_title": title, "user_id": 77, "channel_id": fake.options().channel_id,
                    "username": "Thirsty", "user_input": "water", "reward_background_color": "#00ff00"}),
        );
        // One at a time: the adapter finds the id among the pending redemptions.
        wait_until("the redemption is settled", || {
            fake.redemption_calls()
                .iter()
                .any(|(_, ids)| ids.iter().any(|settled| settled == id))
        });
    }
    let calls = fake.redemption_calls();
    assert!(
        calls.contains(&("accept".to_owned(), vec!["01HYDRATE".to_owned()])),
        "{calls:?}"
    );
    assert!(
        calls.contains(&("reject".to_owned(), vec!["01SCENE".to_owned()])),
        "{calls:?}"
    );
    wait_until("the action's reply", || {
        fake.received_chats()
            .iter()
            .any(|text| text.contains("drinks: water"))
    });

    // A signed webhook is verified and normalised; the same chat message heard on the
    // Pusher feed too counts once; a tampered delivery is refused.
    let body = include_str!(
        "../../../roadie-platform-kick/tests/data/kick_webhook_chat.message.sent.json"
    );
    let message_id = serde_json::from_str::<serde_json::Value>(body).unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, answer) = post_webhook(
        &rt,
        daemon.address(),
        &fake.sign_webhook("chat.message.sent", body),
    );
    assert_eq!(status, 204, "{answer}");
    let mut tampered = fake.sign_webhook("chat.message.sent", body);
    tampered.body = tampered.body.replacen('{', "{ ", 1);
    let (status, answer) = post_webhook(&rt, daemon.address(), &tampered);
    assert_eq!(status, 400, "{answer}");
    fake.inject_chat(&message_id, "the same message by Pusher");
    std::thread::sleep(Duration::from_millis(500));
    let history = run_ok(&env, &["events", "--type", "chat.message"]);
    let copies = history.matches(message_id.as_str()).count();
    assert_eq!(copies, 1, "{history}");

    // Logging out revokes both tokens and leaves the daemon serving.
    let out = run_ok(&env, &["auth", "logout", "kick"]);
    assert!(out.contains("revoked"), "{out}");
    let revoked = fake.revocations();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    let (state, _) = support::platform_state(&env, "kick");
    assert_eq!(state, "auth_required");
    run_ok(&env, &["status"]);
}
