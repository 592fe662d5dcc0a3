//! The `--seed` YAML file: the access keys the simulator accepts and the circuits it starts
//! with. Checked as strictly as the API would check the same keys, so a seed cannot hold a
//! state the real cloud could not be in.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Deserialize;

use crate::cloud::wire::key_status::ASSOCIATED;
use crate::resource::CipherSuite;
use crate::secret::SecretString;

use super::state::{Circuit, ENABLED, Key, MAX_KEYS_PER_CIRCUIT};
use super::time;

/// A seed file that cannot be used. The message names the file and the problem, never a
/// secret from it.
#[derive(Debug, thiserror::Error)]
#[error("seed file {}: {problem}", path.display())]
pub struct SeedError {
    pub path: PathBuf,
    pub problem: String,
}

/// What a seed file sets up.
#[derive(Debug, Default)]
pub struct Seed {
    pub access_keys: Vec<(String, SecretString)>,
    pub circuits: Vec<Circuit>,
}

/// Reads and checks a seed file. `now` is the `StartOn` of associated keys that give none.
pub fn load(path: &Path, now: Timestamp) -> Result<Seed, SeedError> {
    let error = |problem: String| SeedError {
        path: path.to_owned(),
        problem,
    };
    let text =
        std::fs::read_to_string(path).map_err(|io| error(format!("cannot read it: {io}")))?;
    parse(&text, now).map_err(error)
}

