//! Command names, aliases and the command set's collision rules.

use crate::support::{def, name};
use roadie_automation::{CommandName, CommandSet, CommandSetError, NameError};

#[test]
fn names_are_validated_and_lowercased() {
    let ok = [
        ("!Hello", "!hello"),
        ("!a", "!a"),
        ("!SO_2", "!so_2"),
        ("!0", "!0"),
    ];
    for (given, expected) in ok {
        assert_eq!(CommandName::parse(given).unwrap().as_str(), expected);
    }
    let longest = format!("!{}", "a".repeat(32));
    assert_eq!(CommandName::parse(&longest).unwrap().as_str(), longest);

    let bad = |given: &str| CommandName::parse(given).unwrap_err();
    assert_eq!(
        bad("hello"),
        NameError::MissingBang {
            given: "hello".into()
        }
    );
    assert_eq!(bad(""), NameError::MissingBang { given: "".into() });
    assert_eq!(bad("!"), NameError::Empty { given: "!".into() });
    assert_eq!(
        bad(&format!("!{}", "a".repeat(33))),
        NameError::TooLong {
            given: format!("!{}", "a".repeat(33))
        }
    );
    let characters = [
        ("!hé", 'é', 3),
        ("!a-b", '-', 3),
        ("! a", ' ', 2),
        ("!!a", '!', 2),
        ("!abc\u{212A}", '\u{212A}', 5),
        ("!héllo", 'é', 3),
        ("!ab🎉", '🎉', 4),
    ];
    for (given, found, column) in characters {
        assert_eq!(
            bad(given),
            NameError::BadCharacter {
                given: given.into(),
                found,
                column
            },
            "{given}"
        );
    }
    assert!(bad("hello").to_string().contains("must start with `!`"));
}

#[test]
fn lookup_by_name_or_alias_ignores_case() {
    let mut hello = def("!hello", "hi");
    hello.aliases = vec![name("!hi"), name("!Hey")];
    let set = crate::support::set_of(vec![hello, def("!lurk", "lurking")]);
    let cases = [
        ("!hello", Some("!hello")),
        ("!HELLO", Some("!hello")),
        ("!hi", Some("!hello")),
        ("!HeY", Some("!hello")),
        ("!lurk", Some("!lurk")),
        ("!hell", None),
        ("hello", None),
        ("!hellö", None),
        ("!", None),
    ];
    for (word, expected) in cases {
        assert_eq!(
            set.lookup(word).map(|def| def.name.as_str()),
            expected,
            "{word}"
        );
    }
    let long = format!("!{}", "A".repeat(10_000));
    assert!(set.lookup(&long).is_none());
}

#[test]
fn collisions_are_refused() {
    let mut hello = def("!hello", "hi");
    hello.aliases = vec![name("!hi")];
    let mut set = CommandSet::new();
    set.insert(hello).unwrap();

    let mut alias_on_name = def("!other", "x");
    alias_on_name.aliases = vec![name("!hello")];
    let mut alias_on_alias = def("!other", "x");
    alias_on_alias.aliases = vec![name("!HI")];
    let mut builtin_alias = def("!other", "x");
    builtin_alias.aliases = vec![name("!uptime")];
    let mut repeated = def("!other", "x");
    repeated.aliases = vec![name("!o"), name("!o")];
    let mut self_alias = def("!other", "x");
    self_alias.aliases = vec![name("!other")];

    let taken = |word: &str| CommandSetError::Taken {
        name: name(word),
        owner: name("!hello"),
    };
    let cases = [
        (
            def("!hello", "again"),
            CommandSetError::Exists {
                name: name("!hello"),
            },
        ),
        (def("!hi", "x"), taken("!hi")),
        (alias_on_name, taken("!hello")),
        (alias_on_alias, taken("!hi")),
        (
            def("!Commands", "x"),
            CommandSetError::Builtin {
                name: name("!commands"),
            },
        ),
        (
            def("!points", "x"),
            CommandSetError::Builtin {
                name: name("!points"),
            },
        ),
        (
            builtin_alias,
            CommandSetError::Builtin {
                name: name("!uptime"),
            },
        ),
        (repeated, CommandSetError::Repeated { name: name("!o") }),
        (
            self_alias,
            CommandSetError::Repeated {
                name: name("!other"),
            },
        ),
    ];
    for (candidate, expected) in cases {
        let label = candidate.name.clone();
        assert_eq!(set.insert(candidate).unwrap_err(), expected, "{label}");
    }
    assert_eq!(set.len(), 1);
    assert!(set.lookup("!other").is_none());
    assert!(
        CommandSetError::Builtin {
            name: name("!points")
        }
        .to_string()
        .contains("built-in")
    );
}

#[test]
fn upsert_replaces_and_frees_old_aliases() {
    let mut hello = def("!hello", "hi");
    hello.aliases = vec![name("!hi")];
    let mut set = CommandSet::new();
    set.insert(hello).unwrap();

    let mut replacement = def("!hello", "hello there");
    replacement.aliases = vec![name("!hey")];
    let old = set.upsert(replacement).unwrap().unwrap();
    assert_eq!(old.template.source(), "hi");
    assert!(set.lookup("!hi").is_none());
    assert_eq!(set.lookup("!hey").unwrap().template.source(), "hello there");

    // The freed alias can go to another command.
    set.insert(def("!hi", "separate")).unwrap();
    assert_eq!(set.len(), 2);

    // A failed upsert leaves everything as it was.
    let mut clash = def("!hello", "clash");
    clash.aliases = vec![name("!hi")];
    assert!(set.upsert(clash).is_err());
    assert_eq!(set.get("!hello").unwrap().template.source(), "hello there");
    assert!(set.lookup("!hey").is_some());
}

#[test]
fn remove_and_enable() {
    let mut hello = def("!hello", "hi");
    hello.aliases = vec![name("!hi")];
    let mut set = crate::support::set_of(vec![hello, def("!a", "a")]);
    assert!(set.set_enabled("!hello", false));
    assert!(!set.get("!hello").unwrap().enabled);
    assert!(!set.set_enabled("!missing", false));
    // Removal is by name, not alias.
    assert!(set.remove("!hi").is_none());
    assert!(set.remove("!hello").is_some());
    assert!(set.lookup("!hi").is_none());
    set.insert(def("!hi", "free again")).unwrap();
    let names: Vec<&str> = set.iter().map(|def| def.name.as_str()).collect();
    assert_eq!(names, vec!["!a", "!hi"]);
    assert!(!set.is_empty());
}

#[test]
fn platforms_empty_means_all() {
    use roadie_core::Platform;
    let mut command = def("!x", "x");
    assert!(Platform::ALL.iter().all(|p| command.runs_on(*p)));
    command.platforms = vec![Platform::Kick];
    assert!(command.runs_on(Platform::Kick));
    assert!(!command.runs_on(Platform::Twitch));
}
