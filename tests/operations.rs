//! Running the operator the way it runs in a cluster: two replicas on one leader Lease, a
//! stop on SIGTERM, and the `/metrics`, `/healthz` and `/readyz` endpoints, each met as a
//! user would meet them. Every operator here runs under the shipped ServiceAccount's RBAC.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::operator::{OPERATOR_NAMESPACE, Operator};
use support::sim::{CIRCUIT, SEEDED_CKN, Sim, default_seed};
use support::world::*;
use support::{TestNamespace, control_plane, install_crd, wait_until};

const ACTIONS: [&str; 3] = [
    "DescribePhysicalConnections",
    "AssociateMacSecKey",
    "DisassociateMacSecKey",
];

/// The identity this replica wrote into the Lease, from its "became the leader" log line.
fn leader_identity(operator: &Operator) -> String {
    wait_until("the replica to lead", WAIT, || {
        operator.logged("became the leader", "identity")
    })
}

/// The holder the Lease names now.
fn lease_holder(lease: &str) -> String {
    control_plane().kubectl().ok(&[
        "get",
        "lease",
        lease,
        "--namespace",
        OPERATOR_NAMESPACE,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])
}

/// A namespace, a simulator and two replicas on one Lease named after the namespace: the
/// world's operator is the first, already leading (its Lease identity returned too); the
/// second is up and following.
fn two_replicas(
    test: &str,
    seed: &str,
    first_flags: &[&str],
    second_flags: &[&str],
) -> (World, String, Operator) {
    install_crd();
    let ns = TestNamespace::new(test);
    let sim = Sim::start(seed, &[]);
    let first = Operator::replica(control_plane(), &sim, &ns.name, &ns.name, "a", first_flags);
    let identity = leader_identity(&first);
    let second = Operator::replica(control_plane(), &sim, &ns.name, &ns.name, "b", second_flags);
    second.wait_logged("waiting for the leader lease");
    let world = World {
        ns,
        sim,
        operator: first,
    };
    (world, identity, second)
}

