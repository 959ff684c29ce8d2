//! `process --dry-run` prints exactly the items the Lambda's pipeline writes for the same file.

use a4b_audit::notification::ObjectRef;
use a4b_audit::object::ObjectOutcome;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::harness::{ACCOUNT, TestEnv, cloudtrail_key, log_file};

use super::{a4b_record, other_record};

/// An item read from the table as the dry run prints it.
fn json_of(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::N(number) => serde_json::from_str(number).unwrap(),
        AttributeValue::Bool(flag) => Value::Bool(*flag),
        AttributeValue::L(values) => Value::Array(values.iter().map(json_of).collect()),
        other => panic!("unexpected attribute {other:?}"),
    }
}

fn without_ingested_at(mut item: Value) -> Value {
    item.as_object_mut().unwrap().remove("ingested_at");
    item
}

/// Items in key order, for a comparison that does not depend on the order of writes.
fn by_key(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by_key(|item| (item["pk"].to_string(), item["sk"].to_string()));
    items
}

#[tokio::test]
async fn dry_run_prints_what_the_lambda_writes_for_the_same_file() {
    let env = TestEnv::new("cli-dry_run_prints_what_the_lambda_writes_for_the_same_file").await;
    let key = cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", "dry0");
    env.put(
        &key,
        log_file(&[
            a4b_record("e1", "2023-05-01T11:58:00Z", "alice", Some("r1")),
            other_record("x1", "2023-05-01T11:58:30Z"),
            a4b_record("e2", "2023-05-01T11:59:00Z", "bob", None),
            a4b_record("e3", "2023-05-01T11:59:30Z", "alice", Some("r2")),
        ]),
    )
    .await;
    let uri = format!("s3://{}/{key}", env.bucket);

    let run = env.cli(&["process", "--dry-run", &uri]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("items: 5 printed"), "{run:?}");
    let printed: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| without_ingested_at(serde_json::from_str(line).unwrap()))
        .collect();

    // The Lambda's way: the same pipeline, S3 source, DynamoDB sink and ledger.
    let pipeline = env.pipeline(env.config());
    let object = ObjectRef {
        bucket: env.bucket.clone(),
        key: key.clone(),
    };
    let outcome = pipeline.process_object(&object, None).await;
    assert!(
        matches!(outcome, ObjectOutcome::Processed(_)),
        "{outcome:?}"
    );
    let written: Vec<Value> = env
        .event_items()
        .await
        .iter()
        .map(|item| {
            let object: serde_json::Map<String, Value> = item
                .iter()
                .map(|(name, value)| (name.clone(), json_of(value)))
                .collect();
            without_ingested_at(Value::Object(object))
        })
        .collect();

    assert_eq!(printed.len(), 5, "{run:?}");
    assert_eq!(by_key(printed.clone()), by_key(written));
    // Record order: e1's user and room items, e2's user item, e3's user and room items.
    let event_ids: Vec<String> = printed
        .iter()
        .map(|item| item["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(event_ids, ["e1", "e1", "e2", "e3", "e3"]);
}

#[tokio::test]
async fn dry_run_reads_local_files_and_folders_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let key = cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", "loc0");
    let path = dir.path().join(&key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        log_file(&[a4b_record(
            "e1",
            "2023-05-01T11:58:00Z",
            "alice",
            Some("r1"),
        )]),
    )
    .unwrap();
    std::fs::write(dir.path().join("export.json"), br#"{"Records":[]}"#).unwrap();
    let run = super::run_cli(
        &["process", "--dry-run", dir.path().to_str().unwrap()],
        |_| {},
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout.lines().count(), 2, "{run:?}");
    assert!(
        run.stderr
            .contains("files: 1 processed, 1 skipped, 0 failed"),
        "{run:?}"
    );
    let first: Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["source_object"], format!("file://{}", path.display()));
}
