//! `a4b-dev`: the developer's commands. Paths default to the repository this tool was built from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use a4b_audit_devtools::moto::workspace_root;
use a4b_audit_devtools::{bench, huge_record, large_trail, local, many_rooms, samples};
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
    /// Write a large, realistic gzipped CloudTrail log file (about 5 % A4B records), for benchmarks.
    LargeTrail {
        /// Size of its JSON text: 200MB, 1GiB, ...
        #[arg(long, value_parser = large_trail::parse_size)]
        size: u64,
        /// The gzip file to write.
        #[arg(long)]
        out: PathBuf,
        /// Another seed gives other records of the same mix.
        #[arg(long, default_value_t = large_trail::DEFAULT_SEED)]
        seed: u64,
    },
    /// Write a gzipped log file of one huge A4B record (one string of the given size) between two
    /// ordinary ones, for the benchmark's memory check.
    HugeRecord {
        /// Length of the record's one string: 200MB, ...
        #[arg(long, value_parser = large_trail::parse_size)]
        size: u64,
        /// The gzip file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a gzipped log file of one A4B record naming thousands of rooms, for the benchmark's
    /// memory check.
    ManyRooms {
        /// How many rooms the record names.
        #[arg(long, default_value_t = many_rooms::DEFAULT_ROOMS)]
        rooms: u32,
        /// The gzip file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure issue 5's figures on a generated log file and print them as a Markdown table.
    Bench {
        /// The gzipped log file (`a4b-dev large-trail`).
        #[arg(long)]
        file: PathBuf,
        /// The same mix twice as large, to check that the dry run's memory stays flat.
        #[arg(long)]
        double_file: Option<PathBuf>,
        /// The release Lambda binary.
        #[arg(long)]
        lambda_binary: PathBuf,
        /// Runs per figure (the median is shown).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// A file of one record past `MAX_RECORD_BYTES` (`a4b-dev huge-record`): the dry run's peak
        /// memory on it is checked too.
        #[arg(long)]
        huge_record_file: Option<PathBuf>,
        /// A file of one record touching thousands of rooms (`a4b-dev many-rooms`): the dry run's
        /// peak memory on it is checked too.
        #[arg(long)]
        many_rooms_file: Option<PathBuf>,
        /// Leave out the run of the handler against moto.
        #[arg(long)]
        skip_handler: bool,
        /// The dry-run command; the file is appended to it.
        #[arg(last = true, required = true)]
        dry_run: Vec<String>,
    },
    /// Inflate a gzipped log file as the reader does (same decoder, same buffers), print its length
    /// and nothing else: the benchmark's floor, the CPU time spent before any scan.
    Inflate {
        /// The gzip file.
        file: PathBuf,
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

fn write_large_trail(size: u64, out: &Path, seed: u64) -> Result<bool, String> {
    let material =
        large_trail::TrailMaterial::load(&workspace_root().join("tests/fixtures/reference"))
            .map_err(|error| error.to_string())?;
    let file = std::fs::File::create(out)
        .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let summary = material
        .write(size, seed, file)
        .map_err(|error| format!("{}: {error}", out.display()))?;
    println!(
        "wrote {}: {} records ({} A4B), {} bytes of JSON, {} bytes gzipped",
        out.display(),
        summary.records,
        summary.a4b_records,
        summary.uncompressed_bytes,
        summary.compressed_bytes
    );
    Ok(true)
}

/// Creates `out`, has `write` fill it, and says what it holds.
fn write_file(
    out: &Path,
    write: impl FnOnce(std::io::BufWriter<std::fs::File>) -> std::io::Result<String>,
) -> Result<bool, String> {
    std::fs::File::create(out)
        .and_then(|file| write(std::io::BufWriter::new(file)))
        .map(|what| {
            println!("wrote {}: {what}", out.display());
            true
        })
        .map_err(|error| format!("{}: {error}", out.display()))
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
        Command::LargeTrail { size, out, seed } => write_large_trail(size, &out, seed),
        Command::HugeRecord { size, out } => write_file(&out, |file| {
            huge_record::write(size, file).map(|()| format!("one record of {size} bytes of string"))
        }),
        Command::ManyRooms { rooms, out } => write_file(&out, |file| {
            many_rooms::write(rooms, file).map(|()| format!("one A4B record naming {rooms} rooms"))
        }),
        Command::Bench {
            file,
            double_file,
            lambda_binary,
            runs,
            huge_record_file,
            many_rooms_file,
            skip_handler,
            dry_run,
        } => {
            let inflate_only = match std::env::current_exe() {
                Ok(this) => vec![this.display().to_string(), "inflate".to_owned()],
                Err(error) => {
                    eprintln!("a4b-dev: cannot find this program to run `inflate` with: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let plan = bench::BenchPlan {
                file,
                double_file,
                huge_record_file,
                many_rooms_file,
                template: workspace_root().join("template.yaml"),
                dry_run,
                inflate_only,
                lambda_binary,
                runs,
                skip_handler,
            };
            bench::run(&plan)
                .await
                .map(|table| {
                    println!("{table}");
                    true
                })
                .map_err(|error| error.to_string())
        }
        Command::Inflate { file } => bench::inflate(&file)
            .map(|bytes| {
                println!("{bytes} bytes of text in {}", file.display());
                true
            })
            .map_err(|error| error.to_string()),
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
