//! The install manifests under `deploy/`: rendered with the kustomize built into kubectl
//! (of the API server's minor version) and sent to a real API server, so a manifest that
//! the server refuses, a Pod Security violation, a widened RBAC rule or a weakened
//! Deployment fails here rather than in a cluster.

mod support;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use support::{Kubectl, TestNamespace, control_plane, install_crd, repo_root};

const OPERATOR_NAMESPACE: &str = "macsec-operator";
/// The namespace `deploy/overlays/namespaced/` restricts the operator to.
const WATCHED_NAMESPACE: &str = "network";
const SERVICE_ACCOUNT: &str = "system:serviceaccount:macsec-operator:macsec-operator";
const CREDENTIALS_SECRET: &str = "macsec-operator-credentials";

/// One permission: (API group, resource, resource name or "" for any, verb).
type Permission = (String, String, String, String);

fn admin() -> Kubectl {
    control_plane().kubectl()
}

/// `kubectl kustomize DIR` (DIR relative to the repository root).
fn render(dir: &str) -> String {
    let path = repo_root().join(dir);
    admin().ok(&["kustomize", path.to_str().expect("utf-8 path")])
}

/// The objects of a multi-document YAML stream.
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|document| Value::deserialize(document).expect("valid YAML"))
        .filter(|object| !object.is_null())
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {kind} {name}; rendered: {:?}",
        objects
            .iter()
            .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]))
            .collect::<Vec<_>>()
    );
    found[0]
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().expect("kind").to_owned())
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

/// The rules of a Role or ClusterRole, expanded into single permissions.
fn permissions(role: &Value) -> BTreeSet<Permission> {
    let mut set = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        assert!(
            rule.get("nonResourceURLs").is_none(),
            "no non-resource URL is needed: {rule}"
        );
        let names = match rule.get("resourceNames") {
            Some(names) => strings(names),
            None => vec![String::new()],
        };
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for name in &names {
                    for verb in strings(&rule["verbs"]) {
                        set.insert((group.clone(), resource.clone(), name.clone(), verb));
                    }
                }
            }
        }
    }
    set
}

fn expand(rows: &[(&str, &str, &str, &[&str])]) -> BTreeSet<Permission> {
    rows.iter()
        .flat_map(|(group, resource, name, verbs)| {
            verbs.iter().map(move |verb| {
                (
                    (*group).to_owned(),
                    (*resource).to_owned(),
                    (*name).to_owned(),
                    (*verb).to_owned(),
                )
            })
        })
        .collect()
}

/// What the operator does with bindings, Secrets and Events, wherever it watches.
fn expected_binding_permissions() -> BTreeSet<Permission> {
    expand(&[
        (
            "macsec.expressconnect.io",
            "macseckeybindings",
            "",
            &["get", "list", "watch", "patch"],
        ),
        (
            "macsec.expressconnect.io",
            "macseckeybindings/status",
            "",
            &["patch"],
        ),
        ("", "secrets", "", &["get"]),
        ("events.k8s.io", "events", "", &["create", "patch"]),
    ])
}

/// kube-lease-manager: get, create when absent, patch (incl. server-side apply); in the
/// operator's namespace only (a Role there).
fn expected_lease_permissions() -> BTreeSet<Permission> {
    expand(&[(
        "coordination.k8s.io",
        "leases",
        "",
        &["get", "create", "patch"],
    )])
}

/// `binding` grants `role` (of `role_kind`) to the operator's ServiceAccount, and no one else.
fn assert_binds_operator(binding: &Value, role_kind: &str, role: &str) {
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}),
        "{binding}"
    );
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "macsec-operator", "namespace": OPERATOR_NAMESPACE}]),
        "{binding}"
    );
}

/// The real namespaces the dry runs need: a dry run of a Namespace does not create it, and
/// namespaced objects are refused in a namespace that does not exist. The operator's
/// namespace is created from the base's own manifest, so its Pod Security labels apply.
fn create_namespaces() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let base = documents(&render("deploy"));
        let namespace = find(&base, "Namespace", OPERATOR_NAMESPACE);
        admin().ok_stdin(&["apply", "--server-side", "-f", "-"], &namespace.to_string());
        let watched = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": WATCHED_NAMESPACE}});
        admin().ok_stdin(&["apply", "--server-side", "-f", "-"], &watched.to_string());
    });
}

