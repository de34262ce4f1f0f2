//! Response templates: text with `$(...)` variables, parsed once when a command is
//! added (so errors surface then, with a column) and rendered per use against a
//! [`TemplateContext`] that supplies the caller, arguments and channel data.
//!
//! Syntax: `$(name)` or `$(name arg...)`, arguments separated by whitespace. `$$(`
//! writes a literal `$(`; any other `$` not followed by `(` is plain text, so `$$`,
//! `$5` and `US$` render unchanged. Argument values are inserted as text and never
//! parsed again, so a viewer typing `$(points)` as an argument gets it back verbatim.
//!
//! Two variable sets exist ([`VariableSet`]): command (and timer) templates use the
//! chat variables; action templates add `$(input)`, `$(amount)`, `$(reward)` and
//! `$(action)` but have no `$(count)` (actions keep no use counter). A template parsed
//! for one set refuses the other's variables with [`TemplateErrorKind::NotAvailable`],
//! so a command cannot quietly render an always-empty `$(input)`.

use crate::format;
use roadie_core::{Platform, Timestamp, User};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The longest rendered reply, in characters (Unicode scalar values); the rest is cut.
/// 500 is Twitch's chat message limit, the largest of the platforms'.
pub const MAX_REPLY_CHARS: usize = 500;

/// The longest template source, in bytes: room for a full reply in any script
/// (4-byte characters included) while keeping stored templates bounded.
pub const MAX_TEMPLATE_BYTES: usize = 2000;

/// How long a viewer has followed the channel, as far as the platform tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowAge {
    /// Following for this long.
    Since(Duration),
    /// Known not to follow.
    NotFollowing,
    /// The platform does not say (YouTube, or the look-up failed).
    Unknown,
}

/// What a template reads while rendering. Methods are called only for the variables
/// the template uses, so implementations may look data up lazily.
pub trait TemplateContext {
    /// Who invoked the command.
    fn caller(&self) -> &User;
    /// The words after the command.
    fn args(&self) -> &[&str];
    /// This command's use counter, including the current use.
    fn count(&self) -> u64;
    /// The caller's points balance.
    fn points(&self) -> i64;
    /// How long the stream has been live; `None` when offline.
    fn uptime(&self) -> Option<Duration>;
    /// How long the caller has followed the channel.
    fn followage(&self) -> FollowAge;
    /// Where the command was invoked.
    fn platform(&self) -> Platform;
    /// The wall-clock time of the invocation.
    fn now(&self) -> Timestamp;
    /// A uniformly drawn integer in `low..=high` (the template guarantees
    /// `low <= high`; a value outside is clamped into the range).
    fn random(&self, low: i64, high: i64) -> i64;
    /// `$(input)`: the text a viewer entered with a redemption, the words after a
    /// command that triggered an action, or `--input`; `None` renders empty.
    fn input(&self) -> Option<&str> {
        None
    }
    /// `$(amount)`: a cheer's units, a tip's decimal amount, a sub's months, a gift's
    /// count or a raid's viewers, as text; `None` renders empty.
    fn amount(&self) -> Option<&str> {
        None
    }
    /// `$(reward)`: the redeemed reward's title; `None` renders empty.
    fn reward(&self) -> Option<&str> {
        None
    }
    /// `$(action)`: the running action's name; `None` renders empty.
    fn action(&self) -> Option<&str> {
        None
    }
}

/// Which variables a template may use: it depends on where the template runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum VariableSet {
    /// Command replies and timer messages: the chat variables, `$(count)` included.
    #[default]
    Command,
    /// Action steps: the chat variables without `$(count)`, plus `$(input)`,
    /// `$(amount)`, `$(reward)` and `$(action)`.
    Action,
}

