//! SPEC section 4: an object that cannot be read fails with an error naming it and its cause, the
//! other objects of the invocation are still written, and the invocation fails.

use a4b_audit::handler;
use lambda_runtime::{Context, LambdaEvent};

use crate::harness::{TestEnv, cloudtrail_message, gzip, log_key, sns_event};

const GOOD_FILE: &str = r#"{"Records":[{"eventVersion":"1.05","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012"},"eventTime":"2023-07-10T12:00:00Z","eventSource":"a4b.amazonaws.com","eventName":"DeleteRoom","awsRegion":"us-east-1","requestParameters":{"roomArn":"arn:aws:a4b:us-east-1:123456789012:room/0123456789abcdef0123456789abcdef/fedcba9876543210fedcba9876543210"},"responseElements":null,"eventID":"11111111-2222-4333-8444-555555555555","recipientAccountId":"123456789012"}]}"#;

/// Runs one notification naming the good file and `bad` (key suffix -> body, None for no object);
/// returns the invocation's error message.
async fn fails_naming_the_object(env: &TestEnv, bad_body: Option<Vec<u8>>) -> String {
    let good = log_key(1);
    let bad = log_key(2);
    env.put(&good, gzip(GOOD_FILE.as_bytes())).await;
    if let Some(body) = bad_body {
        env.put(&bad, body).await;
    }
    let message = cloudtrail_message(&env.bucket, &[&bad, &good]);
    let pipeline = env.pipeline(env.config());
    let error = handler::handle(
        &pipeline,
        LambdaEvent::new(sns_event(&[&message]), Context::default()),
    )
    .await
    .expect_err("the invocation fails");
    let text = error.to_string();
    assert!(
        text.contains(&format!("s3://{}/{bad}", env.bucket)),
        "names the object: {text}"
    );
    assert!(
        !text.contains(&good),
        "the good object did not fail: {text}"
    );
    assert_eq!(error.summary.objects_failed, 1);
    assert_eq!(error.summary.objects_processed, 1);
    // The good object, named after the bad one, was still written: one user item, one room item.
    let items = env.event_items().await;
    assert_eq!(items.len(), 2, "{items:?}");
    let diagnostic: lambda_runtime::Diagnostic = error.into();
    assert_eq!(diagnostic.error_type, "ObjectsFailed");
    text
}

#[tokio::test]
async fn missing_object_fails_with_no_such_key() {
    let env = TestEnv::new("missing").await;
    let text = fails_naming_the_object(&env, None).await;
    assert!(text.contains("NoSuchKey"), "{text}");
}

#[tokio::test]
async fn truncated_gzip_fails_the_object() {
    let env = TestEnv::new("truncated").await;
    let whole = gzip(GOOD_FILE.replace("DeleteRoom", "UpdateRoom").as_bytes());
    let cut = whole[..whole.len() - 12].to_vec();
    let text = fails_naming_the_object(&env, Some(cut)).await;
    assert!(text.contains("gzip"), "{text}");
}

#[tokio::test]
async fn object_that_is_not_json_fails() {
    let env = TestEnv::new("not-json").await;
    let text = fails_naming_the_object(&env, Some(gzip(b"<html>not json</html>"))).await;
    assert!(text.contains("JSON"), "{text}");
}

#[tokio::test]
async fn object_without_a_records_array_fails() {
    let env = TestEnv::new("no-records").await;
    let text = fails_naming_the_object(&env, Some(gzip(br#"{"logFiles":[]}"#))).await;
    assert!(text.contains("Records"), "{text}");
}

#[tokio::test]
async fn empty_object_fails() {
    let env = TestEnv::new("empty").await;
    let text = fails_naming_the_object(&env, Some(Vec::new())).await;
    assert!(text.contains("empty"), "{text}");
}

#[tokio::test]
async fn object_over_max_object_bytes_fails() {
    let env = TestEnv::new("too-large").await;
    let good = log_key(1);
    let big = log_key(2);
    env.put(&good, gzip(GOOD_FILE.as_bytes())).await;
    let padding = " ".repeat(4096);
    env.put(
        &big,
        gzip(format!("{{\"Records\":[]{padding}}}").as_bytes()),
    )
    .await;
    let message = cloudtrail_message(&env.bucket, &[&big, &good]);
    let pipeline = env.pipeline(env.config_with(&[("MAX_OBJECT_BYTES", "2048")]));
    let error = handler::handle(
        &pipeline,
        LambdaEvent::new(sns_event(&[&message]), Context::default()),
    )
    .await
    .expect_err("the invocation fails");
    let text = error.to_string();
    assert!(
        text.contains(&big) && text.contains("MAX_OBJECT_BYTES"),
        "{text}"
    );
    assert_eq!(env.event_items().await.len(), 2);
}

#[tokio::test]
async fn bucket_outside_allowed_buckets_is_refused_without_reading() {
    let env = TestEnv::new("allowed").await;
    let key = log_key(1);
    env.put(&key, gzip(GOOD_FILE.as_bytes())).await;
    let message = cloudtrail_message(&env.bucket, &[&key]);
    let pipeline = env.pipeline(env.config_with(&[("ALLOWED_BUCKETS", "some-other-bucket")]));
    let error = handler::handle(
        &pipeline,
        LambdaEvent::new(sns_event(&[&message]), Context::default()),
    )
    .await
    .expect_err("the invocation fails");
    assert!(error.to_string().contains("ALLOWED_BUCKETS"), "{error}");
    assert!(env.event_items().await.is_empty());

    let allowed = env.pipeline(env.config_with(&[("ALLOWED_BUCKETS", &env.bucket)]));
    handler::handle(
        &allowed,
        LambdaEvent::new(sns_event(&[&message]), Context::default()),
    )
    .await
    .expect("the listed bucket is read");
    assert_eq!(env.event_items().await.len(), 2);
}

#[tokio::test]
async fn a_missing_table_fails_the_object_with_a_clear_error() {
    let env = TestEnv::new("no-table").await;
    let key = log_key(1);
    env.put(&key, gzip(GOOD_FILE.as_bytes())).await;
    let message = cloudtrail_message(&env.bucket, &[&key]);
    let config = a4b_audit::config::Config {
        table_name: "no-such-table".into(),
        ..env.config()
    };
    let pipeline = env.pipeline(config);
    let error = handler::handle(
        &pipeline,
        LambdaEvent::new(sns_event(&[&message]), Context::default()),
    )
    .await
    .expect_err("the invocation fails");
    let text = error.to_string();
    assert!(
        text.contains(&key) && text.contains("no-such-table"),
        "{text}"
    );
}
