//! The `MacsecKeyBinding` custom resource: its Rust types, and the schema the API server
//! enforces on them (OpenAPI validation plus CEL rules), so bad manifests are refused before
//! the operator ever sees them.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of the resource.
pub const GROUP: &str = "macsec.expressconnect.io";

/// Finalizer that holds a binding until the cloud has confirmed the key is off the circuit.
pub const FINALIZER: &str = "macsec.expressconnect.io/disassociate-key";

/// One MACsec key (a CKN/CAK pair) on the port of an Express Connect dedicated circuit.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "macsec.expressconnect.io",
    version = "v1alpha1",
    kind = "MacsecKeyBinding",
    plural = "macseckeybindings",
    shortname = "mkb",
    category = "expressconnect",
    namespaced,
    status = "MacsecKeyBindingStatus",
    doc = "A MACsec CKN/CAK key on the port of an Alibaba Cloud Express Connect dedicated circuit. Deleting the object takes the key off the circuit (see spec.deletionPolicy).",
    printcolumn = r#"{"name":"Region","type":"string","jsonPath":".spec.regionId"}"#,
    printcolumn = r#"{"name":"Circuit","type":"string","jsonPath":".spec.physicalConnectionId"}"#,
    printcolumn = r#"{"name":"Cipher","type":"string","jsonPath":".spec.cipherSuite"}"#,
    printcolumn = r#"{"name":"Key Status","type":"string","jsonPath":".status.keyStatus"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Synced\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new(
    "self.cipherSuite.endsWith('-128') ? size(self.ckn) == 32 : size(self.ckn) == 64"
).message("ckn must be 32 hex characters for GCM-AES-128 and GCM-AES-XPN-128, and 64 for GCM-AES-256 and GCM-AES-XPN-256").field_path(".ckn"))]
#[x_kube(validation = Rule::new(
    "has(self.cakSecretRef) == has(oldSelf.cakSecretRef)"
).message("cakSecretRef is immutable: it cannot be added to or removed from an existing binding; create a new binding instead").field_path(".cakSecretRef"))]
#[serde(rename_all = "camelCase")]
pub struct MacsecKeyBindingSpec {
    /// Alibaba Cloud region of the circuit, for example `cn-hangzhou`. Immutable.
    #[schemars(
        length(min = 1, max = 64),
        regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    #[x_kube(validation = Rule::new("self == oldSelf").message("regionId is immutable"))]
    pub region_id: String,

    /// ID of the Express Connect dedicated circuit (physical connection): `pc-` followed by lowercase letters and digits. Immutable.
    #[schemars(length(min = 4, max = 64), regex(pattern = r"^pc-[a-z0-9]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("physicalConnectionId is immutable"))]
    pub physical_connection_id: String,

    /// MACsec cipher suite of the key. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("cipherSuite is immutable"))]
    pub cipher_suite: CipherSuite,

    /// Connectivity association key name (CKN), in hex: 32 characters for the two 128-bit suites, 64 for the two 256-bit suites. Case does not matter: the cloud stores it in upper case. Immutable.
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[0-9A-Fa-f]+$"))]
    // Case does not matter to the cloud, so changing only the case is allowed.
    #[x_kube(validation = Rule::new("self.upperAscii() == oldSelf.upperAscii()").message("ckn is immutable"))]
    pub ckn: String,

    /// Secret in this binding's namespace holding the connectivity association key (CAK), hex of the same length as the CKN. When set, the operator associates the key on the circuit. When absent, the binding adopts a key configured elsewhere: it observes it and takes it off the circuit on deletion. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("cakSecretRef is immutable"))]
    pub cak_secret_ref: Option<CakSecretRef>,

    /// What deleting this binding does to the key on the circuit. `Disassociate` (default): take the key off the port if it is associated, leaving it configured. `Delete`: remove the key from the circuit entirely. `Orphan`: make no cloud call for this binding and leave its key as it is (other bindings of the circuit still act on their own spec).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Secret in this binding's namespace with the Alibaba Cloud credentials to use, under the keys `accessKeyId`, `accessKeySecret` and optionally `securityToken`. When absent, the operator's default credential chain is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,
}

/// The MACsec cipher suites Express Connect accepts.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum CipherSuite {
    #[serde(rename = "GCM-AES-128")]
    GcmAes128,
    #[serde(rename = "GCM-AES-XPN-128")]
    GcmAesXpn128,
    #[serde(rename = "GCM-AES-256")]
    GcmAes256,
    #[serde(rename = "GCM-AES-XPN-256")]
    GcmAesXpn256,
}

