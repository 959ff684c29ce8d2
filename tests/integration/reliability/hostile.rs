//! Hostile input: property tests that nothing panics and that no item comes from a record of
//! another event source, and adversarial records (deep nesting, huge strings, records past the
//! item size limit, non-string fields, duplicate event ids, room ARNs where they do not count).

use std::collections::BTreeSet;

use a4b_audit::audit::{self, AuditContext};
use a4b_audit::item::{AttrValue, Item, MAX_ITEM_BYTES};
use a4b_audit::notification;
use a4b_audit::reader::{self, ReadError, ReadStats, ReaderOptions, RecordEvent};
use a4b_audit_devtools::a4b_records::{self, ApiModel, Caller, room_arn};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::{TestEnv, cloudtrail_event, gzip, invoke, log_file, log_key, pipeline_at};

use super::support::item_keys;

const A4B: &str = "a4b.amazonaws.com";

fn reader_options() -> ReaderOptions {
    ReaderOptions {
        event_sources: vec![A4B.to_owned()],
        max_decompressed_bytes: 64 << 20,
        max_record_bytes: 16 << 20,
    }
}

fn context() -> AuditContext {
    AuditContext {
        source_object: "s3://trail/AWSLogs/x.json.gz".to_owned(),
        ingested_at: "2026-01-01T00:00:00Z".to_owned(),
        retention: None,
    }
}

