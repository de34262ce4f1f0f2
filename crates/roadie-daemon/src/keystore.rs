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
