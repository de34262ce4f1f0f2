//! Loading the configuration end to end: files on disk, environment layering, errors
//! with file, line, key and expectation, permission warnings and secret redaction.

// Test helpers (not `#[test]` functions themselves) may unwrap too.
#![allow(clippy::unwrap_used)]

use roadie_config::{
    Config, ConfigError, KeystoreBackend, Location, LogFormat, TtsEngine, TwitchConfig, load,
};
use roadie_core::Platform;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const FULL: &str = include_str!("data/full.toml");
const FULL_SECRETS: [&str; 4] = [
    "twitch-secret-4f1c2e",
    "kick-secret-9a8b7c",
    "youtube-secret-GOCSPX-1234",
    "obs-password-hunter2",
];

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes `text` as `config.toml` in a fresh directory, mode 0600 on Unix.
fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    set_mode(&path, 0o600);
    (dir, path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

fn load_text(text: &str, vars: &[(&str, &str)]) -> Result<Config, (PathBuf, ConfigError)> {
    let (_dir, path) = write_config(text);
    load(&path, &env(vars), true)
        .map(|loaded| loaded.config)
        .map_err(|e| (path, e))
}

fn load_err(text: &str, vars: &[(&str, &str)]) -> (PathBuf, ConfigError) {
    match load_text(text, vars) {
        Ok(config) => panic!("expected an error for {text:?} / {vars:?}, got {config:#?}"),
        Err(error) => error,
    }
}

#[test]
fn missing_default_file_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope").join("config.toml");
    let loaded = load(&path, &[], false).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.source, None);
    assert!(loaded.warnings.is_empty());

    let c = &loaded.config;
    assert_eq!(
        c.server.listen,
        "127.0.0.1:7717".parse::<SocketAddr>().unwrap()
    );
    assert!(c.server.allowed_hosts.is_empty());
    assert!(c.twitch.is_none() && c.kick.is_none() && c.youtube.is_none());
    assert!(c.enabled_platforms().is_empty());
    assert!(!c.obs.enabled);
    assert_eq!(c.obs.url, "ws://127.0.0.1:4455");
    assert!(c.obs.password.is_none());
    assert_eq!(c.tts.engine, TtsEngine::EspeakNg);
    assert_eq!(c.tts.command, None);
    assert_eq!(c.keystore.backend, KeystoreBackend::Auto);
    assert_eq!(
        (c.events.retention_days, c.events.max_events),
        (90, 5_000_000)
    );
    assert_eq!(c.log.level, "info");
    assert_eq!(c.log.format, LogFormat::Human);
    assert_eq!(c.log.keep_files, 14);
}

#[test]
fn missing_explicit_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confg.toml");
    let error = load(&path, &[], true).unwrap_err();
    assert!(matches!(error, ConfigError::Missing { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    assert_eq!(error.exit_code(), 2);
}

#[test]
fn missing_default_file_still_takes_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load(
        &dir.path().join("config.toml"),
        &env(&[("ROADIE_TWITCH__CLIENT_ID", "abc")]),
        false,
    )
    .unwrap();
    assert_eq!(loaded.config.twitch, Some(TwitchConfig::new("abc")));
    assert_eq!(loaded.source, None);
}

#[test]
fn unreadable_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(dir.path(), &[], false).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 2);

    let path = dir.path().join("binary.toml");
    std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    let error = load(&path, &[], true).unwrap_err();
    assert!(error.to_string().contains("not UTF-8"), "{error}");
}

