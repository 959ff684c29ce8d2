//! `backfill --on-aws` end to end: the CLI against the local Distributed Map runner (devtools),
//! which reads the manifest from moto, invokes the real Lambda binary in batches and writes
//! ResultWriter's results; the table it leaves is the table a local backfill leaves.

use std::path::Path;
use std::sync::Arc;

use a4b_audit_devtools::distributed_map::{MapRunner, MapRunnerConfig};
use a4b_audit_devtools::lambda_process::LambdaProcess;
use a4b_audit_devtools::moto::{self, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, LOCAL_REGION};
use a4b_audit_devtools::runtime_api::RuntimeApi;
use serde_json::Value;

use crate::harness::TestEnv;

use super::backfill::{backfill_args, tree, uri};

/// The backfill state machine's definition as template.yaml deploys it, substitutions applied.
fn deployed_definition(function_arn: &str, results_bucket: &str) -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    // The definition holds no CloudFormation tags; the rest of the template is not read.
    let start = text
        .find("      Definition:\n")
        .expect("BackfillStateMachine has a Definition");
    let block: String = text[start..]
        .lines()
        .skip(1)
        .take_while(|line| line.starts_with("        ") || line.trim().is_empty())
        .map(|line| format!("{}\n", line.get(8..).unwrap_or_default()))
        .collect();
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&block).unwrap();
    let json = serde_json::to_string(&yaml).unwrap();
    serde_json::from_str(
        &json
            .replace("${FunctionArn}", function_arn)
            .replace("${ResultsBucket}", results_bucket),
    )
    .unwrap()
}

struct Engine {
    runner: MapRunner,
    results_bucket: String,
    _processes: Vec<LambdaProcess>,
}

/// The runner with `functions` processes of the real binary writing to `env`'s table.
async fn engine(env: &TestEnv, functions: usize) -> Engine {
    let results_bucket = format!("{}-results", env.bucket);
    moto::create_bucket(&env.s3, &results_bucket).await.unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_a4b-audit-lambda"));
    let lambda_env = [
        ("TABLE_NAME", env.table.as_str()),
        ("AWS_ENDPOINT_URL", env.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        ("AWS_REGION", LOCAL_REGION),
    ];
    let mut apis = Vec::new();
    let mut processes = Vec::new();
    for _ in 0..functions {
        let api = RuntimeApi::start().await.unwrap();
        processes.push(LambdaProcess::spawn(binary, &api, &lambda_env).unwrap());
        apis.push(Arc::new(api));
    }
    let definition = deployed_definition(
        "arn:aws:lambda:us-east-1:123456789012:function:a4b-audit",
        &results_bucket,
    );
    let runner = MapRunner::start(MapRunnerConfig {
        name: "a4b-backfill".to_owned(),
        definition,
        s3: env.s3.clone(),
        functions: apis,
        retry_wait_scale: 0.01,
    })
    .await
    .unwrap();
    Engine {
        runner,
        results_bucket,
        _processes: processes,
    }
}

/// Runs the CLI off the async runtime, so the runner keeps serving it.
async fn on_aws(env: &TestEnv, engine: &Engine, extra: &[&str]) -> super::CliRun {
    let mut args = backfill_args(env);
    args.extend(
        [
            "--on-aws",
            "--state-machine",
            &engine.runner.state_machine_arn(),
        ]
        .iter()
        .chain(extra)
        .map(|arg| (*arg).to_owned()),
    );
    let endpoint = env.endpoint.clone();
    let sfn = engine.runner.endpoint();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        super::run_cli(&args, |command| {
            command
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("AWS_ENDPOINT_URL_SFN", &sfn)
                .env("AWS_REGION", moto::LOCAL_REGION)
                .env("AWS_ACCESS_KEY_ID", moto::DUMMY_ACCESS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", moto::DUMMY_SECRET_ACCESS_KEY);
        })
    })
    .await
    .unwrap()
}

/// Every audit event item of `env`'s table, every attribute but `ingested_at`, the bucket's name
/// written the same for both tables.
async fn event_items(env: &TestEnv) -> Vec<String> {
    let bucket = format!("s3://{}/", env.bucket);
    let mut items: Vec<String> = env
        .comparable_items()
        .await
        .iter()
        .map(|item| {
            serde_json::to_string(item)
                .unwrap()
                .replace(&bucket, "s3://BUCKET/")
        })
        .collect();
    items.sort();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_aws_leaves_the_table_a_local_backfill_leaves_and_lists_the_bad_file() {
    let local = TestEnv::new("cli-on-aws-local").await;
    tree(&local).await;
    let local_run = local.cli(
        &backfill_args(&local)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(local_run.code, Some(1), "{local_run:?}");

    let remote = TestEnv::new("cli-on-aws-remote").await;
    let files = tree(&remote).await;
    let engine = engine(&remote, 2).await;
    let run = on_aws(
        &remote,
        &engine,
        &["--batch-size", "2", "--max-concurrency", "2"],
    )
    .await;
    assert_eq!(run.code, Some(1), "the bad file fails the run: {run:?}");
    assert!(
        run.stderr.contains(&uri(&remote, &files.bad_file)),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("files: 3 processed, 0 skipped, 1 failed"),
        "{run:?}"
    );

    let expected = event_items(&local).await;
    assert!(expected.len() > 5, "{expected:?}");
    assert_eq!(event_items(&remote).await, expected);
    let listed = remote
        .s3
        .list_objects_v2()
        .bucket(&engine.results_bucket)
        .prefix("results/")
        .send()
        .await
        .unwrap();
    let results: Vec<&str> = listed
        .contents()
        .iter()
        .filter_map(|object| object.key())
        .collect();
    assert!(
        results.iter().any(|key| key.ends_with("/manifest.json")),
        "ResultWriter's layout: {results:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_aws_run_again_processes_only_what_earlier_runs_did_not_finish() {
    let env = TestEnv::new("cli-on-aws-again").await;
    let files = tree(&env).await;
    let engine = engine(&env, 1).await;
    let first = on_aws(&env, &engine, &["--batch-size", "3"]).await;
    assert_eq!(first.code, Some(1), "{first:?}");
    let again = on_aws(&env, &engine, &["--batch-size", "3"]).await;
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(
        again
            .stderr
            .contains("1 log file(s) to process on AWS, 3 already done by earlier runs"),
        "{again:?}"
    );
    assert!(
        again.stderr.contains(&uri(&env, &files.bad_file)),
        "{again:?}"
    );
}
