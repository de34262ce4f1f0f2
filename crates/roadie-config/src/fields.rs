//! Checked field deserializers: each rejects a bad value with a message saying what was
//! expected, so the error carries the key path and, through the loader, the line.

use roadie_core::Secret;
use serde::de::{Deserialize, Deserializer, Error};
use std::net::SocketAddr;

/// A socket address whose IP is a loopback address.
pub(crate) fn loopback_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    let addr: SocketAddr = text.trim().parse().map_err(|_| {
        D::Error::custom(format!(
            "expected a socket address (IP address and port) such as \"127.0.0.1:7717\", found {text:?}"
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(D::Error::custom(format!(
            "{addr} is not a loopback address; the local API only listens on loopback \
             (127.0.0.0/8 or [::1]) so nothing outside this PC can reach it"
        )));
    }
    Ok(addr)
}

/// A list of bare host names, lower-cased. Each name is checked on its own so that an
/// error points at its index and line.
pub(crate) fn host_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let names = Vec::<HostName>::deserialize(d)?;
    Ok(names.into_iter().map(|HostName(name)| name).collect())
}

/// One bare host name (letters, digits, `.`, `-`, `_`, and `:`/`[]` for ports and IPv6).
struct HostName(String);

impl<'de> Deserialize<'de> for HostName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        let ok = !name.is_empty()
            && name.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
            });
        if ok {
            Ok(HostName(name.to_ascii_lowercase()))
        } else {
            Err(D::Error::custom(format!(
                "expected a bare host name such as \"streampc.local\" (no scheme, path or spaces), found {name:?}"
            )))
        }
    }
}

/// A string that is not empty once surrounding whitespace is removed (which is removed).
pub(crate) fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(D::Error::custom("expected a non-empty string"));
    }
    Ok(trimmed.to_owned())
}

/// An optional secret. The error never shows the value, whatever its type.
pub(crate) fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(text) if text.is_empty() => Err(D::Error::custom(
            "expected a non-empty string (remove the key to use the keystore instead)",
        )),
        toml::Value::String(text) => Ok(Some(Secret::new(text))),
        other => Err(D::Error::custom(format!(
            "invalid type: {} (value not shown), expected a string; quote the secret",
            other.type_str()
        ))),
    }
}

/// An optional channel slug: letters, digits, `-` and `_`.
pub(crate) fn opt_slug<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    let slug = text.trim();
    if slug.is_empty()
        || !slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(D::Error::custom(format!(
            "expected a channel slug (letters, digits, `-`, `_`) such as \"my-channel\", found {text:?}"
        )));
    }
    Ok(Some(slug.to_owned()))
}

/// An http:// or https:// URL.
pub(crate) fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    check_url(&text, &["http", "https"]).map_err(D::Error::custom)
}

/// A ws:// or wss:// URL.
pub(crate) fn ws_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    check_url(&text, &["ws", "wss"]).map_err(D::Error::custom)
}

/// Checks that `text` is an absolute URL with one of `schemes` and a host; returns it
/// without trailing `/` (unless it has a query or fragment).
pub(crate) fn check_url(text: &str, schemes: &[&str]) -> Result<String, String> {
    let expected = || {
        let list: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
        format!(
            "expected an absolute {} URL, found {text:?}",
            list.join(" or ")
        )
    };
    let url = text.trim();
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(expected());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(expected());
    };
    if !schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(expected());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(format!("{}: the host is missing", expected()));
    }
    if url.contains(['?', '#']) {
        Ok(url.to_owned())
    } else {
        Ok(url.trim_end_matches('/').to_owned())
    }
}

/// A `u32` greater than zero.
pub(crate) fn positive_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let value = u32::deserialize(d)?;
    if value == 0 {
        return Err(D::Error::custom(
            "invalid value: 0, expected an integer greater than 0",
        ));
    }
    Ok(value)
}

/// Seconds between polls while live: 1 to [`MAX_POLL_SECONDS`].
pub(crate) fn poll_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let value = positive_u32(d)?;
    if value > MAX_POLL_SECONDS {
        return Err(D::Error::custom(format!(
            "invalid value: {value}, expected at most {MAX_POLL_SECONDS} seconds (a stream \
             with no viewers sample for 15 minutes counts as ended, so slower polls would \
             split one broadcast into many sessions)"
        )));
    }
    Ok(value)
}

/// The slowest poll: well inside the store's 15 minutes without a sign of life after
/// which an open stream session counts as ended (`roadie_store::STALE_SESSION_MS`).
pub(crate) const MAX_POLL_SECONDS: u32 = 600;

