//! Test harness: one real control plane (etcd + kube-apiserver with RBAC) per test binary,
//! a fresh namespace per test, and `kubectl` against it.
#![allow(dead_code, unused_imports)] // each test binary uses its own share of the helpers

pub mod controlplane;
pub mod kubectl;
pub mod wait;

pub use controlplane::{ControlPlane, control_plane};
pub use kubectl::{Kubectl, KubectlOutput};
pub use wait::wait_until;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A namespace of its own for one test, on the shared control plane.
pub struct TestNamespace {
    pub name: String,
    pub kubectl: Kubectl,
}

impl TestNamespace {
    /// Creates a namespace named after the test, unique within this process.
    pub fn new(test: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let slug: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let name = format!("{}-{}-{}", slug.trim_matches('-'), std::process::id(), n);
        let admin = control_plane().kubectl();
        admin.ok(&["create", "namespace", &name]);
        TestNamespace {
            kubectl: admin.in_namespace(&name),
            name,
        }
    }
}
pub mod sim;
