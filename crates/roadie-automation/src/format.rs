//! Human renderings of durations and times for chat replies, calendar-free: wall time
//! arrives as a Unix-millisecond `Timestamp` and is never read from a clock here.

use roadie_core::Timestamp;
use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
// Average Gregorian year and month, so twelve months make a year and ages do not
// drift by a day per month the way 30-day months would.
const YEAR: u64 = 365 * DAY + 6 * HOUR;
const MONTH: u64 = YEAR / 12;

/// Stream uptime: `2h 5m` from an hour on, `5m` from a minute, `42s` below that.
pub fn uptime(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let (hours, minutes) = (secs / HOUR, secs % HOUR / MINUTE);
    if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{secs}s")
    }
}

/// A long span such as a follow age: `1y 2mo 3d`, zero parts left out, `0d` below a
/// day. Years and months are average lengths (365.25 days, a twelfth of that), since
/// the span alone does not say which calendar months it covered.
pub fn age(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let (years, rest) = (secs / YEAR, secs % YEAR);
    let (months, rest) = (rest / MONTH, rest % MONTH);
    let days = rest / DAY;
    let mut parts = Vec::new();
    if years > 0 {
        parts.push(format!("{years}y"));
    }
    if months > 0 {
        parts.push(format!("{months}mo"));
    }
    if days > 0 || parts.is_empty() {
        parts.push(format!("{days}d"));
    }
    parts.join(" ")
}

/// The time of day of `at` as `HH:MM UTC`.
pub fn clock(at: Timestamp) -> String {
    const DAY_MS: i64 = 86_400_000;
    // Euclidean remainder so instants before 1970 still give a time of day in 0..24h.
    let of_day = at.unix_ms().rem_euclid(DAY_MS) / 1000;
    format!("{:02}:{:02} UTC", of_day / 3600, of_day % 3600 / 60)
}

/// `text` cut to at most `max` characters (Unicode scalar values), on a character
/// boundary.
pub fn truncate_chars(text: &mut String, max: usize) {
    if let Some((cut, _)) = text.char_indices().nth(max) {
        text.truncate(cut);
    }
}