/// An optional `u32` greater than zero.
pub(crate) fn opt_positive_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    positive_u32(d).map(Some)
}

/// An optional `u64` greater than zero.
pub(crate) fn opt_positive_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = u64::deserialize(d)?;
    if value == 0 {
        return Err(D::Error::custom(
            "invalid value: 0, expected an integer greater than 0",
        ));
    }
    Ok(Some(value))
}

/// A tracing filter: `info`, `roadie=debug`, `roadie=debug,hyper=warn`... Only the level
/// names are checked; the target syntax is left to the logger.
pub(crate) fn log_filter<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let filter = text.trim();
    let bad = || {
        D::Error::custom(format!(
            "expected a log filter such as \"info\" or \"roadie=debug,warn\" \
             (levels: trace, debug, info, warn, error, off), found {text:?}"
        ))
    };
    if filter.is_empty() {
        return Err(bad());
    }
    for directive in filter.split(',').map(str::trim) {
        if directive.contains('[') {
            continue;
        }
        if let Some((_, level)) = directive.rsplit_once('=')
            && !is_level(level)
        {
            return Err(bad());
        }
    }
    Ok(filter.to_owned())
}

fn is_level(text: &str) -> bool {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let text = text.trim();
    LEVELS.iter().any(|l| l.eq_ignore_ascii_case(text))
        || matches!(text, "0" | "1" | "2" | "3" | "4" | "5")
}

/// `[tts] user_voices`: keys are `platform:login` on twitch, kick or youtube.
pub(crate) fn user_voices<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    let voices = std::collections::BTreeMap::<String, String>::deserialize(d)?;
    for user in voices.keys() {
        let valid = user.split_once(':').is_some_and(|(platform, login)| {
            matches!(platform, "twitch" | "kick" | "youtube") && !login.is_empty()
        });
        if !valid {
            return Err(serde::de::Error::custom(format!(
                "{user:?} is not a viewer: expected platform:login, e.g. \"twitch:alice\""
            )));
        }
    }
    Ok(voices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let http = ["http", "https"];
        let cases: &[(&str, Result<&str, ()>)] = &[
            (
                "https://api.twitch.tv/helix",
                Ok("https://api.twitch.tv/helix"),
            ),
            (
                "https://api.twitch.tv/helix/",
                Ok("https://api.twitch.tv/helix"),
            ),
            ("HTTP://127.0.0.1:8080", Ok("HTTP://127.0.0.1:8080")),
            ("http://[::1]:9/x", Ok("http://[::1]:9/x")),
            ("http://user@host/", Ok("http://user@host")),
            ("https://h/?q=1/", Ok("https://h/?q=1/")),
            ("ws://127.0.0.1:4455", Err(())),
            ("https://", Err(())),
            ("https://:80/x", Err(())),
            ("https:///path", Err(())),
            ("api.twitch.tv/helix", Err(())),
            ("https://a b", Err(())),
            ("", Err(())),
        ];
        for (input, expected) in cases {
            let got = check_url(input, &http).map_err(|_| ());
            assert_eq!(got.as_deref(), expected.as_deref(), "{input}");
        }
        assert!(check_url("wss://eventsub.wss.twitch.tv/ws", &["ws", "wss"]).is_ok());
        let message = check_url("ftp://x", &http).unwrap_err();
        assert!(message.contains("http:// or https://"), "{message}");
    }

    #[test]
    fn levels() {
        for ok in ["info", "WARN", "0", " off "] {
            assert!(is_level(ok), "{ok}");
        }
        for bad in ["infoo", "", "6", "verbose"] {
            assert!(!is_level(bad), "{bad}");
        }
    }

    #[test]
    fn user_voices_are_keyed_by_platform_and_login() {
        #[derive(serde::Deserialize)]
        struct Voices {
            #[serde(deserialize_with = "super::user_voices")]
            voices: std::collections::BTreeMap<String, String>,
        }
        let good: Voices = toml::from_str("voices = { \"twitch:alice\" = \"en-gb\" }").unwrap();
        assert_eq!(good.voices["twitch:alice"], "en-gb");
        for bad in ["alice", "twitter:alice", "twitch:", "roadie:bob"] {
            let text = format!("voices = {{ \"{bad}\" = \"en\" }}");
            let error = toml::from_str::<Voices>(&text).err().unwrap().to_string();
            assert!(error.contains("platform:login"), "{bad}: {error}");
        }
    }
}
