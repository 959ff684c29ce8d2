//! The command line: commands, options and their help with examples.

use clap::{Args, CommandFactory, Parser, Subcommand};

use super::output::Format;
use super::time_range::{TimeBound, parse_time_bound};
use crate::cli::s3_uri::{S3Prefix, parse_s3_prefix};

/// The command line as `main` parses it. On a terminal clap wraps the help to its width; anywhere
/// else (a pipe, a file, `less`) nothing is wrapped, so an example is never cut between an option
/// and its value. The examples fit 100 columns, continued with ` \` where longer (an S3 key of a
/// log file alone is longer: it has a line of its own).
pub fn command(stdout_is_terminal: bool) -> clap::Command {
    let command = Cli::command();
    if stdout_is_terminal {
        command.max_term_width(100)
    } else {
        command.term_width(0)
    }
}

/// Operator CLI of a4b-audit: turn stored CloudTrail logs into Alexa for Business audit items and
/// read the audit history back.
#[derive(Debug, Parser)]
#[command(
    name = "a4b-audit",
    version,
    after_help = "Examples:
  a4b-audit process --dry-run ./logs/
  a4b-audit backfill s3://my-trail-bucket --from 2023-01-01 --to 2023-12-31 --table a4b-audit
  a4b-audit query --room arn:aws:a4b:us-east-1:123456789012:room/abc --from 2023-05-01
  a4b-audit rooms --table a4b-audit

AWS access uses the SDK's usual settings (AWS_PROFILE, AWS_REGION, credentials, AWS_ENDPOINT_URL).
Exit codes: 0 success, 1 when a file failed or AWS refused a request, 2 for usage or configuration errors."
)]
pub struct Cli {
    /// More logs on stderr (-v: each file, -vv: debug). RUST_LOG overrides.
    // Listed after each command's own options (a global option otherwise sorts among the first).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, display_order = 1000)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process CloudTrail log files (local files, folders, S3 objects) into the audit table.
    #[command(after_help = "Examples:
  a4b-audit process --table a4b-audit \\
    s3://trail-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2023/05/01/123456789012_CloudTrail_us-east-1_20230501T1200Z_abc.json.gz
  a4b-audit process --dry-run ./downloaded-logs/ > items.jsonl
  a4b-audit process --dry-run export.json   # a file named explicitly is read whatever its name

Folders are read recursively; in them only CloudTrail log file names count (digests are skipped).
The summary goes to stderr; with --dry-run every item goes to stdout as one JSON object per line.")]
    Process(ProcessArgs),

    /// Find and process the CloudTrail log files of a bucket, day by day.
    #[command(after_help = "Examples:
  a4b-audit backfill s3://trail-bucket --from 2021-01-01 --to 2023-12-31 --table a4b-audit
  a4b-audit backfill s3://trail-bucket/team-prefix \\
    --account 123456789012 --region us-east-1 --resume
  a4b-audit backfill s3://org-trail-bucket --from 2023-05-01 --concurrency 8

Every trail prefix (a folder holding AWSLogs/) at or below the given prefix is found, at any depth;
give the trail's S3 key prefix to read one trail only. Accounts (also those of an organization trail,
AWSLogs/o-.../<account>/) and regions are found by listing; only the day folders between --from and
--to are listed. --from/--to select delivery days (UTC). Files in GLACIER or DEEP_ARCHIVE are listed
apart: restore them first.
Running it twice is safe. Each file done is appended to a local journal (--journal, by default
./a4b-audit-backfill.journal); --resume skips the files it lists for this table.
--plan prints what a run would request of AWS and cost, writing nothing. --on-aws runs it on the
stack's Step Functions Distributed Map (deployed with BackfillEngine=true), follows it and lists the
failed files; run it again to process only what earlier runs did not finish:
  a4b-audit backfill s3://trail-bucket --plan
  a4b-audit backfill s3://trail-bucket --on-aws --stack a4b-audit --max-concurrency 200")]
    Backfill(BackfillArgs),

    /// Print the audit history of a room, a user or a resource, or everything in a time window.
    #[command(after_help = "Examples:
  a4b-audit query --room arn:aws:a4b:us-east-1:123456789012:room/abc \\
    --from 2023-05-01 --to 2023-05-31
  a4b-audit query --room arn:aws:a4b:us-east-1:123456789012:room/abc --direct
  a4b-audit query --resource arn:aws:a4b:us-east-1:123456789012:device/abc/def
  a4b-audit query --user arn:aws:iam::123456789012:user/alice --limit 20
  a4b-audit query --user arn:aws:iam::123456789012:user/alice --format csv > alice.csv
  a4b-audit query --from 2023-05-12T14:00:00Z --to 2023-05-12T16:00:00Z
  a4b-audit query --from 2023-01-01 --to 2023-12-31 --event DeleteRoom --errors
  a4b-audit query --room arn:aws:a4b:us-east-1:123456789012:room/abc --format html > room.html

