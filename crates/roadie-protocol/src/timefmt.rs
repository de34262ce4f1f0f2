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
}
