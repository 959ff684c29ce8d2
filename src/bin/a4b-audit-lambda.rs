//! The Lambda function: a trigger's payload (SNS, SQS, S3, EventBridge, S3 Batch Operations, a Step
//! Functions map batch) naming CloudTrail log files -> A4B audit items in DynamoDB.

use a4b_audit::config::Config;
use a4b_audit::ledger::SeenItems;
use a4b_audit::object::{Pipeline, PipelineOptions};
use a4b_audit::sink::DynamoDbSink;
use a4b_audit::source::S3Source;
use a4b_audit::{aws, handler, runtime, telemetry};
use lambda_runtime::{LambdaEvent, service_fn};

fn main() -> Result<(), lambda_runtime::Error> {
    // One thread for every task below two vCPUs' worth of memory (see `runtime`).
    runtime::for_cores(a4b_audit::reader::usable_cores())?.block_on(run())
}

async fn run() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    // A bad setting fails the start-up (Lambda reports an init error naming the variable).
    let config =
        Config::from_env().inspect_err(|error| tracing::error!(%error, "invalid configuration"))?;
    let sdk_config = aws::load_sdk_config().await;
    let dynamodb = aws::dynamodb_client(&sdk_config);
    let sink = DynamoDbSink::new(dynamodb, config.table_name.clone());
    let source = S3Source::new(aws::s3_client(&sdk_config));
    // The room/user seen items go in each file's own batches; nothing else is recorded.
    let pipeline =
        Pipeline::new(source, sink, config, PipelineOptions::default()).with_ledger(SeenItems);
    let pipeline = &pipeline;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        handler::handle(pipeline, event)
    }))
    .await
}
