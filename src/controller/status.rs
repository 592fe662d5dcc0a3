//! The binding's status as the operator reports it: what it observed, and the `Ready` and
//! `Synced` conditions. Building it is pure; the reconciler writes it only when it changed,
//! so a quiet object costs no API writes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::cloud::wire::key_status;
use crate::resource::MacsecKeyBindingStatus;

pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";
/// The `Synced` reason of a binding whose CAK Secret is missing or malformed.
pub const CAK_SECRET_INVALID: &str = "CakSecretInvalid";
/// Ready reason: the key on the circuit runs another cipher suite than the binding names.
pub const CIPHER_SUITE_MISMATCH: &str = "CipherSuiteMismatch";

/// Why a binding is not ready, or why a reconcile did not sync: a CamelCase reason and a
/// message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub reason: String,
    pub message: String,
}

impl Reason {
    pub fn new(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Reason {
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// What one reconcile learnt, to be folded into the status.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The key's status as the cloud reported it (or `Absent`); `None` keeps the last known.
    pub key_status: Option<String>,
    /// `StartOn` of the key, when observed.
    pub start_on: Option<String>,
    /// `RequestId` of a mutating call made in this reconcile.
    pub request_id: Option<String>,
    /// Why the key is not ready when that is not simply its status (a conflict, a missing
    /// circuit); `None` derives readiness from the key status.
    pub not_ready: Option<Reason>,
    /// `None` when the reconcile reached the cloud without error.
    pub sync_error: Option<Reason>,
}

fn synced_of(report: &Report) -> (bool, Reason) {
    match &report.sync_error {
        None => (
            true,
            Reason::new(
                "ReconcileSuccess",
                "the last reconcile reached the cloud without error",
            ),
        ),
        Some(reason) => (false, reason.clone()),
    }
}

/// The status after `report`, starting from `current`. Conditions keep their
/// `lastTransitionTime` unless their status flips.
pub fn next_status(
    current: Option<&MacsecKeyBindingStatus>,
    generation: Option<i64>,
    report: &Report,
    now: Time,
) -> MacsecKeyBindingStatus {
    let mut status = current.cloned().unwrap_or_default();
    status.observed_generation = generation;
    if let Some(key_status) = &report.key_status {
        status.key_status = Some(key_status.clone());
        // StartOn belongs to the key observed; an absent key has none.
        status.start_on = report.start_on.clone();
    }
    if let Some(request_id) = &report.request_id {
        status.last_request_id = Some(request_id.clone());
    }

    // A reconcile that failed before it observed anything has learnt nothing about
    // readiness: the Ready condition stays as the last observation left it (a reason such
    // as CipherSuiteMismatch is not derivable from the stored key status alone).
    let observed_nothing = report.key_status.is_none() && report.not_ready.is_none();
    if observed_nothing && condition(&status, READY).is_some() {
        let synced = synced_of(report);
        set_condition(&mut status.conditions, SYNCED, synced, generation, &now);
        return status;
    }
    let ready = match (&report.not_ready, status.key_status.as_deref()) {
        (Some(reason), _) => (false, reason.clone()),
        (None, Some(key_status::ASSOCIATED)) => (
            true,
            Reason::new("Associated", "the key is associated on the circuit"),
        ),
        (None, Some(other)) => (
            false,
            Reason::new(
                reason_word(other),
                format!("the key is {other} on the circuit"),
            ),
        ),
        (None, None) => (
            false,
            Reason::new("Pending", "the key has not been observed yet"),
        ),
    };
    let synced = synced_of(report);
    set_condition(&mut status.conditions, READY, ready, generation, &now);
    set_condition(&mut status.conditions, SYNCED, synced, generation, &now);
    status
}

/// A condition reason must be CamelCase letters and digits: keep those of a cloud status.
fn reason_word(key_status: &str) -> String {
    let word: String = key_status
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if word.is_empty() {
        "Unknown".to_owned()
    } else {
        word
    }
}

fn set_condition(
    conditions: &mut Vec<Condition>,
    kind: &str,
    (is_true, reason): (bool, Reason),
    generation: Option<i64>,
    now: &Time,
) {
    let status = if is_true { "True" } else { "False" };
    let last_transition_time = conditions
        .iter()
        .find(|c| c.type_ == kind && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    let condition = Condition {
        type_: kind.to_owned(),
        status: status.to_owned(),
        reason: reason.reason,
        message: reason.message,
        observed_generation: generation,
        last_transition_time,
    };
    match conditions.iter_mut().find(|c| c.type_ == kind) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

/// The condition of `kind`, if any.
pub fn condition<'a>(status: &'a MacsecKeyBindingStatus, kind: &str) -> Option<&'a Condition> {
    status.conditions.iter().find(|c| c.type_ == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Time {
        Time(text.parse().expect("timestamp"))
    }

    #[test]
    fn an_associated_key_is_ready_and_synced() {
        let report = Report {
            key_status: Some("Associated".into()),
            start_on: Some("2026-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let status = next_status(None, Some(1), &report, time("2026-12-01T00:00:00Z"));
        assert_eq!(status.key_status.as_deref(), Some("Associated"));
        let ready = condition(&status, READY).expect("ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("True", "Associated")
        );
        assert_eq!(
            condition(&status, SYNCED).map(|c| c.status.as_str()),
            Some("True")
        );
    }

    #[test]
    fn an_unchanged_report_gives_an_equal_status() {
        let report = Report {
            key_status: Some("Disassociated".into()),
            ..Default::default()
        };
        let first = next_status(None, Some(2), &report, time("2026-12-01T00:00:00Z"));
        let second = next_status(Some(&first), Some(2), &report, time("2026-12-01T00:10:00Z"));
        assert_eq!(first, second, "no new write for the same facts");
        assert_eq!(
            condition(&second, READY).map(|c| c.reason.as_str()),
            Some("Disassociated")
        );
    }

    #[test]
    fn errors_keep_the_last_known_key_status_and_flip_synced() {
        let ok = Report {
            key_status: Some("Associated".into()),
            ..Default::default()
        };
        let before = next_status(None, Some(1), &ok, time("2026-12-01T00:00:00Z"));
        let failed = Report {
            sync_error: Some(Reason::new("Throttling.User", "flow control")),
            ..Default::default()
        };
        let after = next_status(
            Some(&before),
            Some(1),
            &failed,
            time("2026-12-01T00:05:00Z"),
        );
        assert_eq!(after.key_status.as_deref(), Some("Associated"));
        let synced = condition(&after, SYNCED).expect("synced");
        assert_eq!(
            (synced.status.as_str(), synced.reason.as_str()),
            ("False", "Throttling.User")
        );
        assert_eq!(synced.last_transition_time, time("2026-12-01T00:05:00Z"));
        let ready = condition(&after, READY).expect("ready");
        assert_eq!(
            ready.last_transition_time,
            time("2026-12-01T00:00:00Z"),
            "Ready did not flip"
        );
    }

    #[test]
    fn a_failure_that_observed_nothing_keeps_the_ready_reason() {
        let mismatch = Report {
            key_status: Some("Associated".into()),
            not_ready: Some(Reason::new(
                CIPHER_SUITE_MISMATCH,
                "GCM-AES-128 on the circuit",
            )),
            ..Default::default()
        };
        let before = next_status(None, Some(1), &mismatch, time("2026-12-01T00:00:00Z"));
        let failed_read = Report {
            sync_error: Some(Reason::new("Forbidden.RAM", "no permission")),
            ..Default::default()
        };
        let after = next_status(
            Some(&before),
            Some(1),
            &failed_read,
            time("2026-12-01T00:05:00Z"),
        );
        let ready = condition(&after, READY).expect("ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", CIPHER_SUITE_MISMATCH),
            "a failed read does not make the binding Ready"
        );
        let synced = condition(&after, SYNCED).expect("synced");
        assert_eq!(synced.reason, "Forbidden.RAM");
    }

    #[test]
    fn a_stated_reason_overrides_the_key_status() {
        let report = Report {
            key_status: Some("Associated".into()),
            not_ready: Some(Reason::new("Conflict", "older binding ns/a owns this key")),
            ..Default::default()
        };
        let status = next_status(None, Some(1), &report, time("2026-12-01T00:00:00Z"));
        let ready = condition(&status, READY).expect("ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "Conflict")
        );
        assert_eq!(reason_word("Associating..."), "Associating");
    }
}
