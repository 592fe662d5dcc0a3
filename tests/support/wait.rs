//! Waiting on a condition with a deadline, instead of sleeping for a guessed time.

use std::time::{Duration, Instant};

/// Polls `check` until it returns `Some`, or panics with `what` and the last observation
/// once `timeout` has passed.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    let mut poll = Duration::from_millis(50);
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => {
                std::thread::sleep(poll);
                poll = (poll * 2).min(Duration::from_millis(500));
            }
        }
    }
}
