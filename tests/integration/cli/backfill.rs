//! `backfill` end to end: a multi-day, multi-account, multi-region tree with an organization trail,
//! digest files and a bad file, then the exact items; running twice; `--resume` from the journal.

use std::collections::BTreeMap;

use a4b_audit::ledger::{Journal, SeenKind, seen_item};
use a4b_audit_devtools::moto;

use crate::harness::{ACCOUNT, TestEnv, cloudtrail_key, log_file};

use super::{OTHER_ACCOUNT, a4b_record, other_record, room_arn, s, user_arn};

const ORGANIZATION: &str = "o-abc123def4";

pub(super) struct Tree {
    pub(super) file_a: String,
    pub(super) file_b: String,
    pub(super) file_c: String,
    pub(super) bad_file: String,
}

pub(super) async fn tree(env: &TestEnv) -> Tree {
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

pub(super) fn uri(env: &TestEnv, key: &str) -> String {
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

pub(super) fn backfill_args(env: &TestEnv) -> Vec<String> {
    [
        "backfill",
        &format!("s3://{}", env.bucket),
        "--from",
        "2023-05-01",
        "--to",
        "2023-05-02",
        // One file at a time, so that the order of the log is the same on every run; the
        // concurrent path has its own test below.
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
    let seen = |(kind, name): (SeenKind, String)| {
        let item = seen_item(kind, &name).unwrap();
        (item.key.pk, item.key.sk)
    };
    let mut expected = vec![
        event(room("r1"), "2023-05-01T11:57:00Z", "e4"),
        event(room("r1"), "2023-05-01T11:58:00Z", "e1"),
        event(room("r2"), "2023-05-02T11:58:00Z", "e3"),
        seen((SeenKind::Rooms, room_arn("r1"))),
        seen((SeenKind::Rooms, room_arn("r2"))),
        seen((SeenKind::Users, user_arn("alice"))),
        seen((SeenKind::Users, user_arn("bob"))),
        seen((SeenKind::Users, user_arn("carol"))),
        event(user("alice"), "2023-05-01T11:58:00Z", "e1"),
        event(user("alice"), "2023-05-02T11:58:00Z", "e3"),
        event(user("bob"), "2023-05-01T11:59:00Z", "e2"),
        event(user("carol"), "2023-05-01T11:57:00Z", "e4"),
    ];
    expected.sort();
    assert_eq!(keys(&env).await, expected);

    let items = env.items().await;
    let e1 = items
        .iter()
        .find(|item| {
            s(item, "pk") == format!("USER#{}", user_arn("alice"))
                && s(item, "sk") == "2023-05-01T11:58:00Z#e1"
        })
        .unwrap();
    assert_eq!(s(e1, "source_object"), uri(&env, &tree.file_a));
    let rooms = env.cli(&["rooms", "--format", "csv"]);
    assert_eq!(
        rooms.stdout,
        format!(
            "room_arn,event_count,last_event_time\n{},2,2023-05-01T11:58:00Z\n{},1,2023-05-02T11:58:00Z\n",
            room_arn("r1"),
            room_arn("r2")
        ),
        "{rooms:?}"
    );

    // Running it again changes nothing: same keys, same listing.
    let second = run(&env, &backfill_args(&env));
    assert_eq!(second.code, Some(1), "{second:?}");
    assert_eq!(keys(&env).await, expected);
    assert_eq!(env.cli(&["rooms", "--format", "csv"]).stdout, rooms.stdout);
}

/// When each event item was written, by key: a file read again rewrites its items.
async fn ingested_at(env: &TestEnv) -> BTreeMap<(String, String), String> {
    env.event_items()
        .await
        .iter()
        .map(|item| {
            let key = (s(item, "pk").to_owned(), s(item, "sk").to_owned());
            (key, s(item, "ingested_at").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn resume_skips_the_files_the_journal_lists_as_done() {
    let env = TestEnv::new("cli-resume_skips_the_files_the_journal_lists_as_done").await;
    let tree = tree(&env).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("backfill.journal");
    let mut args = backfill_args(&env);
    args.extend(["--journal".to_owned(), journal.to_str().unwrap().to_owned()]);
    let first = run(&env, &args);
    assert_eq!(first.code, Some(1), "{first:?}");
    let done = Journal::files_done(&journal, &env.table).unwrap();
    let good = [&tree.file_a, &tree.file_b, &tree.file_c];
    assert_eq!(
        done,
        good.iter().map(|key| uri(&env, key)).collect(),
        "the journal lists the files done, not the one that failed"
    );
    let before = ingested_at(&env).await;

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
    // No item was rewritten: the done files were not read again.
    assert_eq!(ingested_at(&env).await, before);

    // The journal is per table: into another table nothing is done yet.
    let other = env.another_table("cli-resume-other-table").await;
    args.extend(["--table".to_owned(), other]);
    let elsewhere = run(&env, &args);
    assert!(
        elsewhere
            .stderr
            .contains("files: 3 processed, 1 skipped, 1 failed"),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn backfill_of_only_good_files_exits_zero() {
    let env = TestEnv::new("cli-backfill_of_only_good_files_exits_zero").await;
    tree(&env).await;
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
    let event_keys: Vec<(String, String)> = ingested_at(&env).await.into_keys().collect();
    let sk = "2023-05-02T11:58:00Z#e3".to_owned();
    assert_eq!(
        event_keys,
        [
            (format!("ROOM#{}", room_arn("r2")), sk.clone()),
            (format!("USER#{}", user_arn("alice")), sk),
        ]
    );
}

#[tokio::test]
async fn concurrent_backfill_writes_the_same_items_as_one_file_at_a_time() {
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
        let mut keys: Vec<_> = keys
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
