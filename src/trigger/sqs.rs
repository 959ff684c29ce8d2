//! SQS: the response names, by `messageId`, only the messages with a failed object, so that SQS
//! delivers only those again.

use a4b_audit_core::trigger::sqs::SqsBatch;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};

use super::{InvocationError, InvocationFailed};
use crate::invocation::Invocation;
use crate::object::ObjectOutcome;

/// `{"batchItemFailures":[{"itemIdentifier":<messageId>},…]}` for the messages with a failed
/// object. A failed message without a `messageId` cannot be named: the whole batch fails.
pub(super) fn respond(
    batch: &SqsBatch,
    invocation: Invocation,
) -> Result<SqsBatchResponse, InvocationError> {
    let mut response = SqsBatchResponse::default();
    for (index, message_id) in batch.message_ids().enumerate() {
        let failed = invocation
            .objects_of(index)
            .any(|report| matches!(report.outcome, ObjectOutcome::Failed(_)));
        if !failed {
            continue;
        }
        let Some(message_id) = message_id else {
            return Err(InvocationFailed {
                summary: Box::new(invocation.summary),
            }
            .into());
        };
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = message_id.to_owned();
        response.batch_item_failures.push(failure);
    }
    Ok(response)
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
    use crate::trigger::{Response, Trigger};

    /// An SQS event whose records carry these bodies, with message ids `m0`, `m1`, …
    fn sqs_event(bodies: &[String]) -> Value {
        let ids: Vec<String> = (0..bodies.len()).map(|index| format!("m{index}")).collect();
        let messages: Vec<(&str, String)> = ids
            .iter()
            .map(String::as_str)
            .zip(bodies.iter().cloned())
            .collect();
        a4b_audit_devtools::samples::sqs_event(&messages)
    }

    fn batch(payload: Value) -> SqsBatch {
        match Trigger::recognise(payload).unwrap() {
            Trigger::Sqs(batch) => batch,
            other => panic!("not SQS: {other:?}"),
        }
    }

    fn failed_outcome(object: &ObjectRef) -> ObjectOutcome {
        ObjectOutcome::Failed(ObjectFailure {
            object: object.to_string(),
            error: ObjectError::Source(SourceError::NotFound),
            counts: ObjectCounts::default(),
        })
    }

    #[test]
    fn only_the_messages_with_a_failed_object_are_reported_by_message_id() {
        let good = ObjectRef {
            bucket: "b".to_owned(),
            key: "good".to_owned(),
        };
        let bad = ObjectRef {
            bucket: "b".to_owned(),
            key: "bad".to_owned(),
        };
        let bodies: Vec<String> = ["CloudTrail validation message.", "x", "y", "z"]
            .iter()
            .map(ToString::to_string)
            .collect();
        let batch = batch(sqs_event(&bodies));
        // m0 names nothing, m1 the good object, m2 the bad one, m3 both.
        let invocation = Invocation {
            summary: InvocationSummary::default(),
            objects: vec![
                ObjectReport {
                    object: good,
                    outcome: ObjectOutcome::Processed(ObjectCounts::default()),
                },
                ObjectReport {
                    outcome: failed_outcome(&bad),
                    object: bad,
                },
            ],
            named: vec![vec![], vec![0], vec![1], vec![0, 1]],
        };
        let response = respond(&batch, invocation).unwrap();
        assert_eq!(
            serde_json::to_value(Response::Sqs(response)).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]})
        );
    }

    #[test]
    fn a_failed_message_without_a_message_id_fails_the_whole_batch() {
        let payload = json!({"Records": [{"eventSource": "aws:sqs", "body": "x"}]});
        let batch = batch(payload);
        let object = ObjectRef {
            bucket: "b".to_owned(),
            key: "bad".to_owned(),
        };
        let invocation = Invocation {
            summary: InvocationSummary::default(),
            objects: vec![ObjectReport {
                outcome: failed_outcome(&object),
                object,
            }],
            named: vec![vec![0]],
        };
        let error = respond(&batch, invocation).unwrap_err();
        assert_eq!(error.error_type(), "ObjectsFailed");
    }
}
