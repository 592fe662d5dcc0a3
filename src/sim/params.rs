//! The parameters of one call, from the query string and the form body together.

use super::error::ApiError;

/// The common parameters of the RPC protocol: they say how a call is signed, not what it
/// does, so logs leave them out (`SecurityToken` is also secret).
const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "Signature",
    "SecurityToken",
];

/// Name/value pairs in the order they came. When a name repeats, the first value counts.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parameters from literal pairs, for tests.
    #[cfg(test)]
    pub fn of(items: &[(&str, &str)]) -> Params {
        Params(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// Decodes an `application/x-www-form-urlencoded` text (a query string or a body).
    pub fn decode(encoded: &[u8]) -> Vec<(String, String)> {
        form_urlencoded::parse(encoded)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A parameter the action cannot do without; absent or empty is `Missing<name>`.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::missing(name))
    }

    /// The parameters that say what the call does, for logs (secrets still to redact).
    pub fn business(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(name, _)| !COMMON.contains(&name.as_str()))
            .cloned()
            .collect()
    }
}