--room shows the room's own events and, marked in the VIA column, those of each device, profile
and skill group during the time it belonged to the room; --direct only the room's own.
Without --room, --user or --resource, the events of the whole account between --from and --to
come from the table's time index, in time order.
--from/--to take a date (2023-05-01: the whole day) or an RFC 3339 time (2023-05-01T12:00:00Z).
--format json prints every attribute of each item, one JSON object per line; html writes one
self-contained page with the events on a time axis.")]
    Query(QueryArgs),

    /// List the rooms seen, with their number of events and last activity.
    #[command(after_help = "Examples:
  a4b-audit rooms --table a4b-audit
  a4b-audit rooms --format csv")]
    Rooms(ListArgs),

    /// List the users seen, with their number of events and last activity.
    #[command(after_help = "Examples:
  a4b-audit users --table a4b-audit
  a4b-audit users --format json")]
    Users(ListArgs),

    /// Delete the SUMMARY#... and FILE#... items that versions before the seen items wrote.
    #[command(after_help = "Examples:
  a4b-audit cleanup-legacy --table a4b-audit --dry-run
  a4b-audit cleanup-legacy --table a4b-audit

No command reads those items any more. This scans the whole table once (keys only) and deletes
them 25 to a request; --dry-run only counts them. Safe to run again, and while the function runs.")]
    CleanupLegacy(CleanupArgs),
}

/// The audit table.
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// The DynamoDB audit table.
    #[arg(long, env = "TABLE_NAME", value_name = "NAME")]
    pub table: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// Local files, folders (read recursively) or s3://bucket/key objects.
    #[arg(required = true, value_name = "PATH|s3://bucket/key")]
    pub inputs: Vec<String>,

    /// Write nothing: print every item as one JSON object per line on stdout.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub table: TableArgs,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The bucket and optional trail prefix: s3://bucket[/prefix].
    #[arg(value_name = "s3://bucket[/prefix]", value_parser = parse_s3_prefix)]
    pub location: S3Prefix,

    /// First delivery day (UTC), e.g. 2023-05-01.
    #[arg(long, value_parser = parse_time_bound, value_name = "DATE")]
    pub from: Option<TimeBound>,

    /// Last delivery day (UTC), inclusive.
    #[arg(long, value_parser = parse_time_bound, value_name = "DATE")]
    pub to: Option<TimeBound>,

    /// Only this account (12 digits); repeat for several.
    #[arg(long, value_parser = parse_account_id, value_name = "ID")]
    pub account: Vec<String>,

    /// Only this region (e.g. us-east-1); repeat for several.
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,

    /// Files processed at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Skip the files the journal lists as done into this table by earlier runs.
    #[arg(long)]
    pub resume: bool,

    /// Run on AWS: write a manifest and start the stack's Step Functions Distributed Map, follow it,
    /// list the failed files. Files earlier runs finished are left out.
    #[arg(long, conflicts_with = "resume")]
    pub on_aws: bool,

    /// With --on-aws: the stack deployed with BackfillEngine=true (its state machine is <NAME>-backfill).
    #[arg(
        long,
        value_name = "NAME",
        requires = "on_aws",
        conflicts_with = "state_machine"
    )]
    pub stack: Option<String>,

    /// With --on-aws: the backfill state machine's ARN (the stack output BackfillStateMachineArn).
    #[arg(long, value_name = "ARN", requires = "on_aws")]
    pub state_machine: Option<String>,

    /// With --on-aws: batches processed at once (the map's MaxConcurrency; each is one invocation).
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_concurrency: u64,

    /// The local journal of files done: every run appends to it, --resume reads it.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "a4b-audit-backfill.journal"
    )]
    pub journal: std::path::PathBuf,

    /// Print what the run would request of each AWS service and what it would cost, on AWS and on
    /// this machine; write nothing (no table needed).
    #[arg(long)]
    pub plan: bool,

    /// Files per batch on AWS: one Lambda invocation and one Express child workflow each.
    #[arg(long, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub batch_size: u64,

    /// With --plan: the billed Lambda time assumed per file, in milliseconds.
    #[arg(long, default_value_t = 30, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=900_000))]
    pub lambda_ms_per_file: u64,

    /// With --plan: the function's memory in MB (the stack's MemorySize).
    #[arg(long, default_value_t = 512, value_name = "MB", value_parser = clap::value_parser!(u64).range(128..=10_240))]
    pub lambda_memory_mb: u64,

    #[command(flatten)]
    pub table: TableArgs,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("partition").multiple(false))]
