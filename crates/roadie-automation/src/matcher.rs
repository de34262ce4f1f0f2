//! Recognising a command invocation in a chat line: the first word, when it starts
//! with `!`, and the words after it as arguments.

/// A chat line that looks like a command, borrowed from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation<'a> {
    /// The first word, with its `!`, as typed (case preserved; lookups ignore case).
    pub word: &'a str,
    /// The remaining words, split on any Unicode whitespace.
    pub args: Vec<&'a str>,
}

/// Splits `line` into an invocation, or `None` when it is not one: after optional
/// leading whitespace the first word must be `!` followed by at least one
/// non-whitespace character (a lone `!` is punctuation, not a command).
pub fn parse_invocation(line: &str) -> Option<Invocation<'_>> {
    let mut words = line.split_whitespace();
    let word = words.next()?;
    if !word.starts_with('!') || word.len() == 1 {
        return None;
    }
    Some(Invocation {
        word,
        args: words.collect(),
    })
}
