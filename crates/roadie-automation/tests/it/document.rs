//! Config as code: the example document, the round trip through `render` and `parse`
//! (every step and trigger kind), and errors with their line, column, path and
//! expectation.

use crate::support::name;
use roadie_automation::document::{self, MAX_DOCUMENT_BYTES};
use roadie_automation::{
    ActionDef, ActionName, CommandDef, Concurrency, Decimal, Document, DocumentError, MediaAction,
    OnError, RewardMatch, RoleGate, SourceState, Step, Template, TimerDef, Trigger, TriggerKind,
    VariableSet,
};
use roadie_core::Platform;
use std::collections::BTreeSet;
use std::time::Duration;

const EXAMPLE: &str = include_str!("../data/example.toml");

fn errors(text: &str) -> Vec<DocumentError> {
    match document::parse(text) {
        Ok(document) => panic!("expected errors, parsed {document:?}"),
        Err(errors) => errors,
    }
}

/// The only error of `text`.
fn only(text: &str) -> DocumentError {
    let mut all = errors(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

/// 1-based character column of the first `needle` on 1-based `line` of `text`.
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    let source = text.lines().nth(line - 1).unwrap();
    let at = source.find(needle).unwrap();
    source[..at].chars().count() + 1
}

fn assert_at(error: &DocumentError, line: usize, column: usize, path: &str, says: &str) {
    assert_eq!(
        (error.line, error.column, error.path.as_str()),
        (line, column, path),
        "{error}"
    );
    assert!(error.message.contains(says), "{error}");
}

#[test]
fn the_example_parses() {
    let document = document::parse(EXAMPLE).unwrap();
    assert_eq!(document.commands.len(), 3);
    assert_eq!(document.timers.len(), 1);
    assert_eq!(document.actions.len(), 4);

    let discord = &document.commands[0];
    assert_eq!(discord.name.as_str(), "!discord");
    assert_eq!(discord.aliases, vec![name("!dc"), name("!server")]);
    assert_eq!(discord.global_cooldown, Duration::from_secs(30));
    assert_eq!(discord.user_cooldown, Duration::from_secs(120));
    let so = &document.commands[1];
    assert_eq!(so.gate, RoleGate::Moderator);
    assert_eq!(so.platforms, vec![Platform::Twitch, Platform::Kick]);
    assert!(!document.commands[2].enabled);

    let socials = &document.timers[0];
    assert_eq!(socials.interval, Duration::from_secs(15 * 60));
    assert_eq!(socials.min_lines, 10);

    let hydrate = &document.actions[0];
    assert_eq!(hydrate.concurrency, Concurrency::Queue);
    assert_eq!(hydrate.on_error, OnError::Stop);
    assert_eq!(
        hydrate.triggers,
        vec![Trigger {
            kind: TriggerKind::Redemption {
                reward: RewardMatch::Title("Hydrate!".into())
            },
            platforms: vec![Platform::Twitch],
        }]
    );
    assert_eq!(
        hydrate.steps[2],
        Step::Wait {
            duration: Duration::from_millis(7500)
        }
    );
    let cheer = &document.actions[1];
    assert_eq!(cheer.concurrency, Concurrency::SkipIfBusy);
    assert_eq!(cheer.on_error, OnError::Continue);
    assert_eq!(
        cheer.steps[2],
        Step::Event {
            name: "confetti".into(),
            data: serde_json::json!({"size": "large", "bursts": 3}),
        }
    );
    assert_eq!(
        document.actions[2].concurrency,
        Concurrency::Parallel { max: 3 }
    );
    assert!(document.command_set().unwrap().lookup("!DC").is_some());
}

#[test]
fn the_example_round_trips() {
    let document = document::parse(EXAMPLE).unwrap();
    let rendered = document::render(&document);
    assert_eq!(document::parse(&rendered).unwrap(), document, "{rendered}");
    // Deterministic: rendering the reparsed document gives the same text.
    assert_eq!(
        document::render(&document::parse(&rendered).unwrap()),
        rendered
    );
}

fn template(source: &str) -> Template {
    Template::parse_for(source, VariableSet::Action).unwrap()
}

/// A document with every step kind, every trigger kind and every non-default setting.
fn everything() -> Document {
    let mut command = CommandDef::new(name("!so"), Template::parse("Follow $(touser)!").unwrap());
    command.aliases = vec![name("!shoutout"), name("!s")];
    command.global_cooldown = Duration::from_secs(5);
    command.user_cooldown = Duration::from_secs(60);
    command.gate = RoleGate::Vip;
    command.platforms = vec![Platform::Youtube];
    command.enabled = false;
    let plain = CommandDef::new(
        name("!quote"),
        Template::parse("He said \"hi\"\n\t'there' \\ $$( ok").unwrap(),
    );

    let mut timer = TimerDef::new(
        "social-links_2",
        Duration::from_secs(30 * 60),
        7,
        Template::parse("Up $(uptime)").unwrap(),
    )
    .unwrap();
    timer.enabled = false;

    let steps = vec![
        Step::Chat {
            text: template("Thanks $(user) for $(amount) — «$(input)»"),
        },
        Step::Tts {
            text: template("$(reward)"),
            voice: Some("en-GB 'Alba'".into()),
        },
        Step::Tts {
            text: template("$(action)"),
            voice: None,
        },
        Step::ObsScene {
            scene: "Scene \"Main\"".into(),
        },
        Step::ObsSource {
            scene: "Main".into(),
            source: "Cam".into(),
            state: SourceState::Toggle,
        },
        Step::ObsText {
            source: "Latest".into(),
            text: template("$(user)"),
        },
        Step::ObsMedia {
            source: "Horn".into(),
            action: MediaAction::Pause,
        },
        Step::Points {
            delta: i64::MIN,
            reason: "all in".into(),
        },
        Step::Wait {
            duration: Duration::from_millis(1250),
        },
        Step::Wait {
            duration: Duration::from_secs(600),
        },
        Step::Script {
            script: "roulette.js".into(),
        },
        Step::Event {
            name: "custom".into(),
            data: serde_json::json!({
                "n": -3, "f": 0.5, "big": 1.0e300, "s": "x\"y", "t": true,
                "list": [1, "two", [3.25]], "nested": {"a b": {"c": []}}, "empty": {}
            }),
        },
        Step::Event {
            name: "bare".into(),
            data: serde_json::Value::Null,
        },
        Step::Event {
            name: "scalar".into(),
            data: serde_json::json!("just text"),
        },
    ];
    let trigger = |kind| Trigger::new(kind);
    let triggers = vec![
        Trigger {
            kind: TriggerKind::Command {
                name: name("!boom"),
                role: RoleGate::Moderator,
            },
            platforms: vec![Platform::Twitch, Platform::Kick],
        },
        trigger(TriggerKind::Command {
            name: name("!boom2"),
            role: RoleGate::Everyone,
        }),
        trigger(TriggerKind::Redemption {
            reward: RewardMatch::Id("0f1e-2d3c".into()),
        }),
        trigger(TriggerKind::Redemption {
            reward: RewardMatch::Title("Hydrate!".into()),
        }),
        trigger(TriggerKind::Follow),
        trigger(TriggerKind::Subscription { min_months: None }),
        trigger(TriggerKind::Subscription {
            min_months: Some(12),
        }),
        trigger(TriggerKind::Gift { min_count: 1 }),
        trigger(TriggerKind::Gift { min_count: 10 }),
        trigger(TriggerKind::Cheer { min_amount: 1 }),
        trigger(TriggerKind::Cheer { min_amount: 0 }),
        trigger(TriggerKind::Raid { min_viewers: 1 }),
        trigger(TriggerKind::Raid { min_viewers: 250 }),
        trigger(TriggerKind::Tip {
            min_amount: Decimal::parse("0").unwrap(),
            currency: None,
        }),
        Trigger {
            kind: TriggerKind::Tip {
                min_amount: Decimal::parse("4.990").unwrap(),
                currency: Some("eur".into()),
            },
            platforms: vec![Platform::Youtube],
        },
    ];
    let mut boom = ActionDef::new(ActionName::parse("boom").unwrap(), steps).unwrap();
    boom.triggers = triggers;
    boom.concurrency = Concurrency::Parallel { max: 4 };
    boom.on_error = OnError::Continue;
    boom.enabled = false;
    let mut skip = ActionDef::new(
        ActionName::parse("skip").unwrap(),
        vec![Step::Script { script: "s".into() }],
    )
    .unwrap();
    skip.concurrency = Concurrency::SkipIfBusy;
    let queue = ActionDef::new(
        ActionName::parse("q").unwrap(),
        vec![Step::Script { script: "q".into() }],
    )
    .unwrap();
    Document {
        commands: vec![command, plain],
        timers: vec![timer],
        actions: vec![boom, skip, queue],
    }
}

#[test]
fn every_step_and_trigger_kind_round_trips() {
    let document = everything();
    let kinds: BTreeSet<&str> = document.actions[0].steps.iter().map(Step::kind).collect();
    assert_eq!(kinds.len(), 10, "every step kind is covered");
    let kinds: BTreeSet<&str> = document.actions[0]
        .triggers
        .iter()
        .map(|trigger| trigger.kind.kind())
        .collect();
    assert_eq!(kinds.len(), 8, "every trigger kind is covered");

    let rendered = document::render(&document);
    let parsed =
        document::parse(&rendered).unwrap_or_else(|errors| panic!("{errors:#?}\n{rendered}"));
    assert_eq!(parsed, document, "{rendered}");
    assert_eq!(document::render(&parsed), rendered);
    // Defaults are left out.
    assert!(!rendered.contains("concurrency = \"queue\""), "{rendered}");
    assert!(!rendered.contains("min_count = 1\n"), "{rendered}");
    assert!(rendered.contains("max_parallel = 4"), "{rendered}");
    assert!(rendered.contains("seconds = 1.25"), "{rendered}");
}

#[test]
fn rendering_an_empty_document_gives_an_empty_one() {
    assert_eq!(document::render(&Document::default()), "");
    assert_eq!(document::parse("").unwrap(), Document::default());
    assert_eq!(
        document::parse("# nothing yet\n").unwrap(),
        Document::default()
    );
}

#[test]
fn json_nulls_are_left_out_of_event_data() {
    let mut document = everything();
    document.actions[0].steps = vec![Step::Event {
        name: "e".into(),
        data: serde_json::json!({"keep": 1, "drop": null, "list": [null, 2]}),
    }];
    let parsed = document::parse(&document::render(&document)).unwrap();
    assert_eq!(
        parsed.actions[0].steps[0],
        Step::Event {
            name: "e".into(),
            data: serde_json::json!({"keep": 1, "list": [2]}),
        }
    );
}

// ---- errors ----

#[test]
fn a_bad_template_reports_its_line_and_column() {
    let text = "\
[[commands]]
name = \"!ok\"
template = \"fine\"

[[commands]]
name = \"!hi\"
template = \"Hello $(usr)!\"
";
    let error = only(text);
    assert_at(
        &error,
        7,
        column_of(text, 7, "usr"),
        "commands[1].template",
        "unknown variable \"usr\"",
    );
    assert!(error.message.contains("expected one of"), "{error}");

    // Literal and multi-line strings map columns too.
    let text = "[[commands]]\nname = '!a'\ntemplate = 'x $(arg 0)'\n";
    assert_at(
        &only(text),
        3,
        column_of(text, 3, "0)"),
        "commands[0].template",
        "bad argument",
    );
    let text = "[[commands]]\nname = '!a'\ntemplate = \"\"\"\nline one\n$(nope)\"\"\"\n";
    let error = only(text);
    // The value starts after the newline that follows `"""`: `$(nope)` is on line 5.
    assert_eq!((error.line, error.column), (5, 3), "{error}");
    // With an escape in the string, the error points at the value.
    let text = "[[commands]]\nname = '!a'\ntemplate = \"tab\\t $(nope)\"\n";
    assert_at(&only(text), 3, 12, "commands[0].template", "nope");
    // Non-ASCII before the error: columns count characters.
    let text = "[[commands]]\nname = '!a'\ntemplate = \"héé $(nope)\"\n";
    assert_at(
        &only(text),
        3,
        column_of(text, 3, "nope"),
        "commands[0].template",
        "nope",
    );
}

#[test]
fn an_action_template_may_not_use_count_nor_a_command_input() {
    let text = "\
[[commands]]
name = '!a'
template = 'you typed $(input)'

[[actions]]
name = 'x'
[[actions.steps]]
type = 'chat'
text = 'run $(count)'
";
    let all = errors(text);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_at(
        &all[0],
        3,
        column_of(text, 3, "input"),
        "commands[0].template",
        "not available in command",
    );
    assert_at(
        &all[1],
        9,
        column_of(text, 9, "count"),
        "actions[0].steps[0].text",
        "not available in action",
    );
}

#[test]
fn an_unknown_field_is_refused_where_it_is() {
    let text = "[[commands]]\nname = '!a'\ntemplate = 'x'\ncooldwn = 5\n";
    let error = only(text);
    assert_at(
        &error,
        4,
        1,
        "commands[0].cooldwn",
        "unknown field `cooldwn`",
    );
    assert!(error.message.contains("`cooldown`"), "{error}");

    let text = "\
[[actions]]
name = 'a'

[[actions.steps]]
type = 'chat'
text = 'x'

[[actions.steps]]
type = 'chat'
  colour = 'red'
";
    assert_at(
        &only(text),
        10,
        3,
        "actions[0].steps[1].colour",
        "unknown field `colour`",
    );

    let text = "[settings]\nx = 1\n";
    assert_at(&only(text), 1, 2, "settings", "unknown field `settings`");
    let text = "commands = [{ name = '!a', template = 'x', bogus = true }]\n";
    assert_at(
        &only(text),
        1,
        column_of(text, 1, "bogus"),
        "commands[0].bogus",
        "bogus",
    );
}

#[test]
fn a_duplicate_command_name_reports_the_second_one() {
    let text = "\
[[commands]]
name = '!hello'
template = 'one'

[[commands]]
name = '!other'
template = 'x'

[[commands]]
name = '!HELLO'
template = 'two'
";
    let error = only(text);
    assert_at(
        &error,
        10,
        8,
        "commands[2].name",
        "already defined on line 2",
    );
}

#[test]
fn command_words_collide_with_aliases_and_built_ins() {
    let text = "\
[[commands]]
name = '!hello'
aliases = ['!hi']
template = 'one'

[[commands]]
name = '!greet'
aliases = ['!hey', '!hi', '!hey', '!uptime']
template = 'two'
";
    let all = errors(text);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert_at(
        &all[0],
        8,
        column_of(text, 8, "'!hi'"),
        "commands[1].aliases[1]",
        "already used by command !hello (line 2)",
    );
    let second_hey = text.lines().nth(7).unwrap().rfind("'!hey'").unwrap() + 1;
    assert_at(
        &all[1],
        8,
        second_hey,
        "commands[1].aliases[2]",
        "listed twice",
    );
    assert_at(
        &all[2],
        8,
        column_of(text, 8, "'!uptime'"),
        "commands[1].aliases[3]",
        "built-in",
    );
}

#[test]
fn every_problem_is_reported_in_order() {
    let text = "\
[[commands]]
name = 'hello'
template = 'ok'
cooldown = -5
role = 'admin'
platforms = ['twitch', 'twitter', 'twitch']

[[commands]]
template = '$(user'
enabled = 'yes'

[[timers]]
name = 'Bad Name'
interval = 0
message = 'hi $(user)'
";
    let all = errors(text);
    let summary: Vec<(usize, &str)> = all
        .iter()
        .map(|error| (error.line, error.path.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, "commands[0].name"),
            (4, "commands[0].cooldown"),
            (5, "commands[0].role"),
            (6, "commands[0].platforms[1]"),
            (6, "commands[0].platforms[2]"),
            (8, "commands[1].name"),
            (9, "commands[1].template"),
            (10, "commands[1].enabled"),
            (13, "timers[0].name"),
            (14, "timers[0].interval"),
            (15, "timers[0].message"),
        ],
        "{all:#?}"
    );
    assert!(all[0].message.contains("must start with `!`"), "{}", all[0]);
    assert!(
        all[1]
            .message
            .contains("expected a whole number of seconds"),
        "{}",
        all[1]
    );
    assert!(
        all[1].message.contains("found the integer -5"),
        "{}",
        all[1]
    );
    assert!(
        all[2].message.contains("everyone, subscriber"),
        "{}",
        all[2]
    );
    assert!(all[3].message.contains("twitter"), "{}", all[3]);
    assert!(all[4].message.contains("listed twice"), "{}", all[4]);
    // A missing field points at its table's header.
    assert_eq!(all[5].column, 1);
    assert!(all[5].message.contains("missing"), "{}", all[5]);
    assert!(all[6].message.contains("never closed"), "{}", all[6]);
    assert!(all[7].message.contains("true or false"), "{}", all[7]);
    assert!(all[10].message.contains("no caller"), "{}", all[10]);
    // Display carries everything.
    assert_eq!(
        all[1].to_string(),
        format!(
            "line 4, column 12: commands[0].cooldown: {}",
            all[1].message
        )
    );
}

