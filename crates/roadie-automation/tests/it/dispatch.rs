//! Dispatch: every outcome, the order of checks, counters, and that refused
//! invocations start no cooldown and count nothing.

use crate::support::{Env, def, name, secs, set_of, user, viewer};
use roadie_automation::{BuiltinCommand, CommandDef, CooldownScope, Dispatcher, Outcome, RoleGate};
use roadie_core::{Platform, Role};

fn reply(command: &str, text: &str, count: u64) -> Outcome {
    Outcome::Reply {
        command: name(command),
        text: text.into(),
        count,
    }
}

fn dispatcher() -> Dispatcher {
    let mut hello = def("!hello", "Hi $(touser) (#$(count))");
    hello.aliases = vec![name("!hi")];
    let mut off = def("!off", "x");
    off.enabled = false;
    let mut kick_only = def("!kick", "x");
    kick_only.platforms = vec![Platform::Kick];
    let mut vips = def("!vips", "x");
    vips.gate = RoleGate::Vip;
    let mut slow = def("!slow", "slow $(count)");
    slow.global_cooldown = secs(10);
    slow.user_cooldown = secs(60);
    Dispatcher::new(set_of(vec![hello, off, kick_only, vips, slow]))
}

#[test]
fn every_outcome() {
    let env = Env::default();
    let mut d = dispatcher();
    let alice = viewer("a");
    let tw = Platform::Twitch;
    let cases = [
        ("hello there", Outcome::NotACommand),
        ("!", Outcome::NotACommand),
        ("!nope", Outcome::Unknown),
        ("!hello @bob", reply("!hello", "Hi bob (#1)", 1)),
        ("  !HI", reply("!hello", "Hi Viewera (#2)", 2)),
        (
            "!off",
            Outcome::Disabled {
                command: name("!off"),
            },
        ),
        (
            "!kick",
            Outcome::NotOnPlatform {
                command: name("!kick"),
            },
        ),
        (
            "!vips",
            Outcome::Denied {
                command: name("!vips"),
                needed: RoleGate::Vip,
            },
        ),
        (
            "!Points @bob",
            Outcome::Builtin {
                builtin: BuiltinCommand::Points,
                args: vec!["@bob".into()],
            },
        ),
        (
            "!commands",
            Outcome::Builtin {
                builtin: BuiltinCommand::Commands,
                args: vec![],
            },
        ),
        (
            "!uptime",
            Outcome::Builtin {
                builtin: BuiltinCommand::Uptime,
                args: vec![],
            },
        ),
        ("!slow", reply("!slow", "slow 1", 1)),
        (
            "!slow",
            Outcome::Cooldown {
                command: name("!slow"),
                remaining: secs(60),
                scope: CooldownScope::User,
            },
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(
            d.evaluate(line, &alice, tw, secs(0), &env),
            expected,
            "{line}"
        );
    }
    assert_eq!(
        d.evaluate("!kick", &alice, Platform::Kick, secs(0), &env),
        reply("!kick", "x", 1)
    );
    let vip = user("v", "V", &[Role::Vip]);
    assert_eq!(
        d.evaluate("!vips", &vip, tw, secs(0), &env),
        reply("!vips", "x", 1)
    );
}

#[test]
fn checks_run_in_order_enablement_platform_gate_cooldown() {
    let env = Env::default();
    let mut everything = def("!all", "x");
    everything.enabled = false;
    everything.platforms = vec![Platform::Kick];
    everything.gate = RoleGate::Broadcaster;
    let mut d = Dispatcher::new(set_of(vec![everything]));
    let alice = viewer("a");
    let outcome = |d: &mut Dispatcher| d.evaluate("!all", &alice, Platform::Twitch, secs(0), &env);
    assert!(matches!(outcome(&mut d), Outcome::Disabled { .. }));
    d.commands_mut().set_enabled("!all", true);
    assert!(matches!(outcome(&mut d), Outcome::NotOnPlatform { .. }));
    let mut def: CommandDef = d.commands().get("!all").unwrap().clone();
    def.platforms.clear();
    d.commands_mut().upsert(def).unwrap();
    assert!(matches!(outcome(&mut d), Outcome::Denied { .. }));
}

#[test]
fn refused_invocations_start_no_cooldown_and_count_nothing() {
    let env = Env::default();
    let mut d = dispatcher();
    let (alice, bob) = (viewer("a"), viewer("b"));
    let tw = Platform::Twitch;
    assert_eq!(
        d.evaluate("!slow", &alice, tw, secs(0), &env),
        reply("!slow", "slow 1", 1)
    );
    // Bob is refused by the global cooldown at 5 s...
    assert_eq!(
        d.evaluate("!slow", &bob, tw, secs(5), &env),
        Outcome::Cooldown {
            command: name("!slow"),
            remaining: secs(5),
            scope: CooldownScope::Global,
        }
    );
    assert_eq!(d.count("!slow"), 1);
    // ...which started neither his user cooldown nor a new global one.
    assert_eq!(
        d.evaluate("!slow", &bob, tw, secs(10), &env),
        reply("!slow", "slow 2", 2)
    );

    // Denied, disabled and wrong-platform invocations neither.
    let mut gated = def("!gated", "g");
    gated.gate = RoleGate::Moderator;
    gated.global_cooldown = secs(100);
    d.commands_mut().insert(gated).unwrap();
    assert!(matches!(
        d.evaluate("!gated", &bob, tw, secs(20), &env),
        Outcome::Denied { .. }
    ));
    assert_eq!(d.count("!gated"), 0);
    assert_eq!(
        d.cooldowns()
            .check(d.commands().get("!gated").unwrap(), tw, &bob, secs(20)),
        Ok(())
    );
    let moderator = user("m", "Mod", &[Role::Moderator]);
    assert_eq!(
        d.evaluate("!gated", &moderator, tw, secs(20), &env),
        reply("!gated", "g", 1)
    );
}

#[test]
fn aliases_share_counter_and_cooldowns() {
    let env = Env::default();
    let mut command = def("!dice", "$(count)");
    command.aliases = vec![name("!roll")];
    command.user_cooldown = secs(30);
    let mut d = Dispatcher::new(set_of(vec![command]));
    let tw = Platform::Twitch;
    assert_eq!(
        d.evaluate("!dice", &viewer("a"), tw, secs(0), &env),
        reply("!dice", "1", 1)
    );
    assert!(matches!(
        d.evaluate("!roll", &viewer("a"), tw, secs(1), &env),
        Outcome::Cooldown { .. }
    ));
    assert_eq!(
        d.evaluate("!ROLL", &viewer("b"), tw, secs(1), &env),
        reply("!dice", "2", 2)
    );
}

#[test]
fn counters_restore_preview_and_remove() {
    let env = Env::default();
    let mut slow = def("!slow", "#$(count)");
    slow.global_cooldown = secs(10);
    let mut d = Dispatcher::new(set_of(vec![slow]));
    let alice = viewer("a");
    let tw = Platform::Twitch;
    d.set_count(&name("!slow"), 41);
    // The dry run shows the next reply but changes nothing.
    for _ in 0..3 {
        assert_eq!(
            d.preview("!slow", &alice, tw, secs(0), &env),
            reply("!slow", "#42", 42)
        );
    }
    assert_eq!(d.count("!slow"), 41);
    assert!(d.cooldowns().is_empty());
    assert_eq!(
        d.evaluate("!slow", &alice, tw, secs(0), &env),
        reply("!slow", "#42", 42)
    );
    assert!(matches!(
        d.preview("!slow", &alice, tw, secs(1), &env),
        Outcome::Cooldown { .. }
    ));
    d.set_count(&name("!slow"), u64::MAX);
    assert_eq!(
        d.evaluate("!slow", &alice, tw, secs(20), &env),
        reply("!slow", &format!("#{}", u64::MAX), u64::MAX)
    );
    assert!(d.remove_command("!slow").is_some());
    assert_eq!(d.count("!slow"), 0);
    assert!(d.cooldowns().is_empty());
    assert_eq!(
        d.evaluate("!slow", &alice, tw, secs(21), &env),
        Outcome::Unknown
    );
}

#[test]
fn environment_is_read_only_for_variables_used() {
    let env = Env::default();
    let mut d = Dispatcher::new(set_of(vec![
        def("!plain", "hello $(user) $(args)"),
        def(
            "!all",
            "$(points) $(uptime) $(followage) $(time) $(random 1 6) $(platform)",
        ),
    ]));
    let alice = viewer("a");
    d.evaluate("!plain x", &alice, Platform::Kick, secs(0), &env);
    assert_eq!(env.lookups.get(), 0);
    assert_eq!(
        d.evaluate("!all", &alice, Platform::Kick, secs(0), &env),
        reply("!all", "50 3h 10m 1mo 9d 00:00 UTC 3 kick", 1)
    );
    assert_eq!(env.lookups.get(), 5);
}
