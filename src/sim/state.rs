//! The circuits and their MACsec keys, and the rules of the API reference for changing
//! them. Pure: no HTTP, no clock (the caller passes `now`), so the rules are tested as a
//! table.

use jiff::{SignedDuration, Timestamp};

use crate::cloud::signer::signatures_match;
use crate::cloud::wire::key_status::{ASSOCIATED, ASSOCIATED_FAILED, DISASSOCIATED};
use crate::resource::CipherSuite;
use crate::secret::SecretString;

use super::error::ApiError;

/// At most three CKN/CAK sets per port (API reference of `AssociateMacSecKey`).
pub const MAX_KEYS_PER_CIRCUIT: usize = 3;

/// The only circuit status in which MACsec keys may change.
pub const ENABLED: &str = "Enabled";

/// One CKN/CAK set on a circuit port.
#[derive(Debug, Clone)]
pub struct Key {
    /// Upper-case hex, as the cloud stores it.
    pub ckn: String,
    pub cak: SecretString,
    pub suite: CipherSuite,
    /// `Associated`, `Disassociated`, `AssociatedFailed`, or a transitional name from the
    /// seed, kept verbatim; keys in any other status refuse changes as unstable.
    pub status: String,
    /// When the key was last associated.
    pub start_on: Option<Timestamp>,
    /// Orders activations within the same second, so "the most recently activated key"
    /// is well defined even when `start_on` ties.
    activation: u64,
}

impl Key {
    pub fn new(
        ckn: String,
        cak: SecretString,
        suite: CipherSuite,
        status: String,
        start_on: Option<Timestamp>,
    ) -> Self {
        Key {
            ckn,
            cak,
            suite,
            status,
            start_on,
            activation: 0,
        }
    }

    fn recency(&self) -> (Option<Timestamp>, u64) {
        (self.start_on, self.activation)
    }
}

/// One Express Connect circuit.
#[derive(Debug, Clone)]
pub struct Circuit {
    pub region_id: String,
    pub id: String,
    pub status: String,
    pub keys: Vec<Key>,
    /// Until when the keys are in a transitional state after a change (the simulator's
    /// unstable window); mutating calls get `IncorrectStatus.PconnMacsec` before then.
    pub busy_until: Option<Timestamp>,
}

impl Circuit {
    pub fn new(region_id: String, id: String, status: String, keys: Vec<Key>) -> Self {
        Circuit {
            region_id,
            id,
            status,
            keys,
            busy_until: None,
        }
    }

    fn check_mutable(&self, now: Timestamp) -> Result<(), ApiError> {
        if self.status != ENABLED {
            return Err(ApiError::circuit_status(&self.id, &self.status));
        }
        if self.busy_until.is_some_and(|until| until > now) {
            return Err(ApiError::key_unstable(&self.id));
        }
        Ok(())
    }

    fn mark_busy(&mut self, now: Timestamp, window: SignedDuration) {
        self.busy_until = (!window.is_zero())
            .then(|| now.checked_add(window).ok())
            .flatten();
    }

    /// Associates key `index`; the key that was active, if any, becomes `Disassociated`.
    fn activate(&mut self, index: usize, now: Timestamp, activation: u64) {
        for key in self.keys.iter_mut().filter(|key| key.status == ASSOCIATED) {
            key.status = DISASSOCIATED.to_owned();
        }
        if let Some(key) = self.keys.get_mut(index) {
            key.status = ASSOCIATED.to_owned();
            key.start_on = Some(now);
            key.activation = activation;
        }
    }

    fn position(&self, ckn: &str) -> Option<usize> {
        self.keys.iter().position(|key| key.ckn == ckn)
    }
}

/// The parameters of `AssociateMacSecKey`, as sent (before validation).
#[derive(Debug, Clone, Copy)]
pub struct Association<'a> {
    pub region_id: &'a str,
    pub physical_connection_id: &'a str,
    pub cipher_suite: &'a str,
    pub ckn: &'a str,
    pub cak: &'a str,
}

