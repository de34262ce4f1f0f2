//! Command definitions and the set of commands a channel has: validated names and
//! aliases, and the rule that no two commands (nor a built-in) answer to the same word.

use crate::builtin::BuiltinCommand;
use crate::role::RoleGate;
use crate::template::Template;
use roadie_core::Platform;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The longest name after the `!`, in characters.
pub const MAX_NAME_LEN: usize = 32;

/// A valid command name or alias: `!` then 1 to 32 of `[a-z0-9_]`, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandName(String);

/// Why a command name or alias is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// It does not start with `!`.
    #[error("command name {given:?} must start with `!`")]
    MissingBang {
        /// The name as given.
        given: String,
    },
    /// Nothing follows the `!`.
    #[error("command name {given:?} needs at least one character after `!`")]
    Empty {
        /// The name as given.
        given: String,
    },
    /// More than [`MAX_NAME_LEN`] characters after the `!`.
    #[error("command name {given:?} is longer than {MAX_NAME_LEN} characters after `!`")]
    TooLong {
        /// The name as given.
        given: String,
    },
    /// A character outside `[a-z0-9_]` (after lowercasing).
    #[error("command name {given:?} has {found:?} at byte column {column}; expected a-z, 0-9 or _")]
    BadCharacter {
        /// The name as given.
        given: String,
        /// The offending character.
        found: char,
        /// Its 1-based byte column in `given`.
        column: usize,
    },
}

impl CommandName {
    /// Validates `text`, lowercasing ASCII letters (`!Hello` becomes `!hello`).
    ///
    /// Only ASCII is lowercased: Unicode case folding would let look-alikes such as
    /// the Kelvin sign `K` turn into `k` and pass.
    pub fn parse(text: &str) -> Result<CommandName, NameError> {
        let Some(rest) = text.strip_prefix('!') else {
            return Err(NameError::MissingBang {
                given: text.to_owned(),
            });
        };
        if rest.is_empty() {
            return Err(NameError::Empty {
                given: text.to_owned(),
            });
        }
        for (offset, found) in rest.char_indices() {
            if !(found.is_ascii_alphanumeric() || found == '_') {
                return Err(NameError::BadCharacter {
                    given: text.to_owned(),
                    found,
                    column: offset + 2,
                });
            }
        }
        // All ASCII from here, so bytes are characters.
        if rest.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong {
                given: text.to_owned(),
            });
        }
        Ok(CommandName(text.to_ascii_lowercase()))
    }

    /// The name, with its `!`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CommandName {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CommandName::parse(text)
    }
}

// Sound because `CommandName` hashes and compares exactly like its `String`.
impl Borrow<str> for CommandName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// One chat command as the streamer configured it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandDef {
    /// The name it is listed under; counters and cooldowns are keyed by it.
    pub name: CommandName,
    /// Other words that run the same command (sharing its counter and cooldowns).
    pub aliases: Vec<CommandName>,
    /// The reply, parsed when the command was added.
    pub template: Template,
    /// Time after any use before anybody may use it again; zero for none.
    pub global_cooldown: Duration,
    /// Time after a user's use before the same user may use it again; zero for none.
    pub user_cooldown: Duration,
    /// Who may use it.
    pub gate: RoleGate,
    /// The platforms it answers on; empty means all of them.
    pub platforms: Vec<Platform>,
    /// Switched off commands stay listed but never answer.
    pub enabled: bool,
}

impl CommandDef {
    /// An enabled command for everyone on every platform, without aliases or cooldowns.
    pub fn new(name: CommandName, template: Template) -> CommandDef {
        CommandDef {
            name,
            aliases: Vec::new(),
            template,
            global_cooldown: Duration::ZERO,
            user_cooldown: Duration::ZERO,
            gate: RoleGate::Everyone,
            platforms: Vec::new(),
            enabled: true,
        }
    }

    /// Whether the command answers on `platform`.
    pub fn runs_on(&self, platform: Platform) -> bool {
        self.platforms.is_empty() || self.platforms.contains(&platform)
    }

