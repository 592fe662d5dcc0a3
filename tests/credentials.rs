//! The default credential chain, source by source: environment keys, RRSA/OIDC against the
//! simulator's STS, and the ECS RAM role against a local stand-in of the metadata service.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use macsec_operator::cloud::{ErrorKind, VpcClient};
use macsec_operator::credentials::*;
use support::sim::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, CIRCUIT, REGION, Sim, default_seed};

fn vars(items: &[(&str, &str)]) -> HashMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn can_describe(sim: &Sim, credentials: &Credentials) -> bool {
    let vpc = VpcClient::new(sim.endpoint.clone(), Duration::from_secs(5)).expect("client");
    vpc.describe_physical_connection(credentials, REGION, CIRCUIT)
        .await
        .is_ok()
}

#[tokio::test]
async fn environment_access_keys_sign_calls() {
    let sim = Sim::start(&default_seed(), &[]);
    let chain = DefaultChain::from_vars(&vars(&[
        (ENV_ACCESS_KEY_ID, ACCESS_KEY_ID),
        (ENV_ACCESS_KEY_SECRET, ACCESS_KEY_SECRET),
    ]))
    .expect("chain");
    let credentials = chain.credentials().await.expect("credentials");
    assert!(can_describe(&sim, &credentials).await);
    assert!(!format!("{chain:?}").contains(ACCESS_KEY_SECRET));
}

#[tokio::test]
async fn oidc_credentials_come_from_sts_and_are_renewed_before_expiry() {
    let sim = Sim::start(&default_seed(), &[]);
    let dir = tempfile::tempdir().expect("dir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.first-token.signature").expect("token");
    let chain_vars = vars(&[
        (ENV_ROLE_ARN, "acs:ram::1234567890:role/macsec-operator"),
        (
            ENV_OIDC_PROVIDER_ARN,
            "acs:ram::1234567890:oidc-provider/ack-rrsa",
        ),
        (ENV_OIDC_TOKEN_FILE, token_file.to_str().expect("utf-8")),
        (ENV_STS_ENDPOINT, &format!("{}/", sim.endpoint)),
    ]);

    // Fresh credentials are cached: two calls, one STS exchange.
    let chain = DefaultChain::from_vars(&chain_vars).expect("chain");
    assert_eq!(chain.source_name(), "RRSA/OIDC (STS AssumeRoleWithOIDC)");
    let first = chain.credentials().await.expect("assume role");
    assert!(
        first.security_token.is_some(),
        "STS credentials carry a token"
    );
    assert!(
        can_describe(&sim, &first).await,
        "the simulator accepts its own temporary credentials"
    );
    let again = chain.credentials().await.expect("cached");
    assert_eq!(
        again.access_key_id, first.access_key_id,
        "still fresh: no new exchange"
    );

    // Credentials within the renewal margin are exchanged again, with the token file
    // read anew (the kubelet rotates it).
    let DefaultChain::Oidc(provider) = DefaultChain::from_vars(&chain_vars).expect("chain") else {
        panic!("expected OIDC")
    };
    let provider = provider.with_refresh_margin(Duration::from_secs(3 * 3600));
    let before = provider.credentials().await.expect("assume role");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.rotated-token.signature")
        .expect("rotate token");
    let renewed = provider.credentials().await.expect("renewed");
    assert_ne!(
        renewed.access_key_id, before.access_key_id,
        "renewed inside the margin"
    );
    assert!(can_describe(&sim, &renewed).await);
    let exchanges = sim
        .log()
        .lines()
        .filter(|l| l.contains("AssumeRoleWithOIDC"))
        .count();
    assert_eq!(exchanges, 3, "one exchange per renewal:\n{}", sim.log());

    // The token never reaches the simulator's log, nor do the temporary secrets.
    let log = sim.log();
    assert!(
        !log.contains("rotated-token") && !log.contains("first-token"),
        "{log}"
    );
    assert!(!log.contains(renewed.access_key_secret.expose()));

    // No token file: a clear credentials error, no call.
    std::fs::remove_file(&token_file).expect("remove token");
    let chain = DefaultChain::from_vars(&chain_vars).expect("chain");
    let error = chain.credentials().await.expect_err("no token");
    assert_eq!(error.reason(), "OidcTokenUnreadable");
    assert_eq!(error.kind(), ErrorKind::Credentials);
}

/// A stand-in for the ECS instance metadata service, with a session token, a role listing
/// and credentials whose expiry the test controls.
#[derive(Default)]
struct Metadata {
    fetches: AtomicU32,
    /// Seconds from now until the served credentials expire.
    lifetime: AtomicI64,
    down: std::sync::atomic::AtomicBool,
}

