//! Verifying who signed a call, the way the Alibaba Cloud gateway does: the ACS3-HMAC-SHA256
//! `Authorization` header or the legacy HMAC-SHA1 `Signature` parameter, the timestamp
//! within 15 minutes, a fresh nonce, and the security token of temporary credentials.
//!
//! Signatures are recomputed with the project's own signer, so the client and the
//! simulator share one definition of the canonical forms.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

use crate::cloud::signer::{
    ACS3_ALGORITHM, Acs3Parts, parse_acs3_authorization, rpc_signature, rpc_string_to_sign,
    sha256_hex, signatures_match,
};
use crate::secret::SecretString;

use super::error::ApiError;
use super::params::Params;
use super::time;

/// How far a request's timestamp may be from the server's clock, either way.
pub const MAX_SKEW: SignedDuration = SignedDuration::from_mins(15);

/// Nonces remembered at most; past this the oldest are forgotten first, so memory stays
/// bounded even under a flood (each lives 15 minutes anyway).
const NONCE_CAPACITY: usize = 100_000;

/// Temporary credentials kept at most; the oldest go first.
const TEMPORARY_CAPACITY: usize = 10_000;

/// The signing secret of an access key, and for temporary (STS) credentials the security
/// token that must come with it and when both expire.
#[derive(Debug, Clone)]
struct Credential {
    secret: SecretString,
    token: Option<SecretString>,
    expires_at: Option<Timestamp>,
}

/// The access keys the simulator accepts: long-term ones from the seed and temporary ones
/// it issued through STS.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: HashMap<String, Credential>,
    temporary: VecDeque<String>,
}

impl Keyring {
    pub fn new(long_term: impl IntoIterator<Item = (String, SecretString)>) -> Self {
        let keys = long_term
            .into_iter()
            .map(|(id, secret)| {
                (
                    id,
                    Credential {
                        secret,
                        token: None,
                        expires_at: None,
                    },
                )
            })
            .collect();
        Keyring {
            keys,
            temporary: VecDeque::new(),
        }
    }

    /// Adds temporary credentials, forgetting those expired for more than the allowed
    /// clock skew (a request signed with them could not pass anymore).
    pub fn insert_temporary(
        &mut self,
        id: String,
        secret: SecretString,
        token: SecretString,
        expires_at: Timestamp,
        now: Timestamp,
    ) {
        let keys = &mut self.keys;
        self.temporary.retain(|old| {
            let live = keys
                .get(old)
                .and_then(|credential| credential.expires_at)
                .is_some_and(|expires| {
                    expires.checked_add(MAX_SKEW).is_ok_and(|limit| limit > now)
                });
            if !live {
                keys.remove(old);
            }
            live
        });
        while self.temporary.len() >= TEMPORARY_CAPACITY {
            if let Some(oldest) = self.temporary.pop_front() {
                self.keys.remove(&oldest);
            }
        }
        self.keys.insert(
            id.clone(),
            Credential {
                secret,
                token: Some(token),
                expires_at: Some(expires_at),
            },
        );
        self.temporary.push_back(id);
    }

    /// The secret to check a signature with, once the key and its token are known good.
    fn authenticate(
        &self,
        id: &str,
        token: Option<&str>,
        now: Timestamp,
    ) -> Result<&SecretString, ApiError> {
        let credential = self
            .keys
            .get(id)
            .ok_or_else(ApiError::access_key_not_found)?;
        let token = token.filter(|token| !token.is_empty());
        match (&credential.token, token) {
            (None, None) => {}
            (Some(expected), Some(given)) if signatures_match(expected.expose(), given) => {}
            _ => return Err(ApiError::token_mismatch()),
        }
        if credential.expires_at.is_some_and(|expires| expires <= now) {
            return Err(ApiError::token_expired());
        }
        Ok(&credential.secret)
    }
}

/// Nonces seen recently, per access key.
#[derive(Debug, Default)]
pub struct NonceCache {
    expiry: HashMap<String, Timestamp>,
    order: VecDeque<(Timestamp, String)>,
}

