//! `macsec-operator run` as a separate process against the test control plane and a
//! simulator, as it runs for real. Its log goes to a file that is kept when a test fails.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::ControlPlane;
use super::sim::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Sim};

/// A running operator; stopped when dropped.
pub struct Operator {
    child: Option<Child>,
    pub log_path: PathBuf,
    args: Vec<String>,
    kubeconfig: PathBuf,
}

impl Operator {
    /// Starts the operator watching `namespace`, with the simulator's access key in its
    /// environment (the default credential chain) and `extra` flags.
    pub fn start(
        control_plane: &ControlPlane,
        sim: &Sim,
        namespace: &str,
        extra: &[&str],
    ) -> Operator {
        let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("operator-logs");
        std::fs::create_dir_all(&logs).expect("log dir");
        let log_path = logs.join(format!("{namespace}.log"));
        let mut args: Vec<String> = [
            "run",
            "--vpc-endpoint",
            &sim.endpoint,
            "--namespace",
            namespace,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut operator = Operator {
            child: None,
            log_path,
            args,
            kubeconfig: control_plane.kubeconfig.clone(),
        };
        operator.spawn();
        operator
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open log");
        let child = Command::new("setpriv")
            .args(["--pdeathsig", "KILL", env!("CARGO_BIN_EXE_macsec-operator")])
            .args(&self.args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
            .env("RUST_LOG", "info,macsec_operator=debug,kube=warn")
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start the operator");
        self.child = Some(child);
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again with the same flags, as a restarted pod would.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("operator log kept at {}", self.log_path.display());
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}
