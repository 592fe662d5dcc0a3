//! The controller: watches `MacsecKeyBinding` objects and reconciles each against the cloud.

pub mod backoff;
pub mod decide;
pub mod external;
pub mod leader;
pub mod peers;
pub mod ratelimit;
pub mod reconcile;
pub mod status;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::utils::{PredicateConfig, WatchStreamExt};
use kube::runtime::{reflector, watcher};
use kube::{Api, Client, Resource};
use std::hash::{Hash, Hasher};
use tokio::sync::mpsc;

use crate::cloud::{CloudError, VpcClient};
use crate::credentials::{CredentialsError, DefaultChain};
use crate::http::{self, BindError, Health};
use crate::resource::MacsecKeyBinding;
use backoff::Backoff;
use external::External;
use leader::{LeaderError, LeaseSettings};
use ratelimit::RateLimiter;
use reconcile::{Context, error_policy, reconcile};

/// What `macsec-operator run` needs, already checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub vpc_endpoint: String,
    pub cloud_timeout: Duration,
    pub calls_per_second: f64,
    pub resync: Duration,
    pub concurrency: u16,
    pub namespace: Option<String>,
    pub metrics_address: SocketAddr,
    /// `None`: reconcile without a lease (one replica only).
    pub leader_election: Option<LeaseSettings>,
}

/// Why the controller could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot connect to Kubernetes: {0}")]
    Kubernetes(#[from] kube::Error),
    #[error("Kubernetes configuration: {0}")]
    KubeConfig(String),
    #[error("credentials: {0}")]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Endpoint(#[from] CloudError),
    #[error("cannot list MacsecKeyBindings: {}", api_reason(.0))]
    CannotList(kube::Error),
    #[error(transparent)]
    Endpoints(#[from] BindError),
    #[error(transparent)]
    Leader(#[from] LeaderError),
    #[error("lost the leader lease: stopped reconciling; restart to rejoin as a follower")]
    LostLease,
}

/// The API server's own words for a refusal (kube's Display adds a debug dump of the whole
/// Status), or the error as it is for anything else.
fn api_reason(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!(
            "{} (HTTP {} {})",
            status.message.trim(),
            status.code,
            status.reason
        ),
        other => other.to_string(),
    }
}

/// Runs the controller until SIGTERM or SIGINT; in-flight reconciles finish first.
pub async fn run(settings: Settings) -> Result<(), RunError> {
    // The configuration first: a bad value stops the process before it serves anything.
    let chain = DefaultChain::from_env()?;
    let vpc = VpcClient::new(settings.vpc_endpoint.clone(), settings.cloud_timeout)?;
    let client = Client::try_default()
        .await
        .map_err(|e| RunError::KubeConfig(e.to_string()))?;
    let health = Arc::new(Health::default());
    let (address, server) = http::bind(settings.metrics_address, Arc::clone(&health)).await?;
    tracing::info!(%address, "serving /metrics, /healthz and /readyz");
    tokio::spawn(server);
    run_with_client(client, chain, vpc, settings, health).await
}

pub async fn run_with_client(
    client: Client,
    chain: DefaultChain,
    vpc: VpcClient,
    settings: Settings,
    health: Arc<Health>,
) -> Result<(), RunError> {
    let bindings: Api<MacsecKeyBinding> = match &settings.namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let stop = shutdown_signal().shared();
    if !wait_for_crd(&bindings, stop.clone()).await? {
        return Ok(()); // stopped before the CRD came
    }
    health.set_ready();
    tracing::info!(
        credentials = chain.source_name(),
        endpoint = %settings.vpc_endpoint,
        namespace = settings.namespace.as_deref().unwrap_or("(all)"),
        "starting the controller"
    );

    let leadership = match &settings.leader_election {
        None => None,
        Some(lease) => {
            match leader::acquire(client.clone(), lease, leader::identity(), stop.clone()).await? {
                Some(leadership) => Some(leadership),
                None => return Ok(()), // stopped while a follower
            }
        }
    };
    let lost = match &leadership {
        Some(leadership) => leadership.lost().boxed(),
        None => futures::future::pending().boxed(),
    };

    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "macsec-operator".into(),
            instance: leader::replica_name(),
        },
    );
    let (prompt, prompted) = mpsc::unbounded_channel();
    let prompted = futures::stream::unfold(prompted, |mut rx| async move {
        rx.recv().await.map(|r| (r, rx))
    });

    let (store, writer) = reflector::store();
    let changes = watcher::watcher(bindings, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(intent, PredicateConfig::default());
    let controller = Controller::for_stream(changes, store)
        .with_config(controller::Config::default().concurrency(settings.concurrency));
    health.metrics.watch_bindings(Some(controller.store()));
    let ctx = Arc::new(Context {
        client,
        external: External {
            vpc,
            limiter: Arc::new(RateLimiter::new(settings.calls_per_second)),
            metrics: Arc::clone(&health.metrics),
        },
        chain,
        backoff: Backoff::default(),
        store: controller.store(),
        recorder,
        resync: settings.resync,
        prompt,
    });
    let reconciling = controller
        .reconcile_on(prompted)
        .graceful_shutdown_on(stop)
        .run(measured_reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(binding = %object, "reconciled"),
                Err(controller::Error::ReconcilerFailed(..)) => {} // logged by the error policy
                Err(error) => tracing::warn!(%error, "controller"),
            }
        });
    // A lost lease stops everything at once, in-flight calls included: another replica
    // may already be acting, so nothing more may reach the cloud from here.
    let outcome = tokio::select! {
        () = reconciling => Ok(()),
        () = lost => Err(RunError::LostLease),
    };
    health.metrics.watch_bindings(None);
    if let Some(leadership) = leadership
        && outcome.is_ok()
        && !leadership.was_lost()
    {
        leadership.release().await;
    }
    tracing::info!("stopped");
    outcome
}

