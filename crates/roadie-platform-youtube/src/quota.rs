//! The daily quota budget. YouTube charges every Data API request against the Google
//! project's daily quota (10,000 units by default), which resets at midnight Pacific
//! time; `liveChatMessages.list` costs 5 units, so naive polling at YouTube's
//! `pollingIntervalMillis` (a few seconds) spends the whole day's quota within hours.
//!
//! [`QuotaPlanner`] is pure (time comes in as a parameter) so that a whole day can be
//! simulated in a test. It counts what the adapter spent, and paces chat polls so the
//! budget lasts until the planning horizon: the next reset by default, or a moving
//! horizon (`quota_horizon`). The poll spacing is
//! `max(pollingIntervalMillis, time_left / affordable_polls)`, where the affordable
//! polls are what is left after the send reserve and the viewer polls expected until
//! the horizon. Viewer polls (`videos.list`) get what they need at `viewers_every`
//! but at most 15% of what is left, and are spaced out accordingly. When not even one
//! more chat poll is affordable, polling halts until the reset; so does a
//! `quotaExceeded` answer from YouTube.
//!
//! The reset is computed with the United States daylight-saving rule (since 2007:
//! from the second Sunday of March to the first Sunday of November), so it is midnight
//! in America/Los_Angeles at 07:00 or 08:00 UTC. The count is the adapter's own: it
//! does not see other programs using the same Google project, and Google's console
//! stays the authority (a `quotaExceeded` answer always wins).

use std::time::Duration;

use roadie_core::Timestamp;
use time::{Date, Month, OffsetDateTime};

/// Quota units per Data API method. Google documents list calls at 1 unit and writes
/// at 50; `liveChatMessages.list` is widely reported at 5 and
/// `liveChatMessages.insert` at 50 or 200, hence configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaCosts {
    /// `liveBroadcasts.list` (default 1).
    pub broadcasts_list: u32,
    /// `liveChatMessages.list` (default 5).
    pub messages_list: u32,
    /// `liveChatMessages.insert` (default 50).
    pub messages_insert: u32,
    /// `videos.list` (default 1).
    pub videos_list: u32,
    /// `channels.list` (default 1).
    pub channels_list: u32,
}

impl Default for QuotaCosts {
    fn default() -> Self {
        QuotaCosts {
            broadcasts_list: 1,
            messages_list: 5,
            messages_insert: 50,
            videos_list: 1,
            channels_list: 1,
        }
    }
}

/// The quota as `roadie status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaStatus {
    /// Units spent in the current quota day (by this adapter).
    pub used: u32,
    /// The daily budget.
    pub budget: u32,
    /// Units left.
    pub remaining: u32,
    /// The current spacing of chat polls in milliseconds (the broadcast search
    /// spacing while nothing is live).
    pub interval_ms: u64,
    /// Why polling is slowed or halted, when it is.
    pub warning: Option<String>,
    /// Chat polling is halted until the reset.
    pub exhausted: bool,
    /// When the quota day ends (midnight Pacific).
    pub resets_at: Timestamp,
}

/// What to do about the next chat poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollPlan {
    /// Poll again after this long (never less than `pollingIntervalMillis`).
    After(Duration),
    /// No poll is affordable: wait for the reset at this time.
    Halt(Timestamp),
}

const HOUR_MS: i64 = 3_600_000;
/// The most of the remaining budget viewer polls may take, in percent: at the
/// defaults (10,000 units, polls every 60 s, a whole day ahead) this still allows a
/// viewer poll about every minute.
const VIEWER_SHARE_PERCENT: u64 = 15;
const DAY_MS: i64 = 24 * HOUR_MS;

fn nth_sunday(year: i32, month: Month, nth: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    let day = 1 + to_sunday + 7 * nth.saturating_sub(1);
    Date::from_calendar_date(year, month, day).ok()
}

/// Whether midnight at the start of `date` is daylight time in Los Angeles. The
/// switches happen at 02:00, so midnight of the March switch day is still standard
/// time and midnight of the November switch day is still daylight time.
fn pacific_midnight_is_daylight(date: Date) -> bool {
    match date.month() {
        Month::April
        | Month::May
        | Month::June
        | Month::July
        | Month::August
        | Month::September
        | Month::October => true,
        Month::March => nth_sunday(date.year(), Month::March, 2).is_some_and(|day| date > day),
        Month::November => {
            nth_sunday(date.year(), Month::November, 1).is_some_and(|day| date <= day)
        }
        _ => false,
    }
}

