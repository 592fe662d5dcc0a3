//! `macsec-operator sim`: a local, strict stand-in for the Alibaba Cloud VPC API (the
//! MACsec actions, version 2016-04-28) and STS `AssumeRoleWithOIDC`, so the operator can be
//! demonstrated and tested without a real circuit.
//!
//! One listener serves the API on `/` (RPC style, signed with ACS3-HMAC-SHA256 or the
//! legacy HMAC-SHA1) and, for tests only, an unauthenticated admin API under `/_sim/` to
//! read the state, change faults and circuit status at run time, and count calls. The admin
//! API must never be exposed beyond the test or demo it serves.

mod admin;
mod auth;
mod calls;
mod error;
mod faults;
mod ids;
mod params;
mod seed;
mod server;
mod state;
mod sts;
mod time;
mod vpc;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

use crate::cli::SimArgs;

pub use error::ApiError;
pub use faults::{FaultSettings, ForcedError};
pub use seed::{Seed, SeedError};

/// Why the simulator cannot start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("invalid fault settings: {0}")]
    Faults(String),
    #[error("--sts-duration-max must be at least one second")]
    StsDuration,
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving on {address} failed: {source}")]
    Serve {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// Everything the simulator knows, behind one lock: calls are quick, and one lock keeps
/// every call's view consistent.
#[derive(Debug)]
struct World {
    circuits: state::Circuits,
    keyring: auth::Keyring,
    nonces: auth::NonceCache,
    faults: faults::Faults,
    calls: calls::CallCounts,
}

/// The simulator: its world and its settings.
#[derive(Debug)]
pub struct Simulator {
    world: Mutex<World>,
    sts_duration_max: Option<Duration>,
}

impl Simulator {
    pub fn new(
        seed: Seed,
        faults: FaultSettings,
        sts_duration_max: Option<Duration>,
    ) -> Result<Self, SimError> {
        faults.validate().map_err(SimError::Faults)?;
        if sts_duration_max.is_some_and(|max| max < Duration::from_secs(1)) {
            return Err(SimError::StsDuration);
        }
        let world = World {
            circuits: state::Circuits::new(seed.circuits),
            keyring: auth::Keyring::new(seed.access_keys),
            nonces: auth::NonceCache::default(),
            faults: faults::Faults::new(faults),
            calls: calls::CallCounts::default(),
        };
        Ok(Simulator {
            world: Mutex::new(world),
            sts_duration_max,
        })
    }

    /// The world, even if a call panicked while holding it: each call leaves it consistent
    /// before any point that could panic, and a test double must keep answering.
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Loads the seed, binds `--listen`, prints `listening on ADDR` (the bound address, so
/// port 0 works) and serves until Ctrl-C or SIGTERM.
pub async fn run(args: SimArgs) -> Result<(), SimError> {
    let seed = match &args.seed {
        Some(path) => seed::load(path, Timestamp::now())?,
        None => Seed::default(),
    };
    let summary = format!(
        "seed: {} access key(s), {} circuit(s){}",
        seed.access_keys.len(),
        seed.circuits.len(),
        if args.seed.is_none() {
            " (no --seed: every VPC call will be refused)"
        } else {
            ""
        }
    );
    let simulator = Simulator::new(seed, FaultSettings::from_args(&args), args.sts_duration_max)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Bind {
            address: args.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| SimError::Bind {
        address: args.listen,
        source,
    })?;
    calls::emit(&summary);
    calls::emit(&format!("listening on {address}"));
    axum::serve(listener, server::router(Arc::new(simulator)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|source| SimError::Serve { address, source })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    ctrl_c().await;
}

/// Ctrl-C; never, where it cannot be watched (a failed watch is no reason to stop).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
