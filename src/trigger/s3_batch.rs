//! S3 Batch Operations, invocation schemas 1.0 and 2.0: one result per task, `Succeeded`,
//! `TemporaryFailure` (a retry may fix it) or `PermanentFailure`, with a `resultString` for the
//! job's completion report.
//!
//! Modelled here rather than with `aws_lambda_events`' `S3BatchJobEvent`, which knows schema 1.0
//! only: 2.0 names the bucket in `s3Bucket` (not `s3BucketArn`) and carries `job.userArguments`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::info;

use super::PayloadError;
use crate::invocation::{Delivery, Invocation, KeyForm};
use crate::notification::{self, IgnoreReason, Notification, ObjectRef};
use crate::object::ObjectOutcome;

const TASK_WITHOUT_BUCKET: IgnoreReason = IgnoreReason::MissingBucket {
    field: "s3Bucket` or `s3BucketArn",
};

/// Characters of a `resultString`, at most: the completion report is for people.
const RESULT_STRING_CHARS: usize = 1_000;

/// One invocation of a Batch Operations job.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJob {
    invocation_schema_version: String,
    invocation_id: String,
    #[serde(default)]
    job: Job,
    tasks: Vec<Task>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    #[serde(default)]
    id: Option<String>,
    /// Schema 2.0: the job's user arguments. The function takes none; they are logged.
    #[serde(default)]
    user_arguments: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    task_id: String,
    /// Form-URL-encoded (`+` is a space).
    s3_key: String,
    /// Schema 1.0: `arn:aws:s3:::bucket`.
    #[serde(default)]
    s3_bucket_arn: Option<String>,
    /// Schema 2.0.
    #[serde(default)]
    s3_bucket: Option<String>,
}

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

impl BatchJob {
    pub(super) fn from_payload(payload: Value) -> Result<Self, PayloadError> {
        let job: BatchJob =
            serde_json::from_value(payload).map_err(|error| PayloadError::Malformed {
                kind: "an S3 Batch Operations invocation",
                reason: error.to_string(),
            })?;
        info!(
            schema = %job.invocation_schema_version,
            job_id = job.job.id.as_deref().unwrap_or(""),
            tasks = job.tasks.len(),
            user_arguments = job.job.user_arguments.as_ref().map_or(0, Map::len),
            "S3 Batch Operations invocation"
        );
        Ok(job)
    }

    pub(super) fn deliveries(&self) -> Vec<Delivery> {
        self.tasks
            .iter()
            .map(|task| Delivery {
                id: task.task_id.clone(),
                message_bytes: 0,
                notification: Notification::one(task.object()),
                keys: KeyForm::AsNamed,
            })
            .collect()
    }

    /// One result per task, in the order of the tasks, echoing the schema version and id.
    pub(super) fn respond(&self, invocation: &Invocation) -> BatchJobResponse {
        let results = self
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task)| {
                let (result_code, result_string) = match invocation.objects_of(index).next() {
                    Some(report) => task_result(&report.outcome),
                    None => match task.object() {
                        Err(reason) => (ResultCode::PermanentFailure, reason.to_string()),
                        Ok(object) => (
                            ResultCode::PermanentFailure,
                            format!("{object} was not processed: this is a bug, please report it"),
                        ),
                    },
                };
                TaskResult {
                    task_id: task.task_id.clone(),
                    result_code,
                    result_string: at_most(result_string, RESULT_STRING_CHARS),
                }
            })
            .collect();
        BatchJobResponse {
            invocation_schema_version: self.invocation_schema_version.clone(),
            treat_missing_keys_as: ResultCode::PermanentFailure,
            invocation_id: self.invocation_id.clone(),
            results,
        }
    }
}

impl Task {
    fn object(&self) -> Result<ObjectRef, IgnoreReason> {
        let bucket = match (&self.s3_bucket, &self.s3_bucket_arn) {
            (Some(bucket), _) if !bucket.is_empty() => bucket.clone(),
            (_, Some(arn)) => bucket_of_arn(arn).ok_or(TASK_WITHOUT_BUCKET)?,
            _ => return Err(TASK_WITHOUT_BUCKET),
        };
        if self.s3_key.is_empty() {
            return Err(IgnoreReason::EmptyKey);
        }
        let key = notification::form_decode_key(&self.s3_key)?;
        Ok(ObjectRef { bucket, key })
    }
}

