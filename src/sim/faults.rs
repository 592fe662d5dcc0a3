//! Faults on demand: latency, a share of throttled calls, a share of internal errors, an
//! unstable window after each change, and errors forced for the next calls of an action.
//! Shares are injected deterministically, so a test sees the same calls fail every run.

use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::cli::SimArgs;

use super::error::ApiError;

/// The fault settings, from the flags at start and replaced at run time through
/// `PUT /_sim/faults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultSettings {
    pub latency_ms: u64,
    /// After a change succeeded, how long its answer is held back: the cloud has done the
    /// work but the caller has not heard yet (lets a test stop the operator in that gap).
    pub response_delay_ms: u64,
    pub throttle_share: f64,
    pub error_share: f64,
    pub unstable_window_ms: u64,
    pub forced_errors: Vec<ForcedError>,
}

/// The next `count` calls of `action` fail with `code` and `http_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForcedError {
    pub action: String,
    pub code: String,
    #[serde(default = "ForcedError::default_status")]
    pub http_status: u16,
    #[serde(default = "ForcedError::default_count")]
    pub count: u32,
}

impl ForcedError {
    fn default_status() -> u16 {
        400
    }

    fn default_count() -> u32 {
        1
    }
}

impl FaultSettings {
    pub fn from_args(args: &SimArgs) -> Self {
        let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        FaultSettings {
            latency_ms: millis(args.latency),
            response_delay_ms: 0,
            throttle_share: args.throttle_share,
            error_share: args.error_share,
            unstable_window_ms: millis(args.unstable_window),
            forced_errors: Vec::new(),
        }
    }

    /// Why the settings cannot be used, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        for (name, share) in [
            ("throttleShare", self.throttle_share),
            ("errorShare", self.error_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{name} must be between 0 and 1, not {share}"));
            }
        }
        for forced in &self.forced_errors {
            if forced.action.is_empty() || forced.code.is_empty() {
                return Err("forcedErrors need an action and a code".to_owned());
            }
            if forced.count == 0 {
                return Err("forcedErrors count must be at least 1".to_owned());
            }
            if !(400..=599).contains(&forced.http_status) {
                return Err(format!(
                    "forcedErrors httpStatus must be 400 to 599, not {}",
                    forced.http_status
                ));
            }
        }
        Ok(())
    }
}

/// Which calls a share hits: in every block of [`ShareSchedule::BLOCK`] calls exactly
/// `share * BLOCK` (rounded) are hit, at places shuffled by a fixed-seed generator. The
/// count is exact and the run repeats, yet the hits follow no fixed period, so a client
/// whose calls come in pairs is not always hit on the same one of the pair.
#[derive(Debug)]
pub struct ShareSchedule {
    block: Vec<bool>,
    next: usize,
    rng: u64,
}

