//! One test's world: a namespace of its own, a simulator, and an operator watching that
//! namespace alone; with the helpers the operator tests share to drive it with kubectl and
//! read what it did.

use std::time::Duration;

use serde_json::Value;

use super::operator::Operator;
use super::sim::{ACCESS_KEY_SECRET, CIRCUIT, REGION, SEEDED_CAK, Sim, default_seed};
use super::{TestNamespace, control_plane, install_crd, wait_until};

pub const WAIT: Duration = Duration::from_secs(60);
pub const CKN_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
pub const CAK_B: &str = "B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0";
pub const CKN_NEW: &str = "aaaabbbbccccdddd0000111122223333";
pub const CAK_NEW: &str = "1234123412341234abcdabcdabcdabcd";

/// A namespace, a simulator and an operator watching that namespace alone.
pub struct World {
    pub ns: TestNamespace,
    pub sim: Sim,
    pub operator: Operator,
}

impl World {
    pub fn new(test: &str, seed: &str, sim_flags: &[&str], operator_flags: &[&str]) -> World {
        install_crd();
        let ns = TestNamespace::new(test);
        let sim = Sim::start(seed, sim_flags);
        let operator = Operator::start(control_plane(), &sim, &ns.name, operator_flags);
        World { ns, sim, operator }
    }

    pub fn apply(&self, yaml: &str) {
        self.ns.kubectl.apply(yaml);
    }

    pub fn binding(&self, name: &str) -> Option<Value> {
        let out = self.ns.kubectl.run(&["get", "mkb", name, "-o", "json"]);
        if out.success {
            serde_json::from_str(&out.stdout).ok()
        } else {
            None
        }
    }

    /// Waits until the binding's status satisfies `check`; returns the binding.
    pub fn wait_status(&self, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        wait_until(&format!("{name}: {what}"), WAIT, || {
            match self.binding(name) {
                Some(b) if check(&b) => Ok(b),
                Some(b) => Err(format!(
                    "{}\noperator log:\n{}",
                    b["status"],
                    tail(&self.operator.log())
                )),
                None => Err("not found".into()),
            }
        })
    }

    /// Applies the binding `name` (in `yaml`), waits for it to be Ready, then for the clock
    /// to pass the second it was created in: `creationTimestamp` has a resolution of one
    /// second, and bindings created in the same second are ordered by name, so only then is
    /// a binding applied next sure to be the younger. Returns the binding.
    pub fn apply_older(&self, name: &str, yaml: &str) -> Value {
        self.apply(yaml);
        let ready = self.wait_status(name, "Ready", |b| {
            condition_is(b, "Ready", "True", "Associated")
        });
        let created: jiff::Timestamp = ready["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("creationTimestamp");
        wait_until("the next second", WAIT, || {
            if jiff::Timestamp::now().as_second() > created.as_second() {
                Ok(())
            } else {
                Err("same second".into())
            }
        });
        ready
    }

    pub fn wait_gone(&self, name: &str) {
        wait_until(&format!("{name} to be gone"), WAIT, || {
            match self.binding(name) {
                None => Ok(()),
                Some(b) => Err(format!("{}\n{}", b["status"], tail(&self.operator.log()))),
            }
        });
    }

    /// Waits until the cloud (the simulator) holds the key `ckn` on `CIRCUIT` in `status`.
    pub fn wait_cloud_key(&self, ckn: &str, status: &str) {
        wait_until(
            &format!("the cloud to hold {ckn} {status}"),
            WAIT,
            || match self.sim.key_status(CIRCUIT, ckn) {
                Some(s) if s == status => Ok(()),
                other => Err(format!("{other:?}")),
            },
        );
    }

    pub fn delete(&self, name: &str) {
        self.ns.kubectl.ok(&["delete", "mkb", name, "--wait=false"]);
    }

    pub fn events(&self) -> String {
        self.ns.kubectl.ok(&["get", "events", "-o", "json"])
    }
}

pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

pub fn condition<'a>(binding: &'a Value, kind: &str) -> Option<&'a Value> {
    binding["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

pub fn condition_is(binding: &Value, kind: &str, status: &str, reason: &str) -> bool {
    condition(binding, kind).is_some_and(|c| c["status"] == status && c["reason"] == reason)
}

pub fn key_status_is(binding: &Value, status: &str) -> bool {
    binding["status"]["keyStatus"] == status
}

pub fn binding_yaml(name: &str, ckn: &str, cak_secret: Option<&str>, policy: &str) -> String {
    let cak = cak_secret
        .map(|s| format!("  cakSecretRef:\n    name: {s}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: macsec.expressconnect.io/v1alpha1\nkind: MacsecKeyBinding\nmetadata:\n  name: {name}\nspec:\n  regionId: {REGION}\n  physicalConnectionId: {CIRCUIT}\n  cipherSuite: GCM-AES-128\n  ckn: {ckn}\n  deletionPolicy: {policy}\n{cak}"
    )
}

pub fn cak_secret_yaml(name: &str, cak: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  cak: {cak}\n")
}

/// The default seed plus a second, disassociated key B activated earlier than the first.
pub fn seed_with_key_b() -> String {
    format!(
        "{}      - ckn: {CKN_B}\n        cak: {CAK_B}\n        cipherSuite: GCM-AES-128\n        status: Disassociated\n        startOn: \"2025-06-01T00:00:00Z\"\n",
        default_seed()
    )
}

/// No secret reaches the operator's log, its metrics, the events, the status or the
/// simulator's log.
pub fn assert_no_secrets(world: &World) {
    let status = world.ns.kubectl.ok(&["get", "mkb", "-o", "json"]);
    for (what, text) in [
        ("operator log", world.operator.log()),
        ("metrics", world.operator.scrape().0),
        ("events", world.events()),
        ("status", status),
        ("simulator log", world.sim.log()),
    ] {
        for secret in [
            ACCESS_KEY_SECRET,
            SEEDED_CAK,
            CAK_B,
            CAK_NEW,
            &CAK_NEW.to_ascii_uppercase(),
        ] {
            assert!(!text.contains(secret), "a secret appears in the {what}");
        }
    }
}
