//! SPEC section 4, one test per row: an object that cannot be read fails with an error naming
//! `s3://bucket/key` and the cause, the other objects of the same notification are still written,
//! every item of them exactly, and the invocation fails (Lambda error type `ObjectsFailed`) so that
//! the notification is kept.

use std::io::Write;

use a4b_audit::config::Config;
use a4b_audit::ledger::FileLedger;
use a4b_audit::notification::ObjectRef;
use a4b_audit::object::{Pipeline, PipelineOptions};
use a4b_audit::sink::ItemSink;
use a4b_audit::source::ObjectSource;
use a4b_audit::trigger::{InvocationError, InvocationFailed};
use a4b_audit_devtools::fault_proxy::{Fault, FaultPlan, FaultProxy, FaultRule};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use super::support::{fast_writer, mixed_records};
use crate::harness::{TestEnv, cloudtrail_event, gzip, invoke, log_file, log_key, pipeline_at};
use crate::oracle::{self, ComparableItem};

/// A4B records in the good object each test sends along.
const GOOD_RECORDS: usize = 12;

/// How the bad object failed: the reason of its failure, and how many items of it are in the table
/// (none when nothing of it could be read; a bad object read in part may leave the items of its
/// first records, written again unchanged when Lambda retries the notification).
struct Failed {
    reason: String,
    items_of_bad_object: usize,
}

/// Puts the good object every test sends along at `key`; returns the items the oracle expects of it.
async fn put_good_object(env: &TestEnv, key: &str) -> Vec<ComparableItem> {
    let text = json!({ "Records": mixed_records(7, GOOD_RECORDS) }).to_string();
    env.put(key, gzip(text.as_bytes())).await;
    oracle::expected_items(&text, &format!("s3://{}/{key}", env.bucket))
}

/// What every row promises, whatever the cause: only `bad_object` failed, and the invocation's
/// error names it; the good object was written, item for item; the table holds nothing else.
async fn assert_only_the_bad_object_failed(
    env: &TestEnv,
    failure: InvocationFailed,
    bad_object: &str,
    good_key: &str,
    good_items: &[ComparableItem],
) -> Failed {
    let summary = &failure.summary;
    assert_eq!(summary.objects_failed, 1, "{summary:?}");
    assert_eq!(summary.objects_processed, 1, "{summary:?}");
    let note = &summary.failed[0];
    assert_eq!(note.object, bad_object);
    let reason = note.reason.clone();

    // The invocation's error names the object and the cause, and not the good object.
    let text = failure.to_string();
    assert!(text.contains(&format!("{bad_object}: {reason}")), "{text}");
    assert!(
        !text.contains(good_key),
        "the good object did not fail: {text}"
    );

    // Every record of the good object is in the table (a user item each), exactly as expected.
    let good_uri = json!(format!("s3://{}/{good_key}", env.bucket));
    let (mut written, others): (Vec<ComparableItem>, Vec<ComparableItem>) = env
        .comparable_items()
        .await
        .into_iter()
        .partition(|item| item.get("source_object") == Some(&good_uri));
    let items_of_bad_object = others
        .iter()
        .filter(|item| item.get("source_object") == Some(&json!(bad_object)))
        .count();
    assert_eq!(items_of_bad_object, others.len(), "{others:?}");
    let good_user_items = written
        .iter()
        .filter(|item| {
            item["pk"]
                .as_str()
                .is_some_and(|pk| pk.starts_with("USER#"))
        })
        .count();
    assert_eq!(good_user_items, GOOD_RECORDS);
    written.sort_by_key(|item| (item["pk"].to_string(), item["sk"].to_string()));
    assert_eq!(written, good_items);

    let diagnostic: lambda_runtime::Diagnostic = InvocationError::from(failure).into();
    assert_eq!(diagnostic.error_type, "ObjectsFailed");
    Failed {
        reason,
        items_of_bad_object,
    }
}

/// Puts a good log file and `bad` (when given) and runs one notification naming both, the bad one
/// first. Returns how it failed, once every promise of the row is checked.
async fn run_with_bad_object<S: ObjectSource<Location = ObjectRef>, K: ItemSink, L: FileLedger>(
    env: &TestEnv,
    pipeline: &Pipeline<S, K, L>,
    bad: Option<Vec<u8>>,
) -> Failed {
    let bad_key = log_key(1);
    let good_key = log_key(2);
    if let Some(bad) = bad {
        env.put(&bad_key, bad).await;
    }
    let good_items = put_good_object(env, &good_key).await;
    let event = cloudtrail_event(&env.bucket, &[&[bad_key.clone(), good_key.clone()]]);
    let failure = invoke(pipeline, event)
        .await
        .expect_err("the invocation must fail when an object fails");
    let bad_object = format!("s3://{}/{bad_key}", env.bucket);
    assert_only_the_bad_object_failed(env, failure, &bad_object, &good_key, &good_items).await
}