/// One page of `DescribePhysicalConnections`.
#[derive(Debug)]
pub struct Page<'a> {
    pub total_count: usize,
    pub circuits: Vec<&'a Circuit>,
}

/// Every circuit the simulator knows.
#[derive(Debug, Default)]
pub struct Circuits {
    circuits: Vec<Circuit>,
    activations: u64,
}

impl Circuits {
    pub fn new(circuits: Vec<Circuit>) -> Self {
        Circuits {
            circuits,
            activations: 0,
        }
    }

    pub fn all(&self) -> &[Circuit] {
        &self.circuits
    }

    /// Sets a circuit's status (admin API); `None` when there is no such circuit.
    pub fn set_status(&mut self, id: &str, status: &str) -> Option<&Circuit> {
        let circuit = self.circuits.iter_mut().find(|circuit| circuit.id == id)?;
        circuit.status = status.to_owned();
        Some(circuit)
    }

    fn circuit_mut(&mut self, region_id: &str, id: &str) -> Result<&mut Circuit, ApiError> {
        // A circuit in another region is as unknown as a missing one, like the real API.
        self.circuits
            .iter_mut()
            .find(|circuit| circuit.id == id && circuit.region_id == region_id)
            .ok_or_else(|| ApiError::circuit_not_found(region_id, id))
    }

    fn next_activation(&mut self) -> u64 {
        self.activations += 1;
        self.activations
    }

    /// `AssociateMacSecKey`. `window` is how long the circuit's keys stay unstable after a
    /// change.
    pub fn associate(
        &mut self,
        request: Association<'_>,
        now: Timestamp,
        window: SignedDuration,
    ) -> Result<(), ApiError> {
        let suite = CipherSuite::from_name(request.cipher_suite).ok_or_else(|| {
            ApiError::illegal(
                "CipherSuite",
                "use GCM-AES-128, GCM-AES-XPN-128, GCM-AES-256 or GCM-AES-XPN-256.",
            )
        })?;
        let ckn = key_material("Ckn", request.ckn, Some(suite))?;
        let cak = key_material("Cak", request.cak, Some(suite))?;
        let activation = self.next_activation();
        let circuit = self.circuit_mut(request.region_id, request.physical_connection_id)?;
        circuit.check_mutable(now)?;
        let index = match circuit.position(&ckn) {
            Some(index) => {
                let key = &circuit.keys[index];
                if key.suite != suite || !signatures_match(key.cak.expose(), &cak) {
                    return Err(ApiError::illegal(
                        "Cak",
                        format!(
                            "the Ckn {ckn} is already on the port with another Cak or CipherSuite."
                        ),
                    ));
                }
                match key.status.as_str() {
                    // Asking again for what is already true changes nothing.
                    ASSOCIATED => return Ok(()),
                    // Re-association, or renegotiation after a failure.
                    DISASSOCIATED | ASSOCIATED_FAILED => index,
                    _ => return Err(ApiError::key_unstable(&circuit.id)),
                }
            }
            None => {
                if circuit.keys.len() >= MAX_KEYS_PER_CIRCUIT {
                    return Err(ApiError::key_quota(&circuit.id, MAX_KEYS_PER_CIRCUIT));
                }
                circuit.keys.push(Key::new(
                    ckn,
                    SecretString::new(cak),
                    suite,
                    DISASSOCIATED.to_owned(),
                    None,
                ));
                circuit.keys.len() - 1
            }
        };
        circuit.activate(index, now, activation);
        circuit.mark_busy(now, window);
        Ok(())
    }

