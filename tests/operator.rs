//! The operator end to end: a real control plane, the simulator, and `macsec-operator run`
//! as its own process, driven with kubectl as a user would.

mod support;

use std::time::Duration;

use serde_json::json;
use support::sim::{ACCESS_KEY_SECRET, CIRCUIT, REGION, SEEDED_CAK, SEEDED_CKN, default_seed};
use support::wait_until;
use support::world::*;

#[test]
fn a_binding_with_a_cak_secret_associates_its_key_and_becomes_ready() {
    let world = World::new("create-with-cak", &default_seed(), &[], &[]);
    world.apply(&cak_secret_yaml("new-cak", CAK_NEW));
    world.apply(&binding_yaml(
        "new-key",
        CKN_NEW,
        Some("new-cak"),
        "Disassociate",
    ));
    world.ns.kubectl.ok(&[
        "wait",
        "--for=condition=Ready",
        "mkb/new-key",
        "--timeout=60s",
    ]);

    let binding = world.binding("new-key").expect("binding");
    assert!(
        key_status_is(&binding, "Associated"),
        "{}",
        binding["status"]
    );
    assert!(
        condition_is(&binding, "Synced", "True", "ReconcileSuccess"),
        "{}",
        binding["status"]
    );
    assert_eq!(
        binding["status"]["observedGeneration"],
        binding["metadata"]["generation"]
    );
    assert!(
        binding["status"]["lastRequestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!(binding["status"]["startOn"].as_str().is_some());
    assert_eq!(
        binding["metadata"]["finalizers"],
        json!(["macsec.expressconnect.io/disassociate-key"])
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, CKN_NEW).as_deref(),
        Some("Associated")
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Disassociated")
    );
    assert_eq!(world.sim.calls("AssociateMacSecKey"), 1);

    let table = world
        .ns
        .kubectl
        .ok(&["get", "mkb", "new-key", "--no-headers"]);
    assert!(
        table.contains("Associated") && table.contains("True"),
        "{table}"
    );
    assert!(world.events().contains("AssociateMacSecKey succeeded"));

    // A quiet object costs no writes: the status stays exactly as it is.
    let version = binding["metadata"]["resourceVersion"].clone();
    let quiet = world.ns.kubectl.ok(&[
        "get",
        "mkb",
        "new-key",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    assert_eq!(json!(quiet), version);
    assert_no_secrets(&world);
}

#[test]
fn a_binding_without_a_secret_adopts_the_existing_key() {
    let world = World::new("adopt", &default_seed(), &[], &[]);
    world.apply(&binding_yaml("adopted", SEEDED_CKN, None, "Disassociate"));
    let binding = world.wait_status("adopted", "Ready", |b| {
        condition_is(b, "Ready", "True", "Associated")
    });
    assert!(key_status_is(&binding, "Associated"));
    assert_eq!(
        world.sim.calls("AssociateMacSecKey"),
        0,
        "adoption only observes"
    );

    // A key that is not on the circuit is reported Absent, and nothing is associated.
    world.apply(&binding_yaml("absent", CKN_NEW, None, "Disassociate"));
    world.wait_status("absent", "Absent", |b| {
        key_status_is(b, "Absent") && condition_is(b, "Ready", "False", "Absent")
    });
    assert_eq!(world.sim.calls("AssociateMacSecKey"), 0);
}

/// A binding that names another cipher suite than the key on the circuit runs is not Ready,
/// whatever the key's status: the binding does not describe the port.
#[test]
fn a_key_with_another_cipher_suite_is_not_ready() {
    let world = World::new("cipher", &seed_with_key_b(), &[], &[]);
    world.apply(
        &binding_yaml("other-suite", SEEDED_CKN, None, "Orphan")
            .replace("GCM-AES-128", "GCM-AES-XPN-128"),
    );
    let binding = world.wait_status("other-suite", "CipherSuiteMismatch", |b| {
        condition_is(b, "Ready", "False", "CipherSuiteMismatch")
    });
    assert!(
        key_status_is(&binding, "Associated"),
        "the key status stays true"
    );
    assert_eq!(world.sim.calls("AssociateMacSecKey"), 0);
    world.delete("other-suite");
    world.wait_gone("other-suite");
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Associated")
    );

    // A managed binding for a disassociated key of another suite makes no association
    // (the cloud would refuse it) and says why.
    world.apply(&cak_secret_yaml("cak-b", CAK_B));
    world.apply(
        &binding_yaml("managed-other-suite", CKN_B, Some("cak-b"), "Orphan")
            .replace("GCM-AES-128", "GCM-AES-XPN-128"),
    );
    world.wait_status("managed-other-suite", "CipherSuiteMismatch", |b| {
        condition_is(b, "Ready", "False", "CipherSuiteMismatch")
            && condition_is(b, "Synced", "True", "ReconcileSuccess")
    });
    assert_eq!(world.sim.calls("AssociateMacSecKey"), 0);
    assert_no_secrets(&world);
}

#[test]
fn deleting_an_associated_key_disassociates_it_and_the_sibling_follows() {
    let world = World::new("delete-associated", &seed_with_key_b(), &[], &[]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    world.apply(&binding_yaml("key-b", CKN_B, None, "Disassociate"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    world.wait_status("key-b", "Disassociated", |b| {
        key_status_is(b, "Disassociated")
    });

    world.delete("key-a");
    world.wait_gone("key-a");
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Disassociated"),
        "kept, not deleted"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, CKN_B).as_deref(),
        Some("Associated"),
        "the cloud switched keys"
    );
    assert_eq!(world.sim.calls("DisassociateMacSecKey"), 1);
    // The operator resyncs every 10 minutes: only the prompt sibling reconcile can show this.
    world.wait_status("key-b", "the sibling to show Associated", |b| {
        key_status_is(b, "Associated")
    });
    assert_no_secrets(&world);
}

#[test]
fn deleting_a_disassociated_key_makes_no_call() {
    let world = World::new("delete-disassociated", &seed_with_key_b(), &[], &[]);
    world.apply(&binding_yaml("key-b", CKN_B, None, "Disassociate"));
    world.wait_status("key-b", "Disassociated", |b| {
        key_status_is(b, "Disassociated")
    });
    world.delete("key-b");
    world.wait_gone("key-b");
    assert_eq!(
        world.sim.calls("DisassociateMacSecKey"),
        0,
        "a second call would delete the key"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, CKN_B).as_deref(),
        Some("Disassociated")
    );
}

#[test]
fn the_delete_policy_removes_the_key_in_two_calls() {
    let world = World::new("delete-policy", &seed_with_key_b(), &[], &[]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Delete"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    world.delete("key-a");
    world.wait_gone("key-a");
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN),
        None,
        "the key is gone from the circuit"
    );
    assert_eq!(world.sim.calls("DisassociateMacSecKey"), 2);
}

#[test]
fn the_orphan_policy_leaves_the_cloud_alone() {
    let world = World::new("orphan", &default_seed(), &[], &[]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Orphan"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    world.delete("key-a");
    world.wait_gone("key-a");
    assert_eq!(world.sim.calls("DisassociateMacSecKey"), 0);
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Associated")
    );
}

/// Each cloud error during deletion keeps the finalizer, shows the code in status and a
/// Warning event, and the deletion completes once the fault clears.
#[test]
fn cloud_errors_hold_the_finalizer_until_they_clear() {
    let world = World::new("errors-delete", &seed_with_key_b(), &[], &[]);
    let cases: &[(&str, u16)] = &[
        ("IncorrectStatus.PconnMacsec", 400),
        ("IncorrectStatus.PhysicalConnection", 400),
        ("IllegalParam.Ckn", 400),
        ("Throttling.User", 400),
        ("SignatureDoesNotMatch", 400),
        ("InvalidAccessKeyId.Inactive", 400),
        ("InternalError", 500),
    ];
    for (code, http_status) in cases {
        let name = format!("err-{}", code.to_ascii_lowercase().replace('.', "-"));
        world.apply(
            &binding_yaml(&name, SEEDED_CKN, None, "Disassociate")
                .replace("deletionPolicy: Disassociate", "deletionPolicy: Orphan"),
        );
        world.wait_status(&name, "observed", |b| key_status_is(b, "Associated"));
        // Switch to Disassociate (the policy is mutable), fail every disassociation, delete.
        world.ns.kubectl.ok(&[
            "patch",
            "mkb",
            &name,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"deletionPolicy":"Disassociate"}}"#,
        ]);
        world.sim.set_faults(json!({"forcedErrors": [{"action": "DisassociateMacSecKey", "code": code, "httpStatus": http_status, "count": 1000}]}));
        world.delete(&name);
        let held = world.wait_status(&name, &format!("Synced=False {code}"), |b| {
            condition_is(b, "Synced", "False", code)
        });
        assert!(held["metadata"]["deletionTimestamp"].is_string());
        assert_eq!(
            held["metadata"]["finalizers"],
            json!(["macsec.expressconnect.io/disassociate-key"])
        );
        wait_until(&format!("a Warning event for {code}"), WAIT, || {
            let events = world.events();
            if events.contains("Warning") && events.contains(code) {
                Ok(())
            } else {
                Err("no event yet".to_string())
            }
        });
        world.sim.set_faults(json!({}));
        // A slow retry is due much later; a person who fixed the cause touches the object.
        world.ns.kubectl.ok(&[
            "annotate",
            "mkb",
            &name,
            "--overwrite",
            &format!("retry={code}"),
        ]);
        world.wait_gone(&name);
        assert_eq!(
            world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
            Some("Disassociated"),
            "{code}"
        );
        // Put the key back for the next case.
        world.sim.set_faults(json!({}));
        reassociate_seeded_key(&world);
    }
    assert_no_secrets(&world);
}