fn pacific_midnight(date: Date) -> i64 {
    let utc_midnight_ms = date.midnight().assume_utc().unix_timestamp() * 1000;
    let offset_hours = if pacific_midnight_is_daylight(date) {
        7
    } else {
        8
    };
    utc_midnight_ms + offset_hours * HOUR_MS
}

/// The first midnight in America/Los_Angeles strictly after `now`.
pub fn next_reset(now: Timestamp) -> Timestamp {
    let fallback = Timestamp(now.0.saturating_add(DAY_MS));
    let Ok(guess) = OffsetDateTime::from_unix_timestamp((now.0 - 8 * HOUR_MS).div_euclid(1000))
    else {
        return fallback;
    };
    let mut date = guess.date().previous_day().unwrap_or(guess.date());
    for _ in 0..4 {
        let midnight = pacific_midnight(date);
        if midnight > now.0 {
            return Timestamp(midnight);
        }
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    fallback
}

/// "3 h 5 min", "12 min", "40 s", "100 ms".
pub fn human_duration(milliseconds: u64) -> String {
    let seconds = milliseconds / 1000;
    if milliseconds < 1000 {
        format!("{milliseconds} ms")
    } else if seconds >= 3600 {
        format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60)
    } else if seconds >= 60 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// "midnight Pacific time (08:00 UTC)": stable text, so a status detail does not
/// change every minute.
fn reset_text(resets_at: Timestamp) -> String {
    let hour = resets_at.0.div_euclid(HOUR_MS).rem_euclid(24);
    format!("midnight Pacific time ({hour:02}:00 UTC)")
}

fn seconds_text(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis} ms")
    } else if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{:.1} s", millis as f64 / 1000.0)
    }
}

/// Counts spending and paces chat polls within the daily budget.
#[derive(Debug, Clone)]
pub struct QuotaPlanner {
    budget: u32,
    costs: QuotaCosts,
    reserve: u32,
    viewers_every: Duration,
    horizon: Option<Duration>,
    used: u32,
    resets_at: Timestamp,
    spacing: Duration,
    slowed: Option<String>,
    halted: Option<String>,
    warned: bool,
    viewer_spacing: Option<Duration>,
}

impl QuotaPlanner {
    /// A planner with nothing spent in the quota day containing `now`.
    pub fn new(
        budget: u32,
        costs: QuotaCosts,
        reserve: u32,
        viewers_every: Duration,
        horizon: Option<Duration>,
        now: Timestamp,
    ) -> QuotaPlanner {
        QuotaPlanner {
            budget,
            costs,
            reserve,
            viewers_every,
            horizon,
            used: 0,
            resets_at: next_reset(now),
            spacing: Duration::ZERO,
            slowed: None,
            halted: None,
            warned: false,
            viewer_spacing: (!viewers_every.is_zero()).then_some(viewers_every),
        }
    }

    /// The per-method costs.
    pub fn costs(&self) -> QuotaCosts {
        self.costs
    }

    /// Starts a new quota day when `now` passed the reset; true when it did.
    pub fn roll(&mut self, now: Timestamp) -> bool {
        if now < self.resets_at {
            return false;
        }
        self.used = 0;
        self.resets_at = next_reset(now);
        self.slowed = None;
        self.halted = None;
        self.warned = false;
        self.viewer_spacing = (!self.viewers_every.is_zero()).then_some(self.viewers_every);
        true
    }

    /// Records `units` spent at `now`.
    pub fn spend(&mut self, units: u32, now: Timestamp) {
        self.roll(now);
        self.used = self.used.saturating_add(units);
    }

    /// Units left in the budget (after rolling over at the reset).
    pub fn remaining(&mut self, now: Timestamp) -> u32 {
        self.roll(now);
        self.budget.saturating_sub(self.used)
    }

    /// Whether `units` can be spent and still leave `keep` units.
    pub fn affordable(&mut self, units: u32, keep: u32, now: Timestamp) -> bool {
        u64::from(self.remaining(now)) >= u64::from(units) + u64::from(keep)
    }

    /// Whether `units` can be spent without touching the send reserve.
    pub fn affordable_outside_reserve(&mut self, units: u32, now: Timestamp) -> bool {
        let keep = self.reserve;
        self.affordable(units, keep, now)
    }

