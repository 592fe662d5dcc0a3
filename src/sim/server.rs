//! HTTP: reads a call (query string, form body, headers), routes it to STS or the VPC
//! actions through signature checks and faults, answers in JSON, and logs it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;

use crate::cloud::wire::{self, ErrorBody, RequestIdResponse};

use super::auth::{self, SignedRequest};
use super::calls::CallRecord;
use super::error::ApiError;
use super::params::Params;
use super::{Simulator, World, admin, calls, ids, sts, vpc};

/// The hint the simulator gives throttled clients: retry after this long.
const THROTTLE_RETRY_MS: i64 = 1_000;

pub fn router(simulator: Arc<Simulator>) -> Router {
    Router::new()
        .route("/", get(api).post(api))
        .merge(admin::routes())
        .fallback(api)
        .with_state(simulator)
}

/// One HTTP request, taken apart once.
struct Call {
    method: Method,
    path: String,
    /// Lower-case names (the `http` crate's own form).
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    params: Params,
    body: Bytes,
}

impl Call {
    fn read(method: Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Self {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let query = uri
            .query()
            .map(|query| Params::decode(query.as_bytes()))
            .unwrap_or_default();
        let is_form = headers.iter().any(|(name, value)| {
            name == "content-type"
                && value
                    .trim()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
        });
        let mut params = query.clone();
        if is_form {
            params.extend(Params::decode(&body));
        }
        Call {
            method,
            path: uri.path().to_owned(),
            headers,
            query,
            params: Params(params),
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// ACS3 names the action in a header, the legacy protocol in a parameter.
    fn action(&self) -> Option<&str> {
        self.header("x-acs-action")
            .or_else(|| self.params.get("Action"))
            .filter(|action| !action.is_empty())
    }

    fn version(&self) -> Option<&str> {
        self.header("x-acs-version")
            .or_else(|| self.params.get("Version"))
            .filter(|version| !version.is_empty())
    }

    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: self.method.as_str(),
            path: &self.path,
            headers: &self.headers,
            query: &self.query,
            params: &self.params,
            body: &self.body,
        }
    }

    fn check_version(&self, expected: &str) -> Result<(), ApiError> {
        match self.version() {
            None => Err(ApiError::missing("Version")),
            Some(version) if version == expected => Ok(()),
            Some(version) => Err(ApiError::invalid_version(version, expected)),
        }
    }
}

async fn api(
    State(simulator): State<Arc<Simulator>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call::read(method, &uri, &headers, body);
    let request_id = ids::request_id();
    let outcome = simulator.serve(&call, &request_id).await;
    let action = call.action().unwrap_or("");
    let (code, http_status) = match &outcome {
        Ok(_) => ("OK", 200),
        Err(error) => (error.code.as_str(), error.http_status),
    };
    let access_key_id = call.signed().claimed_access_key_id();
    let record = CallRecord {
        at: Timestamp::now(),
        action,
        params: &call.params.business(),
        access_key_id: access_key_id.as_deref(),
        code,
        http_status,
        request_id: &request_id,
    };
    calls::emit(&record.line());
    let response_delay = {
        let mut world = simulator.world();
        world.calls.count(action, code);
        let changed = outcome.is_ok()
            && matches!(
                action,
                wire::ASSOCIATE_MACSEC_KEY | wire::DISASSOCIATE_MACSEC_KEY
            );
        if changed {
            world.faults.response_delay()
        } else {
            Duration::ZERO
        }
    };
    // The change is made and recorded; only the answer waits (see `responseDelayMs`).
    if !response_delay.is_zero() {
        tokio::time::sleep(response_delay).await;
    }
    let mut response = match outcome {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(error) => error_response(&call, error, &request_id),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-acs-request-id"), value);
    }
    response
}

fn error_response(call: &Call, error: ApiError, request_id: &str) -> Response {
    let sts = call.action() == Some(wire::ASSUME_ROLE_WITH_OIDC);
    let host_id = call.header("host").unwrap_or(if sts {
        "sts.aliyuncs.com"
    } else {
        "vpc.aliyuncs.com"
    });
    let product = if sts { "Sts" } else { "Vpc" };
    let body = ErrorBody {
        request_id: request_id.to_owned(),
        host_id: host_id.to_owned(),
        recommend: format!(
            "https://api.aliyun.com/troubleshoot?q={}&product={product}&requestId={request_id}",
            error.code
        ),
        code: error.code.clone(),
        message: error.message,
    };
    let status =
        StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    if error.code.starts_with("Throttling") {
        // The retry hint, in both forms the official SDKs read: current ones take
        // `x-acs-retry-after` (milliseconds), older ones `TimeLeft` in `x-ratelimit-user-api`.
        let reset = Timestamp::now().as_second() + THROTTLE_RETRY_MS / 1000;
        let hint = format!("Limit:300,Remain:0,TimeLeft:{THROTTLE_RETRY_MS},Reset:{reset}");
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&hint) {
            headers.insert(HeaderName::from_static("x-ratelimit-user-api"), value);
        }
        headers.insert(
            HeaderName::from_static("x-acs-retry-after"),
            HeaderValue::from(THROTTLE_RETRY_MS),
        );
    }
    response
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|_| ApiError::internal())
}

impl Simulator {
    /// Serves one call: the answer body, or the error to answer with.
    async fn serve(&self, call: &Call, request_id: &str) -> Result<serde_json::Value, ApiError> {
        if call.path != "/" {
            return Err(ApiError::action_not_found(&call.path));
        }
        let action = call.action().ok_or_else(|| ApiError::missing("Action"))?;
        match action {
            wire::ASSUME_ROLE_WITH_OIDC => {
                // Unsigned, as the real STS accepts it: the OIDC token is the proof.
                call.check_version(wire::STS_VERSION)?;
                let mut world = self.world();
                if let Some(error) = world.faults.forced(action) {
                    return Err(error);
                }
                let answer = sts::assume_role_with_oidc(
                    &mut world.keyring,
                    &call.params,
                    Timestamp::now(),
                    self.sts_duration_max,
                    request_id,
                )?;
                to_json(&answer)
            }
            wire::ASSOCIATE_MACSEC_KEY
            | wire::DISASSOCIATE_MACSEC_KEY
            | wire::DESCRIBE_PHYSICAL_CONNECTIONS => {
                call.check_version(wire::VPC_VERSION)?;
                let latency = {
                    let mut world = self.world();
                    let World {
                        keyring, nonces, ..
                    } = &mut *world;
                    auth::verify(keyring, nonces, &call.signed(), Timestamp::now())?;
                    world.faults.latency()
                };
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                let mut world = self.world();
                if let Some(error) = world.faults.inject(action) {
                    return Err(error);
                }
                let now = Timestamp::now();
                let window = world.faults.unstable_window();
                match action {
                    wire::ASSOCIATE_MACSEC_KEY => {
                        vpc::associate(&mut world.circuits, &call.params, now, window)?
                    }
                    wire::DISASSOCIATE_MACSEC_KEY => {
                        vpc::disassociate(&mut world.circuits, &call.params, now, window)?
                    }
                    _ => {
                        return to_json(&vpc::describe(&world.circuits, &call.params, request_id)?);
                    }
                }
                to_json(&RequestIdResponse {
                    request_id: request_id.to_owned(),
                })
            }
            _ => Err(ApiError::action_not_found(action)),
        }
    }
}
