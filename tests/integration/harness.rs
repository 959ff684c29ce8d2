//! What every integration test needs: the shared moto server, a fresh bucket and table per test,
//! the sample events and logs of `events/`, and the pipeline wired to the emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use a4b_audit::config::Config;
use a4b_audit::ledger::DynamoDbLedger;
use a4b_audit::pipeline::{Pipeline, PipelineOptions};
use a4b_audit::sink::DynamoDbSink;
use a4b_audit::source::S3Source;
use a4b_audit::writer::WriterOptions;
use a4b_audit_devtools::moto::{self, MotoServer};
use a4b_audit_devtools::samples;
use aws_lambda_events::event::sns::SnsEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::oracle::{self, ComparableItem};

/// A table item as scanned, attributes by name.
pub type TableItem = BTreeMap<String, AttributeValue>;

/// One test's own bucket and table in the shared emulator.
pub struct TestEnv {
    pub endpoint: String,
    pub sdk_config: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub bucket: String,
    pub table: String,
}

impl TestEnv {
    /// A new bucket and table, named after the test so that tests can run in parallel.
    pub async fn new(test_name: &str) -> TestEnv {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let slug: String = test_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let moto = MotoServer::shared().expect("moto server (run scripts/test to install it)");
        let endpoint = moto.endpoint();
        let sdk_config = moto::sdk_config(&endpoint).await;
        let s3 = moto::s3_client(&sdk_config);
        let dynamodb = moto::dynamodb_client(&sdk_config);
        let bucket = format!("t{n}-{slug}").trim_end_matches('-').to_owned();
        let table = format!("audit-{n}-{slug}");
        moto::create_bucket(&s3, &bucket)
            .await
            .expect("create bucket");
        moto::create_audit_table(&dynamodb, &table)
            .await
            .expect("create table");
        TestEnv {
            endpoint,
            sdk_config,
            s3,
            dynamodb,
            bucket,
            table,
        }
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) {
        moto::put_object(&self.s3, &self.bucket, key, body)
            .await
            .expect("put object");
    }

    /// Uploads every sample log of `events/logs/` to the key its path names; returns the keys.
    pub async fn put_sample_logs(&self) -> Vec<String> {
        let logs = events_dir().join(samples::LOGS_DIR);
        let mut keys = Vec::new();
        for file in a4b_audit_devtools::local::files_under(&logs).expect("list events/logs") {
            if let Some(key) = samples::key_of_log(&logs, &file) {
                self.put(&key, std::fs::read(&file).expect("read sample log"))
                    .await;
                keys.push(key);
            }
        }
        keys.sort();
        keys
    }

    /// The function's settings for this test's table.
    pub fn config(&self) -> Config {
        self.config_with(&[])
    }

    pub fn config_with(&self, extra: &[(&str, &str)]) -> Config {
        let table = self.table.clone();
        let extra: BTreeMap<String, String> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some(table.clone()),
            other => extra.get(other).cloned(),
        })
        .expect("test config")
    }

    /// The production pipeline (S3 source, DynamoDB sink and ledger, writer), as the Lambda main
    /// builds it, pointed at the emulator.
    pub fn pipeline(&self, config: Config) -> Pipeline<S3Source, DynamoDbSink, DynamoDbLedger> {
        let options = PipelineOptions {
            writer: WriterOptions {
                base_delay: std::time::Duration::from_millis(5),
                max_delay: std::time::Duration::from_millis(50),
                ..WriterOptions::default()
            },
            ..PipelineOptions::default()
        };
        let table = config.table_name.clone();
        let dynamodb = a4b_audit::aws::dynamodb_client(&self.sdk_config);
        Pipeline::new(
            S3Source::new(a4b_audit::aws::s3_client(&self.sdk_config)),
            DynamoDbSink::new(dynamodb.clone(), table.clone()),
            config,
            options,
        )
        .with_ledger(DynamoDbLedger::new(dynamodb, table))
    }

    /// Every item of the table, sorted by key.
    pub async fn items(&self) -> Vec<TableItem> {
        moto::scan_items(&self.dynamodb, &self.table)
            .await
            .expect("scan")
    }

    /// The table's audit event items in the oracle's comparable form (without `ingested_at`).
    pub async fn comparable_items(&self) -> Vec<ComparableItem> {
        self.event_items()
            .await
            .iter()
            .map(oracle::comparable)
            .collect()
    }

    /// The audit event items (`ROOM#…` and `USER#…`), without file markers and summaries.
    pub async fn event_items(&self) -> Vec<TableItem> {
        self.items()
            .await
            .into_iter()
            .filter(is_event_item)
            .collect()
    }

    /// A sample SNS event from `events/`, its messages pointed at this test's bucket.
    pub fn sample_event(&self, file_name: &str) -> SnsEvent {
        let text = std::fs::read_to_string(events_dir().join(file_name)).expect("read event");
        let text = text.replace(samples::BUCKET, &self.bucket);
        serde_json::from_str(&text).expect("sample event deserializes as SnsEvent")
    }

    /// The items the oracle expects for the sample log uploaded at `key`.
    pub fn expected_items_of_sample(&self, key: &str) -> Vec<ComparableItem> {
        let logs = events_dir().join(samples::LOGS_DIR);
        let path = logs.join(key);
        let json = gunzip(&std::fs::read(&path).expect("read sample log"));
        oracle::expected_items(&json, &format!("s3://{}/{key}", self.bucket))
    }
}

/// An SNS event in the Lambda envelope carrying these messages.
pub fn sns_event(messages: &[&str]) -> SnsEvent {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            serde_json::json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:trail-topic:5e8d5b5c-0000-4000-8000-000000000000",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("00000000-0000-4000-8000-{i:012}"),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail-topic",
                    "Subject": null,
                    "Message": message,
                    "Timestamp": "2023-07-10T12:06:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).expect("SNS event")
}

/// A CloudTrail delivery notification naming these keys.
pub fn cloudtrail_message(bucket: &str, keys: &[&str]) -> String {
    serde_json::json!({ "s3Bucket": bucket, "s3ObjectKey": keys }).to_string()
}

pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

pub fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("gunzip");
    text
}

/// A log key CloudTrail could have written, for file `n` of a test.
pub fn log_key(n: u32) -> String {
    format!(
        "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T12{:02}Z_Test{n:012}.json.gz",
        n % 60
    )
}

fn is_event_item(item: &TableItem) -> bool {
    item.get("pk")
        .and_then(|pk| pk.as_s().ok())
        .is_some_and(|pk| pk.starts_with("ROOM#") || pk.starts_with("USER#"))
}