impl CipherSuite {
    pub const ALL: [CipherSuite; 4] = [
        CipherSuite::GcmAes128,
        CipherSuite::GcmAesXpn128,
        CipherSuite::GcmAes256,
        CipherSuite::GcmAesXpn256,
    ];

    /// The name the cloud API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CipherSuite::GcmAes128 => "GCM-AES-128",
            CipherSuite::GcmAesXpn128 => "GCM-AES-XPN-128",
            CipherSuite::GcmAes256 => "GCM-AES-256",
            CipherSuite::GcmAesXpn256 => "GCM-AES-XPN-256",
        }
    }

    /// Parses the cloud's name of a suite.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|suite| suite.as_str() == name)
    }

    /// Length in hex characters of both the CKN and the CAK for this suite.
    pub fn key_hex_len(self) -> usize {
        match self {
            CipherSuite::GcmAes128 | CipherSuite::GcmAesXpn128 => 32,
            CipherSuite::GcmAes256 | CipherSuite::GcmAesXpn256 => 64,
        }
    }

    /// Whether `value` is valid CKN or CAK material for this suite: hex of the right length.
    pub fn accepts_key_material(self, value: &str) -> bool {
        value.len() == self.key_hex_len() && value.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the operator does to the key on the circuit when the binding is deleted.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Take the key off the port when it is associated; a key that is already disassociated or absent is left alone.
    #[default]
    Disassociate,
    /// Remove the key from the circuit (an associated key takes two calls).
    Delete,
    /// Leave the cloud untouched.
    Orphan,
}

/// A key of a Secret in the binding's own namespace holding the CAK.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct CakSecretRef {
    /// Name of the Secret, in the binding's namespace.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Key in the Secret's data holding the CAK in hex. Defaults to `cak`.
    #[serde(default = "default_cak_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

fn default_cak_key() -> String {
    "cak".to_owned()
}

/// A Secret in the binding's own namespace holding Alibaba Cloud credentials.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct CredentialsSecretRef {
    /// Name of the Secret, in the binding's namespace.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
}

/// What the operator last learnt about the key. Never holds a secret.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MacsecKeyBindingStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// The key's status exactly as the cloud reports it (`Associated`, `Disassociated`, `AssociatedFailed`, or any other value verbatim), or `Absent` when the circuit has no key with this CKN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_status: Option<String>,

    /// The key's activation time as the cloud reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_on: Option<String>,

    /// `RequestId` of the most recent mutating cloud call, for support tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_request_id: Option<String>,

    /// `Ready` is True when the key is associated on the circuit. `Synced` is True when the last reconcile reached the cloud without error; otherwise its reason is the Alibaba Cloud error code or a local reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

/// The CRD as YAML, exactly as committed under `crds/`.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&MacsecKeyBinding::crd())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lengths_follow_the_suite() {
        for suite in CipherSuite::ALL {
            let expected = if suite.as_str().ends_with("-128") {
                32
            } else {
                64
            };
            assert_eq!(suite.key_hex_len(), expected, "{suite}");
            assert_eq!(CipherSuite::from_name(suite.as_str()), Some(suite));
        }
        assert_eq!(CipherSuite::from_name("GCM-AES-512"), None);
    }

    #[test]
    fn key_material_must_be_hex_of_the_suite_length() {
        let suite = CipherSuite::GcmAes128;
        assert!(suite.accepts_key_material(&"aB".repeat(16)));
        assert!(!suite.accepts_key_material(&"ab".repeat(32)));
        assert!(!suite.accepts_key_material(&"zz".repeat(16)));
        assert!(!suite.accepts_key_material(""));
    }

    #[test]
    fn deletion_policy_defaults_to_disassociate() {
        let spec: MacsecKeyBindingSpec = serde_json::from_value(serde_json::json!({
            "regionId": "cn-hangzhou",
            "physicalConnectionId": "pc-abc",
            "cipherSuite": "GCM-AES-128",
            "ckn": "0".repeat(32),
            "cakSecretRef": {"name": "cak"},
        }))
        .expect("valid spec");
        assert_eq!(spec.deletion_policy, DeletionPolicy::Disassociate);
        assert_eq!(spec.cak_secret_ref.map(|r| r.key).as_deref(), Some("cak"));
    }
}