impl Default for ShareSchedule {
    fn default() -> Self {
        ShareSchedule {
            block: Vec::new(),
            next: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl ShareSchedule {
    pub const BLOCK: usize = 20;

    pub fn hit(&mut self, share: f64) -> bool {
        if self.next >= self.block.len() {
            self.refill(share);
        }
        let hit = self.block[self.next];
        self.next += 1;
        hit
    }

    fn refill(&mut self, share: f64) {
        // The cast saturates; validation keeps the share within 0..=1 anyway.
        let hits = (share.clamp(0.0, 1.0) * Self::BLOCK as f64).round() as usize;
        self.block = (0..Self::BLOCK).map(|i| i < hits).collect();
        // Fisher-Yates with xorshift64: deterministic, no dependency.
        for i in (1..Self::BLOCK).rev() {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let j = (self.rng % (i as u64 + 1)) as usize;
            self.block.swap(i, j);
        }
        self.next = 0;
    }
}

/// The faults in force and where the shares stand.
#[derive(Debug, Default)]
pub struct Faults {
    settings: FaultSettings,
    throttle: ShareSchedule,
    error: ShareSchedule,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Self {
        Faults {
            settings,
            ..Faults::default()
        }
    }

    pub fn settings(&self) -> &FaultSettings {
        &self.settings
    }

    /// Replaces the settings and starts the shares afresh, so a test knows which calls fail.
    pub fn replace(&mut self, settings: FaultSettings) {
        *self = Faults::new(settings);
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.settings.latency_ms)
    }

    pub fn response_delay(&self) -> Duration {
        Duration::from_millis(self.settings.response_delay_ms)
    }

    pub fn unstable_window(&self) -> SignedDuration {
        SignedDuration::from_millis(
            i64::try_from(self.settings.unstable_window_ms).unwrap_or(i64::MAX),
        )
    }

    /// The forced error this call of `action` gets, if one is pending. Forced errors are
    /// asked for explicitly, so they apply to STS too (a test can make a credential refresh
    /// fail); latency and the shares apply to signed VPC calls only.
    pub fn forced(&mut self, action: &str) -> Option<ApiError> {
        let index = self
            .settings
            .forced_errors
            .iter()
            .position(|forced| forced.action == action)?;
        let forced = &mut self.settings.forced_errors[index];
        let error = ApiError::new(
            forced.http_status,
            forced.code.clone(),
            "Injected by the simulator (forcedErrors).",
        );
        forced.count = forced.count.saturating_sub(1);
        if forced.count == 0 {
            self.settings.forced_errors.remove(index);
        }
        Some(error)
    }

    /// The error this VPC call of `action` gets instead of being served, if any. A forced
    /// error comes first; then throttling, then an internal error. Both shares count every
    /// call, so each keeps its rate whatever the other does.
    pub fn inject(&mut self, action: &str) -> Option<ApiError> {
        if let Some(error) = self.forced(action) {
            return Some(error);
        }
        let throttled = self.throttle.hit(self.settings.throttle_share);
        let failed = self.error.hit(self.settings.error_share);
        if throttled {
            Some(ApiError::throttled())
        } else if failed {
            Some(ApiError::internal())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(share: f64, calls: usize) -> Vec<usize> {
        let mut schedule = ShareSchedule::default();
        (1..=calls).filter(|_| schedule.hit(share)).collect()
    }

    #[test]
    fn shares_hit_an_exact_count_in_every_block_without_a_period() {
        assert_eq!(hits(0.0, 40), Vec::<usize>::new());
        assert_eq!(hits(1.0, 3), vec![1, 2, 3]);
        for share in [0.1, 0.25, 0.5] {
            let all = hits(share, 200);
            for block in 0..10 {
                let range = block * 20 + 1..=block * 20 + 20;
                let count = all.iter().filter(|call| range.contains(*call)).count();
                assert_eq!(
                    count,
                    (share * 20.0) as usize,
                    "share {share}, block {block}"
                );
            }
        }
        // Half the calls, but not simply every second one.
        let half = hits(0.5, 40);
        assert_ne!(half, (1..=20).map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(hits(0.5, 40), half, "the same run every time");
    }

    #[test]
    fn forced_errors_come_first_and_run_out() {
        let forced = ForcedError {
            action: "AssociateMacSecKey".into(),
            code: "Forbidden.RAM".into(),
            http_status: 403,
            count: 2,
        };
        let mut faults = Faults::new(FaultSettings {
            forced_errors: vec![forced],
            ..FaultSettings::default()
        });
        assert_eq!(faults.inject("DescribePhysicalConnections"), None);
        for _ in 0..2 {
            let error = faults
                .inject("AssociateMacSecKey")
                .map(|error| (error.code, error.http_status));
            assert_eq!(error, Some(("Forbidden.RAM".to_owned(), 403)));
        }
        assert_eq!(faults.inject("AssociateMacSecKey"), None);
        assert!(faults.settings().forced_errors.is_empty());
    }

    #[test]
    fn throttling_wins_when_both_shares_hit() {
        let mut faults = Faults::new(FaultSettings {
            throttle_share: 0.5,
            error_share: 1.0,
            ..FaultSettings::default()
        });
        let codes: Vec<String> = (0..ShareSchedule::BLOCK)
            .filter_map(|_| faults.inject("X"))
            .map(|error| error.code)
            .collect();
        // Every call fails; where both shares hit, it is throttling.
        assert_eq!(codes.len(), ShareSchedule::BLOCK);
        let throttled = codes
            .iter()
            .filter(|code| *code == "Throttling.User")
            .count();
        assert_eq!(throttled, ShareSchedule::BLOCK / 2);
        assert!(
            codes
                .iter()
                .all(|code| code == "Throttling.User" || code == "InternalError")
        );
    }

    #[test]
    fn settings_are_validated() {
        assert!(
            FaultSettings {
                error_share: 1.5,
                ..FaultSettings::default()
            }
            .validate()
            .is_err()
        );
        let forced = ForcedError {
            action: "A".into(),
            code: "C".into(),
            http_status: 200,
            count: 1,
        };
        assert!(
            FaultSettings {
                forced_errors: vec![forced],
                ..FaultSettings::default()
            }
            .validate()
            .is_err()
        );
        let json = r#"{"latencyMs": 5, "forcedErrors": [{"action": "A", "code": "C"}]}"#;
        let parsed: FaultSettings = serde_json::from_str(json).unwrap();
        assert_eq!(
            (
                parsed.latency_ms,
                parsed.forced_errors[0].http_status,
                parsed.forced_errors[0].count
            ),
            (5, 400, 1)
        );
        assert!(serde_json::from_str::<FaultSettings>(r#"{"latency": 5}"#).is_err());
    }
}
