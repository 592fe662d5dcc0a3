//! The VPC client against the project's simulator: every action, every error kind, and
//! the faults the controller must survive.

mod support;

use std::time::Duration;

use macsec_operator::cloud::{AssociateKey, CloudError, ErrorKind, VpcClient};
use macsec_operator::credentials::Credentials;
use macsec_operator::resource::CipherSuite;
use macsec_operator::secret::SecretString;
use support::sim::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, CIRCUIT, REGION, SEEDED_CAK, SEEDED_CKN, Sim, default_seed,
};

const NEW_CKN: &str = "aaaabbbbccccdddd0000111122223333";
const NEW_CAK: &str = "1234123412341234abcdabcdabcdabcd";

fn credentials() -> Credentials {
    Credentials {
        access_key_id: ACCESS_KEY_ID.into(),
        access_key_secret: SecretString::new(ACCESS_KEY_SECRET),
        security_token: None,
    }
}

fn client(sim: &Sim) -> VpcClient {
    VpcClient::new(sim.endpoint.clone(), Duration::from_secs(5)).expect("client")
}

fn key_status(
    circuit: &macsec_operator::cloud::wire::PhysicalConnection,
    ckn: &str,
) -> Option<String> {
    circuit
        .macsec_keys
        .macsec_key
        .iter()
        .find(|k| k.ckn == ckn)
        .map(|k| k.status.clone())
}

/// Every secret the tests use; none may appear in output.
fn assert_no_secret_in(text: &str) {
    for secret in [
        ACCESS_KEY_SECRET,
        SEEDED_CAK,
        NEW_CAK,
        &NEW_CAK.to_ascii_uppercase(),
    ] {
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}

#[tokio::test]
async fn associate_describe_and_the_two_call_deletion() {
    let sim = Sim::start(&default_seed(), &[]);
    let vpc = client(&sim);
    let creds = credentials();

    let circuit = vpc
        .describe_physical_connection(&creds, REGION, CIRCUIT)
        .await
        .expect("describe")
        .expect("circuit");
    assert_eq!(circuit.status, "Enabled");
    assert_eq!(
        key_status(&circuit, SEEDED_CKN).as_deref(),
        Some("Associated")
    );

    let cak = SecretString::new(NEW_CAK);
    let key = AssociateKey {
        region_id: REGION,
        physical_connection_id: CIRCUIT,
        cipher_suite: CipherSuite::GcmAes128,
        ckn: NEW_CKN,
        cak: &cak,
    };
    let request_id = vpc
        .associate_macsec_key(&creds, &key)
        .await
        .expect("associate");
    assert!(!request_id.is_empty());
    let circuit = vpc
        .describe_physical_connection(&creds, REGION, CIRCUIT)
        .await
        .expect("describe")
        .expect("circuit");
    let upper = NEW_CKN.to_ascii_uppercase();
    assert_eq!(
        key_status(&circuit, &upper).as_deref(),
        Some("Associated"),
        "stored upper case and associated"
    );
    assert_eq!(
        key_status(&circuit, SEEDED_CKN).as_deref(),
        Some("Disassociated"),
        "the old key steps back"
    );

    // Disassociating the active key brings back the most recently activated other one.
    vpc.disassociate_macsec_key(&creds, REGION, CIRCUIT, NEW_CKN)
        .await
        .expect("disassociate");
    let circuit = vpc
        .describe_physical_connection(&creds, REGION, CIRCUIT)
        .await
        .expect("describe")
        .expect("circuit");
    assert_eq!(
        key_status(&circuit, &upper).as_deref(),
        Some("Disassociated")
    );
    assert_eq!(
        key_status(&circuit, SEEDED_CKN).as_deref(),
        Some("Associated")
    );

    // A second call on a disassociated key deletes it.
    vpc.disassociate_macsec_key(&creds, REGION, CIRCUIT, NEW_CKN)
        .await
        .expect("delete");
    let circuit = vpc
        .describe_physical_connection(&creds, REGION, CIRCUIT)
        .await
        .expect("describe")
        .expect("circuit");
    assert_eq!(key_status(&circuit, &upper), None, "the key is gone");

    // And a third finds nothing.
    let error = vpc
        .disassociate_macsec_key(&creds, REGION, CIRCUIT, NEW_CKN)
        .await
        .expect_err("gone");
    assert_eq!(error.kind(), ErrorKind::KeyAbsent);
    assert_eq!(error.code(), "ResourceNotFound.PconnMacsec");
    assert!(error.request_id().is_some());

    assert_no_secret_in(&sim.log());
    assert!(
        sim.log().contains("AssociateMacSecKey"),
        "the simulator logs each call"
    );
}

#[tokio::test]
async fn api_errors_are_classified_by_code() {
    let sim = Sim::start(&default_seed(), &[]);
    let vpc = client(&sim);
    let creds = credentials();

    let missing = vpc
        .describe_physical_connection(&creds, REGION, "pc-doesnotexist")
        .await
        .expect("describe");
    assert!(missing.is_none(), "an unknown circuit is simply not listed");
    let error = vpc
        .disassociate_macsec_key(&creds, REGION, "pc-doesnotexist", SEEDED_CKN)
        .await
        .expect_err("no circuit");
    assert_eq!(
        (error.kind(), error.code()),
        (
            ErrorKind::CircuitNotFound,
            "ResourceNotFound.PhysicalConnectionId"
        )
    );

    let wrong_secret = Credentials {
        access_key_secret: SecretString::new("not-the-secret"),
        ..credentials()
    };
    let error = vpc
        .describe_physical_connection(&wrong_secret, REGION, CIRCUIT)
        .await
        .expect_err("bad signature");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Credentials, "SignatureDoesNotMatch")
    );

    let unknown = Credentials {
        access_key_id: "LTAIunknown".into(),
        ..credentials()
    };
    let error = vpc
        .describe_physical_connection(&unknown, REGION, CIRCUIT)
        .await
        .expect_err("unknown key");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Credentials, "InvalidAccessKeyId.NotFound")
    );

    let bad_cak = SecretString::new("not-hex-not-hex-not-hex-not-hex!");
    let key = AssociateKey {
        region_id: REGION,
        physical_connection_id: CIRCUIT,
        cipher_suite: CipherSuite::GcmAes128,
        ckn: NEW_CKN,
        cak: &bad_cak,
    };
    let error = vpc
        .associate_macsec_key(&creds, &key)
        .await
        .expect_err("bad CAK");
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(error.code().starts_with("IllegalParam"), "{error}");
    assert!(
        !error
            .to_string()
            .to_ascii_uppercase()
            .contains("NOT-HEX-NOT-HEX"),
        "{error}"
    );

    sim.admin(
        "POST",
        &format!("/_sim/circuits/{CIRCUIT}/status"),
        Some(serde_json::json!({"status": "Terminating"})),
    );
    let error = vpc
        .disassociate_macsec_key(&creds, REGION, CIRCUIT, SEEDED_CKN)
        .await
        .expect_err("circuit state");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Slow, "IncorrectStatus.PhysicalConnection")
    );
}

