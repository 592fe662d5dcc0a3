//! Prometheus metrics: what the operator did (reconciles, cloud calls) as counters and
//! histograms, and what the bindings look like now (by key status, the oldest blocked
//! deletion) as gauges computed from the controller's cache at scrape time, so they are
//! never stale. Labels hold only names and codes: never a CKN, a CAK or a key ID.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use kube::Resource;
use kube::runtime::reflector::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::resource::{FINALIZER, MacsecKeyBinding};

/// `Content-Type` of [`Metrics::render`]: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The key status a binding reports before the operator has read its key.
const UNKNOWN_KEY_STATUS: &str = "Unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    /// `success` or `error`.
    result: &'static str,
    /// Empty on success; else the Synced reason (an Alibaba error code or a local one).
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: &'static str,
    /// `OK`, the Alibaba error code, or `Timeout` / `Connection` / ... for transport failures.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyStatusLabels {
    key_status: String,
}

type DurationHistograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric the operator exports, and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_duration: Histogram,
    cloud_calls: Family<CallLabels, Counter>,
    cloud_call_duration: DurationHistograms<ActionLabels>,
    bindings: Family<KeyStatusLabels, Gauge>,
    oldest_blocked_deletion: Gauge<f64, std::sync::atomic::AtomicU64>,
    leader: Gauge,
    /// The leader's cache of bindings; `None` while this replica is not reconciling.
    store: Mutex<Option<Store<MacsecKeyBinding>>>,
}

/// Buckets from 5 ms to about 82 s: cloud calls take tens of milliseconds to seconds,
/// and a reconcile can wait for rate-limit tokens.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("macsec");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles of MacsecKeyBindings by result, and the reason of a failure",
            reconciles.clone(),
        );
        let reconcile_duration = duration_histogram();
        registry.register(
            "reconcile_duration_seconds",
            "How long reconciles took, waiting for rate-limit tokens included",
            reconcile_duration.clone(),
        );
        let cloud_calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "cloud_calls",
            "Alibaba Cloud VPC API calls by action and result code (OK, or the error code)",
            cloud_calls.clone(),
        );
        let cloud_call_duration: DurationHistograms<ActionLabels> =
            Family::new_with_constructor(duration_histogram);
        registry.register(
            "cloud_call_duration_seconds",
            "Latency of Alibaba Cloud VPC API calls by action",
            cloud_call_duration.clone(),
        );
        let bindings = Family::<KeyStatusLabels, Gauge>::default();
        registry.register(
            "bindings",
            "MacsecKeyBindings by the key status in their status (Unknown before the first read)",
            bindings.clone(),
        );
        let oldest_blocked_deletion = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "oldest_blocked_deletion_seconds",
            "How long the oldest MacsecKeyBinding being deleted has been held by the finalizer (0 when none)",
            oldest_blocked_deletion.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader lease and reconciles, else 0",
            leader.clone(),
        );
        Metrics {
            registry,
            reconciles,
            reconcile_duration,
            cloud_calls,
            cloud_call_duration,
            bindings,
            oldest_blocked_deletion,
            leader,
            store: Mutex::new(None),
        }
    }

    /// Counts one reconcile; `failure` is the Synced reason of a failed one.
    pub fn reconciled(&self, failure: Option<String>, took: Duration) {
        let labels = match failure {
            None => ReconcileLabels {
                result: "success",
                reason: String::new(),
            },
            Some(reason) => ReconcileLabels {
                result: "error",
                reason,
            },
        };
        self.reconciles.get_or_create(&labels).inc();
        self.reconcile_duration.observe(took.as_secs_f64());
    }

    /// Counts one cloud call and its latency.
    pub fn cloud_call(&self, action: &'static str, code: &str, took: Duration) {
        self.cloud_calls
            .get_or_create(&CallLabels {
                action,
                code: code.to_owned(),
            })
            .inc();
        self.cloud_call_duration
            .get_or_create(&ActionLabels { action })
            .observe(took.as_secs_f64());
    }

    /// From now on the binding gauges are read from `store`; `None` when this replica stops
    /// reconciling (then they are absent rather than stale).
    pub fn watch_bindings(&self, store: Option<Store<MacsecKeyBinding>>) {
        self.leader.set(i64::from(store.is_some()));
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = store;
    }

    /// The metrics in the Prometheus text format, gauges refreshed first.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        self.refresh_binding_gauges();
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    fn refresh_binding_gauges(&self) {
        let store = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        self.bindings.clear();
        let Some(store) = store else {
            self.oldest_blocked_deletion.set(0.0);
            return;
        };
        let bindings = store.state();
        let summary = summarize(bindings.iter().map(AsRef::as_ref), jiff::Timestamp::now());
        for (key_status, count) in summary.by_key_status {
            self.bindings
                .get_or_create(&KeyStatusLabels { key_status })
                .set(count);
        }
        self.oldest_blocked_deletion
            .set(summary.oldest_blocked_deletion.as_secs_f64());
    }
}

