//! Other bindings that share a circuit or a key with one binding: who owns a key when two
//! bindings name it (the conflict rule), and whom to reconcile after the cloud switched
//! keys on a circuit.

use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use super::status::{CAK_SECRET_INVALID, CIPHER_SUITE_MISMATCH, READY, SYNCED, condition};
use crate::resource::MacsecKeyBinding;

fn same_circuit(a: &MacsecKeyBinding, b: &MacsecKeyBinding) -> bool {
    a.spec.region_id == b.spec.region_id
        && a.spec.physical_connection_id == b.spec.physical_connection_id
}

fn same_key(a: &MacsecKeyBinding, b: &MacsecKeyBinding) -> bool {
    same_circuit(a, b) && a.spec.ckn.eq_ignore_ascii_case(&b.spec.ckn)
}

/// Orders bindings by age: creation time, then namespace and name, so that every replica
/// and every pass agree on who is older.
fn age_key(binding: &MacsecKeyBinding) -> (Option<jiff::Timestamp>, String, String) {
    (
        binding.creation_timestamp().map(|t| t.0),
        binding.namespace().unwrap_or_default(),
        binding.name_any(),
    )
}

/// The older binding that owns the key `binding` names, when that is another one: then
/// `binding` has lost the conflict and must never call the cloud.
pub fn conflict_owner<'a>(
    binding: &MacsecKeyBinding,
    all: impl IntoIterator<Item = &'a MacsecKeyBinding>,
) -> Option<&'a MacsecKeyBinding> {
    let own = age_key(binding);
    all.into_iter()
        .filter(|other| same_key(binding, other) && other.uid() != binding.uid())
        .filter(|other| age_key(other) < own)
        .min_by_key(|other| age_key(other))
}

/// The binding whose key should be in use on `binding`'s circuit: the youngest that names
/// a CAK Secret, is not being deleted, owns its key, and can associate it. In a key rotation
/// that is the new key; once it goes, the previous one.
///
/// A binding that reported it cannot associate its key (CAK Secret unusable, or the key on
/// the circuit with another cipher suite) cannot take the port, so it leaves it to an older
/// one rather than to no key at all, unless its key is what the cloud has in use
/// (`in_use`): then the status saying otherwise is stale.
/// `binding` itself always counts, for the same reason.
pub fn active_on_circuit<'a>(
    binding: &MacsecKeyBinding,
    all: impl IntoIterator<Item = &'a MacsecKeyBinding> + Clone,
    in_use: Option<&str>,
) -> Option<&'a MacsecKeyBinding> {
    let can_associate = |other: &MacsecKeyBinding| {
        other.uid() == binding.uid()
            || in_use.is_some_and(|ckn| other.spec.ckn.eq_ignore_ascii_case(ckn))
            || !reported_unable_to_associate(other)
    };
    all.clone()
        .into_iter()
        .filter(|other| same_circuit(binding, other))
        .filter(|other| {
            other.spec.cak_secret_ref.is_some() && other.meta().deletion_timestamp.is_none()
        })
        .filter(|other| can_associate(other))
        .filter(|other| conflict_owner(other, all.clone()).is_none())
        .max_by_key(|other| age_key(other))
}

/// Whether `binding`'s last reconcile found it unable to associate its key: its CAK Secret
/// missing or malformed, or its key on the circuit with another cipher suite (which the
/// cloud refuses to associate).
fn reported_unable_to_associate(binding: &MacsecKeyBinding) -> bool {
    let Some(status) = binding.status.as_ref() else {
        return false;
    };
    let failed = |kind: &str, reason: &str| {
        condition(status, kind).is_some_and(|c| c.status == "False" && c.reason == reason)
    };
    failed(SYNCED, CAK_SECRET_INVALID) || failed(READY, CIPHER_SUITE_MISMATCH)
}

