//! What arrived: the payload of any trigger of SPEC section 1, recognised by its shape, turned into
//! the deliveries of the invocation layer, and the invocation's outcomes turned into the response
//! that trigger expects (an error, `batchItemFailures`, task results, a list of files).
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

use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::invocation::{Delivery, Invocation, KeyForm};
use crate::notification;
use crate::summary::InvocationSummary;

/// Field names of an unrecognised payload shown in its error, at most.
const FIELDS_SHOWN: usize = 12;
/// Characters of one field name shown in that error, at most.
const FIELD_NAME_CHARS: usize = 40;

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

    /// The response this trigger expects for `invocation`.
    pub fn respond(&self, invocation: Invocation) -> Result<Response, InvocationError> {
        match self {
            Trigger::Sns(_) | Trigger::S3Event(_) | Trigger::EventBridge(_) => {
                let summary = invocation.summary;
                if summary.objects_failed > 0 {
                    let summary = Box::new(summary);
                    return Err(InvocationFailed { summary }.into());
                }
                Ok(Response::Summary(summary))
            }
            Trigger::Sqs(batch) => batch.respond(invocation).map(Response::Sqs),
            Trigger::S3Batch(job) => Ok(Response::S3Batch(job.respond(&invocation))),
            Trigger::MapBatch(batch) => batch.respond(invocation).map(Response::MapBatch),
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

fn sns_deliveries(payload: Value) -> Result<Vec<Delivery>, PayloadError> {
    let event: SnsEvent =
        serde_json::from_value(payload).map_err(|error| PayloadError::Malformed {
            kind: "an SNS event",
            reason: error.to_string(),
        })?;
    Ok(event
        .records
        .into_iter()
        .map(|record| Delivery::decoded(record.sns.message_id, &record.sns.message))
        .collect())
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
    use crate::notification::Notification;

    pub(crate) fn reference(path: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/reference/{path}",
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
        let events = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
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
        assert_eq!(
            InvocationError::from(error).error_type(),
            "UnrecognizedPayload"
        );
    }
}
