//! Exact retry sequences of opening an object, which the proxy cannot time: the S3 client the
//! Lambda builds (`a4b_audit::aws::s3_client`) over a mocked HTTP layer (aws-smithy-mocks), in
//! paused time so the SDK's backoff takes no real time.

use a4b_audit::notification::ObjectRef;
use a4b_audit::source::ObjectLocation;
use a4b_audit::source::{ObjectSource, S3Source, SourceError};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use tokio::io::AsyncReadExt;

/// The function's S3 client, answered by `rules` in order.
async fn lambda_s3_client(rules: &[&Rule]) -> Client {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .http_client(create_mock_http_client())
        .load()
        .await;
    let interceptor = rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::Sequential),
        |interceptor, rule| interceptor.with_rule(rule),
    );
    // The production client's settings (retries included), plus the mock.
    let config = a4b_audit::aws::s3_client(&sdk_config)
        .config()
        .to_builder()
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

const SLOW_DOWN: &str =
    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
const ACCESS_DENIED: &str =
    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

fn object() -> ObjectRef {
    ObjectRef {
        bucket: "trail".to_owned(),
        key: "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/x.json.gz".to_owned(),
    }
}

fn log_bytes() -> GetObjectOutput {
    GetObjectOutput::builder()
        .body(ByteStream::from_static(b"log bytes"))
        .build()
}

async fn read_all(source: &S3Source) -> Result<Vec<u8>, SourceError> {
    let mut body = source.open(&ObjectLocation::S3(object())).await?;
    let mut bytes = Vec::new();
    body.reader.read_to_end(&mut bytes).await.unwrap();
    Ok(bytes)
}

#[tokio::test(start_paused = true)]
async fn two_server_errors_then_an_answer_opens_the_object_on_the_third_attempt() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, None)
        .http_status(500, None)
        .output(log_bytes)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert_eq!(read_all(&source).await.unwrap(), b"log bytes");
    assert_eq!(responses.num_calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn slow_down_is_retried_like_a_server_error() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, Some(SLOW_DOWN.to_owned()))
        .output(log_bytes)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert_eq!(read_all(&source).await.unwrap(), b"log bytes");
    assert_eq!(responses.num_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn three_server_errors_fail_the_open_after_exactly_three_attempts() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, None)
        .times(3)
        .output(log_bytes)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let error = read_all(&source).await.unwrap_err();
    // The message names the HTTP status and S3's error code (none here), not "unhandled".
    assert!(
        matches!(&error, SourceError::Other(message)
            if message == "GetObject failed with no error code (HTTP 503)"),
        "{error:?}"
    );
    // The answer after the third error was never asked for.
    assert_eq!(responses.num_calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_missing_object_is_not_retried() {
    let responses = mock!(Client::get_object)
        .sequence()
        .error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()))
        .output(log_bytes)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert!(matches!(
        read_all(&source).await,
        Err(SourceError::NotFound)
    ));
    assert_eq!(responses.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn access_denied_is_not_retried() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(403, Some(ACCESS_DENIED.to_owned()))
        .output(log_bytes)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert!(matches!(
        read_all(&source).await,
        Err(SourceError::AccessDenied)
    ));
    assert_eq!(responses.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_get_object_failure_after_the_retries_names_the_http_status_and_the_s3_error_code() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, Some(SLOW_DOWN.to_owned()))
        .times(3)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let error = read_all(&source).await.unwrap_err().to_string();
    assert!(
        error.starts_with("GetObject failed with SlowDown (HTTP 503)"),
        "{error}"
    );
    assert!(!error.contains("unhandled"), "{error}");
}
