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

/// Applies `crds/macseckeybinding.yaml` to the control plane once per test binary, as a user
/// would, and waits for the CRD to be Established. (The file, not the directory: `crds/`
/// also holds the `kustomization.yaml` that `deploy/` includes, which is no manifest.)
pub fn install_crd() {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let kubectl = control_plane().kubectl();
        let crd = repo_root().join("crds/macseckeybinding.yaml");
        kubectl.ok(&[
            "apply",
            "--server-side",
            "-f",
            crd.to_str().expect("utf-8 path"),
        ]);
        kubectl.ok(&[
            "wait",
            "--for=condition=Established",
            "crd/macseckeybindings.macsec.expressconnect.io",
            "--timeout=60s",
        ]);
    });
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
pub mod operator;
pub mod sim;
pub mod world;
