//! What the binary prints when its reader stops early (`| head`) or is not a terminal: it stops
//! quietly with status 141 as `cat` would, never with a panic or a warning; help is never wrapped.

use std::io::{BufRead, BufReader, PipeReader, Read};
use std::process::{Child, Command, Stdio};

use a4b_audit_devtools::samples;

use crate::harness::{TestEnv, events_dir};

use super::{cli_command, run_cli};

/// 128 + SIGPIPE: what a shell reports for `cat` writing into a closed pipe.
const OUTPUT_CLOSED: i32 = 141;

/// The sample logs four times: 580 KB of items, well past a pipe's 64 KiB buffer, so the binary
/// is still writing when its reader goes away.
fn dry_run_of_the_samples() -> Command {
    let logs = events_dir().join(samples::LOGS_DIR);
    let logs = logs.to_str().unwrap();
    cli_command(&["process", "--dry-run", logs, logs, logs, logs])
}

/// Reads the first line the child prints, then closes the pipe as `head -1` does.
fn read_one_line_and_close(reader: PipeReader) -> String {
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line
}

fn stderr_of(child: &mut Child) -> String {
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    stderr
}

#[test]
fn a_closed_stdout_stops_the_dry_run_quietly_with_status_141() {
    let (reader, writer) = std::io::pipe().unwrap();
    let mut command = dry_run_of_the_samples();
    command.stdout(writer).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(command);

    let first = read_one_line_and_close(reader);
    assert!(first.starts_with("{\"pk\":"), "{first}");
    let stderr = stderr_of(&mut child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(OUTPUT_CLOSED), "stderr: {stderr}");
    assert_eq!(stderr, "", "no warning, no summary, no panic");
}

#[test]
fn stdout_and_stderr_closed_together_stop_with_status_141_not_a_panic() {
    // `a4b-audit process --dry-run logs/ 2>&1 | head -1`
    let (reader, writer) = std::io::pipe().unwrap();
    let mut command = dry_run_of_the_samples();
    command.stderr(writer.try_clone().unwrap()).stdout(writer);
    let mut child = command.spawn().unwrap();
    drop(command);

    let first = read_one_line_and_close(reader);
    assert!(first.starts_with("{\"pk\":"), "{first}");
    assert_eq!(child.wait().unwrap().code(), Some(OUTPUT_CLOSED));
}

#[tokio::test]
async fn a_listing_into_a_closed_pipe_stops_with_status_141() {
    let env = TestEnv::new("cli-a_listing_into_a_closed_pipe_stops_with_status_141").await;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = cli_command(&["rooms", "--format", "csv"]);
    env.cli_env(&mut command);
    let output = command.stdout(writer).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        output.status.code(),
        Some(OUTPUT_CLOSED),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("cannot write"), "{stderr}");
}

#[test]
fn help_into_a_pipe_keeps_each_example_whole() {
    let run = run_cli(&["query", "--help"], |_| {});
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    for example in [
        "  a4b-audit query --room arn:aws:a4b:us-east-1:123456789012:room/abc \\",
        "    --from 2023-05-01 --to 2023-05-31",
        "  a4b-audit query --user arn:aws:iam::123456789012:user/alice --format csv > alice.csv",
    ] {
        assert!(lines.contains(&example), "{example:?} not whole in {run:?}");
    }
}
