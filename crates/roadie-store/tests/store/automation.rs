//! The automation tables: the migration onto an existing database, CRUD of commands,
//! timers, actions and scripts, and the all-or-nothing import.

use roadie_core::Platform;
use roadie_store::{
    MIGRATIONS, Store, StoreError, StoredAction, StoredCommand, StoredScript, StoredTimer,
};

use super::support::{close, database_before, open, runtime};

const AUTOMATION: &str = "20261127090000_automation";

fn command(name: &str) -> StoredCommand {
    StoredCommand {
        name: name.into(),
        aliases: vec![],
        template: format!("{name} ran"),
        global_cooldown_ms: 0,
        user_cooldown_ms: 0,
        role: "everyone".into(),
        platforms: vec![],
        enabled: true,
        uses: 0,
    }
}

fn timer(name: &str) -> StoredTimer {
    StoredTimer {
        name: name.into(),
        interval_s: 600,
        min_lines: 5,
        message: format!("{name} says hi"),
        enabled: true,
    }
}

fn action(name: &str) -> StoredAction {
    StoredAction {
        name: name.into(),
        definition: format!(r#"{{"steps":[{{"reply":"{name}"}}]}}"#),
        enabled: true,
    }
}

async fn raw<T: Send + 'static>(
    store: &Store,
    sql: &'static str,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> T {
    store
        .read(move |connection| Ok(connection.query_row(sql, [], read)?))
        .await
        .unwrap()
}

#[test]
fn the_migration_applies_to_a_database_of_the_previous_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roadie.db");
    let position = {
        // A database as the previous build left it, with data in it.
        let (connection, position) = database_before(&path, AUTOMATION);
        connection
            .execute_batch(
                "INSERT INTO event_log VALUES ('01KB0000000000000000000000', 1, 'twitch', 'follow', '{}');
                 INSERT INTO oauth_credentials VALUES ('twitch', '1', 'alice', '', NULL, 'k', 0, 0);
                 INSERT INTO stream_sessions (platform, started_at_ms) VALUES ('kick', 5);",
            )
            .unwrap();
        position
    };
    let rt = runtime();
    rt.block_on(async {
        let hook: roadie_store::CommitHook = Box::new(|_: &[roadie_store::EventRow]| {});
        let (store, report) =
            Store::open(&path, roadie_store::StoreOptions::default(), hook).unwrap();
        let expected: Vec<String> = MIGRATIONS[position..]
            .iter()
            .map(|migration| migration.version.to_owned())
            .collect();
        assert_eq!(report.applied, expected);
        assert!(report.backup.is_some(), "no backup before migrating");
        assert_eq!(store.event_count().await.unwrap(), 1);
        assert_eq!(store.credentials().await.unwrap().len(), 1);
        assert_eq!(store.stream_sessions(5).await.unwrap().len(), 1);
        store.upsert_command(command("!hi")).await.unwrap();
        assert_eq!(store.commands().await.unwrap().len(), 1);
        let applied = store
            .apply_points(vec![super::support::change(Platform::Twitch, "1", 5, None)])
            .await
            .unwrap();
        assert_eq!(applied, vec![Ok(5)]);
        close(store).await;
    });
}

