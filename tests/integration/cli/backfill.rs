//! `backfill` end to end: a multi-day, multi-account, multi-region tree with an organization trail,
//! digest files and a bad file, then the exact items; running twice; `--resume`.

use std::collections::BTreeMap;

use a4b_audit_devtools::moto;

use crate::harness::{ACCOUNT, TestEnv, cloudtrail_key, log_file};

use super::{OTHER_ACCOUNT, a4b_record, n, other_record, room_arn, s, user_arn};

const ORGANIZATION: &str = "o-abc123def4";

struct Tree {
    file_a: String,
    file_b: String,
    file_c: String,
    bad_file: String,
}

async fn tree(env: &TestEnv) -> Tree {
    let file_a = cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", "aaaa");
    let file_b = cloudtrail_key(None, ACCOUNT, "eu-west-1", "20230502", "bbbb");
    let file_c = cloudtrail_key(
        Some(ORGANIZATION),
        OTHER_ACCOUNT,
        "us-east-1",
        "20230501",
        "cccc",
    );
    let file_d = cloudtrail_key(None, ACCOUNT, "us-east-1", "20230503", "dddd");
    let bad_file = cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", "bad0");
    env.put(
        &file_a,
        log_file(&[
            a4b_record("e1", "2023-05-01T11:58:00Z", "alice", Some("r1")),
            other_record("x1", "2023-05-01T11:58:30Z"),
            a4b_record("e2", "2023-05-01T11:59:00Z", "bob", None),
        ]),
    )
    .await;
    env.put(
        &file_b,
        log_file(&[a4b_record(
            "e3",
            "2023-05-02T11:58:00Z",
            "alice",
            Some("r2"),
        )]),
    )
    .await;
    env.put(
        &file_c,
        log_file(&[a4b_record(
            "e4",
            "2023-05-01T11:57:00Z",
            "carol",
            Some("r1"),
        )]),
    )
    .await;
    env.put(
        &file_d,
        log_file(&[a4b_record("e5", "2023-05-03T11:57:00Z", "dave", Some("r3"))]),
    )
    .await;
    env.put(&bad_file, b"this is not gzip nor JSON".to_vec())
        .await;
    // A digest in its own folder (never listed) and one misplaced in a log folder (skipped).
    let digest_name =
        format!("{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20230501T120000Z.json.gz");
    env.put(
        &format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2023/05/01/{digest_name}"),
        b"{}".to_vec(),
    )
    .await;
    env.put(
        &format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2023/05/01/{digest_name}"),
        b"{}".to_vec(),
    )
    .await;
    Tree {
        file_a,
        file_b,
        file_c,
        bad_file,
    }
}

fn uri(env: &TestEnv, key: &str) -> String {
    format!("s3://{}/{key}", env.bucket)
}

/// Every (pk, sk) of the table.
async fn keys(env: &TestEnv) -> Vec<(String, String)> {
    env.items()
        .await
        .iter()
        .map(|item| (s(item, "pk").to_owned(), s(item, "sk").to_owned()))
        .collect()
}