    /// `DisassociateMacSecKey`: an `Associated` key becomes `Disassociated` and the most
    /// recently activated other key is associated in its place; a `Disassociated` key is
    /// deleted.
    pub fn disassociate(
        &mut self,
        region_id: &str,
        physical_connection_id: &str,
        ckn: &str,
        now: Timestamp,
        window: SignedDuration,
    ) -> Result<(), ApiError> {
        let ckn = key_material("Ckn", ckn, None)?;
        let activation = self.next_activation();
        let circuit = self.circuit_mut(region_id, physical_connection_id)?;
        circuit.check_mutable(now)?;
        let index = circuit
            .position(&ckn)
            .ok_or_else(|| ApiError::key_not_found(&circuit.id, &ckn))?;
        match circuit.keys[index].status.as_str() {
            ASSOCIATED => {
                circuit.keys[index].status = DISASSOCIATED.to_owned();
                let successor = circuit
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(other, key)| *other != index && key.status == DISASSOCIATED)
                    .max_by_key(|(_, key)| key.recency())
                    .map(|(other, _)| other);
                if let Some(successor) = successor {
                    circuit.activate(successor, now, activation);
                }
            }
            // A failed key was never active: nothing takes its place.
            ASSOCIATED_FAILED => circuit.keys[index].status = DISASSOCIATED.to_owned(),
            DISASSOCIATED => {
                circuit.keys.remove(index);
            }
            _ => return Err(ApiError::key_unstable(&circuit.id)),
        }
        circuit.mark_busy(now, window);
        Ok(())
    }

    /// `DescribePhysicalConnections` in `region_id`, restricted to `ids` when given.
    /// `page_number` starts at 1.
    pub fn describe(
        &self,
        region_id: &str,
        ids: Option<&[String]>,
        page_number: u32,
        page_size: u32,
    ) -> Page<'_> {
        let matching: Vec<&Circuit> = self
            .circuits
            .iter()
            .filter(|circuit| circuit.region_id == region_id)
            .filter(|circuit| ids.is_none_or(|ids| ids.contains(&circuit.id)))
            .collect();
        let size = page_size as usize;
        let skip = (page_number.saturating_sub(1) as usize).saturating_mul(size);
        Page {
            total_count: matching.len(),
            circuits: matching.into_iter().skip(skip).take(size).collect(),
        }
    }
}

