//! Alibaba Cloud credentials: a binding's own Secret, or the default chain, with the
//! environment variable names the official SDKs use:
//! 1. access keys from `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` (+ `_SECURITY_TOKEN`);
//! 2. RRSA/OIDC: `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
//!    `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, exchanged with STS `AssumeRoleWithOIDC`;
//! 3. the ECS instance RAM role, from the instance metadata service.
//!
//! The first source that is configured is the one used, so a pod never silently signs with
//! another identity than the one it was given.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::cloud::ErrorKind;
use crate::cloud::client::form_body;
use crate::cloud::wire::{self, AssumeRoleWithOidcResponse, ErrorBody};
use crate::secret::SecretString;

pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
pub const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
pub const ENV_OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
pub const ENV_OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
pub const ENV_ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// Full STS endpoint URL; overrides the region-derived one (tests point it at the simulator).
pub const ENV_STS_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
pub const ENV_STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
pub const ENV_VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// Name of the instance's RAM role; read from the metadata service when absent.
pub const ENV_ECS_ROLE_NAME: &str = "ALIBABA_CLOUD_ECS_METADATA";
pub const ENV_ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// Base URL of the instance metadata service; overrides `http://100.100.100.200`.
pub const ENV_ECS_METADATA_ENDPOINT: &str = "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT";

const DEFAULT_ECS_METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// Temporary credentials are renewed when this little of their life is left, as the
/// official providers do.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(180);
const STS_TIMEOUT: Duration = Duration::from_secs(10);
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// One set of credentials to sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// Present for temporary (STS) credentials; sent as `x-acs-security-token`.
    pub security_token: Option<SecretString>,
}

impl Credentials {
    /// Credentials from the values of a Secret (`accessKeyId`, `accessKeySecret`, optional
    /// `securityToken`). `secret_name` only names the source in errors.
    pub fn from_secret_data(
        secret_name: &str,
        data: &HashMap<String, Vec<u8>>,
    ) -> Result<Self, CredentialsError> {
        let field = |key: &str| -> Result<Option<String>, CredentialsError> {
            match data.get(key) {
                None => Ok(None),
                Some(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
                    Ok(_) => Ok(None),
                    Err(_) => Err(CredentialsError::Invalid(format!(
                        "Secret {secret_name}: {key} is not UTF-8 text"
                    ))),
                },
            }
        };
        match (field("accessKeyId")?, field("accessKeySecret")?) {
            (Some(id), Some(secret)) => Ok(Credentials {
                access_key_id: id,
                access_key_secret: SecretString::new(secret),
                security_token: field("securityToken")?.map(SecretString::new),
            }),
            _ => Err(CredentialsError::Invalid(format!(
                "Secret {secret_name} needs both accessKeyId and accessKeySecret"
            ))),
        }
    }
}

/// Why no credentials could be had. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("no credentials: {0}")]
    Missing(String),
    #[error("invalid credentials: {0}")]
    Invalid(String),
    #[error("cannot read the OIDC token file {path}: {detail}")]
    TokenFile { path: PathBuf, detail: String },
    #[error("STS {code}: {message} (HTTP {http_status}, RequestId {request_id})")]
    Sts {
        code: String,
        message: String,
        http_status: u16,
        request_id: String,
    },
    #[error("cannot reach {service} at {endpoint}: {detail}")]
    Unreachable {
        service: &'static str,
        endpoint: String,
        detail: String,
    },
    #[error("unreadable answer from {service}: {detail}")]
    Unreadable {
        service: &'static str,
        detail: String,
    },
}

impl CredentialsError {
    /// What a caller should do.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CredentialsError::Sts {
                code, http_status, ..
            } => match ErrorKind::of_code(code, *http_status, None) {
                kind @ (ErrorKind::Throttled { .. } | ErrorKind::Transient) => kind,
                _ => ErrorKind::Credentials,
            },
            CredentialsError::Unreachable { .. } => ErrorKind::Transient,
            _ => ErrorKind::Credentials,
        }
    }

    /// The reason a status condition shows: the STS error code, or a local reason.
    pub fn reason(&self) -> &str {
        match self {
            CredentialsError::Missing(_) => "CredentialsMissing",
            CredentialsError::Invalid(_) => "CredentialsInvalid",
            CredentialsError::TokenFile { .. } => "OidcTokenUnreadable",
            CredentialsError::Sts { code, .. } => code,
            CredentialsError::Unreachable { .. } => "CredentialsUnreachable",
            CredentialsError::Unreadable { .. } => "CredentialsUnreadable",
        }
    }
}

