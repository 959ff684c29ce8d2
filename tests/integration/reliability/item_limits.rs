//! DynamoDB's limits against moto (SPEC sections 3 and 4): one item the table refuses never costs
//! its neighbours, and the object fails naming its record.
//!
//! moto is not DynamoDB at the limits: it refuses items from about 405,000 bytes on, below
//! DynamoDB's 409,600, and it takes a BatchWriteItem of any number of requests, where DynamoDB
//! takes 25. An item between the two sizes, which DynamoDB takes, cannot be written here, and a
//! batch of 26 would pass: the real numbers are held by unit tests,
//! `audit::tests::a_record_whose_item_takes_up_to_409_600_bytes_is_kept_whole_and_one_byte_more_is_not`,
//! `audit::tests::no_item_takes_more_than_409_600_bytes_attribute_names_counted`,
//! `item::tests::the_item_size_limit_is_409_600_bytes` and
//! `writer::tests::a_batch_write_item_request_holds_at_most_25_put_requests`.

use a4b_audit::audit::{self, AuditContext};
use serde_json::{Value, json};

use super::support::{fast_writer, mixed_records};
use crate::harness::{TestEnv, cloudtrail_event, gzip, invoke, log_key, pipeline_at};
use crate::oracle;

/// An A4B record whose user item takes about `item_bytes` as DynamoDB counts them: within
/// DynamoDB's 409,600, so the mapping keeps `record`, but past the ~405,000 bytes moto takes.
fn record_with_an_item_of(item_bytes: usize, source_object: &str) -> Value {
    let record_of = |filler: usize| {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/big"},
            "eventTime": "2024-03-01T10:00:00Z",
            "eventSource": "a4b.amazonaws.com",
            "eventName": "UpdateRoom",
            "eventID": "big-record-0001",
            "requestParameters": {"description": "x".repeat(filler)},
        })
    };
    let context = AuditContext {
        source_object: source_object.to_owned(),
        ingested_at: "2026-01-01T00:00:00.000000000Z".to_owned(),
        retention: None,
    };
    let size_of = |record: &Value| {
        let items: Vec<_> = audit::build_items(record.to_string().as_bytes(), &context)
            .unwrap()
            .into_items()
            .unwrap()
            .collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].attributes.contains_key("record"));
        items[0].size_bytes()
    };
    let base = size_of(&record_of(0));
    record_of(item_bytes - base)
}

#[tokio::test]
async fn an_item_dynamodb_refuses_costs_only_its_record_and_the_object_fails_naming_it() {
    let env = TestEnv::new("refused-item").await;
    let key = log_key(1);
    let source_object = format!("s3://{}/{key}", env.bucket);
    let mut good = mixed_records(31, 40);
    let big = record_with_an_item_of(407_500, &source_object);
    // In the middle, so that its batch holds good items too.
    let mut records = good.split_off(20);
    records.insert(0, big);
    let mut file = good.clone();
    file.extend(records.clone());
    good.extend(records.into_iter().skip(1));
    env.put(
        &key,
        gzip(json!({ "Records": file }).to_string().as_bytes()),
    )
    .await;

    let failure = invoke(
        &pipeline_at(&env.endpoint, env.config(), fast_writer_options()).await,
        cloudtrail_event(&env.bucket, &[std::slice::from_ref(&key)]),
    )
    .await
    .expect_err("the object with a refused item fails");

    let summary = &failure.summary;
    assert_eq!(summary.objects_failed, 1, "{summary:?}");
    let reason = &summary.failed[0].reason;
    assert!(reason.contains("eventID big-record-0001"), "{reason}");
    assert!(reason.contains("ValidationException"), "{reason}");
    // Every other record's items are in the table, exactly; the refused one is not.
    let expected = oracle::expected_items(&json!({ "Records": good }).to_string(), &source_object);
    assert_eq!(env.comparable_items().await, expected);
    assert_eq!(summary.counts.items_written, expected.len() as u64);
}

fn fast_writer_options() -> a4b_audit::object::PipelineOptions {
    a4b_audit::object::PipelineOptions {
        writer: fast_writer(3),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_record_whose_keys_cannot_fit_is_rejected_and_the_rest_of_the_file_is_written() {
    let env = TestEnv::new("key-limits").await;
    let key = log_key(2);
    let source_object = format!("s3://{}/{key}", env.bucket);
    let good = mixed_records(47, 12);
    let mut long_event_id = good[0].clone();
    // 1,100 characters: the sort key takes 1,121 bytes, past DynamoDB's 1,024.
    long_event_id["eventID"] = Value::from("e".repeat(1100));
    let mut long_user = good[1].clone();
    long_user["eventID"] = Value::from("long-user");
    long_user["userIdentity"] =
        json!({"arn": format!("arn:aws:iam::123456789012:user/{}", "u".repeat(2100))});
    let mut file = vec![long_event_id];
    file.extend(good.iter().cloned());
    file.push(long_user);
    env.put(
        &key,
        gzip(json!({ "Records": file }).to_string().as_bytes()),
    )
    .await;

    let summary = invoke(
        &pipeline_at(&env.endpoint, env.config(), fast_writer_options()).await,
        cloudtrail_event(&env.bucket, &[std::slice::from_ref(&key)]),
    )
    .await
    .expect("a rejected record does not fail its file");

    assert_eq!(summary.counts.records_rejected, 2, "{summary:?}");
    let expected = oracle::expected_items(&json!({ "Records": good }).to_string(), &source_object);
    assert_eq!(env.comparable_items().await, expected);
}
