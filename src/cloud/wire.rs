//! The wire format of the VPC API (version 2016-04-28) and STS calls: action names,
//! parameter names, and the JSON bodies. Shared by the client and the simulator.

use serde::{Deserialize, Serialize};

use crate::secret::SecretString;

/// API version of the VPC actions.
pub const VPC_VERSION: &str = "2016-04-28";
/// API version of STS.
pub const STS_VERSION: &str = "2015-04-01";

pub const ASSOCIATE_MACSEC_KEY: &str = "AssociateMacSecKey";
pub const DISASSOCIATE_MACSEC_KEY: &str = "DisassociateMacSecKey";
pub const DESCRIBE_PHYSICAL_CONNECTIONS: &str = "DescribePhysicalConnections";
pub const ASSUME_ROLE_WITH_OIDC: &str = "AssumeRoleWithOIDC";

/// Request parameters whose values are secret and never logged.
pub const SECRET_PARAMETERS: &[&str] = &["Cak", "OIDCToken"];

/// Largest page `DescribePhysicalConnections` serves.
pub const MAX_PAGE_SIZE: u32 = 50;

/// Body of a successful mutating call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestIdResponse {
    pub request_id: String,
}

/// Body of every error: `{RequestId, HostId, Code, Message, Recommend}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ErrorBody {
    pub request_id: String,
    pub host_id: String,
    pub code: String,
    pub message: String,
    pub recommend: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribePhysicalConnectionsResponse {
    pub request_id: String,
    pub page_number: u32,
    pub page_size: u32,
    pub total_count: u32,
    pub physical_connection_set: PhysicalConnectionSet,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct PhysicalConnectionSet {
    pub physical_connection_type: Vec<PhysicalConnection>,
}

/// One circuit as `DescribePhysicalConnections` reports it (the fields the operator uses).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct PhysicalConnection {
    pub physical_connection_id: String,
    pub status: String,
    pub macsec_keys: MacsecKeys,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct MacsecKeys {
    pub macsec_key: Vec<MacsecKey>,
}

/// One key on a circuit. The cloud returns the CAK too: it stays wrapped.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct MacsecKey {
    pub ckn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cak: Option<SecretString>,
    pub cipher_suite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_on: Option<String>,
    pub status: String,
}

/// STS `AssumeRoleWithOIDC` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithOidcResponse {
    pub request_id: String,
    pub credentials: StsCredentials,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StsCredentials {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    pub security_token: SecretString,
    /// UTC, `yyyy-MM-ddTHH:mm:ssZ`.
    pub expiration: String,
}

/// Key status names the cloud documents. Other values are kept verbatim.
pub mod key_status {
    pub const ASSOCIATED: &str = "Associated";
    pub const DISASSOCIATED: &str = "Disassociated";
    pub const ASSOCIATED_FAILED: &str = "AssociatedFailed";
}

/// Replaces the value of every secret parameter with `[redacted]`, for logs.
pub fn redact_parameters(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(name, value)| {
            let value = if SECRET_PARAMETERS.contains(&name.as_str()) {
                "[redacted]".to_owned()
            } else {
                value.clone()
            };
            (name.clone(), value)
        })
        .collect()
}