/// Runs `call` with a VPC client of the simulator's access key, as a network engineer
/// working outside Kubernetes (console, CLI) would.
fn outside_kubernetes<
    F: std::future::Future<Output = Result<String, macsec_operator::cloud::CloudError>>,
>(
    world: &World,
    call: impl FnOnce(macsec_operator::cloud::VpcClient, macsec_operator::credentials::Credentials) -> F,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let vpc =
        macsec_operator::cloud::VpcClient::new(world.sim.endpoint.clone(), Duration::from_secs(5))
            .expect("client");
    rt.block_on(call(vpc, sim_credentials()))
        .expect("the call outside Kubernetes");
}

/// Re-associates the seeded key.
fn reassociate_seeded_key(world: &World) {
    outside_kubernetes(world, |vpc, creds| async move {
        let cak = macsec_operator::secret::SecretString::new(SEEDED_CAK);
        let key = macsec_operator::cloud::AssociateKey {
            region_id: REGION,
            physical_connection_id: CIRCUIT,
            cipher_suite: macsec_operator::resource::CipherSuite::GcmAes128,
            ckn: SEEDED_CKN,
            cak: &cak,
        };
        vpc.associate_macsec_key(&creds, &key).await
    });
}

fn sim_credentials() -> macsec_operator::credentials::Credentials {
    macsec_operator::credentials::Credentials {
        access_key_id: support::sim::ACCESS_KEY_ID.into(),
        access_key_secret: macsec_operator::secret::SecretString::new(ACCESS_KEY_SECRET),
        security_token: None,
    }
}

