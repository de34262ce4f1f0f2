//! Text filters for TTS: link removal, collapsing runs of one character, banned
//! words (whole-word, case-insensitive, refused or masked) and whitespace tidying.
//! Pure functions over `&str`; none can panic, whatever the input.

use std::collections::HashMap;

/// Top-level domains that make a bare `name.tld` a link even without a path.
/// Others (`Mr.Smith`, `node.js`) need a path (`name.tld/...`) to count.
const COMMON_TLDS: &[&str] = &[
    "app", "au", "be", "biz", "br", "ca", "cc", "ch", "club", "cn", "co", "com", "de", "dev", "es",
    "eu", "fm", "fr", "gd", "gg", "gl", "gov", "info", "io", "jp", "kr", "link", "live", "ly",
    "me", "net", "nl", "online", "org", "pl", "ru", "sh", "shop", "site", "store", "stream", "top",
    "tv", "uk", "us", "xyz",
];

/// Removes links: `scheme://...` anywhere in a word, words starting with `www.`,
/// and bare domains (`example.com/path`, `twitch.tv`). Returns the text with
/// whitespace tidied and the number of links removed.
pub fn remove_links(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut removed = 0;
    for word in text.split_whitespace() {
        let kept = match link_start(word) {
            Some(start) => {
                removed += 1;
                // Keep what precedes the link only if it is a word (`look:`), not
                // bare punctuation (`(`).
                let before = word.get(..start).unwrap_or_default();
                if before.chars().any(char::is_alphanumeric) {
                    before
                } else {
                    ""
                }
            }
            None => word,
        };
        if !kept.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(kept);
        }
    }
    (out, removed)
}

/// Where a link starts in a whitespace-free word, if it holds one.
fn link_start(word: &str) -> Option<usize> {
    if let Some(scheme) = scheme_start(word) {
        return Some(scheme);
    }
    // Skip leading punctuation: `(www.example.com)`.
    let start = word.find(|c: char| c.is_alphanumeric())?;
    let core = word.get(start..)?;
    if core
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("www."))
    {
        return Some(start);
    }
    is_bare_domain(core).then_some(start)
}

/// The start of `scheme://` (letters, digits, `+ - .`, starting with a letter).
fn scheme_start(word: &str) -> Option<usize> {
    let marker = word.find("://")?;
    let before = word.get(..marker)?;
    let scheme_len = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        .count();
    let scheme_start = marker - scheme_len;
    let scheme = before.get(scheme_start..)?;
    // The scheme must start with a letter; skip leading non-letters (`1http://`).
    let offset = scheme.find(|c: char| c.is_ascii_alphabetic())?;
    Some(scheme_start + offset)
}

fn is_bare_domain(core: &str) -> bool {
    let host_end = core.find(['/', ':', '?', '#']).unwrap_or(core.len());
    let (host, rest) = core.split_at(host_end);
    let host = host.trim_end_matches(|c: char| !c.is_alphanumeric());
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return false;
    }
    let Some(tld) = labels.last() else {
        return false;
    };
    if !(2..=24).contains(&tld.len()) || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let has_path = rest.starts_with('/') && rest.len() > 1
        || rest.starts_with(':')
            && rest
                .get(1..)
                .unwrap_or_default()
                .starts_with(|c: char| c.is_ascii_digit());
    has_path || COMMON_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
}

/// Shortens every run of one character longer than `max` to `max` (`max` 0 leaves
/// the text alone). Returns the text and how many runs were shortened.
pub fn collapse_runs(text: &str, max: usize) -> (String, usize) {
    if max == 0 {
        return (text.to_owned(), 0);
    }
    let mut out = String::with_capacity(text.len());
    let mut shortened = 0;
    let mut previous: Option<char> = None;
    let mut run = 0usize;
    for c in text.chars() {
        if previous == Some(c) {
            run += 1;
        } else {
            previous = Some(c);
            run = 1;
        }
        if run <= max {
            out.push(c);
        } else if run == max + 1 {
            shortened += 1;
        }
    }
    (out, shortened)
}

/// Whitespace runs (newlines included) become one space; the ends are trimmed.
pub fn tidy_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A compiled banned-words list. Entries match whole words, case-insensitively; an
/// entry of several words matches them in sequence, whatever separates them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BannedWords {
    /// First word (lowercase) → every entry starting with it, as lowercase words.
    by_first: HashMap<String, Vec<Vec<String>>>,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Byte ranges of the words in `text`: letters, digits and `_`, with apostrophes
/// between letters kept inside (`don't`).
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_word = chars.peek().is_some_and(|&(_, n)| is_word_char(n));
        let inside =
            is_word_char(c) || (start.is_some() && matches!(c, '\'' | '’') && next_is_word);
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

fn lowercase(word: &str) -> String {
    word.chars().flat_map(char::to_lowercase).collect()
}

