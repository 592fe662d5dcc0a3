//! The binary's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Keeps MACsec keys on Alibaba Cloud Express Connect circuits in step with
/// `MacsecKeyBinding` objects.
#[derive(Parser, Debug)]
#[command(name = "macsec-operator", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the controller: reconcile MacsecKeyBinding objects against the VPC API.
    Run(RunArgs),
    /// Print the MacsecKeyBinding CustomResourceDefinition as YAML.
    Crd,
    /// Run a local, strict simulator of the Alibaba Cloud VPC API (MACsec actions) and of
    /// STS AssumeRoleWithOIDC, for demos, tests and GitOps rehearsals.
    Sim(SimArgs),
}

/// Flags of `macsec-operator run`. Credentials come from the environment (see README).
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// VPC API endpoint; `{region}` is replaced by each binding's region. Any http(s) URL
    /// is accepted, e.g. the simulator's.
    #[arg(long, env = "MACSEC_VPC_ENDPOINT", default_value = crate::cloud::client::DEFAULT_ENDPOINT)]
    pub vpc_endpoint: String,

    /// Time limit of each cloud call (100ms to 60s).
    #[arg(long, env = "MACSEC_CLOUD_TIMEOUT", default_value = "10s", value_parser = parse_cloud_timeout)]
    pub cloud_timeout: Duration,

    /// Cloud calls a second per account, region and action (the published quota is 300 a
    /// minute).
    #[arg(long, env = "MACSEC_RATE_LIMIT", default_value_t = 5.0, value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate_limit: f64,

    /// How often each binding is compared with the cloud (drift made outside Kubernetes
    /// shows up within this period, plus up to 20% jitter).
    #[arg(long, env = "MACSEC_RESYNC", default_value = "10m", value_parser = parse_resync)]
    pub resync: Duration,

    /// Bindings reconciled at the same time.
    #[arg(long, env = "MACSEC_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "MACSEC_WATCH_NAMESPACE", value_parser = parse_namespace)]
    pub namespace: Option<String>,

    /// Log format.
    #[arg(long, env = "MACSEC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Address of `/metrics`, `/healthz` and `/readyz` (port 0 picks a free port, logged at
    /// start).
    #[arg(long, env = "MACSEC_METRICS_ADDRESS", default_value = "0.0.0.0:8080")]
    pub metrics_address: SocketAddr,

    /// Reconcile only while holding the leader Lease, so several replicas can run and
    /// exactly one acts. Needed whenever more than one replica may run.
    #[arg(long, env = "MACSEC_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Namespace of the leader Lease (default: the pod's own namespace, or the kubeconfig
    /// context's).
    #[arg(long, env = "MACSEC_LEADER_ELECTION_NAMESPACE", value_parser = parse_namespace)]
    pub leader_election_namespace: Option<String>,

    /// Name of the leader Lease.
    #[arg(
        long,
        env = "MACSEC_LEADER_ELECTION_LEASE",
        default_value = "macsec-operator-leader",
        value_parser = parse_object_name
    )]
    pub leader_election_lease: String,

    /// How long the leader Lease lasts without renewal, in whole seconds (3s to 300s): the
    /// longest a follower waits after the leader dies. The leader renews a third before the
    /// end.
    #[arg(long, env = "MACSEC_LEASE_DURATION", default_value = "15s", value_parser = parse_lease_duration)]
    pub lease_duration: Duration,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags of `macsec-operator sim`.
#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, env = "MACSEC_SIM_LISTEN", default_value = "127.0.0.1:8765")]
    pub listen: SocketAddr,

    /// YAML file with the access keys and circuits to start with.
    #[arg(long, env = "MACSEC_SIM_SEED")]
    pub seed: Option<PathBuf>,

    /// Delay added to every call, e.g. `200ms`.
    #[arg(long, env = "MACSEC_SIM_LATENCY", default_value = "0s", value_parser = parse_duration)]
    pub latency: Duration,

    /// Share of calls (0 to 1) answered with `Throttling.User`.
    #[arg(long, env = "MACSEC_SIM_THROTTLE_SHARE", default_value_t = 0.0, value_parser = parse_share)]
    pub throttle_share: f64,

    /// Share of calls (0 to 1) answered with HTTP 500 `InternalError`.
    #[arg(long, env = "MACSEC_SIM_ERROR_SHARE", default_value_t = 0.0, value_parser = parse_share)]
    pub error_share: f64,

    /// After each mutating call, how long the key stays in a transitional state in which
    /// further mutating calls on it get `IncorrectStatus.PconnMacsec`, e.g. `2s`.
    #[arg(long, env = "MACSEC_SIM_UNSTABLE_WINDOW", default_value = "0s", value_parser = parse_duration)]
    pub unstable_window: Duration,

    /// Longest lifetime of the temporary credentials STS AssumeRoleWithOIDC issues, e.g.
    /// `60s`, so tests can watch them expire and be refreshed; by default the requested
    /// `DurationSeconds` (900 s to 12 h, 1 h when not given).
    #[arg(long, env = "MACSEC_SIM_STS_DURATION_MAX", value_parser = parse_duration)]
    pub sts_duration_max: Option<Duration>,
}

