//! What the real binary writes: one EMF metrics line per invocation whose figures reconcile, the
//! reconciliation in its logs, no credentials, and no record text at the default level.

use std::time::Duration;

use a4b_audit_devtools::runtime_api::Outcome;
use a4b_audit_devtools::{LambdaProcess, RuntimeApi};
use serde_json::Value;

use crate::harness::{TestEnv, cloudtrail_event, log_file, log_key};

use super::support::mixed_records;

/// Credentials that cannot turn up in a log by chance.
const ACCESS_KEY_ID: &str = "AKIAQ7LOGCHECK7Q2XYZ";
const SECRET_ACCESS_KEY: &str = "s3cr3t/NeverInALog+0123456789abcdefGHIJKLm";
const FUNCTION_NAME: &str = "a4b-audit-observed";

struct Run {
    output: String,
    response: Value,
    records: Vec<Value>,
}

/// One invocation of the real binary over a log file with A4B records, at `log_level`.
async fn run_binary(test: &str, log_level: &str) -> Run {
    let env = TestEnv::new(test).await;
    let key = log_key(1);
    let records = mixed_records(42, 40);
    env.put(&key, log_file(&records)).await;

    let runtime_api = RuntimeApi::start().await.unwrap();
    let mut process = LambdaProcess::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_a4b-audit-lambda")),
        &runtime_api,
        &[
            ("TABLE_NAME", env.table.as_str()),
            ("AWS_ENDPOINT_URL", env.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME),
            ("AWS_LAMBDA_LOG_LEVEL", log_level),
        ],
    )
    .unwrap();
    let event = serde_json::to_value(cloudtrail_event(&env.bucket, &[&[key]])).unwrap();
    let invocation = runtime_api
        .invoke(event, Duration::from_secs(60))
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));
    let Outcome::Response(response) = invocation.outcome else {
        panic!("{invocation:?}\n{}", process.output())
    };
    // Stop it, so everything it wrote is in the file.
    process.stop().await;
    Run {
        output: process.output(),
        response,
        records,
    }
}

fn emf_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|document| document.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn each_invocation_emits_one_emf_line_with_figures_that_reconcile() {
    let run = run_binary("obs-emf", "info").await;
    let lines = emf_lines(&run.output);
    assert_eq!(lines.len(), 1, "{}", run.output);
    let metrics = &lines[0];
    let directive = &metrics["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "A4bAudit");
    assert_eq!(metrics["FunctionName"], FUNCTION_NAME);

    let figure = |name: &str| metrics[name].as_u64().unwrap();
    assert_eq!(figure("RecordsRead"), run.records.len() as u64);
    assert_eq!(
        figure("RecordsRead"),
        figure("A4bRecords") + figure("OtherRecords") + figure("RecordsRejected")
    );
    assert_eq!(figure("A4bRecords"), 40);
    assert_eq!(figure("ItemsWritten"), figure("ItemsBuilt"));
    assert_eq!(figure("ObjectsProcessed"), 1);
    assert_eq!(figure("ObjectsFailed"), 0);
    assert_eq!(figure("Unreconciled"), 0);
    // The metrics say what the response says.
    assert_eq!(run.response["records_read"], metrics["RecordsRead"]);
    assert_eq!(run.response["items_written"], metrics["ItemsWritten"]);
}

#[tokio::test]
async fn the_invocation_logs_its_reconciliation() {
    let run = run_binary("obs-summary", "info").await;
    let summary = run
        .output
        .lines()
        .find(|line| line.contains("invocation summary"))
        .unwrap_or_else(|| panic!("no summary line in\n{}", run.output));
    for figure in [
        "records_read=",
        "a4b_records=",
        "other_records=",
        "records_rejected=",
        "items_built=",
        "items_written=",
    ] {
        assert!(summary.contains(figure), "{figure} missing from {summary}");
    }
}

#[tokio::test]
async fn logs_at_info_hold_no_record_and_no_credential() {
    let run = run_binary("obs-no-records", "info").await;
    assert!(run.output.contains("invocation summary"), "{}", run.output);
    assert!(!run.output.contains(SECRET_ACCESS_KEY));
    assert!(!run.output.contains(ACCESS_KEY_ID));
    for record in &run.records {
        for field in ["eventID", "requestID"] {
            let value = record[field].as_str().unwrap();
            assert!(
                !run.output.contains(value),
                "{field} {value} of a record is in the logs:\n{}",
                run.output
            );
        }
    }
}

#[tokio::test]
async fn logs_at_debug_hold_no_secret() {
    let run = run_binary("obs-debug", "debug").await;
    assert!(!run.output.contains(SECRET_ACCESS_KEY));
}

/// Lambda's log levels, least severe first.
const LAMBDA_LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// The lines Lambda's application log-level filter at `configured` sends on: a JSON line at its
/// `level` (missing or unknown: INFO) or above. Text lines are not filtered.
fn kept_by_lambda<'o>(output: &'o str, configured: &str) -> Vec<&'o str> {
    let severity = |level: &str| {
        LAMBDA_LEVELS
            .iter()
            .position(|known| known.eq_ignore_ascii_case(level))
    };
    let threshold = severity(configured).unwrap();
    output
        .lines()
        .filter(|line| match serde_json::from_str::<Value>(line) {
            Ok(document) => {
                let level = document["level"].as_str().and_then(severity);
                level.unwrap_or(severity("INFO").unwrap()) >= threshold
            }
            Err(_) => true,
        })
        .collect()
}

#[tokio::test]
async fn the_metrics_line_survives_lambdas_log_level_filter_at_warn() {
    let run = run_binary("obs-emf-warn", "WARN").await;
    let kept = kept_by_lambda(&run.output, "WARN").join("\n");
    let lines = emf_lines(&kept);
    assert_eq!(
        lines.len(),
        1,
        "Lambda's filter drops the metrics:\n{}",
        run.output
    );
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["RecordsRead"], run.response["records_read"]);
}
