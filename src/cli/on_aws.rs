//! `a4b-audit backfill --on-aws`: the files found as a local backfill finds them, handed to the
//! stack's Step Functions Distributed Map (template.yaml, `BackfillStateMachine`) as a CSV manifest,
//! followed to its end from the map run's counts, then every failed file listed from the results
//! the map wrote (ResultWriter). A new run leaves out the files earlier runs' results list as done.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

use super::args::BackfillArgs;
use super::discover::{BucketListing, DiscoveredObject, S3Listing};
use super::error::{AwsTarget, CliError, aws_error};
use super::output::write_csv_line;
use super::progress::MapProgress;
use super::{Outcome, clients};

/// How often the run's counts are read while it runs.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// Where the CLI writes manifests in the backfill bucket (the state machine's role reads only there).
const MANIFESTS_PREFIX: &str = "manifests/";

/// The state machine and what its definition says about where results go.
struct Engine {
    arn: String,
    results_bucket: String,
    results_prefix: String,
}

/// One file of a run's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileResult {
    pub key: String,
    pub outcome: FileOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Processed,
    Skipped(String),
    Failed(String),
}

/// Runs the backfill of `files` (in `bucket`) on AWS.
pub async fn run(
    args: &BackfillArgs,
    sdk_config: &aws_config::SdkConfig,
    files: Vec<DiscoveredObject>,
) -> Result<Outcome, CliError> {
    let region = clients::region_name(sdk_config);
    let sfn = aws_sdk_sfn::Client::new(sdk_config);
    let s3 = crate::aws::s3_client(sdk_config);
    let log_bucket = args.location.bucket.clone();
    let engine = find_engine(&sfn, args, &region).await?;

    let done = earlier_results(&s3, &engine, &log_bucket, &region).await?;
    let before = files.len();
    let files: Vec<DiscoveredObject> = files
        .into_iter()
        .filter(|file| !done.contains(&file.key))
        .collect();
    let already_done = before - files.len();
    if files.is_empty() {
        note!("nothing to do: all {before} log file(s) are done by earlier runs");
        return Ok(Outcome::Success);
    }
    note!(
        "{} log file(s) to process on AWS{}",
        files.len(),
        if already_done > 0 {
            format!(", {already_done} already done by earlier runs")
        } else {
            String::new()
        }
    );

    let run_name = format!(
        "backfill-{}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
    );
    let manifest_key = format!("{MANIFESTS_PREFIX}{run_name}.csv");
    s3.put_object()
        .bucket(&engine.results_bucket)
        .key(&manifest_key)
        .content_type("text/csv")
        .body(manifest(&files).into())
        .send()
        .await
        .map_err(|error| {
            let resource = format!("bucket {}", engine.results_bucket);
            aws_error(
                "write the manifest (s3:PutObject)",
                &AwsTarget {
                    resource: &resource,
                    region: &region,
                },
                &error,
            )
        })?;
    let input = json!({
        "manifest_bucket": engine.results_bucket,
        "manifest_key": manifest_key,
        "log_bucket": log_bucket,
        "batch_size": args.batch_size,
        "max_concurrency": args.max_concurrency,
    });
    let started = sfn
        .start_execution()
        .state_machine_arn(&engine.arn)
        .name(&run_name)
        .input(input.to_string())
        .send()
        .await
        .map_err(|error| {
            sfn_error(
                "start the execution (states:StartExecution)",
                &engine.arn,
                &region,
                &error,
            )
        })?;
    let execution_arn = started.execution_arn().to_owned();
    note!("started {execution_arn}");

    let (status, map_run_arn, error) =
        follow(&sfn, &execution_arn, files.len() as u64, &region).await?;
    let results = match &map_run_arn {
        Some(map_run_arn) => read_results(&s3, &engine, map_run_arn, &region).await?,
        None => Vec::new(),
    };
    let reported: BTreeSet<&str> = results.iter().map(|result| result.key.as_str()).collect();
    let not_reported: Vec<&DiscoveredObject> = files
        .iter()
        .filter(|file| !reported.contains(file.key.as_str()))
        .collect();

    let failed = write_report(
        &mut std::io::stderr().lock(),
        &log_bucket,
        &results,
        &not_reported,
        already_done,
    )?;
    if status != ExecutionStatus::Succeeded {
        note!(
            "the execution ended {}: {}",
            status.as_str(),
            error.unwrap_or_default()
        );
    }
    Ok(if failed > 0 || status != ExecutionStatus::Succeeded {
        Outcome::FilesFailed
    } else {
        Outcome::Success
    })
}