async fn start_metadata(state: Arc<Metadata>) -> String {
    async fn token(headers: HeaderMap) -> (StatusCode, String) {
        match headers.get("x-aliyun-ecs-metadata-token-ttl-seconds") {
            Some(_) => (StatusCode::OK, "session-token".into()),
            None => (StatusCode::BAD_REQUEST, "ttl header required".into()),
        }
    }
    async fn roles(headers: HeaderMap) -> (StatusCode, String) {
        if headers.get("x-aliyun-ecs-metadata-token").is_none() {
            return (StatusCode::UNAUTHORIZED, String::new());
        }
        (StatusCode::OK, "macsec-node-role\n".into())
    }
    async fn role(
        State(state): State<Arc<Metadata>>,
        Path(role): Path<String>,
        headers: HeaderMap,
    ) -> (StatusCode, String) {
        if state.down.load(Ordering::SeqCst) {
            return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
        }
        if headers
            .get("x-aliyun-ecs-metadata-token")
            .and_then(|v| v.to_str().ok())
            != Some("session-token")
        {
            return (StatusCode::UNAUTHORIZED, String::new());
        }
        if role != "macsec-node-role" {
            return (StatusCode::NOT_FOUND, String::new());
        }
        let n = state.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let expires = jiff::Timestamp::now()
            + jiff::SignedDuration::from_secs(state.lifetime.load(Ordering::SeqCst));
        let body = serde_json::json!({
            "AccessKeyId": format!("STS.ecs-{n}"),
            "AccessKeySecret": format!("ecs-secret-{n}"),
            "SecurityToken": format!("ecs-token-{n}"),
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "Code": "Success",
            "LastUpdated": "2026-01-01T00:00:00Z",
        });
        (StatusCode::OK, body.to_string())
    }
    let app = axum::Router::new()
        .route("/latest/api/token", put(token))
        .route("/latest/meta-data/ram/security-credentials/", get(roles))
        .route(
            "/latest/meta-data/ram/security-credentials/{role}",
            get(role),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ecs_ram_role_is_read_cached_and_renewed() {
    let state = Arc::new(Metadata::default());
    state.lifetime.store(3600, Ordering::SeqCst);
    let endpoint = start_metadata(Arc::clone(&state)).await;

    let chain =
        DefaultChain::from_vars(&vars(&[(ENV_ECS_METADATA_ENDPOINT, &endpoint)])).expect("chain");
    let first = chain.credentials().await.expect("role credentials");
    assert_eq!(
        first.access_key_id, "STS.ecs-1",
        "the role name comes from the listing"
    );
    assert_eq!(
        first.security_token.as_ref().map(|t| t.expose()),
        Some("ecs-token-1")
    );
    chain.credentials().await.expect("cached");
    assert_eq!(
        state.fetches.load(Ordering::SeqCst),
        1,
        "fresh credentials are cached"
    );

    // Credentials that expire within the margin are fetched again on the next use.
    let chain = DefaultChain::from_vars(&vars(&[
        (ENV_ECS_METADATA_ENDPOINT, &endpoint),
        (ENV_ECS_ROLE_NAME, "macsec-node-role"),
    ]))
    .expect("chain");
    state.lifetime.store(60, Ordering::SeqCst);
    let short = chain.credentials().await.expect("short-lived");
    let renewed = chain.credentials().await.expect("renewed");
    assert_ne!(
        short.access_key_id, renewed.access_key_id,
        "renewed before expiry"
    );

    // While the service is down, still-valid credentials keep working.
    state.down.store(true, Ordering::SeqCst);
    let kept = chain
        .credentials()
        .await
        .expect("falls back on unexpired credentials");
    assert_eq!(kept.access_key_id, renewed.access_key_id);

    // A role the instance does not have is "missing", not a retryable fault.
    state.down.store(false, Ordering::SeqCst);
    let chain = DefaultChain::from_vars(&vars(&[
        (ENV_ECS_METADATA_ENDPOINT, &endpoint),
        (ENV_ECS_ROLE_NAME, "other-role"),
    ]))
    .expect("chain");
    let error = chain.credentials().await.expect_err("no such role");
    assert_eq!(error.reason(), "CredentialsMissing");

    // No metadata service at all: transient, with the endpoint named.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let chain = DefaultChain::from_vars(&vars(&[(
        ENV_ECS_METADATA_ENDPOINT,
        &format!("http://127.0.0.1:{port}"),
    )]))
    .expect("chain");
    let error = chain.credentials().await.expect_err("unreachable");
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert!(error.to_string().contains(&port.to_string()), "{error}");
}

#[tokio::test]
async fn nothing_configured_and_no_metadata_is_credentials_missing() {
    let chain =
        DefaultChain::from_vars(&vars(&[(ENV_ECS_METADATA_DISABLED, "true")])).expect("chain");
    let error = chain.credentials().await.expect_err("nothing");
    assert_eq!(error.reason(), "CredentialsMissing");
    assert_eq!(error.kind(), ErrorKind::Credentials);
}
