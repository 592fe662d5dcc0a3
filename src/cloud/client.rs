//! The VPC API client: `AssociateMacSecKey`, `DisassociateMacSecKey` and
//! `DescribePhysicalConnections`, signed with ACS3-HMAC-SHA256.
//!
//! Parameters travel in a form body, so the CAK never appears in a URL or an access log.
//! Every call has a timeout. Nothing is retried here: the controller owns retries and
//! backoff, so they never multiply.

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::error::CloudError;
use super::signer;
use super::wire::{
    self, DescribePhysicalConnectionsResponse, ErrorBody, PhysicalConnection, RequestIdResponse,
};
use crate::credentials::Credentials;
use crate::resource::CipherSuite;
use crate::secret::SecretString;

/// Default VPC endpoint; `{region}` is replaced by the call's region.
pub const DEFAULT_ENDPOINT: &str = "https://vpc.{region}.aliyuncs.com";

/// Pages read at most when looking for one circuit; the filter makes one page the norm.
const MAX_PAGES: u32 = 100;

/// What `AssociateMacSecKey` needs.
#[derive(Debug, Clone)]
pub struct AssociateKey<'a> {
    pub region_id: &'a str,
    pub physical_connection_id: &'a str,
    pub cipher_suite: CipherSuite,
    /// Sent in upper case, as the cloud stores it.
    pub ckn: &'a str,
    pub cak: &'a SecretString,
}

/// A client of the VPC API for any region.
#[derive(Debug, Clone)]
pub struct VpcClient {
    http: reqwest::Client,
    endpoint_template: String,
    timeout: Duration,
}

impl VpcClient {
    /// `endpoint_template` is a URL in which `{region}` is replaced by the region of each
    /// call (any URL is accepted, for the simulator). `timeout` bounds each call.
    pub fn new(
        endpoint_template: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, CloudError> {
        let endpoint_template = endpoint_template.into();
        // Validate once at start, with a sample region, so a bad flag fails early.
        parse_endpoint(&endpoint_template, "cn-hangzhou", "--vpc-endpoint")?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| CloudError::Endpoint {
                action: "--vpc-endpoint",
                endpoint: endpoint_template.clone(),
                detail: e.to_string(),
            })?;
        Ok(VpcClient {
            http,
            endpoint_template,
            timeout,
        })
    }

    /// Reads one circuit, `None` when the region has no circuit with that ID.
    pub async fn describe_physical_connection(
        &self,
        credentials: &Credentials,
        region_id: &str,
        physical_connection_id: &str,
    ) -> Result<Option<PhysicalConnection>, CloudError> {
        let mut page: u32 = 1;
        loop {
            let params = vec![
                ("RegionId".to_owned(), region_id.to_owned()),
                ("Filter.1.Key".to_owned(), "PhysicalConnectionId".to_owned()),
                (
                    "Filter.1.Value.1".to_owned(),
                    physical_connection_id.to_owned(),
                ),
                ("PageNumber".to_owned(), page.to_string()),
                ("PageSize".to_owned(), wire::MAX_PAGE_SIZE.to_string()),
            ];
            let action = wire::DESCRIBE_PHYSICAL_CONNECTIONS;
            let body = self
                .call(action, region_id, credentials, params, None)
                .await?;
            let answer: DescribePhysicalConnectionsResponse = parse(action, &body)?;
            let seen = page.saturating_mul(answer.page_size.max(1));
            let found = answer
                .physical_connection_set
                .physical_connection_type
                .into_iter()
                .find(|circuit| circuit.physical_connection_id == physical_connection_id);
            if found.is_some() || seen >= answer.total_count || page >= MAX_PAGES {
                return Ok(found);
            }
            page += 1;
        }
    }

    /// Associates a key (adding it when the circuit does not have it). Returns the RequestId.
    pub async fn associate_macsec_key(
        &self,
        credentials: &Credentials,
        key: &AssociateKey<'_>,
    ) -> Result<String, CloudError> {
        let params = vec![
            ("RegionId".to_owned(), key.region_id.to_owned()),
            (
                "PhysicalConnectionId".to_owned(),
                key.physical_connection_id.to_owned(),
            ),
            (
                "CipherSuite".to_owned(),
                key.cipher_suite.as_str().to_owned(),
            ),
            ("Ckn".to_owned(), key.ckn.to_ascii_uppercase()),
            ("Cak".to_owned(), key.cak.expose().to_ascii_uppercase()),
        ];
        let action = wire::ASSOCIATE_MACSEC_KEY;
        let body = self
            .call(action, key.region_id, credentials, params, Some(key.cak))
            .await?;
        parse::<RequestIdResponse>(action, &body).map(|answer| answer.request_id)
    }

