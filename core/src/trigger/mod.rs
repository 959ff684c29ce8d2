//! What arrived: the payload of any trigger of SPEC section 1, recognised by its shape and turned
//! into the deliveries of the invocation layer, each naming its objects. The envelopes are decoded
//! with this crate's own serde types (no `aws_lambda_events`: the core has no AWS dependency); the
//! response each trigger expects is formed in the root crate's `trigger` module.
//!
//! | trigger | module | a failed object |
//! |---|---|---|
//! | SNS, S3 event notification | this one | fails the invocation |
//! | EventBridge `Object Created` | [`eventbridge`] | fails the invocation |
//! | SQS | [`sqs`] | its message is named in `batchItemFailures` |
//! | S3 Batch Operations | [`s3_batch`] | its task's `TemporaryFailure` or `PermanentFailure` |
//! | Step Functions Distributed Map batch | [`map_batch`] | listed; a transient one fails the invocation |

pub mod eventbridge;
pub mod map_batch;
pub mod s3_batch;
pub mod sqs;

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::notification::{self, Notification};

/// Field names of an unrecognised payload shown in its error, at most.
const FIELDS_SHOWN: usize = 12;
/// Characters of one field name shown in that error, at most.
const FIELD_NAME_CHARS: usize = 40;

/// One message a trigger hands over (an SNS record, an SQS message, a task, a map item), decoded:
/// its id (for logs) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    /// The size of the message as it arrived, for the warning about one of no known shape.
    pub message_bytes: usize,
    pub notification: Notification,
    pub keys: KeyForm,
}

/// How far the keys of a delivery can be trusted to be the stored keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// As stored (decoded already where the trigger encodes them).
    AsNamed,
    /// As stored, as observed, but undocumented (EventBridge): a key with `+` or `%` that answers
    /// NoSuchKey is tried once more form-decoded.
    MaybeFormEncoded,
}

impl Delivery {
    /// An SNS message (or an SQS body carrying one), decoded.
    pub fn decoded(id: String, message: &str) -> Self {
        Delivery {
            id,
            message_bytes: message.len(),
            notification: notification::decode_message(message),
            keys: KeyForm::AsNamed,
        }
    }
}

/// A payload, recognised.
#[derive(Debug)]
pub enum Trigger {
    /// SNS (`Records[].Sns.Message`), and an event with no records at all.
    Sns(Vec<Delivery>),
    Sqs(sqs::SqsBatch),
    /// An S3 event notification invoking the function directly.
    S3Event(Delivery),
    EventBridge(Delivery),
    S3Batch(s3_batch::BatchJob),
    MapBatch(map_batch::MapBatch),
}

/// A payload the function does not accept.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error(
        "the payload is {0}, which is no event this function accepts (SNS, SQS, an S3 event \
         notification, EventBridge `Object Created` from S3, S3 Batch Operations or a Step \
         Functions Distributed Map batch): check what invokes the function"
    )]
    Unrecognized(String),
    #[error("the payload looks like {kind} but {reason}: check what invokes the function")]
    Malformed { kind: &'static str, reason: String },
}

impl Trigger {
    /// Recognises the payload by its shape (SPEC section 1).
    pub fn recognise(payload: Value) -> Result<Trigger, PayloadError> {
        match Shape::of(&payload)? {
            Shape::NoRecords => Ok(Trigger::Sns(Vec::new())),
            Shape::Sns => sns_deliveries(payload).map(Trigger::Sns),
            Shape::Sqs => sqs::SqsBatch::from_payload(payload).map(Trigger::Sqs),
            Shape::S3Event => {
                let records = payload
                    .get("Records")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                Ok(Trigger::S3Event(Delivery {
                    id: "Records".to_owned(),
                    message_bytes: 0,
                    notification: notification::decode_s3_records(records),
                    keys: KeyForm::AsNamed,
                }))
            }
            Shape::EventBridge => eventbridge::delivery(payload).map(Trigger::EventBridge),
            Shape::S3Batch => s3_batch::BatchJob::from_payload(payload).map(Trigger::S3Batch),
            Shape::MapBatch => map_batch::MapBatch::from_payload(payload).map(Trigger::MapBatch),
        }
    }

