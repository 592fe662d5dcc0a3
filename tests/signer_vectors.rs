//! The project's signer against vectors computed by the official Alibaba Cloud Python SDK.
//!
//! `tests/vectors/acs3_sdk.json` and `tests/vectors/rpc_sdk.json` are written by
//! `conformance/sdk_vectors.py` with the SDK's own signing functions, and
//! `conformance/test_signer_vectors.py` (run by `make conformance`) fails when they are not
//! exactly what the pinned SDK computes. This test needs no Python: it only reads the files.

use std::path::PathBuf;

use macsec_operator::cloud::signer::{
    Acs3Parts, is_signed_header, parse_acs3_authorization, rpc_signature, rpc_string_to_sign,
    sha256_hex, signed_header_names,
};
use serde::Deserialize;

type Pairs = Vec<(String, String)>;

#[derive(Debug, Deserialize)]
struct Acs3Vector {
    name: String,
    method: String,
    path: String,
    query: Pairs,
    headers: Pairs,
    body: String,
    access_key_id: String,
    access_key_secret: String,
    expected_authorization: String,
}

#[derive(Debug, Deserialize)]
struct RpcVector {
    name: String,
    method: String,
    params: Pairs,
    access_key_secret: String,
    expected_signature: String,
}

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> Vec<T> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("parsing {}: {err}", path.display()))
}

fn header<'a>(headers: &'a Pairs, lowercase_name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(lowercase_name))
        .map(|(_, value)| value.as_str())
}

#[test]
fn acs3_authorization_matches_the_official_sdk() {
    let vectors: Vec<Acs3Vector> = load("acs3_sdk.json");
    assert!(
        vectors.len() >= 8,
        "expected at least 8 ACS3 vectors, found {}",
        vectors.len()
    );
    let mut mismatches = Vec::new();
    for v in &vectors {
        let hashed_payload = sha256_hex(v.body.as_bytes());
        if let Some(declared) = header(&v.headers, "x-acs-content-sha256") {
            assert_eq!(
                declared, hashed_payload,
                "{}: x-acs-content-sha256 is not the body's hash",
                v.name
            );
        }
        // The SDK signs every header it sends (its pipeline adds `accept` and `user-agent`);
        // a verifier takes the list from the Authorization header, as the simulator does.
        let sdk = parse_acs3_authorization(&v.expected_authorization)
            .unwrap_or_else(|| panic!("{}: the SDK's Authorization does not parse", v.name));
        assert_eq!(sdk.access_key_id, v.access_key_id, "{}", v.name);
        // What the project's client would choose: host, content-type and x-acs-*. Where the
        // request has no other header, that must be the SDK's list too.
        let ours = signed_header_names(&v.headers);
        if v.headers
            .iter()
            .all(|(name, _)| is_signed_header(&name.to_ascii_lowercase()))
        {
            assert_eq!(ours, sdk.signed_headers, "{}: signed header list", v.name);
        } else {
            assert!(
                ours.iter().all(|name| sdk.signed_headers.contains(name)),
                "{}: the SDK leaves out a header the client signs: {ours:?} vs {:?}",
                v.name,
                sdk.signed_headers
            );
        }
        let parts = Acs3Parts {
            method: &v.method,
            path: &v.path,
            query: &v.query,
            headers: &v.headers,
            signed_headers: &sdk.signed_headers,
            hashed_payload: &hashed_payload,
        };
        let authorization = parts.authorization(&v.access_key_id, &v.access_key_secret);
        if authorization != v.expected_authorization {
            mismatches.push(format!(
                "{}:\n  canonical request: {:?}\n  ours: {authorization}\n  sdk:  {}",
                v.name,
                parts.canonical_request(),
                v.expected_authorization
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "ACS3 mismatches:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn rpc_signature_matches_the_official_sdk() {
    let vectors: Vec<RpcVector> = load("rpc_sdk.json");
    assert!(
        vectors.len() >= 3,
        "expected at least 3 RPC vectors, found {}",
        vectors.len()
    );
    let mut mismatches = Vec::new();
    for v in &vectors {
        let string_to_sign = rpc_string_to_sign(&v.method, &v.params);
        let signature = rpc_signature(&v.access_key_secret, &string_to_sign);
        if signature != v.expected_signature {
            mismatches.push(format!(
                "{}:\n  string to sign: {string_to_sign:?}\n  ours: {signature}\n  sdk:  {}",
                v.name, v.expected_signature
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "HMAC-SHA1 mismatches:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn vectors_cover_the_required_cases() {
    let acs3: Vec<Acs3Vector> = load("acs3_sdk.json");
    let names: Vec<&str> = acs3.iter().map(|v| v.name.as_str()).collect();
    assert!(
        names.contains(&"published_example_run_instances"),
        "{names:?}"
    );
    let action = |v: &Acs3Vector| {
        header(&v.headers, "x-acs-action")
            .unwrap_or_default()
            .to_owned()
    };
    for wanted in [
        "AssociateMacSecKey",
        "DisassociateMacSecKey",
        "DescribePhysicalConnections",
    ] {
        assert!(
            acs3.iter().any(|v| action(v) == wanted),
            "no vector for {wanted}"
        );
    }
    assert!(
        acs3.iter()
            .any(|v| header(&v.headers, "x-acs-security-token").is_some())
    );
    assert!(
        acs3.iter()
            .any(|v| !v.body.is_empty() && header(&v.headers, "content-type").is_some())
    );
    assert!(
        acs3.iter()
            .any(|v| v.query.iter().any(|(_, value)| value.is_empty()))
    );
    assert!(acs3.iter().any(|v| {
        v.query
            .iter()
            .any(|(_, value)| value.contains(' ') && !value.is_ascii())
    }));
}
