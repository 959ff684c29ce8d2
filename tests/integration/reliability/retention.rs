//! Retention from the event time (SPEC sections 3 and 5), against moto: `expires_at` is the event
//! time plus `RETENTION_DAYS`, and a record already past it is counted as expired, not written.

use serde_json::{Value, json};

use super::support::mixed_records;
use crate::harness::{TestEnv, cloudtrail_event, gzip, invoke, log_key, pipeline_at};

#[tokio::test]
async fn expires_at_is_the_event_time_plus_the_retention_and_expired_records_are_not_written() {
    let env = TestEnv::new("retention").await;
    let key = log_key(3);
    let mut records = mixed_records(11, 2);
    // 2030-01-15T12:00:00Z is 1894708800 seconds after the epoch; 30 days are 2,592,000 seconds.
    records[0]["eventTime"] = Value::from("2030-01-15T12:00:00Z");
    records[0]["eventID"] = Value::from("kept-2030");
    // Thirty days after 2019-03-01 passed long ago.
    records[1]["eventTime"] = Value::from("2019-03-01T00:00:00Z");
    records[1]["eventID"] = Value::from("expired-2019");
    env.put(
        &key,
        gzip(json!({ "Records": records }).to_string().as_bytes()),
    )
    .await;

    let summary = invoke(
        &pipeline_at(
            &env.endpoint,
            env.config_with(&[("RETENTION_DAYS", "30")]),
            Default::default(),
        )
        .await,
        cloudtrail_event(&env.bucket, &[std::slice::from_ref(&key)]),
    )
    .await
    .expect("an expired record does not fail its file");

    assert_eq!(summary.counts.a4b_records, 2, "{summary:?}");
    assert_eq!(summary.counts.records_expired, 1, "{summary:?}");
    let items = env.event_items().await;
    assert!(!items.is_empty());
    assert_eq!(summary.counts.items_written, items.len() as u64);
    for item in &items {
        assert_eq!(item["event_id"].as_s().unwrap(), "kept-2030");
        assert_eq!(item["expires_at"].as_n().unwrap(), "1897300800");
    }
}
