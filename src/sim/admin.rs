//! The test-only admin API under `/_sim/`, on the API's own listener and without
//! authentication: it exists so tests and demos can look inside the simulator and change it
//! at run time. Never expose it beyond the test that uses it.
//!
//! - `GET /_sim/state`: circuits and keys (CAKs shown as `[redacted]`) and the faults.
//! - `PUT /_sim/faults`: replaces the fault settings (JSON, see [`FaultSettings`]).
//! - `GET /_sim/calls`: calls per action and result code.
//! - `POST /_sim/circuits/{id}/status` with `{"status": "..."}`: sets a circuit's status.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Simulator;
use super::calls::emit;
use super::faults::FaultSettings;
use super::state::Circuit;
use super::time;

pub fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/faults", put(faults))
        .route("/_sim/calls", get(calls))
        .route("/_sim/circuits/{id}/status", post(circuit_status))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CircuitView {
    region_id: String,
    physical_connection_id: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unstable_until: Option<String>,
    keys: Vec<KeyView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    ckn: String,
    cak: &'static str,
    cipher_suite: &'static str,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_on: Option<String>,
}

impl From<&Circuit> for CircuitView {
    fn from(circuit: &Circuit) -> Self {
        CircuitView {
            region_id: circuit.region_id.clone(),
            physical_connection_id: circuit.id.clone(),
            status: circuit.status.clone(),
            unstable_until: circuit.busy_until.map(time::format),
            keys: circuit
                .keys
                .iter()
                .map(|key| KeyView {
                    ckn: key.ckn.clone(),
                    cak: "[redacted]",
                    cipher_suite: key.suite.as_str(),
                    status: key.status.clone(),
                    start_on: key.start_on.map(time::format),
                })
                .collect(),
        }
    }
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn state(State(simulator): State<Arc<Simulator>>) -> Response {
    let world = simulator.world();
    let circuits: Vec<CircuitView> = world.circuits.all().iter().map(CircuitView::from).collect();
    axum::Json(json!({ "circuits": circuits, "faults": world.faults.settings() })).into_response()
}

async fn faults(State(simulator): State<Arc<Simulator>>, body: Bytes) -> Response {
    let settings: FaultSettings = match serde_json::from_slice(&body) {
        Ok(settings) => settings,
        Err(error) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("invalid fault settings: {error}"),
            );
        }
    };
    if let Err(problem) = settings.validate() {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("invalid fault settings: {problem}"),
        );
    }
    emit(&format!("admin: faults set to {}", json!(settings)));
    simulator.world().faults.replace(settings.clone());
    axum::Json(settings).into_response()
}

async fn calls(State(simulator): State<Arc<Simulator>>) -> Response {
    axum::Json(json!(simulator.world().calls.table())).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: String,
}

async fn circuit_status(
    State(simulator): State<Arc<Simulator>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let change: StatusChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(error) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"status\": \"...\"}}: {error}"),
            );
        }
    };
    if change.status.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "status must be non-empty".to_owned(),
        );
    }
    let mut world = simulator.world();
    match world.circuits.set_status(&id, change.status.trim()) {
        Some(circuit) => {
            let view = CircuitView::from(circuit);
            emit(&format!(
                "admin: circuit {} status set to {}",
                view.physical_connection_id,
                view.status.escape_debug()
            ));
            axum::Json(view).into_response()
        }
        None => refuse(StatusCode::NOT_FOUND, format!("no circuit {id:?}")),
    }
}
