//! The host side of the script API: everything with an effect outside the script.

use std::collections::BTreeMap;

/// A visibility change for an OBS scene item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Show the source.
    On,
    /// Hide the source.
    Off,
    /// Show it if hidden, hide it if shown.
    Toggle,
}

/// An OBS request a script made, the same requests an action step can make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObsCall {
    /// `obs.scene(name)`: switch the program scene.
    Scene {
        /// The scene to switch to.
        scene: String,
    },
    /// `obs.source(scene, source, "on"|"off"|"toggle")`: show or hide a scene item.
    Source {
        /// The scene holding the item.
        scene: String,
        /// The source's name.
        source: String,
        /// What to do with it.
        visibility: Visibility,
    },
    /// `obs.text(source, text)`: set a text source's text.
    Text {
        /// The text source.
        source: String,
        /// Its new text.
        text: String,
    },
}

/// What the daemon (or a test) does for a script's host calls. The calls run on the
/// thread that called [`run`](crate::run), one at a time, while the script waits; the
/// time they take counts against the script's time limit.
///
/// An `Err(reason)` becomes a JavaScript `Error` with that message, which the script
/// may catch, so reasons should be fit for a streamer to read.
pub trait Host {
    /// The points balance of `login`, or of the viewer who started the script (`None`).
    fn points_get(&mut self, login: Option<&str>) -> Result<i64, String>;
    /// Adds `delta` (may be negative) to a balance and returns the new balance.
    fn points_add(&mut self, login: Option<&str>, delta: i64) -> Result<i64, String>;
    /// A random integer in `low..=high` (`low <= high` is guaranteed by the caller).
    fn random(&mut self, low: i64, high: i64) -> i64;
    /// An OBS request.
    fn obs(&mut self, call: ObsCall) -> Result<(), String>;
    /// Queues text for text-to-speech.
    fn tts_say(&mut self, text: &str) -> Result<(), String>;
}

/// A host call as the script made it, for [`RecordingHost`] and for telling a
/// streamer what a dry run would have done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCall {
    /// `points.get(login?)`.
    PointsGet {
        /// `None`: the viewer who started the script.
        login: Option<String>,
    },
    /// `points.add(login?, delta)`.
    PointsAdd {
        /// `None`: the viewer who started the script.
        login: Option<String>,
        /// The change.
        delta: i64,
    },
    /// `random(low, high)`.
    Random {
        /// Lowest value.
        low: i64,
        /// Highest value (inclusive).
        high: i64,
    },
    /// An `obs.*` call.
    Obs(ObsCall),
    /// `tts.say(text)`.
    TtsSay {
        /// The text to speak.
        text: String,
    },
}

/// A host that does nothing: every balance is 0, `random` returns `low`, OBS and TTS
/// calls succeed without effect.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullHost;

impl Host for NullHost {
    fn points_get(&mut self, _login: Option<&str>) -> Result<i64, String> {
        Ok(0)
    }

    fn points_add(&mut self, _login: Option<&str>, delta: i64) -> Result<i64, String> {
        Ok(delta)
    }

    fn random(&mut self, low: i64, _high: i64) -> i64 {
        low
    }

    fn obs(&mut self, _call: ObsCall) -> Result<(), String> {
        Ok(())
    }

    fn tts_say(&mut self, _text: &str) -> Result<(), String> {
        Ok(())
    }
}

/// A host for tests and dry runs (`roadie scripts test`): keeps balances in memory,
/// records every call in order and draws random numbers from a seeded generator, so
/// a run is repeatable.
#[derive(Debug, Clone)]
pub struct RecordingHost {
    /// The login `None` stands for in points calls.
    pub caller: String,
    /// Balances by login; a missing login has 0.
    pub balances: BTreeMap<String, i64>,
    /// Every call, in order.
    pub calls: Vec<HostCall>,
    /// When set, `points_add` fails with this reason (to test error handling).
    pub fail_points: Option<String>,
    rng: u64,
}

impl RecordingHost {
    /// A host whose caller is `caller`, with every balance 0 and a fixed seed.
    pub fn new(caller: impl Into<String>) -> Self {
        Self::with_seed(caller, 0x5eed)
    }

    /// Like [`RecordingHost::new`] with another random seed.
    pub fn with_seed(caller: impl Into<String>, seed: u64) -> Self {
        Self {
            caller: caller.into(),
            balances: BTreeMap::new(),
            calls: Vec::new(),
            fail_points: None,
            // xorshift must not start from 0 (it would stay 0).
            rng: seed | 1,
        }
    }

    fn key(&self, login: Option<&str>) -> String {
        login.unwrap_or(&self.caller).to_ascii_lowercase()
    }
}

impl Host for RecordingHost {
    fn points_get(&mut self, login: Option<&str>) -> Result<i64, String> {
        self.calls.push(HostCall::PointsGet {
            login: login.map(str::to_owned),
        });
        Ok(self.balances.get(&self.key(login)).copied().unwrap_or(0))
    }

    fn points_add(&mut self, login: Option<&str>, delta: i64) -> Result<i64, String> {
        self.calls.push(HostCall::PointsAdd {
            login: login.map(str::to_owned),
            delta,
        });
        if let Some(reason) = &self.fail_points {
            return Err(reason.clone());
        }
        let key = self.key(login);
        let balance = self.balances.entry(key).or_insert(0);
        let new = balance
            .checked_add(delta)
            .ok_or_else(|| "that many points do not fit".to_owned())?;
        if new < 0 {
            return Err(format!("not enough points (balance {balance})"));
        }
        *balance = new;
        Ok(new)
    }

    fn random(&mut self, low: i64, high: i64) -> i64 {
        self.calls.push(HostCall::Random { low, high });
        // xorshift64: not for secrets, only repeatable dice for tests and dry runs.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The span of two i64 can exceed i64::MAX, so compute it in i128.
        let span = (i128::from(high) - i128::from(low) + 1).max(1);
        let offset = i128::from(self.rng) % span;
        i64::try_from(i128::from(low) + offset).unwrap_or(low)
    }

    fn obs(&mut self, call: ObsCall) -> Result<(), String> {
        self.calls.push(HostCall::Obs(call));
        Ok(())
    }

    fn tts_say(&mut self, text: &str) -> Result<(), String> {
        self.calls.push(HostCall::TtsSay {
            text: text.to_owned(),
        });
        Ok(())
    }
}
