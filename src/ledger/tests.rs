//! The pipeline with the seen items over in-memory adapters: what `rooms`/`users` list always
//! matches the event partitions, and what each file costs in requests.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::*;
use crate::config::Config;
use crate::memory::MemorySource;
use crate::notification::ObjectRef;
use crate::object::{ObjectOutcome, Pipeline, PipelineOptions};
use crate::summary::ObjectCounts;

fn room(name: &str) -> String {
    format!("arn:aws:a4b:us-east-1:123456789012:room/{name}")
}

fn user(name: &str) -> String {
    format!("arn:aws:iam::123456789012:user/{name}")
}

fn a4b_record(id: &str, time: &str, who: &str, rooms: &[&str]) -> Value {
    let rooms: Vec<String> = rooms.iter().map(|name| room(name)).collect();
    json!({
        "eventVersion": "1.08",
        "eventSource": "a4b.amazonaws.com",
        "eventName": "UpdateRoom",
        "eventID": id,
        "eventTime": time,
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "arn": user(who)},
        "requestParameters": {"roomArns": rooms},
    })
}

fn other_record(id: &str) -> Value {
    json!({"eventSource": "s3.amazonaws.com", "eventID": id, "eventTime": "2023-05-01T00:00:00Z"})
}

fn log_file(records: &[Value]) -> Vec<u8> {
    json!({ "Records": records }).to_string().into_bytes()
}

/// One log file under two names: in the trail's bucket and a copy elsewhere (as the CLI names a
/// downloaded copy by its path).
struct TwoNames {
    s3: ObjectRef,
    local: ObjectRef,
}

fn two_names(name: &str) -> TwoNames {
    TwoNames {
        s3: ObjectRef {
            bucket: "trail".into(),
            key: format!("AWSLogs/{name}.json"),
        },
        local: ObjectRef {
            bucket: "copy".into(),
            key: format!("logs/{name}.json"),
        },
    }
}

fn pipeline<L: FileLedger>(
    source: MemorySource,
    table: &MemoryTable,
    ledger: L,
) -> Pipeline<MemorySource, MemoryTable, L> {
    let config = Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "audit".to_owned()))
        .expect("config");
    let options = PipelineOptions {
        classify_keys: false,
        ..PipelineOptions::default()
    };
    Pipeline::new(source, table.clone(), config, options).with_ledger(ledger)
}

/// Two files with one event in common (CloudTrail delivered it twice), each under two names.
fn sample() -> (MemorySource, [TwoNames; 2]) {
    let first = log_file(&[
        a4b_record("e1", "2023-05-01T10:00:00Z", "alice", &["r1"]),
        other_record("x1"),
        a4b_record("e2", "2023-05-01T11:00:00Z", "bob", &["r1", "r2"]),
        a4b_record("e3", "2023-05-01T12:00:00Z", "alice", &[]),
    ]);
    let second = log_file(&[
        a4b_record("e3", "2023-05-01T12:00:00Z", "alice", &[]),
        a4b_record("e4", "2023-05-02T09:00:00Z", "carol", &["r3"]),
        a4b_record("e5", "2023-04-30T08:00:00Z", "bob", &["r2"]),
    ]);
    let files = [two_names("first"), two_names("second")];
    let source = MemorySource::default();
    for (names, bytes) in files.iter().zip([first, second]) {
        source.put(names.s3.clone(), bytes.clone());
        source.put(names.local.clone(), bytes);
    }
    (source, files)
}

fn processed(outcome: ObjectOutcome) -> ObjectCounts {
    match outcome {
        ObjectOutcome::Processed(counts) => counts,
        other => panic!("not processed: {other:?}"),
    }
}

/// What `query` gives for each room and user partition: (count, latest event time).
fn partitions(table: &MemoryTable, kind: SeenKind) -> BTreeMap<String, (u64, String)> {
    let mut partitions: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for item in table.snapshot().into_values() {
        if let Some(name) = item.key.pk.strip_prefix(kind.event_pk_prefix()) {
            let entry = partitions.entry(name.to_owned()).or_default();
            entry.0 += 1;
            let time = item.string("event_time").unwrap().to_owned();
            entry.1 = entry.1.clone().max(time);
        }
    }
    partitions
}

/// `rooms`/`users` as they list the table, in the form of [`partitions`].
async fn listed(table: &MemoryTable, kind: SeenKind) -> BTreeMap<String, (u64, String)> {
    list_activity(table, kind, 4)
        .await
        .unwrap()
        .into_iter()
        .map(|line| (line.name, (line.event_count, line.last_event_time)))
        .collect()
}

