//! STS `AssumeRoleWithOIDC` (version 2015-04-01): sent unsigned, it trades an OIDC token
//! for temporary credentials, which the VPC actions then accept with their security token.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::cloud::wire::{AssumeRoleWithOidcResponse, StsCredentials};
use crate::secret::SecretString;

use super::auth::Keyring;
use super::error::ApiError;
use super::ids;
use super::params::Params;
use super::time;

/// Shortest and longest lifetime STS grants, in seconds, and the default.
const MIN_DURATION: u64 = 900;
const MAX_DURATION: u64 = 43_200;
const DEFAULT_DURATION: u64 = 3_600;

/// The answer, with the assumed role as the real service reports it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Answer {
    #[serde(flatten)]
    pub base: AssumeRoleWithOidcResponse,
    pub assumed_role_user: AssumedRoleUser,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    pub arn: String,
    pub assumed_role_id: String,
}

/// Checks the request, issues fresh credentials into `keyring` and answers with them.
/// `cap` shortens every lifetime (the `--sts-duration-max` flag), so tests can watch
/// credentials expire and be refreshed.
pub fn assume_role_with_oidc(
    keyring: &mut Keyring,
    params: &Params,
    now: Timestamp,
    cap: Option<Duration>,
    request_id: &str,
) -> Result<Answer, ApiError> {
    let role_arn = params.required("RoleArn")?;
    let provider_arn = params.required("OIDCProviderArn")?;
    params.required("OIDCToken")?;
    let session = params.required("RoleSessionName")?;
    let (account, role) = arn_part(role_arn, "role/").ok_or_else(|| {
        ApiError::invalid_parameter("RoleArn", "expected acs:ram::<account>:role/<name>.")
    })?;
    arn_part(provider_arn, "oidc-provider/").ok_or_else(|| {
        ApiError::invalid_parameter(
            "OIDCProviderArn",
            "expected acs:ram::<account>:oidc-provider/<name>.",
        )
    })?;
    let session_ok = (2..=64).contains(&session.len())
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'));
    if !session_ok {
        return Err(ApiError::invalid_parameter(
            "RoleSessionName",
            "2 to 64 letters, digits and . @ - _",
        ));
    }
    let requested = match params.get("DurationSeconds") {
        None => DEFAULT_DURATION,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|seconds| (MIN_DURATION..=MAX_DURATION).contains(seconds))
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    "DurationSeconds",
                    "The Min/Max value of DurationSeconds is 15min/12hr.",
                )
            })?,
    };
    let lifetime = cap.map_or(Duration::from_secs(requested), |cap| {
        cap.min(Duration::from_secs(requested))
    });
    let expires_at = SignedDuration::try_from(lifetime)
        .ok()
        .and_then(|lifetime| now.checked_add(lifetime).ok())
        .ok_or_else(ApiError::internal)?;

    let access_key_id = format!("STS.{}", ids::random_hex(24));
    let secret = SecretString::new(ids::random_hex(40));
    let token = SecretString::new(format!("CAIS{}", ids::random_hex(120)));
    keyring.insert_temporary(
        access_key_id.clone(),
        secret.clone(),
        token.clone(),
        expires_at,
        now,
    );
    let role_id = ids::random_hex(18);
    Ok(Answer {
        base: AssumeRoleWithOidcResponse {
            request_id: request_id.to_owned(),
            credentials: StsCredentials {
                access_key_id,
                access_key_secret: secret,
                security_token: token,
                expiration: time::format(expires_at),
            },
        },
        assumed_role_user: AssumedRoleUser {
            arn: format!("acs:ram::{account}:role/{role}/{session}"),
            assumed_role_id: format!("{role_id}:{session}"),
        },
    })
}

/// Splits `acs:ram::<account>:<kind><name>` into account and name.
fn arn_part<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix(kind)?;
    (!account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(items: &[(&str, &str)]) -> Params {
        Params::of(items)
    }

    const GOOD: &[(&str, &str)] = &[
        ("RoleArn", "acs:ram::1234567890:role/macsec-operator"),
        (
            "OIDCProviderArn",
            "acs:ram::1234567890:oidc-provider/ack-rrsa-c123",
        ),
        ("OIDCToken", "eyJhbGciOi.x.y"),
        ("RoleSessionName", "macsec-operator"),
    ];

    #[test]
    fn issues_credentials_for_the_requested_duration_within_the_cap() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let mut keyring = Keyring::default();
        let answer = assume_role_with_oidc(&mut keyring, &params(GOOD), now, None, "R").unwrap();
        let credentials = &answer.base.credentials;
        assert!(credentials.access_key_id.starts_with("STS."));
        assert_eq!(
            credentials.expiration,
            time::format(now.checked_add(SignedDuration::from_secs(3600)).unwrap())
        );
        assert_eq!(
            answer.assumed_role_user.arn,
            "acs:ram::1234567890:role/macsec-operator/macsec-operator"
        );
        let mut long = GOOD.to_vec();
        long.push(("DurationSeconds", "7200"));
        let capped = assume_role_with_oidc(
            &mut keyring,
            &params(&long),
            now,
            Some(Duration::from_secs(60)),
            "R",
        )
        .unwrap();
        assert_eq!(
            capped.base.credentials.expiration,
            time::format(now.checked_add(SignedDuration::from_secs(60)).unwrap())
        );
        let json = serde_json::to_value(&capped).unwrap();
        assert!(
            json["Credentials"]["SecurityToken"]
                .as_str()
                .unwrap()
                .starts_with("CAIS")
        );
        assert_eq!(json["RequestId"], "R");
    }

    #[test]
    fn refuses_what_sts_refuses() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let code = |changes: &[(&str, &str)], drop: &str| {
            let mut items: Vec<(&str, &str)> = GOOD
                .iter()
                .copied()
                .filter(|(name, _)| *name != drop)
                .collect();
            items.extend_from_slice(changes);
            let mut keyring = Keyring::default();
            assume_role_with_oidc(&mut keyring, &params(&items), now, None, "R")
                .map(|_| ())
                .map_err(|error| error.code)
                .err()
        };
        assert_eq!(code(&[], "OIDCToken").as_deref(), Some("MissingOIDCToken"));
        assert_eq!(code(&[], "RoleArn").as_deref(), Some("MissingRoleArn"));
        assert_eq!(
            code(&[("DurationSeconds", "899")], "").as_deref(),
            Some("InvalidParameter.DurationSeconds")
        );
        assert_eq!(
            code(&[("DurationSeconds", "43201")], "").as_deref(),
            Some("InvalidParameter.DurationSeconds")
        );
        assert_eq!(
            code(&[("RoleArn", "arn:aws:iam::1:role/x")], "RoleArn").as_deref(),
            Some("InvalidParameter.RoleArn")
        );
        assert_eq!(
            code(&[("RoleSessionName", "a b")], "RoleSessionName").as_deref(),
            Some("InvalidParameter.RoleSessionName")
        );
        assert_eq!(code(&[("DurationSeconds", "43200")], ""), None);
    }
}