#[test]
fn apply_side_errors_are_reported_in_status() {
    let world = World::new("errors-apply", &default_seed(), &[], &[]);
    // A circuit that does not exist.
    world.apply(
        &binding_yaml("no-circuit", CKN_NEW, None, "Disassociate")
            .replace(CIRCUIT, "pc-nosuchcircuit"),
    );
    world.wait_status("no-circuit", "CircuitNotFound", |b| {
        condition_is(b, "Ready", "False", "CircuitNotFound")
    });
    // A CAK Secret that is missing, then one that is malformed: no cloud call.
    world.apply(&binding_yaml(
        "no-cak",
        CKN_NEW,
        Some("missing-cak"),
        "Disassociate",
    ));
    world.wait_status("no-cak", "CakSecretInvalid", |b| {
        condition_is(b, "Synced", "False", "CakSecretInvalid")
    });
    world.apply(&cak_secret_yaml("short-cak", "ABCD"));
    world.apply(&binding_yaml(
        "bad-cak",
        CKN_B,
        Some("short-cak"),
        "Disassociate",
    ));
    world.wait_status("bad-cak", "CakSecretInvalid", |b| {
        condition_is(b, "Synced", "False", "CakSecretInvalid")
    });
    assert_eq!(world.sim.calls("AssociateMacSecKey"), 0);
    // Credentials named but missing; then present but wrong.
    // (Each binding names a key of its own: two for one key would be a conflict.)
    let with_creds = |name: &str, ckn: &str, secret: &str| {
        format!(
            "{}  credentialsSecretRef:\n    name: {secret}\n",
            binding_yaml(name, ckn, None, "Orphan")
        )
    };
    world.apply(&with_creds("no-creds", &"C".repeat(32), "nothing-here"));
    world.wait_status("no-creds", "CredentialsMissing", |b| {
        condition_is(b, "Synced", "False", "CredentialsMissing")
    });
    world.apply("apiVersion: v1\nkind: Secret\nmetadata:\n  name: wrong-creds\nstringData:\n  accessKeyId: LTAI5tSimExampleKeyId\n  accessKeySecret: not-the-right-secret\n");
    world.apply(&with_creds("wrong-creds", &"D".repeat(32), "wrong-creds"));
    world.wait_status("wrong-creds", "SignatureDoesNotMatch", |b| {
        condition_is(b, "Synced", "False", "SignatureDoesNotMatch")
    });
    // Throttling on reads shows its code too, and clears by itself.
    world.sim.set_faults(json!({"forcedErrors": [{"action": "DescribePhysicalConnections", "code": "Throttling.User", "count": 2}]}));
    world.apply(&binding_yaml("throttled", SEEDED_CKN, None, "Orphan"));
    world.wait_status("throttled", "Ready after throttling", |b| {
        condition_is(b, "Ready", "True", "Associated")
    });
    assert_no_secrets(&world);
}