impl VariableSet {
    /// `"command"` or `"action"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VariableSet::Command => "command",
            VariableSet::Action => "action",
        }
    }

    /// Whether templates of this set may use `variable`.
    pub fn allows(self, variable: Variable) -> bool {
        match variable {
            Variable::Count => self == VariableSet::Command,
            Variable::Input | Variable::Amount | Variable::Reward | Variable::Action => {
                self == VariableSet::Action
            }
            Variable::User
            | Variable::ToUser
            | Variable::Args
            | Variable::Arg(_)
            | Variable::Points
            | Variable::Uptime
            | Variable::Random { .. }
            | Variable::FollowAge
            | Variable::Platform
            | Variable::Time => true,
        }
    }
}

impl fmt::Display for VariableSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A variable a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    /// `$(user)`: the caller's display name.
    User,
    /// `$(touser)`: the first argument without a leading `@`, else the caller.
    ToUser,
    /// `$(args)`: all arguments joined by a space.
    Args,
    /// `$(arg N)`: the Nth argument (1-based), empty when missing.
    Arg(usize),
    /// `$(count)`: the command's use counter after this use.
    Count,
    /// `$(points)`: the caller's balance.
    Points,
    /// `$(uptime)`: `2h 5m`, or `offline`.
    Uptime,
    /// `$(random A B)`: an integer from A to B inclusive.
    Random {
        /// Smallest value.
        low: i64,
        /// Largest value.
        high: i64,
    },
    /// `$(followage)`: `1y 2mo 3d`, `not following` or `unknown`.
    FollowAge,
    /// `$(platform)`: `twitch`, `kick`, `youtube` or `roadie`.
    Platform,
    /// `$(time)`: the time of day as `HH:MM UTC`.
    Time,
    /// `$(input)` (actions only): the viewer's or caller's input text.
    Input,
    /// `$(amount)` (actions only): the triggering event's amount as text.
    Amount,
    /// `$(reward)` (actions only): the redeemed reward's title.
    Reward,
    /// `$(action)` (actions only): the action's name.
    Action,
}

impl Variable {
    /// The variable's name as written in templates.
    pub fn name(self) -> &'static str {
        match self {
            Variable::User => "user",
            Variable::ToUser => "touser",
            Variable::Args => "args",
            Variable::Arg(_) => "arg",
            Variable::Count => "count",
            Variable::Points => "points",
            Variable::Uptime => "uptime",
            Variable::Random { .. } => "random",
            Variable::FollowAge => "followage",
            Variable::Platform => "platform",
            Variable::Time => "time",
            Variable::Input => "input",
            Variable::Amount => "amount",
            Variable::Reward => "reward",
            Variable::Action => "action",
        }
    }

    /// Whether the value depends on who invoked a command (meaningless in a timer).
    pub fn needs_caller(self) -> bool {
        matches!(
            self,
            Variable::User
                | Variable::ToUser
                | Variable::Args
                | Variable::Arg(_)
                | Variable::Count
                | Variable::Points
                | Variable::FollowAge
        )
    }
}

const NAMES: &str = "user, touser, args, arg N, count, points, uptime, random A B, followage, \
     platform, time; in actions also input, amount, reward, action (but not count)";