    /// Disassociates a key; on a key that is already disassociated, the cloud deletes it.
    /// Returns the RequestId.
    pub async fn disassociate_macsec_key(
        &self,
        credentials: &Credentials,
        region_id: &str,
        physical_connection_id: &str,
        ckn: &str,
    ) -> Result<String, CloudError> {
        let params = vec![
            ("RegionId".to_owned(), region_id.to_owned()),
            (
                "PhysicalConnectionId".to_owned(),
                physical_connection_id.to_owned(),
            ),
            ("Ckn".to_owned(), ckn.to_ascii_uppercase()),
        ];
        let action = wire::DISASSOCIATE_MACSEC_KEY;
        let body = self
            .call(action, region_id, credentials, params, None)
            .await?;
        parse::<RequestIdResponse>(action, &body).map(|answer| answer.request_id)
    }

    /// Signs and sends one call; returns the body of a successful answer. `secret` is a
    /// parameter value to scrub from any error text the server sends back.
    async fn call(
        &self,
        action: &'static str,
        region_id: &str,
        credentials: &Credentials,
        params: Vec<(String, String)>,
        secret: Option<&SecretString>,
    ) -> Result<Vec<u8>, CloudError> {
        let url = parse_endpoint(&self.endpoint_template, region_id, action)?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let body = form_body(&params);
        let headers = signed_headers(&host, action, wire::VPC_VERSION, &body, credentials);
        let authorization = signer::client_authorization(
            &[],
            &headers,
            body.as_bytes(),
            &credentials.access_key_id,
            credentials.access_key_secret.expose(),
        );

        let mut request = self
            .http
            .post(url.clone())
            .timeout(self.timeout)
            .header("authorization", authorization);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(action, &url, e))?;
        let status = response.status().as_u16();
        let retry_after = retry_hint(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(action, &url, e))?;
        if (200..300).contains(&status) {
            return Ok(bytes.to_vec());
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) if !error.code.is_empty() => Err(CloudError::Api {
                action,
                http_status: status,
                code: error.code,
                message: scrub(&error.message, secret),
                request_id: error.request_id,
                retry_after,
            }),
            _ => Err(CloudError::Protocol {
                action,
                http_status: status,
                detail: "the error body has no Code".to_owned(),
            }),
        }
    }

    fn transport_error(
        &self,
        action: &'static str,
        url: &reqwest::Url,
        error: reqwest::Error,
    ) -> CloudError {
        if error.is_timeout() {
            CloudError::Timeout {
                action,
                timeout: self.timeout,
            }
        } else {
            // Only the error's own text and the endpoint: the body (with the CAK) is never
            // part of a reqwest error.
            let detail = std::error::Error::source(&error)
                .map_or_else(|| error.to_string(), |source| source.to_string());
            CloudError::Connection {
                action,
                endpoint: url.to_string(),
                detail,
            }
        }
    }
}

