//! Property tests: no input makes a parser or the dispatcher panic, and their results
//! keep their promises (columns in range, replies capped, random values in bounds).

use crate::support::{Ctx, Env, def, set_of, user};
use proptest::prelude::*;
use roadie_automation::{
    CommandName, Dispatcher, MAX_REPLY_CHARS, Template, TemplateErrorKind, parse_invocation,
};
use roadie_core::{Platform, Role};
use std::time::Duration;

/// Strings dense in template syntax, so the parser's branches are all reached.
fn templateish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("$(".to_owned()),
            Just("$".to_owned()),
            Just("$$".to_owned()),
            Just(")".to_owned()),
            Just(" ".to_owned()),
            Just("é".to_owned()),
            Just("user".to_owned()),
            Just("arg".to_owned()),
            Just("random".to_owned()),
            Just("touser".to_owned()),
            Just("time".to_owned()),
            Just("-3".to_owned()),
            Just("7".to_owned()),
            "[a-z0-9@!]{1,4}",
        ],
        0..24,
    )
    .prop_map(|pieces| pieces.concat())
}

fn check_template(source: &str) -> Result<(), TestCaseError> {
    match Template::parse(source) {
        Ok(template) => {
            let ctx = Ctx {
                args: vec!["@x", "$(user)", "é"],
                drawn: i64::MAX,
                ..Ctx::default()
            };
            let text = template.render(&ctx);
            prop_assert!(text.chars().count() <= MAX_REPLY_CHARS);
            prop_assert_eq!(template.source(), source);
        }
        Err(error) => {
            let limit = source.len().min(roadie_automation::MAX_TEMPLATE_BYTES) + 1;
            prop_assert!(error.column >= 1 && error.column <= limit, "{error:?}");
            prop_assert!(!error.to_string().is_empty());
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn template_parse_and_render_never_panic(source in any::<String>()) {
        check_template(&source)?;
    }

    #[test]
    fn templateish_parse_and_render_never_panic(source in templateish()) {
        check_template(&source)?;
    }

    #[test]
    fn text_without_dollar_renders_verbatim(text in "[^$]{1,400}") {
        prop_assume!(!text.trim().is_empty());
        let template = Template::parse(&text).unwrap();
        prop_assert_eq!(template.render(&Ctx::default()), text);
    }

    #[test]
    fn random_stays_in_bounds(low in any::<i64>(), high in any::<i64>(), drawn in any::<i64>()) {
        let source = format!("$(random {low} {high})");
        match Template::parse(&source) {
            Ok(template) => {
                prop_assert!(low <= high);
                let ctx = Ctx { drawn, ..Ctx::default() };
                let value: i64 = template.render(&ctx).parse().unwrap();
                prop_assert!(low <= value && value <= high);
            }
            Err(error) => {
                prop_assert!(low > high);
                prop_assert_eq!(error.kind, TemplateErrorKind::RandomBounds { low, high });
            }
        }
    }

    #[test]
    fn chat_line_matching_never_panics(line in any::<String>()) {
        if let Some(invocation) = parse_invocation(&line) {
            prop_assert!(invocation.word.starts_with('!'));
            prop_assert!(invocation.word.chars().count() >= 2);
            prop_assert!(!invocation.word.contains(char::is_whitespace));
            for arg in &invocation.args {
                prop_assert!(!arg.is_empty() && !arg.contains(char::is_whitespace));
            }
        } else {
            let first = line.split_whitespace().next();
            prop_assert!(first.is_none_or(|w| !w.starts_with('!') || w == "!"));
        }
    }

    #[test]
    fn command_names_never_panic(text in any::<String>(), suffix in "[A-Za-z0-9_]{0,40}") {
        for candidate in [text.clone(), format!("!{suffix}"), format!("!{text}")] {
            if let Ok(name) = CommandName::parse(&candidate) {
                let rest = name.as_str().strip_prefix('!').unwrap();
                prop_assert!((1..=32).contains(&rest.len()));
                prop_assert!(rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
                prop_assert!(name.as_str().eq_ignore_ascii_case(&candidate));
            }
        }
    }

    #[test]
    fn dispatch_never_panics(line in any::<String>(), word in "![a-zA-Z]{1,6}", rest in any::<String>(), at in any::<u64>()) {
        let mut d = Dispatcher::new(set_of(vec![
            def("!a", "$(touser) $(args) $(arg 2) $(random -1 1)"),
            def("!ab", "$(count) $(points)"),
        ]));
        let env = Env::default();
        let caller = user("1", "U", &[Role::Subscriber]);
        for text in [line, format!("{word} {rest}")] {
            let _ = d.evaluate(&text, &caller, Platform::Twitch, Duration::from_millis(at), &env);
        }
    }
}

/// Strings dense in TOML and document syntax, so the document checker's branches are
/// reached and not only the TOML parser's.
fn documentish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("[[commands]]\n".to_owned()),
            Just("[[timers]]\n".to_owned()),
            Just("[[actions]]\n".to_owned()),
            Just("[[actions.steps]]\n".to_owned()),
            Just("[[actions.triggers]]\n".to_owned()),
            Just("name = '!a'\n".to_owned()),
            Just("name = 'a'\n".to_owned()),
            Just("template = 'x $(user'\n".to_owned()),
            Just("template = \"\"\"\n$(input)\"\"\"\n".to_owned()),
            Just("message = 'hi'\n".to_owned()),
            Just("interval = 5\n".to_owned()),
            Just("type = 'chat'\n".to_owned()),
            Just("type = 'tip'\n".to_owned()),
            Just("type = 'wait'\n".to_owned()),
            Just("type = 'event'\n".to_owned()),
            Just("seconds = 1e9\n".to_owned()),
            Just("min_amount = '4.9é'\n".to_owned()),
            Just("data = { a = [1, { b = nan }] }\n".to_owned()),
            Just("text = 'é $(amount)'\n".to_owned()),
            Just("aliases = ['!a', '!uptime']\n".to_owned()),
            Just("platforms = ['kick', 'kick']\n".to_owned()),
            Just("concurrency = 'parallel'\n".to_owned()),
            Just("= \r\n\"'".to_owned()),
            "[a-z_]{1,8} = [0-9a-z'\"]{0,6}\n",
        ],
        0..30,
    )
    .prop_map(|pieces| pieces.concat())
}