/// One row through the production pipeline, with `config`.
async fn run_row_with(env: &TestEnv, config: Config, bad: Option<Vec<u8>>) -> Failed {
    run_with_bad_object(env, &env.pipeline(config), bad).await
}

async fn run_row(test: &str, bad: Option<Vec<u8>>) -> Failed {
    let env = TestEnv::new(test).await;
    run_row_with(&env, env.config(), bad).await
}

#[tokio::test]
async fn a_missing_object_fails_as_no_such_key() {
    let Failed {
        reason,
        items_of_bad_object,
    } = run_row("bad-missing", None).await;
    assert!(
        reason.starts_with("cannot open the object: the object does not exist (NoSuchKey)"),
        "{reason}"
    );
    assert_eq!(items_of_bad_object, 0, "nothing of it could be read");
}

#[tokio::test]
async fn an_object_the_role_cannot_read_fails_as_access_denied() {
    // moto does not enforce IAM: the proxy answers GetObject with S3's 403 AccessDenied.
    let env = TestEnv::new("bad-denied").await;
    let plan = FaultPlan {
        seed: 1,
        get_object: {
            let mut rule = FaultRule::always(Fault::AccessDenied);
            rule.max_total = 1;
            rule
        },
        batch_write: FaultRule::none(),
    };
    let proxy = FaultProxy::start(&env.endpoint, plan).await.unwrap();
    let options = PipelineOptions {
        writer: fast_writer(3),
        ..PipelineOptions::default()
    };
    let pipeline = pipeline_at(&proxy.endpoint(), env.config(), options).await;
    let Failed {
        reason,
        items_of_bad_object,
    } = run_with_bad_object(&env, &pipeline, Some(log_file(&mixed_records(1, 3)))).await;
    assert!(
        reason.starts_with("cannot open the object: access denied"),
        "{reason}"
    );
    assert!(reason.contains("s3:GetObject"), "{reason}");
    // Without s3:ListBucket (the template's role has none) S3 answers 403 for a missing key too.
    assert!(reason.contains("the object may be missing"), "{reason}");
    assert!(reason.contains("s3:ListBucket"), "{reason}");
    assert_eq!(items_of_bad_object, 0, "nothing of it could be read");
}