#[test]
fn full_spec_example_parses() {
    let (_dir, path) = write_config(FULL);
    let loaded = load(&path, &[], true).unwrap();
    assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;

    assert_eq!(
        c.server.listen,
        "127.0.0.1:7717".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(c.server.allowed_hosts, vec!["streampc.local".to_owned()]);

    let twitch = c.twitch.as_ref().unwrap();
    assert_eq!(twitch.client_id, "gp762nuuoqcoxypju8c569th9wz7q5");
    assert_eq!(
        twitch.client_secret.as_ref().unwrap().expose_secret(),
        "twitch-secret-4f1c2e"
    );
    assert_eq!(twitch.auth_url, "https://id.twitch.tv/oauth2");
    assert_eq!(twitch.helix_url, "https://api.twitch.tv/helix");
    assert_eq!(twitch.eventsub_url, "wss://eventsub.wss.twitch.tv/ws");

    let kick = c.kick.as_ref().unwrap();
    assert_eq!(kick.client_id, "01JD8Q4W3ZK2N5V7X9Y1A3B5C7");
    assert_eq!(
        kick.client_secret.as_ref().unwrap().expose_secret(),
        "kick-secret-9a8b7c"
    );
    assert_eq!(kick.channel.as_deref(), Some("ana-plays"));
    assert_eq!(kick.auth_url, "https://id.kick.com");
    assert_eq!(kick.api_url, "https://api.kick.com/public/v1");
    assert_eq!(
        kick.pusher_url,
        "wss://ws-us2.pusher.com/app/32cbd69e4b950bf97679?protocol=7&client=js&version=8.4.0&flash=false"
    );
    assert_eq!(kick.channel_info_url, "https://kick.com/api/v2/channels");

    let youtube = c.youtube.as_ref().unwrap();
    assert_eq!(
        youtube.client_id,
        "123456789012-abcdefghijklmnop.apps.googleusercontent.com"
    );
    assert_eq!(
        youtube.client_secret.as_ref().unwrap().expose_secret(),
        "youtube-secret-GOCSPX-1234"
    );
    assert_eq!(
        youtube.auth_url,
        "https://accounts.google.com/o/oauth2/v2/auth"
    );
    assert_eq!(youtube.token_url, "https://oauth2.googleapis.com/token");
    assert_eq!(
        youtube.device_url,
        "https://oauth2.googleapis.com/device/code"
    );
    assert_eq!(youtube.api_url, "https://www.googleapis.com/youtube/v3");
    assert_eq!(youtube.daily_quota, 10_000);

    assert_eq!(
        c.enabled_platforms(),
        vec![Platform::Twitch, Platform::Kick, Platform::Youtube]
    );

    assert!(c.obs.enabled);
    assert_eq!(c.obs.url, "ws://127.0.0.1:4455");
    assert_eq!(
        c.obs.password.as_ref().unwrap().expose_secret(),
        "obs-password-hunter2"
    );

    assert_eq!(c.tts.engine, TtsEngine::Command);
    assert_eq!(
        c.tts.command,
        Some(vec![
            "piper-wav".to_owned(),
            "--model".to_owned(),
            "en_US-lessac-medium.onnx".to_owned()
        ])
    );
    assert_eq!(c.keystore.backend, KeystoreBackend::File);
    assert_eq!(
        (c.events.retention_days, c.events.max_events),
        (30, 1_000_000)
    );
    assert_eq!(c.log.level, "roadie=debug,info");
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.log.keep_files, 7);
}

#[test]
fn present_sections_fill_in_defaults() {
    struct Case {
        text: &'static str,
        check: fn(&Config) -> bool,
    }
    let cases = [
        Case {
            text: "[obs]\n",
            check: |c| c.obs.enabled && c.obs.url == "ws://127.0.0.1:4455",
        },
        Case {
            text: "[obs]\nenabled = false\nurl = \"ws://127.0.0.1:4456/\"\n",
            check: |c| !c.obs.enabled && c.obs.url == "ws://127.0.0.1:4456",
        },
        Case {
            text: "[twitch]\nclient_id = \" abc \"\n",
            check: |c| c.twitch == Some(TwitchConfig::new("abc")),
        },
        Case {
            text: "[twitch]\nclient_id = \"abc\"\nhelix_url = \"http://127.0.0.1:9999/helix/\"\n",
            check: |c| c.twitch.as_ref().unwrap().helix_url == "http://127.0.0.1:9999/helix",
        },
        Case {
            text: "[kick]\nclient_id = \"k\"\n",
            check: |c| {
                let kick = c.kick.as_ref().unwrap();
                kick.channel.is_none()
                    && kick.client_secret.is_none()
                    && kick.api_url == "https://api.kick.com/public/v1"
            },
        },
        Case {
            text: "[youtube]\nclient_id = \"y\"\n",
            check: |c| c.youtube.as_ref().unwrap().daily_quota == 10_000,
        },
        Case {
            text: "[server]\nlisten = \"[::1]:0\"\nallowed_hosts = [\"StreamPC.local\", \"10.0.0.5:7717\"]\n",
            check: |c| {
                c.server.listen == "[::1]:0".parse::<SocketAddr>().unwrap()
                    && c.server.allowed_hosts == ["streampc.local", "10.0.0.5:7717"]
            },
        },
        Case {
            text: "[events]\nretention_days = 0\nmax_events = 0\n",
            check: |c| c.events.retention_days == 0 && c.events.max_events == 0,
        },
        Case {
            text: "",
            check: |c| *c == Config::default(),
        },
    ];
    for case in cases {
        let config =
            load_text(case.text, &[]).unwrap_or_else(|(_, e)| panic!("{:?}: {e}", case.text));
        assert!((case.check)(&config), "{:?}: {config:#?}", case.text);
    }
}

