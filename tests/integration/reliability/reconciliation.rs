//! Reconciliation for failed objects too (SPEC section 4): a file that fails part-way counts what
//! was read before the failure, and its counts add up.

use super::support::mixed_records;
use crate::harness::{TestEnv, cloudtrail_event, invoke, log_file, log_key, pipeline_at};

#[tokio::test]
async fn a_file_cut_short_counts_what_was_read_before_the_failure_and_reconciles() {
    let env = TestEnv::new("reconcile-failed").await;
    let key = log_key(4);
    let whole = log_file(&mixed_records(9, 400));
    // Cut past the middle of the compressed data: the records before the cut are read.
    env.put(&key, whole[..whole.len() * 3 / 4].to_vec()).await;

    let failure = invoke(
        &pipeline_at(&env.endpoint, env.config(), Default::default()).await,
        cloudtrail_event(&env.bucket, &[std::slice::from_ref(&key)]),
    )
    .await
    .expect_err("a truncated file fails");

    let summary = &failure.summary;
    let counts = &summary.counts;
    assert_eq!(summary.objects_failed, 1, "{summary:?}");
    assert!(counts.records_read > 0, "{summary:?}");
    assert!(
        counts.a4b_records > 0 && counts.other_records > 0,
        "{summary:?}"
    );
    assert_eq!(
        counts.records_read,
        counts.a4b_records + counts.other_records + counts.records_rejected,
        "{summary:?}"
    );
    assert_eq!(summary.objects_unreconciled, 0, "{summary:?}");
    assert!(counts.items_built >= counts.items_written, "{summary:?}");
}
