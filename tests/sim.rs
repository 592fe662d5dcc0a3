//! `macsec-operator sim` end to end: the real binary on a free port, called over HTTP with
//! requests signed by the project's own signer, in both signature styles.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use macsec_operator::cloud::signer::{
    canonical_query, client_authorization, rpc_signature, rpc_string_to_sign, sha256_hex,
};
use serde_json::{Value, json};
use support::sim::Sim;
use support::wait_until;

const ID: &str = "LTAI5tSimTestKeyId";
const SECRET: &str = "SimTestSecretValue0123";
const REGION: &str = "cn-hangzhou";
const PC: &str = "pc-bp1test0001";
const SEEDED_CKN: &str = "0123456789ABCDEF0123456789ABCDEF";
const SEEDED_CAK: &str = "FEDCBA9876543210FEDCBA9876543210";
const NEW_CKN: &str = "AAAABBBBCCCCDDDDEEEEFFFF00001111";
/// Sent in lower case; the simulator stores it upper case. Neither may reach stdout.
const NEW_CAK: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e7ab";

const SEED: &str = r#"
accessKeys:
  - id: LTAI5tSimTestKeyId
    secret: SimTestSecretValue0123
circuits:
  - regionId: cn-hangzhou
    physicalConnectionId: pc-bp1test0001
    status: Enabled
    keys:
      - ckn: 0123456789ABCDEF0123456789ABCDEF
        cak: FEDCBA9876543210FEDCBA9876543210
        cipherSuite: GCM-AES-128
        status: Associated
  - regionId: cn-hangzhou
    physicalConnectionId: pc-bp1test0002
    status: Enabled
"#;

/// Signed calls to a running simulator (`tests/support/sim.rs`), as the official SDKs and
/// the legacy RPC style send them.
struct Api<'a> {
    sim: &'a Sim,
    http: reqwest::Client,
    /// `127.0.0.1:PORT`, as signed into the `host` header.
    host: String,
}

