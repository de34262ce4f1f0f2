//! Chat-line matching: which lines are invocations, and their arguments.

use roadie_automation::parse_invocation;

/// A chat line and the word and arguments it should give, if it is an invocation.
type Case = (
    &'static str,
    Option<(&'static str, &'static [&'static str])>,
);

#[test]
fn lines_split_into_word_and_arguments() {
    let cases: &[Case] = &[
        ("!hello", Some(("!hello", &[]))),
        ("!Hello World", Some(("!Hello", &["World"]))),
        ("   !so  @bob   extra ", Some(("!so", &["@bob", "extra"]))),
        ("\t!x\u{3000}y\u{a0}z", Some(("!x", &["y", "z"]))),
        ("!héllo wörld 🎉", Some(("!héllo", &["wörld", "🎉"]))),
        ("!!", Some(("!!", &[]))),
        ("!a\nb", Some(("!a", &["b"]))),
        ("hello !x", None),
        ("", None),
        ("   ", None),
        ("!", None),
        ("! x", None),
        ("¡hola", None),
        ("x!y", None),
    ];
    for (line, expected) in cases {
        let got = parse_invocation(line).map(|inv| (inv.word, inv.args));
        let expected = expected.map(|(word, args)| (word, args.to_vec()));
        assert_eq!(got, expected, "{line:?}");
    }
}
