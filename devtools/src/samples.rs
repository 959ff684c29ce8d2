//! The sample data under `events/`: gzipped CloudTrail log files (A4B records from
//! [`crate::a4b_records`] among real records of other services from the public reference logs) and
//! the events of every trigger that name them. Deterministic: the same inputs give the same bytes.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::a4b_records::{self, ACCOUNT_ID, ApiModel, Caller, OTHER_ACCOUNT_ID, REGION};

/// The bucket the sample logs live in, locally.
pub const BUCKET: &str = "a4b-audit-local-trail";
/// The audit table `a4b-dev run-local` creates.
pub const TABLE: &str = "a4b-audit-local";
/// Under `events/`: the log files, each at the path of its S3 key.
pub const LOGS_DIR: &str = "logs";

const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:a4b-audit-cloudtrail";
/// Accounts in the reference logs, rewritten to the sample ones so that a file holds one account.
const REFERENCE_ACCOUNTS: [(&str, &str); 2] = [
    ("218007301253", ACCOUNT_ID),
    ("123837392027", OTHER_ACCOUNT_ID),
];
/// A4B calls that a room audit trail is about; each sample record is one of them.
const OPERATIONS: [&str; 18] = [
    "CreateRoom",
    "UpdateRoom",
    "GetRoom",
    "AssociateDeviceWithRoom",
    "AssociateSkillGroupWithRoom",
    "PutRoomSkillParameter",
    "GetRoomSkillParameter",
    "ResolveRoom",
    "StartDeviceSync",
    "SearchRooms",
    "DisassociateDeviceFromRoom",
    "SearchDevices",
    "ListSkills",
    "CreateProfile",
    "UpdateDevice",
    "SendAnnouncement",
    "ApproveSkill",
    "DeleteRoom",
];
/// The generator invents a fresh room per record; folding them onto a few rooms makes the
/// per-room view show a history.
const ROOM_COUNT: u64 = 4;

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("could not load the A4B API model: {0}")]
    Model(String),
    #[error("could not read the reference log {path}: {source}")]
    ReadReference {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the reference log {path} is not a CloudTrail log file: {source}")]
    ParseReference {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// One file of `events/`, by its path relative to `events/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// One sample log file: where it goes, which reference log gives the other services' records,
/// and how many A4B records go in.
struct LogPlan {
    key: String,
    reference_log: &'static str,
    window_start: &'static str,
    a4b_records: u64,
}

fn log_plans() -> [LogPlan; 4] {
    // `prefix` is the trail's S3 key prefix; `organization` the `o-.../` of an organization trail.
    let log_key = |prefix: &str, organization: &str, stamp: &str, id: &str| {
        format!(
            "{prefix}AWSLogs/{organization}{ACCOUNT_ID}/CloudTrail/{REGION}/2023/07/10/{ACCOUNT_ID}_CloudTrail_{REGION}_{stamp}_{id}.json.gz"
        )
    };
    [
        LogPlan {
            key: log_key("", "", "20230710T1205Z", "Ab12Cd34Ef56Gh78"),
            reference_log: "218007301253_CloudTrail_us-east-1_20230710T1205Z_SjF3IkuNXJkoHyar.json",
            window_start: "12:00",
            a4b_records: 12,
        },
        LogPlan {
            key: log_key("", "", "20230710T1215Z", "Jk90Lm12No34Pq56"),
            reference_log: "218007301253_CloudTrail_us-east-1_20230710T1215Z_MifI13MOmOjRfXzJ.json",
            window_start: "12:10",
            a4b_records: 16,
        },
        LogPlan {
            // An organization trail: the organization id comes before the account.
            key: log_key("", "o-a4b1example/", "20230710T1230Z", "Rs78Tu90Vw12Xy34"),
            reference_log: "218007301253_CloudTrail_us-east-1_20230710T1230Z_KV9LZlfXqBel7nqf.json",
            window_start: "12:25",
            a4b_records: 10,
        },
        LogPlan {
            // A prefix with a space and a `+`: S3 event notifications encode them as `+` and `%2B`.
            key: log_key(
                "trail logs/team+a4b/",
                "",
                "20230710T1145Z",
                "Za56Yb78Xc90Wd12",
            ),
            reference_log: "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json",
            window_start: "11:40",
            a4b_records: 8,
        },
    ]
}

/// Generates every file of `events/`. `reference_dir` is `tests/fixtures/reference`.
pub fn generate(reference_dir: &Path) -> Result<Vec<SampleFile>, SampleError> {
    let model = ApiModel::load(reference_dir.join("a4b-service-2.json"))
        .map_err(|error| SampleError::Model(error.to_string()))?;
    let plans = log_plans();
    let mut files = Vec::new();
    let mut next_seed = 1;
    for plan in &plans {
        let reference_path = reference_dir
            .join("cloudtrail/logfiles/invictus-ir_aws_dataset")
            .join(plan.reference_log);
        let other_records = reference_records(&reference_path)?;
        let a4b_records: Vec<String> = (0..plan.a4b_records)
            .map(|index| {
                let record = a4b_record(&model, next_seed + index, plan.window_start, index);
                record.to_string()
            })
            .collect();
        next_seed += plan.a4b_records;
        files.push(SampleFile {
            path: Path::new(LOGS_DIR).join(&plan.key),
            bytes: gzip(log_file_text(&other_records, &a4b_records).as_bytes()),
        });
    }
    let [single, second, organization, spaced] = &plans;
    let digest_key = format!(
        "AWSLogs/{ACCOUNT_ID}/CloudTrail-Digest/{REGION}/2023/07/10/{ACCOUNT_ID}_CloudTrail-Digest_{REGION}_a4b-trail_{REGION}_20230710T131500Z.json.gz"
    );
    let events = [
        (
            "cloudtrail-delivery-single.json",
            sns_event(1, &cloudtrail_delivery(&[&single.key])),
        ),
        (
            "cloudtrail-delivery-multi.json",
            sns_event(
                2,
                &cloudtrail_delivery(&[&second.key, &digest_key, &organization.key]),
            ),
        ),
        (
            "s3-event-url-encoded.json",
            sns_event(
                3,
                &s3_event_notification(BUCKET, &[&spaced.key]).to_string(),
            ),
        ),
        (
            "cloudtrail-validation.json",
            sns_event(4, "CloudTrail validation message."),
        ),
        ("s3-test-event.json", sns_event(5, &s3_test_event())),
        // The other triggers (SPEC section 1b), each naming sample logs.
        (
            "sqs-sns-envelope.json",
            sqs_event(&[
                (
                    &message_id(11),
                    sns_envelope(&cloudtrail_delivery(&[&single.key])),
                ),
                (
                    &message_id(12),
                    sns_envelope("CloudTrail validation message."),
                ),
            ]),
        ),
        (
            "sqs-raw-delivery.json",
            sqs_event(&[
                (
                    &message_id(13),
                    cloudtrail_delivery(&[&second.key, &digest_key]),
                ),
                (&message_id(14), "CloudTrail validation message.".to_owned()),
            ]),
        ),
        (
            "sqs-s3-event.json",
            sqs_event(&[
                (
                    &message_id(15),
                    s3_event_notification(BUCKET, &[&spaced.key]).to_string(),
                ),
                (&message_id(16), s3_test_event()),
            ]),
        ),
        (
            "s3-event-direct.json",
            s3_event_notification(BUCKET, &[&spaced.key, &organization.key]),
        ),
        (
            "eventbridge-object-created.json",
            eventbridge_object_created(BUCKET, &organization.key),
        ),
        (
            "s3-batch-schema-1.0.json",
            s3_batch_event(BatchSchema::V1, BUCKET, &[&single.key]),
        ),
        (
            "s3-batch-schema-2.0.json",
            s3_batch_event(BatchSchema::V2, BUCKET, &[&spaced.key, &digest_key]),
        ),
        (
            "map-batch.json",
            map_batch(
                BUCKET,
                &[
                    &single.key,
                    &second.key,
                    &organization.key,
                    &spaced.key,
                    &digest_key,
                ],
            ),
        ),
    ];
    for (name, event) in events {
        let mut text = serde_json::to_string_pretty(&event).unwrap_or_default();
        text.push('\n');
        files.push(SampleFile {
            path: PathBuf::from(name),
            bytes: text.into_bytes(),
        });
    }
    Ok(files)
}

/// Writes the files under `out`, creating directories as needed.
pub fn write(out: &Path, files: &[SampleFile]) -> Result<(), SampleError> {
    for file in files {
        let path = out.join(&file.path);
        let write_error = |source| SampleError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(write_error)?;
        }
        fs::write(&path, &file.bytes).map_err(write_error)?;
    }
    Ok(())
}

/// The S3 key of a log file under `events/logs/`: its path relative to `logs/`, with `/`.
pub fn key_of_log(logs_dir: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(logs_dir).ok()?;
    let parts: Option<Vec<&str>> = relative.iter().map(|part| part.to_str()).collect();
    Some(parts?.join("/"))
}

#[derive(Deserialize)]
struct ReferenceLog<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

/// The reference log's records as their original text, accounts rewritten.
fn reference_records(path: &Path) -> Result<Vec<String>, SampleError> {
    let text = fs::read_to_string(path).map_err(|source| SampleError::ReadReference {
        path: path.to_owned(),
        source,
    })?;
    let log: ReferenceLog<'_> =
        serde_json::from_str(&text).map_err(|source| SampleError::ParseReference {
            path: path.to_owned(),
            source,
        })?;
    Ok(log
        .records
        .iter()
        .map(|record| {
            REFERENCE_ACCOUNTS
                .iter()
                .fold(record.get().to_owned(), |text, (from, to)| {
                    text.replace(from, to)
                })
        })
        .collect())
}

/// One A4B record with its rooms folded onto the few sample rooms and its time inside the
/// file's five-minute window.
fn a4b_record(model: &ApiModel, seed: u64, window_start: &str, index: u64) -> Value {
    let operation = OPERATIONS[(seed % OPERATIONS.len() as u64) as usize];
    let caller = Caller::ALL[(seed % Caller::ALL.len() as u64) as usize];
    let generated = a4b_records::record(model, operation, caller, seed);
    let mut text = generated.record.to_string();
    for (position, room) in generated.room_arns.iter().enumerate() {
        let sample_room = a4b_records::room_arn((seed + position as u64) % ROOM_COUNT + 1);
        text = text.replace(room.as_str(), &sample_room);
    }
    let mut record: Value = serde_json::from_str(&text).unwrap_or(generated.record);
    if let Some(fields) = record.as_object_mut() {
        fields.insert(
            "eventTime".to_owned(),
            event_time(window_start, index * 17).into(),
        );
    }
    record
}

/// `2023-07-10THH:MM:SSZ`, `offset_seconds` after `window_start` (`HH:MM`).
fn event_time(window_start: &str, offset_seconds: u64) -> String {
    let (hours, minutes) = window_start.split_once(':').unwrap_or(("12", "00"));
    let start =
        hours.parse::<u64>().unwrap_or(12) * 3600 + minutes.parse::<u64>().unwrap_or(0) * 60;
    let time = start + offset_seconds;
    format!(
        "2023-07-10T{:02}:{:02}:{:02}Z",
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

/// `{"Records":[...]}` on one line, as CloudTrail writes it, the A4B records spread among the
/// others.
fn log_file_text(other_records: &[String], a4b_records: &[String]) -> String {
    let mut records: Vec<&str> = other_records.iter().map(String::as_str).collect();
    // Insert from the back so earlier positions stay valid.
    for (index, record) in a4b_records.iter().enumerate().rev() {
        let position = (index * other_records.len()) / a4b_records.len().max(1);
        records.insert(position.min(records.len()), record);
    }
    let mut text = String::from("{\"Records\":[");
    for (index, record) in records.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(record);
    }
    text.push_str("]}");
    text
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // mtime 0 and no file name: the same input always gives the same bytes.
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

fn cloudtrail_delivery(keys: &[&str]) -> String {
    json!({"s3Bucket": BUCKET, "s3ObjectKey": keys}).to_string()
}

/// An S3 event notification naming `keys` (routed through SNS or SQS, or invoking the function
/// directly); S3 URL-encodes the keys (space as `+`).
pub fn s3_event_notification(bucket: &str, keys: &[&str]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|key| {
            json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2023-07-10T11:45:12.345Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AROAEXAMPLEROLEID:regionalDeliverySession"},
                "requestParameters": {"sourceIPAddress": "203.0.113.24"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "a4b-audit-new-logs",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": format!("arn:aws:s3:::{bucket}")
                    },
                    "object": {
                        "key": url_encode_key(key),
                        "size": 2048,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": "0064AC0F2A5B3C4D5E"
                    }
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The id of a sample message, `number` making it unique.
fn message_id(number: u32) -> String {
    format!("a4b5a3e1-0000-4000-8000-{number:012}")
}

/// The SNS envelope a queue subscribed without raw message delivery receives. Note
/// `SigningCertURL` and `UnsubscribeURL`, where SNS invoking Lambda says `…Url`.
pub fn sns_envelope(message: &str) -> String {
    json!({
        "Type": "Notification",
        "MessageId": "d88d4479-6ec0-54fe-b63f-1cf9df4bb16e",
        "TopicArn": TOPIC_ARN,
        "Subject": null,
        "Message": message,
        "Timestamp": "2023-07-10T13:10:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeURL": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55")
    })
    .to_string()
}

/// The Lambda event SQS delivers: one record per `(messageId, body)`.
pub fn sqs_event(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(message_id, body)| {
            json!({
                "messageId": message_id,
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1688990760000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1688990760001"
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:a4b-audit-notifications"),
                "awsRegion": REGION
            })
        })
        .collect();
    json!({ "Records": records })
}

/// S3's `Object Created` event through EventBridge; the key is not URL-encoded.
pub fn eventbridge_object_created(bucket: &str, key: &str) -> Value {
    json!({
        "version": "0",
        "id": "f5f1e65c-dc3a-93ca-6c1e-b1647eac7963",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": "2023-07-10T12:31:14Z",
        "region": REGION,
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": 2048,
                "etag": "4e68adba0abe2dc8653dc3354e14c01d",
                "sequencer": "006408CAD69598B05E"
            },
            "request-id": "57H08PA84AB1JZW0",
            "requester": "cloudtrail.amazonaws.com",
            "source-ip-address": "203.0.113.24",
            "reason": "PutObject"
        }
    })
}

/// The invocation schema of an S3 Batch Operations job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSchema {
    /// `s3BucketArn`.
    V1,
    /// `s3Bucket`, and `job.userArguments`.
    V2,
}

/// An S3 Batch Operations invocation with one task per key (`task-0`, `task-1`, …); the keys
/// form-URL-encoded as S3 sends them.
pub fn s3_batch_event(schema: BatchSchema, bucket: &str, keys: &[&str]) -> Value {
    let tasks: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            let task_id = format!("task-{index}");
            match schema {
                BatchSchema::V1 => json!({
                    "taskId": task_id,
                    "s3Key": url_encode_key(key),
                    "s3VersionId": "1",
                    "s3BucketArn": format!("arn:aws:s3:::{bucket}")
                }),
                BatchSchema::V2 => json!({
                    "taskId": task_id,
                    "s3Key": url_encode_key(key),
                    "s3VersionId": null,
                    "s3Bucket": bucket
                }),
            }
        })
        .collect();
    let job = match schema {
        BatchSchema::V1 => json!({"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"}),
        BatchSchema::V2 => json!({
            "id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce",
            "userArguments": {"purpose": "replay 2023-07-10"}
        }),
    };
    json!({
        "invocationSchemaVersion": match schema {
            BatchSchema::V1 => "1.0",
            BatchSchema::V2 => "2.0",
        },
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "job": job,
        "tasks": tasks
    })
}