impl NonceCache {
    /// Records the nonce; `false` when it was used already. A nonce is remembered until the
    /// request's own timestamp is out of the allowed skew, after which the timestamp check
    /// refuses a replay anyway.
    fn remember(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        signed_at: Timestamp,
        now: Timestamp,
    ) -> bool {
        while let Some((expires, _)) = self.order.front() {
            if *expires > now && self.order.len() < NONCE_CAPACITY {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.expiry.remove(&key);
            }
        }
        let key = format!("{access_key_id}\n{nonce}");
        if self.expiry.contains_key(&key) {
            return false;
        }
        let expires = signed_at.max(now).checked_add(MAX_SKEW).unwrap_or(now);
        self.expiry.insert(key.clone(), expires);
        self.order.push_back((expires, key));
        true
    }
}

/// The parts of an HTTP request a signature covers. Header names are lower case.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(String, String)],
    /// The URL query parameters only, decoded.
    pub query: &'a [(String, String)],
    /// Query and form body parameters together.
    pub params: &'a Params,
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
    }

    fn authorization(&self) -> Option<&str> {
        self.header("authorization")
            .filter(|value| !value.is_empty())
    }

    /// The access key the request claims to be signed with, for logs; not verified.
    pub fn claimed_access_key_id(&self) -> Option<String> {
        match self.authorization() {
            Some(value) => parse_acs3_authorization(value).map(|auth| auth.access_key_id),
            None => self.params.get("AccessKeyId").map(str::to_owned),
        }
    }
}

/// Verifies a request's signature against the keyring and remembers its nonce. Returns
/// the access key id it was signed with.
pub fn verify(
    keyring: &Keyring,
    nonces: &mut NonceCache,
    request: &SignedRequest<'_>,
    now: Timestamp,
) -> Result<String, ApiError> {
    let verified = match request.authorization() {
        Some(value) if value.starts_with(ACS3_ALGORITHM) => {
            verify_acs3(keyring, request, value, now)?
        }
        Some(value) => {
            let method = value.split_whitespace().next().unwrap_or_default();
            return Err(ApiError::signature_method(method));
        }
        None => verify_rpc(keyring, request, now)?,
    };
    if !nonces.remember(
        &verified.access_key_id,
        &verified.nonce,
        verified.signed_at,
        now,
    ) {
        return Err(ApiError::nonce_used());
    }
    Ok(verified.access_key_id)
}

/// A signature that matched, before its nonce is checked.
struct Verified {
    access_key_id: String,
    nonce: String,
    signed_at: Timestamp,
}

fn verify_acs3(
    keyring: &Keyring,
    request: &SignedRequest<'_>,
    authorization: &str,
    now: Timestamp,
) -> Result<Verified, ApiError> {
    let auth = parse_acs3_authorization(authorization).ok_or_else(|| {
        ApiError::incomplete_signature(
            "the Authorization header needs Credential, SignedHeaders and Signature",
        )
    })?;
    let header = |name: &str| {
        request
            .header(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::incomplete_signature(format!("the {name} header is missing")))
    };
    let date = header("x-acs-date")?;
    let nonce = header("x-acs-signature-nonce")?;
    let content_sha256 = header("x-acs-content-sha256")?;
    let signed_headers: Vec<String> = auth
        .signed_headers
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    let must_sign = request
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| name.starts_with("x-acs-"));
    if let Some(unsigned) = std::iter::once("host")
        .chain(must_sign)
        .find(|name| !signed_headers.iter().any(|s| s == name))
    {
        return Err(ApiError::incomplete_signature(format!(
            "SignedHeaders must include {unsigned}"
        )));
    }
    let signed_at = check_time(date, now)?;
    let secret = keyring.authenticate(
        &auth.access_key_id,
        request.header("x-acs-security-token"),
        now,
    )?;
    if !content_sha256.eq_ignore_ascii_case(&sha256_hex(request.body)) {
        return Err(ApiError::signature_mismatch());
    }
    let parts = Acs3Parts {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        signed_headers: &signed_headers,
        hashed_payload: content_sha256,
    };
    if !signatures_match(&parts.signature(secret.expose()), &auth.signature) {
        return Err(ApiError::signature_mismatch());
    }
    Ok(Verified {
        access_key_id: auth.access_key_id,
        nonce: nonce.to_owned(),
        signed_at,
    })
}

