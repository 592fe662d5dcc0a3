//! Running `kubectl` against the test control plane, the way a user would.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A `kubectl` bound to one kubeconfig and, optionally, one namespace.
#[derive(Clone, Debug)]
pub struct Kubectl {
    pub binary: PathBuf,
    pub kubeconfig: PathBuf,
    pub namespace: Option<String>,
}

/// What one `kubectl` run printed.
#[derive(Debug)]
pub struct KubectlOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    pub fn in_namespace(&self, namespace: &str) -> Kubectl {
        Kubectl {
            namespace: Some(namespace.to_owned()),
            ..self.clone()
        }
    }

    /// Runs kubectl with `args`, feeding `stdin` when given.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> KubectlOutput {
        let mut command = Command::new(&self.binary);
        command.env("KUBECONFIG", &self.kubeconfig);
        if let Some(namespace) = &self.namespace {
            command.args(["--namespace", namespace]);
        }
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            pipe.write_all(input.as_bytes())
                .expect("write kubectl stdin");
        }
        let output = child.wait_with_output().expect("wait for kubectl");
        KubectlOutput {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> KubectlOutput {
        self.run_with_stdin(args, None)
    }

    /// Runs kubectl and panics with its output unless it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.success,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// `kubectl apply -f -` with `manifest`; panics unless it succeeds.
    pub fn apply(&self, manifest: &str) -> String {
        let out = self.run_with_stdin(&["apply", "-f", "-"], Some(manifest));
        assert!(
            out.success,
            "kubectl apply failed:\n{manifest}\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// `kubectl get KIND NAME -o json`, parsed.
    pub fn get_json(&self, kind: &str, name: &str) -> serde_json::Value {
        let json = self.ok(&["get", kind, name, "-o", "json"]);
        serde_json::from_str(&json).expect("kubectl printed JSON")
    }
}
