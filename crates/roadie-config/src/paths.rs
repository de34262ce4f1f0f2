//! Where the config file and the data directory are: command line, then environment,
//! then the OS conventions (computed from environment variables, no extra crate).

use std::path::{Path, PathBuf};

/// The operating-system family whose directory conventions apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Os {
    /// Linux and other Unix: XDG base directories.
    Xdg,
    /// macOS: `~/Library/Application Support`.
    Mac,
    /// Windows: `%APPDATA%`, `%LOCALAPPDATA%`.
    Windows,
}

const CURRENT_OS: Os = if cfg!(windows) {
    Os::Windows
} else if cfg!(target_os = "macos") {
    Os::Mac
} else {
    Os::Xdg
};

/// `<OS config dir>/roadie/config.toml` from the process environment: `$XDG_CONFIG_HOME`
/// or `~/.config` on Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on
/// Windows. `None` when the needed variables are unset.
pub fn default_config_path() -> Option<PathBuf> {
    config_path_for(CURRENT_OS, &process_var)
}

/// `<OS data dir>/roadie` from the process environment: `$XDG_DATA_HOME` or
/// `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
/// `%LOCALAPPDATA%` (else `%APPDATA%`) on Windows. `None` when the needed variables are unset.
pub fn default_data_dir() -> Option<PathBuf> {
    data_dir_for(CURRENT_OS, &process_var)
}

/// The config file to load and whether it was named explicitly: `--config PATH` (explicit),
/// else `$ROADIE_CONFIG` (explicit), else the default path computed from `env` (not explicit).
/// `None` only when nothing names a file and no home directory is known.
pub fn resolve_config_path(
    cli: Option<&Path>,
    env: &[(String, String)],
) -> Option<(PathBuf, bool)> {
    if let Some(path) = cli {
        return Some((path.to_path_buf(), true));
    }
    let var = |name: &str| slice_var(env, name);
    if let Some(path) = var("ROADIE_CONFIG") {
        return Some((path, true));
    }
    config_path_for(CURRENT_OS, &var).map(|path| (path, false))
}

/// The data directory: `--data-dir DIR`, else `$ROADIE_DATA_DIR`, else the default computed
/// from `env`. `None` only when nothing names one and no home directory is known.
pub fn resolve_data_dir(cli: Option<&Path>, env: &[(String, String)]) -> Option<PathBuf> {
    if let Some(path) = cli {
        return Some(path.to_path_buf());
    }
    let var = |name: &str| slice_var(env, name);
    var("ROADIE_DATA_DIR").or_else(|| data_dir_for(CURRENT_OS, &var))
}

/// The process environment as `(name, value)` pairs, skipping the (rare) variables whose
/// name or value is not Unicode. Unlike `std::env::vars()`, this never panics.
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

fn process_var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn slice_var(env: &[(String, String)], name: &str) -> Option<PathBuf> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .filter(|(_, v)| !v.is_empty())
        .map(|(_, v)| PathBuf::from(v))
}

fn config_path_for(os: Os, var: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    let base = match os {
        Os::Xdg => xdg(var, "XDG_CONFIG_HOME", ".config"),
        Os::Mac => var("HOME").map(|home| home.join("Library").join("Application Support")),
        Os::Windows => var("APPDATA"),
    }?;
    Some(base.join("roadie").join("config.toml"))
}

fn data_dir_for(os: Os, var: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    let base = match os {
        Os::Xdg => xdg(var, "XDG_DATA_HOME", ".local/share"),
        Os::Mac => var("HOME").map(|home| home.join("Library").join("Application Support")),
        Os::Windows => var("LOCALAPPDATA").or_else(|| var("APPDATA")),
    }?;
    Some(base.join("roadie"))
}