fn backfill_args(env: &TestEnv) -> Vec<String> {
    [
        "backfill",
        &format!("s3://{}", env.bucket),
        "--from",
        "2023-05-01",
        "--to",
        "2023-05-02",
        // One file at a time: moto does not make concurrent updates of one item atomic the way
        // DynamoDB does (a concurrent ADD to a room summary can be lost there), and these tests
        // assert the exact summaries. The concurrent path has its own test below.
        "--concurrency",
        "1",
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect()
}

fn run(env: &TestEnv, args: &[String]) -> super::CliRun {
    env.cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[tokio::test]
async fn backfill_writes_exactly_the_items_of_the_selected_days_and_reports_the_bad_file() {
    let env = TestEnv::new(
        "cli-backfill_writes_exactly_the_items_of_the_selected_days_and_reports_the_bad_file",
    )
    .await;
    let tree = tree(&env).await;
    let first = run(&env, &backfill_args(&env));
    assert_eq!(first.code, Some(1), "the bad file fails the run: {first:?}");
    assert!(
        first.stderr.contains(&format!(
            "  {}: cannot read the log file",
            uri(&env, &tree.bad_file)
        )),
        "{first:?}"
    );
    assert!(
        first
            .stderr
            .contains("files: 3 processed, 1 skipped, 1 failed"),
        "{first:?}"
    );

    let event = |pk: String, time: &str, id: &str| (pk, format!("{time}#{id}"));
    let room = |name: &str| format!("ROOM#{}", room_arn(name));
    let user = |name: &str| format!("USER#{}", user_arn(name));
    let file = |key: &str, sk: &str| (format!("FILE#{}", uri(&env, key)), sk.to_owned());
    let summary = |pk: &str, sk: String| (pk.to_owned(), sk);
    let mut expected = vec![
        file(&tree.file_a, "FILE"),
        file(&tree.file_a, "SUMMARY#0"),
        file(&tree.file_b, "FILE"),
        file(&tree.file_b, "SUMMARY#0"),
        file(&tree.file_c, "FILE"),
        file(&tree.file_c, "SUMMARY#0"),
        event(room("r1"), "2023-05-01T11:57:00Z", "e4"),
        event(room("r1"), "2023-05-01T11:58:00Z", "e1"),
        event(room("r2"), "2023-05-02T11:58:00Z", "e3"),
        summary("SUMMARY#ROOM", room_arn("r1")),
        summary("SUMMARY#ROOM", room_arn("r2")),
        summary("SUMMARY#USER", user_arn("alice")),
        summary("SUMMARY#USER", user_arn("bob")),
        summary("SUMMARY#USER", user_arn("carol")),
        event(user("alice"), "2023-05-01T11:58:00Z", "e1"),
        event(user("alice"), "2023-05-02T11:58:00Z", "e3"),
        event(user("bob"), "2023-05-01T11:59:00Z", "e2"),
        event(user("carol"), "2023-05-01T11:57:00Z", "e4"),
    ];
    expected.sort();
    assert_eq!(keys(&env).await, expected);

    let items = env.items().await;
    let find = |pk: &str, sk: &str| {
        items
            .iter()
            .find(|item| s(item, "pk") == pk && s(item, "sk") == sk)
            .unwrap()
    };
    let marker = find(&format!("FILE#{}", uri(&env, &tree.file_a)), "FILE");
    assert_eq!(n(marker, "records_read"), "3");
    assert_eq!(n(marker, "a4b_records"), "2");
    assert_eq!(n(marker, "records_rejected"), "0");
    assert_eq!(n(marker, "items_written"), "3");
    assert_eq!(s(marker, "processed_by"), "cli");
    let r1 = find("SUMMARY#ROOM", &room_arn("r1"));
    assert_eq!(n(r1, "event_count"), "2");
    assert_eq!(s(r1, "last_event_time"), "2023-05-01T11:58:00Z");
    let alice = find("SUMMARY#USER", &user_arn("alice"));
    assert_eq!(n(alice, "event_count"), "2");
    assert_eq!(s(alice, "last_event_time"), "2023-05-02T11:58:00Z");
    let e1 = find(
        &format!("USER#{}", user_arn("alice")),
        "2023-05-01T11:58:00Z#e1",
    );
    assert_eq!(s(e1, "source_object"), uri(&env, &tree.file_a));

    // Running it again changes nothing: same keys, same counts.
    let before: BTreeMap<_, _> = items
        .iter()
        .filter(|item| s(item, "pk").starts_with("SUMMARY#"))
        .map(|item| (s(item, "sk").to_owned(), n(item, "event_count").to_owned()))
        .collect();
    let second = run(&env, &backfill_args(&env));
    assert_eq!(second.code, Some(1), "{second:?}");
    assert_eq!(keys(&env).await, expected);
    let after: BTreeMap<_, _> = env
        .items()
        .await
        .iter()
        .filter(|item| s(item, "pk").starts_with("SUMMARY#"))
        .map(|item| (s(item, "sk").to_owned(), n(item, "event_count").to_owned()))
        .collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn resume_skips_the_files_already_done() {
    let env = TestEnv::new("cli-resume_skips_the_files_already_done").await;
    let tree = tree(&env).await;
    let first = run(&env, &backfill_args(&env));
    assert_eq!(first.code, Some(1), "{first:?}");
    let processed_at = |items: &[a4b_audit_devtools::moto::Item]| -> Vec<String> {
        items
            .iter()
            .filter(|item| s(item, "sk") == "FILE")
            .map(|item| s(item, "processed_at").to_owned())
            .collect()
    };
    let before = processed_at(&env.items().await);
    assert_eq!(before.len(), 3);

    let mut args = backfill_args(&env);
    args.push("--resume".into());
    let resumed = run(&env, &args);
    assert_eq!(
        resumed.code,
        Some(1),
        "the bad file is still tried: {resumed:?}"
    );
    assert!(
        resumed
            .stderr
            .contains("files: 0 processed, 1 skipped, 1 failed, 3 already done (--resume)"),
        "{resumed:?}"
    );
    assert!(
        resumed.stderr.contains(&uri(&env, &tree.bad_file)),
        "{resumed:?}"
    );
    // No marker was rewritten: the done files were not read again.
    assert_eq!(processed_at(&env.items().await), before);
}

#[tokio::test]
async fn backfill_of_only_good_files_exits_zero() {
    let env = TestEnv::new("cli-backfill_of_only_good_files_exits_zero").await;
    let tree = tree(&env).await;
    let run = env.cli(&[
        "backfill",
        &format!("s3://{}", env.bucket),
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("files: 1 processed, 0 skipped, 0 failed"),
        "{run:?}"
    );
    let markers: Vec<String> = env
        .items()
        .await
        .iter()
        .filter(|item| s(item, "sk") == "FILE")
        .map(|item| s(item, "pk").to_owned())
        .collect();
    assert_eq!(markers, [format!("FILE#{}", uri(&env, &tree.file_b))]);
}

#[tokio::test]
async fn concurrent_backfill_writes_the_same_event_items_and_markers_as_one_file_at_a_time() {
    let event_and_marker_keys = |keys: Vec<(String, String)>| -> Vec<(String, String)> {
        keys.into_iter()
            .filter(|(pk, sk)| pk.starts_with("ROOM#") || pk.starts_with("USER#") || sk == "FILE")
            .collect()
    };
    let sequential = TestEnv::new("cli-backfill-sequential").await;
    tree(&sequential).await;
    assert_eq!(run(&sequential, &backfill_args(&sequential)).code, Some(1));

    let concurrent = TestEnv::new("cli-backfill-concurrent").await;
    tree(&concurrent).await;
    let mut args = backfill_args(&concurrent);
    let last = args.len() - 1;
    args[last] = "3".to_owned();
    assert_eq!(run(&concurrent, &args).code, Some(1));

    let normalize = |env: &TestEnv, keys: Vec<(String, String)>| -> Vec<(String, String)> {
        let bucket = format!("s3://{}/", env.bucket);
        let mut keys: Vec<_> = event_and_marker_keys(keys)
            .into_iter()
            .map(|(pk, sk)| (pk.replace(&bucket, "s3://BUCKET/"), sk))
            .collect();
        keys.sort();
        keys
    };
    let expected = normalize(&sequential, keys(&sequential).await);
    assert!(expected.len() > 5, "{expected:?}");
    assert_eq!(normalize(&concurrent, keys(&concurrent).await), expected);
}

#[tokio::test]
async fn archived_log_files_are_reported_with_what_to_do_and_fail_the_run() {
    let env = TestEnv::new("cli-archived_log_files_are_reported").await;
    let tree = tree(&env).await;
    let archived = cloudtrail_key(None, ACCOUNT, "eu-west-1", "20230502", "cold");
    env.put_in_class(
        &archived,
        log_file(&[a4b_record("e9", "2023-05-02T11:58:00Z", "dave", None)]),
        aws_sdk_s3::types::StorageClass::DeepArchive,
    )
    .await;
    let run = env.cli(&[
        "backfill",
        &format!("s3://{}", env.bucket),
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("files: 1 processed, 0 skipped, 0 failed"),
        "{run:?}"
    );
    assert!(run.stderr.contains(&uri(&env, &archived)), "{run:?}");
    assert!(run.stderr.contains("DEEP_ARCHIVE"), "{run:?}");
    assert!(run.stderr.contains("Restore them first"), "{run:?}");
    assert!(!run.stderr.contains(&uri(&env, &tree.file_a)), "{run:?}");
}

#[tokio::test]
async fn an_archived_object_read_anyway_fails_saying_restore_it_first() {
    let env = TestEnv::new("cli-an_archived_object_read_anyway_fails").await;
    let key = cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", "cold");
    env.put_in_class(
        &key,
        log_file(&[a4b_record("e9", "2023-05-01T11:58:00Z", "dave", None)]),
        aws_sdk_s3::types::StorageClass::Glacier,
    )
    .await;
    let run = env.cli(&["process", &uri(&env, &key)]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("InvalidObjectState"), "{run:?}");
    assert!(run.stderr.contains("restore it first"), "{run:?}");
}

#[tokio::test]
async fn plan_prints_the_files_requests_and_costs_and_writes_nothing() {
    let env = TestEnv::new("cli-plan_prints_the_files_requests_and_costs").await;
    tree(&env).await;
    let location = format!("s3://{}", env.bucket);
    let run = super::run_cli(
        &[
            "backfill",
            &location,
            "--plan",
            "--from",
            "2023-05-01",
            "--to",
            "2023-05-02",
        ],
        |command| {
            command
                .env("AWS_ENDPOINT_URL", &env.endpoint)
                .env("AWS_REGION", moto::LOCAL_REGION)
                .env("AWS_ACCESS_KEY_ID", moto::DUMMY_ACCESS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", moto::DUMMY_SECRET_ACCESS_KEY);
        },
    );
    assert_eq!(run.code, Some(0), "no table is needed: {run:?}");
    assert!(run.stdout.contains("plan: 4 log file(s)"), "{run:?}");
    // The listing it made: the root, AWSLogs/ and the organization folder, 2 account folders, then
    // year, month and day folders of 3 locations and 3 day folders in range.
    assert!(run.stdout.contains(" 17.0 LIST requests"), "{run:?}");
    for expected in [
        "Lambda",
        "Step Functions",
        "per million files",
        "on this machine",
    ] {
        assert!(run.stdout.contains(expected), "{expected}: {run:?}");
    }
    assert!(env.items().await.is_empty(), "the plan wrote to the table");
}
