//! The errors the simulated API answers with: one constructor per Alibaba Cloud error
//! code, so the codes, their HTTP statuses and their messages live in one place.
//!
//! Messages follow the real service's wording where it is known. None ever contains a
//! CAK, an access key secret or a security token.

use std::fmt;

/// An error answer of the simulated API: `{RequestId, HostId, Code, Message, Recommend}`
/// with an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message} (HTTP {http_status})")]
pub struct ApiError {
    pub http_status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(http_status: u16, code: impl Into<String>, message: impl fmt::Display) -> Self {
        ApiError {
            http_status,
            code: code.into(),
            message: message.to_string(),
        }
    }

    fn bad_request(code: impl Into<String>, message: impl fmt::Display) -> Self {
        Self::new(400, code, message)
    }

    // --- parameters -------------------------------------------------------------------

    /// A required parameter is absent or empty. The gateway names the parameter in the
    /// code (`MissingRegionId`, `MissingCkn`, ...).
    pub fn missing(name: &str) -> Self {
        Self::bad_request(
            format!("Missing{name}"),
            format!("{name} is mandatory for this action."),
        )
    }

    /// `IllegalParam.<name>`: the VPC API's code for a parameter that breaks its rules.
    pub fn illegal(name: &str, why: impl fmt::Display) -> Self {
        Self::bad_request(
            format!("IllegalParam.{name}"),
            format!("The specified {name} is invalid: {why}"),
        )
    }

    /// `InvalidParameter.<name>`: STS's code for a parameter that breaks its rules.
    pub fn invalid_parameter(name: &str, why: impl fmt::Display) -> Self {
        Self::bad_request(
            format!("InvalidParameter.{name}"),
            format!("The parameter {name} is invalid: {why}"),
        )
    }

    pub fn unsupported_filter(key: &str) -> Self {
        Self::bad_request(
            "InvalidFilterKey.ValueNotSupported",
            format!(
                "The filter key {key:?} is not supported; the simulator filters by PhysicalConnectionId."
            ),
        )
    }

    pub fn action_not_found(action: &str) -> Self {
        Self::new(
            404,
            "InvalidAction.NotFound",
            format!(
                "Specified api is not found, please check your url and method. (action {action:?})"
            ),
        )
    }

    pub fn invalid_version(version: &str, expected: &str) -> Self {
        Self::bad_request(
            "InvalidVersion",
            format!(
                "Specified parameter Version is not valid: {version:?} (this action has version {expected})."
            ),
        )
    }

    // --- circuits and keys ------------------------------------------------------------

    pub fn circuit_not_found(region_id: &str, id: &str) -> Self {
        Self::bad_request(
            "ResourceNotFound.PhysicalConnectionId",
            format!("The specified physical connection {id} does not exist in region {region_id}."),
        )
    }

    pub fn circuit_status(id: &str, status: &str) -> Self {
        Self::bad_request(
            "IncorrectStatus.PhysicalConnection",
            format!(
                "The physical connection {id} is {status}; MACsec keys can be changed only when it is Enabled."
            ),
        )
    }

    pub fn key_not_found(id: &str, ckn: &str) -> Self {
        Self::bad_request(
            "ResourceNotFound.PconnMacsec",
            format!(
                "The MACsec key with Ckn {ckn} does not exist on the physical connection {id}."
            ),
        )
    }

    pub fn key_unstable(id: &str) -> Self {
        Self::bad_request(
            "IncorrectStatus.PconnMacsec",
            format!(
                "The MACsec key of the physical connection {id} is in an unstable state. Try again later."
            ),
        )
    }

    /// The documentation allows at most three CKN/CAK sets per port and names no code for
    /// going past it; `QuotaExceeded.*` is the VPC API's usual family for limits, and
    /// clients classify it like `IllegalParam.*` (a retry of the same call cannot help).
    pub fn key_quota(id: &str, limit: usize) -> Self {
        Self::bad_request(
            "QuotaExceeded.PconnMacsec",
            format!(
                "The physical connection {id} already has {limit} MACsec keys, the most a port can hold."
            ),
        )
    }

    // --- gateway: authentication ------------------------------------------------------

    pub fn access_key_not_found() -> Self {
        Self::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }

    pub fn signature_mismatch() -> Self {
        Self::bad_request(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        )
    }

    pub fn incomplete_signature(what: impl fmt::Display) -> Self {
        Self::bad_request(
            "IncompleteSignature",
            format!("The request signature does not conform to Aliyun standards: {what}."),
        )
    }

    pub fn signature_method(method: &str) -> Self {
        Self::bad_request(
            "InvalidSignatureMethod",
            format!("Specified signature method {method:?} is not supported."),
        )
    }

    pub fn timestamp_format() -> Self {
        Self::bad_request(
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted (expected yyyy-MM-ddTHH:mm:ssZ).",
        )
    }

    pub fn timestamp_expired() -> Self {
        Self::bad_request(
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        )
    }

    pub fn nonce_used() -> Self {
        Self::bad_request(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    }

    pub fn token_mismatch() -> Self {
        Self::bad_request(
            "InvalidSecurityToken.Mismatch",
            "Specified SecurityToken mismatch with the AccessKey.",
        )
    }

    pub fn token_expired() -> Self {
        Self::bad_request(
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        )
    }

    // --- faults -----------------------------------------------------------------------

    pub fn throttled() -> Self {
        Self::bad_request(
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }
}