pub struct QueryArgs {
    /// The room's ARN: its own events and those of its devices, profiles and skill groups while
    /// they belonged to it.
    #[arg(long, group = "partition", value_name = "ARN")]
    pub room: Option<String>,

    /// With --room: only the room's own events (its partition).
    #[arg(long)]
    pub direct: bool,

    /// The user key (the identity's ARN, else invokedBy, principalId or account id).
    #[arg(long, group = "partition", value_name = "KEY")]
    pub user: Option<String>,

    /// Any other Alexa for Business resource's ARN (device, profile, skill group, ...).
    #[arg(long, group = "partition", value_name = "ARN")]
    pub resource: Option<String>,

    /// From this date or time (inclusive). Without --room, --user or --resource: required, and
    /// the whole account's events are read from the time index.
    #[arg(long, value_parser = parse_time_bound, value_name = "T")]
    pub from: Option<TimeBound>,

    /// Up to this date (the whole day) or time (inclusive). Default: now.
    #[arg(long, value_parser = parse_time_bound, value_name = "T")]
    pub to: Option<TimeBound>,

    /// Only events with this name (e.g. DeleteRoom).
    #[arg(long, value_name = "NAME")]
    pub event: Option<String>,

    /// Only failed calls (events with an error code).
    #[arg(long)]
    pub errors: bool,

    /// At most this many events (the earliest ones).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,

    /// Items read per request (default: DynamoDB's pages of up to 1 MB); every page is read.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: Option<u32>,

    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub table: TableArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub table: TableArgs,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Count the legacy items without deleting them.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub table: TableArgs,
}