/// A template parse error: where (1-based byte column in the source) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template error at column {column}: {kind}")]
pub struct TemplateError {
    /// 1-based byte column in the template source.
    pub column: usize,
    /// What was wrong, and what was expected.
    pub kind: TemplateErrorKind,
}

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateErrorKind {
    /// Nothing but whitespace.
    #[error("the template is empty; expected text or a variable")]
    Empty,
    /// Longer than [`MAX_TEMPLATE_BYTES`].
    #[error("the template is {len} bytes long; expected at most {MAX_TEMPLATE_BYTES}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// `$(` without a closing `)`.
    #[error("`$(` is never closed; expected `)`")]
    Unclosed,
    /// `$()` or `$(  )`.
    #[error("expected a variable name ({NAMES})")]
    MissingName,
    /// A name that is not a variable.
    #[error("unknown variable {name:?}; expected one of: {NAMES}")]
    UnknownVariable {
        /// The name as written.
        name: String,
    },
    /// A variable lacks an argument.
    #[error("`{variable}` needs an argument; expected {expected}")]
    MissingArgument {
        /// The variable's name.
        variable: &'static str,
        /// What should be there.
        expected: &'static str,
    },
    /// An argument of the wrong form.
    #[error("bad argument {given:?} to `{variable}`; expected {expected}")]
    BadArgument {
        /// The variable's name.
        variable: &'static str,
        /// The argument as written.
        given: String,
        /// What should be there.
        expected: &'static str,
    },
    /// More arguments than the variable takes.
    #[error("unexpected argument {given:?}; expected `)` after `{variable}`")]
    ExtraArgument {
        /// The variable's name.
        variable: &'static str,
        /// The first extra argument.
        given: String,
    },
    /// A variable of the other [`VariableSet`] (`$(input)` in a command, `$(count)` in
    /// an action).
    #[error("`$({variable})` is not available in {set} templates")]
    NotAvailable {
        /// The variable's name.
        variable: &'static str,
        /// The set the template was parsed for.
        set: VariableSet,
    },
    /// `$(random A B)` with A greater than B.
    #[error("`random {low} {high}` has its bounds reversed; expected A <= B")]
    RandomBounds {
        /// The first bound.
        low: i64,
        /// The second bound.
        high: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Var(Variable),
}

/// A parsed template. Built only by [`Template::parse`], so it is always valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl Template {
    /// Parses `source` as a command (or timer) template.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        Template::parse_for(source, VariableSet::Command)
    }

    /// Parses `source` for the variables of `set`.
    pub fn parse_for(source: &str, set: VariableSet) -> Result<Template, TemplateError> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError {
                column: MAX_TEMPLATE_BYTES + 1,
                kind: TemplateErrorKind::TooLong { len: source.len() },
            });
        }
        if source.trim().is_empty() {
            return Err(TemplateError {
                column: 1,
                kind: TemplateErrorKind::Empty,
            });
        }
        let bytes = source.as_bytes();
        let mut segments = Vec::new();
        // `$` and `(` are ASCII, so every index compared below is a char boundary.
        let mut text_start = 0;
        let mut at = 0;
        while at < bytes.len() {
            let next = bytes.get(at + 1).copied();
            if bytes.get(at) == Some(&b'$') && next == Some(b'(') {
                push_text(&mut segments, &source[text_start..at]);
                let inner_start = at + 2;
                let Some(length) = source[inner_start..].find(')') else {
                    return Err(TemplateError {
                        column: at + 1,
                        kind: TemplateErrorKind::Unclosed,
                    });
                };
                let inner = &source[inner_start..inner_start + length];
                segments.push(Segment::Var(parse_variable(inner, inner_start, set)?));
                at = inner_start + length + 1;
                text_start = at;
            } else if bytes.get(at) == Some(&b'$')
                && next == Some(b'$')
                && bytes.get(at + 2) == Some(&b'(')
            {
                // `$$(`: drop the first `$`; the `$(` after it is plain text.
                push_text(&mut segments, &source[text_start..at]);
                text_start = at + 1;
                at += 3;
            } else {
                at += 1;
            }
        }
        push_text(&mut segments, &source[text_start..]);
        Ok(Template {
            source: source.to_owned(),
            segments,
        })
    }

    /// The source the template was parsed from, for listing and export.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables used, in order of appearance.
    pub fn variables(&self) -> impl Iterator<Item = Variable> + '_ {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Var(variable) => Some(*variable),
            Segment::Text(_) => None,
        })
    }

    /// Renders the template, cut to [`MAX_REPLY_CHARS`] characters. The result may be
    /// empty (say, `$(args)` without arguments); the caller should then send nothing.
    pub fn render(&self, ctx: &dyn TemplateContext) -> String {
        let mut out = Capped::default();
        for segment in &self.segments {
            if out.full {
                break;
            }
            match segment {
                Segment::Text(text) => out.push(text),
                Segment::Var(variable) => out.push(&value(*variable, ctx)),
            }
        }
        out.text
    }
}

