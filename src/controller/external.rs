//! The operator's view of the cloud for one binding: observe the key, associate it,
//! disassociate it. Each call waits for its rate-limit token first.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use crate::cloud::wire::{self, PhysicalConnection, key_status};
use crate::cloud::{AssociateKey, CloudError, VpcClient};
use crate::credentials::Credentials;
use crate::metrics::Metrics;
use crate::resource::{CipherSuite, MacsecKeyBindingSpec};
use crate::secret::SecretString;

use super::decide::Observed;
use super::ratelimit::{Bucket, RateLimiter};

/// What a read of the circuit told about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub observed: Observed,
    pub start_on: Option<String>,
    /// The CKN of the key in use on the circuit (`Associated`), whichever it is.
    pub in_use: Option<String>,
}

/// The cloud, as the reconciler uses it.
#[derive(Debug, Clone)]
pub struct External {
    pub vpc: VpcClient,
    pub limiter: Arc<RateLimiter>,
    pub metrics: Arc<Metrics>,
}

impl External {
    /// Waits for the rate-limit token of `action`, then makes the call, counted and timed
    /// for `/metrics` (the wait is not part of the latency).
    async fn call<T>(
        &self,
        credentials: &Credentials,
        region_id: &str,
        action: &'static str,
        call: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        let bucket = Bucket {
            access_key_id: credentials.access_key_id.clone(),
            region_id: region_id.to_owned(),
            action,
        };
        self.limiter.acquire(bucket).await;
        let started = Instant::now();
        let result = call.await;
        let code = result.as_ref().err().map_or("OK", CloudError::code);
        self.metrics.cloud_call(action, code, started.elapsed());
        result
    }

    /// Reads the circuit and finds the key by its CKN (compared in upper case).
    pub async fn observe(
        &self,
        credentials: &Credentials,
        spec: &MacsecKeyBindingSpec,
    ) -> Result<Observation, CloudError> {
        let read = self.vpc.describe_physical_connection(
            credentials,
            &spec.region_id,
            &spec.physical_connection_id,
        );
        let circuit = self
            .call(
                credentials,
                &spec.region_id,
                wire::DESCRIBE_PHYSICAL_CONNECTIONS,
                read,
            )
            .await?;
        Ok(observation_of(
            circuit.as_ref(),
            &spec.ckn,
            spec.cipher_suite,
        ))
    }

    /// `AssociateMacSecKey` with the CAK; returns the RequestId.
    pub async fn associate(
        &self,
        credentials: &Credentials,
        spec: &MacsecKeyBindingSpec,
        cak: &SecretString,
    ) -> Result<String, CloudError> {
        let key = AssociateKey {
            region_id: &spec.region_id,
            physical_connection_id: &spec.physical_connection_id,
            cipher_suite: spec.cipher_suite,
            ckn: &spec.ckn,
            cak,
        };
        let associate = self.vpc.associate_macsec_key(credentials, &key);
        self.call(
            credentials,
            &spec.region_id,
            wire::ASSOCIATE_MACSEC_KEY,
            associate,
        )
        .await
    }

    /// `DisassociateMacSecKey`; returns the RequestId.
    pub async fn disassociate(
        &self,
        credentials: &Credentials,
        spec: &MacsecKeyBindingSpec,
    ) -> Result<String, CloudError> {
        let disassociate = self.vpc.disassociate_macsec_key(
            credentials,
            &spec.region_id,
            &spec.physical_connection_id,
            &spec.ckn,
        );
        self.call(
            credentials,
            &spec.region_id,
            wire::DISASSOCIATE_MACSEC_KEY,
            disassociate,
        )
        .await
    }
}

/// The key with `ckn` on `circuit`, as an observation.
/// What `circuit` holds for the key `ckn`, which the binding says runs `suite`.
pub fn observation_of(
    circuit: Option<&PhysicalConnection>,
    ckn: &str,
    suite: CipherSuite,
) -> Observation {
    let Some(circuit) = circuit else {
        return Observation {
            observed: Observed::CircuitMissing,
            start_on: None,
            in_use: None,
        };
    };
    let keys = &circuit.macsec_keys.macsec_key;
    let in_use = keys
        .iter()
        .find(|key| key.status == key_status::ASSOCIATED)
        .map(|key| key.ckn.clone());
    match keys.iter().find(|key| key.ckn.eq_ignore_ascii_case(ckn)) {
        Some(key) => Observation {
            observed: Observed::Key {
                status: key.status.clone(),
                // A cloud that names no suite gives nothing to compare.
                other_suite: Some(key.cipher_suite.clone()).filter(|other| {
                    !other.is_empty() && !other.eq_ignore_ascii_case(suite.as_str())
                }),
            },
            start_on: key.start_on.clone().filter(|s| !s.is_empty()),
            in_use,
        },
        None => Observation {
            observed: Observed::KeyAbsent,
            start_on: None,
            in_use,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::wire::{MacsecKey, MacsecKeys};

    #[test]
    fn keys_are_found_by_ckn_whatever_the_case() {
        let circuit = PhysicalConnection {
            physical_connection_id: "pc-a".into(),
            status: "Enabled".into(),
            macsec_keys: MacsecKeys {
                macsec_key: vec![MacsecKey {
                    ckn: "ABCDEF".into(),
                    cak: Some(SecretString::new("00")),
                    cipher_suite: "GCM-AES-128".into(),
                    start_on: Some("2026-01-01T00:00:00Z".into()),
                    status: "Associated".into(),
                }],
            },
        };
        let found = observation_of(Some(&circuit), "abcdef", CipherSuite::GcmAes128);
        assert_eq!(
            found.observed,
            Observed::Key {
                status: "Associated".into(),
                other_suite: None,
            }
        );
        assert_eq!(
            observation_of(Some(&circuit), "abcdef", CipherSuite::GcmAesXpn128).observed,
            Observed::Key {
                status: "Associated".into(),
                other_suite: Some("GCM-AES-128".into()),
            }
        );
        // Suites are compared whatever the case; a cloud that names none gives no mismatch.
        let mut lower_case = circuit.clone();
        lower_case.macsec_keys.macsec_key[0].cipher_suite = "gcm-aes-128".into();
        let mut unnamed = circuit.clone();
        unnamed.macsec_keys.macsec_key[0].cipher_suite = String::new();
        for same in [lower_case, unnamed] {
            assert!(matches!(
                observation_of(Some(&same), "abcdef", CipherSuite::GcmAes128).observed,
                Observed::Key {
                    other_suite: None,
                    ..
                }
            ));
        }
        assert_eq!(found.start_on.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(found.in_use.as_deref(), Some("ABCDEF"));
        assert_eq!(
            observation_of(Some(&circuit), "abcd", CipherSuite::GcmAes128).observed,
            Observed::KeyAbsent
        );
        assert_eq!(
            observation_of(None, "abcdef", CipherSuite::GcmAes128).observed,
            Observed::CircuitMissing
        );
    }
}
