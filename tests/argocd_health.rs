//! The Argo CD health check (`deploy/argocd/health.lua`) run with a real Lua 5.1
//! interpreter against the sample objects in `tests/argocd/`, and the `argocd-cm` patch
//! checked to carry exactly that script.
//!
//! Argo CD runs health checks with gopher-lua (Lua 5.1); Debian's `lua5.1` stands in for
//! it (`make lua` installs it). Plain Lua has no JSON library, so each sample is turned
//! into a Lua table literal here and handed over as the global `obj`, the way Argo CD
//! hands over the live object.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const LUA: &str = "lua5.1";
const HEALTH_KEY: &str = "resource.customizations.health.macsec.expressconnect.io_MacsecKeyBinding";
const FINALIZER: &str = "macsec.expressconnect.io/disassociate-key";

/// Runs the health script the way Argo CD does: a chunk that returns the table. Scripts
/// from `argocd-cm` get only the base, table and a safe os library (no string library),
/// so the driver takes the others away before running it.
const DRIVER: &str = r#"
local write, exit = io.write, os.exit
string, io, os, math, debug, coroutine = nil, nil, nil, nil, nil, nil
getmetatable("").__index = nil
local hs = dofile("deploy/argocd/health.lua")
if type(hs) ~= "table" or type(hs.status) ~= "string" or type(hs.message) ~= "string" then
  write("the script did not return {status = <string>, message = <string>}")
  exit(3)
end
write(hs.status, "\n", hs.message)
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A JSON value as a Lua 5.1 table literal (null becomes nil, arrays 1-based tables).
fn lua_literal(value: &Value) -> String {
    let mut out = String::new();
    write_lua(value, &mut out);
    out
}

