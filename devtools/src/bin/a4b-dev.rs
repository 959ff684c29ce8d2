//! `a4b-dev`: the developer's commands. Paths default to the repository this tool was built from.

use std::path::PathBuf;
use std::process::ExitCode;

use a4b_audit_devtools::moto::workspace_root;
use a4b_audit_devtools::{local, samples};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Development tools of a4b-audit")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the sample log files and SNS events (deterministic).
    Samples {
        /// Where to write them [default: <repository>/events]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the Lambda binary against a local AWS with every sample event, then show the items.
    RunLocal {
        /// [default: <target dir>/debug/a4b-audit-lambda]
        #[arg(long)]
        lambda_binary: Option<PathBuf>,
        /// [default: <repository>/events]
        #[arg(long)]
        events: Option<PathBuf>,
    },
    /// Start a local AWS holding the sample logs and print the variables to use it, until Ctrl-C.
    Emulator {
        /// [default: <repository>/events]
        #[arg(long)]
        events: Option<PathBuf>,
    },
}

fn default_events() -> PathBuf {
    workspace_root().join("events")
}

fn default_lambda_binary() -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target_dir.join("debug").join("a4b-audit-lambda")
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Samples { out } => {
            let out = out.unwrap_or_else(default_events);
            samples::generate(&workspace_root().join("tests/fixtures/reference"))
                .and_then(|files| samples::write(&out, &files).map(|()| files.len()))
                .map(|count| {
                    println!("wrote {count} sample files under {}", out.display());
                    true
                })
                .map_err(|error| error.to_string())
        }
        Command::RunLocal {
            lambda_binary,
            events,
        } => local::run_local(
            &events.unwrap_or_else(default_events),
            &lambda_binary.unwrap_or_else(default_lambda_binary),
        )
        .await
        .map_err(|error| error.to_string()),
        Command::Emulator { events } => local::emulator(&events.unwrap_or_else(default_events))
            .await
            .map(|()| true)
            .map_err(|error| error.to_string()),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("a4b-dev: an invocation that should have succeeded failed (see above)");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("a4b-dev: {message}");
            ExitCode::FAILURE
        }
    }
}