impl<'a> Api<'a> {
    fn new(sim: &'a Sim) -> Api<'a> {
        let host = sim
            .endpoint
            .strip_prefix("http://")
            .expect("an http:// endpoint")
            .to_owned();
        Api {
            sim,
            http: reqwest::Client::new(),
            host,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.sim.endpoint)
    }

    /// An ACS3-signed request: `query` in the URL, `form` (if any) as the body.
    fn acs3(
        &self,
        creds: &Creds,
        action: &str,
        query: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> reqwest::Request {
        let query = owned(query);
        let body = if form.is_empty() {
            String::new()
        } else {
            canonical_query(&owned(form))
        };
        let hashed = sha256_hex(body.as_bytes());
        let date = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut headers = owned(&[
            ("host", &self.host),
            ("x-acs-action", action),
            ("x-acs-version", "2016-04-28"),
            ("x-acs-date", &date),
            ("x-acs-signature-nonce", &nonce),
            ("x-acs-content-sha256", &hashed),
        ]);
        if let Some(token) = &creds.token {
            headers.push(("x-acs-security-token".into(), token.clone()));
        }
        if !form.is_empty() {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        let authorization =
            client_authorization(&query, &headers, body.as_bytes(), &creds.id, &creds.secret);

        let mut request = self
            .http
            .post(self.url(&format!("/?{}", canonical_query(&query))))
            .body(body);
        for (name, value) in headers.iter().filter(|(name, _)| name != "host") {
            request = request.header(name, value);
        }
        request
            .header("authorization", authorization)
            .build()
            .expect("a valid request")
    }

    /// A legacy HMAC-SHA1 request with every parameter in the query, as `GET`.
    fn rpc(&self, creds: &Creds, action: &str, params: &[(&str, &str)]) -> reqwest::Request {
        let timestamp = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let mut all = owned(&[
            ("Action", action),
            ("Version", "2016-04-28"),
            ("Format", "JSON"),
            ("AccessKeyId", &creds.id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &timestamp),
        ]);
        all.extend(owned(params));
        if let Some(token) = &creds.token {
            all.push(("SecurityToken".into(), token.clone()));
        }
        let signature = rpc_signature(&creds.secret, &rpc_string_to_sign("GET", &all));
        all.push(("Signature".into(), signature));
        self.http
            .get(self.url(&format!("/?{}", canonical_query(&all))))
            .build()
            .expect("a valid request")
    }

    async fn send(&self, request: reqwest::Request) -> Reply {
        let response = self
            .http
            .execute(request)
            .await
            .expect("the simulator answers");
        let status = response.status().as_u16();
        let ratelimit = response
            .headers()
            .get("x-ratelimit-user-api")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.json().await.expect("a JSON body");
        Reply {
            status,
            ratelimit,
            body,
        }
    }

    async fn describe(&self, creds: &Creds) -> Value {
        let filter = [
            ("RegionId", REGION),
            ("Filter.1.Key", "PhysicalConnectionId"),
            ("Filter.1.Value.1", PC),
        ];
        let reply = self
            .send(self.acs3(creds, "DescribePhysicalConnections", &filter, &[]))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// The simulator's admin API; the shared harness asserts success, and the body must be
    /// JSON (the harness falls back to the raw text as a string).
    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let value = self.sim.admin(method, path, body);
        assert!(!value.is_string(), "{path}: not a JSON body: {value}");
        value
    }
}

fn owned(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Creds {
    id: String,
    secret: String,
    token: Option<String>,
}

fn seeded() -> Creds {
    Creds {
        id: ID.into(),
        secret: SECRET.into(),
        token: None,
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    ratelimit: Option<String>,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("OK")
    }
}

/// `(Ckn, Status)` of each key on the test circuit.
fn keys(described: &Value) -> Vec<(String, String)> {
    described["PhysicalConnectionSet"]["PhysicalConnectionType"][0]["MacsecKeys"]["MacsecKey"]
        .as_array()
        .expect("a key list")
        .iter()
        .map(|key| {
            (
                key["Ckn"].as_str().unwrap().to_owned(),
                key["Status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(ckn: &str, status: &str) -> (String, String) {
    (ckn.to_owned(), status.to_owned())
}

fn write_seed(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("seed.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn keys_change_over_both_signature_styles_and_secrets_stay_out_of_stdout() {
    let running = Sim::start(SEED, &[]);
    let sim = Api::new(&running);
    let me = seeded();

    // Read with ACS3, parameters in the query (what the official SDKs send).
    let described = sim.describe(&me).await;
    assert_eq!(described["TotalCount"], 1);
    assert_eq!(keys(&described), vec![pair(SEEDED_CKN, "Associated")]);
    let key = &described["PhysicalConnectionSet"]["PhysicalConnectionType"][0]["MacsecKeys"]["MacsecKey"]
        [0];
    assert!(
        key["StartOn"].as_str().is_some_and(|on| on.ends_with('Z')),
        "{key}"
    );

    // Associate with ACS3, the CAK in the form body: the new key takes over.
    let associate = [
        ("RegionId", REGION),
        ("PhysicalConnectionId", PC),
        ("CipherSuite", "GCM-AES-128"),
        ("Ckn", NEW_CKN),
    ];
    let reply = sim
        .send(sim.acs3(&me, "AssociateMacSecKey", &associate, &[("Cak", NEW_CAK)]))
        .await;
    assert_eq!((reply.status, reply.code()), (200, "OK"), "{}", reply.body);
    let request_id = reply.body["RequestId"].as_str().unwrap().to_owned();
    assert_eq!(request_id, request_id.to_uppercase());
    assert_eq!(
        keys(&sim.describe(&me).await),
        vec![
            pair(SEEDED_CKN, "Disassociated"),
            pair(NEW_CKN, "Associated")
        ]
    );

    // Disassociate with legacy HMAC-SHA1 over GET: the seeded key comes back by itself.
    let disassociate = [
        ("RegionId", REGION),
        ("PhysicalConnectionId", PC),
        ("Ckn", &NEW_CKN.to_lowercase()),
    ];
    let reply = sim
        .send(sim.rpc(&me, "DisassociateMacSecKey", &disassociate))
        .await;
    assert_eq!((reply.status, reply.code()), (200, "OK"), "{}", reply.body);
    assert_eq!(
        keys(&sim.describe(&me).await),
        vec![
            pair(SEEDED_CKN, "Associated"),
            pair(NEW_CKN, "Disassociated")
        ]
    );

    // Refusals, with the real codes and a complete error body.
    let wrong = Creds {
        secret: "not-the-secret".into(),
        ..seeded()
    };
    let reply = sim
        .send(sim.acs3(
            &wrong,
            "DescribePhysicalConnections",
            &[("RegionId", REGION)],
            &[],
        ))
        .await;
    assert_eq!((reply.status, reply.code()), (400, "SignatureDoesNotMatch"));
    assert_eq!(
        reply.body["Message"],
        "Specified signature is not matched with our calculation."
    );
    for field in ["RequestId", "HostId", "Recommend"] {
        assert!(
            reply.body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} in {}",
            reply.body
        );
    }
    let unknown = Creds {
        id: "LTAIunknown".into(),
        ..seeded()
    };
    let reply = sim
        .send(sim.rpc(
            &unknown,
            "DescribePhysicalConnections",
            &[("RegionId", REGION)],
        ))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (404, "InvalidAccessKeyId.NotFound")
    );
    let once = sim.acs3(
        &me,
        "DescribePhysicalConnections",
        &[("RegionId", REGION)],
        &[],
    );
    let again = once.try_clone().unwrap();
    assert_eq!(sim.send(once).await.status, 200);
    let reply = sim.send(again).await;
    assert_eq!((reply.status, reply.code()), (400, "SignatureNonceUsed"));
    let reply = sim
        .send(sim.acs3(&me, "DeleteVpc", &[("RegionId", REGION)], &[]))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (404, "InvalidAction.NotFound")
    );
    let reply = sim
        .send(sim.acs3(
            &me,
            "DisassociateMacSecKey",
            &[("RegionId", REGION), ("PhysicalConnectionId", PC)],
            &[],
        ))
        .await;
    assert_eq!((reply.status, reply.code()), (400, "MissingCkn"));

    // STS: unsigned AssumeRoleWithOIDC, then the temporary key works only with its token.
    let form = [
        ("Action", "AssumeRoleWithOIDC"),
        ("Version", "2015-04-01"),
        ("Format", "JSON"),
        ("RoleArn", "acs:ram::1234567890:role/macsec-operator"),
        (
            "OIDCProviderArn",
            "acs:ram::1234567890:oidc-provider/ack-rrsa",
        ),
        ("OIDCToken", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        ("RoleSessionName", "macsec-operator"),
    ];
    let response = sim
        .http
        .post(sim.url("/"))
        .form(&owned(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sts: Value = response.json().await.unwrap();
    let credentials = &sts["Credentials"];
    let temporary = Creds {
        id: credentials["AccessKeyId"].as_str().unwrap().into(),
        secret: credentials["AccessKeySecret"].as_str().unwrap().into(),
        token: credentials["SecurityToken"].as_str().map(str::to_owned),
    };
    assert!(temporary.id.starts_with("STS.") && credentials["Expiration"].as_str().is_some());
    assert_eq!(keys(&sim.describe(&temporary).await).len(), 2);
    let tokenless = Creds {
        token: None,
        ..temporary
    };
    let reply = sim
        .send(sim.rpc(
            &tokenless,
            "DescribePhysicalConnections",
            &[("RegionId", REGION)],
        ))
        .await;
    assert_eq!(reply.code(), "InvalidSecurityToken.Mismatch");

    // Faults at run time: a forced error, throttling with the retry hint, an unstable window.
    let forced = json!({"forcedErrors": [{"action": "AssociateMacSecKey", "code": "Forbidden.RAM", "httpStatus": 403}]});
    sim.admin("PUT", "/_sim/faults", Some(forced));
    let reply = sim
        .send(sim.acs3(&me, "AssociateMacSecKey", &associate, &[("Cak", NEW_CAK)]))
        .await;
    assert_eq!((reply.status, reply.code()), (403, "Forbidden.RAM"));
    sim.admin("PUT", "/_sim/faults", Some(json!({"throttleShare": 1.0})));
    let reply = sim
        .send(sim.acs3(
            &me,
            "DescribePhysicalConnections",
            &[("RegionId", REGION)],
            &[],
        ))
        .await;
    assert_eq!((reply.status, reply.code()), (400, "Throttling.User"));
    assert!(
        reply
            .ratelimit
            .as_deref()
            .is_some_and(|hint| hint.contains("TimeLeft:")),
        "{reply:?}"
    );
    sim.admin(
        "PUT",
        "/_sim/faults",
        Some(json!({"unstableWindowMs": 60_000})),
    );
    let reply = sim
        .send(sim.acs3(&me, "AssociateMacSecKey", &associate, &[("Cak", NEW_CAK)]))
        .await;
    assert_eq!(reply.code(), "OK", "{}", reply.body);
    let reply = sim
        .send(sim.rpc(&me, "DisassociateMacSecKey", &disassociate))
        .await;
    assert_eq!(reply.code(), "IncorrectStatus.PconnMacsec");
    assert_eq!(
        keys(&sim.describe(&me).await)[1],
        pair(NEW_CKN, "Associated"),
        "reads still work"
    );

    // A circuit that is not Enabled refuses changes.
    sim.admin(
        "POST",
        "/_sim/circuits/pc-bp1test0002/status",
        Some(json!({"status": "Terminated"})),
    );
    let other = [
        ("RegionId", REGION),
        ("PhysicalConnectionId", "pc-bp1test0002"),
        ("CipherSuite", "GCM-AES-128"),
        ("Ckn", NEW_CKN),
    ];
    let reply = sim
        .send(sim.acs3(&me, "AssociateMacSecKey", &other, &[("Cak", NEW_CAK)]))
        .await;
    assert_eq!(reply.code(), "IncorrectStatus.PhysicalConnection");

    let state = sim.admin("GET", "/_sim/state", None);
    assert_eq!(state["circuits"][0]["keys"][0]["cak"], "[redacted]");
    let counts = sim.admin("GET", "/_sim/calls", None);
    assert_eq!(counts["AssociateMacSecKey"]["OK"], 2, "{counts}");
    let calls: u64 = counts
        .as_object()
        .unwrap()
        .values()
        .flat_map(|codes| codes.as_object().unwrap().values())
        .filter_map(Value::as_u64)
        .sum();

    // Each call line is flushed before its reply, so all are on the pipe; wait for the
    // harness's reader to have taken them in.
    let stdout = wait_until("one stdout line per call", Duration::from_secs(30), || {
        let lines = running.output.lock().expect("log lock").clone();
        let seen = lines
            .iter()
            .filter(|line| line.contains(" action="))
            .count() as u64;
        if seen >= calls {
            Ok(lines)
        } else {
            Err(format!(
                "{seen} of {calls} call lines:\n{}",
                lines.join("\n")
            ))
        }
    });
    let call_lines: Vec<&String> = stdout
        .iter()
        .filter(|line| line.contains(" action="))
        .collect();
    assert_eq!(call_lines.len() as u64, calls, "one line per call");
    assert!(
        call_lines
            .iter()
            .any(|line| line.contains("code=SignatureDoesNotMatch")
                && line.contains(&format!("accessKeyId={ID}")))
    );
    assert!(
        call_lines
            .iter()
            .any(|line| line.contains(r#"Cak="[redacted]""#))
    );
    let secrets: [&str; 7] = [
        SEEDED_CAK,
        NEW_CAK,
        &NEW_CAK.to_uppercase(),
        SECRET,
        &tokenless.secret,
        temporary_token(&sts),
        "eyJhbGciOiJSUzI1NiJ9",
    ];
    for line in &stdout {
        for secret in secrets {
            assert!(!line.contains(secret), "stdout shows a secret: {line}");
        }
    }
}

fn temporary_token(sts: &Value) -> &str {
    sts["Credentials"]["SecurityToken"].as_str().unwrap()
}

#[test]
fn a_bad_seed_ends_the_process_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let seed = write_seed(&dir, &SEED.replace("GCM-AES-128", "GCM-AES-512"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_macsec-operator"))
        .args(["sim", "--listen", "127.0.0.1:0", "--seed"])
        .arg(&seed)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_until("the simulator to exit", Duration::from_secs(30), || {
        child
            .try_wait()
            .unwrap()
            .ok_or_else(|| "still running".to_owned())
    });
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&seed.display().to_string()) && stderr.contains("cipherSuite"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(SEEDED_CAK) && !stderr.contains(SECRET),
        "{stderr}"
    );
}