/// Two replicas, one Lease: only the holder reconciles. SIGKILLed in the middle of a
/// deletion (the cloud has disassociated the key, its answer is still on the way), the
/// holder's work passes to the other replica within the lease time, and the deletion
/// completes without a second, deleting call.
#[test]
fn of_two_replicas_one_reconciles_and_the_other_takes_over_a_deletion_in_flight() {
    const LEASE_SECONDS: u64 = 6;
    // The second replica logs JSON, as the Deployment's do.
    let (mut world, first_identity, second) = two_replicas(
        "two-replicas",
        &seed_with_key_b(),
        &["--lease-duration", "6s"],
        &["--lease-duration", "6s", "--log-format", "json"],
    );
    let lease = world.ns.name.clone();
    assert_eq!(lease_holder(&lease), first_identity);

    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    world.apply(&binding_yaml("key-b", CKN_B, None, "Disassociate"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    world.wait_status("key-b", "Disassociated", |b| {
        key_status_is(b, "Disassociated")
    });

    // Exactly one replica reconciles: every call the cloud saw is the leader's.
    let leader_metrics = world.operator.scrape();
    let follower_metrics = second.scrape();
    let cloud_calls: u64 = ACTIONS.iter().map(|a| world.sim.calls(a)).sum();
    assert_eq!(
        leader_metrics.sum("macsec_cloud_calls_total"),
        cloud_calls as f64
    );
    assert_eq!(leader_metrics.value("macsec_leader"), Some(1.0));
    assert_eq!(follower_metrics.value("macsec_leader"), Some(0.0));
    assert_eq!(follower_metrics.sum("macsec_cloud_calls_total"), 0.0);
    assert_eq!(follower_metrics.sum("macsec_reconciles_total"), 0.0);
    assert!(!second.is_leader(), "{}", tail(&second.log()));
    // A follower is ready: it can take over at any moment.
    assert_eq!(second.http_get("/readyz").0, 200);

    // The cloud carries out the disassociation but holds its answer back; the leader dies
    // waiting for it.
    world.sim.set_faults(json!({"responseDelayMs": 60000}));
    world.delete("key-a");
    world.wait_cloud_key(SEEDED_CKN, "Disassociated");
    world.operator.kill();
    let killed = Instant::now();
    world.sim.set_faults(json!({}));

    let second_identity = leader_identity(&second);
    let takeover = killed.elapsed();
    println!("takeover after SIGKILL of the leader: {takeover:?} (lease {LEASE_SECONDS}s)");
    assert_ne!(second_identity, first_identity);
    assert_eq!(lease_holder(&lease), second_identity);
    // The lease runs out at most LEASE_SECONDS after the dead leader's last renewal;
    // kube-lease-manager then waits up to a second at random before taking it, so two
    // followers do not collide.
    assert!(
        takeover <= Duration::from_secs(LEASE_SECONDS + 2),
        "takeover took {takeover:?}"
    );

    world.wait_gone("key-a");
    println!("deletion completed {:?} after the kill", killed.elapsed());
    assert_eq!(
        world.sim.calls("DisassociateMacSecKey"),
        1,
        "one disassociation: a second would delete the key"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Disassociated")
    );
    // The new leader reconciles the rest: the sibling shows the key the cloud switched to.
    world.wait_status("key-b", "the sibling to show Associated", |b| {
        key_status_is(b, "Associated")
    });
    assert_eq!(
        second
            .scrape()
            .value("macsec_cloud_calls_total{action=\"DisassociateMacSecKey\",code=\"OK\"}"),
        None,
        "the new leader made no disassociation of its own"
    );
    // Every line of the JSON log is one object with a time, a level and a message.
    let log = second.log();
    assert!(log.lines().count() >= 3, "{log}");
    for line in log.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for field in ["timestamp", "level", "message"] {
            assert!(entry[field].is_string(), "no {field}: {line}");
        }
    }
}

/// SIGTERM, as the kubelet sends it in a rollout: the operator lets the call in flight
/// finish, completes that reconcile (here a deletion, so the finalizer goes), releases the
/// Lease and exits 0; the other replica takes over long before the lease would expire.
#[test]
fn sigterm_finishes_the_call_in_flight_and_hands_the_lease_over() {
    const LEASE_SECONDS: u64 = 30;
    let flags = ["--lease-duration", "30s"];
    let (mut world, _, second) = two_replicas("sigterm", &default_seed(), &flags, &flags);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));

    world.sim.set_faults(json!({"responseDelayMs": 3000}));
    world.delete("key-a");
    world.wait_cloud_key(SEEDED_CKN, "Disassociated");
    let asked = Instant::now();
    world.operator.terminate();
    let status = world.operator.wait_exit(WAIT);
    let stopped = asked.elapsed();
    println!("stopped {stopped:?} after SIGTERM, with a 3 s answer in flight");
    assert!(
        status.success(),
        "{status:?}\n{}",
        tail(&world.operator.log())
    );
    // The deletion finished before the process ended: nothing is left for the next leader.
    assert!(
        world.binding("key-a").is_none(),
        "the stopping operator left the deletion unfinished\n{}",
        tail(&world.operator.log())
    );
    assert_eq!(world.sim.calls("DisassociateMacSecKey"), 1);
    let log = world.operator.log();
    assert!(log.contains("released the leader lease"), "{}", tail(&log));

    leader_identity(&second);
    let takeover = asked.elapsed();
    println!("takeover after SIGTERM: {takeover:?} (lease {LEASE_SECONDS}s)");
    assert!(
        takeover < Duration::from_secs(LEASE_SECONDS / 2),
        "the follower waited for the released lease to expire: {takeover:?}"
    );
}

/// The demo's flow (a binding with a CAK Secret applied, Ready, deleted), then a scrape:
/// each counter holds what happened, and the gauges show what is left.
#[test]
fn metrics_after_the_demo_flow_count_what_happened() {
    let world = World::new("metrics", &default_seed(), &[], &[]);
    assert_eq!(world.operator.http_get("/healthz"), (200, "ok".to_owned()));
    world.operator.wait_ready();

    world.apply(&cak_secret_yaml("demo-cak", CAK_NEW));
    world.apply(&binding_yaml(
        "demo",
        CKN_NEW,
        Some("demo-cak"),
        "Disassociate",
    ));
    world
        .ns
        .kubectl
        .ok(&["wait", "--for=condition=Ready", "mkb/demo", "--timeout=60s"]);
    wait_until("the binding in the gauge", WAIT, || {
        let metrics = world.operator.scrape();
        match metrics.value("macsec_bindings{key_status=\"Associated\"}") {
            Some(1.0) => Ok(()),
            _ => Err(metrics.0),
        }
    });
    world.delete("demo");
    world.wait_gone("demo");
    let metrics = wait_until("the binding to leave the gauge", WAIT, || {
        let metrics = world.operator.scrape();
        if metrics.sum("macsec_bindings") == 0.0 {
            Ok(metrics)
        } else {
            Err(metrics.0)
        }
    });

    assert_eq!(world.sim.calls("AssociateMacSecKey"), 1);
    assert_eq!(world.sim.calls("DisassociateMacSecKey"), 1);
    let mut total = 0;
    for action in ACTIONS {
        let calls = world.sim.calls(action);
        total += calls;
        assert_eq!(
            metrics.value(&format!(
                "macsec_cloud_calls_total{{action=\"{action}\",code=\"OK\"}}"
            )),
            Some(calls as f64),
            "{action}\n{}",
            metrics.0
        );
        assert_eq!(
            metrics.value(&format!(
                "macsec_cloud_call_duration_seconds_count{{action=\"{action}\"}}"
            )),
            Some(calls as f64),
            "{action}"
        );
    }
    assert_eq!(
        metrics.sum("macsec_cloud_calls_total"),
        total as f64,
        "no failed call"
    );
    let reconciles = metrics.sum("macsec_reconciles_total");
    assert_eq!(
        metrics.value("macsec_reconciles_total{result=\"success\",reason=\"\"}"),
        Some(reconciles),
        "no failed reconcile\n{}",
        metrics.0
    );
    // At least: the finalizer added, the key associated, the deletion carried out.
    assert!(reconciles >= 3.0, "{reconciles} reconciles");
    assert_eq!(
        metrics.value("macsec_reconcile_duration_seconds_count"),
        Some(reconciles)
    );
    assert_eq!(
        metrics.value("macsec_oldest_blocked_deletion_seconds"),
        Some(0.0)
    );
    assert_eq!(metrics.value("macsec_leader"), Some(1.0));
    assert_no_secrets(&world);
}

