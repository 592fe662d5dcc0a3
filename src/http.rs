//! The operator's own HTTP endpoints: `/metrics` for Prometheus, `/healthz` for the
//! liveness probe, `/readyz` for the readiness probe.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::{self, Metrics};

/// What the endpoints report.
#[derive(Debug, Default)]
pub struct Health {
    /// Set once the start-up checks passed (the API server answers, the CRD is
    /// installed). A replica waiting for the leader lease is ready too: it can take over.
    ready: AtomicBool,
    pub metrics: Arc<Metrics>,
}

impl Health {
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// The endpoints' listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} for metrics and health: {source}")]
pub struct BindError {
    address: SocketAddr,
    source: std::io::Error,
}

/// Binds `address` now (so a taken port stops the start-up with a clear line) and returns
/// the bound address and the server to spawn.
pub async fn bind(
    address: SocketAddr,
    health: Arc<Health>,
) -> Result<(SocketAddr, impl Future<Output = ()>), BindError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| BindError { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| BindError { address, source })?;
    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness))
        .with_state(health);
    let server = async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "metrics and health server stopped");
        }
    };
    Ok((bound, server))
}

async fn render_metrics(State(health): State<Arc<Health>>) -> Response {
    match health.metrics.render() {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn readiness(State(health): State<Arc<Health>>) -> Response {
    if health.is_ready() {
        "ok".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting").into_response()
    }
}
