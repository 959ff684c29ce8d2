//! Clear errors and the exit codes scripts rely on: 2 for usage and configuration, 1 for the rest.

use super::{ACCOUNT, TestEnv, run_cli};

#[test]
fn a_bad_uri_is_a_usage_error() {
    let run = run_cli(&["backfill", "my-bucket/logs"], |_| {});
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("my-bucket/logs"), "{run:?}");
}

#[test]
fn a_missing_input_file_is_a_usage_error() {
    let run = run_cli(
        &["process", "--dry-run", "/nonexistent/a4b/file.json.gz"],
        |_| {},
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("/nonexistent/a4b/file.json.gz"),
        "{run:?}"
    );
}

#[test]
fn a_missing_table_name_is_a_configuration_error() {
    let run = run_cli(&["rooms"], |command| {
        command.env("AWS_REGION", "us-east-1");
    });
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("TABLE_NAME"), "{run:?}");
}

#[test]
fn a_missing_region_is_a_configuration_error() {
    let run = run_cli(&["rooms", "--table", "t"], |_| {});
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("AWS_REGION"), "{run:?}");
}

#[test]
fn help_of_every_command_shows_examples() {
    for command in ["process", "backfill", "query", "rooms", "users"] {
        let run = run_cli(&[command, "--help"], |_| {});
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(run.stdout.contains("Examples:"), "{command}: {run:?}");
    }
}

#[tokio::test]
async fn a_missing_table_is_named_with_its_region() {
    let env = TestEnv::new().await;
    let run = env.cli(&["rooms", "--table", "no-such-table"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("table no-such-table not found in region us-east-1"),
        "{run:?}"
    );
    let run = env.cli(&[
        "backfill",
        &format!("s3://{}", env.bucket),
        "--table",
        "no-such-table",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("table no-such-table not found in region us-east-1"),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_bucket_without_cloudtrail_files_says_where_it_looked() {
    let env = TestEnv::new().await;
    env.put_object("exports/report.csv", b"a,b".to_vec()).await;
    let run = env.cli(&["backfill", &format!("s3://{}/exports", env.bucket)]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "no CloudTrail log files under s3://{}/exports/",
            env.bucket
        )),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_missing_bucket_is_named() {
    let env = TestEnv::new().await;
    let run = env.cli(&["backfill", "s3://no-such-bucket-a4b-cli"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("bucket no-such-bucket-a4b-cli does not exist"),
        "{run:?}"
    );
}

#[tokio::test]
async fn backfill_refuses_from_after_to() {
    let env = TestEnv::new().await;
    let run = env.cli(&[
        "backfill",
        &format!("s3://{}", env.bucket),
        "--from",
        "2023-05-02",
        "--to",
        "2023-05-01",
        "--account",
        ACCOUNT,
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains("--from 2023-05-02 is after --to 2023-05-01"),
        "{run:?}"
    );
}

#[test]
fn missing_credentials_are_named() {
    let run = run_cli(&["rooms", "--table", "t"], |command| {
        command.env("AWS_REGION", "us-east-1");
    });
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("no AWS credentials found"), "{run:?}");
}
