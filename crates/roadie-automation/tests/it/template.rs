//! Templates: every variable with its edge cases, literal `$`, the output cap and
//! parse errors with their columns.

use crate::support::{Ctx, user};
use roadie_automation::{
    FollowAge, MAX_REPLY_CHARS, MAX_TEMPLATE_BYTES, Template, TemplateErrorKind, Variable,
};
use roadie_core::{Platform, Timestamp};
use std::time::Duration;

fn render(template: &str, ctx: &Ctx) -> String {
    Template::parse(template).unwrap().render(ctx)
}

fn with_args(args: &[&'static str]) -> Ctx {
    Ctx {
        args: args.to_vec(),
        ..Ctx::default()
    }
}

#[test]
fn caller_and_argument_variables() {
    let cases: &[(&str, &[&'static str], &str)] = &[
        ("hi $(user)", &[], "hi Alice"),
        ("hug $(touser)", &["@bob"], "hug bob"),
        ("hug $(touser)", &["bob", "x"], "hug bob"),
        ("hug $(touser)", &[], "hug Alice"),
        ("hug $(touser)", &["@"], "hug Alice"),
        ("hug $(touser)", &["@@bob"], "hug @bob"),
        ("hug $(touser)", &["b@b"], "hug b@b"),
        ("[$(args)]", &["a", "b", "c"], "[a b c]"),
        ("[$(args)]", &[], "[]"),
        ("[$(arg 1)|$(arg 2)]", &["x"], "[x|]"),
        ("[$(arg 3)]", &["a", "b", "c"], "[c]"),
        ("[$(arg 99)]", &["a"], "[]"),
        ("[$(arg 18446744073709551615)]", &["a"], "[]"),
        ("[$( arg   2 )]", &["a", "b"], "[b]"),
        (
            "héllo $(user) 🎉 $(arg 1)",
            &["wörld"],
            "héllo Alice 🎉 wörld",
        ),
        // Arguments are inserted as text, never parsed as template syntax.
        ("$(args)", &["$(points)", "$(user)"], "$(points) $(user)"),
    ];
    for (template, args, expected) in cases {
        assert_eq!(render(template, &with_args(args)), *expected, "{template}");
    }
}

#[test]
fn user_falls_back_to_login_without_display_name() {
    let mut ctx = Ctx::default();
    ctx.caller.name.clear();
    ctx.caller.login = "alice_login".into();
    assert_eq!(render("$(user)", &ctx), "alice_login");
    assert_eq!(render("$(touser)", &ctx), "alice_login");
}

#[test]
fn count_points_platform() {
    let ctx = Ctx {
        count: 42,
        points: -3,
        platform: Platform::Kick,
        ..Ctx::default()
    };
    assert_eq!(
        render("#$(count) $(points)pts on $(platform)", &ctx),
        "#42 -3pts on kick"
    );
    for platform in Platform::ALL {
        let ctx = Ctx {
            platform: *platform,
            ..Ctx::default()
        };
        assert_eq!(render("$(platform)", &ctx), platform.as_str());
    }
}

#[test]
fn uptime_variable() {
    let cases = [
        (Some(Duration::from_secs(2 * 3600 + 5 * 60 + 59)), "2h 5m"),
        (Some(Duration::from_secs(3600)), "1h 0m"),
        (Some(Duration::from_secs(5 * 60 + 1)), "5m"),
        (Some(Duration::from_secs(42)), "42s"),
        (Some(Duration::from_secs(30 * 3600)), "30h 0m"),
        (None, "offline"),
    ];
    for (uptime, expected) in cases {
        let ctx = Ctx {
            uptime,
            ..Ctx::default()
        };
        assert_eq!(render("$(uptime)", &ctx), expected, "{uptime:?}");
    }
}

#[test]
fn followage_variable() {
    const DAY: u64 = 86_400;
    const YEAR: u64 = 365 * DAY + DAY / 4;
    const MONTH: u64 = YEAR / 12;
    let since = |secs: u64| FollowAge::Since(Duration::from_secs(secs));
    let cases = [
        (since(YEAR + 2 * MONTH + 3 * DAY + 5), "1y 2mo 3d"),
        (since(2 * YEAR), "2y"),
        (since(MONTH + DAY), "1mo 1d"),
        (since(364 * DAY), "11mo 29d"),
        (since(3 * DAY), "3d"),
        (since(5 * 3600), "0d"),
        (FollowAge::NotFollowing, "not following"),
        (FollowAge::Unknown, "unknown"),
    ];
    for (followage, expected) in cases {
        let ctx = Ctx {
            followage,
            ..Ctx::default()
        };
        assert_eq!(render("$(followage)", &ctx), expected, "{followage:?}");
    }
}

#[test]
fn time_variable_is_utc_time_of_day() {
    // 2024-03-01T14:05:59.999Z
    let cases = [
        (1_709_301_959_999, "14:05 UTC"),
        (0, "00:00 UTC"),
        (-1, "23:59 UTC"),
        (86_400_000 - 60_000, "23:59 UTC"),
        (i64::MIN, "16:47 UTC"),
        (i64::MAX, "07:12 UTC"),
    ];
    for (ms, expected) in cases {
        let ctx = Ctx {
            now: Timestamp(ms),
            ..Ctx::default()
        };
        assert_eq!(render("$(time)", &ctx), expected, "{ms}");
    }
}

#[test]
fn random_draws_through_the_context_within_bounds() {
    let cases = [
        ("$(random 1 6)", 4, "4", (1, 6)),
        ("$(random -5 -5)", -5, "-5", (-5, -5)),
        ("$(random -10 10)", -10, "-10", (-10, 10)),
        // A context returning a value outside the range is clamped into it.
        ("$(random 1 6)", 99, "6", (1, 6)),
        ("$(random 1 6)", -99, "1", (1, 6)),
        (
            "$(random -9223372036854775808 9223372036854775807)",
            0,
            "0",
            (i64::MIN, i64::MAX),
        ),
    ];
    for (template, drawn, expected, bounds) in cases {
        let ctx = Ctx {
            drawn,
            ..Ctx::default()
        };
        assert_eq!(render(template, &ctx), expected, "{template}");
        assert_eq!(*ctx.draws.borrow(), vec![bounds], "{template}");
    }
    // One draw per occurrence.
    let ctx = Ctx::default();
    render("$(random 1 2) $(random 3 4)", &ctx);
    assert_eq!(*ctx.draws.borrow(), vec![(1, 2), (3, 4)]);
}

#[test]
fn dollar_signs_that_start_no_variable_stay_literal() {
    let cases = [
        ("$$", "$$"),
        ("$", "$"),
        ("costs $5", "costs $5"),
        ("US$ 10 and $", "US$ 10 and $"),
        ("a $ (user)", "a $ (user)"),
        ("$$(user)", "$(user)"),
        ("$$$(user)", "$$(user)"),
        ("$$(user) $(user)", "$(user) Alice"),
        ("$$(", "$("),
        ("100$$$", "100$$$"),
        (")) ((", ")) (("),
    ];
    for (template, expected) in cases {
        assert_eq!(render(template, &Ctx::default()), expected, "{template}");
    }
}

#[test]
fn output_is_capped_at_the_reply_limit() {
    let long_arg: &'static str = Box::leak("é".repeat(300).into_boxed_str());
    let ctx = with_args(&[long_arg]);
    let text = render("$(args) $(args) $(args)", &ctx);
    assert_eq!(text.chars().count(), MAX_REPLY_CHARS);
    assert!(text.starts_with("éé"));

    let literal = "x".repeat(MAX_TEMPLATE_BYTES);
    let text = render(&literal, &Ctx::default());
    assert_eq!(text.len(), MAX_REPLY_CHARS);

    // Variables past the cap are not even evaluated (no random draw).
    let ctx = with_args(&[long_arg]);
    render("$(args)$(args)$(random 1 2)", &ctx);
    assert!(ctx.draws.borrow().is_empty());
}

#[test]
fn parse_errors_give_column_and_expectation() {
    use TemplateErrorKind as K;
    let unknown = |name: &str| K::UnknownVariable { name: name.into() };
    let cases: Vec<(&str, usize, TemplateErrorKind)> = vec![
        ("hi $(usr)", 6, unknown("usr")),
        ("é $(nope) x", 6, unknown("nope")),
        ("$(User)", 3, unknown("User")),
        ("$(  follow_age )", 5, unknown("follow_age")),
        ("ok $(user) $(bad", 12, K::Unclosed),
        ("$(", 1, K::Unclosed),
        ("a $()", 5, K::MissingName),
        ("a $(   )", 8, K::MissingName),
        (
            "$(arg)",
            6,
            K::MissingArgument {
                variable: "arg",
                expected: "a position: 1, 2, ...",
            },
        ),
        (
            "$(arg 0)",
            7,
            K::BadArgument {
                variable: "arg",
                given: "0".into(),
                expected: "a position: 1, 2, ...",
            },
        ),
        (
            "$(arg -1)",
            7,
            K::BadArgument {
                variable: "arg",
                given: "-1".into(),
                expected: "a position: 1, 2, ...",
            },
        ),
        (
            "$(arg 1 2)",
            9,
            K::ExtraArgument {
                variable: "arg",
                given: "2".into(),
            },
        ),
        (
            "$(user x)",
            8,
            K::ExtraArgument {
                variable: "user",
                given: "x".into(),
            },
        ),
        ("$(random 6 1)", 10, K::RandomBounds { low: 6, high: 1 }),
        (
            "$(random 1)",
            11,
            K::MissingArgument {
                variable: "random",
                expected: "two integers A B, as in `$(random 1 6)`",
            },
        ),
        (
            "$(random x 2)",
            10,
            K::BadArgument {
                variable: "random",
                given: "x".into(),
                expected: "an integer, as in `$(random 1 6)`",
            },
        ),
        (
            "$(random 1 99999999999999999999)",
            12,
            K::BadArgument {
                variable: "random",
                given: "99999999999999999999".into(),
                expected: "an integer, as in `$(random 1 6)`",
            },
        ),
        (
            "$(random 1 2 3)",
            14,
            K::ExtraArgument {
                variable: "random",
                given: "3".into(),
            },
        ),
        ("", 1, K::Empty),
        (" \t\n", 1, K::Empty),
    ];
    for (template, column, kind) in cases {
        let error = Template::parse(template).unwrap_err();
        assert_eq!((error.column, &error.kind), (column, &kind), "{template:?}");
    }
    let long = "x".repeat(MAX_TEMPLATE_BYTES + 1);
    let error = Template::parse(&long).unwrap_err();
    assert_eq!(
        error.kind,
        K::TooLong {
            len: MAX_TEMPLATE_BYTES + 1
        }
    );
}

#[test]
fn error_messages_name_the_problem() {
    let message = Template::parse("hi $(usr)").unwrap_err().to_string();
    assert!(message.contains("column 6"), "{message}");
    assert!(message.contains("\"usr\""), "{message}");
    assert!(message.contains("touser"), "{message}");
    let message = Template::parse("$(user").unwrap_err().to_string();
    assert!(message.contains("expected `)`"), "{message}");
}

#[test]
fn source_and_variables_are_kept() {
    let template = Template::parse("$(user) rolled $(random 1 6) at $(time)").unwrap();
    assert_eq!(template.source(), "$(user) rolled $(random 1 6) at $(time)");
    assert_eq!(template.to_string(), template.source());
    assert_eq!(
        template.variables().collect::<Vec<_>>(),
        vec![
            Variable::User,
            Variable::Random { low: 1, high: 6 },
            Variable::Time
        ]
    );
    let parsed: Template = "plain".parse().unwrap();
    assert_eq!(parsed.variables().count(), 0);
}

#[test]
fn caller_display_name_is_used_not_login() {
    let ctx = Ctx {
        caller: user("9", "ÄnneDisplay", &[]),
        ..Ctx::default()
    };
    assert_eq!(render("$(user)", &ctx), "ÄnneDisplay");
}

#[test]
fn variable_sets_keep_action_and_command_variables_apart() {
    use roadie_automation::VariableSet;
    let not_available = |source: &str, set: VariableSet| {
        let error = Template::parse_for(source, set).unwrap_err();
        (error.column, error.kind)
    };
    for name in ["input", "amount", "reward", "action"] {
        let source = format!("hi $({name})");
        assert_eq!(
            not_available(&source, VariableSet::Command),
            (
                6,
                TemplateErrorKind::NotAvailable {
                    variable: name,
                    set: VariableSet::Command
                }
            ),
            "{source}"
        );
        // `Template::parse` is the command set.
        assert!(Template::parse(&source).is_err());
        assert!(Template::parse_for(&source, VariableSet::Action).is_ok());
    }
    assert_eq!(
        not_available("#$( count )", VariableSet::Action),
        (
            5,
            TemplateErrorKind::NotAvailable {
                variable: "count",
                set: VariableSet::Action
            }
        )
    );
    let message = Template::parse("$(input)").unwrap_err().to_string();
    assert!(message.contains("not available in command"), "{message}");
    let template =
        Template::parse_for("$(user) $(random 1 2) $(input)", VariableSet::Action).unwrap();
    assert_eq!(
        template.variables().collect::<Vec<_>>(),
        vec![
            Variable::User,
            Variable::Random { low: 1, high: 2 },
            Variable::Input
        ]
    );
}

#[test]
fn action_variables_render_empty_without_a_value() {
    use roadie_automation::VariableSet;
    // `Ctx` keeps the trait's default `input`, `amount`, `reward` and `action`.
    let template = Template::parse_for(
        "[$(input)|$(amount)|$(reward)|$(action)] $(user)",
        VariableSet::Action,
    )
    .unwrap();
    assert_eq!(template.render(&Ctx::default()), "[|||] Alice");
}