/// The manifest: CSV with the header `Key`, one raw key a row (quoted when it needs it).
pub fn manifest(files: &[DiscoveredObject]) -> Vec<u8> {
    let mut text = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_csv_line(&mut text, &["Key"]);
    for file in files {
        let _ = write_csv_line(&mut text, &[&file.key]);
    }
    text
}

async fn find_engine(
    sfn: &aws_sdk_sfn::Client,
    args: &BackfillArgs,
    region: &str,
) -> Result<Engine, CliError> {
    let arn = match (&args.state_machine, &args.stack) {
        (Some(arn), _) => arn.clone(),
        (None, Some(stack)) => {
            let wanted = format!("{stack}-backfill");
            let mut pages = sfn.list_state_machines().into_paginator().send();
            let mut found = None;
            while let Some(page) = pages.next().await {
                let page = page.map_err(|error| {
                    sfn_error(
                        "list the state machines (states:ListStateMachines)",
                        "Step Functions",
                        region,
                        &error,
                    )
                })?;
                if let Some(machine) = page
                    .state_machines()
                    .iter()
                    .find(|machine| machine.name() == wanted)
                {
                    found = Some(machine.state_machine_arn().to_owned());
                    break;
                }
            }
            found.ok_or_else(|| {
                CliError::Usage(format!(
                    "stack {stack} has no state machine {wanted} in region {region}: deploy it with BackfillEngine=true, or give --state-machine ARN"
                ))
            })?
        }
        (None, None) => {
            return Err(CliError::Usage(
                "--on-aws needs --stack NAME (the stack deployed with BackfillEngine=true) or --state-machine ARN".to_owned(),
            ));
        }
    };
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .map_err(|error| {
            sfn_error(
                "read the state machine (states:DescribeStateMachine)",
                &arn,
                region,
                &error,
            )
        })?;
    let definition: Value = serde_json::from_str(described.definition()).unwrap_or(Value::Null);
    let (results_bucket, results_prefix) = result_location(&definition).ok_or_else(|| {
        CliError::Usage(format!(
            "{arn} is not a4b-audit's backfill state machine: its first state is no Distributed Map with a ResultWriter bucket"
        ))
    })?;
    Ok(Engine {
        arn,
        results_bucket,
        results_prefix,
    })
}

/// The ResultWriter's bucket and prefix in a backfill definition.
pub fn result_location(definition: &Value) -> Option<(String, String)> {
    let start = definition["StartAt"].as_str()?;
    let parameters = &definition["States"][start]["ResultWriter"]["Parameters"];
    let bucket = parameters["Bucket"].as_str()?.to_owned();
    let prefix = parameters["Prefix"].as_str().unwrap_or_default();
    let prefix = match prefix.trim_end_matches('/') {
        "" => String::new(),
        prefix => format!("{prefix}/"),
    };
    Some((bucket, prefix))
}

fn sfn_error<E>(
    action: &str,
    resource: &str,
    region: &str,
    error: &aws_sdk_sfn::error::SdkError<E, aws_sdk_sfn::config::http::HttpResponse>,
) -> CliError
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let resource = format!("state machine {resource}");
    aws_error(
        action,
        &AwsTarget {
            resource: &resource,
            region,
        },
        error,
    )
}

