//! The invocation and object layers over the in-memory adapters ([`crate::memory`]): fast, and
//! without moto. Each test is one rule of what becomes of the objects a trigger names.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::*;
use crate::audit::{self, AuditContext};
use crate::config::Config;
use crate::item::ItemKey;
use crate::ledger::NoLedger;
use crate::memory::{MemorySink, MemorySource, MemoryTable};
use crate::object::{ObjectError, PipelineOptions};
use crate::source::SourceError;

const BUCKET: &str = "trail-bucket";
const ROOM: &str = "arn:aws:a4b:us-east-1:123456789012:room/kitchen";

fn log_key(unique: &str) -> String {
    format!(
        "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1205Z_{unique}.json.gz"
    )
}

fn object(key: &str) -> ObjectRef {
    ObjectRef {
        bucket: BUCKET.to_owned(),
        key: key.to_owned(),
    }
}

fn a4b_record(id: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "eventSource": "a4b.amazonaws.com",
        "eventName": "UpdateRoom",
        "eventID": id,
        "eventTime": "2023-07-10T12:01:00Z",
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
        "requestParameters": {"roomArn": ROOM},
    })
}

fn log_file(records: &[Value]) -> Vec<u8> {
    json!({ "Records": records }).to_string().into_bytes()
}

/// A CloudTrail notification naming `keys` in the bucket.
fn notification(id: &str, keys: &[&str]) -> Delivery {
    let message = json!({"s3Bucket": BUCKET, "s3ObjectKey": keys}).to_string();
    Delivery::decoded(id.to_owned(), &message)
}

fn config() -> Config {
    Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "audit".to_owned())).unwrap()
}

fn pipeline(source: &MemorySource, sink: MemorySink) -> Pipeline<MemorySource, MemorySink> {
    Pipeline::new(source.clone(), sink, config(), PipelineOptions::default())
}

fn event_keys(table: &MemoryTable) -> BTreeSet<ItemKey> {
    table.snapshot().into_keys().collect()
}

#[tokio::test]
async fn each_a4b_record_of_a_named_object_becomes_its_items() {
    let key = log_key("Ab12Cd34Ef56Gh78");
    let records = [
        a4b_record("e1"),
        json!({"eventSource": "s3.amazonaws.com", "eventID": "x"}),
    ];
    let source = MemorySource::default();
    source.put(object(&key), log_file(&records));
    let table = MemoryTable::default();

    let invocation = pipeline(&source, MemorySink::new(table.clone()))
        .invoke(vec![notification("m1", &[&key])], None)
        .await;

    let context = AuditContext {
        source_object: object(&key).to_string(),
        ingested_at: "2023-07-10T12:05:00Z".to_owned(),
        retention: None,
    };
    let record = records[0].to_string();
    let expected: BTreeSet<ItemKey> = audit::build_items(record.as_bytes(), &context)
        .unwrap()
        .into_items()
        .unwrap()
        .map(|item| item.key)
        .collect();
    assert!(
        expected.len() >= 2,
        "a user item and a room item: {expected:?}"
    );
    assert_eq!(event_keys(&table), expected);
    let summary = &invocation.summary;
    assert_eq!(summary.objects_processed, 1);
    assert_eq!(summary.counts.a4b_records, 1);
    assert_eq!(summary.counts.other_records, 1);
    assert_eq!(summary.counts.items_written, expected.len() as u64);
}

#[tokio::test]
async fn a_failed_write_fails_its_object_naming_it_and_the_cause() {
    let refused = log_key("Refused000000001");
    let source = MemorySource::default();
    source.put(object(&refused), log_file(&[a4b_record("e2")]));
    // The record's room item is refused, as DynamoDB refuses an invalid item.
    let sink = MemorySink::default().refusing("ROOM#");
    let invocation = pipeline(&source, sink)
        .invoke(vec![notification("m1", &[&refused])], None)
        .await;

    let [report] = &invocation.objects[..] else {
        panic!("one object: {:?}", invocation.objects);
    };
    let ObjectOutcome::Failed(failure) = &report.outcome else {
        panic!(
            "the refused write must fail its object: {:?}",
            report.outcome
        );
    };
    assert!(
        matches!(failure.error, ObjectError::Write(_)),
        "{}",
        failure.error
    );
    assert!(!failure.error.is_transient());
    let noted = &invocation.summary.failed;
    assert_eq!(noted.len(), 1);
    assert_eq!(noted[0].object, object(&refused).to_string());
    assert!(
        noted[0].reason.contains("refused the item pk=ROOM#"),
        "{}",
        noted[0].reason
    );
}

#[tokio::test]
async fn objects_named_once_the_deadline_is_near_are_not_started_and_fail_transiently() {
    let key = log_key("Late000000000001");
    let source = MemorySource::default();
    source.put(object(&key), log_file(&[a4b_record("e1")]));
    let table = MemoryTable::default();
    // Less time is left than the margin that a new object needs.
    let deadline = Instant::now() + PipelineOptions::default().deadline_margin / 2;

    let invocation = pipeline(&source, MemorySink::new(table.clone()))
        .invoke(vec![notification("m1", &[&key])], Some(deadline))
        .await;

    let ObjectOutcome::Failed(failure) = &invocation.objects[0].outcome else {
        panic!("{:?}", invocation.objects[0].outcome);
    };
    assert!(
        matches!(failure.error, ObjectError::DeadlineNear),
        "{}",
        failure.error
    );
    assert!(failure.error.is_transient());
    assert!(source.opened().is_empty(), "the object was opened");
    assert!(table.snapshot().is_empty());
}

