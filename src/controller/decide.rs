//! What to do next with one binding: a pure function of the binding's intent, what the
//! cloud reported, and the deletion policy. Every cloud rule the operator relies on is
//! decided here, and tested as a table; the reconciler only carries the decision out.

use crate::cloud::wire::key_status;
use crate::resource::DeletionPolicy;

/// What the cloud said about the key, by its CKN on its circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// The circuit does not exist (in that region).
    CircuitMissing,
    /// The circuit has no key with this CKN.
    KeyAbsent,
    /// The key, with its status verbatim; `other_suite` names the cipher suite it runs when
    /// that is not the binding's.
    Key {
        status: String,
        other_suite: Option<String>,
    },
}

impl Observed {
    /// The key status as `status.keyStatus` shows it.
    pub fn key_status(&self) -> Option<&str> {
        match self {
            Observed::CircuitMissing => None,
            Observed::KeyAbsent => Some("Absent"),
            Observed::Key { status, .. } => Some(status),
        }
    }
}

/// What the binding does with its key while applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// No CAK Secret: the key was configured elsewhere; observe it only.
    Adopted,
    /// A CAK Secret, and the youngest such binding of its circuit: its key should be the
    /// one in use, so it is associated whenever it is not.
    Active,
    /// A CAK Secret, but a younger binding of the same circuit holds the key in use (a key
    /// rotation under way): associating this one would take the port from it, and the two
    /// would take it from each other for ever. It stays configured as a standby.
    Standby,
}

/// Whether the binding is being applied or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Apply,
    Delete(DeletionPolicy),
}

/// The next step for one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Call `AssociateMacSecKey` (with the CAK from the binding's Secret), then read again.
    Associate,
    /// Call `DisassociateMacSecKey` once, then read again.
    Disassociate,
    /// Nothing to change: record what was observed.
    Observe,
    /// The cloud is as the deletion policy wants it: the finalizer may go.
    Release,
    /// Wait: the key is in a state the operator does not act on (a status the API
    /// reference does not name, taken as transitional); read again soon.
    WaitForKey,
}

/// Decides the next step from what was observed. `role` matters only when applying.
/// Reads that failed, conflicts and Orphan are settled before the cloud is read at all
/// (see [`needs_cloud`]).
pub fn decide(phase: Phase, role: Role, observed: &Observed) -> Step {
    match phase {
        Phase::Apply => match observed {
            Observed::CircuitMissing => Step::Observe,
            // The cloud refuses to associate a CKN it holds with another cipher suite
            // (IllegalParam.Cak); the status says CipherSuiteMismatch instead.
            Observed::Key {
                other_suite: Some(_),
                ..
            } => Step::Observe,
            Observed::Key { status, .. } if status == key_status::ASSOCIATED => Step::Observe,
            _ if role != Role::Active => Step::Observe,
            Observed::KeyAbsent => Step::Associate,
            // Associating a disassociated key re-activates it; a failed one renegotiates.
            Observed::Key { status, .. }
                if status == key_status::DISASSOCIATED
                    || status == key_status::ASSOCIATED_FAILED =>
            {
                Step::Associate
            }
            // A status the API reference does not name is taken as transitional.
            Observed::Key { .. } => Step::WaitForKey,
        },
        Phase::Delete(DeletionPolicy::Orphan) => Step::Release,
        Phase::Delete(DeletionPolicy::Disassociate) => match observed {
            // The circuit or the key is gone: nothing is left on the port.
            Observed::CircuitMissing | Observed::KeyAbsent => Step::Release,
            Observed::Key { status, .. }
                if status == key_status::ASSOCIATED || status == key_status::ASSOCIATED_FAILED =>
            {
                Step::Disassociate
            }
            // A second call on a disassociated key would delete it: leave it alone.
            Observed::Key { status, .. } if status == key_status::DISASSOCIATED => Step::Release,
            Observed::Key { .. } => Step::WaitForKey,
        },
        Phase::Delete(DeletionPolicy::Delete) => match observed {
            Observed::CircuitMissing | Observed::KeyAbsent => Step::Release,
            // Associated (or failed) takes a disassociation first, then a second call deletes.
            Observed::Key { status, .. }
                if status == key_status::ASSOCIATED
                    || status == key_status::ASSOCIATED_FAILED
                    || status == key_status::DISASSOCIATED =>
            {
                Step::Disassociate
            }
            Observed::Key { .. } => Step::WaitForKey,
        },
    }
}