/// How often to look again for a CRD that is not installed yet.
const CRD_RECHECK: Duration = Duration::from_secs(5);

/// Lists the bindings once, so that a missing permission or an unreachable API server stops
/// the start with a clear line rather than a silent watch. A CRD that is not installed yet
/// is waited for, not ready, as GitOps tools may apply it after the operator. `false` when
/// `stop` came first.
async fn wait_for_crd(
    bindings: &Api<MacsecKeyBinding>,
    stop: impl Future<Output = ()>,
) -> Result<bool, RunError> {
    tokio::pin!(stop);
    loop {
        match bindings
            .list(&kube::api::ListParams::default().limit(1))
            .await
        {
            Ok(_) => return Ok(true),
            // A plain-text "404 page not found": the API server serves no such resource.
            Err(kube::Error::Api(status)) if status.code == 404 => tracing::warn!(
                "the MacsecKeyBinding CRD is not installed; waiting for it (kubectl apply --server-side -k crds/)"
            ),
            Err(error) => return Err(RunError::CannotList(error)),
        }
        tokio::select! {
            () = &mut stop => return Ok(false),
            () = tokio::time::sleep(CRD_RECHECK) => {}
        }
    }
}

/// [`reconcile`], counted and timed for `/metrics`.
async fn measured_reconcile(
    binding: Arc<MacsecKeyBinding>,
    ctx: Arc<Context>,
) -> Result<kube::runtime::controller::Action, reconcile::Error> {
    let started = std::time::Instant::now();
    let result = reconcile(binding, Arc::clone(&ctx)).await;
    let failure = result.as_ref().err().map(reconcile::Error::reason);
    ctx.external.metrics.reconciled(failure, started.elapsed());
    result
}

/// What a watch event must change to start a reconcile: everything but the status. The
/// operator's own status writes then never trigger another pass, so a failing binding waits
/// out its backoff instead of looping on its own updates. The finalizer, deletion and a
/// person touching the object (an annotation) still do.
fn intent(binding: &MacsecKeyBinding) -> Option<u64> {
    let meta = binding.meta();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (
        &meta.uid,
        meta.generation,
        &meta.finalizers,
        &meta.annotations,
        &meta.labels,
    )
        .hash(&mut hasher);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// Resolves on SIGTERM (what Kubernetes sends) or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("stop requested: finishing in-flight reconciles");
}
