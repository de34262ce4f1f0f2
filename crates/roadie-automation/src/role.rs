//! Role gates: who may use a command. Levels are ordered, so a gate admits everyone at
//! or above it (a moderator may use a VIP command; the broadcaster may use anything).

use roadie_core::{Role, UnknownName, User};
use std::fmt;
use std::str::FromStr;

/// The lowest level a caller needs, ordered from least to most privileged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleGate {
    /// Anybody in chat.
    #[default]
    Everyone,
    /// Subscribers (members on YouTube) and above.
    Subscriber,
    /// VIPs and above.
    Vip,
    /// Moderators and the broadcaster.
    Moderator,
    /// The broadcaster only.
    Broadcaster,
}

impl RoleGate {
    /// Every level, from least to most privileged.
    pub const ALL: &'static [RoleGate] = &[
        RoleGate::Everyone,
        RoleGate::Subscriber,
        RoleGate::Vip,
        RoleGate::Moderator,
        RoleGate::Broadcaster,
    ];

    /// The configuration name (`"everyone"`, `"subscriber"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RoleGate::Everyone => "everyone",
            RoleGate::Subscriber => "subscriber",
            RoleGate::Vip => "vip",
            RoleGate::Moderator => "moderator",
            RoleGate::Broadcaster => "broadcaster",
        }
    }

    /// The level one chat role grants.
    pub fn of_role(role: Role) -> RoleGate {
        match role {
            Role::Broadcaster => RoleGate::Broadcaster,
            Role::Moderator => RoleGate::Moderator,
            Role::Vip => RoleGate::Vip,
            Role::Subscriber => RoleGate::Subscriber,
        }
    }

    /// A user's effective level: the highest of their roles, `Everyone` without any.
    pub fn of(user: &User) -> RoleGate {
        user.roles
            .iter()
            .map(|role| RoleGate::of_role(*role))
            .max()
            .unwrap_or(RoleGate::Everyone)
    }

    /// Whether `user` is at or above this level.
    pub fn admits(self, user: &User) -> bool {
        RoleGate::of(user) >= self
    }
}

impl fmt::Display for RoleGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoleGate {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RoleGate::ALL
            .iter()
            .copied()
            .find(|gate| gate.as_str() == text)
            .ok_or_else(|| UnknownName {
                what: "role",
                given: text.to_owned(),
                expected: "everyone, subscriber, vip, moderator, broadcaster",
            })
    }
}
