//! Integration tests for roadie-keystore: file backend, concurrency, passphrases,
//! permissions, key rules, redaction and (behind switches) the real Secret Service.

mod api;
mod common;
mod concurrency;
mod file_backend;
mod passphrase;
mod secret_service;
