//! Starting `macsec-operator run`: bad configuration ends the start with one line, and an
//! API server without the CRD yet is waited for, with the readiness probe saying so. This
//! binary has a control plane of its own on which nothing is installed until a test does.

mod support;

use std::process::{Command, Stdio};

use support::operator::{OPERATOR_NAMESPACE, Operator};
use support::sim::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Sim, default_seed};
use support::{control_plane, install_crd};

/// Environment variables: (name, value).
type Env<'a> = &'a [(&'a str, &'a str)];

/// Runs `macsec-operator run` with `args` and `env` to its end; its exit status and stderr.
fn run_to_end(args: &[&str], env: Env) -> (std::process::ExitStatus, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_macsec-operator"));
    command
        .arg("run")
        .args(args)
        .env("KUBECONFIG", &control_plane().kubeconfig)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for name in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("run the operator");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_stops_the_start_with_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken = taken.local_addr().expect("address").to_string();
    let key = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
    ];
    // (flags, environment, what the one line says)
    let cases: &[(&[&str], Env, &str)] = &[
        (
            &["--lease-duration", "301s"],
            &key,
            "a lease duration must be at most 300s",
        ),
        (
            &["--lease-duration", "2s"],
            &key,
            "a lease duration must be at least 3s",
        ),
        (
            &["--cloud-timeout", "61s"],
            &key,
            "a cloud timeout must be at most 60s",
        ),
        (
            &["--resync", "0s"],
            &key,
            "a resync period must be at least 1s",
        ),
        (&["--rate-limit", "-1"], &key, "--rate-limit"),
        (&["--concurrency", "0"], &key, "--concurrency"),
        (&["--log-format", "yaml"], &key, "--log-format"),
        (&["--namespace", "Bad_NS"], &key, "a namespace name is"),
        (
            &["--leader-election-lease", "Bad Name"],
            &key,
            "a Lease name is",
        ),
        (
            &["--vpc-endpoint", "not a url"],
            &key,
            "--vpc-endpoint: invalid endpoint",
        ),
        (&["--metrics-address", &taken], &key, "cannot listen on"),
        (
            &[],
            &[("RUST_LOG", "info,macsec_operator=loud")],
            "RUST_LOG:",
        ),
        (
            &[],
            &[("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)],
            "must be set together",
        ),
        (
            &[],
            &[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "maybe")],
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED must be true or false",
        ),
    ];
    for (args, env, expected) in cases {
        let (status, stderr) = run_to_end(args, env);
        let what = format!("run {args:?} with {env:?}");
        assert!(!status.success(), "{what} started");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{what}: one line, got:\n{stderr}");
        assert!(lines[0].contains(expected), "{what}: {stderr}");
        assert!(lines[0].starts_with("macsec-operator"), "{what}: {stderr}");
        assert!(
            !stderr.contains(ACCESS_KEY_SECRET),
            "{what}: the secret in {stderr}"
        );
    }

    // With JSON logs, as the Deployment has them, the line that ends the process is JSON
    // too, so a log pipeline keeps it: for a value refused while parsing the flags as for
    // one refused later.
    let json_env: Env = &[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
        ("MACSEC_LOG_FORMAT", "json"),
    ];
    let json_cases: &[(&[&str], Env, &str)] = &[
        (
            &["--log-format", "json", "--vpc-endpoint", "not a url"],
            &key,
            "--vpc-endpoint",
        ),
        (
            &["--log-format=json", "--namespace", "Bad_NS"],
            &key,
            "--namespace",
        ),
        (&["--namespace", "Bad_NS"], json_env, "--namespace"),
    ];
    for (args, env, expected) in json_cases {
        let (status, stderr) = run_to_end(args, env);
        assert!(!status.success(), "{args:?}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line, got:\n{stderr}");
        let line: serde_json::Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", lines[0]));
        assert_eq!(line["level"], "ERROR");
        assert!(line["timestamp"].is_string(), "{line}");
        let message = line["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("macsec-operator") && message.contains(expected),
            "{line}"
        );
    }
}

/// With GitOps the operator may come up before its CRD: it stays not ready and says why,
/// then starts by itself once the CRD is there.
#[test]
fn a_missing_crd_is_waited_for_with_readiness_off() {
    let admin = control_plane().kubectl();
    admin.ok(&["create", "namespace", OPERATOR_NAMESPACE]);
    admin.ok(&["create", "namespace", "waits-for-crd"]);
    let sim = Sim::start(&default_seed(), &[]);
    let operator = Operator::launch(
        control_plane().kubeconfig.clone(),
        &sim,
        "waits-for-crd",
        "waits-for-crd",
        "0",
        &["--lease-duration", "6s"],
    );
    operator.wait_logged("the MacsecKeyBinding CRD is not installed; waiting");
    assert_eq!(operator.http_get("/healthz").0, 200, "alive");
    assert_eq!(
        operator.http_get("/readyz").0,
        503,
        "not ready without the CRD"
    );

    install_crd();
    operator.wait_ready();
    operator.wait_logged("became the leader");
}
