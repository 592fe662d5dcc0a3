//! The project's cloud simulator (`macsec-operator sim`) as a child process of a test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ACCESS_KEY_ID: &str = "LTAI5tSimExampleKeyId";
pub const ACCESS_KEY_SECRET: &str = "SimExampleSecretValue";
pub const REGION: &str = "cn-hangzhou";
pub const CIRCUIT: &str = "pc-bp1hp0wr072f6abcd";
/// The key the default seed has associated on `CIRCUIT`.
pub const SEEDED_CKN: &str = "0123456789ABCDEF0123456789ABCDEF";
pub const SEEDED_CAK: &str = "FEDCBA9876543210FEDCBA9876543210";

/// A seed with one access key and one enabled circuit carrying one associated key.
pub fn default_seed() -> String {
    format!(
        "accessKeys:\n  - id: {ACCESS_KEY_ID}\n    secret: {ACCESS_KEY_SECRET}\ncircuits:\n  - regionId: {REGION}\n    physicalConnectionId: {CIRCUIT}\n    status: Enabled\n    keys:\n      - ckn: {SEEDED_CKN}\n        cak: {SEEDED_CAK}\n        cipherSuite: GCM-AES-128\n        status: Associated\n        startOn: \"2026-01-01T00:00:00Z\"\n"
    )
}

/// A running simulator; killed when dropped. Its stdout is kept for inspection.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub output: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Sim {
    /// Starts `macsec-operator sim` with `seed` and extra flags, on a free port.
    pub fn start(seed: &str, flags: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let seed_path: PathBuf = dir.path().join("seed.yaml");
        std::fs::write(&seed_path, seed).expect("write seed");
        // The simulator dies with the thread that started it, even if the test is killed.
        let mut child = Command::new("setpriv")
            .args([
                "--pdeathsig",
                "KILL",
                env!("CARGO_BIN_EXE_macsec-operator"),
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--seed",
            ])
            .arg(&seed_path)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the simulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((_, address)) = line.split_once("listening on ") {
                    let _ = address_tx.send(address.trim().to_owned());
                }
                sink.lock().expect("log lock").push(line);
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "the simulator did not say where it listens: {:?}",
                    output.lock()
                )
            });
        Sim {
            child,
            endpoint: format!("http://{address}"),
            output,
            _dir: dir,
        }
    }

    /// Everything the simulator printed so far.
    pub fn log(&self) -> String {
        self.output.lock().expect("log lock").join("\n")
    }

    /// Calls the simulator's test-only admin API (`/_sim/...`) and returns its JSON. Runs on
    /// a thread of its own, so both plain and async tests can use it.
    pub fn admin(
        &self,
        method: &str,
        path: &str,
        json: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (method, url) = (method.to_owned(), format!("{}{path}", self.endpoint));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut request = reqwest::Client::new().request(method, &url);
                if let Some(json) = json {
                    request = request.json(&json);
                }
                let response = request.send().await.expect("admin call");
                let status = response.status();
                let text = response.text().await.expect("admin body");
                assert!(
                    status.is_success(),
                    "admin call {url}: HTTP {status}: {text}"
                );
                serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
            })
        })
        .join()
        .expect("admin thread")
    }
}

impl Sim {
    /// The status of the key `ckn` on `circuit` as the simulator holds it; `None` when the
    /// circuit has no such key.
    pub fn key_status(&self, circuit: &str, ckn: &str) -> Option<String> {
        let state = self.admin("GET", "/_sim/state", None);
        let circuits = state["circuits"].as_array().cloned().unwrap_or_default();
        let circuit = circuits
            .iter()
            .find(|c| c["physicalConnectionId"] == circuit)?;
        let keys = circuit["keys"].as_array().cloned().unwrap_or_default();
        let key = keys.iter().find(|k| {
            k["ckn"]
                .as_str()
                .is_some_and(|c| c.eq_ignore_ascii_case(ckn))
        })?;
        key["status"].as_str().map(str::to_owned)
    }

    /// Calls of `action` the simulator served, whatever their result.
    pub fn calls(&self, action: &str) -> u64 {
        let calls = self.admin("GET", "/_sim/calls", None);
        calls[action]
            .as_object()
            .map_or(0, |codes| codes.values().filter_map(|n| n.as_u64()).sum())
    }

    /// Calls of `action` the simulator answered with `code` (`OK` for a success).
    pub fn calls_answered(&self, action: &str, code: &str) -> u64 {
        let calls = self.admin("GET", "/_sim/calls", None);
        calls[action][code].as_u64().unwrap_or(0)
    }

    /// Replaces the fault settings (see the simulator's admin API).
    pub fn set_faults(&self, faults: serde_json::Value) {
        self.admin("PUT", "/_sim/faults", Some(faults));
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log of a failed test to read.
        if std::thread::panicking() {
            let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-logs");
            let path = dir.join(format!(
                "sim-{}-{}.log",
                std::process::id(),
                self.endpoint.rsplit(':').next().unwrap_or("0")
            ));
            if std::fs::create_dir_all(&dir).is_ok() && std::fs::write(&path, self.log()).is_ok() {
                eprintln!("simulator log kept at {}", path.display());
            }
        }
    }
}
