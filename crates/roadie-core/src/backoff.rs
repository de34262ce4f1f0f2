//! Reconnect delays: exponential backoff with jitter, for every connection Roadie
//! keeps up (Twitch EventSub, Kick's Pusher feed, OBS). Pure: the random bits are a
//! parameter.

use std::time::Duration;

/// The delay before reconnect attempt number `failures` (1-based): `initial * 2^(n-1)`
/// capped at `max`, scaled by a factor in [0.5, 1.0) taken from `random`, so clients
/// dropped together do not all come back at the same moment.
pub fn backoff_delay(initial: Duration, max: Duration, failures: u32, random: u64) -> Duration {
    let exponent = failures.saturating_sub(1).min(24);
    let base = initial.saturating_mul(1u32 << exponent).min(max);
    // 512..1024 parts of 1024, in integers: no float rounding or panic at any size.
    let parts = 512 + u32::try_from(random % 512).unwrap_or(0);
    base.saturating_mul(parts) / 1024
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn doubles_from_initial_up_to_max_with_jitter() {
        let (initial, max) = (ms(250), Duration::from_secs(30));
        assert_eq!(
            backoff_delay(initial, max, 1, 511),
            Duration::from_nanos(249_755_859)
        );
        assert_eq!(backoff_delay(initial, max, 1, 0), ms(125));
        assert_eq!(backoff_delay(initial, max, 2, 0), ms(250));
        assert_eq!(backoff_delay(initial, max, 3, 0), ms(500));
        assert_eq!(backoff_delay(initial, max, 40, 0), Duration::from_secs(15));
        assert_eq!(
            backoff_delay(initial, max, u32::MAX, 0),
            Duration::from_secs(15)
        );
        assert_eq!(
            backoff_delay(initial, max, 0, 0),
            ms(125),
            "0 counts as the first"
        );
        assert_ne!(
            backoff_delay(initial, max, 8, 1),
            backoff_delay(initial, max, 8, 300)
        );
    }

    proptest! {
        #[test]
        fn always_between_half_and_all_of_the_capped_base(
            initial_ms in 0u64..100_000,
            max_ms in 0u64..10_000_000,
            failures in any::<u32>(),
            random in any::<u64>(),
        ) {
            let (initial, max) = (ms(initial_ms), ms(max_ms));
            let exponent = failures.saturating_sub(1).min(24);
            let base = initial.saturating_mul(1u32 << exponent).min(max);
            let delay = backoff_delay(initial, max, failures, random);
            prop_assert!(delay <= base);
            prop_assert!(delay >= base / 2);
        }
    }
}