fn setup() {
    install_crd();
    create_namespaces();
}

trait KubectlExt {
    fn ok_stdin(&self, args: &[&str], stdin: &str) -> String;
    fn server_dry_run(&self, manifest: &str) -> String;
}

impl KubectlExt for Kubectl {
    /// Runs kubectl with `stdin`; panics unless it succeeds; returns stdout.
    fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run_with_stdin(args, Some(stdin));
        assert!(
            out.success,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// `kubectl apply --server-side --dry-run=server` of every object in `manifest`: the API
    /// server validates, defaults and admits each one (Pod Security included) and stores
    /// nothing. Fails on any warning, e.g. "would violate PodSecurity".
    fn server_dry_run(&self, manifest: &str) -> String {
        let args = ["apply", "--server-side", "--dry-run=server", "-f", "-"];
        let out = self.run_with_stdin(&args, Some(manifest));
        assert!(
            out.success,
            "the API server refused the manifest:\n{}\n{}",
            out.stdout, out.stderr
        );
        assert!(
            !out.stderr.contains("Warning"),
            "the API server warned:\n{}",
            out.stderr
        );
        let applied = out.stdout.matches("(server dry run)").count();
        assert_eq!(
            applied,
            documents(manifest).len(),
            "every object is applied:\n{}",
            out.stdout
        );
        out.stdout
    }
}

/// The operator's pod, as the Deployment would create it.
fn pod_of(deployment: &Value) -> Value {
    let template = &deployment["spec"]["template"];
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "macsec-operator-pod-security-check",
            "namespace": deployment["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
        },
        "spec": template["spec"],
    })
}

/// The `restricted` Pod Security profile, enforced in the operator's namespace, admits the
/// Deployment's pod.
fn assert_pod_admitted(deployment: &Value) {
    let out = admin().run_with_stdin(
        &["create", "--dry-run=server", "-f", "-"],
        Some(&pod_of(deployment).to_string()),
    );
    assert!(
        out.success && !out.stderr.contains("Warning"),
        "the operator's pod is not admitted under Pod Security `restricted`:\n{}\n{}",
        out.stdout,
        out.stderr
    );
}

fn container(deployment: &Value) -> &Value {
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    assert_eq!(containers[0]["name"], "macsec-operator");
    &containers[0]
}

/// `selector` (a label map) selects pods labelled `labels`.
fn assert_selects(selector: &Value, labels: &Value, what: &str) {
    let selector = selector.as_object().expect("a label map");
    assert!(!selector.is_empty(), "{what}: empty selector");
    for (key, value) in selector {
        assert_eq!(
            &labels[key], value,
            "{what}: selector {key}={value} does not match the pod labels {labels}"
        );
    }
}

/// Whether the operator's ServiceAccount may do `args` (`kubectl auth can-i ...`).
fn operator_can(args: &[&str]) -> bool {
    let mut full = vec!["auth", "can-i"];
    full.extend_from_slice(args);
    full.push("--as");
    full.push(SERVICE_ACCOUNT);
    let out = admin().run(&full);
    match out.stdout.trim() {
        "yes" => true,
        "no" => false,
        _ => panic!(
            "kubectl auth can-i {args:?}: unexpected answer\n{}\n{}",
            out.stdout, out.stderr
        ),
    }
}