/// Throttling, 500s and unstable windows each come back as their own kind, and the client
/// makes exactly one request per call: the controller alone retries.
#[tokio::test]
async fn faults_come_back_as_their_kind_and_are_never_retried_inside() {
    let sim = Sim::start(&default_seed(), &["--throttle-share", "0.5"]);
    let vpc = client(&sim);
    let creds = credentials();
    let calls = 20;
    let mut throttled = 0;
    for _ in 0..calls {
        match vpc
            .describe_physical_connection(&creds, REGION, CIRCUIT)
            .await
        {
            Ok(_) => {}
            Err(error) => {
                let ErrorKind::Throttled { retry_after } = error.kind() else {
                    panic!("expected throttling: {error}")
                };
                assert_eq!(error.code(), "Throttling.User");
                assert!(retry_after.is_some(), "the server's TimeLeft hint is read");
                throttled += 1;
            }
        }
    }
    assert_eq!(throttled, calls / 2, "half of the calls are throttled");
    let counts = sim.admin("GET", "/_sim/calls", None);
    let served: u64 = total_calls(&counts);
    assert_eq!(
        served, calls as u64,
        "one request per client call, no hidden retries: {counts}"
    );

    let sim = Sim::start(&default_seed(), &["--error-share", "1"]);
    let error = client(&sim)
        .describe_physical_connection(&creds, REGION, CIRCUIT)
        .await
        .expect_err("500");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Transient, "InternalError")
    );
    assert_eq!(total_calls(&sim.admin("GET", "/_sim/calls", None)), 1);

    let sim = Sim::start(&default_seed(), &["--unstable-window", "30s"]);
    let vpc = client(&sim);
    vpc.disassociate_macsec_key(&creds, REGION, CIRCUIT, SEEDED_CKN)
        .await
        .expect("first change");
    let error = vpc
        .disassociate_macsec_key(&creds, REGION, CIRCUIT, SEEDED_CKN)
        .await
        .expect_err("unstable");
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Transient, "IncorrectStatus.PconnMacsec")
    );
    vpc.describe_physical_connection(&creds, REGION, CIRCUIT)
        .await
        .expect("reads still work while unstable");
}

#[tokio::test]
async fn a_slow_cloud_ends_in_a_timeout() {
    let sim = Sim::start(&default_seed(), &["--latency", "3s"]);
    let vpc = VpcClient::new(sim.endpoint.clone(), Duration::from_millis(300)).expect("client");
    let error = vpc
        .describe_physical_connection(&credentials(), REGION, CIRCUIT)
        .await
        .expect_err("timeout");
    assert!(matches!(error, CloudError::Timeout { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Transient);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // The listener is dropped: nothing answers on that port now.
    let vpc =
        VpcClient::new(format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).expect("client");
    let error = vpc
        .describe_physical_connection(&credentials(), REGION, CIRCUIT)
        .await
        .expect_err("refused");
    assert!(matches!(error, CloudError::Connection { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_no_secret_in(&format!("{error} {error:?}"));
}

/// Sums the simulator's per-action, per-code call counts, whatever their nesting.
fn total_calls(counts: &serde_json::Value) -> u64 {
    match counts {
        serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
        serde_json::Value::Object(map) => map.values().map(total_calls).sum(),
        serde_json::Value::Array(items) => items.iter().map(total_calls).sum(),
        _ => 0,
    }
}
