//! The Lambda deadline: close to it no object is started, and a running object is stopped with a
//! clear error before Lambda would kill the process mid-batch.

use std::time::Duration;

use a4b_audit::invocation::SnsMessage;
use a4b_audit::object::PipelineOptions;
use a4b_audit_devtools::fault_proxy::{Fault, FaultPlan, FaultProxy, FaultRule, Operation};
use a4b_audit_devtools::runtime_api::Outcome;
use a4b_audit_devtools::{LambdaProcess, RuntimeApi};
use tokio::time::Instant;

use crate::harness::{TestEnv, cloudtrail_event, log_file, log_key, pipeline_at};

use super::support::{fast_writer, mixed_records};

const TOO_CLOSE: &str = "not processed: the invocation was too close to its deadline";
const STOPPED: &str = "stopped at the invocation's deadline before it was finished";

async fn env_with_two_logs(test: &str) -> (TestEnv, Vec<String>) {
    let env = TestEnv::new(test).await;
    let keys: Vec<String> = (0..2).map(log_key).collect();
    for (n, key) in keys.iter().enumerate() {
        env.put(key, log_file(&mixed_records(n as u64 * 100, 30)))
            .await;
    }
    (env, keys)
}

fn messages(bucket: &str, keys: &[String]) -> Vec<SnsMessage> {
    let event = cloudtrail_event(bucket, &[keys]);
    event
        .records
        .into_iter()
        .map(|record| SnsMessage {
            message_id: record.sns.message_id,
            text: record.sns.message,
        })
        .collect()
}

#[tokio::test]
async fn no_object_is_started_when_less_than_the_margin_is_left() {
    let (env, keys) = env_with_two_logs("deadline-near").await;
    let proxy = FaultProxy::start(&env.endpoint, FaultPlan::none())
        .await
        .unwrap();
    let options = PipelineOptions {
        writer: fast_writer(3),
        deadline_margin: Duration::from_secs(30),
        ..PipelineOptions::default()
    };
    let pipeline = pipeline_at(&proxy.endpoint(), env.config(), options).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let summary = pipeline
        .run(&messages(&env.bucket, &keys), Some(deadline))
        .await;

    assert_eq!(summary.objects_failed, 2);
    for note in &summary.failed {
        assert!(note.reason.starts_with(TOO_CLOSE), "{note:?}");
    }
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 0);
    assert!(env.items().await.is_empty());
}

#[tokio::test]
async fn a_running_object_is_stopped_before_the_deadline_and_the_next_is_not_started() {
    let (env, keys) = env_with_two_logs("deadline-exceeded").await;
    // Writes hang: without the deadline the object would never finish.
    let plan = FaultPlan {
        seed: 1,
        get_object: FaultRule::none(),
        batch_write: FaultRule::always(Fault::Stall),
    };
    let proxy = FaultProxy::start(&env.endpoint, plan).await.unwrap();
    let options = PipelineOptions {
        writer: fast_writer(3),
        deadline_margin: Duration::from_millis(800),
        ..PipelineOptions::default()
    };
    let pipeline = pipeline_at(&proxy.endpoint(), env.config(), options).await;

    let deadline = Instant::now() + Duration::from_millis(1200);
    let summary = pipeline
        .run(&messages(&env.bucket, &keys), Some(deadline))
        .await;

    assert_eq!(summary.objects_failed, 2, "{summary:?}");
    let object = |n: usize| format!("s3://{}/{}", env.bucket, keys[n]);
    assert_eq!(summary.failed[0].object, object(0));
    assert!(summary.failed[0].reason.starts_with(STOPPED), "{summary:?}");
    assert_eq!(summary.failed[1].object, object(1));
    assert!(
        summary.failed[1].reason.starts_with(TOO_CLOSE),
        "{summary:?}"
    );
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 1);
}

fn lambda_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_a4b-audit-lambda"))
}

async fn spawn_function(runtime_api: &RuntimeApi, endpoint: &str, table: &str) -> LambdaProcess {
    LambdaProcess::spawn(
        &lambda_binary(),
        runtime_api,
        &[
            ("TABLE_NAME", table),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn the_binary_reads_its_deadline_from_the_runtime_api_and_starts_nothing_too_close_to_it() {
    let (env, keys) = env_with_two_logs("deadline-binary-near").await;
    let proxy = FaultProxy::start(&env.endpoint, FaultPlan::none())
        .await
        .unwrap();
    let runtime_api = RuntimeApi::start().await.unwrap();
    let process = spawn_function(&runtime_api, &proxy.endpoint(), &env.table).await;

    // Less than the function's 5-second margin.
    let event = serde_json::to_value(cloudtrail_event(&env.bucket, &[&keys])).unwrap();
    let invocation = runtime_api
        .invoke(event, Duration::from_secs(3))
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));

    let Outcome::Error(error) = &invocation.outcome else {
        panic!("{invocation:?}\n{}", process.output())
    };
    assert_eq!(error.error_type, "ObjectsFailed");
    assert!(
        error.error_message.starts_with("2 of 2 object(s) failed"),
        "{error:?}"
    );
    assert_eq!(
        error.error_message.matches(TOO_CLOSE).count(),
        2,
        "{error:?}"
    );
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 0);
}

#[tokio::test]
async fn the_binary_stops_a_stalled_object_before_its_deadline_with_a_clear_error() {
    let (env, keys) = env_with_two_logs("deadline-binary-stop").await;
    let plan = FaultPlan {
        seed: 1,
        get_object: FaultRule::none(),
        batch_write: FaultRule::always(Fault::Stall),
    };
    let proxy = FaultProxy::start(&env.endpoint, plan).await.unwrap();
    let runtime_api = RuntimeApi::start().await.unwrap();
    let process = spawn_function(&runtime_api, &proxy.endpoint(), &env.table).await;

    // More than the 5-second margin: the first object starts, then stalls.
    let event = serde_json::to_value(cloudtrail_event(&env.bucket, &[&keys])).unwrap();
    let invocation = runtime_api
        .invoke(event, Duration::from_secs(7))
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));

    let Outcome::Error(error) = &invocation.outcome else {
        panic!("{invocation:?}\n{}", process.output())
    };
    assert_eq!(error.error_type, "ObjectsFailed");
    let first = format!("s3://{}/{}: {STOPPED}", env.bucket, keys[0]);
    let second = format!("s3://{}/{}: {TOO_CLOSE}", env.bucket, keys[1]);
    assert!(error.error_message.contains(&first), "{error:?}");
    assert!(error.error_message.contains(&second), "{error:?}");
    // The process answered instead of being killed, and serves on.
    assert!(process.exit_status().is_none());
}