/// `$<name>` when it is absolute (the XDG spec says to ignore relative values), else
/// `$HOME/<fallback>`.
fn xdg(var: &dyn Fn(&str) -> Option<PathBuf>, name: &str, fallback: &str) -> Option<PathBuf> {
    var(name)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| home.join(fallback)))
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
    fn os_conventions() {
        struct Case {
            os: Os,
            env: &'static [(&'static str, &'static str)],
            /// The OS config base directory expected.
            config: Option<&'static str>,
            /// The OS data base directory expected.
            data: Option<&'static str>,
        }
        let cases = [
            Case {
                os: Os::Xdg,
                env: &[("HOME", "/home/a")],
                config: Some("/home/a/.config"),
                data: Some("/home/a/.local/share"),
            },
            Case {
                os: Os::Xdg,
                env: &[
                    ("HOME", "/home/a"),
                    ("XDG_CONFIG_HOME", "/cfg"),
                    ("XDG_DATA_HOME", "/data"),
                ],
                config: Some("/cfg"),
                data: Some("/data"),
            },
            Case {
                os: Os::Xdg,
                env: &[
                    ("HOME", "/home/a"),
                    ("XDG_CONFIG_HOME", "relative"),
                    ("XDG_DATA_HOME", ""),
                ],
                config: Some("/home/a/.config"),
                data: Some("/home/a/.local/share"),
            },
            Case {
                os: Os::Xdg,
                env: &[],
                config: None,
                data: None,
            },
            Case {
                os: Os::Mac,
                env: &[("HOME", "/Users/a")],
                config: Some("/Users/a/Library/Application Support"),
                data: Some("/Users/a/Library/Application Support"),
            },
            Case {
                os: Os::Windows,
                env: &[("APPDATA", "/w/Roaming"), ("LOCALAPPDATA", "/w/Local")],
                config: Some("/w/Roaming"),
                data: Some("/w/Local"),
            },
            Case {
                os: Os::Windows,
                env: &[("APPDATA", "/w/Roaming")],
                config: Some("/w/Roaming"),
                data: Some("/w/Roaming"),
            },
        ];
        for (i, case) in cases.iter().enumerate() {
            let env = env(case.env);
            let var = |name: &str| slice_var(&env, name);
            assert_eq!(
                config_path_for(case.os, &var),
                case.config
                    .map(|base| Path::new(base).join("roadie").join("config.toml")),
                "case {i} config"
            );
            assert_eq!(
                data_dir_for(case.os, &var),
                case.data.map(|base| Path::new(base).join("roadie")),
                "case {i} data"
            );
        }
    }

    #[test]
    fn resolution_order() {
        let home = [("HOME", "/h"), ("APPDATA", "/h"), ("LOCALAPPDATA", "/h")];
        let with_vars = env(&[
            home[0],
            home[1],
            home[2],
            ("ROADIE_CONFIG", "/env/config.toml"),
            ("ROADIE_DATA_DIR", "/env/data"),
        ]);
        let cli_config = Path::new("/cli/config.toml");
        let cli_data = Path::new("/cli/data");

        assert_eq!(
            resolve_config_path(Some(cli_config), &with_vars),
            Some((cli_config.to_path_buf(), true))
        );
        assert_eq!(
            resolve_config_path(None, &with_vars),
            Some((PathBuf::from("/env/config.toml"), true))
        );
        let (default, explicit) = resolve_config_path(None, &env(&home)).unwrap();
        assert!(!explicit);
        assert!(default.ends_with("roadie/config.toml"), "{default:?}");
        let empty_var = env(&[home[0], home[1], home[2], ("ROADIE_CONFIG", "")]);
        assert_eq!(
            resolve_config_path(None, &empty_var).map(|(_, e)| e),
            Some(false)
        );
        assert_eq!(resolve_config_path(None, &[]), None);

        assert_eq!(
            resolve_data_dir(Some(cli_data), &with_vars),
            Some(cli_data.to_path_buf())
        );
        assert_eq!(
            resolve_data_dir(None, &with_vars),
            Some(PathBuf::from("/env/data"))
        );
        let data = resolve_data_dir(None, &env(&home)).unwrap();
        assert!(
            data.ends_with("roadie") && data.starts_with("/h"),
            "{data:?}"
        );
        assert_eq!(resolve_data_dir(None, &[]), None);
    }
}