#[test]
fn base_is_accepted_by_the_api_server_and_grants_only_what_it_names() {
    setup();
    let manifest = render("deploy");
    let objects = documents(&manifest);
    admin().server_dry_run(&manifest);

    // The operator's pod passes the Pod Security profile its namespace enforces, and that
    // check is live: the same pod allowed to escalate privileges is refused.
    let deployment = find(&objects, "Deployment", "macsec-operator");
    assert_pod_admitted(deployment);
    let mut weakened = deployment.clone();
    weakened["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
        json!(true);
    let out = admin().run_with_stdin(
        &["create", "--dry-run=server", "-f", "-"],
        Some(&pod_of(&weakened).to_string()),
    );
    assert!(
        !out.success && out.stderr.contains("violates PodSecurity"),
        "Pod Security is not enforced in {OPERATOR_NAMESPACE}:\n{}\n{}",
        out.stdout,
        out.stderr
    );

    // Applied for real (no controller runs the Deployment here), the RBAC lets the
    // operator's ServiceAccount do exactly what it needs, where it needs it.
    admin().ok_stdin(&["apply", "--server-side", "-f", "-"], &manifest);
    let allowed: &[&[&str]] = &[
        &[
            "list",
            "macseckeybindings.macsec.expressconnect.io",
            "--all-namespaces",
        ],
        &[
            "watch",
            "macseckeybindings.macsec.expressconnect.io",
            "--all-namespaces",
        ],
        &[
            "patch",
            "macseckeybindings.macsec.expressconnect.io",
            "-n",
            "team-a",
        ],
        &[
            "patch",
            "macseckeybindings.macsec.expressconnect.io",
            "--subresource=status",
            "-n",
            "team-a",
        ],
        &["get", "secrets/port-1-cak", "-n", "team-a"],
        &["create", "events.events.k8s.io", "-n", "team-a"],
        &["patch", "events.events.k8s.io", "-n", "team-a"],
        &[
            "create",
            "leases.coordination.k8s.io",
            "-n",
            OPERATOR_NAMESPACE,
        ],
        &[
            "get",
            "leases.coordination.k8s.io/macsec-operator-leader",
            "-n",
            OPERATOR_NAMESPACE,
        ],
        &[
            "patch",
            "leases.coordination.k8s.io/macsec-operator-leader",
            "-n",
            OPERATOR_NAMESPACE,
        ],
    ];
    for args in allowed {
        assert!(
            operator_can(args),
            "the operator needs `{}`",
            args.join(" ")
        );
    }
    let refused: &[&[&str]] = &[
        &[
            "update",
            "macseckeybindings.macsec.expressconnect.io",
            "--subresource=finalizers",
            "-n",
            "team-a",
        ],
        &["list", "secrets", "-n", "team-a"],
        &["watch", "secrets", "-n", "team-a"],
        &["create", "secrets", "-n", "team-a"],
        &[
            "create",
            "macseckeybindings.macsec.expressconnect.io",
            "-n",
            "team-a",
        ],
        &[
            "update",
            "macseckeybindings.macsec.expressconnect.io",
            "-n",
            "team-a",
        ],
        &[
            "delete",
            "macseckeybindings.macsec.expressconnect.io",
            "-n",
            "team-a",
        ],
        &[
            "update",
            "macseckeybindings.macsec.expressconnect.io",
            "--subresource=status",
            "-n",
            "team-a",
        ],
        &["create", "events", "-n", "team-a"],
        &[
            "get",
            "leases.coordination.k8s.io/kube-controller-manager",
            "-n",
            "kube-system",
        ],
        &[
            "patch",
            "leases.coordination.k8s.io/kube-controller-manager",
            "-n",
            "kube-system",
        ],
        &[
            "list",
            "leases.coordination.k8s.io",
            "-n",
            OPERATOR_NAMESPACE,
        ],
        &[
            "update",
            "leases.coordination.k8s.io/macsec-operator-leader",
            "-n",
            OPERATOR_NAMESPACE,
        ],
        &[
            "delete",
            "leases.coordination.k8s.io/macsec-operator-leader",
            "-n",
            OPERATOR_NAMESPACE,
        ],
        &["create", "leases.coordination.k8s.io", "-n", "kube-system"],
        &["get", "configmaps", "-n", OPERATOR_NAMESPACE],
        &["list", "pods", "-n", OPERATOR_NAMESPACE],
        &["patch", "customresourcedefinitions.apiextensions.k8s.io"],
    ];
    for args in refused {
        assert!(
            !operator_can(args),
            "the operator must not be allowed `{}`",
            args.join(" ")
        );
    }
}

#[test]
fn rendered_rbac_is_exactly_what_the_operator_uses() {
    let objects = documents(&render("deploy"));

    let cluster_role = find(&objects, "ClusterRole", "macsec-operator");
    assert_eq!(
        permissions(cluster_role),
        expected_binding_permissions(),
        "the ClusterRole changed: update this test only with the code that needs it"
    );
    assert_binds_operator(
        find(&objects, "ClusterRoleBinding", "macsec-operator"),
        "ClusterRole",
        "macsec-operator",
    );

    let lease_role = find(&objects, "Role", "macsec-operator-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], OPERATOR_NAMESPACE);
    assert_eq!(permissions(lease_role), expected_lease_permissions());
    let lease_binding = find(&objects, "RoleBinding", "macsec-operator-leader-election");
    assert_eq!(lease_binding["metadata"]["namespace"], OPERATOR_NAMESPACE);
    assert_binds_operator(lease_binding, "Role", "macsec-operator-leader-election");

    // Nothing else grants anything.
    let roles: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"].as_str().is_some_and(|k| k.contains("Role")))
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            "Role/macsec-operator-leader-election",
            "ClusterRole/macsec-operator",
            "RoleBinding/macsec-operator-leader-election",
            "ClusterRoleBinding/macsec-operator",
        ],
    );
}

