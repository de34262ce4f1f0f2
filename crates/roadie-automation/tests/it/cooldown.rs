//! Cooldowns: global versus per user, bypass, remaining time, shortening, pruning.

use crate::support::{def, secs, user, viewer};
use roadie_automation::{CooldownRefusal, CooldownScope, CooldownTracker};
use roadie_core::{Platform, Role};
use std::time::Duration;

fn refused(remaining: Duration, scope: CooldownScope) -> Result<(), CooldownRefusal> {
    Err(CooldownRefusal { remaining, scope })
}

#[test]
fn global_cooldown_applies_to_everyone() {
    let mut command = def("!x", "x");
    command.global_cooldown = secs(30);
    let mut tracker = CooldownTracker::new();
    let (alice, bob) = (viewer("a"), viewer("b"));
    let tw = Platform::Twitch;
    assert_eq!(tracker.check(&command, tw, &alice, secs(0)), Ok(()));
    tracker.record(&command, tw, &alice, secs(0));
    assert_eq!(
        tracker.check(&command, tw, &bob, secs(10)),
        refused(secs(20), CooldownScope::Global)
    );
    assert_eq!(
        tracker.check(
            &command,
            Platform::Kick,
            &bob,
            Duration::from_millis(29_999)
        ),
        refused(Duration::from_millis(1), CooldownScope::Global)
    );
    assert_eq!(tracker.check(&command, tw, &bob, secs(30)), Ok(()));
}

#[test]
fn user_cooldown_applies_to_that_user_on_that_platform() {
    let mut command = def("!x", "x");
    command.user_cooldown = secs(60);
    let mut tracker = CooldownTracker::new();
    let (alice, bob) = (viewer("a"), viewer("b"));
    tracker.record(&command, Platform::Twitch, &alice, secs(0));
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &alice, secs(10)),
        refused(secs(50), CooldownScope::User)
    );
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &bob, secs(10)),
        Ok(())
    );
    // Same user id on another platform is another account.
    assert_eq!(
        tracker.check(&command, Platform::Kick, &alice, secs(10)),
        Ok(())
    );
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &alice, secs(60)),
        Ok(())
    );
}

#[test]
fn the_longer_running_cooldown_is_reported() {
    let mut command = def("!x", "x");
    command.global_cooldown = secs(30);
    command.user_cooldown = secs(60);
    let mut tracker = CooldownTracker::new();
    let alice = viewer("a");
    tracker.record(&command, Platform::Twitch, &alice, secs(0));
    let cases = [
        (10, refused(secs(50), CooldownScope::User)),
        (40, refused(secs(20), CooldownScope::User)),
        (60, Ok(())),
    ];
    for (at, expected) in cases {
        assert_eq!(
            tracker.check(&command, Platform::Twitch, &alice, secs(at)),
            expected
        );
    }
    let mut longer_global = command.clone();
    longer_global.global_cooldown = secs(120);
    longer_global.user_cooldown = secs(10);
    let mut tracker = CooldownTracker::new();
    tracker.record(&longer_global, Platform::Twitch, &alice, secs(0));
    assert_eq!(
        tracker.check(&longer_global, Platform::Twitch, &alice, secs(5)),
        refused(secs(115), CooldownScope::Global)
    );
}

#[test]
fn moderators_and_broadcaster_bypass_but_still_start_cooldowns() {
    let mut command = def("!x", "x");
    command.global_cooldown = secs(30);
    command.user_cooldown = secs(60);
    let mut tracker = CooldownTracker::new();
    let moderator = user("m", "Mod", &[Role::Moderator]);
    let broadcaster = user("b", "Owner", &[Role::Broadcaster]);
    let vip = user("v", "Vip", &[Role::Vip, Role::Subscriber]);
    tracker.record(&command, Platform::Twitch, &moderator, secs(0));
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &moderator, secs(1)),
        Ok(())
    );
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &broadcaster, secs(1)),
        Ok(())
    );
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &vip, secs(1)),
        refused(secs(29), CooldownScope::Global)
    );
    assert!(CooldownTracker::bypasses(&moderator));
    assert!(!CooldownTracker::bypasses(&vip));
}

#[test]
fn shortening_a_cooldown_takes_effect_at_once() {
    let mut command = def("!x", "x");
    command.global_cooldown = secs(300);
    let mut tracker = CooldownTracker::new();
    let alice = viewer("a");
    tracker.record(&command, Platform::Twitch, &alice, secs(0));
    command.global_cooldown = secs(10);
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &alice, secs(5)),
        refused(secs(5), CooldownScope::Global)
    );
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &alice, secs(10)),
        Ok(())
    );
    // Removing it entirely too.
    command.global_cooldown = Duration::ZERO;
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &alice, secs(1)),
        Ok(())
    );
}

#[test]
fn zero_cooldowns_are_not_stored_and_huge_ones_do_not_overflow() {
    let command = def("!x", "x");
    let mut tracker = CooldownTracker::new();
    tracker.record(&command, Platform::Twitch, &viewer("a"), secs(0));
    assert!(tracker.is_empty());

    let mut forever = def("!y", "y");
    forever.global_cooldown = Duration::MAX;
    tracker.record(&forever, Platform::Twitch, &viewer("a"), secs(5));
    assert_eq!(
        tracker.check(&forever, Platform::Twitch, &viewer("b"), secs(6)),
        refused(Duration::MAX - secs(6), CooldownScope::Global)
    );
}

#[test]
fn expired_entries_are_pruned() {
    let mut command = def("!x", "x");
    command.user_cooldown = secs(1);
    let mut tracker = CooldownTracker::new();
    for n in 0..20_000u64 {
        let who = viewer(&n.to_string());
        tracker.record(
            &command,
            Platform::Twitch,
            &who,
            Duration::from_millis(n * 100),
        );
        assert!(tracker.len() <= 512, "{} entries after {n}", tracker.len());
    }
    tracker.prune(secs(1_000_000));
    assert!(tracker.is_empty());
}

#[test]
fn forget_drops_a_commands_cooldowns() {
    let mut command = def("!x", "x");
    command.global_cooldown = secs(30);
    command.user_cooldown = secs(30);
    let mut other = def("!y", "y");
    other.user_cooldown = secs(30);
    let mut tracker = CooldownTracker::new();
    tracker.record(&command, Platform::Twitch, &viewer("a"), secs(0));
    tracker.record(&other, Platform::Twitch, &viewer("a"), secs(0));
    tracker.forget("!x");
    assert_eq!(tracker.len(), 1);
    assert_eq!(
        tracker.check(&command, Platform::Twitch, &viewer("a"), secs(1)),
        Ok(())
    );
}