    /// YouTube answered `quotaExceeded`: nothing is left until the reset, whatever
    /// this count says (other programs may share the project).
    pub fn exhaust(&mut self, now: Timestamp) {
        self.roll(now);
        self.used = self.used.max(self.budget);
        self.slowed = None;
        self.halted = Some(format!(
            "YouTube says the Google project's daily API quota is spent; chat is idle until the quota resets at {}",
            reset_text(self.resets_at)
        ));
    }

    /// Whether `units` can be spent outside the send reserve; when not, polling halts
    /// until the reset.
    pub fn guard(&mut self, units: u32, now: Timestamp) -> bool {
        if self.halted(now) {
            return false;
        }
        if self.affordable_outside_reserve(units, now) {
            return true;
        }
        if self.halted.is_none() {
            self.halted = Some(self.nearly_spent());
        }
        false
    }

    fn nearly_spent(&self) -> String {
        format!(
            "the YouTube API quota for today is nearly spent ({} of {} units used; the rest is kept for sending chat); chat reading resumes when the quota resets at {}",
            self.used,
            self.budget,
            reset_text(self.resets_at)
        )
    }

    /// Whether polling is halted until the reset (false again after it).
    pub fn halted(&mut self, now: Timestamp) -> bool {
        self.roll(now);
        self.halted.is_some()
    }

    /// When the current quota day ends.
    pub fn resets_at(&self) -> Timestamp {
        self.resets_at
    }

    /// Records the spacing of broadcast searches while nothing is live (for status).
    pub fn set_idle_spacing(&mut self, spacing: Duration) {
        self.spacing = spacing;
        self.slowed = None;
    }

