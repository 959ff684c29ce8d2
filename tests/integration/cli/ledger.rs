//! The DynamoDB ledger against moto: guarded summary chunks, the latest event time, markers.

use a4b_audit::item::ItemKey;
use a4b_audit::ledger::{
    DynamoDbLedger, FileLedger, FileMarker, FileMarkerLookup, ProcessedBy, ROOM_SUMMARY_PK,
    SummaryUpdate, USER_SUMMARY_PK,
};
use a4b_audit::summary::ObjectCounts;

use super::{TestEnv, n, s};

fn update(pk: &str, sk: &str, event_count: u64, last_event_time: &str) -> SummaryUpdate {
    SummaryUpdate {
        key: ItemKey {
            pk: pk.to_owned(),
            sk: sk.to_owned(),
        },
        event_count,
        last_event_time: last_event_time.to_owned(),
    }
}

/// The summaries in the table: (pk, sk, event_count, last_event_time).
async fn summaries(env: &TestEnv) -> Vec<(String, String, String, String)> {
    env.items()
        .await
        .iter()
        .filter(|item| s(item, "pk").starts_with("SUMMARY#"))
        .map(|item| {
            (
                s(item, "pk").to_owned(),
                s(item, "sk").to_owned(),
                n(item, "event_count").to_owned(),
                s(item, "last_event_time").to_owned(),
            )
        })
        .collect()
}

fn row(pk: &str, sk: &str, count: &str, last: &str) -> (String, String, String, String) {
    (pk.into(), sk.into(), count.into(), last.into())
}

#[tokio::test]
async fn a_files_summary_updates_are_applied_once_however_often_it_is_recorded() {
    let env = TestEnv::new().await;
    let ledger = DynamoDbLedger::new(env.dynamodb.clone(), &env.table);
    let updates = vec![
        update(ROOM_SUMMARY_PK, "room-a", 2, "2023-05-01T10:00:00Z"),
        update(USER_SUMMARY_PK, "alice", 3, "2023-05-01T11:00:00Z"),
    ];
    ledger
        .apply_summaries("s3://b/one", &updates)
        .await
        .unwrap();
    // Re-delivery of the same file.
    ledger
        .apply_summaries("s3://b/one", &updates)
        .await
        .unwrap();
    assert_eq!(
        summaries(&env).await,
        vec![
            row(ROOM_SUMMARY_PK, "room-a", "2", "2023-05-01T10:00:00Z"),
            row(USER_SUMMARY_PK, "alice", "3", "2023-05-01T11:00:00Z"),
        ]
    );
    // Another file adds to the counts.
    ledger
        .apply_summaries(
            "s3://b/two",
            &[update(ROOM_SUMMARY_PK, "room-a", 5, "2023-05-02T08:00:00Z")],
        )
        .await
        .unwrap();
    assert_eq!(
        summaries(&env).await[0],
        row(ROOM_SUMMARY_PK, "room-a", "7", "2023-05-02T08:00:00Z")
    );
}

#[tokio::test]
async fn last_event_time_keeps_the_latest_whatever_the_order_of_files() {
    let env = TestEnv::new().await;
    let ledger = DynamoDbLedger::new(env.dynamodb.clone(), &env.table);
    ledger
        .apply_summaries(
            "s3://b/later",
            &[update(ROOM_SUMMARY_PK, "room-a", 1, "2023-06-01T00:00:00Z")],
        )
        .await
        .unwrap();
    ledger
        .apply_summaries(
            "s3://b/earlier",
            &[update(ROOM_SUMMARY_PK, "room-a", 1, "2023-05-01T00:00:00Z")],
        )
        .await
        .unwrap();
    assert_eq!(
        summaries(&env).await,
        vec![row(ROOM_SUMMARY_PK, "room-a", "2", "2023-06-01T00:00:00Z")]
    );
}

#[tokio::test]
async fn more_than_99_updates_go_in_several_guarded_chunks() {
    let env = TestEnv::new().await;
    let ledger = DynamoDbLedger::new(env.dynamodb.clone(), &env.table);
    let updates: Vec<SummaryUpdate> = (0..150)
        .map(|index| {
            update(
                USER_SUMMARY_PK,
                &format!("user-{index:03}"),
                1,
                "2023-05-01T00:00:00Z",
            )
        })
        .collect();
    ledger
        .apply_summaries("s3://b/big", &updates)
        .await
        .unwrap();
    ledger
        .apply_summaries("s3://b/big", &updates)
        .await
        .unwrap();
    let items = env.items().await;
    let guards: Vec<&str> = items
        .iter()
        .filter(|item| s(item, "pk") == "FILE#s3://b/big")
        .map(|item| s(item, "sk"))
        .collect();
    assert_eq!(guards, ["SUMMARY#0", "SUMMARY#1"]);
    let rows = summaries(&env).await;
    assert_eq!(rows.len(), 150);
    assert!(rows.iter().all(|(_, _, count, _)| count == "1"), "{rows:?}");
}

#[tokio::test]
async fn markers_are_written_with_their_counts_and_found_in_batches() {
    let env = TestEnv::new().await;
    let ledger = DynamoDbLedger::new(env.dynamodb.clone(), &env.table);
    let objects: Vec<String> = (0..130)
        .map(|index| format!("s3://b/file-{index:03}.json.gz"))
        .collect();
    for object in objects.iter().step_by(3) {
        ledger
            .mark_processed(&FileMarker {
                source_object: object.clone(),
                counts: ObjectCounts {
                    records_read: 4,
                    a4b_records: 2,
                    other_records: 2,
                    items_built: 3,
                    items_written: 3,
                    ..ObjectCounts::default()
                },
                processed_at: "2026-01-01T00:00:00Z".into(),
                processed_by: ProcessedBy::Cli,
            })
            .await
            .unwrap();
    }
    let found = ledger.processed_files(&objects).await.unwrap();
    let expected: std::collections::BTreeSet<String> = objects.iter().step_by(3).cloned().collect();
    assert_eq!(found, expected);

    let items = env.items().await;
    let marker = items
        .iter()
        .find(|item| s(item, "pk") == "FILE#s3://b/file-000.json.gz")
        .unwrap();
    assert_eq!(s(marker, "sk"), "FILE");
    assert_eq!(n(marker, "records_read"), "4");
    assert_eq!(n(marker, "a4b_records"), "2");
    assert_eq!(n(marker, "records_rejected"), "0");
    assert_eq!(n(marker, "items_written"), "3");
    assert_eq!(s(marker, "processed_by"), "cli");
    assert_eq!(s(marker, "processed_at"), "2026-01-01T00:00:00Z");
}

#[tokio::test]
async fn a_missing_table_is_named_with_its_region() {
    let env = TestEnv::new().await;
    let ledger = DynamoDbLedger::new(env.dynamodb.clone(), "no-such-table");
    let error = ledger
        .apply_summaries("s3://b/k", &[update(ROOM_SUMMARY_PK, "r", 1, "t")])
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("table no-such-table not found in region us-east-1"),
        "{error}"
    );
}
