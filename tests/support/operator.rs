//! `macsec-operator run` as a separate process against the test control plane and a
//! simulator, as it runs for real: under the shipped ServiceAccount's RBAC (a token for
//! that account, not the admin's), with leader election on a Lease. Its log goes to a file
//! that is kept when a test fails.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::sim::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Sim};
use super::{ControlPlane, repo_root, wait_until};

/// Where `deploy/` installs the operator.
pub const OPERATOR_NAMESPACE: &str = "macsec-operator";
pub const SERVICE_ACCOUNT: &str = "macsec-operator";

/// A running operator; stopped when dropped.
pub struct Operator {
    child: Option<Child>,
    pub log_path: PathBuf,
    args: Vec<String>,
    kubeconfig: PathBuf,
}

impl Operator {
    /// Starts the operator watching `namespace`, with the simulator's access key in its
    /// environment (the default credential chain) and `extra` flags. Its leader Lease is
    /// named after the namespace, so tests running side by side do not wait on each other.
    pub fn start(
        control_plane: &ControlPlane,
        sim: &Sim,
        namespace: &str,
        extra: &[&str],
    ) -> Operator {
        let mut flags = vec!["--lease-duration", "6s"];
        flags.extend_from_slice(extra);
        Operator::replica(control_plane, sim, namespace, namespace, "0", &flags)
    }

    /// One of several replicas sharing the Lease `lease`; `replica` names its log.
    pub fn replica(
        control_plane: &ControlPlane,
        sim: &Sim,
        namespace: &str,
        lease: &str,
        replica: &str,
        extra: &[&str],
    ) -> Operator {
        let kubeconfig = service_account_kubeconfig(control_plane);
        Operator::launch(kubeconfig, sim, namespace, lease, replica, extra)
    }