/// Whether a binding needs the cloud at all in this phase. A binding that lost a conflict
/// never calls the cloud, and `Orphan` deletion has nothing to ask.
pub fn needs_cloud(phase: Phase, lost_conflict: bool) -> bool {
    !lost_conflict && phase != Phase::Delete(DeletionPolicy::Orphan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeletionPolicy::*;

    fn key(status: &str) -> Observed {
        Observed::Key {
            status: status.to_owned(),
            other_suite: None,
        }
    }

    #[test]
    fn the_decision_table() {
        let associated = key("Associated");
        let disassociated = key("Disassociated");
        let failed = key("AssociatedFailed");
        let changing = key("Associating");
        let absent = Observed::KeyAbsent;
        let no_circuit = Observed::CircuitMissing;
        let other_suite = Observed::Key {
            status: "Disassociated".to_owned(),
            other_suite: Some("GCM-AES-XPN-128".to_owned()),
        };
        #[rustfmt::skip]
        let table: &[(Phase, Role, &Observed, Step)] = &[
            // Apply, the active key of its circuit (a CAK Secret is named).
            (Phase::Apply, Role::Active, &associated, Step::Observe),
            (Phase::Apply, Role::Active, &disassociated, Step::Associate),
            (Phase::Apply, Role::Active, &failed, Step::Associate),
            (Phase::Apply, Role::Active, &absent, Step::Associate),
            (Phase::Apply, Role::Active, &changing, Step::WaitForKey),
            (Phase::Apply, Role::Active, &no_circuit, Step::Observe),
            (Phase::Apply, Role::Active, &other_suite, Step::Observe),
            // Apply, a standby key during a rotation: never takes the port back.
            (Phase::Apply, Role::Standby, &associated, Step::Observe),
            (Phase::Apply, Role::Standby, &disassociated, Step::Observe),
            (Phase::Apply, Role::Standby, &absent, Step::Observe),
            (Phase::Apply, Role::Standby, &failed, Step::Observe),
            // Apply, adopting: observe only.
            (Phase::Apply, Role::Adopted, &associated, Step::Observe),
            (Phase::Apply, Role::Adopted, &disassociated, Step::Observe),
            (Phase::Apply, Role::Adopted, &absent, Step::Observe),
            (Phase::Apply, Role::Adopted, &changing, Step::Observe),
            // Delete with Disassociate: one call on an associated key, none otherwise.
            (Phase::Delete(Disassociate), Role::Active, &associated, Step::Disassociate),
            (Phase::Delete(Disassociate), Role::Adopted, &failed, Step::Disassociate),
            (Phase::Delete(Disassociate), Role::Active, &disassociated, Step::Release),
            (Phase::Delete(Disassociate), Role::Active, &absent, Step::Release),
            (Phase::Delete(Disassociate), Role::Active, &no_circuit, Step::Release),
            (Phase::Delete(Disassociate), Role::Active, &changing, Step::WaitForKey),
            // Delete with Delete: call until the key is gone.
            (Phase::Delete(Delete), Role::Active, &associated, Step::Disassociate),
            (Phase::Delete(Delete), Role::Active, &disassociated, Step::Disassociate),
            (Phase::Delete(Delete), Role::Active, &failed, Step::Disassociate),
            (Phase::Delete(Delete), Role::Active, &absent, Step::Release),
            (Phase::Delete(Delete), Role::Active, &no_circuit, Step::Release),
            (Phase::Delete(Delete), Role::Active, &changing, Step::WaitForKey),
            // Orphan: never touch the cloud.
            (Phase::Delete(Orphan), Role::Active, &associated, Step::Release),
            (Phase::Delete(Orphan), Role::Adopted, &disassociated, Step::Release),
        ];
        for (phase, role, observed, expected) in table {
            assert_eq!(
                decide(*phase, *role, observed),
                *expected,
                "{phase:?}, {role:?}, {observed:?}"
            );
        }
    }

    #[test]
    fn conflicts_and_orphans_never_reach_the_cloud() {
        assert!(needs_cloud(Phase::Apply, false));
        assert!(!needs_cloud(Phase::Apply, true));
        assert!(!needs_cloud(Phase::Delete(Disassociate), true));
        assert!(!needs_cloud(Phase::Delete(Orphan), false));
        assert!(needs_cloud(Phase::Delete(Delete), false));
    }

    #[test]
    fn key_status_shows_absent() {
        assert_eq!(Observed::KeyAbsent.key_status(), Some("Absent"));
        assert_eq!(key("Associated").key_status(), Some("Associated"));
        assert_eq!(Observed::CircuitMissing.key_status(), None);
    }
}
