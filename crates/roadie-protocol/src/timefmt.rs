//! RFC 3339 UTC timestamps with millisecond precision, the API's time format.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Formats Unix milliseconds as `2026-11-26T10:00:00.123Z`.
pub fn format_ms(unix_ms: i64) -> String {
    let nanos = i128::from(unix_ms) * 1_000_000;
    let Ok(moment) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::from("1970-01-01T00:00:00.000Z");
    };
    let layout =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    moment
        .format(layout)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000Z"))
}

/// The last millisecond of year 9999: four-digit years fit the fixed-width fast path.
const LAST_FOUR_DIGIT_YEAR_MS: i64 = 253_402_300_799_999;

/// Appends Unix milliseconds formatted as [`format_ms`] does, without allocating for
/// the years 1970 to 9999 (every event's): this runs once per event fanned out.
pub fn push_ms(out: &mut String, unix_ms: i64) {
    if !(0..=LAST_FOUR_DIGIT_YEAR_MS).contains(&unix_ms) {
        out.push_str(&format_ms(unix_ms));
        return;
    }
    let (year, month, day) = civil_from_days(unix_ms / 86_400_000);
    let of_day = unix_ms % 86_400_000;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: i64| {
        for slot in text[at..at + width].iter_mut().rev() {
            // value % 10 is a single digit, so the cast keeps it exactly.
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, of_day / 3_600_000);
    put(14, 2, of_day / 60_000 % 60);
    put(17, 2, of_day / 1000 % 60);
    put(20, 3, of_day % 1000);
    out.push_str(std::str::from_utf8(&text).unwrap_or("1970-01-01T00:00:00.000Z"));
}

/// Year, month and day of a count of days since 1970-01-01 (days >= 0), after Howard
/// Hinnant's `civil_from_days` (proleptic Gregorian calendar, 400-year eras).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_based_month + 2) / 5 + 1;
    let month = if march_based_month < 10 {
        march_based_month + 3
    } else {
        march_based_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses an RFC 3339 timestamp (any offset, up to nanoseconds) into Unix milliseconds.
pub fn parse_ms(text: &str) -> Option<i64> {
    let moment = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(format_ms(1_764_151_200_123), "2025-11-26T10:00:00.123Z");
        assert_eq!(
            parse_ms("2025-11-26T10:00:00.123Z"),
            Some(1_764_151_200_123)
        );
        assert_eq!(
            parse_ms("2023-07-19T14:56:51.634234626Z"),
            Some(1_689_778_611_634)
        );
        assert_eq!(parse_ms("yesterday"), None);
    }

    fn pushed(unix_ms: i64) -> String {
        let mut out = String::from(">");
        push_ms(&mut out, unix_ms);
        out
    }

    #[test]
    fn push_matches_format_at_the_edges() {
        for unix_ms in [
            0,
            1_764_151_200_123,
            951_782_400_000, // 2000-02-29, a 400-year leap day
            4_107_542_399_999,
            LAST_FOUR_DIGIT_YEAR_MS,
            LAST_FOUR_DIGIT_YEAR_MS + 1,
            -1,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(
                pushed(unix_ms),
                format!(">{}", format_ms(unix_ms)),
                "{unix_ms}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn push_matches_format(unix_ms in -100_000_000_000_000i64..300_000_000_000_000) {
            proptest::prop_assert_eq!(pushed(unix_ms), format!(">{}", format_ms(unix_ms)));
        }
    }
}
