//! `a4b-dev run-local` end to end, with the echo Lambda standing in for the real binary (which
//! lives on another branch): moto, uploads, runtime API, every sample event invoked.

use std::path::{Path, PathBuf};

use a4b_audit_devtools::local::{CARGO_LAMBDA_COMMANDS, LocalAws, describe_items, run_local};
use a4b_audit_devtools::samples::{BUCKET, TABLE};
use aws_sdk_dynamodb::types::AttributeValue;

mod common;
use common::echo_lambda;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn run_local_invokes_every_sample_event_and_succeeds_with_a_healthy_function() {
    let all_succeeded = run_local(&repository().join("events"), &echo_lambda())
        .await
        .unwrap();
    assert!(all_succeeded);
}

#[tokio::test]
async fn run_local_refuses_a_missing_binary_with_a_hint() {
    let error = run_local(
        &repository().join("events"),
        Path::new("/nonexistent/a4b-audit-lambda"),
    )
    .await
    .err()
    .unwrap();
    assert!(
        error
            .to_string()
            .contains("cargo build --bin a4b-audit-lambda"),
        "{error}"
    );
}

#[tokio::test]
async fn the_local_aws_holds_every_sample_log_at_its_key_and_an_empty_table() {
    let aws = LocalAws::start(&repository().join("events")).await.unwrap();

    assert_eq!(aws.uploaded_keys.len(), 4);
    for key in &aws.uploaded_keys {
        aws.s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
    }
    assert!(
        aws.uploaded_keys
            .iter()
            .any(|key| key.starts_with("trail logs/team+a4b/"))
    );
    let scan = aws.dynamodb.scan().table_name(TABLE).send().await.unwrap();
    assert_eq!(scan.count, 0);
}

#[test]
fn items_are_shown_per_room_then_per_resource_then_per_user() {
    let item = |pk: &str, time: &str, name: &str, extra: (&str, AttributeValue)| {
        [
            ("pk", AttributeValue::S(pk.to_owned())),
            ("sk", AttributeValue::S(format!("{time}#id"))),
            ("event_time", AttributeValue::S(time.to_owned())),
            ("event_name", AttributeValue::S(name.to_owned())),
            (extra.0, extra.1),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    };
    let room = "arn:aws:a4b:us-east-1:123456789012:room/aa/bb";
    let device = "arn:aws:a4b:us-east-1:123456789012:device/cc/dd";
    let items = vec![
        item(
            &format!("ROOM#{room}"),
            "2023-07-10T12:00:00Z",
            "UpdateRoom",
            ("user_key", AttributeValue::S("alice".into())),
        ),
        item(
            &format!("RESOURCE#{device}"),
            "2023-07-10T12:00:00Z",
            "UpdateRoom",
            ("user_key", AttributeValue::S("alice".into())),
        ),
        item(
            "FILE#s3://b/k",
            "2023-07-10T12:00:00Z",
            "-",
            ("x", AttributeValue::Null(true)),
        ),
        item(
            "USER#alice",
            "2023-07-10T12:00:00Z",
            "UpdateRoom",
            (
                "room_arns",
                AttributeValue::L(vec![AttributeValue::S(room.into())]),
            ),
        ),
    ];

    let shown = describe_items(&items);

    let room_at = shown
        .find(&format!(
            "  ROOM#{room}\n    2023-07-10T12:00:00Z  UpdateRoom"
        ))
        .unwrap();
    let resource_at = shown
        .find(&format!(
            "audit items per resource (time, event, user):\n  RESOURCE#{device}\n    2023-07-10T12:00:00Z  UpdateRoom"
        ))
        .unwrap();
    let user_at = shown.find("  USER#alice\n").unwrap();
    assert!(room_at < resource_at && resource_at < user_at, "{shown}");
    assert!(shown.contains(&format!("rooms: {room}")), "{shown}");
    assert!(shown.contains("and 1 other items"), "{shown}");
}

#[test]
fn other_items_are_counted_and_named_by_kind() {
    let item = |pk: &str| {
        [("pk".to_owned(), AttributeValue::S(pk.to_owned()))]
            .into_iter()
            .collect()
    };
    let items = vec![
        item("SEEN#ROOM#07"),
        item("SEEN#USER#63"),
        item("FILE#s3://b/k"),
        item("ODD"),
    ];

    let shown = describe_items(&items);

    assert!(
        shown.ends_with(
            "and 4 other items (not audit events):\n\
             \x20 1 FILE#…: a marker per processed log file, what `a4b-audit backfill --resume` skips\n\
             \x20 1 ODD…: not described here\n\
             \x20 2 SEEN#…: one per room and user seen, what `a4b-audit rooms` and `users` list\n"
        ),
        "{shown}"
    );
}

#[test]
fn the_emulator_hints_name_the_venvs_cargo_lambda() {
    // scripts/test installs the venv before the tests run; the hints must name what it installs.
    for command in CARGO_LAMBDA_COMMANDS {
        let program = command.split(' ').next().unwrap();
        assert!(
            repository().join(program).is_file(),
            "{program} of {command:?} is not in the repository's venv"
        );
    }
}
