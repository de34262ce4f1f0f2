//! Integration tests for roadie-keystore: file backend, concurrency, passphrases,
//! permissions, key rules, redaction and (behind switches) the real Secret Service.

// Test code: helpers outside #[test] fns panic on failure on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod common;
mod concurrency;
mod file_backend;
mod passphrase;
mod secret_service;
