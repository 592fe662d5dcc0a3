//! Per-object retry delays: growing with each consecutive failure of the same object,
//! reset by a success, jittered so that many objects failing together do not retry in step.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use crate::cloud::ErrorKind;

/// The first delay and the ceiling for one kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curve {
    pub base: Duration,
    pub cap: Duration,
}

impl Curve {
    /// `base * 2^(failures-1)`, capped.
    pub fn delay(self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(20);
        self.base.saturating_mul(1u32 << exponent).min(self.cap)
    }
}

/// How fast to retry each kind of failure (CONTRACT.md, "Errors from the cloud").
pub fn curve_for(kind: ErrorKind) -> Curve {
    let seconds = Duration::from_secs;
    match kind {
        // The key is changing state, a 5xx, a timeout: soon, then exponentially.
        ErrorKind::Transient => Curve {
            base: seconds(1),
            cap: seconds(300),
        },
        // The circuit's state forbids the call: a longer wait.
        ErrorKind::Slow => Curve {
            base: seconds(30),
            cap: seconds(900),
        },
        // Flow control: the client-side limiter already spaces calls out and the server's
        // hint sets the floor, so the curve stays short; a long one would stall every
        // binding behind a busy account for minutes.
        ErrorKind::Throttled { .. } => Curve {
            base: seconds(1),
            cap: seconds(10),
        },
        // A person must act: slow retries, so a fix (a corrected Secret, which is not
        // watched) is picked up within five minutes without a hot loop.
        ErrorKind::Credentials | ErrorKind::Permanent => Curve {
            base: seconds(30),
            cap: seconds(300),
        },
        // Waiting for the cloud to settle (a deletion not yet confirmed, a key in flux).
        ErrorKind::KeyAbsent | ErrorKind::CircuitNotFound => Curve {
            base: seconds(2),
            cap: seconds(60),
        },
    }
}

/// Adds up to +20% at random, so retries spread out.
pub fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(1.0 + 0.2 * rand::random::<f64>())
}

/// Consecutive failures per object, and the curve they were on: a failure of another
/// kind starts its own curve from the beginning, so nine throttled calls do not make the
/// first 5xx wait minutes.
#[derive(Debug)]
pub struct Backoff<K> {
    failures: Mutex<HashMap<K, (Curve, u32)>>,
}

impl<K: Eq + Hash + Clone> Default for Backoff<K> {
    fn default() -> Self {
        Backoff {
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> Backoff<K> {
    /// Records one more failure of `key` and returns the delay before its retry: the
    /// curve's delay for the failure count, never below the server's hint when there is one.
    pub fn next_delay(&self, key: &K, kind: ErrorKind) -> Duration {
        let failures = {
            let mut map = self
                .failures
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let curve = curve_for(kind);
            let entry = map.entry(key.clone()).or_insert((curve, 0));
            if entry.0 != curve {
                *entry = (curve, 0);
            }
            entry.1 = entry.1.saturating_add(1);
            entry.1
        };
        let delay = jittered(curve_for(kind).delay(failures));
        match kind {
            ErrorKind::Throttled {
                retry_after: Some(hint),
            } => delay.max(hint),
            _ => delay,
        }
    }

    /// Forgets the failures of `key` after a success.
    pub fn reset(&self, key: &K) {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_per_object_and_reset_on_success() {
        let backoff = Backoff::<&str>::default();
        let first = backoff.next_delay(&"a", ErrorKind::Transient);
        let second = backoff.next_delay(&"a", ErrorKind::Transient);
        let third = backoff.next_delay(&"a", ErrorKind::Transient);
        assert!(
            first >= Duration::from_secs(1) && first <= Duration::from_millis(1200),
            "{first:?}"
        );
        assert!(
            second >= Duration::from_secs(2) && second <= Duration::from_millis(2400),
            "{second:?}"
        );
        assert!(third >= Duration::from_secs(4), "{third:?}");
        // Another object starts from the beginning.
        assert!(backoff.next_delay(&"b", ErrorKind::Transient) <= Duration::from_millis(1200));
        backoff.reset(&"a");
        assert!(backoff.next_delay(&"a", ErrorKind::Transient) <= Duration::from_millis(1200));
    }

    #[test]
    fn another_kind_of_failure_starts_its_own_curve() {
        let backoff = Backoff::<&str>::default();
        for _ in 0..9 {
            backoff.next_delay(&"a", ErrorKind::Throttled { retry_after: None });
        }
        let after_switch = backoff.next_delay(&"a", ErrorKind::Transient);
        assert!(
            after_switch <= Duration::from_millis(1200),
            "{after_switch:?}"
        );
    }

    #[test]
    fn delays_are_capped_and_honour_the_server_hint() {
        assert_eq!(
            curve_for(ErrorKind::Transient).delay(50),
            Duration::from_secs(300)
        );
        assert_eq!(curve_for(ErrorKind::Slow).delay(1), Duration::from_secs(30));
        let backoff = Backoff::<u8>::default();
        let hint = Duration::from_secs(40);
        let delay = backoff.next_delay(
            &1,
            ErrorKind::Throttled {
                retry_after: Some(hint),
            },
        );
        assert!(delay >= hint, "{delay:?}");
    }
}