    /// Plans the next chat poll after one just made at `now`, when YouTube asked for
    /// `polling_interval` between polls. `viewers`: viewer polls go on meanwhile.
    pub fn plan_poll(
        &mut self,
        polling_interval: Duration,
        viewers: bool,
        now: Timestamp,
    ) -> PollPlan {
        self.roll(now);
        if self.halted.is_some() {
            return PollPlan::Halt(self.resets_at);
        }
        let until_reset = self.resets_at.millis_since(now).max(1);
        let horizon_ms = self
            .horizon
            .map(|horizon| u64::try_from(horizon.as_millis()).unwrap_or(u64::MAX))
            .map_or(until_reset, |horizon| horizon.clamp(1, until_reset));
        let remaining = u64::from(self.budget.saturating_sub(self.used));
        let available = remaining.saturating_sub(u64::from(self.reserve));
        // Viewer polls get what they need at `viewers_every`, but at most a share of
        // what is left: reading chat comes first.
        let viewer_cost = u64::from(self.costs.videos_list);
        let (viewer_units, viewer_spacing) = if !viewers || self.viewers_every.is_zero() {
            (0, None)
        } else if viewer_cost == 0 {
            (0, Some(self.viewers_every))
        } else {
            let every = u64::try_from(self.viewers_every.as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            let wanted = horizon_ms.div_ceil(every).saturating_mul(viewer_cost);
            let units = wanted.min(available * VIEWER_SHARE_PERCENT / 100);
            let polls = units / viewer_cost;
            let spacing = (polls > 0)
                .then(|| Duration::from_millis(horizon_ms.div_ceil(polls)).max(self.viewers_every));
            (polls * viewer_cost, spacing)
        };
        self.viewer_spacing = viewer_spacing;
        let available = available.saturating_sub(viewer_units);
        let cost = u64::from(self.costs.messages_list);
        if cost == 0 {
            self.spacing = polling_interval;
            self.slowed = None;
            return PollPlan::After(polling_interval);
        }
        let polls = available / cost;
        if polls == 0 {
            self.slowed = None;
            self.viewer_spacing = None;
            self.halted = Some(self.nearly_spent());
            return PollPlan::Halt(self.resets_at);
        }
        let paced = Duration::from_millis(horizon_ms.div_ceil(polls));
        let spacing = paced.max(polling_interval);
        self.spacing = spacing;
        self.slowed = (spacing > polling_interval).then(|| {
            let until = if horizon_ms < until_reset {
                format!("for the next {}", human_duration(horizon_ms))
            } else {
                format!("until it resets at {}", reset_text(self.resets_at))
            };
            format!(
                "polling YouTube chat every {} instead of every {} so the daily API quota ({} of {} units left) lasts {until}",
                seconds_text(spacing),
                seconds_text(polling_interval),
                remaining,
                self.budget
            )
        });
        PollPlan::After(spacing)
    }

    /// How often viewers may be polled under the current plan (`None`: not at all
    /// until the next plan; at least `viewers_every`).
    pub fn viewer_spacing(&self) -> Option<Duration> {
        if self.halted.is_some() {
            return None;
        }
        self.viewer_spacing
    }

    /// A warning to log, once per quota day: the first slowdown or halt.
    pub fn take_new_warning(&mut self) -> Option<String> {
        if self.warned {
            return None;
        }
        let warning = self.halted.clone().or_else(|| self.slowed.clone())?;
        self.warned = true;
        Some(warning)
    }

    /// The figures for `roadie status`.
    pub fn status(&self) -> QuotaStatus {
        QuotaStatus {
            used: self.used,
            budget: self.budget,
            remaining: self.budget.saturating_sub(self.used),
            interval_ms: u64::try_from(self.spacing.as_millis()).unwrap_or(u64::MAX),
            warning: self.halted.clone().or_else(|| self.slowed.clone()),
            exhausted: self.halted.is_some(),
            resets_at: self.resets_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(moment: OffsetDateTime) -> Timestamp {
        Timestamp(moment.unix_timestamp() * 1000)
    }

    #[test]
    fn the_reset_is_midnight_in_los_angeles_with_daylight_saving() {
        // Winter: midnight PST is 08:00 UTC.
        assert_eq!(
            next_reset(at(datetime!(2026-01-15 12:00 UTC))),
            at(datetime!(2026-01-16 08:00 UTC))
        );
        assert_eq!(
            next_reset(at(datetime!(2026-01-15 07:59 UTC))),
            at(datetime!(2026-01-15 08:00 UTC))
        );
        // Summer: midnight PDT is 07:00 UTC.
        assert_eq!(
            next_reset(at(datetime!(2026-07-04 06:59:59 UTC))),
            at(datetime!(2026-07-04 07:00 UTC))
        );
        assert_eq!(
            next_reset(at(datetime!(2026-07-04 07:00 UTC))),
            at(datetime!(2026-07-05 07:00 UTC))
        );
        // 2026: daylight time from Sunday 8 March to Sunday 1 November.
        assert_eq!(
            next_reset(at(datetime!(2026-03-08 09:00 UTC))),
            at(datetime!(2026-03-09 07:00 UTC))
        );
        assert_eq!(
            next_reset(at(datetime!(2026-03-07 09:00 UTC))),
            at(datetime!(2026-03-08 08:00 UTC))
        );
        assert_eq!(
            next_reset(at(datetime!(2026-10-31 08:00 UTC))),
            at(datetime!(2026-11-01 07:00 UTC))
        );
        assert_eq!(
            next_reset(at(datetime!(2026-11-01 08:00 UTC))),
            at(datetime!(2026-11-02 08:00 UTC))
        );
    }

    #[test]
    fn spending_rolls_over_at_the_reset() {
        let start = at(datetime!(2026-01-15 12:00 UTC));
        let mut planner = QuotaPlanner::new(
            100,
            QuotaCosts::default(),
            0,
            Duration::from_secs(60),
            None,
            start,
        );
        planner.spend(60, start);
        assert_eq!(planner.status().remaining, 40);
        assert!(!planner.affordable(50, 0, start));
        planner.exhaust(start);
        assert!(planner.halted(start));
        assert!(planner.status().exhausted);
        let after = at(datetime!(2026-01-16 08:00 UTC));
        assert!(!planner.halted(after));
        assert_eq!(planner.status().used, 0);
        assert!(planner.affordable(100, 0, after));
    }

    #[test]
    fn polls_are_never_closer_than_youtube_asks() {
        let start = at(datetime!(2026-01-15 08:00 UTC));
        let mut planner = QuotaPlanner::new(
            u32::MAX,
            QuotaCosts::default(),
            0,
            Duration::from_secs(60),
            None,
            start,
        );
        assert_eq!(
            planner.plan_poll(Duration::from_millis(2500), true, start),
            PollPlan::After(Duration::from_millis(2500))
        );
        assert_eq!(planner.status().warning, None);
        assert!(planner.take_new_warning().is_none());
    }
}