fn verify_rpc(
    keyring: &Keyring,
    request: &SignedRequest<'_>,
    now: Timestamp,
) -> Result<Verified, ApiError> {
    let params = request.params;
    let param = |name: &str| {
        params
            .get(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                ApiError::incomplete_signature(format!("the {name} parameter is missing"))
            })
    };
    let signature = param("Signature")?;
    let method = param("SignatureMethod")?;
    if method != "HMAC-SHA1" {
        return Err(ApiError::signature_method(method));
    }
    if let Some(version) = params
        .get("SignatureVersion")
        .filter(|version| *version != "1.0")
    {
        return Err(ApiError::signature_method(&format!(
            "{method} version {version}"
        )));
    }
    let access_key_id = param("AccessKeyId")?;
    let nonce = param("SignatureNonce")?;
    let signed_at = check_time(param("Timestamp")?, now)?;
    let secret = keyring.authenticate(access_key_id, params.get("SecurityToken"), now)?;
    let string_to_sign = rpc_string_to_sign(request.method, &params.0);
    if !signatures_match(&rpc_signature(secret.expose(), &string_to_sign), signature) {
        return Err(ApiError::signature_mismatch());
    }
    Ok(Verified {
        access_key_id: access_key_id.to_owned(),
        nonce: nonce.to_owned(),
        signed_at,
    })
}

