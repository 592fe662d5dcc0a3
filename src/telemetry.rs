//! Logging: human-readable text or JSON lines, filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// The level when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,kube=warn";

/// `RUST_LOG` is set but is no filter.
#[derive(Debug, thiserror::Error)]
#[error("RUST_LOG: {0}")]
pub struct FilterError(String);

/// Installs the global subscriber; a second call is a no-op.
pub fn init(format: LogFormat) -> Result<(), FilterError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(&directives).map_err(|e| FilterError(e.to_string()))?
        }
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    // Colours only on a terminal: a pod's log, a file or a pipe gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}

/// Writes the line that ends the process, on standard error, in the format the logs are
/// in: a log pipeline that parses JSON must not lose the most important line. Written
/// directly, not through the filter, so no `RUST_LOG` value can hide it.
pub fn fatal(format: LogFormat, line: &str) {
    match format {
        LogFormat::Text => eprintln!("{line}"),
        LogFormat::Json => eprintln!(
            "{}",
            serde_json::json!({
                "timestamp": jiff::Timestamp::now().to_string(),
                "level": "ERROR",
                "target": "macsec_operator",
                "message": line,
            })
        ),
    }
}