#[tokio::test]
async fn an_object_that_is_no_log_file_is_skipped_unopened() {
    let digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/10/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T131500Z.json.gz";
    let source = MemorySource::default();
    let invocation = pipeline(&source, MemorySink::default())
        .invoke(vec![notification("m1", &[digest])], None)
        .await;
    assert!(matches!(
        invocation.objects[0].outcome,
        ObjectOutcome::Skipped("digest file")
    ));
    assert_eq!(invocation.summary.objects_skipped, 1);
    assert!(source.opened().is_empty());
}

#[tokio::test]
async fn an_object_named_twice_is_processed_once_and_reported_to_both_deliveries() {
    let key = log_key("Twice00000000001");
    let source = MemorySource::default();
    source.put(object(&key), log_file(&[a4b_record("e1")]));
    let invocation = pipeline(&source, MemorySink::default())
        .invoke(
            vec![notification("m1", &[&key]), notification("m2", &[&key])],
            None,
        )
        .await;
    assert_eq!(source.opened().len(), 1);
    assert_eq!(invocation.summary.objects_processed, 1);
    assert_eq!(invocation.named, vec![vec![0], vec![0]]);
    assert_eq!(invocation.objects_of(1).count(), 1);
}

#[tokio::test]
async fn a_body_cut_short_by_the_connection_is_read_again_and_written_once() {
    let key = log_key("Reset00000000001");
    let source = MemorySource::default();
    let bytes = log_file(&[a4b_record("e1"), a4b_record("e2")]);
    let cut_at = bytes.len() / 2;
    source.put_broken(object(&key), bytes, cut_at, 1);
    let table = MemoryTable::default();

    let invocation = pipeline(&source, MemorySink::new(table.clone()))
        .invoke(vec![notification("m1", &[&key])], None)
        .await;

    assert_eq!(source.opened().len(), 2);
    assert_eq!(invocation.summary.objects_processed, 1);
    assert_eq!(invocation.summary.counts.a4b_records, 2);
    assert_eq!(
        invocation.summary.counts.items_written,
        table.snapshot().len() as u64
    );
}

#[tokio::test]
async fn every_record_read_is_accounted_for_and_the_summary_reconciles() {
    let key = log_key("Mixed00000000001");
    let source = MemorySource::default();
    let records = [
        a4b_record("e1"),
        json!({"eventSource": "ec2.amazonaws.com", "eventID": "x"}),
        // An A4B record without its event time cannot be keyed: rejected, and counted.
        json!({"eventSource": "a4b.amazonaws.com", "eventID": "e3"}),
    ];
    source.put(object(&key), log_file(&records));
    let invocation = pipeline(&source, MemorySink::default())
        .invoke(vec![notification("m1", &[&key])], None)
        .await;
    let summary = &invocation.summary;
    let counts = &summary.counts;
    assert_eq!(counts.records_read, 3);
    assert_eq!(
        counts.records_read,
        counts.a4b_records + counts.other_records + counts.records_rejected
    );
    assert_eq!(counts.records_rejected, 1, "{counts:?}");
    assert_eq!(counts.items_written, counts.items_built);
    assert_eq!(summary.objects_unreconciled, 0);
    assert!(!crate::metrics::is_unreconciled(summary));
}

#[tokio::test]
async fn an_eventbridge_key_answering_no_such_key_is_tried_form_decoded() {
    let stored = format!("team+a4b/{}", log_key("Plus000000000001"));
    let sent = stored.replace('+', "%2B");
    let source = MemorySource::default();
    source.put(object(&stored), log_file(&[a4b_record("e1")]));
    let delivery = Delivery {
        id: "event".to_owned(),
        message_bytes: 0,
        notification: Notification::one(Ok(object(&sent))),
        keys: KeyForm::MaybeFormEncoded,
    };
    let invocation = pipeline(&source, MemorySink::default())
        .invoke(vec![delivery], None)
        .await;
    assert_eq!(invocation.objects[0].object, object(&stored));
    assert!(matches!(
        invocation.objects[0].outcome,
        ObjectOutcome::Processed(_)
    ));
    assert_eq!(source.opened().len(), 2);
}

#[tokio::test]
async fn a_missing_object_fails_permanently_as_not_found() {
    let key = log_key("Missing000000001");
    let invocation = Pipeline::new(
        MemorySource::default(),
        MemorySink::default(),
        config(),
        PipelineOptions {
            deadline_margin: Duration::from_secs(1),
            ..PipelineOptions::default()
        },
    )
    .with_ledger(NoLedger)
    .invoke(vec![notification("m1", &[&key])], None)
    .await;
    let ObjectOutcome::Failed(failure) = &invocation.objects[0].outcome else {
        panic!("{:?}", invocation.objects[0].outcome);
    };
    assert!(matches!(
        failure.error,
        ObjectError::Source(SourceError::NotFound)
    ));
    assert!(!failure.error.is_transient());
}
