//! The operator CLI `a4b-audit`: process log files, backfill a bucket, read the history back.
//!
//! It reuses the Lambda's [`Pipeline`](crate::object::Pipeline), sources, sink and ledger, so a file
//! processed here gives exactly the items the Lambda would write.
//!
//! A closed output is the reader saying "enough" (`a4b-audit process --dry-run logs/ | head`): the
//! command stops quietly with status 141 (128 + SIGPIPE, what a shell reports for `cat` in the same
//! place), never with a panic or a warning. Nothing is printed with `println!`/`eprintln!`, which
//! panic on a closed pipe: stdout goes through `io::Result`s, stderr lines through `note!`
//! (clippy's `print_stdout`/`print_stderr`, denied below, keep it so).

#![deny(clippy::print_stdout, clippy::print_stderr)]

/// `eprintln!` that cannot panic: a line for the operator on stderr, lost if stderr is closed
/// (`2>&1 | head`), since there is nowhere else to say it.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::report::note(format_args!($($arg)*))
    };
}

mod args;
mod backfill;
mod cleanup;
mod clients;
mod discover;
mod dry_run;
mod error;
mod inputs;
mod item_json;
mod membership;
mod on_aws;
mod output;
mod plan;
mod process;
mod progress;
mod query;
mod report;
mod room_history;
mod s3_uri;
mod source;
mod summaries;
mod table_reader;
mod time_range;
mod timeline;
mod trail_location;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::FromArgMatches;

pub use args::{Cli, Command};
pub use discover::{
    BucketListing, DiscoveredObject, Discovery, DiscoveryFilter, S3Listing, discover_log_files,
};
pub use dry_run::DryRunSink;
pub use error::CliError;
pub use item_json::item_json;
pub use output::Format;
pub use time_range::{TimeBound, parse_time_bound};

/// The exit status when the output was closed before the command finished: 128 + SIGPIPE (13), as
/// a shell reports it for `cat` or `jq` in `... | head`.
pub const OUTPUT_CLOSED_STATUS: u8 = 141;

/// Runs the CLI with the process arguments; the exit code scripts rely on: 0 success, 1 when any
/// file failed or AWS refused, 2 for usage and configuration errors, 141 when the output was closed.
pub fn main() -> ExitCode {
    let cli = parse_args();
    init_logs(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            note!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) if error.is_output_closed() => Outcome::OutputClosed.exit_code(),
        Err(error) => {
            note!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// The command line, with help wrapped to the terminal only when stdout is one (see
/// [`args::command`]); `--help` and `--version` print and exit here.
fn parse_args() -> Cli {
    let matches = args::command(std::io::stdout().is_terminal()).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Logs on stderr: warnings only by default (the summary says the rest), more with `-v`/`-vv`;
/// `RUST_LOG` overrides.
fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::LogWriter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    // An error means a subscriber is already installed: keep it.
    drop(installed);
}

/// How a command that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Some files failed (listed in the summary).
    FilesFailed,
    /// The output was closed: the command stopped early, without a summary.
    OutputClosed,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::FilesFailed => ExitCode::from(1),
            Outcome::OutputClosed => ExitCode::from(OUTPUT_CLOSED_STATUS),
        }
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    match cli.command {
        Command::Process(args) => process::run(args).await,
        Command::Backfill(args) => backfill::run(args).await,
        Command::Query(args) => query::run(args).await.map(|()| Outcome::Success),
        Command::Rooms(args) => summaries::run(summaries::Kind::Rooms, args)
            .await
            .map(|()| Outcome::Success),
        Command::Users(args) => summaries::run(summaries::Kind::Users, args)
            .await
            .map(|()| Outcome::Success),
        Command::CleanupLegacy(args) => cleanup::run(args).await.map(|()| Outcome::Success),
    }
}
