//! A batch of a Step Functions Distributed Map (the backfill on AWS, SPEC sections 1b and 6):
//! `{"Items":[{"Key":…},…],"BatchInput":{"Bucket":…}}`, keys raw (not URL-encoded), more columns
//! of the manifest allowed in `Items`.
//!
//! The response lists every file with its outcome, and the invocation's summary:
//!
//! ```json
//! {"files":[{"key":"AWSLogs/…json.gz","outcome":"processed","transient":false,"reason":null},…],
//!  "summary":{…}}
//! ```
//!
//! A transient failure of any file fails the invocation (`errorType` `TransientObjectFailure`) so
//! that the map's retrier runs the batch again; permanent failures are listed, not retried.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{InvocationError, PayloadError};
use crate::invocation::{Delivery, Invocation, KeyForm};
use crate::notification::{IgnoreReason, Notification, ObjectRef};
use crate::object::ObjectOutcome;
use crate::summary::InvocationSummary;

/// Transient failures the error names, at most (a batch may hold thousands of files).
const REASONS_IN_ERROR: usize = 10;

/// One batch of the map.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapBatch {
    items: Vec<MapItem>,
    batch_input: BatchInput,
}

/// One row of the manifest; columns other than `Key` are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MapItem {
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchInput {
    bucket: String,
}

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

impl MapBatch {
    pub(super) fn from_payload(payload: Value) -> Result<Self, PayloadError> {
        let malformed = |reason: String| PayloadError::Malformed {
            kind: "a Distributed Map batch",
            reason: format!(
                "{reason} (expected {{\"Items\":[{{\"Key\":…}},…],\"BatchInput\":{{\"Bucket\":…}}}})"
            ),
        };
        let batch: MapBatch =
            serde_json::from_value(payload).map_err(|error| malformed(error.to_string()))?;
        if batch.batch_input.bucket.is_empty() {
            return Err(malformed("`BatchInput.Bucket` is empty".to_owned()));
        }
        Ok(batch)
    }

    pub(super) fn deliveries(&self) -> Vec<Delivery> {
        self.items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let named = if item.key.is_empty() {
                    Err(IgnoreReason::EmptyKey)
                } else {
                    Ok(ObjectRef {
                        bucket: self.batch_input.bucket.clone(),
                        key: item.key.clone(),
                    })
                };
                Delivery {
                    id: format!("Items[{index}]"),
                    message_bytes: 0,
                    notification: Notification::one(named),
                    keys: KeyForm::AsNamed,
                }
            })
            .collect()
    }

    pub(super) fn respond(
        &self,
        invocation: Invocation,
    ) -> Result<MapBatchResponse, InvocationError> {
        let files: Vec<FileResult> = self
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| match invocation.objects_of(index).next() {
                Some(report) => file_result(&item.key, &report.outcome),
                None => FileResult {
                    key: item.key.clone(),
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

    use super::*;
    use crate::invocation::ObjectReport;
    use crate::object::{ObjectError, ObjectFailure};
    use crate::source::{ObjectLocation, SourceError};
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
            object: ObjectLocation::S3(object(key)),
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
    fn keys_are_taken_raw_and_extra_columns_are_ignored() {
        let batch = batch(json!([
            {"Key": "trail logs/team+a4b/x%2B.json.gz", "Size": 10, "Etag": "e"},
            {"Key": LOG_KEY}
        ]));
        let objects: Vec<Vec<ObjectRef>> = batch
            .deliveries()
            .into_iter()
            .map(|delivery| match delivery.notification {
                Notification::Objects { objects, .. } => objects,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            objects,
            [
                vec![object("trail logs/team+a4b/x%2B.json.gz")],
                vec![object(LOG_KEY)]
            ]
        );
    }

    #[test]
    fn a_batch_without_its_bucket_is_refused_saying_what_is_expected() {
        let error = Trigger::recognise(json!({"Items": [{"Key": LOG_KEY}]})).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("Distributed Map batch"), "{text}");
        assert!(text.contains("BatchInput"), "{text}");
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
        let response = batch.respond(invocation(&keys, outcomes)).unwrap();
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
        let error = batch.respond(invocation(&keys, outcomes)).unwrap_err();
        assert_eq!(error.error_type(), "TransientObjectFailure");
        assert!(error.to_string().contains(keys[1]), "{error}");
        assert!(!error.to_string().contains(keys[0]), "{error}");
    }

    #[test]
    fn a_batch_with_an_empty_bucket_is_refused() {
        let payload = json!({"Items": [{"Key": LOG_KEY}], "BatchInput": {"Bucket": ""}});
        let text = Trigger::recognise(payload).unwrap_err().to_string();
        assert!(text.contains("`BatchInput.Bucket` is empty"), "{text}");
    }

    #[test]
    fn an_item_with_an_empty_key_is_listed_as_a_permanent_failure() {
        let batch = batch(json!([{"Key": ""}]));
        let response = batch.respond(invocation(&[], Vec::new())).unwrap();
        assert_eq!(response.files.len(), 1);
        assert_eq!(response.files[0].outcome, FileOutcome::Failed);
        assert!(!response.files[0].transient);
    }
}
