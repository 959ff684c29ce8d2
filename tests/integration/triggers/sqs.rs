//! SQS: one message per notification, in every body form; the response names exactly the messages
//! with a failed object.

use a4b_audit_devtools::samples::{s3_event_notification, sns_envelope, sqs_event};
use serde_json::json;

use super::TriggerEnv;
use crate::harness::cloudtrail_message;

#[tokio::test]
async fn only_the_messages_with_a_failed_object_are_delivered_again() {
    let test = TriggerEnv::start("sqs").await;
    let (bucket, mix) = (&test.env.bucket, &test.mix);
    let good: Vec<&str> = mix.good.iter().map(String::as_str).collect();
    let event = sqs_event(&[
        (
            "envelope",
            sns_envelope(&cloudtrail_message(bucket, &good[..2])),
        ),
        ("raw", cloudtrail_message(bucket, &[good[2], &mix.digest])),
        (
            "bad-envelope",
            sns_envelope(&cloudtrail_message(bucket, &[&mix.corrupt])),
        ),
        ("validation", "CloudTrail validation message.".to_owned()),
        (
            "s3-event",
            s3_event_notification(bucket, &good[3..]).to_string(),
        ),
        (
            "missing",
            s3_event_notification(bucket, &[&mix.missing]).to_string(),
        ),
        (
            "test-event",
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string(),
        ),
    ]);
    let response = test
        .invoke(event)
        .await
        .expect("SQS is answered with a response");
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "bad-envelope"}, {"itemIdentifier": "missing"}]})
    );
    test.assert_items_are_those_of_the_sns_path().await;
    test.stop().await;
}

#[tokio::test]
async fn a_batch_without_failures_reports_none() {
    let test = TriggerEnv::start("sqs-clean").await;
    let message = cloudtrail_message(&test.env.bucket, &[&test.mix.good[0]]);
    let response = test
        .invoke(sqs_event(&[("only", sns_envelope(&message))]))
        .await
        .unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    test.stop().await;
}
