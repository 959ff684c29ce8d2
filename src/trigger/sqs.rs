//! SQS: a queue subscribed to the topic (raw message delivery on or off) or receiving S3 event
//! notifications. Each message's body is one SNS message (SPEC section 1a); the response names, by
//! `messageId`, only the messages with a failed object, so that SQS delivers only those again.

use std::borrow::Cow;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use serde_json::Value;

use super::{InvocationError, InvocationFailed, PayloadError};
use crate::invocation::{Delivery, Invocation};
use crate::object::ObjectOutcome;

/// The messages of one SQS event.
#[derive(Debug)]
pub struct SqsBatch {
    /// Each message's `messageId` (`None` when the record has none) and what its body says.
    messages: Vec<(Option<String>, Delivery)>,
}

/// The SNS envelope a queue subscribed without raw delivery receives. Recognised by `Type`,
/// `TopicArn` and `Message`; its other fields (`SigningCertURL` here, where SNS->Lambda says
/// `SigningCertUrl`) are not needed.
#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    _kind: String,
    #[serde(rename = "TopicArn")]
    _topic_arn: String,
    #[serde(rename = "Message")]
    message: String,
}

impl SqsBatch {
    pub(super) fn from_payload(payload: Value) -> Result<Self, PayloadError> {
        let event: SqsEvent =
            serde_json::from_value(payload).map_err(|error| PayloadError::Malformed {
                kind: "an SQS event",
                reason: error.to_string(),
            })?;
        let messages = event
            .records
            .into_iter()
            .enumerate()
            .map(|(index, record)| {
                let id = record
                    .message_id
                    .clone()
                    .unwrap_or_else(|| format!("Records[{index}]"));
                let body = record.body.unwrap_or_default();
                (record.message_id, Delivery::decoded(id, &message_of(&body)))
            })
            .collect();
        Ok(SqsBatch { messages })
    }

    pub(super) fn deliveries(&self) -> Vec<Delivery> {
        self.messages
            .iter()
            .map(|(_, delivery)| delivery.clone())
            .collect()
    }

    /// `{"batchItemFailures":[{"itemIdentifier":<messageId>},…]}` for the messages with a failed
    /// object. A failed message without a `messageId` cannot be named: the whole batch fails.
    pub(super) fn respond(
        &self,
        invocation: Invocation,
    ) -> Result<SqsBatchResponse, InvocationError> {
        let mut response = SqsBatchResponse::default();
        for (index, (message_id, _)) in self.messages.iter().enumerate() {
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
            failure.item_identifier = message_id.clone();
            response.batch_item_failures.push(failure);
        }
        Ok(response)
    }
}

/// The SNS message a body carries: the envelope's `Message`, or with raw message delivery (and
/// for S3 event notifications sent to the queue) the body itself.
pub fn message_of(body: &str) -> Cow<'_, str> {
    // Only a JSON object can be an envelope; the plain validation text is not even JSON.
    if body.trim_start().starts_with('{')
        && let Ok(envelope) = serde_json::from_str::<SnsEnvelope>(body)
    {
        return Cow::Owned(envelope.message);
    }
    Cow::Borrowed(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::invocation::ObjectReport;
    use crate::notification::{self, Notification, ObjectRef};
    use crate::object::{ObjectError, ObjectFailure};
    use crate::source::{ObjectLocation, SourceError};
    use crate::summary::{InvocationSummary, ObjectCounts};
    use crate::trigger::tests::reference;
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

    /// The reference SNS envelope (as a queue subscribed without raw delivery receives it, with
    /// `SigningCertURL`) carrying `message`.
    fn envelope(message: &str) -> String {
        let event = reference("events/sqs-sns-envelope.json");
        let body = event["Records"][0]["body"].as_str().unwrap();
        let mut envelope: Value = serde_json::from_str(body).unwrap();
        assert!(envelope.get("SigningCertURL").is_some());
        envelope["Message"] = json!(message);
        envelope.to_string()
    }

    fn reference_text(path: &str) -> String {
        reference(path).to_string()
    }

    fn batch(payload: Value) -> SqsBatch {
        match Trigger::recognise(payload).unwrap() {
            Trigger::Sqs(batch) => batch,
            other => panic!("not SQS: {other:?}"),
        }
    }

    fn notifications(payload: Value) -> Vec<Notification> {
        batch(payload)
            .deliveries()
            .into_iter()
            .map(|delivery| delivery.notification)
            .collect()
    }

    fn objects(notification: &Notification) -> Vec<String> {
        match notification {
            Notification::Objects { objects, .. } => {
                objects.iter().map(ToString::to_string).collect()
            }
            other => panic!("names no object: {other:?}"),
        }
    }

    #[test]
    fn the_reference_sns_messages_wrapped_in_envelopes_decode_as_under_sns() {
        for name in [
            "sns/cloudtrail-sns-message_awsdocs_single-key.json",
            "sns/cloudtrail-sns-message_awsdocs_multi-key.json",
            "sns/awsdocs-s3__s3-event_put.json",
            "sns/awsdocs-s3__s3-testevent.json",
        ] {
            let message = reference_text(name);
            let decoded = notifications(sqs_event(&[envelope(&message)]));
            assert_eq!(decoded, [notification::decode_message(&message)], "{name}");
        }
    }

    #[test]
    fn raw_delivery_bodies_are_the_messages_themselves() {
        let single = reference_text("sns/cloudtrail-sns-message_awsdocs_single-key.json");
        let s3_event = reference_text("sns/awsdocs-s3__s3-event_put.json");
        let test_event = reference_text("sns/awsdocs-s3__s3-testevent.json");
        let decoded = notifications(sqs_event(&[
            single.clone(),
            "CloudTrail validation message.".to_owned(),
            s3_event.clone(),
            test_event,
        ]));
        assert_eq!(decoded[0], notification::decode_message(&single));
        assert_eq!(decoded[1], Notification::CloudTrailValidation);
        assert_eq!(decoded[2], notification::decode_message(&s3_event));
        assert_eq!(decoded[3], Notification::S3TestEvent);
    }

    #[test]
    fn the_reference_sqs_event_is_recognised_and_its_message_ignored() {
        let decoded = notifications(reference("events/sqs-sns-envelope.json"));
        // {"message": "hello world", …} is no notification: nothing to do, as under SNS.
        assert!(matches!(decoded[..], [Notification::Unrecognized(_)]));
    }

    #[test]
    fn keys_with_plus_and_percent_2b_in_an_s3_event_body_are_form_decoded() {
        let body = json!({"Records": [{
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "trail+logs/team%2Ba4b/x.json.gz"}}
        }]})
        .to_string();
        let decoded = notifications(sqs_event(&[body]));
        assert_eq!(
            objects(&decoded[0]),
            ["s3://b/trail logs/team+a4b/x.json.gz"]
        );
    }

    fn failed_outcome(object: &ObjectRef) -> ObjectOutcome {
        ObjectOutcome::Failed(ObjectFailure {
            object: ObjectLocation::S3(object.clone()),
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
        let response = batch.respond(invocation).unwrap();
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
        let error = batch.respond(invocation).unwrap_err();
        assert_eq!(error.error_type(), "ObjectsFailed");
    }
}