#[test]
fn deployment_is_hardened_and_highly_available() {
    let objects = documents(&render("deploy"));
    assert_eq!(
        kinds(&objects),
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "Deployment",
            "Namespace",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount",
        ]
        .map(String::from)
        .into(),
    );
    find(
        &objects,
        "CustomResourceDefinition",
        "macseckeybindings.macsec.expressconnect.io",
    );
    for object in &objects {
        let kind = object["kind"].as_str().expect("kind");
        if !matches!(
            kind,
            "Namespace" | "CustomResourceDefinition" | "ClusterRole" | "ClusterRoleBinding"
        ) {
            assert_eq!(
                object["metadata"]["namespace"], OPERATOR_NAMESPACE,
                "{kind}"
            );
        }
        assert_eq!(
            object["metadata"]["labels"]["app.kubernetes.io/name"], "macsec-operator",
            "{kind}"
        );
    }
    let namespace = find(&objects, "Namespace", OPERATOR_NAMESPACE);
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let service_account = find(&objects, "ServiceAccount", "macsec-operator");
    assert_eq!(service_account["automountServiceAccountToken"], false);

    let deployment = find(&objects, "Deployment", "macsec-operator");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["strategy"]["type"], "RollingUpdate");
    assert_eq!(
        spec["strategy"]["rollingUpdate"]["maxSurge"], 0,
        "never a third pod"
    );
    let pod = &spec["template"]["spec"];
    let pod_labels = &spec["template"]["metadata"]["labels"];
    assert_selects(&spec["selector"]["matchLabels"], pod_labels, "Deployment");
    let anti_affinity = &pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        [0]["podAffinityTerm"];
    assert_eq!(anti_affinity["topologyKey"], "kubernetes.io/hostname");
    assert_selects(
        &anti_affinity["labelSelector"]["matchLabels"],
        pod_labels,
        "anti-affinity",
    );
    assert_eq!(pod["serviceAccountName"], "macsec-operator");
    assert_eq!(pod["automountServiceAccountToken"], true);
    assert_eq!(pod["terminationGracePeriodSeconds"], 60);
    assert!(pod.get("priorityClassName").is_none());

    let pod_security = &pod["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert_eq!(pod_security["runAsUser"], 65532);
    assert_eq!(pod_security["runAsGroup"], 65532);
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");

    let container = container(deployment);
    assert_eq!(
        container["image"],
        format!("macsec-operator:{}", env!("CARGO_PKG_VERSION")),
        "the base's image tag follows the crate version"
    );
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 65532);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert!(security["capabilities"].get("add").is_none());
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert!(security.get("privileged").is_none_or(|p| p == false));

    let args = strings(&container["args"]);
    assert_eq!(args.first().map(String::as_str), Some("run"));
    assert!(args.iter().any(|a| a == "--leader-elect"), "{args:?}");
    assert!(args.iter().any(|a| a == "--log-format=json"), "{args:?}");

    assert_eq!(
        container["ports"],
        json!([{"name": "http-metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(container[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(
            container[probe]["httpGet"]["port"], "http-metrics",
            "{probe}"
        );
    }
    let resources = &container["resources"];
    assert_eq!(
        resources["requests"],
        json!({"cpu": "50m", "memory": "64Mi"})
    );
    assert_eq!(
        resources["limits"],
        json!({"memory": "256Mi"}),
        "a memory limit, no CPU limit"
    );

    // The Lease identity and namespace come from the downward API; the access key, if
    // any, from the optional Secret, so the pod starts without it.
    let env = container["env"].as_array().expect("env");
    let var = |name: &str| -> &Value {
        env.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {env:?}"))
    };
    assert_eq!(
        var("POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert!(
        env.iter().all(|v| v["name"] != "POD_NAMESPACE"),
        "nothing reads POD_NAMESPACE: the Lease namespace comes from the ServiceAccount"
    );
    for name in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ] {
        assert_eq!(
            var(name)["valueFrom"]["secretKeyRef"],
            json!({"name": CREDENTIALS_SECRET, "key": name, "optional": true})
        );
    }
    assert!(container.get("envFrom").is_none());
    // No silent fall-back to the node's RAM role.
    assert_eq!(var("ALIBABA_CLOUD_ECS_METADATA_DISABLED")["value"], "true");

    let pdb = find(&objects, "PodDisruptionBudget", "macsec-operator");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert_selects(
        &pdb["spec"]["selector"]["matchLabels"],
        pod_labels,
        "PodDisruptionBudget",
    );

    let service = find(&objects, "Service", "macsec-operator-metrics");
    assert_selects(&service["spec"]["selector"], pod_labels, "Service");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "http-metrics", "port": 8080, "targetPort": "http-metrics", "protocol": "TCP"}])
    );
}