#[test]
fn action_problems_point_at_their_field() {
    let text = "\
[[actions]]
name = 'Hydrate Now'
concurrency = 'parallel'

[[actions.triggers]]
type = 'redemption'
reward = 'Hydrate'
reward_id = 'abc'

[[actions.triggers]]
type = 'tip'
min_amount = '5,00'
currency = 'US$'

[[actions.triggers]]
type = 'cheer'
min_viewers = 5

[[actions.triggers]]
type = 'sneeze'

[[actions.steps]]
type = 'wait'
seconds = 601

[[actions.steps]]
type = 'points'
delta = 0
reason = 'x'

[[actions.steps]]
type = 'obs_source'
scene = 'Main'
state = 'on'

[[actions.steps]]
type = 'event'
name = 'e'
data = { x = nan }

[[actions.steps]]
type = 'obs_media'
source = 'Horn'
action = 'blink'
";
    let all = errors(text);
    let summary: Vec<(usize, usize, &str)> = all
        .iter()
        .map(|error| (error.line, error.column, error.path.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, column_of(text, 2, " Now"), "actions[0].name"),
            (3, 15, "actions[0].max_parallel"),
            (8, 13, "actions[0].triggers[0].reward_id"),
            (
                12,
                column_of(text, 12, ","),
                "actions[0].triggers[1].min_amount"
            ),
            (17, 15, "actions[0].triggers[2].min_viewers"),
            (20, 8, "actions[0].triggers[3].type"),
            (24, 11, "actions[0].steps[0].seconds"),
            (28, 9, "actions[0].steps[1].delta"),
            (31, 1, "actions[0].steps[2].source"),
            (39, 8, "actions[0].steps[3].data"),
            (44, 10, "actions[0].steps[4].action"),
        ],
        "{all:#?}"
    );
    let says = |index: usize, text: &str| {
        assert!(all[index].message.contains(text), "{}", all[index]);
    };
    says(0, "expected a-z, 0-9, _ or -");
    says(1, "`parallel` needs max_parallel");
    says(2, "not both");
    says(3, "4.99");
    says(4, "does not apply to a cheer trigger; it takes: min_amount");
    says(5, "expected one of: command, redemption");
    says(6, "expected a number of seconds from 0 to 600");
    says(7, "does nothing");
    says(8, "needs: scene, source, state");
    says(9, "nan");
    says(10, "play, pause, restart, stop");
}

