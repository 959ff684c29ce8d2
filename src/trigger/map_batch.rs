//! A batch of a Step Functions Distributed Map (the backfill on AWS, SPEC sections 1b and 6): the
//! response lists every file with its outcome, and the invocation's summary:
//!
//! ```json
//! {"files":[{"key":"AWSLogs/…json.gz","outcome":"processed","transient":false,"reason":null},…],
//!  "summary":{…}}
//! ```
//!
//! A transient failure of any file fails the invocation (`errorType` `TransientObjectFailure`) so
//! that the map's retrier runs the batch again; permanent failures are listed, not retried.

use a4b_audit_core::trigger::map_batch::MapBatch;
use serde::Serialize;

use super::InvocationError;
use crate::invocation::Invocation;
use crate::notification::IgnoreReason;
use crate::object::ObjectOutcome;
use crate::summary::InvocationSummary;

/// Transient failures the error names, at most (a batch may hold thousands of files).
const REASONS_IN_ERROR: usize = 10;

/// What became of one file, as the response lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileOutcome {
    Processed,
    Skipped,
    Failed,
}

/// One file of the response.
#[derive(Debug, Serialize)]
pub struct FileResult {
    pub key: String,
    pub outcome: FileOutcome,
    /// A failure that a retry of the batch may fix (throttling, 5xx, timeouts, the deadline).
    pub transient: bool,
    /// Why it was skipped or failed; `null` when processed.
    pub reason: Option<String>,
}

/// The response: each item's file, in the order of `Items`, and the invocation's summary.
#[derive(Debug, Serialize)]
pub struct MapBatchResponse {
    pub files: Vec<FileResult>,
    pub summary: InvocationSummary,
}

pub(super) fn respond(
    batch: &MapBatch,
    invocation: Invocation,
) -> Result<MapBatchResponse, InvocationError> {
    let files: Vec<FileResult> = batch
        .keys()
        .enumerate()
        .map(|(index, key)| match invocation.objects_of(index).next() {
            Some(report) => file_result(key, &report.outcome),
            None => FileResult {
                key: key.to_owned(),
                outcome: FileOutcome::Failed,
                transient: false,
                reason: Some(IgnoreReason::EmptyKey.to_string()),
            },
        })
        .collect();
    let transient: Vec<&FileResult> = files.iter().filter(|file| file.transient).collect();
    if !transient.is_empty() {
        let mut reasons: Vec<String> = transient
            .iter()
            .take(REASONS_IN_ERROR)
            .map(|file| format!("{}: {}", file.key, file.reason.as_deref().unwrap_or("")))
            .collect();
        if transient.len() > REASONS_IN_ERROR {
            reasons.push(format!("and {} more", transient.len() - REASONS_IN_ERROR));
        }
        return Err(InvocationError::TransientFailure {
            count: transient.len(),
            reasons: reasons.join("; "),
        });
    }
    Ok(MapBatchResponse {
        files,
        summary: invocation.summary,
    })
}

/// The response's line for the file `key` that ended as `outcome`.
pub fn file_result(key: &str, outcome: &ObjectOutcome) -> FileResult {
    let (outcome, transient, reason) = match outcome {
        ObjectOutcome::Processed(_) => (FileOutcome::Processed, false, None),
        ObjectOutcome::Skipped(reason) => (FileOutcome::Skipped, false, Some((*reason).to_owned())),
        ObjectOutcome::Failed(failure) => (
            FileOutcome::Failed,
            failure.error.is_transient(),
            Some(failure.error.to_string()),
        ),
    };
    FileResult {
        key: key.to_owned(),
        outcome,
        transient,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use a4b_audit_core::notification::ObjectRef;
    use serde_json::Value;

    use super::*;
    use crate::invocation::ObjectReport;
    use crate::object::{ObjectError, ObjectFailure};
    use crate::source::SourceError;
    use crate::summary::ObjectCounts;
    use crate::trigger::{Response, Trigger};

    const LOG_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1205Z_Ab12Cd34Ef56Gh78.json.gz";

    fn batch(items: Value) -> MapBatch {
        let payload = json!({"Items": items, "BatchInput": {"Bucket": "trail-bucket"}});
        match Trigger::recognise(payload).unwrap() {
            Trigger::MapBatch(batch) => batch,
            other => panic!("not a map batch: {other:?}"),
        }
    }

    fn failed(key: &str, error: ObjectError) -> ObjectOutcome {
        ObjectOutcome::Failed(ObjectFailure {
            object: object(key).to_string(),
            error,
            counts: ObjectCounts::default(),
        })
    }

    fn object(key: &str) -> ObjectRef {
        ObjectRef {
            bucket: "trail-bucket".to_owned(),
            key: key.to_owned(),
        }
    }

    /// The invocation in which the i-th item's object ended as `outcomes[i]`.
    fn invocation(keys: &[&str], outcomes: Vec<ObjectOutcome>) -> Invocation {
        let objects: Vec<ObjectReport> = keys
            .iter()
            .zip(outcomes)
            .map(|(key, outcome)| ObjectReport {
                object: object(key),
                outcome,
            })
            .collect();
        Invocation {
            summary: InvocationSummary::default(),
            named: (0..objects.len()).map(|index| vec![index]).collect(),
            objects,
        }
    }

    #[test]
    fn every_file_is_listed_with_its_outcome_and_permanent_failures_do_not_fail_the_batch() {
        let keys = [LOG_KEY, "AWSLogs/digest.json.gz", "AWSLogs/missing.json.gz"];
        let batch = batch(json!([{"Key": keys[0]}, {"Key": keys[1]}, {"Key": keys[2]}]));
        let outcomes = vec![
            ObjectOutcome::Processed(ObjectCounts::default()),
            ObjectOutcome::Skipped("digest file"),
            failed(keys[2], ObjectError::Source(SourceError::NotFound)),
        ];
        let response = respond(&batch, invocation(&keys, outcomes)).unwrap();
        let value = serde_json::to_value(Response::MapBatch(response)).unwrap();
        assert_eq!(
            value["files"],
            json!([
                {"key": keys[0], "outcome": "processed", "transient": false, "reason": null},
                {"key": keys[1], "outcome": "skipped", "transient": false, "reason": "digest file"},
                {"key": keys[2], "outcome": "failed", "transient": false,
                 "reason": ObjectError::Source(SourceError::NotFound).to_string()},
            ])
        );
        assert_eq!(
            value["summary"]["objects_failed"], 0,
            "the summary is the invocation's"
        );
    }

    #[test]
    fn a_transient_failure_fails_the_batch_so_that_the_map_retries_it() {
        let keys = [LOG_KEY, "AWSLogs/slow.json.gz"];
        let batch = batch(json!([{"Key": keys[0]}, {"Key": keys[1]}]));
        let outcomes = vec![
            ObjectOutcome::Processed(ObjectCounts::default()),
            failed(keys[1], ObjectError::DeadlineExceeded),
        ];
        let error = respond(&batch, invocation(&keys, outcomes)).unwrap_err();
        assert_eq!(error.error_type(), "TransientObjectFailure");
        assert!(error.to_string().contains(keys[1]), "{error}");
        assert!(!error.to_string().contains(keys[0]), "{error}");
    }

    #[test]
    fn an_item_with_an_empty_key_is_listed_as_a_permanent_failure() {
        let batch = batch(json!([{"Key": ""}]));
        let response = respond(&batch, invocation(&[], Vec::new())).unwrap();
        assert_eq!(response.files.len(), 1);
        assert_eq!(response.files[0].outcome, FileOutcome::Failed);
        assert!(!response.files[0].transient);
    }
}
