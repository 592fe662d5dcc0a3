//! Leader election on a `coordination.k8s.io` Lease, so that of several replicas exactly
//! one reconciles. Two reconcilers at once could both disassociate one key, the second
//! removing a key policy meant to keep.
//!
//! `kube-lease-manager` takes and renews the lease. On top of it a watchdog reads the
//! Lease itself: the leader steps down before the lease it last saw renewed runs out,
//! whatever the reason the renewal failed (a hung request, an RBAC change, a partition).
//! Stepping down ends the process, as controller-runtime does; the Deployment restarts it
//! as a follower with a clean cache.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseManagerError, LeaseParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Lease settings, already checked.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// Namespace of the Lease; `None` takes the client's default (in a pod, its own).
    pub namespace: Option<String>,
    pub name: String,
    /// How long a lease is valid without renewal: the longest a dead leader's work waits.
    pub duration: Duration,
}

impl LeaseSettings {
    /// Whole seconds, as the Lease stores them.
    fn duration_seconds(&self) -> u64 {
        self.duration.as_secs().max(3)
    }

    /// The leader renews when this much of the lease is left: a third of it.
    fn renew_margin_seconds(&self) -> u64 {
        (self.duration_seconds() / 3).max(1)
    }

    /// How often the watchdog reads the Lease.
    fn check_every(&self) -> Duration {
        Duration::from_millis(self.duration_seconds() * 1000 / 6)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("leader election on Lease {namespace}/{name}: {source}")]
    Lease {
        namespace: String,
        name: String,
        #[source]
        source: LeaseManagerError,
    },
}

/// This process holds the lease.
pub struct Leadership {
    manager: Arc<LeaseManager>,
    lost: watch::Receiver<bool>,
    keeper: JoinHandle<()>,
    pub identity: String,
}

/// Waits until this process holds the lease, or `stop` resolves first (`Ok(None)`).
pub async fn acquire(
    client: Client,
    settings: &LeaseSettings,
    identity: String,
    stop: impl Future<Output = ()>,
) -> Result<Option<Leadership>, LeaderError> {
    let namespace = settings
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_owned());
    let lease_api: Api<Lease> = Api::namespaced(client.clone(), &namespace);
    tracing::info!(lease = %format!("{namespace}/{}", settings.name), %identity, "waiting for the leader lease");
    tokio::pin!(stop);
    let manager = loop {
        let params = LeaseParams::new(
            identity.clone(),
            settings.duration_seconds(),
            settings.renew_margin_seconds(),
        );
        let manager = LeaseManager::new(
            client.clone(),
            settings.name.clone(),
            namespace.clone(),
            params,
            LeaseCreateMode::AutoCreate,
        )
        .await
        .map_err(|source| LeaderError::Lease {
            namespace: namespace.clone(),
            name: settings.name.clone(),
            source,
        })?;
        tokio::select! {
            () = &mut stop => return Ok(None),
            acquired = follow(&manager, &lease_api, settings) => match acquired {
                Follow::Acquired => break manager,
                // A fresh manager reads the Lease again at once. The same identity is kept,
                // so a lock taken just as the old one was dropped is still recognised as ours.
                Follow::Released => tracing::info!("the lease has no holder: trying to take it"),
            },
        }
    };
    tracing::info!(%identity, "became the leader");
    let manager = Arc::new(manager);
    let (lost_tx, lost) = watch::channel(false);
    let keeper = tokio::spawn(keep(
        Arc::clone(&manager),
        lease_api,
        settings.clone(),
        identity.clone(),
        lost_tx,
    ));
    Ok(Some(Leadership {
        manager,
        lost,
        keeper,
        identity,
    }))
}

/// How waiting for the lease ended.
enum Follow {
    Acquired,
    /// The lease has no holder: released at a clean stop, or cleared after it expired.
    Released,
}