/// `arn:<partition>:s3:::bucket` -> `bucket`.
fn bucket_of_arn(arn: &str) -> Option<String> {
    let (prefix, bucket) = arn.split_once(":::")?;
    let is_s3_arn = prefix.starts_with("arn:") && prefix.ends_with(":s3");
    (is_s3_arn && !bucket.is_empty() && !bucket.contains('/')).then(|| bucket.to_owned())
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
    use serde_json::json;

    use super::*;
    use crate::invocation::ObjectReport;
    use crate::object::{ObjectError, ObjectFailure};
    use crate::source::{ObjectLocation, SourceError};
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

    fn objects_of(job: &BatchJob) -> Vec<Result<ObjectRef, IgnoreReason>> {
        job.tasks.iter().map(Task::object).collect()
    }

    fn with_key(schema: &str, key: &str) -> Value {
        let mut payload = reference(&format!("events/s3-batch-operations-schema-{schema}.json"));
        payload["tasks"][0]["s3Key"] = json!(key);
        payload
    }

    /// The response when the only task's object ended as `outcome`.
    fn respond(payload: Value, outcome: ObjectOutcome) -> Value {
        let job = job(payload);
        let object = job.tasks[0].object().unwrap();
        let invocation = Invocation {
            summary: InvocationSummary::default(),
            objects: vec![ObjectReport { object, outcome }],
            named: vec![vec![0]],
        };
        serde_json::to_value(Response::S3Batch(job.respond(&invocation))).unwrap()
    }

    fn failed(error: ObjectError) -> ObjectOutcome {
        ObjectOutcome::Failed(ObjectFailure {
            object: ObjectLocation::S3(ObjectRef {
                bucket: "b".to_owned(),
                key: "k".to_owned(),
            }),
            error,
            counts: ObjectCounts::default(),
        })
    }

    #[test]
    fn schema_1_names_the_bucket_by_its_arn() {
        let job = job(reference("events/s3-batch-operations-schema-1.0.json"));
        assert_eq!(
            objects_of(&job),
            [Ok(ObjectRef {
                bucket: "powertools-dataset".to_owned(),
                key: "prefix/dataset/dataset.20231222.json.gz".to_owned(),
            })]
        );
    }

    #[test]
    fn schema_2_names_the_bucket_and_carries_user_arguments() {
        let job = job(reference("events/s3-batch-operations-schema-2.0.json"));
        assert_eq!(
            objects_of(&job)[0].as_ref().unwrap().bucket,
            "powertools-dataset"
        );
        assert_eq!(
            job.job.user_arguments.as_ref().map(Map::len),
            Some(2),
            "{job:?}"
        );
    }

    #[test]
    fn keys_are_form_url_decoded_plus_as_space_and_percent_2b_as_plus() {
        for schema in ["1.0", "2.0"] {
            let job = job(with_key(schema, "trail+logs/team%2Ba4b/x.json.gz"));
            assert_eq!(
                objects_of(&job)[0].as_ref().unwrap().key,
                "trail logs/team+a4b/x.json.gz",
                "{schema}"
            );
        }
    }

    #[test]
    fn a_task_for_a_digest_file_succeeds_as_skipped() {
        let response = respond(
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
        let code = |outcome| respond(payload(), outcome)["results"][0]["resultCode"].clone();
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
        let response = respond(
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
        let invocation = Invocation {
            summary: InvocationSummary::default(),
            objects: Vec::new(),
            named: vec![Vec::new()],
        };
        let response = job.respond(&invocation);
        assert_eq!(
            response.results[0].result_code,
            ResultCode::PermanentFailure
        );
        assert_eq!(
            response.results[0].result_string,
            TASK_WITHOUT_BUCKET.to_string()
        );
    }
}