    /// The name followed by the aliases.
    pub fn words(&self) -> impl Iterator<Item = &CommandName> {
        std::iter::once(&self.name).chain(self.aliases.iter())
    }
}

/// Why a command cannot join the set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandSetError {
    /// The name or an alias is one of the built-ins (`!commands`, `!points`, `!uptime`).
    #[error("{name} is a built-in command")]
    Builtin {
        /// The reserved word.
        name: CommandName,
    },
    /// The name or an alias already belongs to another command.
    #[error("{name} is already used by {owner}")]
    Taken {
        /// The word asked for.
        name: CommandName,
        /// The command that has it.
        owner: CommandName,
    },
    /// The same word appears twice within the command (name and alias, or two aliases).
    #[error("{name} is listed twice in the same command")]
    Repeated {
        /// The repeated word.
        name: CommandName,
    },
    /// `insert` of a name that exists (use `upsert` to replace it).
    #[error("command {name} already exists")]
    Exists {
        /// The existing command's name.
        name: CommandName,
    },
}

/// A channel's commands, keyed by name, with an index from every name and alias.
#[derive(Debug, Clone, Default)]
pub struct CommandSet {
    commands: BTreeMap<CommandName, CommandDef>,
    // Every name and alias to the owning command's name, for one-step lookup.
    words: HashMap<CommandName, CommandName>,
}

impl CommandSet {
    /// An empty set.
    pub fn new() -> CommandSet {
        CommandSet::default()
    }

    /// Adds a new command; refuses an existing name and any colliding word.
    pub fn insert(&mut self, def: CommandDef) -> Result<(), CommandSetError> {
        if self.commands.contains_key(&def.name) {
            return Err(CommandSetError::Exists { name: def.name });
        }
        self.upsert(def).map(|_| ())
    }

    /// Adds a command or replaces the one with the same name, returning the old one.
    /// Its words may collide with nothing but the command it replaces; on error the set
    /// is unchanged.
    pub fn upsert(&mut self, def: CommandDef) -> Result<Option<CommandDef>, CommandSetError> {
        let mut seen: Vec<&CommandName> = Vec::new();
        for word in def.words() {
            if BuiltinCommand::lookup(word.as_str()).is_some() {
                return Err(CommandSetError::Builtin { name: word.clone() });
            }
            if seen.contains(&word) {
                return Err(CommandSetError::Repeated { name: word.clone() });
            }
            seen.push(word);
            if let Some(owner) = self.words.get(word)
                && *owner != def.name
            {
                return Err(CommandSetError::Taken {
                    name: word.clone(),
                    owner: owner.clone(),
                });
            }
        }
        let old = self.remove(def.name.as_str());
        for word in def.words() {
            self.words.insert(word.clone(), def.name.clone());
        }
        self.commands.insert(def.name.clone(), def);
        Ok(old)
    }

    /// Removes the command named `name` (not an alias), returning it.
    pub fn remove(&mut self, name: &str) -> Option<CommandDef> {
        let def = self.commands.remove(name)?;
        for word in def.words() {
            self.words.remove(word.as_str());
        }
        Some(def)
    }

    /// The command named `name` exactly (not an alias).
    pub fn get(&self, name: &str) -> Option<&CommandDef> {
        self.commands.get(name)
    }

    /// Switches a command on or off; `false` when there is no such command.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> bool {
        match self.commands.get_mut(name) {
            Some(def) => {
                def.enabled = enabled;
                true
            }
            None => false,
        }
    }

    /// The command a chat word runs, by name or alias, ignoring ASCII case.
    pub fn lookup(&self, word: &str) -> Option<&CommandDef> {
        // Longer words cannot be names; skip lowercasing arbitrary chat input.
        if word.len() > MAX_NAME_LEN + 1 {
            return None;
        }
        let owner = self.words.get(word.to_ascii_lowercase().as_str())?;
        self.commands.get(owner)
    }

    /// Every command, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &CommandDef> {
        self.commands.values()
    }

    /// How many commands there are.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}
