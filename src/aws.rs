//! AWS SDK clients, built once per process and shared by every invocation.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long an S3 body may go without a byte before the read counts as failed (and the pipeline
/// reads the object again). Not a whole-request timeout: a 50 MB log file may take a while.
const S3_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one DynamoDB request attempt may take; a stalled attempt then fails as transient and is
/// retried. DynamoDB answers a BatchWriteItem or a Query page in milliseconds, and even a 16 MB
/// request is sent in well under a second from Lambda, so 10 s is only ever reached by a stalled
/// connection, and a write stuck on one costs a small part of the function's timeout.
const DYNAMODB_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The same with an endpoint override (a local emulator, the tests' moto): an emulator on a loaded
/// machine may take seconds for what DynamoDB does in milliseconds.
const EMULATOR_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Loads the SDK's configuration the standard way: region, credentials and `AWS_ENDPOINT_URL` from the
/// environment, profile files or the Lambda execution role.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client, with the SDK's standard retries for the CLI's listings; `GetObject` through
/// [`crate::source::S3Source`] turns them off, as the pipeline retries reads itself. With an
/// endpoint override (a local emulator) it uses path-style addressing, since virtual-hosted bucket
/// names do not resolve on loopback.
pub fn s3_client(sdk_config: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk_config)
        .force_path_style(sdk_config.endpoint_url().is_some())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(S3_READ_TIMEOUT)
                .build(),
        )
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A DynamoDB client with the SDK's own retries off, for writes: the retry loops of this crate
/// (the item writer's, and the legacy clean-up's in the ledger, both on [`crate::retry`]) are then
/// the only ones, so that backoff and the retry budget are theirs alone and counted exactly.
pub fn dynamodb_client(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    dynamodb(sdk_config, RetryConfig::disabled())
}

/// A DynamoDB client with the SDK's standard retries, for reads (the CLI's queries and look-ups),
/// which have no retry loop of their own.
pub fn dynamodb_read_client(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    dynamodb(sdk_config, RetryConfig::standard())
}

fn dynamodb(sdk_config: &SdkConfig, retry_config: RetryConfig) -> aws_sdk_dynamodb::Client {
    let attempt_timeout = match sdk_config.endpoint_url() {
        Some(_) => EMULATOR_ATTEMPT_TIMEOUT,
        None => DYNAMODB_ATTEMPT_TIMEOUT,
    };
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .retry_config(retry_config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