impl FromStr for Template {
    type Err = TemplateError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Template::parse(source)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn push_text(segments: &mut Vec<Segment>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Segment::Text(last)) = segments.last_mut() {
        last.push_str(text);
    } else {
        segments.push(Segment::Text(text.to_owned()));
    }
}

/// Whitespace-separated words of `inner` with their byte offsets.
fn words(inner: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (offset, c) in inner.char_indices() {
        if c.is_whitespace() {
            if let Some(begin) = start.take() {
                out.push((begin, &inner[begin..offset]));
            }
        } else if start.is_none() {
            start = Some(offset);
        }
    }
    if let Some(begin) = start {
        out.push((begin, &inner[begin..]));
    }
    out
}

/// Parses the text between `$(` and `)`; `base` is its byte offset in the source.
fn parse_variable(inner: &str, base: usize, set: VariableSet) -> Result<Variable, TemplateError> {
    let words = words(inner);
    let column = |offset: usize| base + offset + 1;
    let close = column(inner.len());
    let Some(&(name_at, name)) = words.first() else {
        return Err(TemplateError {
            column: close,
            kind: TemplateErrorKind::MissingName,
        });
    };
    let arguments = words.get(1..).unwrap_or_default();
    let Some(&(variable_name, simple, takes)) = SYNTAX.iter().find(|(known, ..)| *known == name)
    else {
        return Err(TemplateError {
            column: column(name_at),
            kind: TemplateErrorKind::UnknownVariable {
                name: name.to_owned(),
            },
        });
    };
    if let Some(variable) = simple
        && !set.allows(variable)
    {
        return Err(TemplateError {
            column: column(name_at),
            kind: TemplateErrorKind::NotAvailable {
                variable: variable_name,
                set,
            },
        });
    }
    if let Some(&(extra_at, extra)) = arguments.get(takes) {
        return Err(TemplateError {
            column: column(extra_at),
            kind: TemplateErrorKind::ExtraArgument {
                variable: variable_name,
                given: extra.to_owned(),
            },
        });
    }
    if let Some(variable) = simple {
        return Ok(variable);
    }
    if variable_name == "arg" {
        const EXPECTED: &str = "a position: 1, 2, ...";
        let &(at, given) = arguments.first().ok_or(TemplateError {
            column: close,
            kind: TemplateErrorKind::MissingArgument {
                variable: "arg",
                expected: EXPECTED,
            },
        })?;
        return match given.parse::<usize>() {
            Ok(position) if position >= 1 => Ok(Variable::Arg(position)),
            _ => Err(TemplateError {
                column: column(at),
                kind: TemplateErrorKind::BadArgument {
                    variable: "arg",
                    given: given.to_owned(),
                    expected: EXPECTED,
                },
            }),
        };
    }
    let mut bounds = [0i64; 2];
    for (index, bound) in bounds.iter_mut().enumerate() {
        let &(at, given) = arguments.get(index).ok_or(TemplateError {
            column: close,
            kind: TemplateErrorKind::MissingArgument {
                variable: "random",
                expected: "two integers A B, as in `$(random 1 6)`",
            },
        })?;
        *bound = given.parse::<i64>().map_err(|_| TemplateError {
            column: column(at),
            kind: TemplateErrorKind::BadArgument {
                variable: "random",
                given: given.to_owned(),
                expected: "an integer, as in `$(random 1 6)`",
            },
        })?;
    }
    let [low, high] = bounds;
    if low > high {
        let low_at = arguments.first().map_or(name_at, |&(at, _)| at);
        return Err(TemplateError {
            column: column(low_at),
            kind: TemplateErrorKind::RandomBounds { low, high },
        });
    }
    Ok(Variable::Random { low, high })
}