    /// What the invocation layer processes.
    pub fn deliveries(&self) -> Vec<Delivery> {
        match self {
            Trigger::Sns(deliveries) => deliveries.clone(),
            Trigger::Sqs(batch) => batch.deliveries(),
            Trigger::S3Event(delivery) | Trigger::EventBridge(delivery) => vec![delivery.clone()],
            Trigger::S3Batch(job) => job.deliveries(),
            Trigger::MapBatch(batch) => batch.deliveries(),
        }
    }
}

/// The shapes of SPEC section 1, told apart by their fields.
enum Shape {
    /// `{"Records":[]}`: nothing to do, whatever sent it.
    NoRecords,
    Sns,
    Sqs,
    S3Event,
    EventBridge,
    S3Batch,
    MapBatch,
}

impl Shape {
    fn of(payload: &Value) -> Result<Shape, PayloadError> {
        let Value::Object(fields) = payload else {
            return Err(PayloadError::Unrecognized(describe(payload)));
        };
        if let Some(records) = fields.get("Records") {
            return Shape::of_records(records);
        }
        if fields.get("source").and_then(Value::as_str) == Some("aws.s3")
            && fields.contains_key("detail-type")
        {
            Ok(Shape::EventBridge)
        } else if fields.contains_key("invocationSchemaVersion") && fields.contains_key("tasks") {
            Ok(Shape::S3Batch)
        } else if fields.contains_key("Items") {
            Ok(Shape::MapBatch)
        } else {
            Err(PayloadError::Unrecognized(describe(payload)))
        }
    }

    /// `{"Records":[…]}`: SNS, SQS or S3, told apart by the records' event source.
    fn of_records(records: &Value) -> Result<Shape, PayloadError> {
        let Some(records) = records.as_array() else {
            return Err(PayloadError::Malformed {
                kind: "an event with `Records`",
                reason: "`Records` is not a list".to_owned(),
            });
        };
        let sources: BTreeSet<&str> = records
            .iter()
            .map(|record| {
                record
                    .get("EventSource")
                    .or_else(|| record.get("eventSource"))
                    .and_then(Value::as_str)
                    .unwrap_or("(none)")
            })
            .collect();
        let mut sources = sources.into_iter();
        let (Some(source), None) = (sources.next(), sources.next()) else {
            return if records.is_empty() {
                Ok(Shape::NoRecords)
            } else {
                Err(PayloadError::Unrecognized(
                    "a `Records` list mixing event sources".to_owned(),
                ))
            };
        };
        match source {
            "aws:sns" => Ok(Shape::Sns),
            "aws:sqs" => Ok(Shape::Sqs),
            "aws:s3" => Ok(Shape::S3Event),
            other => Err(PayloadError::Unrecognized(format!(
                "a `Records` list of event source {:?}",
                shorten(other)
            ))),
        }
    }
}

