//! One real control plane per test binary, started by `hack/controlplane/start.sh`.
//!
//! The script runs under `setpriv --pdeathsig TERM`, spawned from a thread that lives as
//! long as the test process: when the process ends (tests done, a panic, Ctrl-C or SIGKILL)
//! the script gets SIGTERM and stops etcd and kube-apiserver, and those carry a death signal
//! of their own. No process is left behind.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use super::{Kubectl, repo_root};

/// A running control plane.
#[derive(Debug)]
pub struct ControlPlane {
    /// Admin kubeconfig (a token in `system:masters`).
    pub kubeconfig: PathBuf,
    /// A kubectl of the same minor version as the API server.
    pub kubectl_binary: PathBuf,
    /// Certificates, etcd data and both servers' logs; kept after the run for reading.
    pub dir: PathBuf,
}

impl ControlPlane {
    /// kubectl as the cluster admin.
    pub fn kubectl(&self) -> Kubectl {
        Kubectl {
            binary: self.kubectl_binary.clone(),
            kubeconfig: self.kubeconfig.clone(),
            namespace: None,
        }
    }
}

/// The control plane of this test binary, started on first use.
pub fn control_plane() -> &'static ControlPlane {
    static CONTROL_PLANE: OnceLock<ControlPlane> = OnceLock::new();
    CONTROL_PLANE
        .get_or_init(|| start().unwrap_or_else(|e| panic!("cannot start the control plane: {e}")))
}

fn start() -> Result<ControlPlane, String> {
    let runs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("controlplane");
    remove_stale_runs(&runs);
    let dir = runs.join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;

    let script = repo_root().join("hack/controlplane/start.sh");
    let (lines_tx, lines_rx) = mpsc::channel::<String>();
    let run_dir = dir.clone();
    // The spawning thread must outlive the child: the death signal fires when it exits.
    std::thread::Builder::new()
        .name("controlplane".into())
        .spawn(move || {
            let spawned = Command::new("setpriv")
                .args(["--pdeathsig", "TERM"])
                .arg(&script)
                .arg(&run_dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn();
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) => {
                    let _ = lines_tx.send(format!("error: cannot run {}: {e}", script.display()));
                    return;
                }
            };
            if let Some(stdout) = child.stdout.take() {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = lines_tx.send(line);
                }
            }
            let status = child.wait();
            let _ = lines_tx.send(format!("error: control plane exited: {status:?}"));
            // Park for good so that the death signal never fires while the process lives.
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| format!("spawn thread: {e}"))?;

    let (mut kubeconfig, mut kubectl) = (None, None);
    // A cold build of the binaries happens inside start.sh; allow for it.
    let timeout = Duration::from_secs(60 * 60);
    loop {
        let line = lines_rx
            .recv_timeout(timeout)
            .map_err(|e| format!("no word from start.sh: {e}"))?;
        if let Some(path) = line.strip_prefix("kubeconfig: ") {
            kubeconfig = Some(PathBuf::from(path));
        } else if let Some(path) = line.strip_prefix("kubectl: ") {
            kubectl = Some(PathBuf::from(path));
        } else if line == "ready" {
            break;
        } else if line.starts_with("error: ") {
            return Err(format!("{line}; logs in {}", dir.display()));
        }
    }
    match (kubeconfig, kubectl) {
        (Some(kubeconfig), Some(kubectl_binary)) => Ok(ControlPlane {
            kubeconfig,
            kubectl_binary,
            dir,
        }),
        _ => Err("start.sh said ready without naming the kubeconfig and kubectl".into()),
    }
}

/// Removes the directories of earlier runs whose process is gone (etcd preallocates large
/// WAL files, so they would pile up).
fn remove_stale_runs(runs: &Path) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return;
    };
    for entry in entries.flatten() {
        let alive = entry
            .file_name()
            .to_str()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