/// A deletion the cloud keeps refusing: the age of the oldest blocked deletion grows, and
/// the refusals are counted by their Alibaba error code. Then the README's way out: the
/// namespace is being deleted too, and `deletionPolicy: Orphan` lets the binding go with no
/// cloud call, leaving the key as it is.
#[test]
fn a_blocked_deletion_shows_in_the_metrics_and_orphan_releases_it() {
    const CODE: &str = "IncorrectStatus.PhysicalConnection";
    let world = World::new("metrics-blocked", &default_seed(), &[], &[]);
    world.apply(&binding_yaml("key-a", SEEDED_CKN, None, "Disassociate"));
    world.wait_status("key-a", "Associated", |b| key_status_is(b, "Associated"));
    world.sim.set_faults(
        json!({"forcedErrors": [{"action": "DisassociateMacSecKey", "code": CODE, "count": 1000}]}),
    );
    world.delete("key-a");
    world.wait_status("key-a", "Synced=False", |b| {
        condition_is(b, "Synced", "False", CODE)
    });
    // Each refusal the cloud answered is counted under its code (waited for, as a retry may
    // be on its way while the scrape is taken).
    let metrics = wait_until("the blocked deletion in the metrics", WAIT, || {
        let metrics = world.operator.scrape();
        let blocked = metrics
            .value("macsec_oldest_blocked_deletion_seconds")
            .unwrap_or(0.0);
        let counted = metrics.value(&format!(
            "macsec_cloud_calls_total{{action=\"DisassociateMacSecKey\",code=\"{CODE}\"}}"
        ));
        let refused = world.sim.calls_answered("DisassociateMacSecKey", CODE) as f64;
        if blocked >= 1.0 && refused >= 1.0 && counted == Some(refused) {
            Ok(metrics)
        } else {
            Err(format!(
                "{refused} refused, counted {counted:?}\n{}",
                metrics.0
            ))
        }
    });
    assert!(
        metrics
            .value(&format!(
                "macsec_reconciles_total{{result=\"error\",reason=\"{CODE}\"}}"
            ))
            .is_some_and(|n| n >= 1.0),
        "{}",
        metrics.0
    );
    assert_eq!(
        metrics.value("macsec_bindings{key_status=\"Associated\"}"),
        Some(1.0)
    );

    // The fault stays. The namespace goes away too (no namespace controller runs here, so
    // it stays Terminating, which is what a user sees while its objects are finalized).
    control_plane()
        .kubectl()
        .ok(&["delete", "namespace", &world.ns.name, "--wait=false"]);
    world.ns.kubectl.ok(&[
        "patch",
        "mkb",
        "key-a",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"deletionPolicy":"Orphan"}}"#,
    ]);
    world.wait_gone("key-a");
    assert_eq!(
        world.sim.calls_answered("DisassociateMacSecKey", "OK"),
        0,
        "Orphan makes no cloud call"
    );
    assert_eq!(
        world.sim.key_status(CIRCUIT, SEEDED_CKN).as_deref(),
        Some("Associated"),
        "the key is left as it is"
    );
    wait_until("the gauge to fall back to 0", WAIT, || {
        let metrics = world.operator.scrape();
        match metrics.value("macsec_oldest_blocked_deletion_seconds") {
            Some(0.0) => Ok(()),
            _ => Err(metrics.0),
        }
    });
}
