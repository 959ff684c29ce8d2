//! SPEC section 4, one test per row: an object that cannot be read fails with an error naming
//! `s3://bucket/key` and the cause, the other objects of the same notification are still written,
//! and the invocation fails so that the notification is kept.

use std::io::Write;

use a4b_audit::config::Config;
use a4b_audit::handler::InvocationFailed;
use a4b_audit::pipeline::PipelineOptions;
use a4b_audit_devtools::fault_proxy::{Fault, FaultPlan, FaultProxy, FaultRule};
use flate2::Compression;
use flate2::write::GzEncoder;

use super::support::{Scene, fast_writer, gzip, log_file, log_key, mixed_records, sns_event};

/// A4B records in the good object each test sends along.
const GOOD_RECORDS: usize = 12;

/// Puts a good log file and `bad` (when given) and runs one notification naming both, the bad one
/// first. Returns the failure and checks that the good object was written all the same.
async fn run_with_bad_object(
    scene: &Scene,
    endpoint: &str,
    config: Config,
    bad: Option<Vec<u8>>,
) -> (InvocationFailed, String) {
    let bad_key = log_key(1);
    let good_key = log_key(2);
    if let Some(bad) = bad {
        scene.put(&bad_key, bad).await;
    }
    scene
        .put(&good_key, log_file(&mixed_records(7, GOOD_RECORDS)))
        .await;
    let options = PipelineOptions {
        writer: fast_writer(3),
        ..PipelineOptions::default()
    };
    let event = sns_event(&scene.bucket, &[&[bad_key.clone(), good_key.clone()]]);
    let failure = scene
        .invoke(endpoint, config, options, event)
        .await
        .expect_err("the invocation must fail when an object fails");

    let summary = &failure.summary;
    assert_eq!(summary.objects_failed, 1, "{summary:?}");
    assert_eq!(summary.objects_processed, 1, "{summary:?}");
    // Every record of the good object is in the table (a user item each).
    let good_uri = format!("s3://{}/{good_key}", scene.bucket);
    let good_user_items = scene
        .table_items(&scene.table)
        .await
        .into_iter()
        .filter(|item| {
            item["source_object"]
                .as_s()
                .is_ok_and(|uri| *uri == good_uri)
        })
        .filter(|item| item["pk"].as_s().is_ok_and(|pk| pk.starts_with("USER#")))
        .count();
    assert_eq!(good_user_items, GOOD_RECORDS);

    let note = &summary.failed[0];
    assert_eq!(note.object, format!("s3://{}/{bad_key}", scene.bucket));
    // The invocation's error names the object and the cause too.
    assert!(failure.to_string().contains(&note.object), "{failure}");
    let reason = note.reason.clone();
    (failure, reason)
}

async fn run_row(test: &str, bad: Option<Vec<u8>>) -> String {
    let scene = Scene::new(test).await;
    let config = scene.config(&scene.table);
    run_with_bad_object(&scene, &scene.moto.endpoint(), config, bad)
        .await
        .1
}