fn check_time(text: &str, now: Timestamp) -> Result<Timestamp, ApiError> {
    let signed_at = time::parse(text).ok_or_else(ApiError::timestamp_format)?;
    if now.duration_since(signed_at).abs() > MAX_SKEW {
        return Err(ApiError::timestamp_expired());
    }
    Ok(signed_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::signer::client_authorization;

    const ID: &str = "LTAI5tSimExampleKeyId";
    const SECRET: &str = "SimExampleSecretValue";
    const DATE: &str = "2024-05-01T08:00:00Z";

    fn now() -> Timestamp {
        time::parse(DATE).unwrap()
    }

    fn keyring() -> Keyring {
        Keyring::new([(ID.to_owned(), SecretString::new(SECRET))])
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A request as a client sends it.
    struct Sent {
        method: &'static str,
        headers: Vec<(String, String)>,
        query: Vec<(String, String)>,
        params: Params,
        body: Vec<u8>,
    }

    impl Sent {
        fn request(&self) -> SignedRequest<'_> {
            SignedRequest {
                method: self.method,
                path: "/",
                headers: &self.headers,
                query: &self.query,
                params: &self.params,
                body: &self.body,
            }
        }

        fn verify(
            &self,
            keyring: &Keyring,
            nonces: &mut NonceCache,
            now: Timestamp,
        ) -> Result<String, String> {
            verify(keyring, nonces, &self.request(), now).map_err(|error| error.code)
        }

        fn header(mut self, name: &str, value: &str) -> Self {
            self.headers.retain(|(key, _)| key != name);
            self.headers.push((name.to_owned(), value.to_owned()));
            self
        }
    }

    /// An ACS3 request signed with the project's signer: the CKN in the query, the CAK in a
    /// form body.
    fn acs3(id: &str, secret: &str, token: Option<&str>, date: &str, nonce: &str) -> Sent {
        let query = pairs(&[("RegionId", "cn-hangzhou"), ("Ckn", "AB CD*~")]);
        let body = b"Cak=FEDCBA9876543210FEDCBA9876543210".to_vec();
        let hashed = sha256_hex(&body);
        let mut headers = pairs(&[
            ("host", "127.0.0.1:8765"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-acs-action", "AssociateMacSecKey"),
            ("x-acs-version", "2016-04-28"),
            ("x-acs-date", date),
            ("x-acs-signature-nonce", nonce),
            ("x-acs-content-sha256", &hashed),
            ("user-agent", "test"),
        ]);
        if let Some(token) = token {
            headers.push(("x-acs-security-token".into(), token.into()));
        }
        let authorization = client_authorization(&query, &headers, &body, id, secret);
        headers.push(("authorization".into(), authorization));
        let mut params = query.clone();
        params.extend(Params::decode(&body));
        Sent {
            method: "POST",
            headers,
            query,
            params: Params(params),
            body,
        }
    }

    /// A legacy HMAC-SHA1 request, every parameter in the query.
    fn rpc(id: &str, secret: &str, timestamp: &str, nonce: &str) -> Sent {
        let mut params = pairs(&[
            ("Action", "DescribePhysicalConnections"),
            ("Version", "2016-04-28"),
            ("Format", "JSON"),
            ("AccessKeyId", id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce),
            ("Timestamp", timestamp),
            ("RegionId", "cn-hangzhou"),
        ]);
        let signature = rpc_signature(secret, &rpc_string_to_sign("GET", &params));
        params.push(("Signature".into(), signature));
        Sent {
            method: "GET",
            headers: vec![],
            query: params.clone(),
            params: Params(params),
            body: vec![],
        }
    }

    #[test]
    fn acs3_signed_by_the_client_signer_verifies_once() {
        let (keyring, mut nonces) = (keyring(), NonceCache::default());
        let sent = acs3(ID, SECRET, None, DATE, "n1");
        assert_eq!(sent.verify(&keyring, &mut nonces, now()), Ok(ID.to_owned()));
        assert_eq!(
            sent.verify(&keyring, &mut nonces, now()),
            Err("SignatureNonceUsed".into())
        );
        // The same nonce under another key is another nonce.
        let other = Keyring::new([("Other".to_owned(), SecretString::new("x"))]);
        assert_eq!(
            acs3("Other", "x", None, DATE, "n1").verify(&other, &mut nonces, now()),
            Ok("Other".to_owned())
        );
    }

    #[test]
    fn acs3_refusals() {
        let keyring = keyring();
        let check =
            |sent: Sent, at: Timestamp| sent.verify(&keyring, &mut NonceCache::default(), at);
        let tampered = {
            let mut sent = acs3(ID, SECRET, None, DATE, "n");
            sent.body = b"Cak=00000000000000000000000000000000".to_vec();
            sent
        };
        let hash_matches_tampered_body = {
            let mut sent = acs3(ID, SECRET, None, DATE, "n");
            sent.body = b"Cak=00000000000000000000000000000000".to_vec();
            let hashed = sha256_hex(&sent.body);
            sent.header("x-acs-content-sha256", &hashed)
        };
        let tampered_query = {
            let mut sent = acs3(ID, SECRET, None, DATE, "n");
            sent.query[0].1 = "cn-beijing".into();
            sent
        };
        let unsigned_header = acs3(ID, SECRET, None, DATE, "n").header("x-acs-extra", "1");
        let later = now().checked_add(SignedDuration::from_mins(16)).unwrap();
        let within = now().checked_sub(SignedDuration::from_mins(14)).unwrap();
        let cases: Vec<(&str, Sent, Timestamp, Result<String, String>)> = vec![
            (
                "clock 14 minutes behind",
                acs3(ID, SECRET, None, DATE, "n"),
                within,
                Ok(ID.to_owned()),
            ),
            (
                "wrong secret",
                acs3(ID, "wrong", None, DATE, "n"),
                now(),
                Err("SignatureDoesNotMatch".into()),
            ),
            (
                "unknown key",
                acs3("LTAInope", SECRET, None, DATE, "n"),
                now(),
                Err("InvalidAccessKeyId.NotFound".into()),
            ),
            (
                "tampered body",
                tampered,
                now(),
                Err("SignatureDoesNotMatch".into()),
            ),
            (
                "body hash redone",
                hash_matches_tampered_body,
                now(),
                Err("SignatureDoesNotMatch".into()),
            ),
            (
                "tampered query",
                tampered_query,
                now(),
                Err("SignatureDoesNotMatch".into()),
            ),
            (
                "16 minutes of skew",
                acs3(ID, SECRET, None, DATE, "n"),
                later,
                Err("InvalidTimeStamp.Expired".into()),
            ),
            (
                "malformed date",
                acs3(ID, SECRET, None, "2024-05-01 08:00:00", "n"),
                now(),
                Err("InvalidTimeStamp.Format".into()),
            ),
            (
                "no nonce",
                acs3(ID, SECRET, None, DATE, ""),
                now(),
                Err("IncompleteSignature".into()),
            ),
            (
                "an x-acs header left unsigned",
                unsigned_header,
                now(),
                Err("IncompleteSignature".into()),
            ),
            (
                "a token with a long-term key",
                acs3(ID, SECRET, Some("CAIStoken"), DATE, "n"),
                now(),
                Err("InvalidSecurityToken.Mismatch".into()),
            ),
            (
                "another algorithm",
                acs3(ID, SECRET, None, DATE, "n")
                    .header("authorization", "ACS3-HMAC-SM3 Credential=x"),
                now(),
                Err("InvalidSignatureMethod".into()),
            ),
            (
                "a broken header",
                acs3(ID, SECRET, None, DATE, "n")
                    .header("authorization", "ACS3-HMAC-SHA256 Credential=x"),
                now(),
                Err("IncompleteSignature".into()),
            ),
        ];
        for (name, sent, at, expected) in cases {
            assert_eq!(check(sent, at), expected, "{name}");
        }
    }

    #[test]
    fn temporary_credentials_need_their_token_until_they_expire() {
        let mut keyring = keyring();
        let expires = now().checked_add(SignedDuration::from_mins(5)).unwrap();
        keyring.insert_temporary(
            "STS.abc".into(),
            SecretString::new("tmp"),
            SecretString::new("CAIStoken"),
            expires,
            now(),
        );
        let check = |token: Option<&str>, at: Timestamp| {
            acs3("STS.abc", "tmp", token, &time::format(at), "n").verify(
                &keyring,
                &mut NonceCache::default(),
                at,
            )
        };
        assert_eq!(check(Some("CAIStoken"), now()), Ok("STS.abc".to_owned()));
        assert_eq!(
            check(None, now()),
            Err("InvalidSecurityToken.Mismatch".into())
        );
        assert_eq!(
            check(Some("CAISother"), now()),
            Err("InvalidSecurityToken.Mismatch".into())
        );
        assert_eq!(
            check(Some("CAIStoken"), expires),
            Err("InvalidSecurityToken.Expired".into())
        );
        // Long expired credentials are forgotten when new ones are issued.
        let much_later = expires.checked_add(SignedDuration::from_mins(20)).unwrap();
        keyring.insert_temporary(
            "STS.new".into(),
            SecretString::new("t2"),
            SecretString::new("CAISt2"),
            much_later,
            much_later,
        );
        assert!(!keyring.keys.contains_key("STS.abc") && keyring.temporary.len() == 1);
    }

    #[test]
    fn hmac_sha1_signed_requests_verify_once() {
        let (keyring, mut nonces) = (keyring(), NonceCache::default());
        let sent = rpc(ID, SECRET, DATE, "r1");
        assert_eq!(sent.verify(&keyring, &mut nonces, now()), Ok(ID.to_owned()));
        assert_eq!(
            sent.verify(&keyring, &mut nonces, now()),
            Err("SignatureNonceUsed".into())
        );
        let fresh = || NonceCache::default();
        assert_eq!(
            rpc(ID, "wrong", DATE, "r").verify(&keyring, &mut fresh(), now()),
            Err("SignatureDoesNotMatch".into())
        );
        assert_eq!(
            rpc(ID, SECRET, "2024-05-01T07:44:59Z", "r").verify(&keyring, &mut fresh(), now()),
            Err("InvalidTimeStamp.Expired".into())
        );
        assert_eq!(
            rpc(ID, SECRET, "yesterday", "r").verify(&keyring, &mut fresh(), now()),
            Err("InvalidTimeStamp.Format".into())
        );
        let mut sha256 = rpc(ID, SECRET, DATE, "r");
        sha256
            .params
            .0
            .retain(|(name, _)| name != "SignatureMethod");
        sha256
            .params
            .0
            .push(("SignatureMethod".into(), "HMAC-SHA256".into()));
        assert_eq!(
            sha256.verify(&keyring, &mut fresh(), now()),
            Err("InvalidSignatureMethod".into())
        );
        let mut unsigned = rpc(ID, SECRET, DATE, "r");
        unsigned.params.0.retain(|(name, _)| name != "Signature");
        assert_eq!(
            unsigned.verify(&keyring, &mut fresh(), now()),
            Err("IncompleteSignature".into())
        );
        // Signed as GET, sent as POST.
        let mut posted = rpc(ID, SECRET, DATE, "r");
        posted.method = "POST";
        assert_eq!(
            posted.verify(&keyring, &mut fresh(), now()),
            Err("SignatureDoesNotMatch".into())
        );
    }

    #[test]
    fn nonces_are_forgotten_once_their_timestamp_is_out_of_reach() {
        let mut nonces = NonceCache::default();
        assert!(nonces.remember(ID, "n", now(), now()));
        assert!(!nonces.remember(
            ID,
            "n",
            now(),
            now().checked_add(SignedDuration::from_mins(14)).unwrap()
        ));
        let later = now().checked_add(SignedDuration::from_mins(16)).unwrap();
        assert!(nonces.remember(ID, "other", later, later));
        assert!(
            !nonces.expiry.contains_key(&format!("{ID}\nn")),
            "the old nonce was dropped"
        );
    }
}
