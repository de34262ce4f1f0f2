//! Cooldowns: after a use, a command rests for everyone (global) and for the user who
//! used it (per user). Time is a parameter: a monotonic `Duration` since any epoch the
//! caller picks, so the daemon can drive it from its (possibly paused) clock.
//!
//! Moderators and the broadcaster are never refused, but their uses still start the
//! cooldowns: a global cooldown exists to keep a reply from repeating in chat, whoever
//! asked for it.

use crate::command::{CommandDef, CommandName};
use crate::role::RoleGate;
use roadie_core::{Platform, User};
use std::collections::HashMap;
use std::time::Duration;

/// Which cooldown refused an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CooldownScope {
    /// The command rests for everyone.
    Global,
    /// The command rests for this user.
    User,
}

/// Why an invocation is refused: the cooldown still running the longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CooldownRefusal {
    /// Time until the command is usable again by this caller.
    pub remaining: Duration,
    /// The cooldown that runs longest.
    pub scope: CooldownScope,
}

/// A running cooldown. Its length is kept so that shortening a command's cooldown
/// takes effect at once and pruning needs no command definitions.
#[derive(Debug, Clone, Copy)]
struct Running {
    started: Duration,
    length: Duration,
}

impl Running {
    fn remaining(self, current_length: Duration, now: Duration) -> Duration {
        let end = self
            .started
            .checked_add(self.length.min(current_length))
            .unwrap_or(Duration::MAX);
        end.saturating_sub(now)
    }

    fn expired(self, now: Duration) -> bool {
        self.remaining(self.length, now).is_zero()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UserKey {
    command: CommandName,
    platform: Platform,
    user_id: String,
}

/// The smallest number of tracked entries that triggers pruning.
const MIN_PRUNE_AT: usize = 256;

/// Running cooldowns, keyed by command name (global) and by command name, platform
/// and user id (per user). Expired entries are pruned whenever the number tracked has
/// doubled since the last pruning, so memory stays proportional to the cooldowns
/// actually running.
#[derive(Debug, Clone)]
pub struct CooldownTracker {
    global: HashMap<CommandName, Running>,
    users: HashMap<UserKey, Running>,
    prune_at: usize,
}

impl Default for CooldownTracker {
    fn default() -> Self {
        CooldownTracker {
            global: HashMap::new(),
            users: HashMap::new(),
            prune_at: MIN_PRUNE_AT,
        }
    }
}

impl CooldownTracker {
    /// No cooldowns running.
    pub fn new() -> CooldownTracker {
        CooldownTracker::default()
    }

    /// Whether `user` ignores cooldowns (moderators and the broadcaster).
    pub fn bypasses(user: &User) -> bool {
        RoleGate::Moderator.admits(user)
    }

    /// Whether `user` may use `def` on `platform` at `now`; when not, the cooldown that
    /// runs longest and its remaining time.
    pub fn check(
        &self,
        def: &CommandDef,
        platform: Platform,
        user: &User,
        now: Duration,
    ) -> Result<(), CooldownRefusal> {
        if Self::bypasses(user) {
            return Ok(());
        }
        let global = self
            .global
            .get(&def.name)
            .map_or(Duration::ZERO, |running| {
                running.remaining(def.global_cooldown, now)
            });
        let key = user_key(def, platform, user);
        let personal = self.users.get(&key).map_or(Duration::ZERO, |running| {
            running.remaining(def.user_cooldown, now)
        });
        let (remaining, scope) = if personal > global {
            (personal, CooldownScope::User)
        } else {
            (global, CooldownScope::Global)
        };
        if remaining.is_zero() {
            Ok(())
        } else {
            Err(CooldownRefusal { remaining, scope })
        }
    }

    /// Starts `def`'s cooldowns for a use by `user` at `now`. Zero-length cooldowns
    /// are not stored.
    pub fn record(&mut self, def: &CommandDef, platform: Platform, user: &User, now: Duration) {
        if !def.global_cooldown.is_zero() {
            self.global.insert(
                def.name.clone(),
                Running {
                    started: now,
                    length: def.global_cooldown,
                },
            );
        }
        if !def.user_cooldown.is_zero() {
            self.users.insert(
                user_key(def, platform, user),
                Running {
                    started: now,
                    length: def.user_cooldown,
                },
            );
        }
        if self.len() >= self.prune_at {
            self.prune(now);
            self.prune_at = MIN_PRUNE_AT.max(self.len().saturating_mul(2));
        }
    }

    /// Drops every cooldown that has run out by `now`.
    pub fn prune(&mut self, now: Duration) {
        self.global.retain(|_, running| !running.expired(now));
        self.users.retain(|_, running| !running.expired(now));
    }

    /// Drops every cooldown of the command named `name` (when it is removed).
    pub fn forget(&mut self, name: &str) {
        self.global.remove(name);
        self.users.retain(|key, _| key.command.as_str() != name);
    }

    /// How many cooldowns are tracked (running or expired but not yet pruned).
    pub fn len(&self) -> usize {
        self.global.len() + self.users.len()
    }

    /// Whether none are tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn user_key(def: &CommandDef, platform: Platform, user: &User) -> UserKey {
    UserKey {
        command: def.name.clone(),
        platform,
        user_id: user.id.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn remaining_saturates_and_uses_the_shorter_length() {
        let running = Running {
            started: Duration::MAX - Duration::from_secs(1),
            length: Duration::from_secs(10),
        };
        assert_eq!(
            running.remaining(Duration::from_secs(10), Duration::ZERO),
            Duration::MAX
        );
        let running = Running {
            started: Duration::from_secs(100),
            length: Duration::from_secs(60),
        };
        assert_eq!(
            running.remaining(Duration::from_secs(5), Duration::from_secs(101)),
            Duration::from_secs(4)
        );
        // Before the start (a clock that stepped back), the wait runs to the end.
        assert_eq!(
            running.remaining(Duration::from_secs(60), Duration::ZERO),
            Duration::from_secs(160)
        );
        assert!(running.expired(Duration::from_secs(160)));
        assert!(!running.expired(Duration::from_secs(159)));
    }
}
