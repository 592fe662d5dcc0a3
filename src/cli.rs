//! The binary's command line.

use clap::{Parser, Subcommand};

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
    /// Print the MacsecKeyBinding CustomResourceDefinition as YAML.
    Crd,
}