#[test]
fn the_younger_of_two_bindings_for_one_key_is_a_conflict_and_deleting_it_calls_nothing() {
    let world = World::new("conflict", &default_seed(), &[], &[]);
    world.apply(&binding_yaml("older", SEEDED_CKN, None, "Disassociate"));
    world.wait_status("older", "Ready", |b| {
        condition_is(b, "Ready", "True", "Associated")
    });
    // Creation times have one-second resolution: make sure the second one is younger.
    let first = world.binding("older").expect("older")["metadata"]["creationTimestamp"].clone();
    wait_until("a new second", Duration::from_secs(3), || {
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        if json!(now) != first {
            Ok(())
        } else {
            Err(now)
        }
    });
    world.apply(&binding_yaml(
        "younger",
        &SEEDED_CKN.to_ascii_lowercase(),
        None,
        "Disassociate",
    ));
    world.wait_status("younger", "Conflict", |b| {
        condition_is(b, "Ready", "False", "Conflict")
    });
    let calls_before = world.sim.calls("DescribePhysicalConnections");
    world.delete("younger");
    world.wait_gone("younger");
    assert_eq!(
        world.sim.calls("DisassociateMacSecKey"),
        0,
        "the loser never calls the cloud"
    );
    assert_eq!(
        world.sim.calls("DescribePhysicalConnections"),
        calls_before,
        "not even to read"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Associated")
    );

    // When the owner goes (keeping the key), a younger binding takes over at once, not at
    // its next resync ten minutes later.
    world.apply(&binding_yaml("successor", SEEDED_CKN, None, "Disassociate"));
    world.wait_status("successor", "Conflict", |b| {
        condition_is(b, "Ready", "False", "Conflict")
    });
    world.ns.kubectl.ok(&[
        "patch",
        "mkb",
        "older",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"deletionPolicy":"Orphan"}}"#,
    ]);
    world.delete("older");
    world.wait_gone("older");
    world.wait_status("successor", "the successor to own the key", |b| {
        condition_is(b, "Ready", "True", "Associated")
            && condition_is(b, "Synced", "True", "ReconcileSuccess")
    });
}

