//! Keeping long-lived tasks alive: a panic (a bug; bad input must never cause one) would
//! otherwise end a task silently while `status` still shows it healthy.

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;

/// A run at least this long starts the crash count again.
const CRASH_COUNT_RESET: Duration = Duration::from_secs(600);

/// Runs the task `start` makes until it returns or `stopped` turns true. When it
/// panics it is logged, `on_crash` is told why and how long until the restart, and a
/// fresh one is started after a pause that grows with each crash in a row (about 1 s up
/// to 60 s; a run of ten minutes starts the count again).
pub async fn restart_on_panic<F, Fut>(
    name: &str,
    mut start: F,
    mut stopped: watch::Receiver<bool>,
    mut on_crash: impl FnMut(String, Duration),
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut crashes = 0u32;
    loop {
        let started = tokio::time::Instant::now();
        let Err(panic) = std::panic::AssertUnwindSafe(start()).catch_unwind().await else {
            return;
        };
        if *stopped.borrow() {
            return;
        }
        crashes = if started.elapsed() >= CRASH_COUNT_RESET {
            1
        } else {
            crashes.saturating_add(1)
        };
        let reason = crate::logging::panic_message(panic.as_ref());
        let delay = roadie_platform::reconnect_delay(
            Duration::from_secs(1),
            Duration::from_secs(60),
            crashes,
        );
        tracing::error!(
            task = name,
            %reason,
            crashes,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "crashed (a bug in Roadie); starting it again"
        );
        on_crash(reason, delay);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}