/// What reading a file and mapping its records gave.
#[derive(Debug, Default)]
pub(super) struct Mapped {
    pub stats: ReadStats,
    pub items: Vec<Item>,
    /// Matched records the mapping rejected.
    pub mapping_rejected: u64,
    /// Each matched record's `eventSource`, as parsed from its raw text (`None` when serde_json
    /// cannot parse it, as past its nesting limit).
    matched_sources: Vec<Option<Value>>,
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
pub(super) struct Never;

/// The pipeline's per-record path, without AWS: read, map what is handed over.
pub(super) fn read_and_map(bytes: &[u8]) -> Result<Mapped, ReadError<Never>> {
    let mut mapped = Mapped::default();
    let context = context();
    let stats = reader::read_log(bytes, &reader_options(), |event| {
        if let RecordEvent::Matched { raw, .. } = event {
            let source = serde_json::from_slice::<Value>(raw.as_bytes())
                .ok()
                .map(|record| record.get("eventSource").cloned().unwrap_or(Value::Null));
            mapped.matched_sources.push(source);
            match audit::build_checked_items(raw, &context) {
                Ok(mapped_record) => mapped
                    .items
                    .extend(mapped_record.into_items().into_iter().flatten()),
                Err(_) => mapped.mapping_rejected += 1,
            }
        }
        Ok(())
    })?;
    mapped.stats = stats;
    Ok(mapped)
}

/// What must hold whatever the input: only A4B records are handed over, every item is of one,
/// within the size limit, and the counts add up.
pub(super) fn assert_invariants(mapped: &Mapped) {
    for source in mapped.matched_sources.iter().flatten() {
        assert_eq!(
            source,
            &Value::from(A4B),
            "a record of {source} was handed over"
        );
    }
    for item in &mapped.items {
        assert_eq!(item.string("event_source"), Some(A4B), "{item:?}");
        assert!(item.size_bytes() <= MAX_ITEM_BYTES, "{}", item.size_bytes());
        assert!(
            a4b_audit::keys::is_event_partition(&item.key.pk),
            "{:?}",
            item.key
        );
        assert!(
            item.key.pk.len() <= 2048 && item.key.sk.len() <= 1024,
            "{:?}",
            item.key
        );
    }
    let stats = &mapped.stats;
    assert_eq!(stats.records, stats.matched + stats.other + stats.rejected);
    assert_eq!(stats.matched, mapped.matched_sources.len() as u64);
}

/// Arbitrary JSON, records-like at times: objects whose keys include the fields that matter.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
        Just(Value::from(A4B)),
        Just(Value::from("s3.amazonaws.com")),
        Just(Value::from(room_arn(1))),
        Just(Value::from("2026-01-01T00:00:00Z")),
    ];
    let key = prop_oneof![
        Just("eventSource".to_owned()),
        Just("eventID".to_owned()),
        Just("eventTime".to_owned()),
        Just("userIdentity".to_owned()),
        Just("arn".to_owned()),
        Just("requestParameters".to_owned()),
        Just("responseElements".to_owned()),
        Just("resources".to_owned()),
        Just("ARN".to_owned()),
        Just("errorMessage".to_owned()),
        Just("Records".to_owned()),
        any::<String>(),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Record-shaped JSON: an event source that may or may not be A4B (or not a string), the rest
/// arbitrary.
fn arbitrary_record() -> impl Strategy<Value = Value> {
    let source = prop_oneof![
        Just(Value::from(A4B)),
        Just(Value::from("s3.amazonaws.com")),
        Just(Value::from("A4B.AMAZONAWS.COM")),
        Just(Value::from(" a4b.amazonaws.com")),
        Just(json!([A4B])),
        Just(json!({"eventSource": A4B})),
        Just(Value::Null),
    ];
    (source, arbitrary_json(), arbitrary_json(), any::<bool>()).prop_map(
        |(source, request, identity, has_source)| {
            let mut record = json!({
                "eventID": "0b1f3c1e-0000-4000-8000-000000000000",
                "eventTime": "2026-01-01T00:00:00Z",
                "requestParameters": request,
                "userIdentity": identity,
            });
            if has_source {
                record["eventSource"] = source;
            }
            record
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(a4b_audit_devtools::proptest_cases(256)))]

    #[test]
    fn the_message_decoder_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = notification::decode_message(&text);
    }

    #[test]
    fn the_message_decoder_never_panics_on_arbitrary_json(value in arbitrary_json()) {
        let _ = notification::decode_message(&value.to_string());
        let _ = notification::decode_message(&json!({"s3Bucket": "b", "s3ObjectKey": value}).to_string());
    }

    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(mapped) = read_and_map(&bytes) {
            assert_invariants(&mapped);
        }
        if let Ok(mapped) = read_and_map(&gzip(&bytes)) {
            assert_invariants(&mapped);
        }
    }

    #[test]
    fn the_reader_never_panics_on_arbitrary_json(value in arbitrary_json()) {
        for document in [value.clone(), json!({"Records": value})] {
            if let Ok(mapped) = read_and_map(document.to_string().as_bytes()) {
                assert_invariants(&mapped);
            }
        }
    }

    #[test]
    fn no_item_comes_from_a_record_of_another_event_source(records in prop::collection::vec(arbitrary_record(), 0..16)) {
        let file = json!({"Records": records}).to_string();
        let mapped = read_and_map(file.as_bytes()).unwrap();
        assert_invariants(&mapped);
        let a4b_records = records.iter().filter(|record| record.get("eventSource") == Some(&Value::from(A4B))).count();
        prop_assert_eq!(mapped.stats.matched, a4b_records as u64);
    }
}

fn a4b_record(seed: u64) -> Value {
    let model = ApiModel::reference().unwrap();
    a4b_records::record(&model, "UpdateRoom", Caller::AssumedRole, seed).record
}

fn read_one(record: &Value) -> Mapped {
    let mapped = read_and_map(json!({"Records": [record]}).to_string().as_bytes()).unwrap();
    assert_invariants(&mapped);
    mapped
}