#[test]
fn drift_made_outside_kubernetes_shows_after_a_resync() {
    let world = World::new("drift", &seed_with_key_b(), &[], &["--resync", "2s"]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    let settled = world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    // Resyncs that find nothing new write nothing: the object's version stays put.
    let reads = world.sim.calls("DescribePhysicalConnections");
    wait_until("two more resyncs", WAIT, || {
        let now = world.sim.calls("DescribePhysicalConnections");
        if now >= reads + 2 {
            Ok(())
        } else {
            Err(format!("{now} reads"))
        }
    });
    let after = world.binding("key-a").expect("binding");
    assert_eq!(
        after["metadata"]["resourceVersion"], settled["metadata"]["resourceVersion"],
        "a quiet resync wrote"
    );
    // Someone disassociates the key with the console or the CLI.
    outside_kubernetes(&world, |vpc, creds| async move {
        vpc.disassociate_macsec_key(&creds, REGION, CIRCUIT, SEEDED_CKN)
            .await
    });
    world.wait_status("key-a", "the drift to show", |b| {
        key_status_is(b, "Disassociated") && condition_is(b, "Ready", "False", "Disassociated")
    });
}

/// SIGKILL after the cloud changed the key but before the finalizer went: after a restart
/// the operator converges without a second, deleting call.
#[test]
fn a_killed_operator_converges_after_restart_without_deleting_a_kept_key() {
    let mut world = World::new("sigkill", &seed_with_key_b(), &[], &[]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    // The cloud does the work but holds its answer back.
    world.sim.set_faults(json!({"responseDelayMs": 60000}));
    world.delete("key-a");
    world.wait_cloud_key(SEEDED_CKN, "Disassociated");
    world.operator.kill();
    let binding = world
        .binding("key-a")
        .expect("still there: the finalizer holds it");
    assert_eq!(
        binding["metadata"]["finalizers"],
        json!(["macsec.expressconnect.io/disassociate-key"])
    );

    world.sim.set_faults(json!({}));
    world.operator.restart();
    world.wait_gone("key-a");
    assert_eq!(
        world.sim.calls("DisassociateMacSecKey"),
        1,
        "no second call: it would delete the key"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Disassociated")
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, CKN_B).as_deref(),
        Some("Associated"),
        "no key left unassociated"
    );
}

/// Fifty bindings, on fifty circuits, with 30% of all cloud calls throttled.
///
/// Why 30% and not more: a reconcile stops at its first throttled call and retries after
/// 1 s, 2 s, 4 s, 8 s, then every 10 s; a deletion needs five calls in a row to succeed
/// (read, disassociate, read, disassociate, read), progress kept between tries. Modelled
/// (2000 runs of 50 bindings), half the calls throttled clears the last binding in a
/// median 216 s with a 34% chance of taking over 240 s; 30% gives a median of 72 s and a
/// 99.9th percentile of 194 s, so the deadlines below fail only when something is wrong.
#[test]
fn fifty_bindings_converge_under_throttling_with_bounded_calls() {
    const N: usize = 50;
    const THROTTLED_SHARE: &str = "0.3";
    let mut seed = format!(
        "accessKeys:\n  - id: {}\n    secret: {ACCESS_KEY_SECRET}\ncircuits:\n",
        support::sim::ACCESS_KEY_ID
    );
    for i in 0..N {
        seed.push_str(&format!(
            "  - regionId: {REGION}\n    physicalConnectionId: pc-load{i:03}\n    status: Enabled\n"
        ));
    }
    let world = World::new(
        "fifty",
        &seed,
        &["--throttle-share", THROTTLED_SHARE],
        &["--concurrency", "8", "--rate-limit", "20"],
    );
    world.apply(&cak_secret_yaml("shared-cak", CAK_NEW));
    let manifests: String = (0..N)
        .map(|i| {
            binding_yaml(
                &format!("load-{i:03}"),
                CKN_NEW,
                Some("shared-cak"),
                "Delete",
            )
            .replace(CIRCUIT, &format!("pc-load{i:03}"))
        })
        .collect::<Vec<_>>()
        .join("---\n");
    let created = std::time::Instant::now();
    world.apply(&manifests);
    wait_until("all fifty Ready", Duration::from_secs(240), || {
        let out = world.ns.kubectl.ok(&["get", "mkb", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"]);
        let ready = out.lines().filter(|l| *l == "True").count();
        if ready == N {
            Ok(())
        } else {
            Err(format!("{ready} of {N} ready"))
        }
    });
    println!("all {N} Ready after {:?}", created.elapsed());
    let deleted = std::time::Instant::now();
    world
        .ns
        .kubectl
        .ok(&["delete", "mkb", "--all", "--wait=false"]);
    wait_until("all fifty gone", Duration::from_secs(240), || {
        let left = world
            .ns
            .kubectl
            .ok(&["get", "mkb", "-o", "name"])
            .lines()
            .count();
        if left == 0 {
            Ok(())
        } else {
            Err(format!("{left} left"))
        }
    });
    println!("all {N} gone after {:?}", deleted.elapsed());
    for i in 0..N {
        assert_eq!(
            world.sim.key_status(&format!("pc-load{i:03}"), CKN_NEW),
            None,
            "pc-load{i:03}"
        );
    }
    let calls: u64 = [
        "DescribePhysicalConnections",
        "AssociateMacSecKey",
        "DisassociateMacSecKey",
    ]
    .iter()
    .map(|a| world.sim.calls(a))
    .sum();
    let per_binding = calls as f64 / N as f64;
    println!(
        "cloud calls: {calls} for {N} bindings ({per_binding:.1} per binding), {THROTTLED_SHARE} of them throttled"
    );
    // Unthrottled, a binding needs 2 reads + 1 associate, then 3 reads + 2 disassociations:
    // 8 calls. With a share s throttled, each call that gets through costs 1/(1-s) calls
    // (11.4 at 30%). Half as much again is allowed; beyond that, retries multiply.
    let share: f64 = THROTTLED_SHARE.parse().expect("share");
    let expected = 8.0 / (1.0 - share);
    assert!(
        per_binding <= expected * 1.5,
        "{per_binding:.1} calls per binding, expected about {expected:.1}"
    );
}

/// `ResourceNotFound.PhysicalConnectionId` while deleting: the circuit is gone, so the
/// deletion is done, with a Warning event. A binding for a circuit that never existed goes
/// the same way.
#[test]
fn a_deletion_completes_when_the_circuit_is_gone() {
    let world = World::new("circuit-gone", &default_seed(), &[], &[]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    world.sim.set_faults(json!({"forcedErrors": [{"action": "DisassociateMacSecKey", "code": "ResourceNotFound.PhysicalConnectionId", "count": 1000}]}));
    world.delete("key-a");
    world.wait_gone("key-a");
    assert!(
        world.events().contains("CircuitNotFound"),
        "a Warning event says why"
    );

    world.apply(
        &binding_yaml("nowhere", SEEDED_CKN, None, "Delete").replace(CIRCUIT, "pc-nosuchcircuit"),
    );
    world.wait_status("nowhere", "CircuitNotFound", |b| {
        condition_is(b, "Ready", "False", "CircuitNotFound")
    });
    world.delete("nowhere");
    world.wait_gone("nowhere");
}

/// Key rotation as the README describes it: a new binding with a new CKN/CAK, then the old
/// binding deleted. The new key takes the port; the old one stays as a standby and never
/// takes it back, so the two do not flip the port between them.
#[test]
fn a_key_rotation_moves_the_port_to_the_new_key_without_flapping() {
    let world = World::new("rotation", &seed_with_key_b(), &[], &["--resync", "2s"]);
    world.apply(&cak_secret_yaml("cak-old", CAK_B));
    world.apply_older(
        "key-old",
        &binding_yaml("key-old", CKN_B, Some("cak-old"), "Disassociate"),
    );

    world.apply(&cak_secret_yaml("cak-new", CAK_NEW));
    world.apply(&binding_yaml(
        "key-new",
        CKN_NEW,
        Some("cak-new"),
        "Disassociate",
    ));
    world.wait_status("key-new", "Ready", |b| {
        condition_is(b, "Ready", "True", "Associated")
    });
    world.wait_status("key-old", "Standby", |b| {
        key_status_is(b, "Disassociated") && condition_is(b, "Ready", "False", "Standby")
    });
    // Several resyncs later nothing has flipped: two associations in all.
    let reads = world.sim.calls("DescribePhysicalConnections");
    wait_until("four more reads", WAIT, || {
        let now = world.sim.calls("DescribePhysicalConnections");
        if now >= reads + 4 {
            Ok(())
        } else {
            Err(format!("{now} reads"))
        }
    });
    assert_eq!(
        world.sim.calls("AssociateMacSecKey"),
        2,
        "the old key never takes the port back"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, CKN_NEW).as_deref(),
        Some("Associated")
    );

    world.delete("key-old");
    world.wait_gone("key-old");
    assert_eq!(
        world.sim.calls("DisassociateMacSecKey"),
        0,
        "a standby key is left configured"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, CKN_NEW).as_deref(),
        Some("Associated")
    );
    assert_no_secrets(&world);
}

/// A binding can name Secrets only in its own namespace: the schema has no field for
/// another, and a name that exists only elsewhere is looked up in the binding's namespace
/// and not found, even though the operator's RBAC could read it there. No cloud call is
/// made with what another namespace holds.
#[test]
fn a_binding_cannot_make_the_operator_read_another_namespaces_secret() {
    let world = World::new("cross-namespace", &default_seed(), &[], &[]);
    let other = support::TestNamespace::new("cross-namespace-other");
    other.kubectl.apply(&cak_secret_yaml("their-cak", CAK_NEW));
    other.kubectl.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: their-credentials\nstringData:\n  accessKeyId: {}\n  accessKeySecret: {ACCESS_KEY_SECRET}\n",
        support::sim::ACCESS_KEY_ID
    ));

    for reference in ["cakSecretRef", "credentialsSecretRef"] {
        let manifest = format!(
            "{}  {reference}:\n    name: x\n    namespace: {}\n",
            binding_yaml("reach", CKN_NEW, None, "Disassociate"),
            other.name
        );
        let out = world
            .ns
            .kubectl
            .run_with_stdin(&["apply", "-f", "-"], Some(&manifest));
        assert!(!out.success, "a {reference} with a namespace was accepted");
        assert!(
            out.stderr.contains(reference) && out.stderr.contains("namespace"),
            "{}",
            out.stderr
        );
    }

    world.apply(&binding_yaml(
        "reach-cak",
        CKN_NEW,
        Some("their-cak"),
        "Disassociate",
    ));
    let binding = world.wait_status("reach-cak", "CakSecretInvalid", |b| {
        condition_is(b, "Synced", "False", "CakSecretInvalid")
    });
    let message = condition(&binding, "Synced").expect("Synced")["message"].clone();
    assert!(
        message.as_str().is_some_and(
            |m| m.contains("their-cak") && m.contains("not found in the binding's namespace")
        ),
        "{message}"
    );
    world.apply(&format!(
        "{}  credentialsSecretRef:\n    name: their-credentials\n",
        binding_yaml("reach-credentials", SEEDED_CKN, None, "Disassociate")
    ));
    world.wait_status("reach-credentials", "CredentialsMissing", |b| {
        condition_is(b, "Synced", "False", "CredentialsMissing")
    });
    for action in [
        "DescribePhysicalConnections",
        "AssociateMacSecKey",
        "DisassociateMacSecKey",
    ] {
        assert_eq!(world.sim.calls(action), 0, "{action}");
    }
    assert_eq!(world.sim.key_status(CIRCUIT, CKN_NEW), None);
    assert_no_secrets(&world);
}