#[tokio::test]
async fn a_missing_object_fails_as_no_such_key() {
    let reason = run_row("bad-missing", None).await;
    assert!(
        reason.starts_with("cannot open the object: the object does not exist (NoSuchKey)"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_object_the_role_cannot_read_fails_as_access_denied() {
    // moto does not enforce IAM: the proxy answers GetObject with S3's 403 AccessDenied.
    let scene = Scene::new("bad-denied").await;
    let plan = FaultPlan {
        seed: 1,
        get_object: {
            let mut rule = FaultRule::always(Fault::AccessDenied);
            rule.max_total = 1;
            rule
        },
        batch_write: FaultRule::none(),
    };
    let proxy = FaultProxy::start(&scene.moto.endpoint(), plan)
        .await
        .unwrap();
    let config = scene.config(&scene.table);
    let (_, reason) = run_with_bad_object(
        &scene,
        &proxy.endpoint(),
        config,
        Some(log_file(&mixed_records(1, 3))),
    )
    .await;
    assert!(
        reason.starts_with("cannot open the object: access denied"),
        "{reason}"
    );
    assert!(reason.contains("s3:GetObject"), "{reason}");
}

#[tokio::test]
async fn a_truncated_gzip_fails_as_corrupt_or_truncated() {
    let whole = log_file(&mixed_records(3, 20));
    let truncated = whole[..whole.len() / 2].to_vec();
    let reason = run_row("bad-truncated", Some(truncated)).await;
    assert!(
        reason.starts_with("cannot read the log file: corrupt or truncated gzip data"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_object_that_is_not_json_fails_as_invalid_json() {
    let reason = run_row(
        "bad-not-json",
        Some(gzip(b"<html><body>not a log</body></html>")),
    )
    .await;
    assert!(
        reason.starts_with("cannot read the log file: invalid JSON at byte 0"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_object_without_a_records_array_fails_as_no_records() {
    for body in [
        br#"{"records":[]}"#.as_slice(),
        br#"{"Records":{"eventID":"x"}}"#,
        br#"[{"Records":[]}]"#,
        br#""Records""#,
    ] {
        let reason = run_row("bad-no-records", Some(gzip(body))).await;
        assert!(
            reason.starts_with("cannot read the log file: the file is not a JSON object with"),
            "{}: {reason}",
            String::from_utf8_lossy(body)
        );
    }
}

#[tokio::test]
async fn an_empty_object_fails_as_empty() {
    let reason = run_row("bad-empty", Some(Vec::new())).await;
    assert!(
        reason.starts_with("cannot read the log file: the object is empty"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_object_over_the_size_cap_fails_as_too_large() {
    let scene = Scene::new("bad-too-large").await;
    let limit = 200_000;
    let mut config = scene.config(&scene.table);
    config.max_object_bytes = limit;
    // The good object of the helper stays under the cap; this one does not.
    let big = log_file(&mixed_records(9, 400));
    let (_, reason) = run_with_bad_object(&scene, &scene.moto.endpoint(), config, Some(big)).await;
    assert!(
        reason.starts_with(&format!(
            "cannot read the log file: the object inflates past the limit of {limit} bytes"
        )),
        "{reason}"
    );
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
    let scene = Scene::new("bad-bomb").await;
    let limit = 16 << 20;
    let mut config = scene.config(&scene.table);
    config.max_object_bytes = limit;
    let bomb = decompression_bomb();
    assert!(bomb.len() < 8 << 20);
    let (_, reason) = run_with_bad_object(&scene, &scene.moto.endpoint(), config, Some(bomb)).await;
    assert!(
        reason.starts_with(&format!(
            "cannot read the log file: the object inflates past the limit of {limit} bytes"
        )),
        "{reason}"
    );
}

#[tokio::test]
async fn an_object_in_a_bucket_not_allowed_is_refused_without_reading_it() {
    let scene = Scene::new("bad-bucket").await;
    let allowed = scene.bucket.clone();
    let table = scene.table.clone();
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "ALLOWED_BUCKETS" => Some(format!("{allowed},another-trail")),
        _ => None,
    })
    .unwrap();
    // A forged notification names a bucket the function must not read.
    let stranger = Scene::new("bad-bucket-stranger").await;
    let forged_key = log_key(1);
    stranger
        .put(&forged_key, log_file(&mixed_records(5, 4)))
        .await;
    let good_key = log_key(2);
    scene
        .put(&good_key, log_file(&mixed_records(7, GOOD_RECORDS)))
        .await;
    let mut event = sns_event(&stranger.bucket, &[std::slice::from_ref(&forged_key)]);
    event
        .records
        .extend(sns_event(&scene.bucket, &[&[good_key]]).records);

    let failure = scene
        .invoke(
            &scene.moto.endpoint(),
            config,
            PipelineOptions::default(),
            event,
        )
        .await
        .unwrap_err();
    let summary = &failure.summary;
    assert_eq!(summary.objects_failed, 1);
    assert_eq!(summary.objects_processed, 1);
    assert_eq!(
        summary.failed[0].object,
        format!("s3://{}/{forged_key}", stranger.bucket)
    );
    assert!(
        summary.failed[0].reason.starts_with(&format!(
            "bucket {:?} is not in ALLOWED_BUCKETS",
            stranger.bucket
        )),
        "{summary:?}"
    );
    assert_eq!(summary.counts.a4b_records, GOOD_RECORDS as u64);
    assert!(stranger.table_items(&scene.table).await.len() as u64 == summary.counts.items_written);
}