#[test]
fn more_action_rules() {
    // No steps; duplicate names; a bad currency once the amount is fine; a command
    // trigger on a command's word; max_parallel without parallel.
    let text = "\
[[commands]]
name = '!water'
aliases = ['!drink']
template = 'x'

[[actions]]
name = 'a'

[[actions]]
name = 'b'
max_parallel = 2
[[actions.triggers]]
type = 'tip'
currency = 'US$'
[[actions.triggers]]
type = 'command'
name = '!drink'
[[actions.triggers]]
type = 'command'
name = '!points'
[[actions.triggers]]
type = 'follow'
platforms = ['kick', 'kick']
[[actions.steps]]
type = 'script'
script = 'x'

[[actions]]
name = 'A'
[[actions.steps]]
type = 'script'
script = 'x'
";
    let all = errors(text);
    let summary: Vec<(usize, &str)> = all
        .iter()
        .map(|error| (error.line, error.path.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (6, "actions[0].steps"),
            (11, "actions[1].max_parallel"),
            (14, "actions[1].triggers[0].currency"),
            (17, "actions[1].triggers[1].name"),
            (20, "actions[1].triggers[2].name"),
            (23, "actions[1].triggers[3].platforms[1]"),
            (29, "actions[2].name"),
        ],
        "{all:#?}"
    );
    assert!(all[0].message.contains("no steps"), "{}", all[0]);
    assert!(all[1].message.contains("parallel"), "{}", all[1]);
    assert!(all[2].message.contains("ISO 4217"), "{}", all[2]);
    assert!(
        all[3].message.contains("command !water (line 2)"),
        "{}",
        all[3]
    );
    assert!(all[4].message.contains("built-in"), "{}", all[4]);
    assert!(
        all[6].message.contains("already defined on line 7"),
        "{}",
        all[6]
    );
}