    /// A replica with `kubeconfig` (for a test about what happens before `deploy/` is
    /// installed, the admin's).
    pub fn launch(
        kubeconfig: PathBuf,
        sim: &Sim,
        namespace: &str,
        lease: &str,
        replica: &str,
        extra: &[&str],
    ) -> Operator {
        let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("operator-logs");
        std::fs::create_dir_all(&logs).expect("log dir");
        let log_path = logs.join(format!("{namespace}-{replica}.log"));
        let _ = std::fs::remove_file(&log_path);
        let mut args: Vec<String> = [
            "run",
            "--vpc-endpoint",
            &sim.endpoint,
            "--namespace",
            namespace,
            "--metrics-address",
            "127.0.0.1:0",
            "--leader-elect",
            "--leader-election-namespace",
            OPERATOR_NAMESPACE,
            "--leader-election-lease",
            lease,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut operator = Operator {
            child: None,
            log_path,
            args,
            kubeconfig,
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
            .env_remove("POD_NAME")
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

    /// SIGTERM, as the kubelet sends it to stop a pod; the process is left to finish.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().expect("the operator runs").id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits for the process to end by itself; its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("the operator runs");
        wait_until("the operator to exit", timeout, || {
            child
                .try_wait()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "still running".to_owned())
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until a line of the log contains `message`.
    pub fn wait_logged(&self, message: &str) {
        wait_until(
            &format!("the log to say {message:?}"),
            Duration::from_secs(60),
            || {
                let log = self.log();
                if log.contains(message) {
                    Ok(())
                } else {
                    Err(log.lines().rev().take(5).collect::<Vec<_>>().join("\n"))
                }
            },
        );
    }

    /// Waits until `/readyz` answers 200.
    pub fn wait_ready(&self) {
        wait_until("/readyz", Duration::from_secs(60), || {
            match self.http_get("/readyz") {
                (200, _) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
    }

    /// Whether this process has taken the leader lease (in its log).
    pub fn is_leader(&self) -> bool {
        self.log().contains("became the leader")
    }

    /// The address of `/metrics`, `/healthz` and `/readyz`, from the start-up log line.
    pub fn endpoints(&self) -> SocketAddr {
        wait_until(
            "the operator to serve metrics",
            Duration::from_secs(30),
            || {
                self.logged("serving /metrics", "address")
                    .and_then(|address| address.parse().map_err(|e| format!("{address}: {e}")))
            },
        )
    }

    /// The field `name` of the last log line that contains `message`, in either log format
    /// (`name=value` in text, `"name":"value"` in JSON).
    pub fn logged(&self, message: &str, name: &str) -> Result<String, String> {
        let log = self.log();
        log.lines()
            .filter(|line| line.contains(message))
            .filter_map(|line| log_field(line, name))
            .next_back()
            .ok_or_else(|| log.lines().rev().take(5).collect::<Vec<_>>().join("\n"))
    }

    /// `GET path` on the operator's endpoints: the status code and the body.
    pub fn http_get(&self, path: &str) -> (u16, String) {
        http_get(self.endpoints(), path)
    }

    /// A `/metrics` scrape.
    pub fn scrape(&self) -> Metrics {
        let (status, body) = self.http_get("/metrics");
        assert_eq!(status, 200, "/metrics: {body}");
        Metrics(body)
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

/// The value of the field `name` in one log line, text or JSON.
fn log_field(line: &str, name: &str) -> Option<String> {
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(line) {
        return fields.get(name)?.as_str().map(str::to_owned);
    }
    let value = line.split(&format!(" {name}=")).nth(1)?;
    value.split_whitespace().next().map(str::to_owned)
}

/// A `/metrics` scrape in the Prometheus text format.
#[derive(Debug, Clone)]
pub struct Metrics(pub String);

impl Metrics {
    /// The value of the sample written exactly `series` (name and labels as printed), if any.
    pub fn value(&self, series: &str) -> Option<f64> {
        self.0.lines().find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
    }

    /// The sum of every sample of `name`, whatever its labels.
    pub fn sum(&self, name: &str) -> f64 {
        self.0
            .lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    }
}

/// A plain HTTP/1.1 GET, enough for the operator's own endpoints.
pub fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("an HTTP response has a head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

/// A kubeconfig holding a token of the ServiceAccount `deploy/` ships, after installing
/// `deploy/` (namespace, ServiceAccount, RBAC, CRD) as a user would, once per test binary.
pub fn service_account_kubeconfig(control_plane: &ControlPlane) -> PathBuf {
    static KUBECONFIG: OnceLock<PathBuf> = OnceLock::new();
    KUBECONFIG
        .get_or_init(|| {
            let admin = control_plane.kubectl();
            let deploy = repo_root().join("deploy");
            admin.ok(&[
                "apply",
                "--server-side",
                "-k",
                deploy.to_str().expect("utf-8 path"),
            ]);
            admin.ok(&[
                "wait",
                "--for=condition=Established",
                "crd/macseckeybindings.macsec.expressconnect.io",
                "--timeout=60s",
            ]);
            let token = admin.ok(&[
                "create",
                "token",
                SERVICE_ACCOUNT,
                "--namespace",
                OPERATOR_NAMESPACE,
                "--duration=24h",
            ]);
            let admin_config = std::fs::read_to_string(&control_plane.kubeconfig)
                .expect("read the admin kubeconfig");
            let mut config: serde_yaml::Value =
                serde_yaml::from_str(&admin_config).expect("kubeconfig YAML");
            let users = config["users"].as_sequence_mut().expect("kubeconfig users");
            for user in users {
                user["user"] = serde_yaml::to_value(
                    [("token", token.trim())]
                        .into_iter()
                        .collect::<std::collections::BTreeMap<_, _>>(),
                )
                .expect("user");
            }
            let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("operator-kubeconfig-{}.yaml", std::process::id()));
            std::fs::write(&path, serde_yaml::to_string(&config).expect("YAML"))
                .expect("write the operator kubeconfig");
            path
        })
        .clone()
}