fn write_lua(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_lua_string(s, out),
        Value::Array(items) => {
            out.push('{');
            for item in items {
                write_lua(item, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Object(fields) => {
            out.push('{');
            for (key, item) in fields {
                out.push('[');
                write_lua_string(key, out);
                out.push_str("]=");
                write_lua(item, out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

fn write_lua_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Three decimal digits, so a digit that follows is never read as part of it.
            c if c.is_ascii_control() => out.push_str(&format!("\\{:03}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What the script returned.
#[derive(Debug)]
struct Health {
    status: String,
    message: String,
}

fn lua_available() {
    match Command::new(LUA).arg("-v").output() {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{LUA}` is not installed: these tests run deploy/argocd/health.lua with the Lua 5.1 \
             interpreter. Install it with `make lua` or `apt-get install lua5.1`."
        ),
        Err(e) => panic!("cannot run `{LUA}`: {e}"),
    }
}

fn health_of(obj: &Value) -> Health {
    lua_available();
    let mut driver = tempfile::Builder::new()
        .prefix("argocd-health-driver")
        .suffix(".lua")
        .tempfile()
        .expect("temporary driver file");
    driver
        .write_all(DRIVER.as_bytes())
        .expect("write the driver");
    let output = Command::new(LUA)
        .current_dir(root())
        .arg("-e")
        .arg(format!("obj = {}", lua_literal(obj)))
        .arg(driver.path())
        .output()
        .expect("run lua5.1");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "health.lua failed ({}): {}{}",
        output.status,
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, message) = stdout
        .split_once('\n')
        .unwrap_or_else(|| panic!("unexpected driver output {stdout:?}"));
    Health {
        status: status.to_owned(),
        message: message.to_owned(),
    }
}

fn sample(name: &str) -> Value {
    let path = root().join("tests/argocd").join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Every sample, with the health Argo CD must show and text its message must hold.
const EXPECTED: &[(&str, &str, &[&str])] = &[
    (
        "healthy",
        "Healthy",
        &["the key is associated on the circuit"],
    ),
    (
        "new",
        "Progressing",
        &["waiting for the operator to observe generation 1"],
    ),
    (
        "stale-generation",
        "Progressing",
        &["waiting for the operator to observe generation 3"],
    ),
    (
        "deleting",
        "Progressing",
        &[
            "deleting: waiting for finalizer macsec.expressconnect.io/disassociate-key",
            "IncorrectStatus.PconnMacsec",
            "The MACsec key is in an unstable state.",
        ],
    ),
    (
        "deleting-two-finalizers",
        "Progressing",
        &["waiting for finalizers foregroundDeletion, macsec.expressconnect.io/disassociate-key"],
    ),
    (
        "throttled",
        "Degraded",
        &[
            "Throttling.User",
            "Request was denied due to user flow control.",
        ],
    ),
    (
        "illegal-ckn",
        "Degraded",
        &["IllegalParam.Ckn", "The specified Ckn is invalid."],
    ),
    (
        "signature-mismatch",
        "Degraded",
        &[
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        ],
    ),
    (
        "credentials-missing",
        "Degraded",
        &["CredentialsMissing", "no credentials"],
    ),
    (
        "conflict",
        "Degraded",
        &["Conflict", "the older binding primary owns this key"],
    ),
    (
        "circuit-not-found",
        "Degraded",
        &[
            "CircuitNotFound",
            "the circuit does not exist in this region",
        ],
    ),
    (
        "cipher-suite-mismatch",
        "Degraded",
        &["CipherSuiteMismatch", "uses GCM-AES-128"],
    ),
    (
        "associated-failed",
        "Degraded",
        &["AssociatedFailed", "peer device"],
    ),
    (
        "adopted-absent",
        "Degraded",
        &["Absent", "adopts a key configured elsewhere"],
    ),
    (
        "adopted-standby",
        "Healthy",
        &["standby key", "Disassociated"],
    ),
    (
        "managed-standby",
        "Healthy",
        &["standby key", "holds the key in use"],
    ),
    (
        "managed-disassociated",
        "Progressing",
        &["Disassociated", "the operator associates it"],
    ),
    (
        "pending",
        "Progressing",
        &["Pending", "the key has not been observed yet"],
    ),
    (
        "transitional",
        "Progressing",
        &["Associating: the key is Associating on the circuit"],
    ),
];

fn check(name: &str, want_status: &str, want_text: &[&str]) {
    let health = health_of(&sample(name));
    assert_eq!(
        health.status, want_status,
        "{name}.json: status (message {:?})",
        health.message
    );
    for text in want_text {
        assert!(
            health.message.contains(text),
            "{name}.json: message {:?} lacks {text:?}",
            health.message
        );
    }
}

fn expect(name: &str) {
    let (_, status, text) = EXPECTED
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no expectation for {name}"));
    check(name, status, text);
}

#[test]
fn an_associated_key_is_healthy() {
    expect("healthy");
}

#[test]
fn a_new_binding_is_progressing() {
    expect("new");
}

#[test]
fn a_status_for_an_older_generation_is_progressing_even_when_ready() {
    let obj = sample("stale-generation");
    assert_eq!(obj["status"]["conditions"][0]["status"], "True");
    expect("stale-generation");
}

#[test]
fn a_binding_being_deleted_names_its_finalizer_and_why_it_stays() {
    expect("deleting");
    expect("deleting-two-finalizers");
    let health = health_of(&sample("deleting-two-finalizers"));
    assert!(
        !health.message.contains('('),
        "a Synced=True binding adds no reason: {:?}",
        health.message
    );
}

#[test]
fn cloud_errors_are_degraded_with_the_alibaba_code() {
    expect("throttled");
    expect("illegal-ckn");
    expect("signature-mismatch");
}

#[test]
fn local_errors_are_degraded_with_their_reason() {
    expect("credentials-missing");
}

#[test]
fn a_conflict_a_missing_circuit_or_another_cipher_suite_is_degraded() {
    expect("conflict");
    expect("circuit-not-found");
    expect("cipher-suite-mismatch");
}

#[test]
fn a_failed_association_is_degraded() {
    expect("associated-failed");
}

#[test]
fn an_adopted_key_that_is_absent_is_degraded_and_a_standby_one_healthy() {
    expect("adopted-absent");
    expect("adopted-standby");
    expect("managed-standby");
}

#[test]
fn a_managed_key_not_yet_associated_is_progressing() {
    expect("managed-disassociated");
    expect("pending");
    expect("transitional");
    // The same Absent key that is Degraded when adopted is the operator's to associate.
    let mut obj = sample("adopted-absent");
    obj["spec"]["cakSecretRef"] = serde_json::json!({"name": "cak", "key": "cak"});
    let health = health_of(&obj);
    assert_eq!(health.status, "Progressing", "{:?}", health.message);
}

#[test]
fn every_sample_has_an_expectation_and_meets_it() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("tests/argocd"))
        .expect("tests/argocd")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = EXPECTED.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(on_disk, expected, "samples and expectations differ");
    for (name, status, text) in EXPECTED {
        check(name, status, text);
    }
}

#[test]
fn every_sample_is_a_binding_with_the_operator_finalizer_unless_new() {
    for (name, _, _) in EXPECTED {
        let obj = sample(name);
        assert_eq!(
            obj["apiVersion"], "macsec.expressconnect.io/v1alpha1",
            "{name}"
        );
        assert_eq!(obj["kind"], "MacsecKeyBinding", "{name}");
        if *name != "new" {
            let finalizers = obj["metadata"]["finalizers"].as_array().expect(name);
            assert!(finalizers.iter().any(|f| f == FINALIZER), "{name}");
        }
    }
}

#[test]
fn messages_reach_argo_cd_verbatim() {
    // Quotes, backslashes, newlines and non-ASCII text survive the trip through Lua.
    let tricky = "AssociateMacSecKey: IllegalParam.Ckn: got \"0x12\\34\"\n\tnext line, ü, \u{1}7";
    let mut obj = sample("illegal-ckn");
    obj["status"]["conditions"][1]["message"] = Value::String(tricky.to_owned());
    let health = health_of(&obj);
    assert_eq!(health.status, "Degraded");
    assert_eq!(health.message, format!("IllegalParam.Ckn: {tricky}"));
}

#[test]
fn generations_given_as_strings_are_compared_as_numbers() {
    // "10" < "9" as text; the script compares numbers.
    let mut obj = sample("healthy");
    obj["metadata"]["generation"] = Value::String("10".into());
    obj["status"]["observedGeneration"] = Value::String("9".into());
    let health = health_of(&obj);
    assert_eq!(health.status, "Progressing", "{:?}", health.message);
    assert!(
        health.message.contains("generation 10"),
        "{:?}",
        health.message
    );
}

#[test]
fn the_lua_literal_is_plain_lua() {
    let value = serde_json::json!({"a": [1, 2.5, null, true], "b\"": "x\\y\n\u{0}1"});
    assert_eq!(
        lua_literal(&value),
        r#"{["a"]={1,2.5,nil,true,},["b\""]="x\\y\n\0001",}"#
    );
}

fn yaml(path: &Path) -> serde_yaml::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

#[test]
fn the_argocd_cm_patch_embeds_exactly_health_lua() {
    let script = std::fs::read_to_string(root().join("deploy/argocd/health.lua"))
        .expect("deploy/argocd/health.lua");
    let patch = yaml(&root().join("deploy/argocd/argocd-cm-patch.yaml"));
    assert_eq!(patch["apiVersion"].as_str(), Some("v1"));
    assert_eq!(patch["kind"].as_str(), Some("ConfigMap"));
    assert_eq!(patch["metadata"]["name"].as_str(), Some("argocd-cm"));
    let embedded = patch["data"][HEALTH_KEY]
        .as_str()
        .unwrap_or_else(|| panic!("argocd-cm-patch.yaml has no data.{HEALTH_KEY}"));
    assert!(
        embedded == script,
        "argocd-cm-patch.yaml is stale: run deploy/argocd/render.sh"
    );
}

#[test]
fn the_example_application_syncs_bindings_without_owning_the_crd() {
    let app = yaml(&root().join("deploy/argocd/application.yaml"));
    assert_eq!(app["kind"].as_str(), Some("Application"));
    assert_eq!(app["apiVersion"].as_str(), Some("argoproj.io/v1alpha1"));
    let options: Vec<&str> = app["spec"]["syncPolicy"]["syncOptions"]
        .as_sequence()
        .expect("spec.syncPolicy.syncOptions")
        .iter()
        .filter_map(|o| o.as_str())
        .collect();
    assert!(
        options.contains(&"SkipDryRunOnMissingResource=true"),
        "{options:?}"
    );
}
