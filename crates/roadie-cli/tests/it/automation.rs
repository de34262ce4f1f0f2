//! Chat automation end to end: commands managed and dry-run through the CLI,
//! config-as-code export and import with line-precise errors, a `!command` from the
//! fake Twitch answered in chat, points earned once per message even when Twitch
//! redelivers it, gives, takes and links, and hostile scripts stopped while the daemon
//! keeps serving.

use std::time::{Duration, Instant};

use roadie_test_support::fake_eventsub::FakeEventSub;
use roadie_test_support::fake_twitch::FakeTwitch;
use roadie_test_support::{RunningDaemon, TestEnv};
use serde_json::{Value, json};

use crate::support::{self, run_ok};

fn run_fails(env: &TestEnv, args: &[&str]) -> String {
    let output = env.run(args, None);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{args:?} should fail: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn commands_are_managed_dry_run_exported_and_imported_through_the_cli() {
    let env = support::env();
    let _daemon = env.spawn_daemon();

    run_ok(
        &env,
        &[
            "commands",
            "add",
            "!Hello",
            "Hi $(user), $(touser) says $(args) [$(count)]",
            "--alias",
            "!hi",
            "--cooldown",
            "30",
        ],
    );
    run_ok(
        &env,
        &["commands", "add", "!reset", "done", "--role", "moderator"],
    );
    let listed: Value =
        serde_json::from_str(&run_ok(&env, &["commands", "list", "--json"])).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|command| command["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["!hello", "!reset"], "names are lowercased, sorted");
    assert_eq!(listed[0]["aliases"], json!(["!hi"]));
    assert_eq!(listed[0]["cooldown"], 30);

    // The dry run answers through aliases, counts nothing and sends nothing.
    let reply = run_ok(
        &env,
        &["commands", "test", "!HI @bob well played", "--user", "amy"],
    );
    assert_eq!(reply.trim(), "Hi amy, bob says @bob well played [1]");
    let again = run_ok(&env, &["commands", "test", "!hi", "--user", "amy"]);
    assert_eq!(
        again.trim(),
        "Hi amy, amy says  [1]",
        "nothing counted, no cooldown"
    );

    // Role gates.
    let denied = run_fails(&env, &["commands", "test", "!reset"]);
    assert!(
        denied.contains("denied") && denied.contains("moderator"),
        "{denied}"
    );
    let allowed = run_ok(
        &env,
        &["commands", "test", "!reset", "--role", "broadcaster"],
    );
    assert_eq!(allowed.trim(), "done");
    let unknown = run_fails(&env, &["commands", "test", "!nothing"]);
    assert!(unknown.contains("unknown"), "{unknown}");

    // A bad template is refused with its column; a name colliding with a built-in too.
    let bad = run_fails(&env, &["commands", "add", "!bad", "x $(nope)"]);
    assert!(bad.contains("nope") && bad.contains("column"), "{bad}");
    let builtin = run_fails(&env, &["commands", "add", "!points", "x"]);
    assert!(builtin.contains("!points"), "{builtin}");

    // Export, import back: the same commands.
    let exported = run_ok(&env, &["commands", "export"]);
    assert!(exported.contains("[[commands]]") && exported.contains("name = \"!hello\""));
    let file = env.root().join("commands.toml");
    std::fs::write(&file, &exported).unwrap();
    run_ok(&env, &["commands", "remove", "!reset"]);
    let summary = run_ok(&env, &["commands", "import", file.to_str().unwrap()]);
    assert!(summary.contains("2 command"), "{summary}");
    let relisted: Value =
        serde_json::from_str(&run_ok(&env, &["commands", "list", "--json"])).unwrap();
    assert_eq!(relisted.as_array().unwrap().len(), 2);

    // A broken document names the line and column of each problem; nothing changes.
    let broken = env.root().join("broken.toml");
    std::fs::write(
        &broken,
        "[[commands]]\nname = \"!a\"\ntemplate = \"ok\"\n\n[[commands]]\nname = \"!b\"\ntemplate = \"$(wat)\"\ncooldown = -1\n",
    )
    .unwrap();
    let problems = run_fails(&env, &["commands", "import", broken.to_str().unwrap()]);
    assert!(problems.contains("line 7, column"), "{problems}");
    assert!(problems.contains("nothing changed"), "{problems}");
    let unchanged: Value =
        serde_json::from_str(&run_ok(&env, &["commands", "list", "--json"])).unwrap();
    assert_eq!(unchanged, relisted);

    run_ok(&env, &["commands", "remove", "!hello"]);
    let gone = run_fails(&env, &["commands", "remove", "!hello"]);
    assert!(gone.contains("no command"), "{gone}");
}

fn token_json(fake: &FakeTwitch) -> String {
    let (access, refresh) = fake
        .oauth
        .mint_tokens(&["user:read:chat", "user:write:chat"]);
    json!({"access_token": access, "refresh_token": refresh, "expires_in": 14400,
        "scope": ["user:read:chat", "user:write:chat"], "token_type": "bearer"})
    .to_string()
}

fn wait_subscribed(fake: &FakeTwitch) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !fake.helix.with(|state| {
        state
            .subscriptions
            .iter()
            .any(|subscription| subscription["type"] == "channel.chat.message")
    }) {
        assert!(Instant::now() < deadline, "Roadie never subscribed to chat");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The captured chat event, as another viewer.
fn chat_from(message_id: &str, text: &str, user_id: &str, login: &str) -> Value {
    let mut event = FakeEventSub::chat_event(message_id, text);
    event["chatter_user_id"] = json!(user_id);
    event["chatter_user_login"] = json!(login);
    event["chatter_user_name"] = json!(login);
    event
}

fn balance(env: &TestEnv, user: &str) -> i64 {
    let shown: Value =
        serde_json::from_str(&run_ok(env, &["points", "balance", user, "--json"])).unwrap();
    shown["balance"].as_i64().unwrap()
}

fn wait_for_balance(env: &TestEnv, user: &str, wanted: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = env.run(&["points", "balance", user, "--json"], None);
        if output.status.success() {
            let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
            if shown["balance"] == wanted {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{user} never reached {wanted}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_twitch_chat_command_is_answered_and_chat_earns_points_once() {
    let rt = support::runtime();
    let fake = rt.block_on(FakeTwitch::start());
    let env = support::env();
    env.write_config(&format!("{}poll_seconds = 1\n", fake.config_section()));
    let daemon: RunningDaemon = env.spawn_daemon();
    let imported = env.run(&["auth", "import", "twitch"], Some(&token_json(&fake)));
    assert!(imported.status.success());
    wait_subscribed(&fake);
    run_ok(
        &env,
        &["commands", "add", "!hello", "Hello $(user), use #$(count)"],
    );

    let client = support::client(&daemon);
    let ran = rt.block_on(async {
        let mut stream = client
            .subscribe(&["command.ran".into()], None)
            .await
            .unwrap();
        fake.eventsub.send_chat("chat-1", "!hello");
        tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    });
    assert_eq!(ran.platform, "twitch");
    assert_eq!(ran.data["command"], "!hello");
    assert_eq!(ran.data["count"], 1);
    assert_eq!(ran.data["user"]["login"], "viewer32");
    let reply = ran.data["reply"].as_str().unwrap().to_owned();
    assert!(
        reply.starts_with("Hello ") && reply.ends_with("use #1"),
        "{reply}"
    );
    assert_eq!(fake.helix.chat_texts(), vec![reply]);

    // $(followage) asks Twitch when this viewer followed (the docs example: May 2022).
    run_ok(
        &env,
        &[
            "commands",
            "add",
            "!age",
            "$(user) has followed for $(followage)",
        ],
    );
    fake.eventsub.send_chat("chat-age", "!age");
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.helix.chat_texts().len() < 2 {
        assert!(Instant::now() < deadline, "!age was not answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let age = fake.helix.chat_texts()[1].clone();
    assert!(age.contains("has followed for 4y"), "{age}");
    assert!(fake.helix.with(|state| {
        state
            .gets
            .iter()
            .any(|get| get.starts_with("/channels/followers?broadcaster_id=141981764&user_id="))
    }));

    // One point per chat message; Twitch redelivering a message (a new frame with the
    // same message) credits nothing twice.
    wait_for_balance(&env, "twitch:viewer32", 2);
    let repeated = fake.eventsub.notification_frame(
        "channel.chat.message",
        FakeEventSub::chat_event("chat-1", "!hello"),
    );
    fake.eventsub.send_raw(repeated);
    fake.eventsub.send_chat("chat-2", "just chatting");
    wait_for_balance(&env, "viewer32", 3);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        balance(&env, "viewer32"),
        3,
        "a replayed message credited again"
    );

    // Give, take (never below zero), and link another account into one balance.
    run_ok(&env, &["points", "give", "twitch:viewer32", "10"]);
    assert_eq!(balance(&env, "viewer32"), 13);
    let refused = run_fails(&env, &["points", "take", "viewer32", "100"]);
    assert!(refused.contains("not enough points"), "{refused}");
    run_ok(&env, &["points", "take", "viewer32", "2"]);
    assert_eq!(balance(&env, "viewer32"), 11);
    fake.eventsub.send_raw(fake.eventsub.notification_frame(
        "channel.chat.message",
        chat_from("chat-3", "hi from my alt", "9001", "altaccount"),
    ));
    wait_for_balance(&env, "twitch:altaccount", 1);
    let linked: Value = serde_json::from_str(&run_ok(
        &env,
        &["points", "link", "viewer32", "altaccount", "--json"],
    ))
    .unwrap();
    assert_eq!(linked["balance"], 12);
    assert_eq!(linked["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(
        balance(&env, "altaccount"),
        12,
        "linked accounts share one balance"
    );
    let top: Value = serde_json::from_str(&run_ok(&env, &["points", "top", "--json"])).unwrap();
    assert_eq!(top[0]["balance"], 12);
    let unknown = run_fails(&env, &["points", "balance", "nobody"]);
    assert!(unknown.contains("no viewer nobody"), "{unknown}");

    // Watch time: while live, everyone Twitch lists in chat earns 10 points a minute,
    // once per minute however often Roadie polls (here every second).
    fake.helix.with(|state| {
        state.live = true;
        state.chatters = 8;
    });
    wait_for_balance(&env, "twitch:smittysmithers", 10);
    std::thread::sleep(Duration::from_millis(3500));
    let watched = balance(&env, "twitch:smittysmithers");
    assert!(
        watched == 10 || watched == 20,
        "credited per poll, not per minute: {watched}"
    );
}

#[test]
fn hostile_scripts_are_stopped_within_twice_their_limit_and_the_daemon_carries_on() {
    let env = support::env();
    let daemon = env.spawn_daemon();
    let client = support::client(&daemon);
    let rt = support::runtime();
    let cases = [
        ("endless loop", "while (true) {}", "longer than 100 ms"),
        (
            "memory bomb",
            "let a = []; for (;;) a.push(new Array(100000).fill(1));",
            "",
        ),
        (
            "runaway recursion",
            "function f() { return f() + 1; } f();",
            "recursed too deeply",
        ),
        (
            "huge output",
            "for (;;) reply('x'.repeat(100000));",
            "output",
        ),
        (
            "host hunt",
            "reply(typeof require + typeof process + typeof std + typeof os + typeof fetch); import('fs');",
            "",
        ),
    ];
    for (name, source, expected) in cases {
        let result = rt
            .block_on(client.script_test(&roadie_protocol::ScriptTest {
                source: source.into(),
                user: None,
                args: Vec::new(),
            }))
            .unwrap();
        assert!(!result.ok, "{name} was not stopped");
        let error = result.error.unwrap_or_default();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(
            result.elapsed_ms < 200.0,
            "{name} ran {} ms, over twice the 100 ms limit",
            result.elapsed_ms
        );
        assert!(rt.block_on(client.health()).is_ok(), "health after {name}");
    }
    // The host hunt found nothing: every probe was "undefined" before import() threw.
    let probe = rt
        .block_on(client.script_test(&roadie_protocol::ScriptTest {
            source: "reply([typeof require, typeof process, typeof std, typeof os, typeof fetch].join(' '))".into(),
            user: Some("amy".into()),
            args: vec!["1".into()],
        }))
        .unwrap();
    assert!(probe.ok, "{:?}", probe.error);
    assert_eq!(
        probe.replies,
        ["undefined undefined undefined undefined undefined"]
    );

    // The CLI prints replies, and fails with the reason.
    let file = env.root().join("hello.js");
    std::fs::write(&file, "reply('hi ' + user.login + ' ' + args.join('+'))").unwrap();
    let out = run_ok(
        &env,
        &[
            "scripts",
            "test",
            file.to_str().unwrap(),
            "--user",
            "bob",
            "--arg",
            "a",
            "--arg",
            "b",
        ],
    );
    assert_eq!(out.trim(), "hi bob a+b");
    std::fs::write(&file, "throw new Error('boom')").unwrap();
    let failed = run_fails(&env, &["scripts", "test", file.to_str().unwrap()]);
    assert!(failed.contains("boom"), "{failed}");
}

/// The real captured redemption event, for `reward_id` titled `title`.
fn redemption(redemption_id: &str, reward_id: &str, title: &str) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../roadie-platform-twitch/tests/data/twitch_eventsub_payload_channel.channel_points_custom_reward_redemption.add.json"
    ))
    .unwrap();
    let mut event = serde_json::from_str::<Value>(&text).unwrap()["event"].clone();
    event["id"] = json!(redemption_id);
    event["reward"]["id"] = json!(reward_id);
    event["reward"]["title"] = json!(title);
    event
}

fn wait_for_update(fake: &FakeTwitch, redemption_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let update = fake.helix.with(|state| {
            state
                .redemption_updates
                .iter()
                .find(|(id, _, _)| id == redemption_id)
                .map(|(_, _, status)| status.clone())
        });
        if let Some(status) = update {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{redemption_id} was never fulfilled or cancelled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_redemption_runs_its_action_and_is_fulfilled_or_refunded() {
    let rt = support::runtime();
    let fake = rt.block_on(FakeTwitch::start());
    let env = support::env();
    // TTS through a program that prints a prepared WAV; the redeemer has their own voice.
    let clip = env.root().join("clip.wav");
    std::fs::write(&clip, crate::tts::wav(0.2)).unwrap();
    env.write_config(&format!(
        "{}[tts]\nengine = \"command\"\ncommand = [\"cat\", \"{}\"]\nuser_voices = {{ \"twitch:cooler_user\" = \"en-gb\" }}\n",
        fake.config_section(),
        clip.display()
    ));
    let daemon = env.spawn_daemon();
    let imported = env.run(&["auth", "import", "twitch"], Some(&token_json(&fake)));
    assert!(imported.status.success());
    wait_subscribed(&fake);
    // Two rewards Roadie created (only those can be fulfilled or refunded by it).
    for (id, title) in [
        ("reward-hydrate", "Hydrate!"),
        ("reward-scene", "Change scene"),
    ] {
        let mut reward = json!({"id": id, "title": title, "cost": 100, "prompt": "", "is_enabled": true,
            "is_paused": false, "is_user_input_required": false});
        reward["broadcaster_id"] = json!("141981764");
        fake.helix.with(|state| state.rewards.push((reward, true)));
    }
    let actions = env.root().join("actions.toml");
    std::fs::write(
        &actions,
        r#"[[actions]]
name = "hydrate"

[[actions.triggers]]
type = "redemption"
reward = "hydrate!"

[[actions.steps]]
type = "chat"
text = "$(user) says drink water: $(input)"

[[actions.steps]]
type = "event"
name = "confetti"

[[actions.steps]]
type = "tts"
text = "$(user) is hydrated"

[[actions]]
name = "scene"

[[actions.triggers]]
type = "redemption"
reward_id = "reward-scene"

[[actions.steps]]
type = "obs_scene"
scene = "Just Chatting"

[[actions.steps]]
type = "chat"
text = "never sent: the step before failed"

[[actions]]
name = "dice"

[[actions.triggers]]
type = "command"
name = "!dice"

[[actions.steps]]
type = "script"
script = "dice"
"#,
    )
    .unwrap();
    let summary = run_ok(&env, &["actions", "import", actions.to_str().unwrap()]);
    assert!(summary.contains("3 action"), "{summary}");
    let scripts = env.data_dir().join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        scripts.join("dice.js"),
        "const n = (vars.get('rolls') || 0) + 1; vars.set('rolls', n);\n\
         points.add(5);\n\
         reply(user.name + ' rolled a ' + random(1, 6) + ' (roll #' + n + ')');",
    )
    .unwrap();
    let listed = run_ok(&env, &["actions", "list"]);
    assert!(
        listed.contains("hydrate") && listed.contains("redemption"),
        "{listed}"
    );

    let client = support::client(&daemon);
    let (hydrated, scene, spoken) = rt.block_on(async {
        // Subscribed just before the redemption: live delivery must not miss the
        // event (the daemon subscribes before it answers the upgrade).
        let mut spoken_stream = client
            .subscribe(&["tts.queued".into()], None)
            .await
            .unwrap();
        let mut stream = client
            .subscribe(&["action.ran".into()], None)
            .await
            .unwrap();
        fake.eventsub.send_raw(fake.eventsub.notification_frame(
            "channel.channel_points_custom_reward_redemption.add",
            redemption("redemption-1", "reward-hydrate", "Hydrate!"),
        ));
        let hydrated = tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        fake.eventsub.send_raw(fake.eventsub.notification_frame(
            "channel.channel_points_custom_reward_redemption.add",
            redemption("redemption-2", "reward-scene", "Change scene"),
        ));
        let scene = tokio::time::timeout(Duration::from_secs(10), stream.next_event())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let spoken = tokio::time::timeout(Duration::from_secs(10), spoken_stream.next_event())
            .await
            .unwrap_or_else(|_| panic!("tts.queued never came live; hydrate: {}", hydrated.data))
            .unwrap()
            .unwrap();
        (hydrated, scene, spoken)
    });
    assert_eq!(spoken.data["text"], "Cooler_User is hydrated");
    assert_eq!(spoken.data["user"]["login"], "cooler_user");
    assert_eq!(spoken.data["voice"], "en-gb", "the redeemer's own voice");
    assert_eq!(hydrated.data["action"], "hydrate");
    assert_eq!(hydrated.data["trigger"], "redemption");
    assert_eq!(hydrated.data["ok"], true, "{}", hydrated.data);
    assert_eq!(hydrated.data["user"]["login"], "cooler_user");
    assert_eq!(
        fake.helix.chat_texts(),
        vec!["Cooler_User says drink water: pogchamp"]
    );
    assert_eq!(wait_for_update(&fake, "redemption-1"), "FULFILLED");

    assert_eq!(scene.data["action"], "scene");
    assert_eq!(scene.data["ok"], false);
    let steps = scene.data["steps"].as_array().unwrap();
    assert_eq!(
        steps.len(),
        1,
        "the failing step stops the action: {steps:?}"
    );
    assert!(
        steps[0]["error"].as_str().unwrap().contains("OBS"),
        "{steps:?}"
    );
    assert_eq!(wait_for_update(&fake, "redemption-2"), "CANCELED");
    assert_eq!(
        fake.helix.chat_texts().len(),
        1,
        "nothing after the failed step"
    );

    // A command trigger runs a script action: its variables persist between runs and
    // its points go through the ledger.
    for (n, id) in [(1, "dice-1"), (2, "dice-2")] {
        fake.eventsub.send_chat(id, "!dice");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !fake
            .helix
            .chat_texts()
            .iter()
            .any(|text| text.ends_with(&format!("(roll #{n})")))
        {
            assert!(
                Instant::now() < deadline,
                "roll {n} never came: {:?}",
                fake.helix.chat_texts()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // 5 per roll from the script, 1 per chat message.
    wait_for_balance(&env, "twitch:viewer32", 12);

    // Runs by name report each step; a failed one exits 1.
    let ran = run_ok(&env, &["actions", "run", "hydrate", "--input", "now"]);
    assert!(
        ran.contains("1. chat ok") && ran.contains("2. event ok") && ran.contains("3. tts ok"),
        "{ran}"
    );
    let failed = run_fails(&env, &["actions", "run", "scene"]);
    assert!(failed.contains("action scene failed"), "{failed}");
    let missing = run_fails(&env, &["actions", "run", "nope"]);
    assert!(missing.contains("no action"), "{missing}");
    let stranger = run_fails(&env, &["actions", "run", "hydrate", "--user", "stranger"]);
    assert!(
        stranger.contains("no viewer stranger") && stranger.contains("HTTP 404"),
        "{stranger}"
    );
    let exported = run_ok(&env, &["actions", "export"]);
    assert!(
        exported.contains("name = \"hydrate\"")
            && exported.contains("reward_id = \"reward-scene\""),
        "{exported}"
    );
}