/// Parses a duration written as a whole number with a unit: `ms`, `s`, `m` or `h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 30s, 10m or 1h"))?;
    let millis = match unit {
        "ms" => Some(value),
        "s" => value.checked_mul(1_000),
        "m" => value.checked_mul(60_000),
        "h" => value.checked_mul(3_600_000),
        _ => {
            return Err(format!(
                "{text:?} is not a duration like 500ms, 30s, 10m or 1h"
            ));
        }
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// A resync period: at least a second, so a typo cannot make every binding a hot loop.
pub fn parse_resync(text: &str) -> Result<Duration, String> {
    within(
        parse_duration(text)?,
        Duration::from_secs(1),
        None,
        "a resync period",
    )
}

/// A cloud call timeout: at least 100 ms, so no call is doomed before it starts, and at most
/// a minute, so a stop (the Deployment's 60 s grace period) can wait for a call in flight.
pub fn parse_cloud_timeout(text: &str) -> Result<Duration, String> {
    within(
        parse_duration(text)?,
        Duration::from_millis(100),
        Some(Duration::from_secs(60)),
        "a cloud timeout",
    )
}

/// A lease duration: whole seconds, at least 3, so renewing a third before the end leaves
/// at least a second; at most 5 minutes, as a longer one only delays a takeover.
pub fn parse_lease_duration(text: &str) -> Result<Duration, String> {
    let duration = within(
        parse_duration(text)?,
        Duration::from_secs(3),
        Some(Duration::from_secs(300)),
        "a lease duration",
    )?;
    if duration.subsec_nanos() != 0 {
        return Err(format!("{text:?}: a lease duration is whole seconds"));
    }
    Ok(duration)
}

fn within(
    value: Duration,
    minimum: Duration,
    maximum: Option<Duration>,
    what: &str,
) -> Result<Duration, String> {
    if value < minimum {
        return Err(format!("{what} must be at least {minimum:?}"));
    }
    match maximum {
        Some(maximum) if value > maximum => Err(format!("{what} must be at most {maximum:?}")),
        _ => Ok(value),
    }
}

/// A namespace name as Kubernetes takes it (an RFC 1123 label): a typo must stop the start,
/// not leave the operator watching a namespace that cannot exist.
pub fn parse_namespace(text: &str) -> Result<String, String> {
    if is_dns_label(text) {
        Ok(text.to_owned())
    } else {
        Err("a namespace name is 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit".to_owned())
    }
}

/// An object name as Kubernetes takes it for a Lease (an RFC 1123 subdomain).
pub fn parse_object_name(text: &str) -> Result<String, String> {
    if text.len() <= 253 && text.split('.').all(is_dns_label_text) {
        Ok(text.to_owned())
    } else {
        Err("a Lease name is lower-case letters, digits, '-' and '.', up to 253 characters, each dot-separated part starting and ending with a letter or digit".to_owned())
    }
}

fn is_dns_label(part: &str) -> bool {
    part.len() <= 63 && is_dns_label_text(part)
}

/// Lower-case letters, digits and '-', starting and ending with a letter or digit, so never
/// empty (an RFC 1123 label without its length limit, which a subdomain's parts do not have).
fn is_dns_label_text(part: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    part.starts_with(alphanumeric)
        && part.ends_with(alphanumeric)
        && part.chars().all(|c| alphanumeric(c) || c == '-')
}

/// Parses a positive rate of calls per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a positive number of calls per second"
        )),
    }
}

/// Parses a share: a number from 0 to 1.
pub fn parse_share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1d").is_err());
    }

    #[test]
    fn periods_that_would_loop_are_refused() {
        assert!(parse_resync("0s").is_err());
        assert_eq!(parse_resync("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_cloud_timeout("0s").is_err());
        assert!(parse_cloud_timeout("50ms").is_err());
        assert!(parse_lease_duration("2s").is_err());
        assert!(parse_lease_duration("3500ms").is_err());
        assert_eq!(parse_lease_duration("15s"), Ok(Duration::from_secs(15)));
    }

    #[test]
    fn values_past_their_bound_are_refused() {
        assert!(parse_cloud_timeout("61s").is_err());
        assert_eq!(parse_cloud_timeout("60s"), Ok(Duration::from_secs(60)));
        assert!(parse_lease_duration("301s").is_err());
        assert!(parse_lease_duration("3000000000s").is_err());
        assert_eq!(parse_lease_duration("300s"), Ok(Duration::from_secs(300)));
    }

    #[test]
    fn names_are_checked_as_kubernetes_would() {
        assert_eq!(parse_namespace("network-1"), Ok("network-1".to_owned()));
        for bad in [
            "",
            "Bad_NS",
            "-network",
            "network-",
            "net.work",
            &"n".repeat(64),
        ] {
            assert!(parse_namespace(bad).is_err(), "{bad:?}");
        }
        assert!(parse_object_name("macsec-operator-leader").is_ok());
        assert!(parse_object_name("leader.macsec.example").is_ok());
        // A subdomain's parts have no length limit of their own (Kubernetes takes this).
        assert!(parse_object_name(&"l".repeat(70)).is_ok());
        for bad in ["", "Bad Name", "leader..x", "leader.", &"l".repeat(254)] {
            assert!(parse_object_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shares_are_between_zero_and_one() {
        assert_eq!(parse_share("0.5"), Ok(0.5));
        assert!(parse_share("1.5").is_err());
        assert!(parse_share("half").is_err());
    }
}