/// Checks CKN or CAK material and returns it upper-cased, the way the cloud stores it:
/// hex only, 32 characters for the 128-bit suites and 64 for the 256-bit ones (either,
/// when the suite is not known). The value never appears in the error: it may be a CAK.
pub fn key_material(
    name: &str,
    value: &str,
    suite: Option<CipherSuite>,
) -> Result<String, ApiError> {
    let upper = value.to_ascii_uppercase();
    let valid = match suite {
        Some(suite) => suite.accepts_key_material(&upper),
        None => CipherSuite::ALL
            .into_iter()
            .any(|suite| suite.accepts_key_material(&upper)),
    };
    if valid {
        Ok(upper)
    } else {
        let lengths = match suite {
            Some(suite) => format!("{} for {suite}", suite.key_hex_len()),
            None => "32 or 64".to_owned(),
        };
        Err(ApiError::illegal(
            name,
            format!("it must be {lengths} hexadecimal characters."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: &str = "cn-hangzhou";
    const PC: &str = "pc-test1";
    const SUITE: &str = "GCM-AES-128";

    fn ckn(n: u8) -> String {
        format!("{:032X}", 0xC0u32 + u32::from(n))
    }

    fn cak(n: u8) -> String {
        format!("{:032X}", 0xCA00u32 + u32::from(n))
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + second).unwrap()
    }

    /// A circuit with keys `(n, status, started at second)`.
    fn circuits(status: &str, keys: &[(u8, &str, i64)]) -> Circuits {
        let keys = keys
            .iter()
            .map(|(n, key_status, second)| {
                let suite = CipherSuite::GcmAes128;
                Key::new(
                    ckn(*n),
                    SecretString::new(cak(*n)),
                    suite,
                    key_status.to_string(),
                    Some(at(*second)),
                )
            })
            .collect();
        Circuits::new(vec![Circuit::new(
            REGION.into(),
            PC.into(),
            status.into(),
            keys,
        )])
    }

    fn snapshot(circuits: &Circuits) -> Vec<(String, String)> {
        circuits.all()[0]
            .keys
            .iter()
            .map(|key| (key.ckn.clone(), key.status.clone()))
            .collect()
    }

    enum Op {
        Associate(u8, u8),
        AssociateRaw {
            region: &'static str,
            pc: &'static str,
            suite: &'static str,
            ckn: String,
            cak: String,
        },
        Disassociate(u8),
        DisassociateRaw(String),
    }

    fn apply(circuits: &mut Circuits, op: &Op, now: Timestamp) -> Result<(), ApiError> {
        let window = SignedDuration::ZERO;
        match op {
            Op::Associate(key, secret) => {
                let (ckn, cak) = (ckn(*key), cak(*secret));
                let request = Association {
                    region_id: REGION,
                    physical_connection_id: PC,
                    cipher_suite: SUITE,
                    ckn: &ckn,
                    cak: &cak,
                };
                circuits.associate(request, now, window)
            }
            Op::AssociateRaw {
                region,
                pc,
                suite,
                ckn,
                cak,
            } => {
                let request = Association {
                    region_id: region,
                    physical_connection_id: pc,
                    cipher_suite: suite,
                    ckn,
                    cak,
                };
                circuits.associate(request, now, window)
            }
            Op::Disassociate(key) => circuits.disassociate(REGION, PC, &ckn(*key), now, window),
            Op::DisassociateRaw(ckn) => circuits.disassociate(REGION, PC, ckn, now, window),
        }
    }

    fn raw(suite: &'static str, ckn: &str, cak: &str) -> Op {
        Op::AssociateRaw {
            region: REGION,
            pc: PC,
            suite,
            ckn: ckn.into(),
            cak: cak.into(),
        }
    }

    const A: &str = ASSOCIATED;
    const D: &str = DISASSOCIATED;
    const F: &str = ASSOCIATED_FAILED;

    #[test]
    fn the_key_rules_of_the_api_reference() {
        /// Expected keys `(n, status)` afterwards, or the error code.
        type Expect = Result<Vec<(u8, &'static str)>, &'static str>;
        /// Name, circuit status, keys before, the call, what follows.
        type Case = (
            &'static str,
            &'static str,
            Vec<(u8, &'static str, i64)>,
            Op,
            Expect,
        );
        let hex64 = "ab".repeat(32);
        let cases: Vec<Case> = vec![
            (
                "a new key is associated",
                ENABLED,
                vec![],
                Op::Associate(1, 1),
                Ok(vec![(1, A)]),
            ),
            (
                "a new key replaces the active one",
                ENABLED,
                vec![(1, A, 0)],
                Op::Associate(2, 2),
                Ok(vec![(1, D), (2, A)]),
            ),
            (
                "a fourth key is refused",
                ENABLED,
                vec![(1, A, 0), (2, D, 0), (3, D, 0)],
                Op::Associate(4, 4),
                Err("QuotaExceeded.PconnMacsec"),
            ),
            (
                "associating an associated key again is a no-op",
                ENABLED,
                vec![(1, D, 0), (2, A, 5)],
                Op::Associate(2, 2),
                Ok(vec![(1, D), (2, A)]),
            ),
            (
                "a known CKN with another CAK is refused",
                ENABLED,
                vec![(1, A, 0)],
                Op::Associate(1, 9),
                Err("IllegalParam.Cak"),
            ),
            (
                "a known CKN with another suite is refused",
                ENABLED,
                vec![(1, D, 0)],
                raw("GCM-AES-XPN-128", &ckn(1), &cak(1)),
                Err("IllegalParam.Cak"),
            ),
            (
                "a disassociated key is re-associated",
                ENABLED,
                vec![(1, D, 0), (2, A, 5)],
                Op::Associate(1, 1),
                Ok(vec![(1, A), (2, D)]),
            ),
            (
                "a failed key renegotiates",
                ENABLED,
                vec![(1, F, 0)],
                Op::Associate(1, 1),
                Ok(vec![(1, A)]),
            ),
            (
                "lower-case hex is stored upper-case",
                ENABLED,
                vec![(1, A, 0)],
                raw(SUITE, &ckn(1).to_lowercase(), &cak(1).to_lowercase()),
                Ok(vec![(1, A)]),
            ),
            (
                "a transitional key refuses association",
                ENABLED,
                vec![(1, "Associating", 0)],
                Op::Associate(1, 1),
                Err("IncorrectStatus.PconnMacsec"),
            ),
            (
                "a short CKN is refused",
                ENABLED,
                vec![],
                raw(SUITE, "ABC", &cak(1)),
                Err("IllegalParam.Ckn"),
            ),
            (
                "a non-hex CKN is refused",
                ENABLED,
                vec![],
                raw(SUITE, &"G".repeat(32), &cak(1)),
                Err("IllegalParam.Ckn"),
            ),
            (
                "a 256 suite needs 64 characters",
                ENABLED,
                vec![],
                raw("GCM-AES-256", &ckn(1), &cak(1)),
                Err("IllegalParam.Ckn"),
            ),
            (
                "a 256 suite with 64 characters is fine",
                ENABLED,
                vec![],
                raw("GCM-AES-XPN-256", &hex64, &hex64),
                Ok(vec![]),
            ),
            (
                "a bad CAK is refused",
                ENABLED,
                vec![],
                raw(SUITE, &ckn(1), "XYZ"),
                Err("IllegalParam.Cak"),
            ),
            (
                "an unknown suite is refused",
                ENABLED,
                vec![],
                raw("AES-128", &ckn(1), &cak(1)),
                Err("IllegalParam.CipherSuite"),
            ),
            (
                "a circuit in another region is unknown",
                ENABLED,
                vec![],
                Op::AssociateRaw {
                    region: "cn-beijing",
                    pc: PC,
                    suite: SUITE,
                    ckn: ckn(1),
                    cak: cak(1),
                },
                Err("ResourceNotFound.PhysicalConnectionId"),
            ),
            (
                "an unknown circuit",
                ENABLED,
                vec![],
                Op::AssociateRaw {
                    region: REGION,
                    pc: "pc-other",
                    suite: SUITE,
                    ckn: ckn(1),
                    cak: cak(1),
                },
                Err("ResourceNotFound.PhysicalConnectionId"),
            ),
            (
                "a circuit that is not Enabled refuses association",
                "Terminated",
                vec![],
                Op::Associate(1, 1),
                Err("IncorrectStatus.PhysicalConnection"),
            ),
            (
                "a circuit that is not Enabled refuses disassociation",
                "Confirmed",
                vec![(1, A, 0)],
                Op::Disassociate(1),
                Err("IncorrectStatus.PhysicalConnection"),
            ),
            (
                "disassociating the active key activates the most recent other",
                ENABLED,
                vec![(1, D, 10), (2, D, 30), (3, A, 50)],
                Op::Disassociate(3),
                Ok(vec![(1, D), (2, A), (3, D)]),
            ),
            (
                "disassociating the only key leaves none active",
                ENABLED,
                vec![(1, A, 0)],
                Op::Disassociate(1),
                Ok(vec![(1, D)]),
            ),
            (
                "disassociating a disassociated key deletes it",
                ENABLED,
                vec![(1, D, 0), (2, A, 5)],
                Op::Disassociate(1),
                Ok(vec![(2, A)]),
            ),
            (
                "disassociating a failed key activates nothing",
                ENABLED,
                vec![(1, F, 10), (2, D, 0)],
                Op::Disassociate(1),
                Ok(vec![(1, D), (2, D)]),
            ),
            (
                "disassociating an unknown CKN",
                ENABLED,
                vec![(1, A, 0)],
                Op::Disassociate(2),
                Err("ResourceNotFound.PconnMacsec"),
            ),
            (
                "disassociating a transitional key is refused",
                ENABLED,
                vec![(1, "Detaching", 0)],
                Op::Disassociate(1),
                Err("IncorrectStatus.PconnMacsec"),
            ),
            (
                "disassociate checks the CKN shape",
                ENABLED,
                vec![],
                Op::DisassociateRaw("12".into()),
                Err("IllegalParam.Ckn"),
            ),
            (
                "disassociate accepts lower case",
                ENABLED,
                vec![(10, A, 0)],
                Op::DisassociateRaw(ckn(10).to_lowercase()),
                Ok(vec![(10, D)]),
            ),
        ];
        for (name, circuit_status, keys, op, expect) in cases {
            let mut state = circuits(circuit_status, &keys);
            let before = snapshot(&state);
            let result = apply(&mut state, &op, at(100));
            match expect {
                Ok(after) if after.is_empty() && before.is_empty() => {
                    assert!(result.is_ok(), "{name}: {result:?}");
                }
                Ok(after) => {
                    assert!(result.is_ok(), "{name}: {result:?}");
                    let after: Vec<(String, String)> = after
                        .iter()
                        .map(|(n, s)| (ckn(*n), s.to_string()))
                        .collect();
                    assert_eq!(snapshot(&state), after, "{name}");
                }
                Err(code) => {
                    assert_eq!(
                        result.map_err(|error| error.code),
                        Err(code.to_owned()),
                        "{name}"
                    );
                    assert_eq!(
                        snapshot(&state),
                        before,
                        "{name}: a refused call changes nothing"
                    );
                }
            }
        }
    }

    #[test]
    fn association_records_start_on_and_the_latest_activation_wins_ties() {
        let mut state = circuits(ENABLED, &[]);
        for n in 1..=3 {
            apply(&mut state, &Op::Associate(n, n), at(100)).unwrap();
        }
        assert!(
            state.all()[0]
                .keys
                .iter()
                .all(|key| key.start_on == Some(at(100)))
        );
        apply(&mut state, &Op::Disassociate(3), at(200)).unwrap();
        // Keys 1 and 2 started in the same second; 2 was activated later.
        assert_eq!(snapshot(&state)[1], (ckn(2), A.to_owned()));
        assert_eq!(state.all()[0].keys[1].start_on, Some(at(200)));
    }

    #[test]
    fn a_changed_circuit_is_unstable_for_the_window() {
        let mut state = circuits(ENABLED, &[]);
        let window = SignedDuration::from_secs(2);
        let (one, secret) = (ckn(1), cak(1));
        let request = Association {
            region_id: REGION,
            physical_connection_id: PC,
            cipher_suite: SUITE,
            ckn: &one,
            cak: &secret,
        };
        state.associate(request, at(0), window).unwrap();
        let busy = state.disassociate(REGION, PC, &one, at(1), window);
        assert_eq!(
            busy.map_err(|error| error.code),
            Err("IncorrectStatus.PconnMacsec".to_owned())
        );
        state.disassociate(REGION, PC, &one, at(2), window).unwrap();
        assert_eq!(state.all()[0].busy_until, Some(at(4)));
    }

    #[test]
    fn describe_filters_by_region_and_id_and_pages() {
        let circuit =
            |region: &str, id: &str| Circuit::new(region.into(), id.into(), ENABLED.into(), vec![]);
        let state = Circuits::new(vec![
            circuit(REGION, "pc-a"),
            circuit(REGION, "pc-b"),
            circuit("cn-beijing", "pc-c"),
            circuit(REGION, "pc-d"),
        ]);
        let ids = |page: &Page<'_>| {
            page.circuits
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        };
        let all = state.describe(REGION, None, 1, 10);
        assert_eq!(
            (all.total_count, ids(&all)),
            (3, vec!["pc-a".to_owned(), "pc-b".into(), "pc-d".into()])
        );
        let second = state.describe(REGION, None, 2, 2);
        assert_eq!(
            (second.total_count, ids(&second)),
            (3, vec!["pc-d".to_owned()])
        );
        let filtered = state.describe(REGION, Some(&["pc-b".to_owned(), "pc-c".to_owned()]), 1, 10);
        assert_eq!(
            (filtered.total_count, ids(&filtered)),
            (1, vec!["pc-b".to_owned()])
        );
        assert_eq!(state.describe(REGION, None, 9, 50).circuits.len(), 0);
    }
}