/// An on/off variable: `true` or `false` in any case, off when unset. Anything else is a
/// mistake worth stopping for (`yes` meant as on would otherwise silently be off).
fn switch(name: &str, value: Option<String>) -> Result<bool, CredentialsError> {
    match value {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(CredentialsError::Invalid(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    }
}

/// The operator's default credential chain.
#[derive(Debug)]
pub enum DefaultChain {
    /// Long-lived (or externally provided temporary) keys from the environment.
    Static(Credentials),
    Oidc(OidcProvider),
    EcsRamRole(EcsRamRoleProvider),
    /// Nothing configured, and the metadata service disabled.
    None,
}

impl DefaultChain {
    /// Builds the chain from environment variables (`vars`, so tests need not touch the
    /// process environment). Half a configuration is an error, not a fall-through.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, CredentialsError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match (get(ENV_ACCESS_KEY_ID), get(ENV_ACCESS_KEY_SECRET)) {
            (Some(id), Some(secret)) => {
                return Ok(DefaultChain::Static(Credentials {
                    access_key_id: id,
                    access_key_secret: SecretString::new(secret),
                    security_token: get(ENV_SECURITY_TOKEN).map(SecretString::new),
                }));
            }
            (None, None) => {}
            _ => {
                return Err(CredentialsError::Invalid(format!(
                    "{ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} must be set together"
                )));
            }
        }

        let oidc = [
            get(ENV_ROLE_ARN),
            get(ENV_OIDC_PROVIDER_ARN),
            get(ENV_OIDC_TOKEN_FILE),
        ];
        match oidc {
            [Some(role_arn), Some(provider_arn), Some(token_file)] => {
                let vpc = switch(ENV_VPC_ENDPOINT_ENABLED, get(ENV_VPC_ENDPOINT_ENABLED))?;
                let sts_endpoint =
                    get(ENV_STS_ENDPOINT).unwrap_or_else(|| match (get(ENV_STS_REGION), vpc) {
                        (Some(region), true) => format!("https://sts-vpc.{region}.aliyuncs.com"),
                        (Some(region), false) => format!("https://sts.{region}.aliyuncs.com"),
                        (None, _) => "https://sts.aliyuncs.com".to_owned(),
                    });
                let session_name =
                    get(ENV_ROLE_SESSION_NAME).unwrap_or_else(|| "macsec-operator".to_owned());
                return Ok(DefaultChain::Oidc(OidcProvider::new(
                    role_arn,
                    provider_arn,
                    PathBuf::from(token_file),
                    session_name,
                    sts_endpoint,
                )?));
            }
            [None, None, None] => {}
            _ => {
                return Err(CredentialsError::Invalid(format!(
                    "{ENV_ROLE_ARN}, {ENV_OIDC_PROVIDER_ARN} and {ENV_OIDC_TOKEN_FILE} must be set together"
                )));
            }
        }

        if switch(ENV_ECS_METADATA_DISABLED, get(ENV_ECS_METADATA_DISABLED))? {
            return Ok(DefaultChain::None);
        }
        let endpoint = get(ENV_ECS_METADATA_ENDPOINT)
            .unwrap_or_else(|| DEFAULT_ECS_METADATA_ENDPOINT.to_owned());
        Ok(DefaultChain::EcsRamRole(EcsRamRoleProvider::new(
            endpoint,
            get(ENV_ECS_ROLE_NAME),
        )?))
    }

    /// The chain from the process environment.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Which source the chain uses, for the start-up log line.
    pub fn source_name(&self) -> &'static str {
        match self {
            DefaultChain::Static(_) => "environment access key",
            DefaultChain::Oidc(_) => "RRSA/OIDC (STS AssumeRoleWithOIDC)",
            DefaultChain::EcsRamRole(_) => "ECS instance RAM role",
            DefaultChain::None => "none",
        }
    }

    /// Current credentials, renewing temporary ones before they expire.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        match self {
            DefaultChain::Static(credentials) => Ok(credentials.clone()),
            DefaultChain::Oidc(provider) => provider.credentials().await,
            DefaultChain::EcsRamRole(provider) => provider.credentials().await,
            DefaultChain::None => Err(CredentialsError::Missing(format!(
                "set {ENV_ACCESS_KEY_ID}/{ENV_ACCESS_KEY_SECRET}, the RRSA variables, or name a credentialsSecretRef"
            ))),
        }
    }
}

