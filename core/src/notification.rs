//! SNS message text -> the log objects it names (pure).
//!
//! The message shapes are those of SPEC section 1: CloudTrail's delivery notification, an S3 event
//! notification routed through SNS, CloudTrail's topic check and S3's test event. Anything else is
//! [`Notification::Unrecognized`], with the reason, so that the caller can warn and succeed.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

/// The plain text CloudTrail publishes to check that it may use the topic.
const CLOUDTRAIL_VALIDATION_MESSAGE: &str = "CloudTrail validation message.";

/// An S3 object named by a notification: bucket and (decoded) key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What one SNS message asks of the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// A CloudTrail delivery notification or an S3 event notification: process `objects` (each
    /// once, in the order the message names them). `ignored` says which entries of the message name
    /// no object to process and why (an `ObjectRemoved:*` event, a key that does not decode, …), so
    /// that the caller can log them; it may hold entries even when `objects` is empty.
    Objects {
        objects: Vec<ObjectRef>,
        ignored: Vec<IgnoredEntry>,
    },
    /// CloudTrail's topic check (`CloudTrail validation message.`): nothing to do.
    CloudTrailValidation,
    /// S3's `s3:TestEvent`: nothing to do.
    S3TestEvent,
    /// Anything else: warn and do nothing.
    Unrecognized(UnrecognizedReason),
}

impl Notification {
    /// A message that names one object, or one entry that names none.
    pub fn one(named: Result<ObjectRef, IgnoreReason>) -> Self {
        match named {
            Ok(object) => Notification::Objects {
                objects: vec![object],
                ignored: Vec::new(),
            },
            Err(reason) => Notification::Objects {
                objects: Vec::new(),
                ignored: vec![IgnoredEntry { index: 0, reason }],
            },
        }
    }
}

/// Why a message is of no shape the function processes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnrecognizedReason {
    #[error("the message is empty")]
    Empty,
    #[error("the message is neither JSON nor CloudTrail's validation text")]
    NotJson,
    #[error(
        "JSON of no known shape (expected a CloudTrail delivery notification, an S3 event \
         notification or an S3 test event)"
    )]
    UnknownJsonShape,
    #[error("CloudTrail notification without an `s3Bucket` name")]
    CloudTrailWithoutBucket,
    #[error("CloudTrail notification without `s3ObjectKey` entries")]
    CloudTrailWithoutKeys,
    #[error("`Records` array with no `aws:s3` record in it")]
    NoS3Records,
}

/// One entry of a message (an `s3ObjectKey` element or a `Records` element) that names no object
/// to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredEntry {
    /// Position of the entry in the message's `s3ObjectKey` or `Records` array.
    pub index: usize,
    pub reason: IgnoreReason,
}

impl fmt::Display for IgnoredEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.index, self.reason)
    }
}

/// Why an entry of a message names no object to process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreReason {
    #[error("`s3ObjectKey` entry is not a string")]
    KeyNotString,
    #[error("empty object key")]
    EmptyKey,
    #[error("record is not from S3 (eventSource {event_source:?})")]
    NotFromS3 { event_source: Option<String> },
    #[error(
        "event {event_name:?} does not create an object; only ObjectCreated:* events are \
         processed (subscribe the topic to s3:ObjectCreated:* only to avoid these)"
    )]
    NotObjectCreated { event_name: Option<String> },
    /// `field` names where the bucket was expected (`s3.bucket.name`, `detail.bucket.name`, …).
    #[error("no bucket name in `{field}`")]
    MissingBucket { field: &'static str },
    #[error("no object key in `{field}`")]
    MissingKey { field: &'static str },
    #[error("object key {encoded_key:?} has a `%` not followed by two hex digits")]
    MalformedEscape { encoded_key: String },
    #[error("object key {encoded_key:?} does not decode to UTF-8")]
    KeyNotUtf8 { encoded_key: String },
}

/// Decodes the text of one SNS message. Never fails: a message of no known shape is
/// [`Notification::Unrecognized`] with the reason, for the caller's warning.
pub fn decode_message(message: &str) -> Notification {
    let text = message.trim();
    if text.is_empty() {
        return Notification::Unrecognized(UnrecognizedReason::Empty);
    }
    if text == CLOUDTRAIL_VALIDATION_MESSAGE {
        return Notification::CloudTrailValidation;
    }
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return Notification::Unrecognized(UnrecognizedReason::NotJson);
    };
    let Value::Object(fields) = json else {
        return Notification::Unrecognized(UnrecognizedReason::UnknownJsonShape);
    };
    if fields.contains_key("s3Bucket") || fields.contains_key("s3ObjectKey") {
        decode_cloudtrail_delivery(&fields)
    } else if let Some(Value::Array(records)) = fields.get("Records") {
        decode_s3_records(records)
    } else if fields.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        Notification::S3TestEvent
    } else {
        Notification::Unrecognized(UnrecognizedReason::UnknownJsonShape)
    }
}

