//! The MacsecKeyBinding CRD on a real API server: what it accepts, what it refuses and how
//! kubectl shows it.

mod support;

use std::time::Duration;

use support::{TestNamespace, install_crd, repo_root, wait_until};

const CRD_FILE: &str = "crds/macseckeybinding.yaml";
const CKN_128: &str = "0123456789abcdef0123456789ABCDEF";

fn binding(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: macsec.expressconnect.io/v1alpha1\nkind: MacsecKeyBinding\nmetadata:\n  name: {name}\nspec:\n{spec}"
    )
}

fn valid_spec() -> String {
    format!(
        "  regionId: cn-hangzhou\n  physicalConnectionId: pc-bp1hp0wr072f6abcd\n  cipherSuite: GCM-AES-128\n  ckn: {CKN_128}\n  cakSecretRef:\n    name: port-1-cak\n"
    )
}

#[test]
fn committed_crd_matches_the_generated_one() {
    let generated = macsec_operator::resource::crd_yaml().expect("render CRD");
    let committed =
        std::fs::read_to_string(repo_root().join(CRD_FILE)).expect("read committed CRD");
    assert!(
        generated == committed,
        "{CRD_FILE} is out of date: run `cargo run -- crd > {CRD_FILE}` and commit the result"
    );
}

#[test]
fn valid_binding_is_accepted_and_read_back_with_defaults() {
    install_crd();
    let ns = TestNamespace::new("valid-binding");
    ns.kubectl.apply(&binding("port-1", &valid_spec()));

    let object = ns.kubectl.get_json("macseckeybinding", "port-1");
    let spec = &object["spec"];
    assert_eq!(spec["regionId"], "cn-hangzhou");
    assert_eq!(spec["physicalConnectionId"], "pc-bp1hp0wr072f6abcd");
    assert_eq!(spec["cipherSuite"], "GCM-AES-128");
    assert_eq!(spec["ckn"], CKN_128);
    assert_eq!(spec["cakSecretRef"]["name"], "port-1-cak");
    assert_eq!(
        spec["cakSecretRef"]["key"], "cak",
        "the Secret key defaults to cak"
    );
    assert_eq!(
        spec["deletionPolicy"], "Disassociate",
        "the deletion policy defaults to Disassociate"
    );

    // The Rust types read what the API server stored.
    let typed: macsec_operator::resource::MacsecKeyBinding =
        serde_json::from_value(object).expect("the stored object deserializes");
    assert_eq!(typed.spec.cipher_suite.key_hex_len(), 32);

    // An adopted key (no CAK Secret) with a 256-bit suite and another policy is valid too.
    let adopted = format!(
        "  regionId: cn-shanghai\n  physicalConnectionId: pc-0abc9\n  cipherSuite: GCM-AES-XPN-256\n  ckn: {}\n  deletionPolicy: Orphan\n  credentialsSecretRef:\n    name: aliyun-credentials\n",
        "ab".repeat(32)
    );
    ns.kubectl.apply(&binding("adopted", &adopted));
    let object = ns.kubectl.get_json("mkb", "adopted");
    assert_eq!(object["spec"]["deletionPolicy"], "Orphan");
    assert!(object["spec"].get("cakSecretRef").is_none());
}