fn parse_endpoint(
    template: &str,
    region_id: &str,
    action: &'static str,
) -> Result<reqwest::Url, CloudError> {
    let endpoint = template.replace("{region}", region_id);
    let url = reqwest::Url::parse(&endpoint).map_err(|e| CloudError::Endpoint {
        action,
        endpoint: endpoint.clone(),
        detail: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(CloudError::Endpoint {
            action,
            endpoint,
            detail: "needs http:// or https:// and a host".into(),
        });
    }
    Ok(url)
}

/// `application/x-www-form-urlencoded`, with the same encoding the signature uses.
pub fn form_body(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                signer::percent_encode(name),
                signer::percent_encode(value)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The headers an ACS3 call sends (all of them signed), with a fresh date and nonce.
pub fn signed_headers(
    host: &str,
    action: &str,
    version: &str,
    body: &str,
    credentials: &Credentials,
) -> Vec<(String, String)> {
    let date = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut headers = vec![
        ("host".to_owned(), host.to_owned()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
        ("x-acs-action".to_owned(), action.to_owned()),
        ("x-acs-version".to_owned(), version.to_owned()),
        ("x-acs-date".to_owned(), date),
        (
            "x-acs-signature-nonce".to_owned(),
            uuid::Uuid::new_v4().simple().to_string(),
        ),
        (
            "x-acs-content-sha256".to_owned(),
            signer::sha256_hex(body.as_bytes()),
        ),
    ];
    if let Some(token) = &credentials.security_token {
        headers.push(("x-acs-security-token".to_owned(), token.expose().to_owned()));
    }
    headers
}

fn parse<T: serde::de::DeserializeOwned>(
    action: &'static str,
    body: &[u8],
) -> Result<T, CloudError> {
    serde_json::from_slice(body).map_err(|e| CloudError::Protocol {
        action,
        http_status: 200,
        detail: e.to_string(),
    })
}

/// The server's hint of when to retry: `x-acs-retry-after` (milliseconds, what current
/// official SDKs read), else `TimeLeft` (milliseconds) in `x-ratelimit-user-api` or
/// `x-ratelimit-user` (what older SDKs read), else `Retry-After` in seconds.
pub fn retry_hint(headers: &HeaderMap) -> Option<Duration> {
    let header_number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    if let Some(millis) = header_number("x-acs-retry-after") {
        return Some(Duration::from_millis(millis));
    }
    let time_left = ["x-ratelimit-user-api", "x-ratelimit-user"]
        .iter()
        .find_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            value.split(',').find_map(|pair| {
                let (key, millis) = pair.split_once(':')?;
                (key.trim() == "TimeLeft")
                    .then(|| millis.trim().parse::<u64>().ok())
                    .flatten()
            })
        });
    time_left.map(Duration::from_millis).or_else(|| {
        let seconds = headers
            .get("retry-after")?
            .to_str()
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(Duration::from_secs(seconds))
    })
}

/// Removes a secret the request carried from text the server sent back.
fn scrub(text: &str, secret: Option<&SecretString>) -> String {
    match secret {
        Some(secret) if !secret.expose().is_empty() => {
            let mut out = text.replace(secret.expose(), "[redacted]");
            out = out.replace(&secret.expose().to_ascii_uppercase(), "[redacted]");
            out.replace(&secret.expose().to_ascii_lowercase(), "[redacted]")
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_retry_hint_comes_from_time_left_then_retry_after() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_hint(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_hint(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            "x-ratelimit-user",
            HeaderValue::from_static("Limit:300,Remain:0,TimeLeft:1500,Reset:0"),
        );
        assert_eq!(retry_hint(&headers), Some(Duration::from_millis(1500)));
        headers.insert(
            "x-ratelimit-user-api",
            HeaderValue::from_static("Limit:5, TimeLeft: 250"),
        );
        assert_eq!(retry_hint(&headers), Some(Duration::from_millis(250)));
        headers.insert("x-acs-retry-after", HeaderValue::from_static("700"));
        assert_eq!(retry_hint(&headers), Some(Duration::from_millis(700)));
    }

    #[test]
    fn endpoints_are_checked_and_take_the_region() {
        let url = parse_endpoint(DEFAULT_ENDPOINT, "cn-shanghai", "test").expect("valid");
        assert_eq!(url.as_str(), "https://vpc.cn-shanghai.aliyuncs.com/");
        assert!(parse_endpoint("vpc.example.com", "cn-shanghai", "test").is_err());
        assert!(parse_endpoint("ftp://example.com", "cn-shanghai", "test").is_err());
        assert!(VpcClient::new("not a url", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn form_bodies_use_the_signature_encoding() {
        let params = vec![
            ("Ckn".to_owned(), "AB CD".to_owned()),
            ("X".to_owned(), "a+b".to_owned()),
        ];
        assert_eq!(form_body(&params), "Ckn=AB%20CD&X=a%2Bb");
    }

    #[test]
    fn secrets_echoed_by_the_server_are_scrubbed() {
        let cak = SecretString::new("fedcba98");
        assert_eq!(
            scrub("bad Cak FEDCBA98 and fedcba98", Some(&cak)),
            "bad Cak [redacted] and [redacted]"
        );
        assert_eq!(scrub("plain", None), "plain");
    }
}
