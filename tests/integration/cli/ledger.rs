//! The ledger against moto: the one-off removal of the `SUMMARY#…`/`FILE#…` items earlier versions
//! wrote (`a4b-audit cleanup-legacy`), which leaves everything else alone.

use a4b_audit::item::Item;
use a4b_audit::ledger::{SeenKind, seen_item};
use a4b_audit::sink::{DynamoDbSink, ItemSink};

use crate::harness::TestEnv;

use super::{room_arn, s, user_arn};

/// Items as earlier versions wrote them: per file a marker and a summary guard, per room and user
/// a summary.
fn legacy_items(files: usize) -> Vec<Item> {
    let mut items = Vec::new();
    for n in 0..files {
        let pk = format!("FILE#s3://trail/AWSLogs/{n:03}.json.gz");
        items.push(Item::new(pk.clone(), "FILE".into()));
        items.push(Item::new(pk, "SUMMARY#0".into()));
    }
    items.push(Item::new("SUMMARY#ROOM".into(), room_arn("r1")));
    items.push(Item::new("SUMMARY#USER".into(), user_arn("alice")));
    items
}

/// What the current version writes: events and seen items.
fn current_items() -> Vec<Item> {
    let room = format!("ROOM#{}", room_arn("r1"));
    let user = format!("USER#{}", user_arn("alice"));
    vec![
        Item::new(room.clone(), "2023-05-01T10:00:00Z#e1".into()),
        Item::new(user.clone(), "2023-05-01T10:00:00Z#e1".into()),
        seen_item(SeenKind::Rooms, &room_arn("r1")).unwrap(),
        seen_item(SeenKind::Users, &user_arn("alice")).unwrap(),
    ]
}

async fn put_all(env: &TestEnv, items: Vec<Item>) {
    let sink = DynamoDbSink::new(env.dynamodb.clone(), &env.table);
    for chunk in items.chunks(25) {
        let unprocessed = sink.put_batch(chunk).await.unwrap();
        assert!(unprocessed.is_empty());
    }
}

async fn keys(env: &TestEnv) -> Vec<(String, String)> {
    env.items()
        .await
        .iter()
        .map(|item| (s(item, "pk").to_owned(), s(item, "sk").to_owned()))
        .collect()
}

#[tokio::test]
async fn cleanup_legacy_deletes_the_old_summaries_and_markers_and_nothing_else() {
    let env = TestEnv::new("cli-cleanup_legacy_deletes_the_old_summaries_and_markers").await;
    // 30 files: 62 legacy items, three BatchWriteItem deletions.
    put_all(&env, legacy_items(30)).await;
    put_all(&env, current_items()).await;

    let counted = env.cli(&["cleanup-legacy", "--dry-run"]);
    assert_eq!(counted.code, Some(0), "{counted:?}");
    assert!(
        counted.stderr.contains("62 legacy item(s) found"),
        "{counted:?}"
    );
    assert_eq!(keys(&env).await.len(), 66, "a dry run deletes nothing");

    let deleted = env.cli(&["cleanup-legacy"]);
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    assert!(
        deleted
            .stderr
            .contains("62 legacy item(s) deleted from table"),
        "{deleted:?}"
    );
    // 66 small items: one page of the scan.
    assert!(
        deleted
            .stderr
            .contains("(1 scan page(s), 3 BatchWriteItem request(s))"),
        "{deleted:?}"
    );
    let mut expected: Vec<(String, String)> = current_items()
        .into_iter()
        .map(|item| (item.key.pk, item.key.sk))
        .collect();
    expected.sort();
    assert_eq!(keys(&env).await, expected);

    let again = env.cli(&["cleanup-legacy"]);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(
        again.stderr.contains("0 legacy item(s) deleted"),
        "{again:?}"
    );
}

#[tokio::test]
async fn cleanup_legacy_names_a_missing_table() {
    let env = TestEnv::new("cli-cleanup_legacy_names_a_missing_table").await;
    let run = env.cli(&["cleanup-legacy", "--table", "no-such-table"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("table no-such-table not found in region us-east-1"),
        "{run:?}"
    );
}
