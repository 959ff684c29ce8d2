//! Each sample notification of `events/` through the real handler path (SNS event -> S3 -> reader ->
//! mapping -> writer -> DynamoDB), against moto, with the exact items checked against the oracle.

use a4b_audit::summary::InvocationSummary;
use a4b_audit::trigger::InvocationFailed;
use aws_lambda_events::event::sns::SnsEvent;

use crate::harness::TestEnv;
use crate::oracle::ComparableItem;

const SINGLE_KEY: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1205Z_Ab12Cd34Ef56Gh78.json.gz";
const MULTI_KEYS: [&str; 2] = [
    "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1215Z_Jk90Lm12No34Pq56.json.gz",
    "AWSLogs/o-a4b1example/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1230Z_Rs78Tu90Vw12Xy34.json.gz",
];
const URL_ENCODED_KEY: &str = "trail logs/team+a4b/AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1145Z_Za56Yb78Xc90Wd12.json.gz";

async fn invoke(env: &TestEnv, event: SnsEvent) -> Result<InvocationSummary, InvocationFailed> {
    crate::harness::invoke(&env.pipeline(env.config()), event).await
}

fn expected(env: &TestEnv, keys: &[&str]) -> Vec<ComparableItem> {
    let mut items: Vec<ComparableItem> = keys
        .iter()
        .flat_map(|key| env.expected_items_of_sample(key))
        .collect();
    items.sort_by_key(|item| (item["pk"].to_string(), item["sk"].to_string()));
    items
}

fn assert_reconciles(summary: &InvocationSummary) {
    let counts = &summary.counts;
    assert_eq!(
        counts.records_read,
        counts.a4b_records + counts.other_records + counts.records_rejected,
        "{summary:?}"
    );
    assert_eq!(counts.items_written, counts.items_built, "{summary:?}");
}

#[tokio::test]
async fn cloudtrail_delivery_with_one_key_writes_exactly_the_items_of_its_file() {
    let env = TestEnv::new("single-key").await;
    env.put_sample_logs().await;
    let summary = invoke(&env, env.sample_event("cloudtrail-delivery-single.json"))
        .await
        .expect("invocation succeeds");

    let expected = expected(&env, &[SINGLE_KEY]);
    assert!(expected.len() > 5, "the sample file holds A4B records");
    assert!(
        expected.iter().any(|item| item["pk"]
            .as_str()
            .is_some_and(|pk| pk.starts_with("ROOM#"))),
        "the sample touches rooms"
    );
    assert_eq!(env.comparable_items().await, expected);
    assert_eq!(summary.objects_processed, 1);
    assert_eq!(summary.counts.items_written, expected.len() as u64);
    assert_reconciles(&summary);
    assert!(
        summary.counts.other_records > 0,
        "other services' records are counted, not written"
    );
}

#[tokio::test]
async fn cloudtrail_delivery_with_several_keys_processes_each_log_file_and_skips_the_digest() {
    let env = TestEnv::new("multi-key").await;
    env.put_sample_logs().await;
    let summary = invoke(&env, env.sample_event("cloudtrail-delivery-multi.json"))
        .await
        .expect("invocation succeeds");

    assert_eq!(env.comparable_items().await, expected(&env, &MULTI_KEYS));
    assert_eq!(summary.objects_processed, 2);
    assert_eq!(summary.objects_skipped, 1);
    assert_eq!(summary.skipped.len(), 1);
    assert!(
        summary.skipped[0].object.contains("CloudTrail-Digest"),
        "{summary:?}"
    );
    assert_reconciles(&summary);
}

#[tokio::test]
async fn s3_event_notification_key_is_url_decoded() {
    let env = TestEnv::new("url-encoded").await;
    env.put_sample_logs().await;
    let summary = invoke(&env, env.sample_event("s3-event-url-encoded.json"))
        .await
        .expect("invocation succeeds");

    let expected = expected(&env, &[URL_ENCODED_KEY]);
    assert!(!expected.is_empty());
    assert_eq!(env.comparable_items().await, expected);
    assert_eq!(summary.objects_processed, 1);
    assert!(
        expected[0]["source_object"]
            .as_str()
            .is_some_and(|uri| uri.contains("/trail logs/team+a4b/")),
        "source_object names the decoded key"
    );
}

#[tokio::test]
async fn cloudtrail_validation_message_and_s3_test_event_succeed_and_write_nothing() {
    let env = TestEnv::new("no-objects").await;
    env.put_sample_logs().await;
    for file in ["cloudtrail-validation.json", "s3-test-event.json"] {
        let summary = invoke(&env, env.sample_event(file))
            .await
            .expect("invocation succeeds");
        assert_eq!(summary.messages, 1, "{file}");
        assert_eq!(summary.messages_without_objects, 1, "{file}");
        assert_eq!(
            summary.objects_processed + summary.objects_failed,
            0,
            "{file}"
        );
    }
    assert!(env.event_items().await.is_empty());
}

#[tokio::test]
async fn the_same_notification_delivered_twice_leaves_the_same_table() {
    let env = TestEnv::new("twice").await;
    env.put_sample_logs().await;
    invoke(&env, env.sample_event("cloudtrail-delivery-multi.json"))
        .await
        .expect("first");
    let after_first = env.comparable_items().await;
    invoke(&env, env.sample_event("cloudtrail-delivery-multi.json"))
        .await
        .expect("second");
    assert_eq!(env.comparable_items().await, after_first);
}

#[tokio::test]
async fn the_response_summary_counts_every_record_of_the_file() {
    let env = TestEnv::new("summary").await;
    env.put_sample_logs().await;
    let summary = invoke(&env, env.sample_event("cloudtrail-delivery-single.json"))
        .await
        .expect("invocation succeeds");

    let json = crate::harness::gunzip(
        &std::fs::read(crate::harness::events_dir().join("logs").join(SINGLE_KEY)).unwrap(),
    );
    let file: serde_json::Value = serde_json::from_str(&json).unwrap();
    let records = file["Records"].as_array().unwrap();
    let a4b = records
        .iter()
        .filter(|record| record["eventSource"] == "a4b.amazonaws.com")
        .count() as u64;
    assert_eq!(summary.counts.records_read, records.len() as u64);
    assert_eq!(summary.counts.a4b_records, a4b);
    assert_eq!(summary.counts.other_records, records.len() as u64 - a4b);
    assert_eq!(summary.counts.records_rejected, 0);
    // Each write request carries at most 25 items (events, then each room's and user's seen
    // item) and none is wasted when nothing is throttled.
    let seen_items = env
        .items()
        .await
        .iter()
        .filter(|item| item["pk"].as_s().is_ok_and(|pk| pk.starts_with("SEEN#")))
        .count() as u64;
    assert!(seen_items > 0);
    assert_eq!(
        summary.counts.write_requests,
        (summary.counts.items_written + seen_items).div_ceil(25)
    );
}