fn check_document(text: &str) -> Result<(), TestCaseError> {
    match roadie_automation::document::parse(text) {
        Ok(document) => {
            let rendered = roadie_automation::document::render(&document);
            prop_assert_eq!(
                roadie_automation::document::parse(&rendered).ok(),
                Some(document)
            );
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            let lines = text.split('\n').count();
            for error in errors {
                prop_assert!(error.line >= 1 && error.line <= lines, "{error:?}");
                prop_assert!(error.column >= 1, "{error:?}");
                prop_assert!(!error.message.is_empty());
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn document_parse_never_panics(text in any::<String>()) {
        check_document(&text)?;
    }

    #[test]
    fn documentish_parse_never_panics(text in documentish()) {
        check_document(&text)?;
    }

    #[test]
    fn decimals_compare_like_numbers(
        a in 0u64..1_000_000, b in 0u64..1_000_000,
        a_zeros in 0usize..3, b_zeros in 0usize..3,
    ) {
        // a and b in thousandths, written with 3 decimals plus some extra zeros, and
        // leading zeros on the whole part.
        let write = |thousandths: u64, zeros: usize| {
            format!("{}{}.{:03}{}", "0".repeat(zeros), thousandths / 1000, thousandths % 1000, "0".repeat(zeros))
        };
        let (left, right) = (write(a, a_zeros), write(b, b_zeros));
        let left = roadie_automation::Decimal::parse(&left).unwrap();
        let right = roadie_automation::Decimal::parse(&right).unwrap();
        prop_assert_eq!(left.cmp_value(&right), a.cmp(&b));
    }
}