#[test]
fn namespaced_overlay_is_accepted_and_grants_nothing_cluster_wide() {
    setup();
    let manifest = render("deploy/overlays/namespaced");
    let objects = documents(&manifest);
    admin().server_dry_run(&manifest);

    let kinds = kinds(&objects);
    assert!(
        !kinds.contains("ClusterRole") && !kinds.contains("ClusterRoleBinding"),
        "{kinds:?}"
    );
    find(
        &objects,
        "CustomResourceDefinition",
        "macseckeybindings.macsec.expressconnect.io",
    );

    let role = find(&objects, "Role", "macsec-operator");
    assert_eq!(role["metadata"]["namespace"], WATCHED_NAMESPACE);
    assert_eq!(
        permissions(role),
        expected_binding_permissions(),
        "the namespaced Role grants what the base's ClusterRole grants"
    );
    let binding = find(&objects, "RoleBinding", "macsec-operator");
    assert_eq!(binding["metadata"]["namespace"], WATCHED_NAMESPACE);
    assert_binds_operator(binding, "Role", "macsec-operator");
    let lease_role = find(&objects, "Role", "macsec-operator-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], OPERATOR_NAMESPACE);
    assert_eq!(permissions(lease_role), expected_lease_permissions());

    let deployment = find(&objects, "Deployment", "macsec-operator");
    let args = strings(&container(deployment)["args"]);
    assert_eq!(
        args,
        [
            "run",
            "--leader-elect",
            "--log-format=json",
            "--namespace=network"
        ],
        "the base's arguments plus the watched namespace"
    );
    assert_pod_admitted(deployment);
}

#[test]
fn examples_are_accepted_and_fit_together() {
    setup();
    let ns = TestNamespace::new("deploy-examples");

    // A binding with its CAK Secret, and a per-binding credentials Secret, in a namespace
    // of the user's.
    let binding_yaml = read("deploy/examples/binding.yaml");
    let cak_yaml = read("deploy/examples/cak-secret.yaml");
    let credentials_yaml = read("deploy/examples/credentials/secret.yaml");
    for manifest in [&binding_yaml, &cak_yaml, &credentials_yaml] {
        ns.kubectl.server_dry_run(manifest);
    }
    let binding = &documents(&binding_yaml)[0];
    let cak = &documents(&cak_yaml)[0];
    let reference = &binding["spec"]["cakSecretRef"];
    assert_eq!(reference["name"], cak["metadata"]["name"]);
    let placeholder = cak["stringData"][reference["key"].as_str().unwrap_or("cak")]
        .as_str()
        .expect("the CAK Secret holds the key the binding names");
    assert!(
        !placeholder.chars().all(|c| c.is_ascii_hexdigit()),
        "the example CAK must stay an invalid placeholder, so a forgotten one never reaches a circuit"
    );
    let credentials = &documents(&credentials_yaml)[0];
    let keys: BTreeSet<&String> = credentials["stringData"]
        .as_object()
        .expect("stringData")
        .keys()
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([&"accessKeyId".to_owned(), &"accessKeySecret".to_owned()])
    );

    // The operator's environment Secret: the Secret the base reads, with the keys it reads
    // (the session token is optional, for temporary keys only).
    let environment_yaml = read("deploy/examples/credentials/environment.yaml");
    admin().server_dry_run(&environment_yaml);
    let environment = &documents(&environment_yaml)[0];
    assert_eq!(environment["metadata"]["name"], CREDENTIALS_SECRET);
    assert_eq!(environment["metadata"]["namespace"], OPERATOR_NAMESPACE);
    let base = documents(&render("deploy"));
    let read_by_base: BTreeSet<String> =
        container(find(&base, "Deployment", "macsec-operator"))["env"]
            .as_array()
            .expect("env")
            .iter()
            .filter(|v| v["valueFrom"]["secretKeyRef"]["name"] == CREDENTIALS_SECRET)
            .map(|v| {
                v["valueFrom"]["secretKeyRef"]["key"]
                    .as_str()
                    .expect("key")
                    .to_owned()
            })
            .collect();
    let provided: BTreeSet<String> = environment["stringData"]
        .as_object()
        .expect("stringData")
        .keys()
        .cloned()
        .collect();
    assert!(
        provided.is_subset(&read_by_base),
        "{provided:?} vs {read_by_base:?}"
    );
    for required in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    ] {
        assert!(provided.contains(required), "{required}");
    }

    // RRSA through the ACK webhook: the namespace label and the ServiceAccount annotation
    // it looks for.
    let webhook = render("deploy/examples/credentials/rrsa-ack/webhook");
    admin().server_dry_run(&webhook);
    let webhook = documents(&webhook);
    assert_eq!(
        find(&webhook, "Namespace", OPERATOR_NAMESPACE)["metadata"]["labels"]["pod-identity.alibabacloud.com/injection"],
        "on"
    );
    let annotations =
        &find(&webhook, "ServiceAccount", "macsec-operator")["metadata"]["annotations"];
    assert!(
        annotations["pod-identity.alibabacloud.com/role-name"].is_string(),
        "{annotations}"
    );

    // RRSA written out: the token file the variable names is a projected ServiceAccount
    // token for STS, and the pod still passes Pod Security.
    let manual = render("deploy/examples/credentials/rrsa-ack/manual");
    admin().server_dry_run(&manual);
    let manual = documents(&manual);
    let deployment = find(&manual, "Deployment", "macsec-operator");
    assert_pod_admitted(deployment);
    let container = container(deployment);
    let env = container["env"].as_array().expect("env");
    let value = |name: &str| {
        env.iter()
            .find(|v| v["name"] == name)
            .and_then(|v| v["value"].as_str())
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    assert!(value("ALIBABA_CLOUD_ROLE_ARN").starts_with("acs:ram::"));
    assert!(value("ALIBABA_CLOUD_OIDC_PROVIDER_ARN").contains(":oidc-provider/"));
    let token_file = value("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    assert_eq!(
        token_file,
        "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token"
    );
    let mount = container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| token_file.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap_or("-"))))
        .expect("the token file is on a mounted volume");
    let volume = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    let token = &volume["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(token["audience"], "sts.aliyuncs.com");
    assert_eq!(
        format!(
            "{}/{}",
            mount["mountPath"].as_str().unwrap_or(""),
            token["path"].as_str().unwrap_or("")
        ),
        token_file
    );

    // The ServiceMonitor (its CRD is not installed here) scrapes the base's Service.
    let monitor = &documents(&read("deploy/examples/servicemonitor.yaml"))[0];
    let service = find(&base, "Service", "macsec-operator-metrics");
    assert_selects(
        &monitor["spec"]["selector"]["matchLabels"],
        &service["metadata"]["labels"],
        "ServiceMonitor",
    );
    assert_eq!(
        monitor["spec"]["namespaceSelector"]["matchNames"],
        json!([service["metadata"]["namespace"]])
    );
    let port = &monitor["spec"]["endpoints"][0]["port"];
    assert!(
        service["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| &p["name"] == port),
        "the ServiceMonitor scrapes port {port}, which the Service does not have"
    );
}

/// No container engine runs here, so the Dockerfile is checked as text against the tree
/// and the Deployment: every file it copies from the build context exists and is not
/// excluded by `.dockerignore`, the build is locked, and the runtime user is the numeric
/// non-root one the Deployment runs as, with nothing but the binary and the CA bundle.
#[test]
fn dockerfile_copies_what_exists_and_runs_as_the_deployments_user() {
    let dockerfile = read("Dockerfile");
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.trim_end_matches('/').to_owned())
        .collect();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let stages: Vec<&str> = instructions
        .iter()
        .filter(|line| line.starts_with("FROM "))
        .copied()
        .collect();
    assert_eq!(
        stages.len(),
        2,
        "a build stage and a runtime stage: {stages:?}"
    );
    assert!(stages[0].ends_with(" AS build"), "{}", stages[0]);
    assert_eq!(
        stages[1], "FROM scratch",
        "the runtime stage holds nothing else"
    );

    let mut runtime_files = Vec::new();
    let mut in_runtime = false;
    for line in &instructions {
        if line.starts_with("FROM ") {
            in_runtime = *line == stages[1];
            continue;
        }
        let Some(args) = line.strip_prefix("COPY ") else {
            continue;
        };
        let words: Vec<&str> = args.split_whitespace().collect();
        let (last, sources) = words.split_last().expect("COPY has a destination");
        if in_runtime {
            assert!(
                words[0] == "--from=build",
                "the runtime stage copies only from the build stage: {line}"
            );
            runtime_files.push(*last);
            continue;
        }
        for source in sources.iter().filter(|word| !word.starts_with("--")) {
            assert!(
                repo_root().join(source).exists(),
                "the Dockerfile copies {source}, which is not in the repository"
            );
            let top = source.trim_end_matches('/').split('/').next().unwrap_or("");
            assert!(
                !ignored.iter().any(|pattern| pattern == top),
                ".dockerignore leaves {source} out of the build context"
            );
        }
    }
    assert_eq!(
        runtime_files,
        ["/etc/ssl/certs/ca-certificates.crt", "/macsec-operator"]
    );
    assert!(
        dockerfile.contains("cargo build --release --locked --bin macsec-operator"),
        "the image builds the locked release binary"
    );
    assert!(
        dockerfile.contains("cp target/release/macsec-operator /macsec-operator"),
        "the binary the runtime stage copies is the one built"
    );
    assert!(instructions.contains(&"ENTRYPOINT [\"/macsec-operator\"]"));

    let deployment = find(
        &documents(&render("deploy")),
        "Deployment",
        "macsec-operator",
    )
    .clone();
    let context = &container(&deployment)["securityContext"];
    let user = format!(
        "USER {}:{}",
        context["runAsUser"].as_u64().expect("runAsUser"),
        context["runAsGroup"].as_u64().expect("runAsGroup")
    );
    assert!(
        instructions.contains(&user.as_str()),
        "the image's user is the Deployment's ({user})"
    );
    // The port the Deployment probes and scrapes is the one the image documents.
    let port = container(&deployment)["ports"][0]["containerPort"]
        .as_u64()
        .expect("containerPort");
    assert!(instructions.contains(&format!("EXPOSE {port}").as_str()));
}
