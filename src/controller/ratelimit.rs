//! Client-side rate limits, counted the way the cloud counts them: per account, region and
//! action. A token bucket per key; a caller waits for its token rather than being refused,
//! so a burst of reconciles turns into a steady stream instead of throttling errors.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Who is counted: the access key (account), the region and the action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bucket {
    pub access_key_id: String,
    pub region_id: String,
    pub action: &'static str,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    updated: Instant,
}

/// Token buckets of `per_second` calls, holding at most `per_second` tokens (one second's
/// burst).
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    buckets: Mutex<HashMap<Bucket, State>>,
}

impl RateLimiter {
    /// `per_second` must be positive; the command line checks it.
    pub fn new(per_second: f64) -> Self {
        RateLimiter {
            per_second: per_second.max(0.001),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a call in `bucket` may be made, and takes its token.
    pub async fn acquire(&self, bucket: Bucket) {
        loop {
            let wait = self.try_take(&bucket, Instant::now());
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Takes a token if one is there (`None`), or says how long until one is.
    fn try_take(&self, bucket: &Bucket, now: Instant) -> Option<Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = buckets.entry(bucket.clone()).or_insert(State {
            tokens: self.per_second,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(state.updated).as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.per_second).min(self.per_second.max(1.0));
        state.updated = now;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64(
                (1.0 - state.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(action: &'static str) -> Bucket {
        Bucket {
            access_key_id: "LTAI".into(),
            region_id: "cn-hangzhou".into(),
            action,
        }
    }

    #[test]
    fn a_burst_then_a_steady_rate_per_bucket() {
        let limiter = RateLimiter::new(5.0);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.try_take(&bucket("A"), start), None);
        }
        let wait = limiter
            .try_take(&bucket("A"), start)
            .expect("the sixth call waits");
        assert!(
            wait > Duration::from_millis(150) && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        // Other actions are counted apart.
        assert_eq!(limiter.try_take(&bucket("B"), start), None);
        // A fifth of a second later, one more token is there.
        assert_eq!(
            limiter.try_take(&bucket("A"), start + Duration::from_millis(200)),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_for_a_token() {
        let limiter = RateLimiter::new(2.0);
        let start = Instant::now();
        for _ in 0..4 {
            limiter.acquire(bucket("A")).await;
        }
        assert!(
            Instant::now() - start >= Duration::from_millis(1000),
            "two tokens a second"
        );
    }
}