#[test]
fn commands_round_trip_and_keep_their_counters() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        let mut hello = StoredCommand {
            name: "!hello".into(),
            aliases: vec!["!hi".into(), "!hey".into()],
            template: "Hello {user}!".into(),
            global_cooldown_ms: 5_000,
            user_cooldown_ms: 30_000,
            role: "subscriber".into(),
            platforms: vec![Platform::Twitch, Platform::Youtube],
            enabled: true,
            uses: 7,
        };
        store.upsert_command(hello.clone()).await.unwrap();
        store.upsert_command(command("!bye")).await.unwrap();
        assert_eq!(
            store.commands().await.unwrap(),
            vec![command("!bye"), hello.clone()]
        );
        // Lists are stored as space-separated words.
        let (aliases, platforms) = raw(
            &store,
            "SELECT aliases, platforms FROM commands WHERE name = '!hello'",
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .await;
        assert_eq!(
            (aliases.as_str(), platforms.as_str()),
            ("!hi !hey", "twitch youtube")
        );

        assert_eq!(
            store.bump_command_uses("!hello".into()).await.unwrap(),
            Some(8)
        );
        assert_eq!(
            store.bump_command_uses("!hello".into()).await.unwrap(),
            Some(9)
        );
        assert_eq!(store.bump_command_uses("!nope".into()).await.unwrap(), None);

        // Editing the definition keeps the counter.
        hello.template = "Hi {user}".into();
        hello.aliases = vec![];
        hello.platforms = vec![];
        hello.role = "moderator".into();
        hello.uses = 0;
        store.upsert_command(hello.clone()).await.unwrap();
        let stored = store.commands().await.unwrap();
        assert_eq!(
            stored[1],
            StoredCommand {
                uses: 9,
                ..hello.clone()
            }
        );

        assert!(store.set_command_uses("!hello".into(), 100).await.unwrap());
        assert!(!store.set_command_uses("!nope".into(), 1).await.unwrap());
        assert_eq!(store.commands().await.unwrap()[1].uses, 100);

        // What the schema cannot hold is refused, and changes nothing.
        for bad in [
            StoredCommand {
                role: "admin".into(),
                ..command("!x")
            },
            StoredCommand {
                platforms: vec![Platform::Roadie],
                ..command("!x")
            },
            StoredCommand {
                aliases: vec!["!a !b".into()],
                ..command("!x")
            },
            StoredCommand {
                name: String::new(),
                ..command("!x")
            },
            StoredCommand {
                uses: u64::MAX,
                ..command("!x")
            },
        ] {
            let refused = store.upsert_command(bad.clone()).await;
            assert!(
                matches!(refused, Err(StoreError::Invalid { .. })),
                "{bad:?}: {refused:?}"
            );
        }
        assert_eq!(store.commands().await.unwrap().len(), 2);

        assert!(store.remove_command("!bye".into()).await.unwrap());
        assert!(!store.remove_command("!bye".into()).await.unwrap());
        assert_eq!(
            store.commands().await.unwrap(),
            vec![StoredCommand { uses: 100, ..hello }]
        );
        close(store).await;
    });
}

#[test]
fn timers_and_actions_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        store.upsert_timer(timer("socials")).await.unwrap();
        store.upsert_timer(timer("discord")).await.unwrap();
        let mut socials = timer("socials");
        socials.interval_s = 900;
        socials.min_lines = 0;
        socials.enabled = false;
        store.upsert_timer(socials.clone()).await.unwrap();
        assert_eq!(
            store.timers().await.unwrap(),
            vec![timer("discord"), socials.clone()]
        );
        let zero = StoredTimer {
            interval_s: 0,
            ..timer("zero")
        };
        assert!(store.upsert_timer(zero).await.is_err());
        assert!(store.remove_timer("discord".into()).await.unwrap());
        assert!(!store.remove_timer("discord".into()).await.unwrap());
        assert_eq!(store.timers().await.unwrap(), vec![socials]);

        store.upsert_action(action("hype")).await.unwrap();
        store.upsert_action(action("alert")).await.unwrap();
        let mut hype = action("hype");
        hype.definition = r#"[{"tts":"hype!"},{"wait_ms":500}]"#.into();
        hype.enabled = false;
        store.upsert_action(hype.clone()).await.unwrap();
        assert_eq!(
            store.actions().await.unwrap(),
            vec![action("alert"), hype.clone()]
        );
        // The schema insists on JSON.
        let broken = StoredAction {
            definition: "{steps".into(),
            ..action("hype")
        };
        assert!(matches!(
            store.upsert_action(broken).await,
            Err(StoreError::Sqlite(_))
        ));
        assert_eq!(store.actions().await.unwrap()[1], hype);
        assert!(store.remove_action("alert".into()).await.unwrap());
        assert!(!store.remove_action("alert".into()).await.unwrap());
        assert_eq!(store.actions().await.unwrap(), vec![hype]);
        close(store).await;
    });
}