/// A younger binding whose CAK Secret is missing cannot take the port, so it keeps no one
/// on standby: when the port loses the older binding's key (here someone disassociates it
/// in the console), the operator puts that key back rather than leave the port to a key
/// nobody can associate. Once the Secret exists, the younger binding takes the port as a
/// rotation does, and nothing flips after.
#[test]
fn a_younger_binding_without_its_cak_does_not_take_the_port_from_a_working_one() {
    let world = World::new("broken-younger", &default_seed(), &[], &["--resync", "2s"]);
    world.apply(&cak_secret_yaml("cak-a", CAK_NEW));
    world.apply_older(
        "key-a",
        &binding_yaml("key-a", CKN_NEW, Some("cak-a"), "Disassociate"),
    );
    world.apply(&binding_yaml("key-b", CKN_B, Some("cak-b"), "Disassociate"));
    world.wait_status("key-b", "CakSecretInvalid", |b| {
        condition_is(b, "Synced", "False", "CakSecretInvalid")
    });

    outside_kubernetes(&world, |vpc, creds| async move {
        vpc.disassociate_macsec_key(&creds, REGION, CIRCUIT, CKN_NEW)
            .await
    });
    // (Its status may never show the gap: the next resync puts the key back.)
    wait_until("key-a to be associated again", WAIT, || {
        match world.sim.calls("AssociateMacSecKey") {
            2 => Ok(()),
            n => Err(format!("{n} associations\n{}", tail(&world.operator.log()))),
        }
    });
    world.wait_cloud_key(CKN_NEW, "Associated");
    world.wait_status("key-a", "Ready", |b| {
        condition_is(b, "Ready", "True", "Associated")
    });

    world.apply(&cak_secret_yaml("cak-b", CAK_B));
    // The fixed Secret is picked up at the next retry; a person can ask for it now.
    world
        .ns
        .kubectl
        .ok(&["annotate", "mkb", "key-b", "--overwrite", "retry=now"]);
    world.wait_status("key-b", "Ready", |b| {
        condition_is(b, "Ready", "True", "Associated")
    });
    world.wait_status("key-a", "Standby", |b| {
        condition_is(b, "Ready", "False", "Standby")
    });
    let reads = world.sim.calls("DescribePhysicalConnections");
    wait_until("four more reads", WAIT, || {
        let now = world.sim.calls("DescribePhysicalConnections");
        if now >= reads + 4 {
            Ok(())
        } else {
            Err(format!("{now} reads"))
        }
    });
    assert_eq!(world.sim.calls("AssociateMacSecKey"), 3, "no flapping");
    assert_no_secrets(&world);
}
