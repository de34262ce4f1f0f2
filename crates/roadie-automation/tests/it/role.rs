//! Role gates: hierarchy, effective level and parsing.

use crate::support::user;
use roadie_automation::RoleGate;
use roadie_core::Role;

#[test]
fn gates_are_hierarchical() {
    use RoleGate::*;
    let levels: [(&[Role], RoleGate); 7] = [
        (&[], Everyone),
        (&[Role::Subscriber], Subscriber),
        (&[Role::Vip], Vip),
        (&[Role::Moderator], Moderator),
        (&[Role::Broadcaster], Broadcaster),
        (&[Role::Subscriber, Role::Moderator, Role::Vip], Moderator),
        (&[Role::Vip, Role::Subscriber], Vip),
    ];
    for (roles, level) in levels {
        let who = user("1", "u", roles);
        assert_eq!(RoleGate::of(&who), level, "{roles:?}");
        for gate in RoleGate::ALL {
            assert_eq!(gate.admits(&who), *gate <= level, "{roles:?} at {gate}");
        }
    }
    // Spelled out: a moderator may use a VIP command, a VIP may not use a moderator's.
    assert!(Vip.admits(&user("1", "m", &[Role::Moderator])));
    assert!(!Moderator.admits(&user("1", "v", &[Role::Vip])));
    assert!(Broadcaster.admits(&user("1", "b", &[Role::Broadcaster])));
    assert!(!Broadcaster.admits(&user("1", "m", &[Role::Moderator])));
}

#[test]
fn gates_parse_from_their_names() {
    let cases = [
        ("everyone", RoleGate::Everyone),
        ("subscriber", RoleGate::Subscriber),
        ("vip", RoleGate::Vip),
        ("moderator", RoleGate::Moderator),
        ("broadcaster", RoleGate::Broadcaster),
    ];
    for (text, gate) in cases {
        assert_eq!(text.parse::<RoleGate>().unwrap(), gate);
        assert_eq!(gate.to_string(), text);
    }
    let error = "mod".parse::<RoleGate>().unwrap_err();
    assert!(
        error.to_string().contains("everyone, subscriber"),
        "{error}"
    );
    assert!("Moderator".parse::<RoleGate>().is_err());
    assert_eq!(RoleGate::default(), RoleGate::Everyone);
}
