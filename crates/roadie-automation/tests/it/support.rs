//! Shared fixtures: users, a scripted template context and a scripted environment.

use roadie_automation::{
    CommandDef, CommandName, CommandSet, Environment, FollowAge, Template, TemplateContext,
};
use roadie_core::{Platform, Role, Timestamp, User};
use std::cell::{Cell, RefCell};
use std::time::Duration;

/// A user with display name `name`, login its lowercase, id `id`.
pub fn user(id: &str, name: &str, roles: &[Role]) -> User {
    User {
        id: id.to_owned(),
        login: name.to_lowercase(),
        name: name.to_owned(),
        roles: roles.to_vec(),
    }
}

/// A viewer without roles.
pub fn viewer(id: &str) -> User {
    user(id, &format!("Viewer{id}"), &[])
}

pub fn name(text: &str) -> CommandName {
    CommandName::parse(text).unwrap()
}

pub fn def(command: &str, template: &str) -> CommandDef {
    CommandDef::new(name(command), Template::parse(template).unwrap())
}

pub fn set_of(defs: Vec<CommandDef>) -> CommandSet {
    let mut set = CommandSet::new();
    for def in defs {
        set.insert(def).unwrap();
    }
    set
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A template context whose every answer is set by the test; records `random` calls.
pub struct Ctx {
    pub caller: User,
    pub args: Vec<&'static str>,
    pub count: u64,
    pub points: i64,
    pub uptime: Option<Duration>,
    pub followage: FollowAge,
    pub platform: Platform,
    pub now: Timestamp,
    pub drawn: i64,
    pub draws: RefCell<Vec<(i64, i64)>>,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx {
            caller: user("1", "Alice", &[]),
            args: Vec::new(),
            count: 7,
            points: 120,
            uptime: None,
            followage: FollowAge::Unknown,
            platform: Platform::Twitch,
            now: Timestamp(0),
            drawn: 4,
            draws: RefCell::new(Vec::new()),
        }
    }
}

impl TemplateContext for Ctx {
    fn caller(&self) -> &User {
        &self.caller
    }
    fn args(&self) -> &[&str] {
        &self.args
    }
    fn count(&self) -> u64 {
        self.count
    }
    fn points(&self) -> i64 {
        self.points
    }
    fn uptime(&self) -> Option<Duration> {
        self.uptime
    }
    fn followage(&self) -> FollowAge {
        self.followage
    }
    fn platform(&self) -> Platform {
        self.platform
    }
    fn now(&self) -> Timestamp {
        self.now
    }
    fn random(&self, low: i64, high: i64) -> i64 {
        self.draws.borrow_mut().push((low, high));
        self.drawn
    }
}

/// A scripted environment that counts look-ups, to show they happen only when used.
pub struct Env {
    pub points: i64,
    pub uptime: Option<Duration>,
    pub followage: FollowAge,
    pub now: Timestamp,
    pub drawn: i64,
    pub lookups: Cell<u32>,
}

impl Default for Env {
    fn default() -> Self {
        Env {
            points: 50,
            uptime: Some(Duration::from_secs(3 * 3600 + 600)),
            followage: FollowAge::Since(Duration::from_secs(40 * 86_400)),
            now: Timestamp(0),
            drawn: 3,
            lookups: Cell::new(0),
        }
    }
}

impl Env {
    fn looked_up(&self) {
        self.lookups.set(self.lookups.get() + 1);
    }
}

impl Environment for Env {
    fn points(&self, _platform: Platform, _user: &User) -> i64 {
        self.looked_up();
        self.points
    }
    fn uptime(&self, _platform: Platform) -> Option<Duration> {
        self.looked_up();
        self.uptime
    }
    fn followage(&self, _platform: Platform, _user: &User) -> FollowAge {
        self.looked_up();
        self.followage
    }
    fn now(&self) -> Timestamp {
        self.looked_up();
        self.now
    }
    fn random(&self, _low: i64, _high: i64) -> i64 {
        self.looked_up();
        self.drawn
    }
}
