use std::process::ExitCode;

use clap::Parser;
use macsec_operator::cli::{Cli, Command, LogFormat, RunArgs, SimArgs};
use macsec_operator::{controller, resource, sim, telemetry};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return refuse_flags(&error),
    };
    match cli.command {
        Command::Run(args) => run_controller(args),
        Command::Crd => match resource::crd_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("macsec-operator: cannot render the CRD: {error}");
                ExitCode::FAILURE
            }
        },
        Command::Sim(args) => run_sim(args),
    }
}

/// `--help` and `--version` print as usual; a bad flag ends the process with one line on
/// stderr, as the contract asks, instead of clap's multi-line report.
fn refuse_flags(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = error.to_string();
    let line = rendered
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("invalid command line");
    telemetry::fatal(
        requested_log_format(),
        &format!(
            "macsec-operator: {} (see --help)",
            line.trim().trim_start_matches("error: ")
        ),
    );
    ExitCode::from(2)
}

/// The log format asked for, read from the raw command line and environment, for a flag
/// error found before the flags are parsed: a Deployment that logs JSON gets its refusal as
/// JSON too. Anything unclear is text.
fn requested_log_format() -> LogFormat {
    let args: Vec<String> = std::env::args().collect();
    let from_args =
        args.iter()
            .enumerate()
            .find_map(|(i, arg)| match arg.strip_prefix("--log-format") {
                Some(rest) if rest.starts_with('=') => Some(rest[1..].to_owned()),
                Some("") => args.get(i + 1).cloned(),
                _ => None,
            });
    let asked = from_args.or_else(|| std::env::var("MACSEC_LOG_FORMAT").ok());
    match asked.as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

/// Runs the simulator; any failure is one line on stderr.
fn run_sim(args: SimArgs) -> ExitCode {
    run_async("sim", LogFormat::Text, sim::run(args))
}

/// Runs the controller; bad configuration ends the process with one line.
fn run_controller(args: RunArgs) -> ExitCode {
    let log_format = args.log_format;
    if let Err(error) = telemetry::init(log_format) {
        telemetry::fatal(log_format, &format!("macsec-operator run: {error}"));
        return ExitCode::FAILURE;
    }
    let settings = controller::Settings {
        vpc_endpoint: args.vpc_endpoint,
        cloud_timeout: args.cloud_timeout,
        calls_per_second: args.rate_limit,
        resync: args.resync,
        concurrency: args.concurrency,
        namespace: args.namespace,
        metrics_address: args.metrics_address,
        leader_election: args
            .leader_elect
            .then_some(controller::leader::LeaseSettings {
                namespace: args.leader_election_namespace,
                name: args.leader_election_lease,
                duration: args.lease_duration,
            }),
    };
    run_async("run", log_format, controller::run(settings))
}

/// Runs `task` on a multi-threaded runtime of its own; a failure, even of the runtime
/// itself, is one line on stderr naming the subcommand, in `log_format`.
fn run_async<E: std::fmt::Display>(
    subcommand: &str,
    log_format: LogFormat,
    task: impl std::future::Future<Output = Result<(), E>>,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            telemetry::fatal(
                log_format,
                &format!("macsec-operator {subcommand}: cannot start the async runtime: {error}"),
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            telemetry::fatal(
                log_format,
                &format!("macsec-operator {subcommand}: {error}"),
            );
            ExitCode::FAILURE
        }
    }
}