/// Temporary credentials and when they expire, renewed shortly before.
#[derive(Debug)]
struct Renewing {
    cached: Mutex<Option<(Credentials, Timestamp)>>,
    margin: Duration,
}

impl Renewing {
    fn new() -> Self {
        Renewing {
            cached: Mutex::new(None),
            margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// The cached credentials while more than the margin of their life is left, else
    /// fresh ones from `fetch`. A failed renewal falls back on cached credentials that
    /// have not yet expired, so a short STS outage does not stop the operator.
    async fn get<F, Fut>(&self, fetch: F) -> Result<Credentials, CredentialsError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Credentials, Timestamp), CredentialsError>>,
    {
        let mut cached = self.cached.lock().await;
        let now = Timestamp::now();
        if let Some((credentials, expires)) = cached.as_ref()
            && remaining(now, *expires) > self.margin
        {
            return Ok(credentials.clone());
        }
        match fetch().await {
            Ok((credentials, expires)) => {
                *cached = Some((credentials.clone(), expires));
                Ok(credentials)
            }
            Err(error) => match cached.as_ref() {
                Some((credentials, expires)) if remaining(now, *expires) > Duration::ZERO => {
                    tracing::warn!(%error, "renewing temporary credentials failed; using the current ones until they expire");
                    Ok(credentials.clone())
                }
                _ => Err(error),
            },
        }
    }
}

fn remaining(now: Timestamp, expires: Timestamp) -> Duration {
    let seconds = expires.as_second() - now.as_second();
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

fn parse_expiration(service: &'static str, text: &str) -> Result<Timestamp, CredentialsError> {
    text.parse::<Timestamp>()
        .map_err(|e| CredentialsError::Unreadable {
            service,
            detail: format!("Expiration {text:?}: {e}"),
        })
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, CredentialsError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| CredentialsError::Invalid(format!("HTTP client: {e}")))
}

/// RRSA: exchanges the pod's OIDC token for temporary credentials of a RAM role.
#[derive(Debug)]
pub struct OidcProvider {
    role_arn: String,
    provider_arn: String,
    token_file: PathBuf,
    session_name: String,
    sts_endpoint: String,
    duration_seconds: u32,
    http: reqwest::Client,
    renewing: Renewing,
}

impl OidcProvider {
    pub fn new(
        role_arn: String,
        provider_arn: String,
        token_file: PathBuf,
        session_name: String,
        sts_endpoint: String,
    ) -> Result<Self, CredentialsError> {
        Ok(OidcProvider {
            role_arn,
            provider_arn,
            token_file,
            session_name,
            sts_endpoint,
            duration_seconds: 3600,
            http: http_client(STS_TIMEOUT)?,
            renewing: Renewing::new(),
        })
    }

    /// Renew when less than `margin` of the credentials' life is left (default 180 s).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.renewing.margin = margin;
        self
    }

    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.renewing.get(|| self.assume_role()).await
    }

    async fn assume_role(&self) -> Result<(Credentials, Timestamp), CredentialsError> {
        // Read on every renewal: the kubelet rotates the projected token.
        let token = tokio::fs::read_to_string(&self.token_file)
            .await
            .map_err(|e| CredentialsError::TokenFile {
                path: self.token_file.clone(),
                detail: e.to_string(),
            })?;
        let params = vec![
            ("Action".to_owned(), wire::ASSUME_ROLE_WITH_OIDC.to_owned()),
            ("Version".to_owned(), wire::STS_VERSION.to_owned()),
            ("Format".to_owned(), "JSON".to_owned()),
            (
                "Timestamp".to_owned(),
                Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("RoleArn".to_owned(), self.role_arn.clone()),
            ("OIDCProviderArn".to_owned(), self.provider_arn.clone()),
            ("OIDCToken".to_owned(), token.trim().to_owned()),
            ("RoleSessionName".to_owned(), self.session_name.clone()),
            (
                "DurationSeconds".to_owned(),
                self.duration_seconds.to_string(),
            ),
        ];
        let unreachable = |e: reqwest::Error| CredentialsError::Unreachable {
            service: "STS",
            endpoint: self.sts_endpoint.clone(),
            detail: e.to_string(),
        };
        let response = self
            .http
            .post(&self.sts_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&params))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable)?;
        if !(200..300).contains(&status) {
            let error: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            return Err(CredentialsError::Sts {
                code: if error.code.is_empty() {
                    format!("HTTP{status}")
                } else {
                    error.code
                },
                message: error.message,
                http_status: status,
                request_id: error.request_id,
            });
        }
        let answer: AssumeRoleWithOidcResponse =
            serde_json::from_slice(&body).map_err(|e| CredentialsError::Unreadable {
                service: "STS",
                detail: e.to_string(),
            })?;
        let expires = parse_expiration("STS", &answer.credentials.expiration)?;
        let credentials = Credentials {
            access_key_id: answer.credentials.access_key_id,
            access_key_secret: answer.credentials.access_key_secret,
            security_token: Some(answer.credentials.security_token),
        };
        Ok((credentials, expires))
    }
}

