//! SQS: a queue subscribed to the topic (raw message delivery on or off) or receiving S3 event
//! notifications. Each message's body is one SNS message (SPEC section 1a); each message keeps its
//! `messageId`, by which the response names the messages with a failed object.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::{Delivery, PayloadError};

/// The messages of one SQS event.
#[derive(Debug)]
pub struct SqsBatch {
    /// Each message's `messageId` (`None` when the record has none) and what its body says.
    messages: Vec<(Option<String>, Delivery)>,
}

/// An SQS event (`Records[]`). Every field but `Records` may be missing, as with
/// `aws_lambda_events`' `SqsEvent`; only `messageId` and `body` are used.
#[derive(Deserialize)]
struct SqsEvent {
    #[serde(rename = "Records")]
    records: Vec<SqsRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsRecord {
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    body: Option<String>,
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

    /// Each message's `messageId` (`None` when the record has none), in the order of the batch:
    /// the `i`-th message gave the `i`-th delivery.
    pub fn message_ids(&self) -> impl Iterator<Item = Option<&str>> {
        self.messages.iter().map(|(id, _)| id.as_deref())
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
    use crate::notification::{self, Notification};
    use crate::trigger::Trigger;
    use crate::trigger::tests::reference;

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
    fn each_message_is_a_delivery_by_its_message_id_in_the_order_of_the_batch() {
        let mut event = sqs_event(&["a".to_owned(), "b".to_owned(), "c".to_owned()]);
        if let Some(record) = event["Records"][1].as_object_mut() {
            record.remove("messageId");
        }
        let batch = batch(event);
        assert_eq!(
            batch.message_ids().collect::<Vec<_>>(),
            [Some("m0"), None, Some("m2")]
        );
        let ids: Vec<String> = batch
            .deliveries()
            .into_iter()
            .map(|delivery| delivery.id)
            .collect();
        assert_eq!(ids, ["m0", "Records[1]", "m2"]);
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
}