/// What the binding gauges show.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    by_key_status: BTreeMap<String, i64>,
    oldest_blocked_deletion: Duration,
}

/// Counts bindings by key status, and finds the longest a deletion has waited on this
/// operator's finalizer.
fn summarize<'a>(
    bindings: impl Iterator<Item = &'a MacsecKeyBinding>,
    now: jiff::Timestamp,
) -> Summary {
    let mut summary = Summary::default();
    for binding in bindings {
        let key_status = binding
            .status
            .as_ref()
            .and_then(|status| status.key_status.clone())
            .unwrap_or_else(|| UNKNOWN_KEY_STATUS.to_owned());
        *summary.by_key_status.entry(key_status).or_default() += 1;
        let meta = binding.meta();
        let held = meta
            .finalizers
            .as_ref()
            .is_some_and(|finalizers| finalizers.iter().any(|f| f == FINALIZER));
        if let (true, Some(since)) = (held, &meta.deletion_timestamp) {
            let waited = now
                .duration_since(since.0)
                .try_into()
                .unwrap_or(Duration::ZERO);
            summary.oldest_blocked_deletion = summary.oldest_blocked_deletion.max(waited);
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{MacsecKeyBindingSpec, MacsecKeyBindingStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn binding(
        key_status: Option<&str>,
        deleted_at: Option<i64>,
        finalizer: bool,
    ) -> MacsecKeyBinding {
        let spec: MacsecKeyBindingSpec = serde_json::from_value(serde_json::json!({
            "regionId": "cn-hangzhou",
            "physicalConnectionId": "pc-bp1a",
            "cipherSuite": "GCM-AES-128",
            "ckn": "00".repeat(16),
        }))
        .expect("spec");
        let mut binding = MacsecKeyBinding::new("b", spec);
        binding.status = key_status.map(|s| MacsecKeyBindingStatus {
            key_status: Some(s.to_owned()),
            ..MacsecKeyBindingStatus::default()
        });
        binding.metadata.deletion_timestamp =
            deleted_at.map(|s| Time(jiff::Timestamp::from_second(s).expect("timestamp")));
        if finalizer {
            binding.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
        }
        binding
    }

    #[test]
    fn bindings_are_counted_by_key_status_and_the_oldest_held_deletion_is_found() {
        let now = jiff::Timestamp::from_second(1_000).expect("now");
        let bindings = [
            binding(Some("Associated"), None, true),
            binding(Some("Associated"), Some(970), true),
            binding(Some("Disassociated"), Some(900), true),
            // Deleted but no longer held by this operator: not blocked by it.
            binding(Some("Absent"), Some(100), false),
            binding(None, None, false),
        ];
        let summary = summarize(bindings.iter(), now);
        let expected: BTreeMap<String, i64> = [
            ("Absent".to_owned(), 1),
            ("Associated".to_owned(), 2),
            ("Disassociated".to_owned(), 1),
            ("Unknown".to_owned(), 1),
        ]
        .into();
        assert_eq!(summary.by_key_status, expected);
        assert_eq!(summary.oldest_blocked_deletion, Duration::from_secs(100));
    }

    #[test]
    fn rendering_names_each_metric_with_its_labels() {
        let metrics = Metrics::new();
        metrics.reconciled(None, Duration::from_millis(20));
        metrics.reconciled(Some("Throttling.User".into()), Duration::from_millis(20));
        metrics.cloud_call("DisassociateMacSecKey", "OK", Duration::from_millis(30));
        let text = metrics.render().expect("render");
        assert!(
            text.contains("macsec_reconciles_total{result=\"success\",reason=\"\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("macsec_reconciles_total{result=\"error\",reason=\"Throttling.User\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "macsec_cloud_calls_total{action=\"DisassociateMacSecKey\",code=\"OK\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "macsec_cloud_call_duration_seconds_count{action=\"DisassociateMacSecKey\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("macsec_reconcile_duration_seconds_count 2"),
            "{text}"
        );
        assert!(text.contains("macsec_leader 0"), "{text}");
        assert!(
            text.contains("macsec_oldest_blocked_deletion_seconds 0"),
            "{text}"
        );
    }
}