#[test]
fn deeply_nested_parameters_do_not_crash_the_function() {
    let record = a4b_record(1).to_string();
    for depth in [200, 10_000, 200_000] {
        // Built as text: a `Value` this deep could not even be dropped safely.
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = record.replacen(
            "\"requestParameters\":",
            &format!("\"requestParameters\":{nested},\"x\":"),
            1,
        );
        let file = format!("{{\"Records\":[{text}]}}");
        // A stack overflow would abort the test binary; valid JSON is accepted at any depth.
        let mapped = read_and_map(file.as_bytes()).unwrap();
        assert_invariants(&mapped);
        assert_eq!((mapped.stats.matched, mapped.mapping_rejected), (1, 0));
        assert_eq!(
            mapped.items.len(),
            1,
            "the user item (the room ARN is now under `x`)"
        );
    }
}

#[test]
fn deeply_nested_records_array_does_not_crash_the_reader() {
    let depth = 200_000;
    let file = format!(
        "{{\"Records\":[{}{}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let mapped = read_and_map(file.as_bytes()).unwrap();
    assert_invariants(&mapped);
    assert_eq!(mapped.stats.rejected, 1, "an array is no record");
}

#[test]
fn a_record_past_the_item_size_limit_is_written_without_its_text() {
    let mut record = a4b_record(2);
    record["requestParameters"]["description"] = Value::from("x".repeat(MAX_ITEM_BYTES + 1));
    let mapped = read_one(&record);
    assert_eq!(mapped.stats.matched, 1);
    assert!(!mapped.items.is_empty());
    for item in &mapped.items {
        assert_eq!(
            item.attributes.get("record_truncated"),
            Some(&AttrValue::Bool(true))
        );
        assert!(!item.attributes.contains_key("record"));
        assert_eq!(
            item.string("event_id"),
            record["eventID"].as_str(),
            "every other attribute stays"
        );
        assert_eq!(
            item.string("source_object"),
            Some("s3://trail/AWSLogs/x.json.gz")
        );
    }
}

#[test]
fn a_record_within_the_limit_keeps_its_exact_text() {
    let record = a4b_record(3);
    let text = record.to_string();
    let mapped = read_and_map(format!("{{\"Records\":[{text}]}}").as_bytes()).unwrap();
    for item in &mapped.items {
        assert_eq!(item.string("record"), Some(text.as_str()));
        assert!(!item.attributes.contains_key("record_truncated"));
    }
}

#[test]
fn huge_strings_in_the_parameters_are_left_to_the_full_record() {
    let huge = "\u{1F600}".repeat(300_000);
    let mut record = a4b_record(4);
    record["requestParameters"] = json!({"name": huge, "roomArn": room_arn(4)});
    let mapped = read_one(&record);
    assert_eq!(mapped.stats.matched, 1);
    assert!(
        mapped
            .items
            .iter()
            .any(|item| item.key.pk == format!("ROOM#{}", room_arn(4)))
    );
    for item in &mapped.items {
        assert_eq!(
            item.attributes.get("record_truncated"),
            Some(&AttrValue::Bool(true))
        );
    }
}

#[tokio::test]
async fn a_record_whose_own_fields_exceed_the_item_limit_is_never_silently_dropped() {
    let env = TestEnv::new("hostile-huge-fields").await;
    let mut record = a4b_record(11);
    let huge = "x".repeat(MAX_ITEM_BYTES + 10);
    record["userAgent"] = Value::from(huge.clone());
    record["errorMessage"] = Value::from(huge);
    let key = log_key(1);
    env.put(&key, log_file(&[record])).await;
    let outcome = invoke(
        &pipeline_at(&env.endpoint, env.config(), Default::default()).await,
        cloudtrail_event(&env.bucket, &[std::slice::from_ref(&key)]),
    )
    .await;
    let items = env.items().await;
    match outcome {
        // Written whole, within the limit...
        Ok(summary) => {
            assert_eq!(summary.counts.items_written, summary.counts.items_built);
            assert_eq!(items.len() as u64, summary.counts.items_written);
            assert!(!items.is_empty());
        }
        // ...or a loud failure that names the object.
        Err(failure) => {
            assert!(
                failure
                    .to_string()
                    .contains(&format!("s3://{}/{key}", env.bucket))
            );
        }
    }
}

#[test]
fn non_string_event_fields_are_rejected_not_guessed() {
    for (field, value) in [
        ("eventID", json!(123)),
        ("eventID", json!(null)),
        ("eventID", json!({"S": "x"})),
        ("eventTime", json!(true)),
        ("eventTime", json!(["2026-01-01T00:00:00Z"])),
    ] {
        let mut record = a4b_record(5);
        record[field] = value.clone();
        let mapped = read_one(&record);
        assert!(mapped.items.is_empty(), "{field}={value}");
        assert_eq!(
            mapped.stats.rejected + mapped.mapping_rejected,
            1,
            "{field}={value}"
        );
    }
}

#[test]
fn a_non_string_user_arn_falls_back_to_the_next_identity_field() {
    let mut record = a4b_record(6);
    record["userIdentity"] = json!({"arn": 42, "principalId": "AIDAEXAMPLE"});
    let mapped = read_one(&record);
    assert_eq!(mapped.items[0].key.pk, "USER#AIDAEXAMPLE");
}

#[test]
fn a_non_string_event_source_is_another_source() {
    for source in [json!([A4B]), json!({"value": A4B}), json!(1)] {
        let mut record = a4b_record(7);
        record["eventSource"] = source.clone();
        let mapped = read_one(&record);
        assert_eq!(mapped.stats.other, 1, "{source}");
        assert!(mapped.items.is_empty());
    }
}

#[test]
fn a_room_arn_in_the_error_message_is_no_room() {
    let mut record = a4b_record(8);
    record["requestParameters"] = Value::Null;
    record["responseElements"] = Value::Null;
    record.as_object_mut().unwrap().remove("resources");
    // Whole string, exactly a room ARN: still not a room touched.
    record["errorMessage"] = Value::from(room_arn(99));
    record["errorCode"] = Value::from("AccessDenied");
    let mapped = read_one(&record);
    assert_eq!(mapped.items.len(), 1, "{:?}", mapped.items);
    assert!(mapped.items[0].key.pk.starts_with("USER#"));
}

#[test]
fn a_record_of_another_service_naming_rooms_gives_no_item() {
    let mut record = a4b_records::other_service_record(3);
    record["requestParameters"] = json!({"roomArn": room_arn(1), "resources": [room_arn(2)]});
    record["resources"] = json!([{ "ARN": room_arn(3) }]);
    let mapped = read_one(&record);
    assert_eq!(mapped.stats.other, 1);
    assert!(mapped.items.is_empty());
}

#[tokio::test]
async fn duplicate_event_ids_in_one_file_leave_one_item_per_key_and_counts_reconcile() {
    let env = TestEnv::new("hostile-duplicates").await;
    let record = a4b_record(9);
    let mut changed = record.clone();
    changed["userAgent"] = Value::from("a later copy");
    let other = a4b_record(10);
    let records = vec![record.clone(), other, record.clone(), changed];
    let key = log_key(1);
    env.put(&key, log_file(&records)).await;

    let summary = invoke(
        &pipeline_at(&env.endpoint, env.config(), Default::default()).await,
        cloudtrail_event(&env.bucket, &[&[key]]),
    )
    .await
    .unwrap();

    assert_eq!(summary.counts.records_read, 4);
    assert_eq!(summary.counts.a4b_records, 4);
    assert_eq!(summary.counts.items_written, summary.counts.items_built);
    let items = env.items().await;
    let keys: BTreeSet<(String, String)> = item_keys(&items).into_iter().collect();
    assert_eq!(keys.len(), items.len(), "one item per key");
    let expected: BTreeSet<(String, String)> = [&record, &records[1]]
        .iter()
        .flat_map(|record| {
            read_one(record)
                .items
                .into_iter()
                .map(|item| (item.key.pk, item.key.sk))
        })
        .collect();
    assert_eq!(keys, expected);
}
