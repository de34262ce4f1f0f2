//! Integration tests for roadie-scripts: the host API, every hostile script kind the
//! sandbox must stop, and random input that must never panic.

// Test code: helpers outside #[test] fns panic on failure on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod common;
mod fuzz;
mod hostile;
