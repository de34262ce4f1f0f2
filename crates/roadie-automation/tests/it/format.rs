//! Duration and time renderings.

use roadie_automation::format::{age, clock, truncate_chars, uptime};
use roadie_core::Timestamp;
use std::time::Duration;

#[test]
fn renderings() {
    assert_eq!(uptime(Duration::ZERO), "0s");
    assert_eq!(uptime(Duration::from_secs(59)), "59s");
    assert_eq!(uptime(Duration::from_secs(60)), "1m");
    let max = u64::MAX;
    assert_eq!(
        uptime(Duration::MAX),
        format!("{}h {}m", max / 3600, max % 3600 / 60)
    );
    assert_eq!(age(Duration::ZERO), "0d");
    assert_eq!(age(Duration::from_secs(86_400 * 365 + 21_600)), "1y");
    assert_eq!(clock(Timestamp(60_000 * 61)), "01:01 UTC");

    let mut text = String::from("héllo");
    truncate_chars(&mut text, 2);
    assert_eq!(text, "hé");
    let mut text = String::from("ab");
    truncate_chars(&mut text, 5);
    assert_eq!(text, "ab");
}
