//! Timers: interval since going live or the last post, minimum chat lines, live only.

use crate::support::{Env, secs};
use roadie_automation::{Template, Timer, TimerDef, TimerError};
use roadie_core::{Platform, Timestamp};
use std::time::Duration;

fn timer(interval: u64, min_lines: u32) -> Timer {
    Timer::new(
        TimerDef::new(
            "socials",
            secs(interval),
            min_lines,
            Template::parse("Follow!").unwrap(),
        )
        .unwrap(),
    )
}

fn lines(t: &mut Timer, n: u32) {
    for _ in 0..n {
        t.on_chat_line();
    }
}

#[test]
fn fires_after_interval_and_lines_then_restarts() {
    let mut t = timer(60, 2);
    assert!(!t.poll(secs(0), true)); // goes live: the interval starts here
    lines(&mut t, 2);
    assert!(!t.poll(secs(30), true));
    assert!(!t.poll(secs(59), true));
    assert!(t.poll(secs(60), true));
    assert_eq!(t.lines(), 0);
    // Restarted: neither time nor lines are enough yet.
    assert!(!t.poll(secs(61), true));
    lines(&mut t, 5);
    assert!(!t.poll(secs(119), true));
    assert!(t.poll(secs(120), true));
}

#[test]
fn waits_for_lines_when_the_interval_has_passed() {
    let mut t = timer(60, 3);
    t.poll(secs(0), true);
    lines(&mut t, 2);
    assert!(!t.poll(secs(600), true));
    t.on_chat_line();
    assert!(t.poll(secs(601), true));
    assert!(!t.poll(secs(602), true));
}

#[test]
fn zero_min_lines_fires_every_interval() {
    let mut t = timer(10, 0);
    let fired: Vec<u64> = (0..=35).filter(|s| t.poll(secs(*s), true)).collect();
    assert_eq!(fired, vec![10, 20, 30]);
}

#[test]
fn never_fires_offline_and_going_live_starts_afresh() {
    let mut t = timer(60, 1);
    lines(&mut t, 10);
    assert!(!t.poll(secs(0), false));
    assert!(!t.poll(secs(1000), false));
    assert!(!t.poll(secs(1000), true)); // live from here
    // Lines from before going live do not count.
    assert_eq!(t.lines(), 0);
    lines(&mut t, 1);
    assert!(!t.poll(secs(1059), true));
    assert!(!t.poll(secs(1060), false)); // offline at the moment it was due
    assert!(!t.poll(secs(1070), true)); // live again: interval restarts
    lines(&mut t, 1);
    assert!(!t.poll(secs(1120), true));
    assert!(t.poll(secs(1130), true));
}

#[test]
fn disabled_timers_never_fire() {
    let mut def = TimerDef::new("t", secs(1), 0, Template::parse("x").unwrap()).unwrap();
    def.enabled = false;
    let mut t = Timer::new(def);
    assert!((0..100).all(|s| !t.poll(secs(s), true)));
}

#[test]
fn definitions_are_validated() {
    let cases = [
        ("", secs(60), "x", Some("name")),
        ("Socials", secs(60), "x", Some("name")),
        ("so cials", secs(60), "x", Some("name")),
        (&*"a".repeat(65), secs(60), "x", Some("name")),
        ("ok-name_1", Duration::ZERO, "x", Some("interval")),
        ("ok", Duration::from_millis(999), "x", Some("interval")),
        ("ok", secs(60), "hi $(user)", Some("caller")),
        ("ok", secs(60), "$(arg 1)", Some("caller")),
        ("ok", secs(60), "$(points)", Some("caller")),
        ("ok", secs(60), "$(count)", Some("caller")),
        ("ok", secs(60), "$(followage)", Some("caller")),
        (
            "ok",
            secs(1),
            "up $(uptime) $(random 1 2) $(time) $(platform)",
            None,
        ),
    ];
    for (name, interval, template, problem) in cases {
        let result = TimerDef::new(name, interval, 0, Template::parse(template).unwrap());
        match (problem, result) {
            (None, Ok(_)) => {}
            (Some("name"), Err(TimerError::BadName { .. }))
            | (Some("interval"), Err(TimerError::IntervalTooShort { .. }))
            | (Some("caller"), Err(TimerError::CallerVariable { .. })) => {}
            (expected, got) => panic!("{name:?} {template:?}: expected {expected:?}, got {got:?}"),
        }
    }
    let error = TimerDef::new("t", secs(60), 0, Template::parse("$(touser)").unwrap()).unwrap_err();
    assert!(error.to_string().contains("$(touser)"), "{error}");
}

#[test]
fn renders_with_the_environment() {
    let env = Env {
        now: Timestamp(3_600_000 * 13 + 60_000 * 7),
        ..Env::default()
    };
    let t = Timer::new(
        TimerDef::new(
            "t",
            secs(60),
            0,
            Template::parse("Live $(uptime) on $(platform) at $(time)").unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(
        t.render(Platform::Youtube, &env),
        "Live 3h 10m on youtube at 13:07 UTC"
    );
}
