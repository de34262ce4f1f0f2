//! Cooldowns and timers in the running service, on tokio's paused clock: time moves
//! only when the test advances it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use roadie_core::{Event, EventKind, Platform, Role, User};
use roadie_protocol::CommandUpsert;
use roadie_store::{Store, StoreOptions};

use super::{Automation, lock, wall_now};
use crate::bus::EventBus;

async fn service() -> (Automation, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (fanout, hook) = EventBus::fanout();
    let path = dir.path().join("roadie.db");
    let (store, _) = Store::open(&path, StoreOptions::default(), hook).unwrap();
    let bus = EventBus::new(store.clone(), fanout);
    let health = std::sync::Arc::new(crate::health::HealthBoard::default());
    let obs = crate::obs::Obs::start(&roadie_config::ObsConfig::default(), bus.clone(), health);
    // No engine probe: its time limit would be a timer the paused clock jumps to.
    let tts = crate::tts::Tts::idle(&roadie_config::TtsConfig::default(), bus.clone());
    let (automation, _tasks) =
        Automation::new(store, bus, obs, tts, dir.path().join("scripts")).await;
    (automation, dir)
}

fn viewer(id: &str, roles: Vec<Role>) -> User {
    User {
        id: id.into(),
        login: format!("viewer{id}"),
        name: format!("Viewer{id}"),
        roles,
    }
}

fn command(name: &str, cooldown: u64, user_cooldown: u64) -> CommandUpsert {
    CommandUpsert {
        name: name.into(),
        template: "hi $(user)".into(),
        aliases: Vec::new(),
        cooldown,
        user_cooldown,
        role: None,
        platforms: Vec::new(),
        enabled: None,
    }
}

fn count(automation: &Automation, name: &str) -> u64 {
    lock(&automation.inner.dispatcher).count(name)
}

async fn say(automation: &Automation, user: &User, text: &str) {
    automation
        .run_command(Platform::Twitch, user.clone(), text.into())
        .await;
}

#[tokio::test(start_paused = true)]
async fn global_cooldowns_hold_every_viewer_until_they_pass() {
    let (automation, _dir) = service().await;
    automation
        .upsert_command(command("!hi", 30, 0))
        .await
        .unwrap();
    let (alice, bob) = (viewer("1", vec![]), viewer("2", vec![]));
    say(&automation, &alice, "!hi").await;
    assert_eq!(count(&automation, "!hi"), 1);
    tokio::time::advance(Duration::from_secs(10)).await;
    say(&automation, &bob, "!hi").await;
    assert_eq!(count(&automation, "!hi"), 1, "answered during the cooldown");
    tokio::time::advance(Duration::from_secs(21)).await;
    say(&automation, &bob, "!hi").await;
    assert_eq!(
        count(&automation, "!hi"),
        2,
        "not answered after the cooldown"
    );
    // Moderators are never held back.
    say(&automation, &viewer("3", vec![Role::Moderator]), "!hi").await;
    assert_eq!(count(&automation, "!hi"), 3);
}

#[tokio::test(start_paused = true)]
async fn user_cooldowns_hold_only_the_viewer_who_used_it() {
    let (automation, _dir) = service().await;
    automation
        .upsert_command(command("!dice", 0, 60))
        .await
        .unwrap();
    let (alice, bob) = (viewer("1", vec![]), viewer("2", vec![]));
    say(&automation, &alice, "!dice").await;
    say(&automation, &bob, "!dice").await;
    assert_eq!(
        count(&automation, "!dice"),
        2,
        "bob is not held by alice's use"
    );
    tokio::time::advance(Duration::from_secs(59)).await;
    say(&automation, &alice, "!dice").await;
    assert_eq!(
        count(&automation, "!dice"),
        2,
        "alice answered within her cooldown"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    say(&automation, &alice, "!dice").await;
    assert_eq!(count(&automation, "!dice"), 3);
}

fn event(kind: EventKind) -> Event {
    Event {
        platform: Platform::Twitch,
        at: wall_now(),
        kind,
    }
}

fn chat(n: u32) -> Event {
    event(EventKind::ChatMessage {
        message_id: format!("m{n}"),
        user: viewer("7", vec![]),
        text: format!("line {n}"),
        reply_to: None,
    })
}

#[tokio::test(start_paused = true)]
async fn timers_post_only_live_after_their_interval_and_enough_chat() {
    let (automation, _dir) = service().await;
    let document = "[[timers]]\nname = \"socials\"\ninterval = 1\nmin_lines = 2\nmessage = \"follow on $(platform)\"\n";
    automation.import_commands(document).await.unwrap();

    // Offline: never.
    automation.handle(chat(1));
    automation.handle(chat(2));
    tokio::time::advance(Duration::from_secs(120)).await;
    assert!(automation.run_timers().await.is_empty(), "posted offline");

    // Live: the interval starts when the stream is seen live.
    automation.handle(event(EventKind::StreamOnline {
        title: None,
        category: None,
    }));
    assert!(automation.run_timers().await.is_empty());
    automation.handle(chat(3));
    automation.handle(chat(4));
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(
        automation.run_timers().await.is_empty(),
        "posted before the interval"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    let posted = automation.run_timers().await;
    assert_eq!(
        posted,
        vec![(
            "socials".to_owned(),
            Platform::Twitch,
            "follow on twitch".to_owned()
        )]
    );

    // Another interval with too little chat: nothing; one more line: posts.
    automation.handle(chat(5));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(
        automation.run_timers().await.is_empty(),
        "posted with one line"
    );
    automation.handle(chat(6));
    assert_eq!(automation.run_timers().await.len(), 1);

    // Offline again: stops.
    automation.handle(event(EventKind::StreamOffline {
        title: None,
        category: None,
    }));
    automation.handle(chat(7));
    automation.handle(chat(8));
    tokio::time::advance(Duration::from_secs(120)).await;
    assert!(
        automation.run_timers().await.is_empty(),
        "posted after going offline"
    );
}

#[tokio::test(start_paused = true)]
async fn timers_run_after_a_restart_mid_stream() {
    let (automation, _dir) = service().await;
    let document = "[[timers]]\nname = \"socials\"\ninterval = 1\nmin_lines = 0\nmessage = \"follow on $(platform)\"\n";
    automation.import_commands(document).await.unwrap();
    // No stream.online after a restart: the first sample says the stream is on, since
    // its session's start; a later one does not move that start.
    let started = roadie_core::Timestamp(wall_now().unix_ms() - 3_600_000);
    automation.resume_live(Platform::Twitch, started);
    automation.resume_live(Platform::Twitch, wall_now());
    assert_eq!(
        lock(&automation.inner.live_since).get(&Platform::Twitch),
        Some(&started)
    );
    // The interval starts when the stream is seen live, as after a stream.online.
    assert!(automation.run_timers().await.is_empty());
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(automation.run_timers().await.len(), 1, "timers run again");
}
