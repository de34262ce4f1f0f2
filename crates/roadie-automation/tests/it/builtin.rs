//! Built-in replies: `!commands`, `!points`, `!uptime`.

use crate::support::{def, set_of, user, viewer};
use roadie_automation::builtin::{commands_reply, points_reply, uptime_reply};
use roadie_automation::{BuiltinCommand, MAX_REPLY_CHARS, RoleGate};
use roadie_core::{Platform, Role};
use std::time::Duration;

#[test]
fn builtins_are_looked_up_ignoring_case() {
    assert_eq!(
        BuiltinCommand::lookup("!COMMANDS"),
        Some(BuiltinCommand::Commands)
    );
    assert_eq!(
        BuiltinCommand::lookup("!points"),
        Some(BuiltinCommand::Points)
    );
    assert_eq!(
        BuiltinCommand::lookup("!Uptime"),
        Some(BuiltinCommand::Uptime)
    );
    assert_eq!(BuiltinCommand::lookup("!uptim"), None);
    assert_eq!(BuiltinCommand::lookup("uptime"), None);
}

#[test]
fn commands_lists_what_the_caller_may_use_here() {
    let mut mods = def("!ban", "x");
    mods.gate = RoleGate::Moderator;
    let mut off = def("!off", "x");
    off.enabled = false;
    let mut kick = def("!kickonly", "x");
    kick.platforms = vec![Platform::Kick];
    let set = set_of(vec![def("!hello", "x"), mods, off, kick, def("!lurk", "x")]);
    assert_eq!(
        commands_reply(&set, &viewer("a"), Platform::Twitch),
        "Commands: !commands, !points, !uptime, !hello, !lurk"
    );
    assert_eq!(
        commands_reply(&set, &user("m", "M", &[Role::Moderator]), Platform::Kick),
        "Commands: !commands, !points, !uptime, !ban, !hello, !kickonly, !lurk"
    );
}

#[test]
fn commands_reply_is_cut_at_whole_names() {
    let defs = (0..100)
        .map(|n| def(&format!("!command_number_{n:03}"), "x"))
        .collect();
    let reply = commands_reply(&set_of(defs), &viewer("a"), Platform::Twitch);
    assert!(reply.chars().count() <= MAX_REPLY_CHARS, "{}", reply.len());
    assert!(reply.ends_with(", …"), "{reply}");
    let before_marker = reply.trim_end_matches(", …");
    assert!(before_marker.rsplit(", ").next().unwrap().len() == "!command_number_000".len());
}

#[test]
fn points_and_uptime_replies() {
    assert_eq!(points_reply("Alice", 120), "Alice has 120 points");
    assert_eq!(points_reply("Alice", 1), "Alice has 1 point");
    assert_eq!(points_reply("Alice", 0), "Alice has 0 points");
    assert!(points_reply(&"x".repeat(1000), 5).chars().count() <= MAX_REPLY_CHARS);
    assert_eq!(
        uptime_reply(Some(Duration::from_secs(7500))),
        "Live for 2h 5m"
    );
    assert_eq!(uptime_reply(None), "The stream is offline");
}
