use std::process::ExitCode;

use clap::Parser;
use macsec_operator::cli::{Cli, Command};
use macsec_operator::resource;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
    }
}