/// `{"s3Bucket":"b","s3ObjectKey":["k1",…]}`; the keys are not URL-encoded. A single key string is
/// accepted too.
fn decode_cloudtrail_delivery(fields: &Map<String, Value>) -> Notification {
    let bucket = match fields.get("s3Bucket").and_then(Value::as_str) {
        Some(bucket) if !bucket.is_empty() => bucket,
        _ => return Notification::Unrecognized(UnrecognizedReason::CloudTrailWithoutBucket),
    };
    let keys: Vec<&Value> = match fields.get("s3ObjectKey") {
        Some(Value::Array(keys)) if !keys.is_empty() => keys.iter().collect(),
        Some(key @ Value::String(_)) => vec![key],
        _ => return Notification::Unrecognized(UnrecognizedReason::CloudTrailWithoutKeys),
    };
    let mut named = NamedObjects::default();
    for (index, key) in keys.into_iter().enumerate() {
        let entry = match key.as_str() {
            None => Err(IgnoreReason::KeyNotString),
            Some("") => Err(IgnoreReason::EmptyKey),
            Some(key) => Ok(ObjectRef {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            }),
        };
        named.push(index, entry);
    }
    named.into_notification()
}

/// The `Records` of an S3 event notification,
/// `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{…}}]}`.
pub fn decode_s3_records(records: &[Value]) -> Notification {
    let from_s3 =
        |record: &Value| record.get("eventSource").and_then(Value::as_str) == Some("aws:s3");
    if !records.iter().any(from_s3) {
        return Notification::Unrecognized(UnrecognizedReason::NoS3Records);
    }
    let mut named = NamedObjects::default();
    for (index, record) in records.iter().enumerate() {
        let entry = if from_s3(record) {
            s3_record_object(record)
        } else {
            Err(IgnoreReason::NotFromS3 {
                event_source: record
                    .get("eventSource")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        };
        named.push(index, entry);
    }
    named.into_notification()
}

/// The object an S3 event record names, if the event created it.
fn s3_record_object(record: &Value) -> Result<ObjectRef, IgnoreReason> {
    let event_name = record.get("eventName").and_then(Value::as_str);
    // An ObjectRemoved:* (or any other) event must not make the function fetch the object.
    if !event_name.is_some_and(|name| name.starts_with("ObjectCreated:")) {
        return Err(IgnoreReason::NotObjectCreated {
            event_name: event_name.map(str::to_owned),
        });
    }
    let s3 = record.get("s3");
    let bucket = s3
        .and_then(|s3| s3.get("bucket"))
        .and_then(|bucket| bucket.get("name"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or(IgnoreReason::MissingBucket {
            field: "s3.bucket.name",
        })?;
    let encoded_key = s3
        .and_then(|s3| s3.get("object"))
        .and_then(|object| object.get("key"))
        .and_then(Value::as_str)
        .filter(|key| !key.is_empty())
        .ok_or(IgnoreReason::MissingKey {
            field: "s3.object.key",
        })?;
    Ok(ObjectRef {
        bucket: bucket.to_owned(),
        key: form_decode_key(encoded_key)?,
    })
}

/// Decodes a key as S3 event notifications and S3 Batch Operations encode it (form-URL-encoding):
/// `+` is a space, `%XX` a byte, and the bytes must be UTF-8. A `%` without two hex digits is
/// refused rather than guessed at: S3 always sends a literal `%` as `%25`.
pub fn form_decode_key(encoded_key: &str) -> Result<String, IgnoreReason> {
    let bytes = encoded_key.as_bytes();
    let malformed_escape = bytes.iter().enumerate().any(|(index, &byte)| {
        let hex_at = |offset: usize| bytes.get(index + offset).is_some_and(u8::is_ascii_hexdigit);
        byte == b'%' && !(hex_at(1) && hex_at(2))
    });
    if malformed_escape {
        return Err(IgnoreReason::MalformedEscape {
            encoded_key: encoded_key.to_owned(),
        });
    }
    // `+` first: a `%2B` decodes to a `+` that must stay one.
    let spaced = encoded_key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| IgnoreReason::KeyNotUtf8 {
            encoded_key: encoded_key.to_owned(),
        })
}

/// The objects of one message, each once in first-seen order, and the entries that named none.
#[derive(Default)]
struct NamedObjects {
    objects: Vec<ObjectRef>,
    seen: HashSet<ObjectRef>,
    ignored: Vec<IgnoredEntry>,
}

impl NamedObjects {
    fn push(&mut self, index: usize, entry: Result<ObjectRef, IgnoreReason>) {
        match entry {
            Ok(object) => {
                if self.seen.insert(object.clone()) {
                    self.objects.push(object);
                }
            }
            Err(reason) => self.ignored.push(IgnoredEntry { index, reason }),
        }
    }

    fn into_notification(self) -> Notification {
        Notification::Objects {
            objects: self.objects,
            ignored: self.ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference_sns(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/reference/sns/{name}",
            concat!(env!("CARGO_MANIFEST_DIR"), "/..")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {path}: {err}"))
    }

    fn object(bucket: &str, key: &str) -> ObjectRef {
        ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }
    }

    fn objects_of(notification: Notification) -> (Vec<ObjectRef>, Vec<IgnoredEntry>) {
        match notification {
            Notification::Objects { objects, ignored } => (objects, ignored),
            other => panic!("expected objects, got {other:?}"),
        }
    }

    /// An S3 event notification with one record per (event name, encoded key).
    fn s3_event(records: &[(&str, &str)]) -> String {
        let records: Vec<Value> = records
            .iter()
            .map(|(event_name, key)| {
                serde_json::json!({
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": event_name,
                    "s3": {"bucket": {"name": "trail-bucket"}, "object": {"key": key}}
                })
            })
            .collect();
        serde_json::json!({ "Records": records }).to_string()
    }

    fn s3_put_key(encoded_key: &str) -> Result<String, IgnoreReason> {
        let (mut objects, mut ignored) = objects_of(decode_message(&s3_event(&[(
            "ObjectCreated:Put",
            encoded_key,
        )])));
        match (objects.pop(), ignored.pop()) {
            (Some(object), None) => Ok(object.key),
            (None, Some(entry)) => Err(entry.reason),
            other => panic!("expected one object or one ignored entry, got {other:?}"),
        }
    }

    // --- CloudTrail delivery notifications ---

    #[test]
    fn cloudtrail_notification_names_every_key_in_order() {
        let message = reference_sns("cloudtrail-sns-message_awsdocs_multi-key.json");
        let (objects, ignored) = objects_of(decode_message(&message));
        let prefix = "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_";
        assert_eq!(
            objects,
            vec![
                object(
                    "your-bucket-name",
                    &format!("{prefix}20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz")
                ),
                object(
                    "your-bucket-name",
                    &format!("{prefix}20160811T2210Z_zqDkyQv3TK8ZdLr0.json.gz")
                ),
                object(
                    "your-bucket-name",
                    &format!("{prefix}20160811T2205Z_jaMVRa6JfdLCJYHP.json.gz")
                ),
            ]
        );
        assert!(ignored.is_empty());
    }

    #[test]
    fn cloudtrail_notification_with_one_key() {
        let message = reference_sns("cloudtrail-sns-message_awsdocs_single-key.json");
        let (objects, _) = objects_of(decode_message(&message));
        assert_eq!(
            objects,
            vec![object(
                "your-bucket-name",
                "AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz"
            )]
        );
    }

    #[test]
    fn cloudtrail_keys_are_not_url_decoded() {
        let message = r#"{"s3Bucket":"b","s3ObjectKey":["logs/a+b%2Bc%20d.json.gz"]}"#;
        let (objects, _) = objects_of(decode_message(message));
        assert_eq!(objects, vec![object("b", "logs/a+b%2Bc%20d.json.gz")]);
    }

    #[test]
    fn cloudtrail_key_as_a_single_string_is_accepted() {
        let message = r#"{"s3Bucket":"b","s3ObjectKey":"AWSLogs/k.json.gz"}"#;
        let (objects, _) = objects_of(decode_message(message));
        assert_eq!(objects, vec![object("b", "AWSLogs/k.json.gz")]);
    }

    #[test]
    fn cloudtrail_notification_without_bucket_is_unrecognized() {
        for message in [
            r#"{"s3ObjectKey":["k"]}"#,
            r#"{"s3Bucket":"","s3ObjectKey":["k"]}"#,
            r#"{"s3Bucket":7,"s3ObjectKey":["k"]}"#,
        ] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::CloudTrailWithoutBucket),
                "{message}"
            );
        }
    }

    #[test]
    fn cloudtrail_notification_without_keys_is_unrecognized() {
        for message in [
            r#"{"s3Bucket":"b"}"#,
            r#"{"s3Bucket":"b","s3ObjectKey":[]}"#,
            r#"{"s3Bucket":"b","s3ObjectKey":null}"#,
            r#"{"s3Bucket":"b","s3ObjectKey":{"k":1}}"#,
        ] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::CloudTrailWithoutKeys),
                "{message}"
            );
        }
    }

    #[test]
    fn cloudtrail_key_entries_that_are_not_keys_are_ignored_with_their_index() {
        let message = r#"{"s3Bucket":"b","s3ObjectKey":["k1", 3, "", "k2"]}"#;
        let (objects, ignored) = objects_of(decode_message(message));
        assert_eq!(objects, vec![object("b", "k1"), object("b", "k2")]);
        assert_eq!(
            ignored,
            vec![
                IgnoredEntry {
                    index: 1,
                    reason: IgnoreReason::KeyNotString
                },
                IgnoredEntry {
                    index: 2,
                    reason: IgnoreReason::EmptyKey
                },
            ]
        );
    }

    // --- S3 event notifications ---

    #[test]
    fn s3_event_notification_names_its_object() {
        let message = reference_sns("awsdocs-s3__s3-event_put.json");
        let (objects, ignored) = objects_of(decode_message(&message));
        assert_eq!(objects, vec![object("mybucket", "HappyFace.jpg")]);
        assert!(ignored.is_empty());
    }

    #[test]
    fn s3_event_key_plus_is_a_space() {
        assert_eq!(
            s3_put_key("logs/a+b+c.json.gz"),
            Ok("logs/a b c.json.gz".to_owned())
        );
    }

    #[test]
    fn s3_event_key_percent_2b_is_a_plus() {
        assert_eq!(s3_put_key("logs/a%2Bb%2bc"), Ok("logs/a+b+c".to_owned()));
    }

    #[test]
    fn s3_event_key_percent_20_is_a_space() {
        assert_eq!(s3_put_key("logs/a%20b"), Ok("logs/a b".to_owned()));
    }

    #[test]
    fn s3_event_key_colon_of_the_brief_decodes() {
        assert_eq!(
            s3_put_key("AWSLogs/x+x%3Ay.json.gz"),
            Ok("AWSLogs/x x:y.json.gz".to_owned())
        );
    }

    #[test]
    fn s3_event_key_multi_byte_utf8_decodes() {
        assert_eq!(
            s3_put_key("caf%C3%A9/%E2%82%AC%F0%9F%98%80"),
            Ok("café/€😀".to_owned())
        );
    }

    #[test]
    fn s3_event_key_raw_non_ascii_is_kept() {
        assert_eq!(s3_put_key("café/x"), Ok("café/x".to_owned()));
    }

    #[test]
    fn s3_event_key_invalid_utf8_is_ignored_with_a_reason() {
        for encoded_key in ["bad%FF", "bad%C3", "bad%C3%28"] {
            assert_eq!(
                s3_put_key(encoded_key),
                Err(IgnoreReason::KeyNotUtf8 {
                    encoded_key: encoded_key.to_owned()
                })
            );
        }
    }

    #[test]
    fn s3_event_key_malformed_percent_is_ignored_with_a_reason() {
        for encoded_key in ["bad%", "bad%2", "bad%ZZ", "bad%2G", "%%41"] {
            assert_eq!(
                s3_put_key(encoded_key),
                Err(IgnoreReason::MalformedEscape {
                    encoded_key: encoded_key.to_owned()
                }),
                "{encoded_key}"
            );
        }
    }

    #[test]
    fn s3_event_with_several_records_names_several_objects() {
        let message = s3_event(&[
            ("ObjectCreated:Put", "AWSLogs/a.json.gz"),
            ("ObjectCreated:CompleteMultipartUpload", "AWSLogs/b.json.gz"),
            ("ObjectCreated:Copy", "AWSLogs/c.json.gz"),
        ]);
        let (objects, _) = objects_of(decode_message(&message));
        assert_eq!(
            objects,
            vec![
                object("trail-bucket", "AWSLogs/a.json.gz"),
                object("trail-bucket", "AWSLogs/b.json.gz"),
                object("trail-bucket", "AWSLogs/c.json.gz"),
            ]
        );
    }

    #[test]
    fn s3_object_removed_event_names_no_object() {
        let message = s3_event(&[
            ("ObjectRemoved:Delete", "AWSLogs/gone.json.gz"),
            ("ObjectCreated:Put", "AWSLogs/new.json.gz"),
        ]);
        let (objects, ignored) = objects_of(decode_message(&message));
        assert_eq!(objects, vec![object("trail-bucket", "AWSLogs/new.json.gz")]);
        assert_eq!(
            ignored,
            vec![IgnoredEntry {
                index: 0,
                reason: IgnoreReason::NotObjectCreated {
                    event_name: Some("ObjectRemoved:Delete".to_owned())
                }
            }]
        );
    }

    #[test]
    fn s3_event_without_event_name_names_no_object() {
        let message = r#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#;
        let (objects, ignored) = objects_of(decode_message(message));
        assert!(objects.is_empty());
        assert_eq!(
            ignored,
            vec![IgnoredEntry {
                index: 0,
                reason: IgnoreReason::NotObjectCreated { event_name: None }
            }]
        );
    }

    #[test]
    fn s3_record_without_bucket_or_key_is_ignored_with_a_reason() {
        let message = r#"{"Records":[
            {"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}},
            {"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":""}}},
            {"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}
        ]}"#;
        let (objects, ignored) = objects_of(decode_message(message));
        assert!(objects.is_empty());
        let reasons: Vec<IgnoreReason> = ignored.into_iter().map(|entry| entry.reason).collect();
        assert_eq!(
            reasons,
            vec![
                IgnoreReason::MissingBucket {
                    field: "s3.bucket.name"
                },
                IgnoreReason::MissingKey {
                    field: "s3.object.key"
                },
                IgnoreReason::MissingBucket {
                    field: "s3.bucket.name"
                }
            ]
        );
    }

    #[test]
    fn records_from_other_sources_beside_s3_records_are_ignored() {
        let message = r#"{"Records":[
            {"eventSource":"aws:sqs"},
            {"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}
        ]}"#;
        let (objects, ignored) = objects_of(decode_message(message));
        assert_eq!(objects, vec![object("b", "k")]);
        assert_eq!(
            ignored,
            vec![IgnoredEntry {
                index: 0,
                reason: IgnoreReason::NotFromS3 {
                    event_source: Some("aws:sqs".to_owned())
                }
            }]
        );
    }

    #[test]
    fn records_without_any_s3_record_are_unrecognized() {
        for message in [
            r#"{"Records":[]}"#,
            r#"{"Records":[{"eventSource":"aws:sqs"}, 5]}"#,
        ] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::NoS3Records),
                "{message}"
            );
        }
    }

    // --- dedup ---

    #[test]
    fn object_named_twice_is_processed_once_in_first_order() {
        let message = r#"{"s3Bucket":"b","s3ObjectKey":["k2","k1","k2","k1","k3"]}"#;
        let (objects, ignored) = objects_of(decode_message(message));
        assert_eq!(
            objects,
            vec![object("b", "k2"), object("b", "k1"), object("b", "k3")]
        );
        assert!(ignored.is_empty());
    }

    #[test]
    fn s3_keys_that_decode_to_the_same_key_are_one_object() {
        let message = s3_event(&[
            ("ObjectCreated:Put", "a+b"),
            ("ObjectCreated:Put", "a%20b"),
            ("ObjectCreated:Put", "a%2Bb"),
        ]);
        let (objects, _) = objects_of(decode_message(&message));
        assert_eq!(
            objects,
            vec![object("trail-bucket", "a b"), object("trail-bucket", "a+b")]
        );
    }

    // --- messages with nothing to do ---

    #[test]
    fn cloudtrail_validation_message_is_recognized() {
        assert_eq!(
            decode_message("CloudTrail validation message."),
            Notification::CloudTrailValidation
        );
    }

    #[test]
    fn cloudtrail_validation_message_surrounded_by_whitespace_is_recognized() {
        assert_eq!(
            decode_message("\n  CloudTrail validation message.\r\n\t"),
            Notification::CloudTrailValidation
        );
    }

    #[test]
    fn text_close_to_the_validation_message_is_not_json() {
        for message in [
            "CloudTrail validation message",
            "cloudtrail validation message.",
        ] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::NotJson)
            );
        }
    }

    #[test]
    fn s3_test_event_is_recognized() {
        let message = reference_sns("awsdocs-s3__s3-testevent.json");
        assert_eq!(decode_message(&message), Notification::S3TestEvent);
    }

    #[test]
    fn unknown_json_is_unrecognized() {
        for message in [
            r#"{"hello":"world"}"#,
            r#"{"Service":"Amazon S3","Event":"s3:SomethingElse"}"#,
            r#"{"Records":"not an array"}"#,
            r#"["s3Bucket","b"]"#,
            r#""CloudTrail validation message.""#,
            "42",
            "null",
        ] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::UnknownJsonShape),
                "{message}"
            );
        }
    }

    #[test]
    fn non_json_text_is_unrecognized() {
        for message in ["Hello\r\nworld!", "{not json", "s3://b/k"] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::NotJson),
                "{message}"
            );
        }
    }

    #[test]
    fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
        let message = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            decode_message(&message),
            Notification::Unrecognized(UnrecognizedReason::NotJson)
        );
    }

    #[test]
    fn empty_message_is_unrecognized() {
        for message in ["", "  \n\t "] {
            assert_eq!(
                decode_message(message),
                Notification::Unrecognized(UnrecognizedReason::Empty)
            );
        }
    }

    #[test]
    fn lambda_sns_envelope_fixture_carries_a_message_we_do_not_process() {
        let envelope = reference_sns("aws-lambda-rust-runtime__example-sns-event.json");
        let event: Value = serde_json::from_str(&envelope).unwrap();
        let messages: Vec<Notification> = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| decode_message(record["Sns"]["Message"].as_str().unwrap()))
            .collect();
        assert_eq!(
            messages,
            vec![Notification::Unrecognized(UnrecognizedReason::NotJson)]
        );
    }

    #[test]
    fn lambda_sns_envelope_carrying_a_cloudtrail_notification_names_its_objects() {
        let mut envelope: Value = serde_json::from_str(&reference_sns(
            "aws-lambda-rust-runtime__example-sns-event.json",
        ))
        .unwrap();
        envelope["Records"][0]["Sns"]["Message"] = Value::String(reference_sns(
            "cloudtrail-sns-message_awsdocs_multi-key.json",
        ));
        let message = envelope["Records"][0]["Sns"]["Message"].as_str().unwrap();
        let (objects, _) = objects_of(decode_message(message));
        assert_eq!(objects.len(), 3);
    }

    #[test]
    fn ignored_entry_says_which_entry_and_why() {
        let entry = IgnoredEntry {
            index: 2,
            reason: IgnoreReason::NotObjectCreated {
                event_name: Some("ObjectRemoved:Delete".to_owned()),
            },
        };
        let text = entry.to_string();
        assert!(text.starts_with("entry 2: "), "{text}");
        assert!(text.contains("ObjectRemoved:Delete"), "{text}");
    }

    // --- s3:// URIs ---

    #[test]
    fn object_ref_displays_as_s3_uri() {
        assert_eq!(
            object("b", "AWSLogs/a b.json.gz").to_string(),
            "s3://b/AWSLogs/a b.json.gz"
        );
    }

    // --- properties ---

    /// Encodes a key the way S3 event notifications do (spaces as `+`, the rest as `%XX` except
    /// unreserved characters).
    fn encode_like_s3(key: &str) -> String {
        let mut encoded = String::new();
        for byte in key.bytes() {
            match byte {
                b' ' => encoded.push('+'),
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    encoded.push(char::from(byte))
                }
                other => encoded.push_str(&format!("%{other:02X}")),
            }
        }
        encoded
    }

    proptest! {
        #[test]
        fn decode_message_never_panics(message in any::<String>()) {
            let _ = decode_message(&message);
        }

        #[test]
        fn decode_message_never_panics_on_json_like_text(
            message in r#"[{}\[\]":,sS3ObjectKeyRcordsBuckt%+ 0-9a-f\\]{0,80}"#
        ) {
            let _ = decode_message(&message);
        }

        #[test]
        fn s3_event_key_decodes_back_to_the_original(key in "\\PC{1,40}") {
            prop_assert_eq!(s3_put_key(&encode_like_s3(&key)), Ok(key));
        }

        #[test]
        fn cloudtrail_key_is_taken_verbatim(key in "\\PC{1,40}") {
            let message = serde_json::json!({"s3Bucket": "b", "s3ObjectKey": [key]}).to_string();
            let (objects, _) = objects_of(decode_message(&message));
            prop_assert_eq!(objects, vec![object("b", &key)]);
        }
    }
}
