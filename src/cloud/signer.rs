//! Alibaba Cloud request signatures: ACS3-HMAC-SHA256 (what current SDKs send) and the
//! legacy RPC HMAC-SHA1. The same canonical forms serve the client, which signs, and the
//! simulator, which verifies, so the two cannot drift apart.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The ACS3 algorithm name, as it appears in `Authorization` and the string to sign.
pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// RFC 3986 percent-encoding as Alibaba Cloud canonicalizes: unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) stay, every other byte becomes `%XX` in upper case, so a space is
/// `%20` and `*` is `%2A`.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `name=value` pairs, percent-encoded, sorted by name (then value), joined by `&`.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Hex SHA-256, as `x-acs-content-sha256` carries it.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Whether a header takes part in an ACS3 signature when the client chooses.
pub fn is_signed_header(lowercase_name: &str) -> bool {
    lowercase_name == "host"
        || lowercase_name == "content-type"
        || lowercase_name.starts_with("x-acs-")
}

/// What an ACS3 signature covers. `headers` are looked up by lowercase name.
#[derive(Debug, Clone, Copy)]
pub struct Acs3Parts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
    /// Lowercase names of the signed headers, sorted.
    pub signed_headers: &'a [String],
    /// Hex SHA-256 of the body.
    pub hashed_payload: &'a str,
}

impl Acs3Parts<'_> {
    fn header(&self, lowercase_name: &str) -> &str {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(lowercase_name))
            .map(|(_, value)| value.trim())
            .unwrap_or("")
    }

    /// The canonical request, whose hash the signature signs.
    pub fn canonical_request(&self) -> String {
        let canonical_headers: String = self
            .signed_headers
            .iter()
            .map(|name| format!("{name}:{}\n", self.header(name)))
            .collect();
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path,
            canonical_query(self.query),
            canonical_headers,
            self.signed_headers.join(";"),
            self.hashed_payload
        )
    }

    /// Hex HMAC-SHA256 over the string to sign.
    pub fn signature(&self, access_key_secret: &str) -> String {
        let string_to_sign = format!(
            "{ACS3_ALGORITHM}\n{}",
            sha256_hex(self.canonical_request().as_bytes())
        );
        hex::encode(hmac_sha256(
            access_key_secret.as_bytes(),
            string_to_sign.as_bytes(),
        ))
    }

    /// The `Authorization` header value.
    pub fn authorization(&self, access_key_id: &str, access_key_secret: &str) -> String {
        format!(
            "{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
            self.signed_headers.join(";"),
            self.signature(access_key_secret)
        )
    }
}

/// The signed-header list a client uses: host, content-type and every `x-acs-*` header.
pub fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| is_signed_header(name))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `Authorization` value a client sends for a POST to `/`: it signs host,
/// content-type and every `x-acs-*` header among `headers`, and the hash of `body` (which
/// must match the `x-acs-content-sha256` header sent).
pub fn client_authorization(
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
    access_key_id: &str,
    access_key_secret: &str,
) -> String {
    let signed = signed_header_names(headers);
    let hashed = sha256_hex(body);
    Acs3Parts {
        method: "POST",
        path: "/",
        query,
        headers,
        signed_headers: &signed,
        hashed_payload: &hashed,
    }
    .authorization(access_key_id, access_key_secret)
}

/// An ACS3 `Authorization` header, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`; `None` when any
/// part is missing.
pub fn parse_acs3_authorization(value: &str) -> Option<Acs3Authorization> {
    let rest = value.trim().strip_prefix(ACS3_ALGORITHM)?.trim_start();
    let (mut id, mut headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => id = Some(val.to_owned()),
            "SignedHeaders" => headers = Some(val.split(';').map(str::to_owned).collect()),
            "Signature" => signature = Some(val.to_owned()),
            _ => {}
        }
    }
    Some(Acs3Authorization {
        access_key_id: id?,
        signed_headers: headers?,
        signature: signature?,
    })
}

/// The legacy RPC string to sign: `METHOD&%2F&pct(canonical query)`, over every parameter
/// but `Signature`.
pub fn rpc_string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let signed: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "Signature")
        .cloned()
        .collect();
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical_query(&signed))
    )
}

/// The legacy RPC signature: base64 HMAC-SHA1 keyed with `secret&`.
pub fn rpc_signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = format!("{access_key_secret}&");
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares two signatures in time independent of where they differ.
pub fn signatures_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The published example of "V3 request structure and signature" (REFERENCE.md §2).
    #[test]
    fn acs3_reproduces_the_published_example() {
        let query = pairs(&[
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ]);
        let headers = pairs(&[
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-content-sha256", &sha256_hex(b"")),
        ]);
        let signed = signed_header_names(&headers);
        let hashed = sha256_hex(b"");
        let parts = Acs3Parts {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            signed_headers: &signed,
            hashed_payload: &hashed,
        };
        assert_eq!(
            sha256_hex(parts.canonical_request().as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            parts.signature("YourAccessKeySecret"),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        let authorization = parts.authorization("YourAccessKeyId", "YourAccessKeySecret");
        assert_eq!(
            parse_acs3_authorization(&authorization),
            Some(Acs3Authorization {
                access_key_id: "YourAccessKeyId".into(),
                signed_headers: signed.clone(),
                signature: "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
                    .into(),
            })
        );
    }

    /// The published legacy RPC example (REFERENCE.md §2).
    #[test]
    fn hmac_sha1_reproduces_the_published_example() {
        let params = pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        let string_to_sign = rpc_string_to_sign("GET", &params);
        assert_eq!(
            rpc_signature("testsecret", &string_to_sign),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn percent_encoding_follows_rfc3986() {
        assert_eq!(
            percent_encode("a b*c~d/e+f=g&h"),
            "a%20b%2Ac~d%2Fe%2Bf%3Dg%26h"
        );
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(
            canonical_query(&pairs(&[("b", ""), ("a", "x y")])),
            "a=x%20y&b="
        );
    }

    #[test]
    fn malformed_authorization_is_refused() {
        assert_eq!(parse_acs3_authorization("HMAC-SHA1 Credential=a"), None);
        assert_eq!(
            parse_acs3_authorization("ACS3-HMAC-SHA256 Credential=a,Signature=b"),
            None
        );
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "ab"));
    }
}