#[test]
fn scripts_keep_their_variables_across_source_edits() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        assert_eq!(store.script("dice".into()).await.unwrap(), None);
        assert!(
            !store
                .set_script_vars("dice".into(), "{}".into())
                .await
                .unwrap()
        );
        store
            .upsert_script("dice".into(), "reply(roll())".into())
            .await
            .unwrap();
        let fresh = store.script("dice".into()).await.unwrap().unwrap();
        assert_eq!(
            (fresh.source.as_str(), fresh.vars.as_str()),
            ("reply(roll())", "{}")
        );

        assert!(
            store
                .set_script_vars("dice".into(), r#"{"rolls":3}"#.into())
                .await
                .unwrap()
        );
        store
            .upsert_script("dice".into(), "reply(roll(6))".into())
            .await
            .unwrap();
        let edited = store.script("dice".into()).await.unwrap().unwrap();
        assert_eq!(
            (edited.source.as_str(), edited.vars.as_str()),
            ("reply(roll(6))", r#"{"rolls":3}"#)
        );
        // Variables are one JSON object.
        for bad in ["[1,2]", "not json", "3"] {
            assert!(
                store
                    .set_script_vars("dice".into(), bad.into())
                    .await
                    .is_err(),
                "{bad}"
            );
        }
        store
            .upsert_script("alpha".into(), "1".into())
            .await
            .unwrap();
        let names: Vec<String> = store
            .scripts()
            .await
            .unwrap()
            .into_iter()
            .map(|script: StoredScript| script.name)
            .collect();
        assert_eq!(names, ["alpha", "dice"]);
        assert_eq!(
            store.script("dice".into()).await.unwrap().unwrap().vars,
            r#"{"rolls":3}"#
        );
        assert!(store.remove_script("dice".into()).await.unwrap());
        assert!(!store.remove_script("dice".into()).await.unwrap());
        assert_eq!(store.script("dice".into()).await.unwrap(), None);
        close(store).await;
    });
}

#[test]
fn replace_automation_swaps_all_three_sets_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let store = open(dir.path());
        store.upsert_command(command("!old")).await.unwrap();
        store.bump_command_uses("!old".into()).await.unwrap();
        store.upsert_timer(timer("old")).await.unwrap();
        store.upsert_action(action("old")).await.unwrap();
        store
            .upsert_script("kept".into(), "1".into())
            .await
            .unwrap();
        let before = (
            store.commands().await.unwrap(),
            store.timers().await.unwrap(),
            store.actions().await.unwrap(),
        );

        let imported = StoredCommand {
            uses: 42,
            ..command("!new")
        };
        let failing = [
            // A duplicate command name fails on the second insert.
            (
                vec![imported.clone(), command("!new")],
                vec![timer("new")],
                vec![action("new")],
            ),
            // The last insert (an action that is not JSON) fails.
            (
                vec![imported.clone()],
                vec![timer("new")],
                vec![
                    action("new"),
                    StoredAction {
                        definition: "{".into(),
                        ..action("bad")
                    },
                ],
            ),
            // A duplicate timer in the middle.
            (
                vec![imported.clone()],
                vec![timer("new"), timer("new")],
                vec![action("new")],
            ),
        ];
        for (commands, timers, actions) in failing {
            let result = store.replace_automation(commands, timers, actions).await;
            assert!(result.is_err());
            let after = (
                store.commands().await.unwrap(),
                store.timers().await.unwrap(),
                store.actions().await.unwrap(),
            );
            assert_eq!(after, before, "a failed import changed the stored sets");
        }

        store
            .replace_automation(
                vec![imported.clone(), command("!two")],
                vec![timer("new")],
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            store.commands().await.unwrap(),
            vec![imported, command("!two")]
        );
        assert_eq!(store.timers().await.unwrap(), vec![timer("new")]);
        assert_eq!(store.actions().await.unwrap(), vec![]);
        assert!(
            store.script("kept".into()).await.unwrap().is_some(),
            "an import must leave scripts alone"
        );
        close(store).await;
    });
}
