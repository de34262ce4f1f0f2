//! `ROADIE_<SECTION>__<KEY>` environment overrides.

use crate::ConfigError;
use std::collections::HashMap;

/// The prefix of every Roadie environment variable.
const PREFIX: &str = "ROADIE_";

/// One `ROADIE_<SECTION>__<KEY>=value` variable.
#[derive(Debug, Clone)]
pub(crate) struct EnvOverride {
    /// The variable name as spelled in the environment.
    pub(crate) var: String,
    /// Lower-cased section.
    pub(crate) section: String,
    /// Lower-cased key.
    pub(crate) key: String,
    /// The value as given.
    pub(crate) raw: String,
    /// The value as TOML when it parses as a TOML value, else the raw string.
    pub(crate) value: toml::Value,
}

/// The config overrides in `env`, sorted by variable name. Variables without `__`
/// after the prefix are not config keys and are skipped.
pub(crate) fn collect(env: &[(String, String)]) -> Result<Vec<EnvOverride>, ConfigError> {
    let mut overrides: Vec<EnvOverride> = Vec::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix(PREFIX) else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        if section.is_empty() || key.is_empty() {
            return Err(ConfigError::Env {
                var: var.clone(),
                message: "expected ROADIE_<SECTION>__<KEY>, such as ROADIE_SERVER__LISTEN"
                    .to_owned(),
            });
        }
        let value = raw
            .parse::<toml::Value>()
            .unwrap_or_else(|_| toml::Value::String(raw.clone()));
        overrides.push(EnvOverride {
            var: var.clone(),
            section: section.to_ascii_lowercase(),
            key: key.to_ascii_lowercase(),
            raw: raw.clone(),
            value,
        });
    }
    overrides.sort_by(|a, b| a.var.cmp(&b.var));
    let mut seen: HashMap<(&str, &str), &str> = HashMap::new();
    for o in &overrides {
        if let Some(first) = seen.insert((&o.section, &o.key), &o.var) {
            return Err(ConfigError::Env {
                var: o.var.clone(),
                message: format!("sets `{}.{}`, which {first} sets too", o.section, o.key),
            });
        }
    }
    Ok(overrides)
}

/// Writes the overrides into `table`, creating sections as needed. A section that the
/// file already holds as a non-table is left alone: its own type error is reported.
pub(crate) fn apply(table: &mut toml::Table, overrides: &[EnvOverride]) {
    for o in overrides {
        let section = table
            .entry(o.section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(section) = section {
            section.insert(o.key.clone(), o.value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_parse_as_toml_else_as_strings() {
        let cases: &[(&str, toml::Value)] = &[
            ("7", toml::Value::Integer(7)),
            ("true", toml::Value::Boolean(true)),
            ("\"quoted\"", toml::Value::String("quoted".into())),
            ("127.0.0.1:0", toml::Value::String("127.0.0.1:0".into())),
            ("roadie=debug", toml::Value::String("roadie=debug".into())),
            ("", toml::Value::String(String::new())),
            (
                "[\"a\", \"b\"]",
                toml::Value::Array(vec!["a".into(), "b".into()]),
            ),
            ("1 = 2", toml::Value::String("1 = 2".into())),
        ];
        for (raw, expected) in cases {
            let got = collect(&env(&[("ROADIE_X__Y", raw)])).unwrap();
            assert_eq!(&got[0].value, expected, "{raw:?}");
        }
    }

    #[test]
    fn names_are_split_and_lower_cased() {
        let got = collect(&env(&[
            ("ROADIE_Twitch__Client_ID", "x"),
            ("ROADIE_CONFIG", "/x"),
            ("ROADIE_KEYSTORE_PASSPHRASE", "p"),
            ("HOME", "/home/a"),
            ("roadie_server__listen", "lower-case prefix is not ours"),
        ]))
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].section.as_str(), got[0].key.as_str()),
            ("twitch", "client_id")
        );
    }

    #[test]
    fn malformed_and_conflicting_names_are_errors() {
        for bad in [
            &[("ROADIE___LISTEN", "x")][..],
            &[("ROADIE_SERVER__", "x")][..],
            &[
                ("ROADIE_SERVER__LISTEN", "x"),
                ("ROADIE_server__listen", "y"),
            ][..],
        ] {
            let err = collect(&env(bad)).unwrap_err();
            assert!(matches!(err, ConfigError::Env { .. }), "{err}");
        }
    }
}
