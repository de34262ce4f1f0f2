//! The quota planner over a simulated day: polling at YouTube's interval would spend
//! the budget many times over; paced, the day's spending stays inside it, polls are
//! never closer than YouTube asks, and a warning says polling was slowed.

use std::time::Duration;

use roadie_core::Timestamp;
use roadie_platform_youtube::QuotaCosts;
use roadie_platform_youtube::quota::{PollPlan, QuotaPlanner, next_reset};

const MINUTE: i64 = 60_000;

struct Day {
    spent: u32,
    polls: u32,
    viewer_polls: u32,
    closest: Duration,
    viewer_spacing: Duration,
    warnings: Vec<String>,
    halted_at: Option<Timestamp>,
}

/// Runs the adapter's loop shape against the planner from `start` to `end`: a chat
/// poll, the viewer polls that fell due, then the planned wait.
fn simulate(
    planner: &mut QuotaPlanner,
    start: Timestamp,
    end: Timestamp,
    interval: Duration,
    viewers_every: Duration,
) -> Day {
    let costs = QuotaCosts::default();
    let mut day = Day {
        spent: 0,
        polls: 0,
        viewer_polls: 0,
        closest: Duration::MAX,
        viewer_spacing: Duration::ZERO,
        warnings: Vec::new(),
        halted_at: None,
    };
    let mut now = start;
    let mut next_viewers = start;
    let mut next_poll = start;
    while now < end {
        if now >= next_viewers {
            // As the adapter does: at the planner's viewer spacing.
            next_viewers = match planner.viewer_spacing() {
                Some(spacing) => {
                    day.viewer_spacing = day.viewer_spacing.max(spacing);
                    Timestamp(now.0 + spacing.as_millis() as i64)
                }
                None => Timestamp(now.0 + viewers_every.as_millis() as i64),
            };
            if planner.affordable_outside_reserve(costs.videos_list, now) {
                planner.spend(costs.videos_list, now);
                day.spent += costs.videos_list;
                day.viewer_polls += 1;
            }
        }
        if now >= next_poll {
            planner.spend(costs.messages_list, now);
            day.spent += costs.messages_list;
            day.polls += 1;
            let plan = planner.plan_poll(interval, true, now);
            if let Some(warning) = planner.take_new_warning() {
                day.warnings.push(warning);
            }
            match plan {
                PollPlan::After(wait) => {
                    day.closest = day.closest.min(wait);
                    next_poll = Timestamp(now.0 + wait.as_millis() as i64);
                }
                PollPlan::Halt(until) => {
                    day.halted_at = Some(now);
                    next_poll = until;
                }
            }
        }
        now = next_poll.min(next_viewers);
    }
    day
}

#[test]
fn a_full_day_of_polling_stays_inside_the_budget_and_warns() {
    // A quota day starts at midnight Pacific: 08:00 UTC on 2026-01-15.
    let start = Timestamp(1_768_464_000_000);
    assert_eq!(next_reset(Timestamp(start.0 - 1)), start);
    let reset = next_reset(start);
    assert_eq!(reset.0 - start.0, 24 * 60 * MINUTE);
    let interval = Duration::from_secs(1);
    // Naively, one poll a second is 86,400 polls, 432,000 units: 43 times the budget.
    let mut planner = QuotaPlanner::new(
        10_000,
        QuotaCosts::default(),
        500,
        Duration::from_secs(60),
        None,
        start,
    );
    let day = simulate(
        &mut planner,
        start,
        Timestamp(reset.0 - 1),
        interval,
        Duration::from_secs(60),
    );
    assert!(day.spent <= 10_000, "spent {} of 10000", day.spent);
    assert_eq!(planner.status().used, day.spent);
    // The budget is used, not hoarded: most of it goes to chat.
    assert!(day.spent >= 9_000, "only {} spent", day.spent);
    assert!(day.polls > 1_500, "{} polls", day.polls);
    // Viewers get at most 15% of what is left: about one poll a minute still.
    assert!(
        day.viewer_polls > 1_300,
        "{} viewer polls",
        day.viewer_polls
    );
    assert!(
        day.viewer_spacing < Duration::from_secs(75),
        "viewers every {:?}",
        day.viewer_spacing
    );
    assert!(day.closest >= interval);
    assert!(day.halted_at.is_none(), "chat never went dark");
    assert_eq!(day.warnings.len(), 1, "warned once: {:?}", day.warnings);
    assert!(
        day.warnings[0].contains("polling YouTube chat every")
            && day.warnings[0].contains("instead of every 1 s"),
        "{}",
        day.warnings[0]
    );
    // The send reserve is still there.
    assert!(planner.status().remaining >= 500);
    // A new day starts afresh.
    assert!(planner.roll(reset));
    assert_eq!(planner.status().used, 0);
    assert!(planner.status().warning.is_none());
}

#[test]
fn starting_late_in_the_day_polls_faster_and_a_short_horizon_faster_still() {
    let midnight = Timestamp(1_768_464_000_000);
    let evening = Timestamp(midnight.0 + 20 * 60 * MINUTE);
    let interval = Duration::from_secs(2);
    let mut planner = QuotaPlanner::new(
        10_000,
        QuotaCosts::default(),
        500,
        Duration::from_secs(60),
        None,
        evening,
    );
    let PollPlan::After(until_reset) = planner.plan_poll(interval, true, evening) else {
        panic!("halted");
    };
    // Four hours left: (10000 - 500 - 240) / 5 = 1852 polls in 14,400 s.
    assert_eq!(
        until_reset,
        Duration::from_millis(14_400_000_u64.div_ceil(1852))
    );
    let mut planner = QuotaPlanner::new(
        10_000,
        QuotaCosts::default(),
        500,
        Duration::from_secs(60),
        Some(Duration::from_secs(3600)),
        evening,
    );
    let PollPlan::After(one_hour) = planner.plan_poll(interval, true, evening) else {
        panic!("halted");
    };
    assert_eq!(
        one_hour,
        Duration::from_secs(2),
        "an hour's plan affords YouTube's pace"
    );
    assert!(planner.status().warning.is_none());
}

#[test]
fn a_spent_budget_halts_until_the_reset_and_quota_exceeded_wins() {
    let start = Timestamp(1_768_464_000_000);
    let mut planner = QuotaPlanner::new(
        100,
        QuotaCosts::default(),
        20,
        Duration::from_secs(60),
        None,
        start,
    );
    planner.spend(78, start);
    // 22 left, 20 reserved: not one more 5-unit poll.
    assert_eq!(
        planner.plan_poll(Duration::from_secs(1), false, start),
        PollPlan::Halt(next_reset(start))
    );
    let status = planner.status();
    assert!(status.exhausted);
    assert!(status.warning.unwrap().contains("kept for sending chat"));
    // Sending may still use the reserve.
    assert!(planner.affordable(20, 0, start));
    let later = Timestamp(start.0 + 60 * MINUTE);
    assert!(planner.halted(later));
    assert!(!planner.halted(next_reset(start)));

    let mut planner = QuotaPlanner::new(
        10_000,
        QuotaCosts::default(),
        500,
        Duration::from_secs(60),
        None,
        start,
    );
    planner.exhaust(start);
    let status = planner.status();
    assert!(status.exhausted && status.remaining == 0);
    assert!(status.warning.unwrap().contains("08:00 UTC"));
    assert!(!planner.affordable(1, 0, start));
}