/// One batch of a Step Functions Distributed Map over the CLI's manifest (`Key` and `Size`
/// columns); keys raw.
pub fn map_batch(bucket: &str, keys: &[&str]) -> Value {
    let items: Vec<Value> = keys
        .iter()
        .map(|key| json!({"Key": key, "Size": "2048"}))
        .collect();
    json!({"Items": items, "BatchInput": {"Bucket": bucket}})
}

fn s3_test_event() -> String {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2023-07-10T11:30:02.089Z",
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"
    })
    .to_string()
}

/// S3's encoding of keys in event notifications: unreserved characters and `/` as they are, a
/// space as `+`, every other byte as `%XX`.
pub fn url_encode_key(key: &str) -> String {
    let mut encoded = String::new();
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            _ => {
                let _ = write!(encoded, "%{byte:02X}");
            }
        }
    }
    encoded
}

/// The Lambda event SNS delivers: one record carrying `message`.
fn sns_event(number: u32, message: &str) -> Value {
    let message_id = message_id(number);
    let subscription_arn = format!("{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55");
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": TOPIC_ARN,
                "Subject": null,
                "Message": message,
                "Timestamp": format!("2023-07-10T13:{number:02}:00.000Z"),
                "SignatureVersion": "1",
                "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"),
                "MessageAttributes": {}
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_s3_events_encode_space_as_plus_and_plus_as_percent_2b() {
        assert_eq!(
            url_encode_key("trail logs/team+a4b/x_y-z.json.gz"),
            "trail+logs/team%2Ba4b/x_y-z.json.gz"
        );
    }

    #[test]
    fn event_times_stay_inside_the_window() {
        assert_eq!(event_time("12:00", 0), "2023-07-10T12:00:00Z");
        assert_eq!(event_time("11:40", 15 * 17), "2023-07-10T11:44:15Z");
    }
}