#[tokio::test]
async fn a_truncated_gzip_fails_as_corrupt_or_truncated() {
    // Cut in the middle of the data, and cut in the trailer (CRC and size).
    let whole = log_file(&mixed_records(3, 20));
    for truncated in [&whole[..whole.len() / 2], &whole[..whole.len() - 12]] {
        let Failed { reason, .. } = run_row("bad-truncated", Some(truncated.to_vec())).await;
        assert!(
            reason.starts_with("cannot read the log file: corrupt or truncated gzip data"),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn an_object_that_is_not_json_fails_as_invalid_json() {
    let Failed {
        reason,
        items_of_bad_object,
    } = run_row(
        "bad-not-json",
        Some(gzip(b"<html><body>not a log</body></html>")),
    )
    .await;
    assert!(
        reason.starts_with("cannot read the log file: invalid JSON at byte 0"),
        "{reason}"
    );
    assert_eq!(items_of_bad_object, 0, "nothing of it could be read");
}

#[tokio::test]
async fn an_object_without_a_records_array_fails_as_no_records() {
    for body in [
        br#"{"logFiles":[]}"#.as_slice(),
        br#"{"records":[]}"#,
        br#"{"Records":{"eventID":"x"}}"#,
        br#"[{"Records":[]}]"#,
        br#""Records""#,
    ] {
        let Failed {
            reason,
            items_of_bad_object,
        } = run_row("bad-no-records", Some(gzip(body))).await;
        assert!(
            reason.starts_with("cannot read the log file: the file is not a JSON object with"),
            "{}: {reason}",
            String::from_utf8_lossy(body)
        );
        assert!(reason.contains("Records"), "{reason}");
        assert_eq!(items_of_bad_object, 0);
    }
}

#[tokio::test]
async fn an_empty_object_fails_as_empty() {
    let Failed {
        reason,
        items_of_bad_object,
    } = run_row("bad-empty", Some(Vec::new())).await;
    assert!(
        reason.starts_with("cannot read the log file: the object is empty"),
        "{reason}"
    );
    assert_eq!(items_of_bad_object, 0, "nothing of it could be read");
}

#[tokio::test]
async fn an_object_over_the_size_cap_fails_as_too_large() {
    let env = TestEnv::new("bad-too-large").await;
    let limit = 200_000;
    let config = env.config_with(&[("MAX_OBJECT_BYTES", &limit.to_string())]);
    // The good object stays under the cap; this one does not.
    let big = log_file(&mixed_records(9, 400));
    let Failed { reason, .. } = run_row_with(&env, config, Some(big)).await;
    assert!(
        reason.starts_with(&format!(
            "cannot read the log file: the object inflates past the limit of {limit} bytes"
        )),
        "{reason}"
    );
    // The error says what to do.
    assert!(reason.contains("MAX_OBJECT_BYTES"), "{reason}");
}

/// A valid start of a log file, then nothing but JSON whitespace, in gzip members of 64 MiB each:
/// 4 MiB on the wire, 4 GiB inflated. Only the cap stops it early; read to the end, it would end
/// in an unterminated array, not in `TooLarge`.
fn decompression_bomb() -> Vec<u8> {
    const MEMBER_BYTES: usize = 64 << 20;
    const MEMBERS: usize = 64;
    let mut first = GzEncoder::new(Vec::new(), Compression::best());
    first.write_all(br#"{"Records":["#).unwrap();
    let spaces = vec![b' '; MEMBER_BYTES];
    first.write_all(&spaces).unwrap();
    let mut bomb = first.finish().unwrap();
    let mut member = GzEncoder::new(Vec::new(), Compression::best());
    member.write_all(&spaces).unwrap();
    let member = member.finish().unwrap();
    for _ in 1..MEMBERS {
        bomb.extend_from_slice(&member);
    }
    bomb
}

#[tokio::test]
async fn a_decompression_bomb_fails_at_the_cap() {
    let env = TestEnv::new("bad-bomb").await;
    let limit = 16 << 20;
    let config = env.config_with(&[("MAX_OBJECT_BYTES", &limit.to_string())]);
    let bomb = decompression_bomb();
    assert!(bomb.len() < 8 << 20);
    let Failed { reason, .. } = run_row_with(&env, config, Some(bomb)).await;
    assert!(
        reason.starts_with(&format!(
            "cannot read the log file: the object inflates past the limit of {limit} bytes"
        )),
        "{reason}"
    );
}

#[tokio::test]
async fn an_object_in_a_bucket_not_allowed_is_refused_without_reading_it() {
    let env = TestEnv::new("bad-bucket").await;
    let config = env.config_with(&[("ALLOWED_BUCKETS", &format!("{},another-trail", env.bucket))]);
    // A forged notification names a bucket the function must not read.
    let stranger = TestEnv::new("bad-bucket-stranger").await;
    let forged_key = log_key(1);
    stranger
        .put(&forged_key, log_file(&mixed_records(5, 4)))
        .await;
    let good_key = log_key(2);
    let good_items = put_good_object(&env, &good_key).await;
    let mut event = cloudtrail_event(&stranger.bucket, &[std::slice::from_ref(&forged_key)]);
    event
        .records
        .extend(cloudtrail_event(&env.bucket, &[std::slice::from_ref(&good_key)]).records);

    let failure = invoke(&env.pipeline(config), event).await.unwrap_err();
    let summary = failure.summary.clone();
    let forged_object = format!("s3://{}/{forged_key}", stranger.bucket);
    // The good object, in the listed bucket, was read and written item for item.
    let Failed {
        reason,
        items_of_bad_object,
    } = assert_only_the_bad_object_failed(&env, failure, &forged_object, &good_key, &good_items)
        .await;
    assert!(
        reason.starts_with(&format!(
            "bucket {:?} is not in ALLOWED_BUCKETS",
            stranger.bucket
        )),
        "{reason}"
    );
    // Not read: no record of the forged object was counted, no item of it written.
    assert_eq!(items_of_bad_object, 0);
    assert_eq!(summary.counts.a4b_records, GOOD_RECORDS as u64);
    assert_eq!(
        env.event_items().await.len() as u64,
        summary.counts.items_written
    );
}

#[tokio::test]
async fn a_missing_table_fails_the_object_with_a_clear_error() {
    let env = TestEnv::new("no-table").await;
    let key = log_key(1);
    put_good_object(&env, &key).await;
    let config = env.config_with(&[("TABLE_NAME", "no-such-table")]);
    let error = invoke(
        &env.pipeline(config),
        cloudtrail_event(&env.bucket, &[std::slice::from_ref(&key)]),
    )
    .await
    .expect_err("the invocation fails");
    let text = error.to_string();
    assert!(
        text.contains(&format!("s3://{}/{key}", env.bucket)) && text.contains("no-such-table"),
        "{text}"
    );
}
