//! S3 Batch Operations, invocation schemas 1.0 and 2.0: one task an object.
//!
//! Modelled here rather than with `aws_lambda_events`' `S3BatchJobEvent`, which knows schema 1.0
//! only: 2.0 names the bucket in `s3Bucket` (not `s3BucketArn`) and carries `job.userArguments`.

use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::info;

use super::{Delivery, KeyForm, PayloadError};
use crate::notification::{self, IgnoreReason, Notification, ObjectRef};

const TASK_WITHOUT_BUCKET: IgnoreReason = IgnoreReason::MissingBucket {
    field: "s3Bucket` or `s3BucketArn",
};

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

    /// `invocationSchemaVersion`, which the response echoes.
    pub fn schema_version(&self) -> &str {
        &self.invocation_schema_version
    }

    /// `invocationId`, which the response echoes.
    pub fn invocation_id(&self) -> &str {
        &self.invocation_id
    }

    /// Each task's id and the object it names (or why it names none), in the order of the tasks:
    /// the `i`-th task gave the `i`-th delivery.
    pub fn tasks(&self) -> impl Iterator<Item = (&str, Result<ObjectRef, IgnoreReason>)> {
        self.tasks
            .iter()
            .map(|task| (task.task_id.as_str(), task.object()))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::trigger::Trigger;
    use crate::trigger::tests::reference;

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
    fn each_task_is_a_delivery_by_its_task_id_and_the_response_echoes_the_schema() {
        for schema in ["1.0", "2.0"] {
            let trigger = Trigger::recognise(reference(&format!(
                "events/s3-batch-operations-schema-{schema}.json"
            )))
            .unwrap();
            let deliveries = trigger.deliveries();
            let Trigger::S3Batch(job) = trigger else {
                panic!("{schema}: not S3 Batch");
            };
            assert_eq!(job.schema_version(), schema);
            assert_eq!(
                job.invocation_id(),
                "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo"
            );
            let tasks: Vec<(&str, Result<ObjectRef, IgnoreReason>)> = job.tasks().collect();
            assert_eq!(
                tasks,
                [(
                    "dGFza2lkZ29lc2hlcmUK",
                    Ok(ObjectRef {
                        bucket: "powertools-dataset".to_owned(),
                        key: "prefix/dataset/dataset.20231222.json.gz".to_owned(),
                    })
                )],
                "{schema}"
            );
            let named: Vec<(String, Notification)> = deliveries
                .into_iter()
                .map(|delivery| (delivery.id, delivery.notification))
                .collect();
            assert_eq!(
                named,
                [(
                    "dGFza2lkZ29lc2hlcmUK".to_owned(),
                    Notification::one(Ok(ObjectRef {
                        bucket: "powertools-dataset".to_owned(),
                        key: "prefix/dataset/dataset.20231222.json.gz".to_owned(),
                    }))
                )],
                "{schema}"
            );
        }
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
    fn the_bucket_is_taken_from_an_s3_arn_only() {
        for (arn, bucket) in [
            ("arn:aws:s3:::trail-bucket", Some("trail-bucket")),
            ("arn:aws-cn:s3:::trail-bucket", Some("trail-bucket")),
            ("arn:aws-us-gov:s3:::trail-bucket", Some("trail-bucket")),
            ("arn:aws:s3:::", None),
            ("arn:aws:s3:::trail-bucket/AWSLogs", None),
            ("arn:aws:sqs:::trail-bucket", None),
            ("aws:s3:::trail-bucket", None),
            ("trail-bucket", None),
        ] {
            assert_eq!(bucket_of_arn(arn).as_deref(), bucket, "{arn}");
        }
    }

    #[test]
    fn an_empty_s3_bucket_falls_back_to_the_arn() {
        let mut payload = reference("events/s3-batch-operations-schema-2.0.json");
        payload["tasks"][0]["s3Bucket"] = json!("");
        payload["tasks"][0]["s3BucketArn"] = json!("arn:aws:s3:::from-the-arn");
        assert_eq!(
            objects_of(&job(payload))[0]
                .as_ref()
                .map(|object| object.bucket.as_str()),
            Ok("from-the-arn")
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
}