/// Waits for `manager` to take the lease. kube-lease-manager sleeps until the holder's lease
/// would expire, so a lease released at a clean stop would stay unused for up to a whole
/// lease time; reading the Lease every few seconds notices the release.
async fn follow(
    manager: &LeaseManager,
    lease_api: &Api<Lease>,
    settings: &LeaseSettings,
) -> Follow {
    let acquired = async {
        loop {
            match manager.changed().await {
                Ok(true) => return,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, "leader election: retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    let released = async {
        loop {
            tokio::time::sleep(settings.check_every()).await;
            if let Ok(Ok(lease)) = read_lease(lease_api, settings).await
                && holder(&lease).is_none()
            {
                return;
            }
        }
    };
    tokio::select! {
        () = acquired => Follow::Acquired,
        () = released => Follow::Released,
    }
}

impl Leadership {
    /// Resolves when the lease is lost (or cannot be shown to be held any more).
    pub fn lost(&self) -> impl Future<Output = ()> + use<> {
        let mut lost = self.lost.clone();
        async move {
            let _ = lost.wait_for(|lost| *lost).await;
        }
    }

    pub fn was_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Gives the lease up at a clean stop, so a follower need not wait for it to expire.
    pub async fn release(self) {
        self.keeper.abort();
        match self.manager.release().await {
            Ok(()) => tracing::info!(identity = %self.identity, "released the leader lease"),
            Err(error) => {
                tracing::warn!(%error, "cannot release the leader lease; it expires on its own")
            }
        }
    }
}

/// Renews the lease, and sets `lost` once it is gone or its renewal cannot be confirmed in
/// time.
async fn keep(
    manager: Arc<LeaseManager>,
    lease_api: Api<Lease>,
    settings: LeaseSettings,
    identity: String,
    lost: watch::Sender<bool>,
) {
    let renew = async {
        loop {
            match manager.changed().await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!("the leader lease was taken over");
                    return;
                }
                // The watchdog decides whether the lease is still ours.
                Err(error) => {
                    tracing::warn!(%error, "cannot renew the leader lease; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    let watchdog = watch_lease(&lease_api, &settings, &identity);
    tokio::select! {
        () = renew => {}
        () = watchdog => {}
    }
    let _ = lost.send(true);
}

/// Returns when the Lease names another holder, or when its last confirmed validity is
/// about to run out.
async fn watch_lease(lease_api: &Api<Lease>, settings: &LeaseSettings, identity: &str) {
    let lease_time = Duration::from_secs(settings.duration_seconds());
    // Until the first read, the lease was just taken: valid for one lease time.
    let mut deadline = tokio::time::Instant::now() + lease_time;
    loop {
        tokio::time::sleep(settings.check_every()).await;
        match read_lease(lease_api, settings).await {
            Ok(Ok(lease)) => match held_for(&lease, identity, jiff::Timestamp::now()) {
                Some(left) => deadline = tokio::time::Instant::now() + left,
                None => {
                    tracing::error!("the leader lease names another holder");
                    return;
                }
            },
            Ok(Err(error)) => tracing::warn!(%error, "cannot read the leader lease"),
            Err(_) => tracing::warn!("reading the leader lease timed out"),
        }
        // Stop one check early, so no reconcile outlives the lease.
        if tokio::time::Instant::now() + settings.check_every() >= deadline {
            tracing::error!("the leader lease could not be renewed in time");
            return;
        }
    }
}

/// Reads the Lease, giving up after one check period so a hung request cannot hold up the
/// next check.
async fn read_lease(
    lease_api: &Api<Lease>,
    settings: &LeaseSettings,
) -> Result<Result<Lease, kube::Error>, tokio::time::error::Elapsed> {
    tokio::time::timeout(settings.check_every(), lease_api.get(&settings.name)).await
}

/// How long `lease` stays valid for `identity`, or `None` when someone else holds it.
fn held_for(lease: &Lease, identity: &str, now: jiff::Timestamp) -> Option<Duration> {
    if holder(lease) != Some(identity) {
        return None;
    }
    let spec = lease.spec.as_ref()?;
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?;
    let valid = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    let until = renewed
        .0
        .checked_add(jiff::SignedDuration::from_secs(valid))
        .ok()?;
    Some(
        until
            .duration_since(now)
            .try_into()
            .unwrap_or(Duration::ZERO),
    )
}

/// Who holds `lease`, if anyone (a released lease has no holder).
fn holder(lease: &Lease) -> Option<&str> {
    lease
        .spec
        .as_ref()?
        .holder_identity
        .as_deref()
        .filter(|holder| !holder.is_empty())
}

/// The replica's name: the pod's (from the downward API, else the host name), if known.
/// It names the Lease holder and the Events' reporting instance.
pub fn replica_name() -> Option<String> {
    std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
}

/// A name for this process in the Lease: the replica's name, and a random suffix so that a
/// restarted process is never mistaken for its predecessor.
pub fn identity() -> String {
    let host = replica_name().unwrap_or_else(|| "macsec-operator".to_owned());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}_{}", &suffix[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn lease(holder: &str, renewed_at: i64, seconds: i32) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.to_owned()),
                renew_time: Some(MicroTime(
                    jiff::Timestamp::from_second(renewed_at).expect("time"),
                )),
                lease_duration_seconds: Some(seconds),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    #[test]
    fn a_lease_is_held_until_its_renewal_runs_out() {
        let now = jiff::Timestamp::from_second(1_010).expect("now");
        assert_eq!(
            held_for(&lease("me", 1_000, 15), "me", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            held_for(&lease("me", 990, 15), "me", now),
            Some(Duration::ZERO)
        );
        assert_eq!(held_for(&lease("other", 1_000, 15), "me", now), None);
        assert_eq!(held_for(&Lease::default(), "me", now), None);
    }

    #[test]
    fn renewal_and_checks_fit_inside_the_lease() {
        let settings = LeaseSettings {
            namespace: None,
            name: "l".into(),
            duration: Duration::from_secs(15),
        };
        assert_eq!(settings.duration_seconds(), 15);
        assert_eq!(settings.renew_margin_seconds(), 5);
        assert_eq!(settings.check_every(), Duration::from_millis(2_500));
    }
}
