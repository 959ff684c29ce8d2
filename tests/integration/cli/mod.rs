//! The operator CLI against the local emulator (moto): the binary run as a user runs it, and the
//! ledger and listing adapters it relies on.

mod backfill;
mod dry_run;
mod errors;
mod ledger;
mod listing;
mod on_aws;
mod output;
mod query;
mod seen;

use std::process::{Command, Output};

use a4b_audit_devtools::moto;
use serde_json::{Value, json};

use crate::harness::{ACCOUNT, TestEnv};

impl TestEnv {
    /// Runs `a4b-audit` with `args`, against moto, with the table in `TABLE_NAME`.
    pub fn cli(&self, args: &[&str]) -> CliRun {
        run_cli(args, |command| self.cli_env(command))
    }

    /// The environment that points the binary at moto and this test's table.
    pub fn cli_env(&self, command: &mut Command) {
        command
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", moto::LOCAL_REGION)
            .env("AWS_ACCESS_KEY_ID", moto::DUMMY_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", moto::DUMMY_SECRET_ACCESS_KEY)
            .env("TABLE_NAME", &self.table);
    }
}

/// What one run of the binary did.
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with a clean AWS environment (no profile or credentials of the machine).
pub fn run_cli(args: &[&str], configure: impl FnOnce(&mut Command)) -> CliRun {
    let mut command = cli_command(args);
    configure(&mut command);
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the a4b-audit binary runs");
    CliRun {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// The binary with `args` and a clean AWS environment (no profile or credentials of the machine),
/// in cargo's scratch directory for tests (what it writes by default, the backfill journal, lands
/// there rather than in the source tree).
pub fn cli_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_a4b-audit"));
    command
        .args(args)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", "/nonexistent/a4b-audit-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/a4b-audit-test/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

impl std::fmt::Debug for CliRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

// --- log files ---

pub const OTHER_ACCOUNT: &str = "210987654321";

pub fn room_arn(name: &str) -> String {
    format!("arn:aws:a4b:us-east-1:{ACCOUNT}:room/{name}")
}

pub fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

/// An Alexa for Business record by `user` about `room` (if any).
pub fn a4b_record(event_id: &str, event_time: &str, user: &str, room: Option<&str>) -> Value {
    let request_parameters = match room {
        Some(room) => json!({ "RoomArn": room_arn(room) }),
        None => json!({ "MaxResults": 10 }),
    };
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": user_arn(user),
            "accountId": ACCOUNT,
            "userName": user
        },
        "eventTime": event_time,
        "eventSource": "a4b.amazonaws.com",
        "eventName": if room.is_some() { "UpdateRoom" } else { "SearchRooms" },
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.13.0",
        "requestParameters": request_parameters,
        "responseElements": null,
        "requestID": format!("req-{event_id}"),
        "eventID": event_id,
        "readOnly": room.is_none(),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT
    })
}

/// A record of another service (skipped by the reader).
pub fn other_record(event_id: &str, event_time: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": { "type": "AWSService", "invokedBy": "ec2.amazonaws.com" },
        "eventTime": event_time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "eventID": event_id,
        "recipientAccountId": ACCOUNT
    })
}

/// A string attribute of an item read from the table.
pub fn s<'a>(item: &'a moto::Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
        .unwrap_or_default()
}