/// Follows the execution until it ends; returns its status, its map run and its error.
async fn follow(
    sfn: &aws_sdk_sfn::Client,
    execution_arn: &str,
    files: u64,
    region: &str,
) -> Result<(ExecutionStatus, Option<String>, Option<String>), CliError> {
    let mut progress = MapProgress::new(files);
    let started = Instant::now();
    let mut map_run_arn: Option<String> = None;
    loop {
        let execution = sfn
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(|error| {
                sfn_error(
                    "follow the execution (states:DescribeExecution)",
                    execution_arn,
                    region,
                    &error,
                )
            })?;
        if map_run_arn.is_none() {
            let runs = sfn
                .list_map_runs()
                .execution_arn(execution_arn)
                .send()
                .await
                .map_err(|error| {
                    sfn_error(
                        "find the map run (states:ListMapRuns)",
                        execution_arn,
                        region,
                        &error,
                    )
                })?;
            map_run_arn = runs
                .map_runs()
                .first()
                .map(|run| run.map_run_arn().to_owned());
        }
        if let Some(map_run_arn) = &map_run_arn {
            let run = sfn
                .describe_map_run()
                .map_run_arn(map_run_arn)
                .send()
                .await
                .map_err(|error| {
                    sfn_error(
                        "read the map run's counts (states:DescribeMapRun)",
                        map_run_arn,
                        region,
                        &error,
                    )
                })?;
            if let Some(counts) = run.item_counts() {
                progress.update(
                    u64::try_from(counts.succeeded()).unwrap_or(0),
                    u64::try_from(counts.failed() + counts.timed_out() + counts.aborted())
                        .unwrap_or(0),
                    started.elapsed(),
                );
            }
        }
        let status = execution.status().clone();
        if status != ExecutionStatus::Running && status != ExecutionStatus::PendingRedrive {
            progress.finish();
            let error = execution
                .error()
                .map(|error| format!("{error}: {}", execution.cause().unwrap_or_default()));
            return Ok((status, map_run_arn, error));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The folder ResultWriter writes a map run's results to: `<prefix><map run id>/`, the id being
/// the last part of the map run's ARN.
fn results_folder(engine: &Engine, map_run_arn: &str) -> String {
    let id = map_run_arn.rsplit(':').next().unwrap_or_default();
    format!("{}{id}/", engine.results_prefix)
}

async fn get_text(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    region: &str,
) -> Result<String, CliError> {
    let resource = format!("s3://{bucket}/{key}");
    let target = AwsTarget {
        resource: &resource,
        region,
    };
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|error| aws_error("read the run's results (s3:GetObject)", &target, &error))?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|error| CliError::Aws(format!("cannot read {resource}: {error}")))?
        .into_bytes();
    String::from_utf8(bytes.to_vec())
        .map_err(|_| CliError::Aws(format!("{resource} is not UTF-8 text")))
}

/// Every file of a map run's results, read from its `manifest.json`.
async fn read_results(
    s3: &aws_sdk_s3::Client,
    engine: &Engine,
    map_run_arn: &str,
    region: &str,
) -> Result<Vec<FileResult>, CliError> {
    let manifest_key = format!("{}manifest.json", results_folder(engine, map_run_arn));
    results_of_manifest(s3, &engine.results_bucket, &manifest_key, None, region).await
}

/// The files of the result files a `manifest.json` names; with `log_bucket`, only batches of that
/// bucket.
async fn results_of_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    manifest_key: &str,
    log_bucket: Option<&str>,
    region: &str,
) -> Result<Vec<FileResult>, CliError> {
    let manifest: Value = serde_json::from_str(&get_text(s3, bucket, manifest_key, region).await?)
        .map_err(|error| {
            CliError::Aws(format!("s3://{bucket}/{manifest_key} is not JSON: {error}"))
        })?;
    let mut results = Vec::new();
    for kind in ["SUCCEEDED", "FAILED", "PENDING"] {
        let listed = manifest["ResultFiles"][kind]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for file in listed {
            let Some(key) = file["Key"].as_str() else {
                continue;
            };
            let entries: Value = serde_json::from_str(&get_text(s3, bucket, key, region).await?)
                .map_err(|error| {
                    CliError::Aws(format!("s3://{bucket}/{key} is not JSON: {error}"))
                })?;
            for entry in entries.as_array().cloned().unwrap_or_default() {
                results.extend(files_of_child(&entry, log_bucket));
            }
        }
    }
    Ok(results)
}

