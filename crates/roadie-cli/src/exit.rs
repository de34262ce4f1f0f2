//! Exit codes per the SPEC: 0 success, 1 the operation failed, 2 usage error or
//! daemon unreachable; always with a one-line reason.

use roadie_client::ClientError;
use roadie_config::ConfigError;

/// A usage problem found after argument parsing (bad key name, bad value).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn code_for(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(client) = cause.downcast_ref::<ClientError>() {
            return if client.is_unreachable() { 2 } else { 1 };
        }
        if cause.downcast_ref::<ConfigError>().is_some()
            || cause.downcast_ref::<UsageError>().is_some()
        {
            return 2;
        }
    }
    1
}

/// The error and its causes on one line.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}