fn parse_account_id(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a 12-digit AWS account id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("a4b-audit").chain(args.iter().copied()))
    }

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_help_with_examples() {
        let mut cli = Cli::command();
        for command in [
            "process",
            "backfill",
            "query",
            "rooms",
            "users",
            "cleanup-legacy",
        ] {
            let help = cli
                .find_subcommand_mut(command)
                .unwrap()
                .render_long_help()
                .to_string();
            assert!(help.contains("Examples:"), "{command}: {help}");
            assert!(help.contains(&format!("a4b-audit {command}")), "{command}");
        }
    }

    /// Each command's long help as `main` renders it when stdout is not a terminal.
    fn piped_help() -> Vec<(String, String, String)> {
        let mut cli = command(false);
        cli.build();
        let mut helps = vec![(
            "a4b-audit".to_owned(),
            cli.get_after_help().unwrap().to_string(),
            cli.render_long_help().to_string(),
        )];
        for sub in cli.get_subcommands_mut() {
            // clap's own `help` command has no examples.
            if let Some(examples) = sub.get_after_help().map(ToString::to_string) {
                helps.push((
                    sub.get_name().to_owned(),
                    examples,
                    sub.render_long_help().to_string(),
                ));
            }
        }
        helps
    }

    #[test]
    fn piped_help_keeps_every_example_line_whole() {
        for (name, examples, help) in piped_help() {
            let help_lines: Vec<&str> = help.lines().collect();
            for line in examples.lines() {
                assert!(
                    help_lines.contains(&line),
                    "{name}: {line:?} cut in\n{help}"
                );
            }
        }
    }

    #[test]
    fn examples_longer_than_100_columns_are_only_a_log_file_key() {
        for (name, examples, _) in piped_help() {
            let example_lines = examples
                .lines()
                .filter(|line| line.starts_with("  a4b-audit ") || line.starts_with("    "));
            for line in example_lines.filter(|line| line.len() > 100) {
                assert!(
                    line.trim_start().starts_with("s3://") && !line.trim().contains(' '),
                    "{name}: {line:?}"
                );
            }
        }
    }

    #[test]
    fn verbose_is_listed_after_each_commands_own_options() {
        for (name, examples, help) in piped_help() {
            let before_examples = help.find(examples.as_str()).unwrap();
            let options: Vec<&str> = help[..before_examples]
                .lines()
                .map(str::trim_start)
                .filter(|line| line.starts_with('-'))
                .collect();
            let verbose = options
                .iter()
                .position(|line| line.starts_with("-v, --verbose"))
                .unwrap();
            let own_options = options.iter().enumerate().filter(|(_, line)| {
                !["-v, ", "-h, ", "-V, "]
                    .iter()
                    .any(|flag| line.starts_with(flag))
            });
            for (position, option) in own_options {
                assert!(
                    position < verbose,
                    "{name}: {option} after -v: {options:#?}"
                );
            }
        }
    }

    #[test]
    fn query_takes_at_most_one_of_room_user_and_resource() {
        let error = parse(&["query", "--room", "r", "--user", "u"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        let error = parse(&["query", "--resource", "d", "--user", "u"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(parse(&["query", "--user", "u"]).is_ok());
        assert!(parse(&["query", "--from", "2023-05-01"]).is_ok());
    }

    #[test]
    fn backfill_refuses_a_location_that_is_not_an_s3_uri() {
        let error = parse(&["backfill", "my-bucket"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("my-bucket"), "{error}");
    }

    #[test]
    fn backfill_reads_its_filters() {
        let Command::Backfill(args) = parse(&[
            "backfill",
            "s3://bucket/prefix",
            "--from",
            "2023-05-01",
            "--to",
            "2023-05-03",
            "--account",
            "123456789012",
            "--account",
            "210987654321",
            "--region",
            "us-east-1",
            "--concurrency",
            "2",
            "--resume",
        ])
        .unwrap()
        .command
        else {
            panic!("backfill");
        };
        assert_eq!(args.location.bucket, "bucket");
        assert_eq!(args.location.prefix, "prefix");
        assert_eq!(args.account, ["123456789012", "210987654321"]);
        assert_eq!(args.region, ["us-east-1"]);
        assert_eq!(args.concurrency, 2);
        assert!(args.resume);
        assert_eq!(
            args.from.unwrap().first_day().to_string(),
            "2023-05-01".to_owned()
        );
    }

    #[test]
    fn backfill_refuses_an_account_that_is_not_twelve_digits() {
        let error = parse(&["backfill", "s3://b", "--account", "1234"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn backfill_concurrency_is_at_least_one() {
        let error = parse(&["backfill", "s3://b", "--concurrency", "0"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn process_needs_an_input() {
        let error = parse(&["process", "--dry-run"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }
}