#[test]
fn timers_are_checked() {
    let text = "\
[[timers]]
name = 'socials'
interval = 5
message = 'a'

[[timers]]
name = 'socials'
interval = 1441
min_lines = -1
message = 'b $(input)'
";
    let all = errors(text);
    let summary: Vec<(usize, &str)> = all
        .iter()
        .map(|error| (error.line, error.path.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (7, "timers[1].name"),
            (8, "timers[1].interval"),
            (9, "timers[1].min_lines"),
            (10, "timers[1].message"),
        ],
        "{all:#?}"
    );
    assert!(
        all[0].message.contains("already defined on line 2"),
        "{}",
        all[0]
    );
    assert!(all[1].message.contains("from 1 to 1440"), "{}", all[1]);
}

#[test]
fn syntax_and_shape_errors_stop_at_the_first() {
    let text = "[[commands]]\nname = '!a'\ntemplate = \"unclosed\n";
    let error = only(text);
    assert_eq!(error.line, 3, "{error}");
    assert!(!error.message.is_empty());

    let text = "[[actions]]\nname = 'a'\nsteps = 5\n";
    assert_at(&only(text), 3, 9, "actions[0].steps", "invalid type");

    let text = "commands = 'none'\n";
    assert_at(&only(text), 1, 12, "commands", "invalid type");

    let text = "[[commands]]\nname = '!a'\nname = '!b'\n";
    assert_eq!(only(text).line, 3);
}

#[test]
fn positions_hold_with_crlf_line_endings() {
    let text = "[[commands]]\r\nname = '!a'\r\ntemplate = 'x $(nope)'\r\n";
    assert_at(
        &only(text),
        3,
        column_of(text, 3, "nope"),
        "commands[0].template",
        "nope",
    );
    let parsed = document::parse(&EXAMPLE.replace('\n', "\r\n")).unwrap();
    assert_eq!(parsed, document::parse(EXAMPLE).unwrap());
}

#[test]
fn oversized_documents_are_refused() {
    let text = format!("# {}\n", "x".repeat(MAX_DOCUMENT_BYTES));
    let error = only(&text);
    assert_eq!((error.line, error.column), (1, 1));
    assert!(error.message.contains("expected at most"), "{error}");
}