impl BannedWords {
    /// Compiles the list; empty entries and entries without a word are ignored.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> BannedWords {
        let mut by_first: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for entry in entries {
            let entry = entry.as_ref();
            let words: Vec<String> = word_spans(entry)
                .into_iter()
                .filter_map(|(s, e)| entry.get(s..e))
                .map(lowercase)
                .collect();
            if let Some(first) = words.first() {
                by_first.entry(first.clone()).or_default().push(words);
            }
        }
        for entries in by_first.values_mut() {
            // Longest first, so that "bad word" wins over "bad".
            entries.sort_by_key(|words| std::cmp::Reverse(words.len()));
            entries.dedup();
        }
        BannedWords { by_first }
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.by_first.is_empty()
    }

    /// Byte ranges of every match, left to right, not overlapping.
    pub fn find(&self, text: &str) -> Vec<(usize, usize)> {
        if self.is_empty() {
            return Vec::new();
        }
        let spans = word_spans(text);
        let lower: Vec<String> = spans
            .iter()
            .map(|&(s, e)| lowercase(text.get(s..e).unwrap_or_default()))
            .collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < spans.len() {
            let matched = self.by_first.get(&lower[i]).and_then(|entries| {
                entries.iter().find(|words| {
                    lower
                        .get(i..i + words.len())
                        .is_some_and(|window| window.iter().eq(words.iter()))
                })
            });
            match matched {
                Some(words) => {
                    let last = i + words.len() - 1;
                    found.push((spans[i].0, spans[last].1));
                    i = last + 1;
                }
                None => i += 1,
            }
        }
        found
    }

    /// True when `text` holds a banned word.
    pub fn contains(&self, text: &str) -> bool {
        !self.find(text).is_empty()
    }

    /// Replaces every match with `mask`; returns the text and the number of matches.
    pub fn mask(&self, text: &str, mask: &str) -> (String, usize) {
        let found = self.find(text);
        if found.is_empty() {
            return (text.to_owned(), 0);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for &(start, end) in &found {
            out.push_str(text.get(at..start).unwrap_or_default());
            out.push_str(mask);
            at = end;
        }
        out.push_str(text.get(at..).unwrap_or_default());
        (out, found.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn links() {
        let cases: &[(&str, &str, usize)] = &[
            ("hello world", "hello world", 0),
            ("see https://example.com/x?y=1 now", "see now", 1),
            ("HTTP://EXAMPLE.COM", "", 1),
            ("look:https://x.io/a", "look:", 1),
            ("ftp://files.example.org/f and ws://h:1", "and", 2),
            ("go to www.example.com!", "go to", 1),
            ("(www.Example.org)", "", 1),
            ("visit example.com/path please", "visit please", 1),
            ("my site example.org", "my site", 1),
            ("twitch.tv/someone and discord.gg/abc", "and", 2),
            ("localhost:8080 host.lan:80", "localhost:8080", 1),
            ("bare twitch.tv.", "bare", 1),
            ("sub.domain.example.co.uk/page", "", 1),
            // Not links.
            (
                "Mr.Smith said e.g. 3.14 and i.e. so",
                "Mr.Smith said e.g. 3.14 and i.e. so",
                0,
            ),
            (
                "node.js file.txt U.S. wait...what",
                "node.js file.txt U.S. wait...what",
                0,
            ),
            ("bob@example", "bob@example", 0),
            ("1.2.3.4 ok", "1.2.3.4 ok", 0),
            ("a://", "", 1),
            ("://", "://", 0),
            ("  spaced\n\tout  ", "spaced out", 0),
        ];
        for (input, expected, count) in cases {
            assert_eq!(
                remove_links(input),
                ((*expected).to_owned(), *count),
                "{input:?}"
            );
        }
    }

    #[test]
    fn runs() {
        let cases: &[(&str, usize, &str, usize)] = &[
            ("hello", 3, "hello", 0),
            ("heeeeello", 3, "heeello", 1),
            ("!!!!!! wooooow", 3, "!!! wooow", 2),
            ("aaaa", 1, "a", 1),
            ("AAAaaa", 2, "AAaa", 2),
            ("ééééé😀😀😀😀", 2, "éé😀😀", 2),
            ("abc", 0, "abc", 0),
            ("", 3, "", 0),
        ];
        for (input, max, expected, count) in cases {
            assert_eq!(
                collapse_runs(input, *max),
                ((*expected).to_owned(), *count),
                "{input:?}"
            );
        }
    }

    #[test]
    fn banned_words() {
        let banned = BannedWords::new(&["Darn", "heck", "bad word", "", "  ", "ÉCOLE"]);
        let cases: &[(&str, &str, usize)] = &[
            ("darn it", "*** it", 1),
            ("DARN! Heck.", "***! ***.", 2),
            ("darned hecking", "darned hecking", 0),
            ("un-darn-able", "un-***-able", 1),
            ("a bad word here", "a *** here", 1),
            ("a BAD   Word here", "a *** here", 1),
            ("a bad thing", "a bad thing", 0),
            ("darn_it", "darn_it", 0),
            ("don't darn't", "don't darn't", 0),
            ("l'école", "l'école", 0),
            ("une école", "une ***", 1),
            ("", "", 0),
        ];
        for (input, expected, count) in cases {
            assert_eq!(
                banned.mask(input, "***"),
                ((*expected).to_owned(), *count),
                "{input:?}"
            );
            assert_eq!(banned.contains(input), *count > 0, "{input:?}");
        }
        assert!(BannedWords::new::<&str>(&[]).is_empty());
        assert!(BannedWords::new(&["", "!!"]).is_empty());
    }

    proptest! {
        #[test]
        fn filters_never_panic(text in "\\PC{0,200}", words in proptest::collection::vec("\\PC{0,12}", 0..5), max in 0usize..5) {
            let (no_links, _) = remove_links(&text);
            let (collapsed, _) = collapse_runs(&no_links, max);
            let banned = BannedWords::new(&words);
            let (masked, _) = banned.mask(&collapsed, "bleep");
            let _ = tidy_whitespace(&masked);
        }

        #[test]
        fn collapsed_text_has_no_long_runs(text in "[ab!]{0,60}", max in 1usize..4) {
            let (out, _) = collapse_runs(&text, max);
            let chars: Vec<char> = out.chars().collect();
            for window in chars.windows(max + 1) {
                prop_assert!(window.iter().any(|c| *c != window[0]));
            }
        }
    }
}
