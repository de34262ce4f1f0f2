//! The daemon's handle on the keystore: opened in the background at start (probing
//! the OS store can take a moment), then shared. If it cannot be opened the daemon
//! keeps running and says why in `status`.

use std::sync::OnceLock;
use std::sync::RwLock;

use roadie_keystore::OpenedKeystore;

/// The keystore once it is open, or why it is not.
#[derive(Debug, Default)]
pub struct KeystoreSlot {
    opened: OnceLock<OpenedKeystore>,
    problem: RwLock<Option<String>>,
}

impl KeystoreSlot {
    /// The open keystore, if any.
    pub fn get(&self) -> Option<&OpenedKeystore> {
        self.opened.get()
    }

    /// Why the keystore is not open, if it failed.
    pub fn problem(&self) -> Option<String> {
        self.problem.read().ok().and_then(|problem| problem.clone())
    }

    pub(crate) fn fill(&self, opened: OpenedKeystore) {
        let _ = self.opened.set(opened);
    }

    pub(crate) fn fail(&self, reason: String) {
        if let Ok(mut problem) = self.problem.write() {
            *problem = Some(reason);
        }
    }
}

/// Where the tokens of signed-in accounts live (`oauth.{platform}.{account}`).
pub const TOKEN_KEY_PREFIX: &str = "oauth.";

/// Checks a key for `roadie secrets set|delete` before anything is written. Keys under
/// [`TOKEN_KEY_PREFIX`] hold sign-in tokens: they belong to `roadie auth`, and a value
/// written over them by hand would sign the account out. Any other valid key may be
/// kept, but one the daemon never reads gets a note, so a typo such as `obs.pasword`
/// is caught now rather than when OBS refuses the connection mid-stream.
///
/// `Ok(None)`: a setting the daemon reads; `Ok(Some(note))`: a key it never reads;
/// `Err(reason)`: refused.
pub fn check_secret_key(key: &str) -> Result<Option<String>, String> {
    if key.starts_with(TOKEN_KEY_PREFIX) {
        return Err(format!(
            "{key} holds sign-in tokens, which only `roadie auth` changes (login, import, logout)"
        ));
    }
    let read: Vec<String> = roadie_config::keystore_secret_keys().collect();
    if read.iter().any(|known| known == key) {
        return Ok(None);
    }
    Ok(Some(format!(
        "Roadie does not read {key}; the secrets it reads are {}",
        read.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_pass_tokens_are_refused_and_others_get_a_note() {
        assert_eq!(check_secret_key("obs.password"), Ok(None));
        assert_eq!(check_secret_key("kick.client_secret"), Ok(None));
        let refused = check_secret_key("oauth.twitch.141981764").unwrap_err();
        assert!(refused.contains("roadie auth"), "{refused}");
        let note = check_secret_key("obs.pasword").unwrap().unwrap();
        assert!(
            note.contains("obs.pasword") && note.contains("obs.password"),
            "{note}"
        );
    }
}
