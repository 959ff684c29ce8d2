//! What the function answers: the invocation's outcomes turned into the response the trigger
//! expects (an error, `batchItemFailures`, task results, a list of files). The payloads themselves
//! are recognised and decoded in the core ([`a4b_audit_core::trigger`]).
//!
//! | trigger | module | a failed object |
//! |---|---|---|
//! | SNS, S3 event notification | this one | fails the invocation |
//! | EventBridge `Object Created` | this one | fails the invocation |
//! | SQS | [`sqs`] | its message is named in `batchItemFailures` |
//! | S3 Batch Operations | [`s3_batch`] | its task's `TemporaryFailure` or `PermanentFailure` |
//! | Step Functions Distributed Map batch | [`map_batch`] | listed; a transient one fails the invocation |

pub mod map_batch;
pub mod s3_batch;
pub mod sqs;

pub use a4b_audit_core::trigger::{PayloadError, Trigger};
use aws_lambda_events::event::sqs::SqsBatchResponse;
use serde::Serialize;

use crate::invocation::Invocation;
use crate::summary::InvocationSummary;

/// What the function answers, by trigger (serialized as the bare response).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// SNS, S3 event notification, EventBridge: the invocation's summary.
    Summary(InvocationSummary),
    Sqs(SqsBatchResponse),
    S3Batch(s3_batch::BatchJobResponse),
    MapBatch(map_batch::MapBatchResponse),
}

/// Some objects failed: the invocation fails so that Lambda retries it and, in the end, keeps the
/// notification in the on-failure destination.
#[derive(Debug, thiserror::Error)]
#[error("{} of {} object(s) failed: {}", .summary.objects_failed, .summary.objects_processed + .summary.objects_failed, failures(.summary))]
pub struct InvocationFailed {
    /// Boxed: it is large, and results carry it as their error.
    pub summary: Box<InvocationSummary>,
}

/// Why an invocation fails.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error(transparent)]
    ObjectsFailed(#[from] InvocationFailed),
    /// A Distributed Map batch with a transient failure: failing makes the map's retrier run the
    /// batch again.
    #[error("{count} file(s) failed transiently, the batch is to be retried: {reasons}")]
    TransientFailure { count: usize, reasons: String },
}

impl InvocationError {
    /// The `errorType` Lambda reports (and Step Functions matches its retriers on).
    pub fn error_type(&self) -> &'static str {
        match self {
            InvocationError::Payload(_) => "UnrecognizedPayload",
            InvocationError::ObjectsFailed(_) => "ObjectsFailed",
            InvocationError::TransientFailure { .. } => "TransientObjectFailure",
        }
    }
}

fn failures(summary: &InvocationSummary) -> String {
    summary
        .failed
        .iter()
        .map(|note| format!("{}: {}", note.object, note.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The response `trigger` expects for `invocation`.
pub fn respond(trigger: &Trigger, invocation: Invocation) -> Result<Response, InvocationError> {
    match trigger {
        Trigger::Sns(_) | Trigger::S3Event(_) | Trigger::EventBridge(_) => {
            let summary = invocation.summary;
            if summary.objects_failed > 0 {
                let summary = Box::new(summary);
                return Err(InvocationFailed { summary }.into());
            }
            Ok(Response::Summary(summary))
        }
        Trigger::Sqs(batch) => sqs::respond(batch, invocation).map(Response::Sqs),
        Trigger::S3Batch(job) => Ok(Response::S3Batch(s3_batch::respond(job, &invocation))),
        Trigger::MapBatch(batch) => map_batch::respond(batch, invocation).map(Response::MapBatch),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    pub(crate) fn reference(path: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/reference/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_payload_the_function_does_not_accept_fails_as_unrecognized_payload() {
        let error = Trigger::recognise(json!({"Records": [{"EventSource": "aws:sns", "Sns": 7}]}))
            .unwrap_err();
        assert_eq!(
            InvocationError::from(error).error_type(),
            "UnrecognizedPayload"
        );
    }
}