/// An SNS event (`Records[].Sns`). The fields an SNS record always carries are required, as they
/// were with `aws_lambda_events`' `SnsEvent`, so that a payload that is no SNS event is refused
/// rather than half-read; only `MessageId` and `Message` are used.
#[derive(Deserialize)]
struct SnsEvent {
    #[serde(rename = "Records")]
    records: Vec<SnsRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsRecord {
    #[serde(rename = "EventSource")]
    _event_source: String,
    #[serde(rename = "EventVersion")]
    _event_version: String,
    #[serde(rename = "EventSubscriptionArn")]
    _event_subscription_arn: String,
    sns: SnsMessage,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMessage {
    #[serde(rename = "Type")]
    _kind: String,
    message_id: String,
    #[serde(rename = "TopicArn")]
    _topic_arn: String,
    /// RFC 3339, checked in [`sns_deliveries`].
    timestamp: String,
    #[serde(rename = "SignatureVersion")]
    _signature_version: String,
    #[serde(rename = "Signature")]
    _signature: String,
    #[serde(rename = "SigningCertUrl", alias = "SigningCertURL")]
    _signing_cert_url: String,
    #[serde(rename = "UnsubscribeUrl", alias = "UnsubscribeURL")]
    _unsubscribe_url: String,
    message: String,
}

fn sns_deliveries(payload: Value) -> Result<Vec<Delivery>, PayloadError> {
    let malformed = |reason: String| PayloadError::Malformed {
        kind: "an SNS event",
        reason,
    };
    let event: SnsEvent =
        serde_json::from_value(payload).map_err(|error| malformed(error.to_string()))?;
    event
        .records
        .into_iter()
        .map(|record| {
            let sns = record.sns;
            sns.timestamp.parse::<jiff::Timestamp>().map_err(|error| {
                malformed(format!(
                    "`Timestamp` {:?}: {error}",
                    shorten(&sns.timestamp)
                ))
            })?;
            Ok(Delivery::decoded(sns.message_id, &sns.message))
        })
        .collect()
}

/// What a payload is, for an error, without its values (which may be large or sensitive).
fn describe(payload: &Value) -> String {
    match payload {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a JSON boolean".to_owned(),
        Value::Number(_) => "a JSON number".to_owned(),
        Value::String(text) => format!("a JSON string of {} bytes", text.len()),
        Value::Array(values) => format!("a JSON list of {} element(s)", values.len()),
        Value::Object(fields) => describe_fields(fields),
    }
}

fn describe_fields(fields: &Map<String, Value>) -> String {
    if fields.is_empty() {
        return "an empty JSON object".to_owned();
    }
    let mut names: Vec<String> = fields
        .keys()
        .take(FIELDS_SHOWN)
        .map(|name| format!("{:?}", shorten(name)))
        .collect();
    if fields.len() > FIELDS_SHOWN {
        names.push(format!("and {} more", fields.len() - FIELDS_SHOWN));
    }
    format!("a JSON object with the fields {}", names.join(", "))
}

fn shorten(text: &str) -> &str {
    let end = text
        .char_indices()
        .nth(FIELD_NAME_CHARS)
        .map_or(text.len(), |(index, _)| index);
    text.get(..end).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    pub(crate) fn reference(path: &str) -> Value {
        let path = format!(
            "{}/../tests/fixtures/reference/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn an_sns_event_gives_one_delivery_per_record_by_its_message_id() {
        let payload = reference("sns/aws-lambda-rust-runtime__example-sns-event.json");
        let Trigger::Sns(deliveries) = Trigger::recognise(payload).unwrap() else {
            panic!("not SNS");
        };
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].id, "82833b5c-8d5d-56d0-b0e1-7511f8253eb8");
        // "Hello\r\nworld!" is no notification: nothing to do, as SPEC 1a says.
        assert!(matches!(
            deliveries[0].notification,
            Notification::Unrecognized(_)
        ));
    }

    #[test]
    fn an_s3_event_notification_invoking_directly_names_its_decoded_objects() {
        let payload = reference("sns/awsdocs-s3__s3-event_put.json");
        let message = payload.to_string();
        let Trigger::S3Event(delivery) = Trigger::recognise(payload).unwrap() else {
            panic!("not an S3 event");
        };
        assert_eq!(
            delivery.notification,
            notification::decode_message(&message)
        );
        let mut encoded = reference("sns/awsdocs-s3__s3-event_put.json");
        encoded["Records"][0]["s3"]["object"]["key"] = json!("trail+logs/team%2Ba4b/x.json.gz");
        let Trigger::S3Event(delivery) = Trigger::recognise(encoded).unwrap() else {
            panic!("not an S3 event");
        };
        let Notification::Objects { objects, .. } = delivery.notification else {
            panic!("no objects");
        };
        assert_eq!(objects[0].key, "trail logs/team+a4b/x.json.gz");
    }

    #[test]
    fn each_shape_is_recognised_as_its_trigger() {
        let shapes = [
            ("events/sqs-sns-envelope.json", "Sqs"),
            ("events/eventbridge-s3-object-created.json", "EventBridge"),
            ("events/s3-batch-operations-schema-1.0.json", "S3Batch"),
            ("events/s3-batch-operations-schema-2.0.json", "S3Batch"),
            ("sns/aws-lambda-rust-runtime__example-sns-event.json", "Sns"),
            ("sns/awsdocs-s3__s3-event_put.json", "S3Event"),
        ];
        for (file, kind) in shapes {
            let trigger = Trigger::recognise(reference(file)).unwrap();
            assert!(
                format!("{trigger:?}").starts_with(kind),
                "{file}: {trigger:?}"
            );
        }
    }

    #[test]
    fn every_sample_event_is_recognised_as_the_trigger_its_name_says() {
        let events = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
        let kinds = [
            ("sqs-", "Sqs"),
            ("s3-event-direct", "S3Event"),
            ("eventbridge-", "EventBridge"),
            ("s3-batch-", "S3Batch"),
            ("map-batch", "MapBatch"),
            ("", "Sns"),
        ];
        let mut seen = 0;
        for entry in std::fs::read_dir(&events).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") {
                continue;
            }
            let payload: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            let trigger =
                Trigger::recognise(payload).unwrap_or_else(|error| panic!("{name}: {error}"));
            let (_, kind) = kinds
                .iter()
                .find(|(prefix, _)| name.starts_with(prefix))
                .unwrap();
            assert!(
                format!("{trigger:?}").starts_with(kind),
                "{name}: {trigger:?}"
            );
            seen += 1;
        }
        assert!(seen >= 13, "{seen} sample events");
    }

    #[test]
    fn an_empty_records_list_is_an_event_with_nothing_to_do() {
        let trigger = Trigger::recognise(json!({"Records": []})).unwrap();
        assert!(trigger.deliveries().is_empty());
    }

    #[test]
    fn an_unknown_payload_fails_saying_what_arrived_without_its_values() {
        let error =
            Trigger::recognise(json!({"detail": {"secret": "s3cr3t"}, "kind": "x"})).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(r#"a JSON object with the fields "detail", "kind""#),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
        for (payload, described) in [
            (json!([1, 2]), "a JSON list of 2 element(s)"),
            (
                json!("CloudTrail validation message."),
                "a JSON string of 30 bytes",
            ),
            (json!(null), "null"),
            (json!({}), "an empty JSON object"),
        ] {
            let text = Trigger::recognise(payload).unwrap_err().to_string();
            assert!(text.contains(described), "{text}");
        }
    }

    #[test]
    fn a_shape_is_told_by_all_of_its_fields_not_by_one_of_them() {
        for payload in [
            // Another service's EventBridge event, and S3's fields without EventBridge's.
            json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}),
            json!({"source": "aws.s3", "detail": {}}),
            // Half of an S3 Batch Operations invocation.
            json!({"invocationSchemaVersion": "1.0", "job": {}}),
            json!({"tasks": []}),
        ] {
            let error = Trigger::recognise(payload.clone()).unwrap_err();
            assert!(
                matches!(error, PayloadError::Unrecognized(_)),
                "{payload}: {error:?}"
            );
        }
    }

    #[test]
    fn a_payload_is_described_by_its_first_twelve_field_names_and_a_count_of_the_rest() {
        let fields = |count: usize| -> Value {
            Value::Object((0..count).map(|n| (format!("f{n:02}"), json!(n))).collect())
        };
        let twelve = describe(&fields(12));
        assert!(twelve.ends_with(r#""f11""#), "{twelve}");
        assert!(!twelve.contains("more"), "{twelve}");
        let thirteen = describe(&fields(13));
        assert!(thirteen.ends_with(r#""f11", and 1 more"#), "{thirteen}");
        assert!(!thirteen.contains("f12"), "{thirteen}");
    }

    #[test]
    fn records_of_an_unknown_event_source_are_refused_naming_it() {
        let payload = json!({"Records": [{"eventSource": "aws:kinesis"}]});
        let text = Trigger::recognise(payload).unwrap_err().to_string();
        assert!(text.contains("\"aws:kinesis\""), "{text}");
    }

    #[test]
    fn a_malformed_sns_event_is_refused_with_the_parse_error() {
        let payload = json!({"Records": [{"EventSource": "aws:sns", "Sns": 7}]});
        let error = Trigger::recognise(payload).unwrap_err();
        assert!(
            matches!(
                error,
                PayloadError::Malformed {
                    kind: "an SNS event",
                    ..
                }
            ),
            "{error}"
        );
    }
}
