//! Mapping key paths back to lines of the config file, so that errors found after
//! parsing (wrong type, failed validation) still name the line.

use std::collections::HashMap;
use toml::de::{DeTable, DeValue};

/// 1-based line and column (in characters) of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The line of every key (and array element) in a TOML document, by dotted path
/// segments (`["server", "listen"]`, `["tts", "command", "[1]"]`).
#[derive(Debug, Default)]
pub(crate) struct KeyLines {
    lines: HashMap<Vec<String>, usize>,
}

impl KeyLines {
    /// Indexes `text`; a document that does not parse yields an empty index.
    pub(crate) fn new(text: &str) -> Self {
        let mut lines = HashMap::new();
        if let Ok(doc) = DeTable::parse(text) {
            let mut prefix = Vec::new();
            index_table(text, doc.get_ref(), &mut prefix, &mut lines);
        }
        KeyLines { lines }
    }

    /// The line of the longest prefix of `path` that appears in the document.
    pub(crate) fn line_of(&self, path: &[String]) -> Option<usize> {
        (1..=path.len())
            .rev()
            .find_map(|len| self.lines.get(&path[..len]).copied())
    }

    /// Whether exactly this path appears in the document.
    pub(crate) fn contains(&self, path: &[String]) -> bool {
        self.lines.contains_key(path)
    }
}

fn index_table(
    text: &str,
    table: &DeTable<'_>,
    prefix: &mut Vec<String>,
    lines: &mut HashMap<Vec<String>, usize>,
) {
    for (key, value) in table.iter() {
        prefix.push(key.get_ref().to_string());
        let (line, _) = line_col(text, key.span().start);
        lines.entry(prefix.clone()).or_insert(line);
        index_value(text, value.get_ref(), prefix, lines);
        prefix.pop();
    }
}

fn index_value(
    text: &str,
    value: &DeValue<'_>,
    prefix: &mut Vec<String>,
    lines: &mut HashMap<Vec<String>, usize>,
) {
    match value {
        DeValue::Table(table) => index_table(text, table, prefix, lines),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(format!("[{i}]"));
                let (line, _) = line_col(text, item.span().start);
                lines.entry(prefix.clone()).or_insert(line);
                index_value(text, item.get_ref(), prefix, lines);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 8), (2, 2), "inside a character");
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn keys_in_headers_inline_tables_dotted_keys_and_arrays() {
        let text = "\
# comment
[server]
listen = \"x\"

[tts]
command = [
  \"piper\",
  \"--model\",
]
obs.url = 5
log = { level = \"info\" }
";
        let lines = KeyLines::new(text);
        let cases: &[(&[&str], Option<usize>)] = &[
            (&["server"], Some(2)),
            (&["server", "listen"], Some(3)),
            (&["server", "nope"], Some(2)),
            (&["tts", "command"], Some(6)),
            (&["tts", "command", "[1]"], Some(8)),
            (&["tts", "obs", "url"], Some(10)),
            (&["tts", "log", "level"], Some(11)),
            (&["events"], None),
        ];
        for (p, line) in cases {
            assert_eq!(lines.line_of(&path(p)), *line, "{p:?}");
        }
        assert!(lines.contains(&path(&["server", "listen"])));
        assert!(!lines.contains(&path(&["server", "nope"])));
    }
}