/// Each bad file: the error names the file, the line, the dotted key and what was expected.
#[test]
fn bad_files_name_file_line_key_and_expectation() {
    struct Case {
        text: &'static str,
        line: usize,
        key: &'static str,
        expected: &'static [&'static str],
    }
    let cases = [
        Case {
            text: "[server]\nlisten = \"127.0.0.1:7717\"\nlisen = \"127.0.0.1:1\"\n",
            line: 3,
            key: "server.lisen",
            expected: &["unknown key `lisen` in [server]; expected one of: listen, allowed_hosts"],
        },
        Case {
            text: "[log]\nlevel = \"info\"\n\n[twitch]\nclient_idd = \"abc\"\n",
            line: 5,
            key: "twitch.client_idd",
            expected: &[
                "unknown key `client_idd` in [twitch]",
                "client_id, client_secret, auth_url, helix_url, eventsub_url",
            ],
        },
        Case {
            text: "[obs]\npasword = \"x\"\n",
            line: 2,
            key: "obs.pasword",
            expected: &["expected one of: enabled, url, password"],
        },
        Case {
            text: "[twitch]\nclient_id = 5\n",
            line: 2,
            key: "twitch.client_id",
            expected: &["invalid type: integer `5`, expected a string"],
        },
        Case {
            text: "[events]\nretention_days = \"7\"\n",
            line: 2,
            key: "events.retention_days",
            expected: &["invalid type: string \"7\", expected u32"],
        },
        Case {
            text: "[events]\n\nmax_events = -1\n",
            line: 3,
            key: "events.max_events",
            expected: &["invalid value: integer `-1`, expected u64"],
        },
        Case {
            text: "[server]\n\n[twich]\nclient_id = \"abc\"\n",
            line: 3,
            key: "twich",
            expected: &[
                "unknown section `[twich]`",
                "expected one of: server, twitch, kick, youtube, obs, tts, keystore, events, log",
            ],
        },
        Case {
            text: "server = 5\n",
            line: 1,
            key: "server",
            expected: &["invalid type: integer `5`, expected a [server] table"],
        },
        Case {
            text: "[server]\n# loopback only\nlisten = \"0.0.0.0:7717\"\n",
            line: 3,
            key: "server.listen",
            expected: &["0.0.0.0:7717 is not a loopback address"],
        },
        Case {
            text: "[server]\nlisten = \"localhost:7717\"\n",
            line: 2,
            key: "server.listen",
            expected: &["expected a socket address", "\"127.0.0.1:7717\""],
        },
        Case {
            text: "[server]\nallowed_hosts = [\"ok.local\",\n  \"http://bad.local/\"]\n",
            line: 3,
            key: "server.allowed_hosts[1]",
            expected: &["expected a bare host name"],
        },
        Case {
            text: "[twitch]\nclient_id = \"abc\"\nhelix_url = \"ftp://api.twitch.tv/helix\"\n",
            line: 3,
            key: "twitch.helix_url",
            expected: &["expected an absolute http:// or https:// URL"],
        },
        Case {
            text: "[twitch]\nclient_id = \"abc\"\neventsub_url = \"https://eventsub.wss.twitch.tv/ws\"\n",
            line: 3,
            key: "twitch.eventsub_url",
            expected: &["expected an absolute ws:// or wss:// URL"],
        },
        Case {
            text: "[obs]\nurl = \"ws://\"\n",
            line: 2,
            key: "obs.url",
            expected: &["the host is missing"],
        },
        Case {
            text: "[kick]\nclient_id = \"k\"\nchannel = \"my channel\"\n",
            line: 3,
            key: "kick.channel",
            expected: &["expected a channel slug"],
        },
        Case {
            text: "[log]\n\n[kick]\nchannel = \"ana\"\n",
            line: 3,
            key: "kick.client_id",
            expected: &["missing required key `client_id` in [kick]"],
        },
        Case {
            text: "[youtube]\nclient_id = \"\"\n",
            line: 2,
            key: "youtube.client_id",
            expected: &["expected a non-empty string"],
        },
        Case {
            text: "[youtube]\nclient_id = \"y\"\ndaily_quota = 0\n",
            line: 3,
            key: "youtube.daily_quota",
            expected: &["expected an integer greater than 0"],
        },
        Case {
            text: "[twitch]\nclient_id = \"abc\"\npoll_seconds = 1200\n",
            line: 3,
            key: "twitch.poll_seconds",
            expected: &["invalid value: 1200, expected at most 600 seconds"],
        },
        Case {
            text: "[kick]\nclient_id = \"k\"\npoll_seconds = 0\n",
            line: 3,
            key: "kick.poll_seconds",
            expected: &["expected an integer greater than 0"],
        },
        Case {
            text: "[tts]\n\nengine = \"command\"\n",
            line: 3,
            key: "tts.command",
            expected: &["required when tts.engine = \"command\""],
        },
        Case {
            text: "[tts]\nengine = \"command\"\ncommand = []\n",
            line: 3,
            key: "tts.command",
            expected: &["expected a non-empty list"],
        },
        Case {
            text: "[tts]\nengine = \"command\"\ncommand = [\n  \"piper\",\n  5,\n]\n",
            line: 5,
            key: "tts.command[1]",
            expected: &["invalid type: integer `5`, expected a string"],
        },
        Case {
            text: "[tts]\nengine = \"festival\"\n",
            line: 2,
            key: "tts.engine",
            expected: &["unknown variant `festival`", "`espeak-ng`", "`command`"],
        },
        Case {
            text: "[keystore]\nbackend = \"keychain\"\n",
            line: 2,
            key: "keystore.backend",
            expected: &["unknown variant `keychain`", "`auto`", "`os`", "`file`"],
        },
        Case {
            text: "[log]\nformat = \"xml\"\n",
            line: 2,
            key: "log.format",
            expected: &["unknown variant `xml`", "`human`", "`json`"],
        },
        Case {
            text: "[log]\nlevel = \"roadie=verbose\"\n",
            line: 2,
            key: "log.level",
            expected: &["expected a log filter"],
        },
        Case {
            text: "[obs]\nenabled = \"yes\"\n",
            line: 2,
            key: "obs.enabled",
            expected: &["expected a boolean"],
        },
        Case {
            text: "server = { lisen = \"x\" }\n",
            line: 1,
            key: "server.lisen",
            expected: &["unknown key `lisen` in [server]"],
        },
    ];
    for case in cases {
        let (path, error) = load_err(case.text, &[]);
        let text = error.to_string();
        let context = format!("{:?} gave: {text}", case.text);
        assert!(text.contains(&path.display().to_string()), "{context}");
        assert!(text.contains(&format!("line {},", case.line)), "{context}");
        assert!(text.contains(&format!("`{}`", case.key)), "{context}");
        for expected in case.expected {
            assert!(text.contains(expected), "missing {expected:?}: {context}");
        }
        match &error {
            ConfigError::Invalid { location, key, .. } => {
                assert_eq!(
                    location,
                    &Location::File {
                        path: path.clone(),
                        line: Some(case.line)
                    },
                    "{context}"
                );
                assert_eq!(key, case.key, "{context}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert_eq!(error.exit_code(), 2);
    }
}

#[test]
fn bad_toml_names_file_and_line() {
    let cases: &[(&str, usize)] = &[
        ("[server]\nlisten = \"127.0.0.1:7717\n", 2),
        ("[server]\nlisten = \"127.0.0.1:7717\"\n\n[twitch\n", 4),
        ("[events]\nretention_days = 1\nretention_days = 2\n", 3),
        ("[obs]\nurl = ws://127.0.0.1:4455\n", 2),
    ];
    for (toml, line) in cases {
        let (path, error) = load_err(toml, &[]);
        let text = error.to_string();
        assert!(
            matches!(&error, ConfigError::Syntax { line: l, .. } if l == line),
            "{toml:?}: {error:?}"
        );
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(&format!("line {line},")), "{text}");
        assert!(text.contains("invalid TOML"), "{text}");
        assert_eq!(error.exit_code(), 2);
    }
}

#[test]
fn secret_of_the_wrong_type_is_not_echoed() {
    let (_, error) = load_err("[obs]\npassword = 918273645\n", &[]);
    let text = error.to_string();
    assert!(text.contains("`obs.password`"), "{text}");
    assert!(text.contains("expected a string"), "{text}");
    assert!(!text.contains("918273645"), "{text}");
    assert!(!format!("{error:?}").contains("918273645"));
}

#[test]
fn env_overrides_file_values() {
    let text = "[server]\nlisten = \"127.0.0.1:7717\"\n\n[events]\nretention_days = 30\n";
    let config = load_text(
        text,
        &[
            ("ROADIE_SERVER__LISTEN", "127.0.0.1:0"),
            ("ROADIE_EVENTS__RETENTION_DAYS", "7"),
            ("ROADIE_events__max_events", "12"),
            ("ROADIE_LOG__FORMAT", "\"json\""),
        ],
    )
    .unwrap();
    assert_eq!(
        config.server.listen,
        "127.0.0.1:0".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(config.events.retention_days, 7);
    assert_eq!(config.events.max_events, 12);
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn env_creates_sections() {
    let config = load_text(
        "[server]\n",
        &[
            ("ROADIE_TWITCH__CLIENT_ID", "abc"),
            ("ROADIE_OBS__PASSWORD", "from-env"),
            ("ROADIE_TTS__ENGINE", "command"),
            ("ROADIE_TTS__COMMAND", "[\"piper-wav\", \"--fast\"]"),
        ],
    )
    .unwrap();
    assert_eq!(config.twitch, Some(TwitchConfig::new("abc")));
    assert_eq!(config.enabled_platforms(), vec![Platform::Twitch]);
    assert!(config.obs.enabled);
    assert_eq!(config.obs.password.unwrap().expose_secret(), "from-env");
    assert_eq!(config.tts.engine, TtsEngine::Command);
    assert_eq!(
        config.tts.command,
        Some(vec!["piper-wav".to_owned(), "--fast".to_owned()])
    );
}

#[test]
fn env_values_parse_as_toml_then_fall_back_to_text() {
    let config = load_text(
        "",
        &[
            ("ROADIE_KICK__CLIENT_ID", "42"),
            ("ROADIE_KICK__CHANNEL", "1234"),
            ("ROADIE_KICK__CLIENT_SECRET", "true"),
            ("ROADIE_OBS__ENABLED", "false"),
            ("ROADIE_YOUTUBE__CLIENT_ID", "1979-05-27"),
            ("ROADIE_YOUTUBE__DAILY_QUOTA", "500"),
            ("ROADIE_LOG__LEVEL", "roadie=debug,warn"),
        ],
    )
    .unwrap();
    let kick = config.kick.unwrap();
    assert_eq!(kick.client_id, "42");
    assert_eq!(kick.channel.as_deref(), Some("1234"));
    assert_eq!(kick.client_secret.unwrap().expose_secret(), "true");
    assert!(!config.obs.enabled);
    let youtube = config.youtube.unwrap();
    assert_eq!(youtube.client_id, "1979-05-27");
    assert_eq!(youtube.daily_quota, 500);
    assert_eq!(config.log.level, "roadie=debug,warn");
}

#[test]
fn non_key_roadie_vars_are_ignored() {
    let config = load_text(
        "",
        &[
            ("ROADIE_CONFIG", "/elsewhere/config.toml"),
            ("ROADIE_DATA_DIR", "/elsewhere"),
            ("ROADIE_KEYSTORE_PASSPHRASE", "correct horse"),
            ("ROADIE_LOG", "debug"),
            ("RUST_LOG", "trace"),
            ("HOME", "/home/ana"),
        ],
    )
    .unwrap();
    assert_eq!(config, Config::default());
}

/// Errors caused by environment variables name the variable instead of a file line.
#[test]
fn bad_env_vars_are_named() {
    struct Case {
        vars: &'static [(&'static str, &'static str)],
        var: &'static str,
        key: &'static str,
        expected: &'static str,
    }
    let cases = [
        Case {
            vars: &[("ROADIE_SERVER__LISEN", "127.0.0.1:0")],
            var: "ROADIE_SERVER__LISEN",
            key: "server.lisen",
            expected: "unknown key `lisen` in [server]; expected one of: listen, allowed_hosts",
        },
        Case {
            vars: &[("ROADIE_TWICH__CLIENT_ID", "abc")],
            var: "ROADIE_TWICH__CLIENT_ID",
            key: "twich",
            expected: "unknown section `[twich]`",
        },
        Case {
            vars: &[("ROADIE_EVENTS__RETENTION_DAYS", "-1")],
            var: "ROADIE_EVENTS__RETENTION_DAYS",
            key: "events.retention_days",
            expected: "invalid value: integer `-1`, expected u32",
        },
        Case {
            vars: &[("ROADIE_EVENTS__RETENTION_DAYS", "a week")],
            var: "ROADIE_EVENTS__RETENTION_DAYS",
            key: "events.retention_days",
            expected: "invalid type: string \"a week\", expected u32",
        },
        Case {
            vars: &[("ROADIE_SERVER__LISTEN", "192.168.1.10:7717")],
            var: "ROADIE_SERVER__LISTEN",
            key: "server.listen",
            expected: "not a loopback address",
        },
        Case {
            vars: &[("ROADIE_KICK__CHANNEL", "ana")],
            var: "ROADIE_KICK__CHANNEL",
            key: "kick.client_id",
            expected: "missing required key `client_id` in [kick]",
        },
        Case {
            vars: &[("ROADIE_TTS__ENGINE", "command")],
            var: "ROADIE_TTS__ENGINE",
            key: "tts.command",
            expected: "required when tts.engine = \"command\"",
        },
        Case {
            vars: &[("ROADIE_OBS__URL", "http://127.0.0.1:4455")],
            var: "ROADIE_OBS__URL",
            key: "obs.url",
            expected: "expected an absolute ws:// or wss:// URL",
        },
    ];
    for case in cases {
        let (_, error) = load_err("[server]\nlisten = \"127.0.0.1:7717\"\n", case.vars);
        let text = error.to_string();
        assert!(
            text.contains(&format!("environment variable {}", case.var)),
            "{:?}: {text}",
            case.vars
        );
        assert!(text.contains(&format!("`{}`", case.key)), "{text}");
        assert!(text.contains(case.expected), "{text}");
        assert_eq!(error.exit_code(), 2);
    }

    let (_, error) = load_err("", &[("ROADIE___LISTEN", "x")]);
    assert!(matches!(error, ConfigError::Env { .. }), "{error:?}");
    assert!(error.to_string().contains("ROADIE___LISTEN"), "{error}");
}

#[test]
fn env_error_in_file_section_still_names_the_variable() {
    // The section is in the file, the bad key comes from the environment.
    let (_, error) = load_err(
        "[twitch]\nclient_id = \"abc\"\n",
        &[("ROADIE_TWITCH__HELIX_URL", "api.twitch.tv")],
    );
    let text = error.to_string();
    assert!(
        text.contains("environment variable ROADIE_TWITCH__HELIX_URL"),
        "{text}"
    );
    assert!(text.contains("`twitch.helix_url`"), "{text}");
}

#[cfg(unix)]
#[test]
fn permission_warnings() {
    struct Case {
        text: &'static str,
        mode: u32,
        warns: Option<&'static str>,
    }
    let cases = [
        Case {
            text: "[kick]\nclient_id = \"k\"\nclient_secret = \"s3cr3t\"\n",
            mode: 0o644,
            warns: Some("kick.client_secret"),
        },
        Case {
            text: "[obs]\npassword = \"s3cr3t\"\n",
            mode: 0o640,
            warns: Some("obs.password"),
        },
        Case {
            text: "[kick]\nclient_id = \"k\"\nclient_secret = \"s3cr3t\"\n",
            mode: 0o600,
            warns: None,
        },
        Case {
            text: "[kick]\nclient_id = \"k\"\n\n[obs]\nurl = \"ws://127.0.0.1:4455\"\n",
            mode: 0o644,
            warns: None,
        },
    ];
    for case in cases {
        let (_dir, path) = write_config(case.text);
        set_mode(&path, case.mode);
        // A secret from the environment never warns about the file.
        let loaded = load(&path, &env(&[("ROADIE_OBS__PASSWORD", "x")]), true)
            .unwrap_or_else(|e| panic!("{e}"));
        match case.warns {
            None => assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings),
            Some(key) => {
                assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
                let warning = &loaded.warnings[0];
                assert!(warning.contains(&path.display().to_string()), "{warning}");
                assert!(warning.contains(key), "{warning}");
                assert!(warning.contains("chmod 600"), "{warning}");
                assert!(
                    warning.contains(&format!("roadie secrets set {key}")),
                    "{warning}"
                );
                assert!(!warning.contains("s3cr3t"), "{warning}");
            }
        }
    }
}

#[test]
fn unused_tts_command_warns() {
    let (_dir, path) = write_config("[tts]\ncommand = [\"piper-wav\"]\n");
    let loaded = load(&path, &[], true).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].contains("line 2"),
        "{:?}",
        loaded.warnings
    );
    assert!(
        loaded.warnings[0].contains("tts.command"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn debug_output_redacts_secrets() {
    let (_dir, path) = write_config(FULL);
    let loaded = load(
        &path,
        &env(&[("ROADIE_OBS__PASSWORD", "env-password-7f3a")]),
        true,
    )
    .unwrap();
    for debug in [
        format!("{:?}", loaded.config),
        format!("{:#?}", loaded.config),
        format!("{loaded:?}"),
    ] {
        for secret in FULL_SECRETS.iter().chain(&["env-password-7f3a"]) {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
        assert!(debug.contains("redacted"), "{debug}");
    }
    assert_eq!(
        loaded.config.obs.password.unwrap().expose_secret(),
        "env-password-7f3a"
    );
}

#[test]
fn from_toml_str_is_as_strict_as_load() {
    let config = Config::from_toml_str("[twitch]\nclient_id = \"abc\"\n").unwrap();
    assert_eq!(config.twitch, Some(TwitchConfig::new("abc")));
    let error = Config::from_toml_str("[twitch]\nclient_id = \"abc\"\nnope = 1\n").unwrap_err();
    let text = error.to_string();
    assert!(text.contains("<inline config>, line 3"), "{text}");
    assert!(text.contains("`twitch.nope`"), "{text}");
}

#[test]
fn youtube_costs_and_kick_webhook_are_read_with_defaults_for_the_rest() {
    let c = load_text(
        "[kick]\nclient_id = \"k\"\nwebhook = true\npoll_seconds = 30\n[youtube]\nclient_id = \"y\"\n[youtube.costs]\nlive_chat_messages_list = 7\n",
        &[],
    )
    .unwrap();
    let kick = c.kick.unwrap();
    assert!(kick.webhook);
    assert_eq!(kick.poll_seconds, 30);
    let youtube = c.youtube.unwrap();
    assert_eq!(youtube.costs.live_chat_messages_list, 7);
    assert_eq!(youtube.costs.live_chat_messages_insert, 50);
    assert_eq!(youtube.costs.live_broadcasts_list, 1);
    assert_eq!(youtube.poll_seconds, 60);
    assert_eq!(youtube.stream_hours, None);

    let (_, error) = load_err(
        "[youtube]\nclient_id = \"y\"\n[youtube.costs]\nsearch_list = 100\n",
        &[],
    );
    assert!(error.to_string().contains("search_list"), "{error}");

    let c = load_text(
        "[kick]\nclient_id = \"k\"\nchatroom_id = 1165302\nchannel_id = 1174682\n",
        &[],
    )
    .unwrap();
    let kick = c.kick.unwrap();
    assert_eq!(
        (kick.chatroom_id, kick.channel_id),
        (Some(1_165_302), Some(1_174_682))
    );
    let (_, error) = load_err("[kick]\nclient_id = \"k\"\nchatroom_id = 0\n", &[]);
    assert!(error.to_string().contains("greater than 0"), "{error}");

    let c = load_text("[youtube]\nclient_id = \"y\"\nstream_hours = 4\n", &[]).unwrap();
    assert_eq!(c.youtube.unwrap().stream_hours, Some(4));
    let (_, error) = load_err("[youtube]\nclient_id = \"y\"\nstream_hours = 0\n", &[]);
    assert!(error.to_string().contains("greater than 0"), "{error}");
}

/// A file with several mistakes lists them all at once, each with its line and key, so
/// one edit fixes them all; the message still counts as one usage error.
#[test]
fn every_mistake_in_a_file_is_listed_at_once() {
    let text = "[server]\nlisen = \"127.0.0.1:7717\"\n\n[keystore]\nbackend = \"keychain\"\n\n[log]\nformat = \"xml\"\nlevel = \"info\"\n\n[colours]\nbackground = \"red\"\n";
    let (path, error) = load_err(text, &[]);
    let ConfigError::Several { errors } = &error else {
        panic!("expected every problem, got {error:?}");
    };
    let keys: Vec<(String, Option<usize>)> = errors
        .iter()
        .map(|error| match error {
            ConfigError::Invalid {
                location: Location::File { line, .. },
                key,
                ..
            } => (key.clone(), *line),
            other => panic!("expected file errors, got {other:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("server.lisen".to_owned(), Some(2)),
            ("keystore.backend".to_owned(), Some(5)),
            ("log.format".to_owned(), Some(8)),
            ("colours".to_owned(), Some(11)),
        ]
    );
    let shown = error.to_string();
    assert!(
        shown.starts_with("4 problems in the configuration:"),
        "{shown}"
    );
    assert_eq!(
        shown.lines().count(),
        1,
        "the reason stays one line: {shown}"
    );
    assert!(shown.contains("(1) ") && shown.contains(" (4) "), "{shown}");
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert_eq!(error.exit_code(), 2);

    // (file, the keys named, what must not be said)
    let follow_ups: &[(&str, &[&str], &str)] = &[
        // A misspelt required key is named once, not again as missing.
        (
            "[twitch]\nclient_idd = \"abc\"\n\n[server]\nlisen = \"x\"\n",
            &["`twitch.client_idd`", "`server.lisen`"],
            "missing",
        ),
        // A rule across keys is checked over the keys that read, in the same message...
        (
            "[server]\nlisen = \"x\"\n\n[tts]\nengine = \"command\"\n",
            &["`server.lisen`", "`tts.command`: required when"],
            "comand",
        ),
        // ...but not when a key of its section was taken out: `comand` is the problem.
        (
            "[server]\nlisen = \"x\"\n\n[tts]\nengine = \"command\"\ncomand = [\"piper\"]\n",
            &["`server.lisen`", "`tts.comand`"],
            "required when",
        ),
    ];
    for (text, named, unsaid) in follow_ups {
        let shown = load_err(text, &[]).1.to_string();
        assert!(shown.starts_with("2 problems"), "{shown}");
        for key in *named {
            assert!(shown.contains(key), "{key} missing from: {shown}");
        }
        assert!(!shown.contains(unsaid), "{shown}");
    }

    // One mistake stays one plain error, as before.
    let (_, single) = load_err("[server]\nlisen = \"x\"\n", &[]);
    assert!(matches!(single, ConfigError::Invalid { .. }), "{single:?}");
}
