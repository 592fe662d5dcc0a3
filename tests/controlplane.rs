//! The test control plane leaves no process behind, however its starter ends.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{repo_root, wait_until};

/// Processes whose command line mentions `needle` (the run's own directory).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        // A zombie has an empty command line; it is gone as far as resources go.
        if cmdline.contains(needle) {
            found.push(format!(
                "{}: {}",
                entry.file_name().to_string_lossy(),
                cmdline.trim()
            ));
        }
    }
    found
}

fn start_and_wait_ready(dir: &std::path::Path) -> Child {
    let mut child = Command::new(repo_root().join("hack/controlplane/start.sh"))
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run start.sh");
    let stdout = child.stdout.take().expect("piped stdout");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "ready");
    assert!(
        ready,
        "start.sh ended without saying ready; logs in {}",
        dir.display()
    );
    child
}

fn assert_all_stop_after(signal: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let needle = dir.path().to_str().expect("utf-8 path").to_owned();
    let mut child = start_and_wait_ready(dir.path());
    let running = processes_mentioning(&needle);
    assert!(
        running.len() >= 3,
        "expected the script, etcd and kube-apiserver: {running:?}"
    );

    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    child.wait().expect("reap start.sh");
    wait_until(
        &format!("every control plane process to stop after {signal}"),
        Duration::from_secs(15),
        || {
            let left = processes_mentioning(&needle);
            if left.is_empty() {
                Ok(())
            } else {
                Err(format!("{left:?}"))
            }
        },
    );
}

#[test]
fn sigterm_to_the_starter_stops_etcd_and_the_api_server() {
    assert_all_stop_after("-TERM");
}

#[test]
fn sigkill_of_the_starter_still_stops_etcd_and_the_api_server() {
    assert_all_stop_after("-KILL");
}
