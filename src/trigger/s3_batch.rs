//! S3 Batch Operations: one result per task, `Succeeded`, `TemporaryFailure` (a retry may fix it)
//! or `PermanentFailure`, with a `resultString` for the job's completion report.

use a4b_audit_core::trigger::s3_batch::BatchJob;
use serde::Serialize;

use crate::invocation::Invocation;
use crate::object::ObjectOutcome;

/// Characters of a `resultString`, at most: the completion report is for people.
const RESULT_STRING_CHARS: usize = 1_000;

/// The response S3 Batch Operations reads.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJobResponse {
    pub invocation_schema_version: String,
    pub treat_missing_keys_as: ResultCode,
    pub invocation_id: String,
    pub results: Vec<TaskResult>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub task_id: String,
    pub result_code: ResultCode,
    pub result_string: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResultCode {
    Succeeded,
    TemporaryFailure,
    PermanentFailure,
}

/// One result per task, in the order of the tasks, echoing the schema version and id.
pub(super) fn respond(job: &BatchJob, invocation: &Invocation) -> BatchJobResponse {
    let results = job
        .tasks()
        .enumerate()
        .map(|(index, (task_id, object))| {
            let (result_code, result_string) = match invocation.objects_of(index).next() {
                Some(report) => task_result(&report.outcome),
                None => match object {
                    Err(reason) => (ResultCode::PermanentFailure, reason.to_string()),
                    Ok(object) => (
                        ResultCode::PermanentFailure,
                        format!("{object} was not processed: this is a bug, please report it"),
                    ),
                },
            };
            TaskResult {
                task_id: task_id.to_owned(),
                result_code,
                result_string: at_most(result_string, RESULT_STRING_CHARS),
            }
        })
        .collect();
    BatchJobResponse {
        invocation_schema_version: job.schema_version().to_owned(),
        treat_missing_keys_as: ResultCode::PermanentFailure,
        invocation_id: job.invocation_id().to_owned(),
        results,
    }
}

/// The result of the task whose object ended as `outcome`.
pub fn task_result(outcome: &ObjectOutcome) -> (ResultCode, String) {
    match outcome {
        ObjectOutcome::Processed(counts) => (
            ResultCode::Succeeded,
            format!(
                "processed: {} records read, {} A4B records, {} items written",
                counts.records_read, counts.a4b_records, counts.items_written
            ),
        ),
        ObjectOutcome::Skipped(reason) => (ResultCode::Succeeded, format!("skipped: {reason}")),
        ObjectOutcome::Failed(failure) if failure.error.is_transient() => {
            (ResultCode::TemporaryFailure, failure.error.to_string())
        }
        ObjectOutcome::Failed(failure) => (ResultCode::PermanentFailure, failure.error.to_string()),
    }
}

fn at_most(mut text: String, chars: usize) -> String {
    if let Some((end, _)) = text.char_indices().nth(chars) {
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::invocation::ObjectReport;
    use crate::notification::ObjectRef;
    use crate::object::{ObjectError, ObjectFailure};
    use crate::source::SourceError;
    use crate::summary::{InvocationSummary, ObjectCounts};
    use crate::trigger::tests::reference;
    use crate::trigger::{Response, Trigger};

    const DIGEST_KEY: &str = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/10/123456789012_CloudTrail-Digest_us-east-1_a4b-trail_us-east-1_20230710T131500Z.json.gz";

    fn job(payload: Value) -> BatchJob {
        match Trigger::recognise(payload).unwrap() {
            Trigger::S3Batch(job) => job,
            other => panic!("not S3 Batch: {other:?}"),
        }
    }

    fn with_key(schema: &str, key: &str) -> Value {
        let mut payload = reference(&format!("events/s3-batch-operations-schema-{schema}.json"));
        payload["tasks"][0]["s3Key"] = json!(key);
        payload
    }

    /// The response when the only task's object ended as `outcome`.
    fn response_to(payload: Value, outcome: ObjectOutcome) -> Value {
        let job = job(payload);
        let (_, object) = job.tasks().next().unwrap();
        let object = object.unwrap();
        let invocation = Invocation {
            summary: InvocationSummary::default(),
            objects: vec![ObjectReport { object, outcome }],
            named: vec![vec![0]],
        };
        serde_json::to_value(Response::S3Batch(respond(&job, &invocation))).unwrap()
    }

    fn failed(error: ObjectError) -> ObjectOutcome {
        ObjectOutcome::Failed(ObjectFailure {
            object: ObjectRef {
                bucket: "b".to_owned(),
                key: "k".to_owned(),
            }
            .to_string(),
            error,
            counts: ObjectCounts::default(),
        })
    }

    #[test]
    fn a_task_for_a_digest_file_succeeds_as_skipped() {
        let response = response_to(
            with_key("2.0", DIGEST_KEY),
            ObjectOutcome::Skipped("digest file"),
        );
        assert_eq!(
            response,
            json!({
                "invocationSchemaVersion": "2.0",
                "treatMissingKeysAs": "PermanentFailure",
                "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
                "results": [{
                    "taskId": "dGFza2lkZ29lc2hlcmUK",
                    "resultCode": "Succeeded",
                    "resultString": "skipped: digest file"
                }]
            })
        );
    }

    #[test]
    fn result_codes_separate_what_a_retry_may_fix_from_what_it_cannot() {
        let payload = || reference("events/s3-batch-operations-schema-1.0.json");
        let code = |outcome| response_to(payload(), outcome)["results"][0]["resultCode"].clone();
        assert_eq!(
            code(ObjectOutcome::Processed(ObjectCounts::default())),
            "Succeeded"
        );
        assert_eq!(
            code(failed(ObjectError::DeadlineExceeded)),
            "TemporaryFailure"
        );
        assert_eq!(
            code(failed(ObjectError::Source(SourceError::Other(
                "503".to_owned()
            )))),
            "TemporaryFailure"
        );
        assert_eq!(
            code(failed(ObjectError::Source(SourceError::NotFound))),
            "PermanentFailure"
        );
        assert_eq!(
            code(failed(ObjectError::Source(SourceError::AccessDenied))),
            "PermanentFailure"
        );
        let response = response_to(
            payload(),
            failed(ObjectError::Source(SourceError::NotFound)),
        );
        let result_string = response["results"][0]["resultString"].as_str().unwrap();
        assert!(result_string.contains("NoSuchKey"), "{result_string}");
    }

    #[test]
    fn a_task_without_a_usable_bucket_fails_permanently_saying_so() {
        let mut payload = reference("events/s3-batch-operations-schema-1.0.json");
        payload["tasks"][0]["s3BucketArn"] = json!("not-an-arn");
        let job = job(payload);
        let (_, no_bucket) = job.tasks().next().unwrap();
        let invocation = Invocation {
            summary: InvocationSummary::default(),
            objects: Vec::new(),
            named: vec![Vec::new()],
        };
        let response = respond(&job, &invocation);
        assert_eq!(
            response.results[0].result_code,
            ResultCode::PermanentFailure
        );
        assert_eq!(
            response.results[0].result_string,
            no_bucket.unwrap_err().to_string()
        );
    }
}