/// Each invalid manifest is refused by the API server, with a message naming the field.
#[test]
fn invalid_bindings_are_refused_with_the_field_named() {
    install_crd();
    let ns = TestNamespace::new("invalid-binding");
    let base = valid_spec();
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "CKN of 128-bit length for a 256-bit suite",
            base.replace("GCM-AES-128", "GCM-AES-256"),
            &["spec.ckn", "64 for GCM-AES-256"],
        ),
        (
            "CKN of 256-bit length for a 128-bit suite",
            base.replace(CKN_128, &"ab".repeat(32)),
            &["spec.ckn", "32 hex characters for GCM-AES-128"],
        ),
        (
            "non-hex CKN",
            base.replace(CKN_128, &"zz".repeat(16)),
            &["spec.ckn", "should match '^[0-9A-Fa-f]+$'"],
        ),
        (
            "unknown cipher suite",
            base.replace("GCM-AES-128", "GCM-AES-512"),
            &["spec.cipherSuite", "Unsupported value: \"GCM-AES-512\""],
        ),
        (
            "missing CKN",
            base.replace(&format!("  ckn: {CKN_128}\n"), ""),
            &["spec.ckn", "Required value"],
        ),
        (
            "missing region",
            base.replace("  regionId: cn-hangzhou\n", ""),
            &["spec.regionId", "Required value"],
        ),
        (
            "circuit ID without the pc- prefix",
            base.replace("pc-bp1hp0wr072f6abcd", "bp1hp0wr072f6abcd"),
            &["spec.physicalConnectionId", "should match"],
        ),
        (
            "unknown deletion policy",
            format!("{base}  deletionPolicy: Destroy\n"),
            &["spec.deletionPolicy", "Unsupported value: \"Destroy\""],
        ),
        (
            "a CAK Secret in another namespace",
            base.replace(
                "    name: port-1-cak\n",
                "    name: port-1-cak\n    namespace: kube-system\n",
            ),
            &["spec.cakSecretRef.namespace", "unknown field"],
        ),
        (
            "credentials from another namespace",
            format!("{base}  credentialsSecretRef:\n    name: creds\n    namespace: kube-system\n"),
            &["spec.credentialsSecretRef.namespace", "unknown field"],
        ),
    ];

    let mut failures = Vec::new();
    for (case, spec, expected) in cases {
        let out = ns
            .kubectl
            .run_with_stdin(&["apply", "-f", "-"], Some(&binding("invalid", &spec)));
        if out.success {
            failures.push(format!("{case}: accepted, but must be refused"));
            ns.kubectl
                .run(&["delete", "mkb", "invalid", "--wait=false"]);
            continue;
        }
        for needle in expected {
            if !out.stderr.contains(needle) {
                failures.push(format!(
                    "{case}: message lacks {needle:?}: {}",
                    out.stderr.trim()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn immutable_fields_cannot_change_but_the_deletion_policy_can() {
    install_crd();
    let ns = TestNamespace::new("immutable");
    ns.kubectl.apply(&binding("port-1", &valid_spec()));

    let changes: Vec<(&str, String, &[&str])> = vec![
        (
            "region",
            r#"{"spec":{"regionId":"cn-beijing"}}"#.into(),
            &["spec.regionId", "regionId is immutable"],
        ),
        (
            "circuit",
            r#"{"spec":{"physicalConnectionId":"pc-other"}}"#.into(),
            &[
                "spec.physicalConnectionId",
                "physicalConnectionId is immutable",
            ],
        ),
        (
            "cipher suite",
            r#"{"spec":{"cipherSuite":"GCM-AES-XPN-128"}}"#.into(),
            &["spec.cipherSuite", "cipherSuite is immutable"],
        ),
        (
            "CKN",
            format!(r#"{{"spec":{{"ckn":"{}"}}}}"#, "f".repeat(32)),
            &["spec.ckn", "ckn is immutable"],
        ),
        (
            "CAK Secret name",
            r#"{"spec":{"cakSecretRef":{"name":"other"}}}"#.into(),
            &["spec.cakSecretRef", "cakSecretRef is immutable"],
        ),
        (
            "CAK Secret removed",
            r#"{"spec":{"cakSecretRef":null}}"#.into(),
            &["spec.cakSecretRef", "cannot be added to or removed"],
        ),
    ];
    let mut failures = Vec::new();
    for (case, patch, expected) in changes {
        let out = ns
            .kubectl
            .run(&["patch", "mkb", "port-1", "--type", "merge", "-p", &patch]);
        if out.success {
            failures.push(format!(
                "{case}: change accepted, but the field is immutable"
            ));
            continue;
        }
        for needle in expected {
            if !out.stderr.contains(needle) {
                failures.push(format!(
                    "{case}: message lacks {needle:?}: {}",
                    out.stderr.trim()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Adding a CAK Secret to an adopted key is refused too.
    let adopted = valid_spec().replace("  cakSecretRef:\n    name: port-1-cak\n", "");
    ns.kubectl.apply(&binding("adopted", &adopted));
    let out = ns.kubectl.run(&[
        "patch",
        "mkb",
        "adopted",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"cakSecretRef":{"name":"cak"}}}"#,
    ]);
    assert!(!out.success, "adding cakSecretRef was accepted");
    assert!(out.stderr.contains("spec.cakSecretRef"), "{}", out.stderr);

    ns.kubectl.ok(&[
        "patch",
        "mkb",
        "port-1",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"deletionPolicy":"Orphan"}}"#,
    ]);
    // The cloud does not tell a lowercase CKN from an uppercase one: neither does the rule.
    let upper = format!(r#"{{"spec":{{"ckn":"{}"}}}}"#, CKN_128.to_ascii_uppercase());
    ns.kubectl
        .ok(&["patch", "mkb", "port-1", "--type", "merge", "-p", &upper]);
    assert_eq!(
        ns.kubectl.get_json("mkb", "port-1")["spec"]["deletionPolicy"],
        "Orphan"
    );
}

#[test]
fn kubectl_shows_the_printer_columns_and_explains_every_field() {
    install_crd();
    let ns = TestNamespace::new("columns");
    ns.kubectl.apply(&binding("port-1", &valid_spec()));

    let table = ns.kubectl.ok(&["get", "mkb"]);
    let header = table.lines().next().unwrap_or_default();
    for column in [
        "NAME",
        "REGION",
        "CIRCUIT",
        "CIPHER",
        "KEY STATUS",
        "READY",
        "AGE",
    ] {
        assert!(
            header.contains(column),
            "column {column} missing from:\n{table}"
        );
    }
    assert!(
        table.contains("cn-hangzhou")
            && table.contains("pc-bp1hp0wr072f6abcd")
            && table.contains("GCM-AES-128")
    );

    // The category lists it too.
    let by_category = ns.kubectl.ok(&["get", "expressconnect"]);
    assert!(by_category.contains("port-1"), "{by_category}");

    // kubectl wraps the text at its own width: compare words, not lines.
    let explain = ns.kubectl.ok(&["explain", "macseckeybinding.spec"]);
    let explain = explain.split_whitespace().collect::<Vec<_>>().join(" ");
    for (field, words) in [
        ("regionId", "region of the circuit"),
        ("physicalConnectionId", "dedicated circuit"),
        ("cipherSuite", "cipher suite"),
        ("ckn", "Connectivity association key name"),
        ("cakSecretRef", "connectivity association key (CAK)"),
        ("deletionPolicy", "What deleting this binding does"),
        ("credentialsSecretRef", "Alibaba Cloud credentials"),
    ] {
        assert!(
            explain.contains(field) && explain.contains(words),
            "explain lacks {field} ({words}):\n{explain}"
        );
    }
}

/// The status subresource takes standard conditions, and `kubectl wait` reads them.
#[test]
fn kubectl_wait_reads_the_ready_condition() {
    install_crd();
    let ns = TestNamespace::new("wait-ready");
    ns.kubectl.apply(&binding("port-1", &valid_spec()));
    let status = r#"{"status":{"observedGeneration":1,"keyStatus":"Associated","conditions":[{"type":"Ready","status":"True","reason":"Associated","message":"the key is associated","lastTransitionTime":"2026-01-01T00:00:00Z","observedGeneration":1}]}}"#;
    ns.kubectl.ok(&[
        "patch",
        "mkb",
        "port-1",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        status,
    ]);
    ns.kubectl.ok(&[
        "wait",
        "--for=condition=Ready",
        "mkb/port-1",
        "--timeout=30s",
    ]);
    let ready = wait_until(
        "the Ready column to show True",
        Duration::from_secs(10),
        || {
            let table = ns.kubectl.ok(&["get", "mkb", "port-1", "--no-headers"]);
            if table.contains("True") && table.contains("Associated") {
                Ok(table)
            } else {
                Err(table)
            }
        },
    );
    assert!(ready.contains("port-1"));

    // A status write through the main resource is ignored: status is its own subresource.
    ns.kubectl.ok(&[
        "patch",
        "mkb",
        "port-1",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"keyStatus":"Forged"}}"#,
    ]);
    assert_eq!(
        ns.kubectl.get_json("mkb", "port-1")["status"]["keyStatus"],
        "Associated"
    );
}
