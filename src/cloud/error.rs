//! Errors of a cloud call, and what the caller should do about each.

use std::time::Duration;

use crate::credentials::CredentialsError;

/// What a caller should do about a failed call. The classification is by the Alibaba
/// error `Code`, never by the HTTP status alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The key the call names does not exist (`ResourceNotFound.PconnMacsec`): a deletion
    /// is done, and an apply sees the key absent.
    KeyAbsent,
    /// The circuit does not exist (`ResourceNotFound.PhysicalConnectionId`).
    CircuitNotFound,
    /// Retry soon, with backoff: the key is changing state, a 5xx, a timeout, a
    /// connection error.
    Transient,
    /// Retry with a longer backoff: the circuit's state forbids the call
    /// (`IncorrectStatus.PhysicalConnection`).
    Slow,
    /// Flow control: back off, honouring the server's hint when it gave one.
    Throttled { retry_after: Option<Duration> },
    /// The credentials are missing, wrong, expired or not allowed: a person must act.
    Credentials,
    /// The request itself is wrong (`IllegalParam.*`, an unknown client error): retrying
    /// the same call will not help.
    Permanent,
}

impl ErrorKind {
    /// Classifies an Alibaba Cloud error code with the HTTP status it came with.
    pub fn of_code(code: &str, http_status: u16, retry_after: Option<Duration>) -> ErrorKind {
        match code {
            "ResourceNotFound.PconnMacsec" => ErrorKind::KeyAbsent,
            "ResourceNotFound.PhysicalConnectionId" => ErrorKind::CircuitNotFound,
            "IncorrectStatus.PconnMacsec" => ErrorKind::Transient,
            "IncorrectStatus.PhysicalConnection" => ErrorKind::Slow,
            "Throttling" | "Throttling.User" | "Throttling.Api" => {
                ErrorKind::Throttled { retry_after }
            }
            "InternalError" | "ServiceUnavailable" | "UnknownError" => ErrorKind::Transient,
            "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "SignatureNonceUsed"
            | "InvalidSignatureMethod" => {
                // A reused nonce or a skewed clock heals on a fresh request; a wrong secret
                // does not, but both must not hot-loop: treat as credentials.
                ErrorKind::Credentials
            }
            _ if code.starts_with("InvalidAccessKeyId")
                || code.starts_with("Forbidden")
                || code.starts_with("InvalidSecurityToken")
                || code.starts_with("InvalidTimeStamp")
                || code.starts_with("NoPermission") =>
            {
                ErrorKind::Credentials
            }
            _ if code.starts_with("Throttling") => ErrorKind::Throttled { retry_after },
            _ if code.starts_with("IllegalParam")
                || code.starts_with("InvalidParameter")
                || code.starts_with("MissingParameter") =>
            {
                ErrorKind::Permanent
            }
            _ if http_status >= 500 => ErrorKind::Transient,
            _ => ErrorKind::Permanent,
        }
    }
}

/// A failed cloud call. Messages name the action, and for API errors carry the Alibaba
/// `Code`, `Message` and `RequestId`; none ever holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("{action}: {code}: {message} (HTTP {http_status}, RequestId {request_id})")]
    Api {
        action: &'static str,
        http_status: u16,
        code: String,
        message: String,
        request_id: String,
        /// The server's hint of when to retry, from `x-ratelimit-user-api` /
        /// `x-ratelimit-user` (`TimeLeft`, milliseconds) or `Retry-After`.
        retry_after: Option<Duration>,
    },
    #[error("{action}: no answer within {timeout:?}")]
    Timeout {
        action: &'static str,
        timeout: Duration,
    },
    #[error("{action}: cannot reach {endpoint}: {detail}")]
    Connection {
        action: &'static str,
        endpoint: String,
        detail: String,
    },
    #[error("{action}: unreadable answer (HTTP {http_status}): {detail}")]
    Protocol {
        action: &'static str,
        http_status: u16,
        detail: String,
    },
    #[error("{action}: invalid endpoint {endpoint:?}: {detail}")]
    Endpoint {
        action: &'static str,
        endpoint: String,
        detail: String,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
}

impl CloudError {
    /// What the caller should do.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CloudError::Api {
                code,
                http_status,
                retry_after,
                ..
            } => ErrorKind::of_code(code, *http_status, *retry_after),
            CloudError::Timeout { .. } | CloudError::Connection { .. } => ErrorKind::Transient,
            CloudError::Protocol { http_status, .. } if *http_status >= 500 => ErrorKind::Transient,
            CloudError::Protocol { .. } | CloudError::Endpoint { .. } => ErrorKind::Permanent,
            CloudError::Credentials(error) => error.kind(),
        }
    }

    /// The Alibaba error code, or a local reason for errors that never reached the API.
    pub fn code(&self) -> &str {
        match self {
            CloudError::Api { code, .. } => code,
            CloudError::Timeout { .. } => "Timeout",
            CloudError::Connection { .. } => "ConnectionFailed",
            CloudError::Protocol { .. } => "UnreadableResponse",
            CloudError::Endpoint { .. } => "InvalidEndpoint",
            CloudError::Credentials(error) => error.reason(),
        }
    }

    /// The `RequestId` the cloud gave the failed call, when it answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            CloudError::Api { request_id, .. } if !request_id.is_empty() => Some(request_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_the_contract_says_to_do() {
        let hint = Some(Duration::from_millis(1200));
        let table: &[(&str, u16, ErrorKind)] = &[
            ("ResourceNotFound.PconnMacsec", 400, ErrorKind::KeyAbsent),
            (
                "ResourceNotFound.PhysicalConnectionId",
                400,
                ErrorKind::CircuitNotFound,
            ),
            ("IncorrectStatus.PconnMacsec", 400, ErrorKind::Transient),
            ("IncorrectStatus.PhysicalConnection", 400, ErrorKind::Slow),
            ("IllegalParam.Ckn", 400, ErrorKind::Permanent),
            (
                "Throttling",
                400,
                ErrorKind::Throttled { retry_after: hint },
            ),
            (
                "Throttling.User",
                400,
                ErrorKind::Throttled { retry_after: hint },
            ),
            (
                "Throttling.Api",
                429,
                ErrorKind::Throttled { retry_after: hint },
            ),
            ("InvalidAccessKeyId.NotFound", 404, ErrorKind::Credentials),
            ("InvalidAccessKeyId.Inactive", 400, ErrorKind::Credentials),
            ("SignatureDoesNotMatch", 400, ErrorKind::Credentials),
            ("IncompleteSignature", 400, ErrorKind::Credentials),
            ("Forbidden.RAM", 403, ErrorKind::Credentials),
            ("InvalidSecurityToken.Expired", 400, ErrorKind::Credentials),
            ("InternalError", 500, ErrorKind::Transient),
            ("ServiceUnavailable", 503, ErrorKind::Transient),
            ("SomethingNew", 502, ErrorKind::Transient),
            ("SomethingNew", 400, ErrorKind::Permanent),
        ];
        for (code, status, expected) in table {
            assert_eq!(
                ErrorKind::of_code(code, *status, hint),
                *expected,
                "{code} (HTTP {status})"
            );
        }
    }

    #[test]
    fn local_failures_are_transient() {
        let timeout = CloudError::Timeout {
            action: "DescribePhysicalConnections",
            timeout: Duration::from_secs(10),
        };
        assert_eq!(timeout.kind(), ErrorKind::Transient);
        assert_eq!(timeout.code(), "Timeout");
        assert_eq!(timeout.request_id(), None);
    }
}