/// Parses and checks seed YAML; the error is the problem, for [`SeedError`].
pub fn parse(text: &str, now: Timestamp) -> Result<Seed, String> {
    if text.trim().is_empty() {
        return Err("the file is empty; it needs accessKeys and circuits".to_owned());
    }
    let file: SeedFile = serde_yaml::from_str(text).map_err(|error| error.to_string())?;
    let mut ids = HashSet::new();
    let mut access_keys = Vec::new();
    for (index, key) in file.access_keys.into_iter().enumerate() {
        let at = format!("accessKeys[{index}]");
        let id = key.id.trim().to_owned();
        if id.is_empty() || id.contains(char::is_whitespace) || key.secret.is_empty() {
            return Err(format!(
                "{at}: id and secret must be non-empty, and the id without spaces"
            ));
        }
        if id.starts_with("STS.") {
            return Err(format!(
                "{at}: ids starting with STS. are for the temporary credentials the simulator issues"
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(format!("{at}: the access key id {id} appears twice"));
        }
        access_keys.push((id, SecretString::new(key.secret)));
    }
    let mut circuit_ids = HashSet::new();
    let mut circuits = Vec::new();
    for (index, circuit) in file.circuits.into_iter().enumerate() {
        let id = circuit.physical_connection_id;
        let at = format!("circuits[{index}] ({id})");
        let valid_id = id.strip_prefix("pc-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !valid_id {
            return Err(format!(
                "{at}: physicalConnectionId must be pc- followed by lower-case letters and digits"
            ));
        }
        if circuit.region_id.trim().is_empty() || circuit.status.trim().is_empty() {
            return Err(format!("{at}: regionId and status must be non-empty"));
        }
        if !circuit_ids.insert(id.clone()) {
            return Err(format!("{at}: the physicalConnectionId appears twice"));
        }
        let keys = seed_keys(circuit.keys, now).map_err(|problem| format!("{at}: {problem}"))?;
        circuits.push(Circuit::new(circuit.region_id, id, circuit.status, keys));
    }
    Ok(Seed {
        access_keys,
        circuits,
    })
}

fn seed_keys(keys: Vec<SeedKey>, now: Timestamp) -> Result<Vec<Key>, String> {
    if keys.len() > MAX_KEYS_PER_CIRCUIT {
        return Err(format!(
            "a port holds at most {MAX_KEYS_PER_CIRCUIT} keys, the seed gives {}",
            keys.len()
        ));
    }
    let mut out: Vec<Key> = Vec::new();
    for (index, key) in keys.into_iter().enumerate() {
        let at = format!("keys[{index}]");
        let suite = CipherSuite::from_name(&key.cipher_suite).ok_or_else(|| {
            format!("{at}: cipherSuite must be GCM-AES-128, GCM-AES-XPN-128, GCM-AES-256 or GCM-AES-XPN-256")
        })?;
        let material = |name: &str, value: String| {
            let upper = value.to_ascii_uppercase();
            if suite.accepts_key_material(&upper) {
                Ok(upper)
            } else {
                Err(format!(
                    "{at}: {name} must be {} hexadecimal characters for {suite}",
                    suite.key_hex_len()
                ))
            }
        };
        let ckn = material("ckn", key.ckn)?;
        let cak = material("cak", key.cak)?;
        if out.iter().any(|other| other.ckn == ckn) {
            return Err(format!("{at}: the ckn {ckn} appears twice"));
        }
        let status = key.status.trim().to_owned();
        if status.is_empty() {
            return Err(format!("{at}: status must be non-empty"));
        }
        if status == ASSOCIATED && out.iter().any(|other| other.status == ASSOCIATED) {
            return Err(format!("{at}: only one key of a port can be {ASSOCIATED}"));
        }
        let start_on = match key.start_on {
            Some(text) => Some(
                time::parse(&text)
                    .ok_or_else(|| format!("{at}: startOn must look like 2024-05-01T08:00:00Z"))?,
            ),
            None => (status == ASSOCIATED).then_some(now),
        };
        out.push(Key::new(
            ckn,
            SecretString::new(cak),
            suite,
            status,
            start_on,
        ));
    }
    Ok(out)
}

fn enabled() -> String {
    ENABLED.to_owned()
}

// Plain strings: serde_yaml hands a `String` field the scalar's text verbatim, so an
// unquoted all-digit CKN or CAK keeps its leading zeros, and a wrong type is reported
// without its value.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    access_keys: Vec<SeedAccessKey>,
    #[serde(default)]
    circuits: Vec<SeedCircuit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAccessKey {
    id: String,
    secret: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedCircuit {
    region_id: String,
    physical_connection_id: String,
    #[serde(default = "enabled")]
    status: String,
    #[serde(default)]
    keys: Vec<SeedKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedKey {
    ckn: String,
    cak: String,
    cipher_suite: String,
    status: String,
    start_on: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
accessKeys:
  - id: LTAI5tSimExampleKeyId
    secret: SimExampleSecretValue
circuits:
  - regionId: cn-hangzhou
    physicalConnectionId: pc-bp1hp0wr072f6abcd
    status: Enabled
    keys:
      - ckn: 0123456789abcdef0123456789ABCDEF
        cak: FEDCBA9876543210FEDCBA9876543210
        cipherSuite: GCM-AES-128
        status: Associated
      - ckn: "11111111111111111111111111111111"
        cak: "22222222222222222222222222222222"
        cipherSuite: GCM-AES-XPN-128
        status: Disassociated
        startOn: 2024-05-01T08:00:00Z
"#;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    #[test]
    fn the_contract_example_loads() {
        let seed = parse(GOOD, now()).unwrap();
        assert_eq!(seed.access_keys[0].0, "LTAI5tSimExampleKeyId");
        let circuit = &seed.circuits[0];
        assert_eq!(
            (circuit.region_id.as_str(), circuit.status.as_str()),
            ("cn-hangzhou", "Enabled")
        );
        assert_eq!(circuit.keys[0].ckn, "0123456789ABCDEF0123456789ABCDEF");
        assert_eq!(circuit.keys[0].start_on, Some(now()));
        assert_eq!(
            circuit.keys[1].start_on,
            time::parse("2024-05-01T08:00:00Z")
        );
        let unquoted = GOOD.replace(
            "\"22222222222222222222222222222222\"",
            "00000000000000000000000000002222",
        );
        let seed = parse(&unquoted, now()).unwrap();
        assert_eq!(
            seed.circuits[0].keys[1].cak.expose(),
            "00000000000000000000000000002222"
        );
    }

    #[test]
    fn bad_seeds_name_the_problem_and_never_the_secret() {
        let with = |from: &str, to: &str| GOOD.replacen(from, to, 1);
        let cases = [
            (
                with("status: Disassociated", "status: Associated"),
                "only one key",
            ),
            (
                with(
                    "cak: FEDCBA9876543210FEDCBA9876543210",
                    "cak: FEDCBA98765432",
                ),
                "cak must be 32 hexadecimal",
            ),
            (
                with("GCM-AES-XPN-128", "GCM-AES-512"),
                "cipherSuite must be",
            ),
            (
                with("pc-bp1hp0wr072f6abcd", "PC-1"),
                "physicalConnectionId must be",
            ),
            (
                with("startOn: 2024-05-01T08:00:00Z", "startOn: yesterday"),
                "startOn must look like",
            ),
            (
                with("accessKeys:", "accessKey:"),
                "unknown field `accessKey`",
            ),
            (with("id: LTAI5tSimExampleKeyId", "id: STS.abc"), "STS."),
            (
                with(
                    "\"11111111111111111111111111111111\"",
                    "0123456789abcdef0123456789ABCDEF",
                ),
                "appears twice",
            ),
            ("".to_owned(), "empty"),
            ("circuits: [".to_owned(), "line 2 column 1"),
        ];
        for (text, expected) in cases {
            let problem = parse(&text, now()).map(|_| ()).expect_err(expected);
            assert!(
                problem.contains(expected),
                "{expected:?} not in {problem:?}"
            );
            for secret in ["FEDCBA98765432", "2222222222", "SimExampleSecretValue"] {
                assert!(!problem.contains(secret), "{problem:?} shows a secret");
            }
        }
        let key = |n: u32| {
            format!(
                "      - {{ckn: \"{n:032}\", cak: \"{n:032}\", cipherSuite: GCM-AES-128, status: Disassociated}}\n"
            )
        };
        let keys: String = (1..=4).map(key).collect();
        let four = format!(
            "circuits:\n  - regionId: r\n    physicalConnectionId: pc-four\n    keys:\n{keys}"
        );
        let problem = parse(&four, now()).map(|_| ()).unwrap_err();
        assert!(problem.contains("at most 3 keys"), "{problem}");
    }

    #[test]
    fn load_names_the_file() {
        let error = load(Path::new("/nonexistent/seed.yaml"), now()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("seed file /nonexistent/seed.yaml: cannot read it"),
            "{error}"
        );
    }
}