async fn assert_listing_matches_the_partitions(table: &MemoryTable) {
    for kind in [SeenKind::Rooms, SeenKind::Users] {
        assert_eq!(
            listed(table, kind).await,
            partitions(table, kind),
            "{kind:?}"
        );
    }
    let rooms = listed(table, SeenKind::Rooms).await;
    assert_eq!(
        rooms,
        BTreeMap::from([
            (room("r1"), (2, "2023-05-01T11:00:00Z".to_owned())),
            (room("r2"), (2, "2023-05-01T11:00:00Z".to_owned())),
            (room("r3"), (1, "2023-05-02T09:00:00Z".to_owned())),
        ])
    );
    let users = listed(table, SeenKind::Users).await;
    assert_eq!(
        users[&user("alice")],
        (2, "2023-05-01T12:00:00Z".to_owned())
    );
    assert_eq!(users[&user("bob")], (2, "2023-05-01T11:00:00Z".to_owned()));
    assert_eq!(
        users[&user("carol")],
        (1, "2023-05-02T09:00:00Z".to_owned())
    );
}

#[tokio::test]
async fn listings_match_the_partitions_whatever_was_processed_twice_under_either_name_in_either_order()
 {
    let (source, [first, second]) = sample();
    let forward = [
        &first.s3,
        &second.local,
        &first.local,
        &second.s3,
        &first.s3,
    ];
    let backward = [
        &second.s3,
        &first.local,
        &second.local,
        &first.s3,
        &second.s3,
    ];
    for order in [forward, backward] {
        let table = MemoryTable::default();
        let pipeline = pipeline(source.clone(), &table, SeenItems);
        for object in order {
            processed(pipeline.process_object(object, None).await);
        }
        assert_listing_matches_the_partitions(&table).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listings_match_the_partitions_when_every_name_is_processed_at_once() {
    let (source, [first, second]) = sample();
    let table = MemoryTable::default();
    let pipeline = pipeline(source, &table, SeenItems);
    let objects = [&first.s3, &first.local, &second.s3, &second.local];
    let outcomes = futures::future::join_all(
        objects
            .iter()
            .chain(objects.iter())
            .map(|object| pipeline.process_object(object, None)),
    )
    .await;
    for outcome in outcomes {
        processed(outcome);
    }
    assert_listing_matches_the_partitions(&table).await;
}

#[tokio::test]
async fn a_file_costs_one_request_per_25_event_and_seen_items() {
    // 30 events over 3 rooms and 4 users: 60 event items and 7 seen items, 3 requests.
    let records: Vec<Value> = (0..30)
        .map(|n| {
            let who = ["alice", "bob", "carol", "dave"][n % 4];
            let place = ["r1", "r2", "r3"][n % 3];
            a4b_record(&format!("e{n}"), "2023-05-01T10:00:00Z", who, &[place])
        })
        .collect();
    let names = two_names("busy");
    let source = MemorySource::default();
    source.put(names.s3.clone(), log_file(&records));
    let table = MemoryTable::default();
    let counts = processed(
        pipeline(source, &table, SeenItems)
            .process_object(&names.s3, None)
            .await,
    );
    assert_eq!(counts.items_written, 60, "seen items are not audit items");
    assert_eq!(counts.items_built, 60);
    assert_eq!(counts.write_requests, 3);
    assert_eq!(table.batches(), 3);
    let seen: Vec<String> = (table.snapshot().into_keys())
        .filter(|key| key.pk.starts_with("SEEN#"))
        .map(|key| key.sk)
        .collect();
    assert_eq!(seen.len(), 7, "{seen:?}");
}

#[tokio::test]
async fn a_file_without_a4b_records_costs_no_request() {
    let names = two_names("quiet");
    let source = MemorySource::default();
    source.put(
        names.s3.clone(),
        log_file(&[other_record("x1"), other_record("x2")]),
    );
    let table = MemoryTable::default();
    let counts = processed(
        pipeline(source, &table, SeenItems)
            .process_object(&names.s3, None)
            .await,
    );
    assert_eq!(counts.records_read, 2);
    assert_eq!(counts.write_requests, 0);
    assert_eq!(table.batches(), 0);
    assert!(table.snapshot().is_empty());
}

#[tokio::test]
async fn without_a_ledger_only_the_event_items_are_written() {
    let (source, [first, _]) = sample();
    let table = MemoryTable::default();
    processed(
        pipeline(source, &table, NoLedger)
            .process_object(&first.s3, None)
            .await,
    );
    let pks: BTreeSet<String> = table.snapshot().into_keys().map(|key| key.pk).collect();
    assert!(
        pks.iter()
            .all(|pk| pk.starts_with("ROOM#") || pk.starts_with("USER#")),
        "{pks:?}"
    );
}

#[tokio::test]
async fn the_journal_hears_of_each_file_done_by_the_name_it_was_read_under() {
    let (source, [first, second]) = sample();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backfill.journal");
    let table = MemoryTable::default();
    let pipeline = pipeline(source, &table, Journal::open(&path, "audit").unwrap());
    processed(pipeline.process_object(&first.s3, None).await);
    processed(pipeline.process_object(&second.local, None).await);
    let missing = two_names("missing");
    assert!(matches!(
        pipeline.process_object(&missing.s3, None).await,
        ObjectOutcome::Failed(_)
    ));
    assert_eq!(
        Journal::files_done(&path, "audit").unwrap(),
        BTreeSet::from([first.s3.to_string(), second.local.to_string()])
    );
    // The journal's files have their seen items like any other.
    assert_eq!(listed(&table, SeenKind::Rooms).await.len(), 3);
}