/// The other bindings on the same circuit, to reconcile after a mutating call there.
pub fn circuit_siblings<'a>(
    binding: &MacsecKeyBinding,
    all: impl IntoIterator<Item = &'a MacsecKeyBinding>,
) -> Vec<ObjectRef<MacsecKeyBinding>> {
    all.into_iter()
        .filter(|other| same_circuit(binding, other) && other.uid() != binding.uid())
        .map(ObjectRef::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn binding(name: &str, created: &str, circuit: &str, ckn: &str) -> MacsecKeyBinding {
        let mut b: MacsecKeyBinding = serde_json::from_value(serde_json::json!({
            "apiVersion": "macsec.expressconnect.io/v1alpha1",
            "kind": "MacsecKeyBinding",
            "metadata": {"name": name, "namespace": "ns", "uid": name},
            "spec": {"regionId": "cn-hangzhou", "physicalConnectionId": circuit, "cipherSuite": "GCM-AES-128", "ckn": ckn}
        }))
        .expect("binding");
        b.metadata.creation_timestamp = Some(Time(created.parse().expect("time")));
        b
    }

    #[test]
    fn the_older_binding_owns_the_key() {
        let old = binding("old", "2026-01-01T00:00:00Z", "pc-a", "ABCD");
        let young = binding("young", "2026-02-01T00:00:00Z", "pc-a", "abcd");
        let other_key = binding("other", "2025-01-01T00:00:00Z", "pc-a", "FFFF");
        let all = [old.clone(), young.clone(), other_key.clone()];
        assert_eq!(
            conflict_owner(&young, &all).map(|b| b.name_any()),
            Some("old".into())
        );
        assert!(conflict_owner(&old, &all).is_none());
        assert!(conflict_owner(&other_key, &all).is_none());
        // Same creation second: the name decides, the same way everywhere.
        let twin = binding("a-twin", "2026-01-01T00:00:00Z", "pc-a", "ABCD");
        assert_eq!(
            conflict_owner(&old, [&twin]).map(|b| b.name_any()),
            Some("a-twin".into())
        );
    }

    #[test]
    fn the_youngest_managed_binding_holds_the_active_key() {
        let with_cak = |mut b: MacsecKeyBinding| {
            b.spec.cak_secret_ref = Some(crate::resource::CakSecretRef {
                name: "cak".into(),
                key: "cak".into(),
            });
            b
        };
        let old = with_cak(binding("old", "2026-01-01T00:00:00Z", "pc-a", "AAAA"));
        let new = with_cak(binding("new", "2026-03-01T00:00:00Z", "pc-a", "BBBB"));
        let adopted = binding("adopted", "2026-04-01T00:00:00Z", "pc-a", "CCCC");
        let elsewhere = with_cak(binding("elsewhere", "2026-05-01T00:00:00Z", "pc-b", "DDDD"));
        let all = [old.clone(), new.clone(), adopted.clone(), elsewhere.clone()];
        assert_eq!(
            active_on_circuit(&old, &all, None).map(|b| b.name_any()),
            Some("new".into())
        );
        // Once the new key is being deleted, the previous one is active again.
        let mut leaving = new.clone();
        leaving.metadata.deletion_timestamp =
            Some(Time("2026-06-01T00:00:00Z".parse().expect("time")));
        let all = [old.clone(), leaving, adopted];
        assert_eq!(
            active_on_circuit(&old, &all, None).map(|b| b.name_any()),
            Some("old".into())
        );
    }

    #[test]
    fn a_binding_without_a_usable_cak_does_not_hold_the_port() {
        let with_cak = |mut b: MacsecKeyBinding| {
            b.spec.cak_secret_ref = Some(crate::resource::CakSecretRef {
                name: "cak".into(),
                key: "cak".into(),
            });
            b
        };
        let failed = |kind: &str, reason: &str| crate::resource::MacsecKeyBindingStatus {
            conditions: vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
                type_: kind.into(),
                status: "False".into(),
                reason: reason.into(),
                message: "cannot associate".into(),
                last_transition_time: Time("2026-03-01T00:00:00Z".parse().expect("time")),
                observed_generation: None,
            }],
            ..Default::default()
        };
        let old = with_cak(binding("old", "2026-01-01T00:00:00Z", "pc-a", "AAAA"));
        let mut broken = with_cak(binding("broken", "2026-03-01T00:00:00Z", "pc-a", "BBBB"));
        broken.status = Some(failed(SYNCED, CAK_SECRET_INVALID));
        // A key on the circuit with another cipher suite cannot be associated either.
        let mut mismatched = with_cak(binding(
            "other-suite",
            "2026-03-01T00:00:00Z",
            "pc-a",
            "CCCC",
        ));
        mismatched.status = Some(failed(READY, CIPHER_SUITE_MISMATCH));
        assert_eq!(
            active_on_circuit(&old, &[old.clone(), mismatched], None).map(|b| b.name_any()),
            Some("old".into()),
            "the older binding keeps the port from a mismatched younger one"
        );
        let all = [old.clone(), broken.clone()];
        assert_eq!(
            active_on_circuit(&old, &all, None).map(|b| b.name_any()),
            Some("old".into()),
            "the older binding keeps the port"
        );
        assert_eq!(
            active_on_circuit(&broken, &all, None).map(|b| b.name_any()),
            Some("broken".into()),
            "its own stale status never stops a binding whose Secret was fixed"
        );
        assert_eq!(
            active_on_circuit(&old, &all, Some("bbbb")).map(|b| b.name_any()),
            Some("broken".into()),
            "its key in use shows its status is stale"
        );
    }

    #[test]
    fn siblings_share_the_circuit() {
        let a = binding("a", "2026-01-01T00:00:00Z", "pc-a", "AAAA");
        let b = binding("b", "2026-01-01T00:00:00Z", "pc-a", "BBBB");
        let c = binding("c", "2026-01-01T00:00:00Z", "pc-other", "AAAA");
        let siblings = circuit_siblings(&a, [&a, &b, &c]);
        assert_eq!(siblings.len(), 1);
        assert_eq!(siblings[0].name, "b");
    }
}
