//! Exact retry sequences of reading an object, which the proxy cannot time: the S3 client the
//! Lambda builds (`a4b_audit::aws::s3_client`) over a mocked HTTP layer (aws-smithy-mocks), alone
//! (one `GetObject` per open: the SDK's retries are off for it) and under the pipeline, which is
//! the one retry layer of an object's reads, with the writer's budget.

use a4b_audit::config::Config;
use a4b_audit::item::Item;
use a4b_audit::notification::ObjectRef;
use a4b_audit::object::{ObjectError, ObjectOutcome, Pipeline, PipelineOptions};
use a4b_audit::sink::{ItemSink, SinkError};
use a4b_audit::source::{ObjectSource, S3Source, SourceError};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use tokio::io::AsyncReadExt;

use super::support::fast_writer;

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

/// A table that takes every item (the log file below has none).
struct AnyTable;

impl ItemSink for AnyTable {
    async fn put_batch(&self, _: &[Item]) -> Result<Vec<Item>, SinkError> {
        Ok(Vec::new())
    }
}

/// The pipeline over `source`, with a budget of `max_attempts` and a backoff of milliseconds.
fn pipeline(source: S3Source, max_attempts: u32) -> Pipeline<S3Source, AnyTable> {
    let config =
        Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "audit".to_owned())).unwrap();
    let options = PipelineOptions {
        writer: fast_writer(max_attempts),
        classify_keys: false,
        ..PipelineOptions::default()
    };
    Pipeline::new(source, AnyTable, config, options)
}

async fn process(source: S3Source, max_attempts: u32) -> ObjectOutcome {
    pipeline(source, max_attempts)
        .process_object(&object(), None)
        .await
}

/// A log file of one record of another service: read, nothing to write.
fn log_file() -> GetObjectOutput {
    GetObjectOutput::builder()
        .body(ByteStream::from_static(
            br#"{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}"#,
        ))
        .build()
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
    let mut body = source.open(&object()).await?;
    let mut bytes = Vec::new();
    body.reader.read_to_end(&mut bytes).await.unwrap();
    Ok(bytes)
}

#[tokio::test]
async fn opening_an_object_is_one_get_object_the_sdk_does_not_retry() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, None)
        .output(log_bytes)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let error = read_all(&source).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(responses.num_calls(), 1);
}

#[tokio::test]
async fn two_server_errors_then_an_answer_read_the_object_on_the_third_attempt() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, None)
        .http_status(500, None)
        .output(log_file)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let outcome = process(source, 10).await;
    assert!(
        matches!(&outcome, ObjectOutcome::Processed(counts) if counts.records_read == 1),
        "{outcome:?}"
    );
    assert_eq!(responses.num_calls(), 3);
}

#[tokio::test]
async fn slow_down_is_retried_like_a_server_error() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, Some(SLOW_DOWN.to_owned()))
        .output(log_file)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert!(matches!(
        process(source, 10).await,
        ObjectOutcome::Processed(_)
    ));
    assert_eq!(responses.num_calls(), 2);
}

#[tokio::test]
async fn nine_server_errors_then_an_answer_read_the_object_on_the_tenth_attempt() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, Some(SLOW_DOWN.to_owned()))
        .times(9)
        .output(log_file)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert!(matches!(
        process(source, 10).await,
        ObjectOutcome::Processed(_)
    ));
    assert_eq!(responses.num_calls(), 10);
}

#[tokio::test]
async fn server_errors_fail_the_object_after_exactly_the_writers_attempts() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, None)
        .times(4)
        .output(log_file)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let ObjectOutcome::Failed(failure) = process(source, 4).await else {
        panic!("four errors spend a budget of four attempts");
    };
    assert!(
        matches!(&failure.error, ObjectError::OpenFailed { attempts: 4, .. }),
        "{:?}",
        failure.error
    );
    assert!(failure.error.is_transient());
    let message = failure.error.to_string();
    assert!(
        message.starts_with(
            "cannot open the object after 4 attempt(s): GetObject failed with no error code (HTTP 503)"
        ),
        "{message}"
    );
    // The answer after the fourth error was never asked for.
    assert_eq!(responses.num_calls(), 4);
}

#[tokio::test]
async fn a_missing_object_is_not_retried() {
    let responses = mock!(Client::get_object)
        .sequence()
        .error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()))
        .output(log_file)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    assert!(process(source, 10).await.is_not_found());
    assert_eq!(responses.num_calls(), 1);
}

#[tokio::test]
async fn access_denied_is_not_retried() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(403, Some(ACCESS_DENIED.to_owned()))
        .output(log_file)
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let outcome = process(source, 10).await;
    assert!(
        matches!(
            &outcome,
            ObjectOutcome::Failed(failure)
                if matches!(failure.error, ObjectError::Source(SourceError::AccessDenied))
        ),
        "{outcome:?}"
    );
    assert_eq!(responses.num_calls(), 1);
}

#[tokio::test]
async fn a_get_object_failure_names_the_http_status_and_the_s3_error_code() {
    let responses = mock!(Client::get_object)
        .sequence()
        .http_status(503, Some(SLOW_DOWN.to_owned()))
        .build();
    let source = S3Source::new(lambda_s3_client(&[&responses]).await);
    let error = read_all(&source).await.unwrap_err().to_string();
    assert!(
        error.starts_with("GetObject failed with SlowDown (HTTP 503)"),
        "{error}"
    );
    assert!(!error.contains("unhandled"), "{error}");
}