/// Every variable name: the variable when it takes no argument, and how many it takes.
const SYNTAX: &[(&str, Option<Variable>, usize)] = &[
    ("user", Some(Variable::User), 0),
    ("touser", Some(Variable::ToUser), 0),
    ("args", Some(Variable::Args), 0),
    ("arg", None, 1),
    ("count", Some(Variable::Count), 0),
    ("points", Some(Variable::Points), 0),
    ("uptime", Some(Variable::Uptime), 0),
    ("random", None, 2),
    ("followage", Some(Variable::FollowAge), 0),
    ("platform", Some(Variable::Platform), 0),
    ("time", Some(Variable::Time), 0),
    ("input", Some(Variable::Input), 0),
    ("amount", Some(Variable::Amount), 0),
    ("reward", Some(Variable::Reward), 0),
    ("action", Some(Variable::Action), 0),
];

fn display_name(user: &User) -> &str {
    if user.name.is_empty() {
        &user.login
    } else {
        &user.name
    }
}

fn value(variable: Variable, ctx: &dyn TemplateContext) -> String {
    match variable {
        Variable::User => display_name(ctx.caller()).to_owned(),
        Variable::ToUser => ctx
            .args()
            .first()
            .map(|first| first.strip_prefix('@').unwrap_or(first))
            .filter(|target| !target.is_empty())
            .map_or_else(|| display_name(ctx.caller()).to_owned(), str::to_owned),
        Variable::Args => ctx.args().join(" "),
        Variable::Arg(position) => position
            .checked_sub(1)
            .and_then(|index| ctx.args().get(index))
            .map_or_else(String::new, |arg| (*arg).to_owned()),
        Variable::Count => ctx.count().to_string(),
        Variable::Points => ctx.points().to_string(),
        Variable::Uptime => ctx
            .uptime()
            .map_or_else(|| "offline".to_owned(), format::uptime),
        Variable::Random { low, high } => ctx.random(low, high).max(low).min(high).to_string(),
        Variable::FollowAge => match ctx.followage() {
            FollowAge::Since(elapsed) => format::age(elapsed),
            FollowAge::NotFollowing => "not following".to_owned(),
            FollowAge::Unknown => "unknown".to_owned(),
        },
        Variable::Platform => ctx.platform().as_str().to_owned(),
        Variable::Time => format::clock(ctx.now()),
        Variable::Input => ctx.input().unwrap_or_default().to_owned(),
        Variable::Amount => ctx.amount().unwrap_or_default().to_owned(),
        Variable::Reward => ctx.reward().unwrap_or_default().to_owned(),
        Variable::Action => ctx.action().unwrap_or_default().to_owned(),
    }
}

/// A string that stops growing at [`MAX_REPLY_CHARS`] characters.
#[derive(Default)]
struct Capped {
    text: String,
    chars: usize,
    full: bool,
}

impl Capped {
    fn push(&mut self, piece: &str) {
        for c in piece.chars() {
            if self.chars == MAX_REPLY_CHARS {
                self.full = true;
                return;
            }
            self.text.push(c);
            self.chars += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_byte_offsets_across_unicode_whitespace() {
        assert_eq!(
            words(" arg\u{3000}é  2 "),
            vec![(1, "arg"), (7, "é"), (11, "2")]
        );
        assert!(words("   ").is_empty());
        assert_eq!(words("x"), vec![(0, "x")]);
    }

    #[test]
    fn adjacent_text_merges_into_one_segment() {
        let template = Template::parse("a $$( b $ c").unwrap();
        assert_eq!(
            template.segments,
            vec![Segment::Text("a $( b $ c".to_owned())]
        );
    }

    #[test]
    fn capped_stops_at_the_limit() {
        let mut out = Capped::default();
        out.push(&"ü".repeat(MAX_REPLY_CHARS - 1));
        assert!(!out.full);
        out.push("xyz");
        assert!(out.full);
        assert_eq!(out.text.chars().count(), MAX_REPLY_CHARS);
        assert!(out.text.ends_with('x'));
    }
}