/// The ECS instance RAM role, from the metadata service (with its session token).
#[derive(Debug)]
pub struct EcsRamRoleProvider {
    endpoint: String,
    role_name: Option<String>,
    http: reqwest::Client,
    renewing: Renewing,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataCredentials {
    code: Option<String>,
    access_key_id: String,
    access_key_secret: SecretString,
    security_token: SecretString,
    expiration: String,
}

impl EcsRamRoleProvider {
    pub fn new(endpoint: String, role_name: Option<String>) -> Result<Self, CredentialsError> {
        Ok(EcsRamRoleProvider {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            role_name,
            http: http_client(METADATA_TIMEOUT)?,
            renewing: Renewing::new(),
        })
    }

    /// Renew when less than `margin` of the credentials' life is left (default 180 s).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.renewing.margin = margin;
        self
    }

    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.renewing.get(|| self.fetch()).await
    }

    async fn fetch(&self) -> Result<(Credentials, Timestamp), CredentialsError> {
        let token = self
            .request(reqwest::Method::PUT, "/latest/api/token", None)
            .await?;
        let role = match &self.role_name {
            Some(role) => role.clone(),
            None => {
                let listing = self
                    .request(
                        reqwest::Method::GET,
                        "/latest/meta-data/ram/security-credentials/",
                        Some(&token),
                    )
                    .await?;
                listing
                    .lines()
                    .next()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        CredentialsError::Missing(
                            "the instance has no RAM role attached".to_owned(),
                        )
                    })?
            }
        };
        let path = format!("/latest/meta-data/ram/security-credentials/{role}");
        let body = self
            .request(reqwest::Method::GET, &path, Some(&token))
            .await?;
        let answer: MetadataCredentials =
            serde_json::from_str(&body).map_err(|e| CredentialsError::Unreadable {
                service: "ECS metadata",
                detail: e.to_string(),
            })?;
        if answer.code.as_deref().is_some_and(|code| code != "Success") {
            return Err(CredentialsError::Unreadable {
                service: "ECS metadata",
                detail: format!("Code {:?}", answer.code.unwrap_or_default()),
            });
        }
        let expires = parse_expiration("ECS metadata", &answer.expiration)?;
        let credentials = Credentials {
            access_key_id: answer.access_key_id,
            access_key_secret: answer.access_key_secret,
            security_token: Some(answer.security_token),
        };
        Ok((credentials, expires))
    }

    /// One metadata request; `token` is the session token (the PUT that makes one has none).
    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> Result<String, CredentialsError> {
        let url = format!("{}{path}", self.endpoint);
        let unreachable = |e: reqwest::Error| CredentialsError::Unreachable {
            service: "ECS metadata",
            endpoint: self.endpoint.clone(),
            detail: e.to_string(),
        };
        let mut request = self.http.request(method, &url);
        request = match token {
            Some(token) => request.header("X-aliyun-ecs-metadata-token", token),
            None => request.header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600"),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if status == reqwest::StatusCode::NOT_FOUND && path.contains("security-credentials") {
            return Err(CredentialsError::Missing(
                "the instance has no such RAM role".to_owned(),
            ));
        }
        if !status.is_success() {
            return Err(CredentialsError::Unreadable {
                service: "ECS metadata",
                detail: format!("HTTP {status} for {path}"),
            });
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(items: &[(&str, &str)]) -> HashMap<String, String> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_keys_come_first() {
        let chain = DefaultChain::from_vars(&vars(&[
            (ENV_ACCESS_KEY_ID, "LTAIexample"),
            (ENV_ACCESS_KEY_SECRET, "secret-value"),
            (ENV_SECURITY_TOKEN, "token-value"),
            (ENV_ROLE_ARN, "acs:ram::1:role/r"),
        ]))
        .expect("valid");
        match chain {
            DefaultChain::Static(credentials) => {
                assert_eq!(credentials.access_key_id, "LTAIexample");
                assert_eq!(
                    credentials
                        .security_token
                        .map(|t| t.expose().to_owned())
                        .as_deref(),
                    Some("token-value")
                );
            }
            other => panic!("expected environment keys, got {}", other.source_name()),
        }
    }

    #[test]
    fn half_a_configuration_is_an_error() {
        assert!(DefaultChain::from_vars(&vars(&[(ENV_ACCESS_KEY_ID, "id")])).is_err());
        assert!(
            DefaultChain::from_vars(&vars(&[(ENV_ROLE_ARN, "arn"), (ENV_OIDC_TOKEN_FILE, "/t")]))
                .is_err()
        );
    }

    #[test]
    fn oidc_then_metadata_then_nothing() {
        let oidc = DefaultChain::from_vars(&vars(&[
            (ENV_ROLE_ARN, "acs:ram::1:role/r"),
            (ENV_OIDC_PROVIDER_ARN, "acs:ram::1:oidc-provider/p"),
            (ENV_OIDC_TOKEN_FILE, "/var/run/token"),
            (ENV_STS_REGION, "cn-hangzhou"),
            (ENV_VPC_ENDPOINT_ENABLED, "true"),
        ]))
        .expect("valid");
        match &oidc {
            DefaultChain::Oidc(provider) => assert_eq!(
                provider.sts_endpoint,
                "https://sts-vpc.cn-hangzhou.aliyuncs.com"
            ),
            other => panic!("expected OIDC, got {}", other.source_name()),
        }
        let ecs = DefaultChain::from_vars(&vars(&[])).expect("valid");
        assert!(matches!(ecs, DefaultChain::EcsRamRole(_)));
        let none =
            DefaultChain::from_vars(&vars(&[(ENV_ECS_METADATA_DISABLED, "true")])).expect("valid");
        assert!(matches!(none, DefaultChain::None));
        let on =
            DefaultChain::from_vars(&vars(&[(ENV_ECS_METADATA_DISABLED, "FALSE")])).expect("valid");
        assert!(matches!(on, DefaultChain::EcsRamRole(_)));
    }

    #[test]
    fn switches_are_true_or_false_and_nothing_else() {
        let error = DefaultChain::from_vars(&vars(&[(ENV_ECS_METADATA_DISABLED, "maybe")]))
            .map(|_| ())
            .expect_err("refused");
        assert!(
            error.to_string().contains(ENV_ECS_METADATA_DISABLED),
            "{error}"
        );
        let oidc_with = |value: &str| {
            DefaultChain::from_vars(&vars(&[
                (ENV_ROLE_ARN, "acs:ram::1:role/r"),
                (ENV_OIDC_PROVIDER_ARN, "acs:ram::1:oidc-provider/p"),
                (ENV_OIDC_TOKEN_FILE, "/var/run/token"),
                (ENV_VPC_ENDPOINT_ENABLED, value),
            ]))
            .map(|_| ())
        };
        assert!(oidc_with("yes").is_err());
        assert!(oidc_with("True").is_ok());
    }

    #[test]
    fn secret_data_needs_both_keys_and_never_shows_the_secret() {
        let mut data = HashMap::new();
        data.insert("accessKeyId".to_owned(), b"LTAIexample".to_vec());
        let error = Credentials::from_secret_data("creds", &data).expect_err("secret missing");
        assert_eq!(error.reason(), "CredentialsInvalid");
        data.insert("accessKeySecret".to_owned(), b"very-secret\n".to_vec());
        let credentials = Credentials::from_secret_data("creds", &data).expect("valid");
        assert_eq!(credentials.access_key_secret.expose(), "very-secret");
        assert!(!format!("{credentials:?}").contains("very-secret"));
    }
}
