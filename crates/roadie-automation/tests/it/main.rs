//! Integration tests for roadie-automation: commands, role gates, chat-line matching,
//! templates (every variable), cooldowns, dispatch, timers, points accrual, the
//! reference ledger, actions and the config document, plus property tests of the
//! parsers (the document's included) and the ledger.

// Test code: helpers outside #[test] fns panic on failure on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod action;
mod builtin;
mod command;
mod cooldown;
mod dispatch;
mod document;
mod format;
mod ledger;
mod matcher;
mod parsers;
mod points;
mod role;
mod support;
mod template;
mod timer;

/// Every module in this directory must be listed above, or its tests never run.
#[test]
fn no_forgotten_test_files() {
    let listed = include_str!("main.rs");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "main"
        {
            assert!(
                listed.contains(&format!("mod {module};")),
                "tests/it/{name} is not listed in main.rs"
            );
        }
    }
}