/// The files of one child execution's result entry: from the function's response when the child
/// succeeded, else every file of its batch with the child's error.
pub fn files_of_child(entry: &Value, log_bucket: Option<&str>) -> Vec<FileResult> {
    let input: Value = entry["Input"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    if log_bucket.is_some_and(|bucket| input["BatchInput"]["Bucket"] != bucket) {
        return Vec::new();
    }
    let keys: Vec<String> = input["Items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["Key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let reason = match entry["Status"].as_str() {
        Some("SUCCEEDED") => None,
        Some("PENDING") => Some("not started: the map run stopped before this batch".to_owned()),
        _ => Some(format!(
            "the batch failed after its retries: {}: {}",
            entry["Error"].as_str().unwrap_or("unknown error"),
            entry["Cause"].as_str().unwrap_or_default()
        )),
    };
    if let Some(reason) = reason {
        return keys
            .into_iter()
            .map(|key| FileResult {
                key,
                outcome: FileOutcome::Failed(reason.clone()),
            })
            .collect();
    }
    let output: Value = entry["Output"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    let files = output["files"].as_array().cloned().unwrap_or_default();
    let mut results: Vec<FileResult> = files
        .iter()
        .filter_map(|file| {
            let key = file["key"].as_str()?.to_owned();
            let reason = file["reason"].as_str().unwrap_or_default().to_owned();
            let outcome = match file["outcome"].as_str() {
                Some("processed") => FileOutcome::Processed,
                Some("skipped") => FileOutcome::Skipped(reason),
                _ => FileOutcome::Failed(reason),
            };
            Some(FileResult { key, outcome })
        })
        .collect();
    // A file of the batch the response does not name is not done.
    let named: BTreeSet<String> = results.iter().map(|result| result.key.clone()).collect();
    for key in keys.into_iter().filter(|key| !named.contains(key)) {
        results.push(FileResult {
            key,
            outcome: FileOutcome::Failed(
                "the function's response does not name this file".to_owned(),
            ),
        });
    }
    results
}

/// The keys of `log_bucket` that earlier runs' results list as processed or skipped.
async fn earlier_results(
    s3: &aws_sdk_s3::Client,
    engine: &Engine,
    log_bucket: &str,
    region: &str,
) -> Result<BTreeSet<String>, CliError> {
    let listing = S3Listing {
        client: s3.clone(),
        bucket: engine.results_bucket.clone(),
        region: region.to_owned(),
    };
    let manifests: Vec<String> = listing
        .objects(&engine.results_prefix)
        .await?
        .into_iter()
        .map(|object| object.key)
        .filter(|key| key.ends_with("/manifest.json"))
        .collect();
    let mut done = BTreeSet::new();
    for manifest_key in manifests {
        let results = results_of_manifest(
            s3,
            &engine.results_bucket,
            &manifest_key,
            Some(log_bucket),
            region,
        )
        .await?;
        done.extend(
            results
                .into_iter()
                .filter(|result| !matches!(result.outcome, FileOutcome::Failed(_)))
                .map(|result| result.key),
        );
    }
    Ok(done)
}

/// Prints the counts and every failed file with its reason; returns the number failed.
pub fn write_report(
    out: &mut impl std::io::Write,
    log_bucket: &str,
    results: &[FileResult],
    not_reported: &[&DiscoveredObject],
    already_done: usize,
) -> std::io::Result<usize> {
    let processed = results
        .iter()
        .filter(|r| r.outcome == FileOutcome::Processed)
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, FileOutcome::Skipped(_)))
        .count();
    let failed: Vec<(&str, &str)> = results
        .iter()
        .filter_map(|result| match &result.outcome {
            FileOutcome::Failed(reason) => Some((result.key.as_str(), reason.as_str())),
            _ => None,
        })
        .chain(
            not_reported
                .iter()
                .map(|file| (file.key.as_str(), "the run's results do not name this file")),
        )
        .collect();
    write!(
        out,
        "files: {processed} processed, {skipped} skipped, {} failed",
        failed.len()
    )?;
    if already_done > 0 {
        write!(out, ", {already_done} already done by earlier runs")?;
    }
    writeln!(out)?;
    if !failed.is_empty() {
        writeln!(out, "failed files:")?;
        for (key, reason) in &failed {
            writeln!(out, "  s3://{log_bucket}/{key}: {reason}")?;
        }
    }
    Ok(failed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str) -> DiscoveredObject {
        DiscoveredObject {
            key: key.to_owned(),
            size: 1,
            storage_class: None,
        }
    }

    #[test]
    fn the_manifest_has_a_key_header_and_raw_keys_quoted_only_when_needed() {
        let text = manifest(&[file("AWSLogs/a b+c%20.json.gz"), file("odd,\"key\"")]);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "Key\nAWSLogs/a b+c%20.json.gz\n\"odd,\"\"key\"\"\"\n"
        );
    }

    #[test]
    fn the_results_location_is_read_from_the_definition() {
        let definition = json!({
            "StartAt": "Map",
            "States": { "Map": { "ResultWriter": { "Parameters": { "Bucket": "b", "Prefix": "results" } } } }
        });
        assert_eq!(
            result_location(&definition),
            Some(("b".to_owned(), "results/".to_owned()))
        );
        assert_eq!(
            result_location(&json!({ "StartAt": "X", "States": {} })),
            None
        );
    }

    fn child(status: &str, keys: &[&str], output: Option<Value>) -> Value {
        let items: Vec<Value> = keys.iter().map(|key| json!({ "Key": key })).collect();
        let mut entry = json!({
            "Status": status,
            "Input": json!({ "Items": items, "BatchInput": { "Bucket": "logs" } }).to_string(),
        });
        match output {
            Some(output) => entry["Output"] = json!(output.to_string()),
            None => {
                entry["Error"] = json!("ObjectsFailed");
                entry["Cause"] = json!("throttled");
            }
        }
        entry
    }

    #[test]
    fn a_succeeded_batch_gives_each_file_its_outcome_and_a_file_left_unnamed_is_not_done() {
        let output = json!({ "files": [
            { "key": "a", "outcome": "processed" },
            { "key": "b", "outcome": "skipped", "reason": "digest" },
            { "key": "c", "outcome": "failed", "reason": "invalid JSON" },
        ] });
        let results = files_of_child(
            &child("SUCCEEDED", &["a", "b", "c", "d"], Some(output)),
            None,
        );
        let outcomes: Vec<(&str, &FileOutcome)> = results
            .iter()
            .map(|r| (r.key.as_str(), &r.outcome))
            .collect();
        assert_eq!(outcomes[0], ("a", &FileOutcome::Processed));
        assert_eq!(outcomes[1], ("b", &FileOutcome::Skipped("digest".into())));
        assert_eq!(
            outcomes[2],
            ("c", &FileOutcome::Failed("invalid JSON".into()))
        );
        assert!(matches!(outcomes[3], ("d", FileOutcome::Failed(_))));
    }

    #[test]
    fn every_file_of_a_failed_batch_fails_with_the_batch_error() {
        let results = files_of_child(&child("FAILED", &["a", "b"], None), None);
        assert_eq!(results.len(), 2);
        for result in results {
            let FileOutcome::Failed(reason) = result.outcome else {
                panic!("{result:?}");
            };
            assert!(reason.contains("ObjectsFailed: throttled"), "{reason}");
        }
    }

    #[test]
    fn results_of_another_log_bucket_are_left_out() {
        assert!(files_of_child(&child("FAILED", &["a"], None), Some("other")).is_empty());
        assert_eq!(
            files_of_child(&child("FAILED", &["a"], None), Some("logs")).len(),
            1
        );
    }

    #[test]
    fn the_report_counts_outcomes_and_lists_every_failed_file_with_its_reason() {
        let results = vec![
            FileResult {
                key: "a".into(),
                outcome: FileOutcome::Processed,
            },
            FileResult {
                key: "b".into(),
                outcome: FileOutcome::Failed("bad gzip".into()),
            },
        ];
        let missing = file("c");
        let mut out = Vec::new();
        let failed = write_report(&mut out, "logs", &results, &[&missing], 3).unwrap();
        assert_eq!(failed, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "files: 1 processed, 0 skipped, 2 failed, 3 already done by earlier runs\n\
             failed files:\n  s3://logs/b: bad gzip\n  s3://logs/c: the run's results do not name this file\n"
        );
    }
}
