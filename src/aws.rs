//! AWS SDK clients, built once per process and shared by every invocation.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the SDK's configuration the standard way: region, credentials and `AWS_ENDPOINT_URL` from the
/// environment, profile files or the Lambda execution role.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client. With an endpoint override (a local emulator) it uses path-style addressing, since
/// virtual-hosted bucket names do not resolve on loopback.
pub fn s3_client(sdk_config: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk_config)
        .force_path_style(sdk_config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A DynamoDB client with the SDK's own retries off: the item writer is the one retry layer for
/// writes, so that backoff and the retry budget are the writer's alone and counted exactly.
pub fn dynamodb_client(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A DynamoDB client with the SDK's standard retries, for reads (the CLI's queries and look-ups),
/// which have no retry layer of their own.
pub fn dynamodb_read_client(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .retry_config(RetryConfig::standard())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
