//! What the reliability tests share: a bucket and a table of their own on the shared moto server,
//! log files built from generated A4B records, the real handler run through any endpoint (moto or
//! the fault proxy), and the table read back in a form two runs can be compared in.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use a4b_audit::config::Config;
use a4b_audit::handler::{self, InvocationFailed};
use a4b_audit::pipeline::{Pipeline, PipelineOptions};
use a4b_audit::sink::DynamoDbSink;
use a4b_audit::source::S3Source;
use a4b_audit::summary::InvocationSummary;
use a4b_audit::writer::WriterOptions;
use a4b_audit_devtools::a4b_records::{self, ApiModel, Caller};
use a4b_audit_devtools::moto::{self, MotoServer};
use aws_lambda_events::event::sns::SnsEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use flate2::Compression;
use flate2::write::GzEncoder;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

/// Writer settings that keep retry tests fast: short, capped backoff.
pub fn fast_writer(max_attempts: u32) -> WriterOptions {
    WriterOptions {
        max_in_flight: 4,
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

/// A bucket and a table of one test, on the shared moto server.
pub struct Scene {
    pub moto: &'static MotoServer,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub bucket: String,
    pub table: String,
}

/// Unique, valid bucket and table names for a test.
fn unique_name(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let clean: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(30)
        .collect();
    format!(
        "rel-{clean}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl Scene {
    pub async fn new(test: &str) -> Scene {
        let moto = MotoServer::shared().expect("moto server (run scripts/test once to install it)");
        let config = moto::sdk_config(&moto.endpoint()).await;
        let s3 = moto::s3_client(&config);
        let dynamodb = moto::dynamodb_client(&config);
        let bucket = unique_name(test);
        let table = unique_name(test);
        moto::create_bucket(&s3, &bucket).await.unwrap();
        moto::create_audit_table(&dynamodb, &table).await.unwrap();
        Scene {
            moto,
            s3,
            dynamodb,
            bucket,
            table,
        }
    }

    /// Another table on the same server, for a second run to compare with.
    pub async fn another_table(&self, test: &str) -> String {
        let table = unique_name(test);
        moto::create_audit_table(&self.dynamodb, &table)
            .await
            .unwrap();
        table
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) {
        moto::put_object(&self.s3, &self.bucket, key, body)
            .await
            .unwrap();
    }

    /// The configuration the function would read, for this scene's table.
    pub fn config(&self, table: &str) -> Config {
        let table = table.to_owned();
        Config::from_lookup(|name| (name == "TABLE_NAME").then(|| table.clone())).unwrap()
    }

    /// Runs the real handler once, with clients pointed at `endpoint` (moto or the fault proxy).
    pub async fn invoke(
        &self,
        endpoint: &str,
        config: Config,
        options: PipelineOptions,
        event: SnsEvent,
    ) -> Result<InvocationSummary, InvocationFailed> {
        let pipeline = pipeline_at(endpoint, config, options).await;
        handler::handle(&pipeline, LambdaEvent::new(event, Context::default())).await
    }

    /// The audit table, comparable between runs (see [`comparable`]).
    pub async fn table_items(&self, table: &str) -> Vec<BTreeMap<String, AttributeValue>> {
        moto::scan_items(&self.dynamodb, table)
            .await
            .unwrap()
            .into_iter()
            .map(comparable)
            .collect()
    }
}

/// The pipeline the Lambda main builds, with SDK clients at `endpoint`: S3 with the SDK's standard
/// retries, DynamoDB with retries off (the writer retries).
pub async fn pipeline_at(
    endpoint: &str,
    config: Config,
    options: PipelineOptions,
) -> Pipeline<S3Source, DynamoDbSink> {
    let sdk_config = moto::sdk_config(endpoint).await;
    let sink = DynamoDbSink::new(
        a4b_audit::aws::dynamodb_client(&sdk_config),
        config.table_name.clone(),
    );
    let source = S3Source::new(a4b_audit::aws::s3_client(&sdk_config));
    Pipeline::new(source, sink, config, options)
}

/// An item without what differs between two runs of the same input (`ingested_at`, and
/// `expires_at` which follows it).
pub fn comparable(mut item: BTreeMap<String, AttributeValue>) -> BTreeMap<String, AttributeValue> {
    item.remove("ingested_at");
    item.remove("expires_at");
    item
}

/// The key of a CloudTrail log file, unique per `n`.
pub fn log_key(n: u32) -> String {
    format!(
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/123456789012_CloudTrail_us-east-1_20260101T{:02}{:02}Z_{n:016x}.json.gz",
        (n / 60) % 24,
        n % 60
    )
}

/// `count` generated A4B records (every operation of the model in turn, every caller kind) and,
/// after every third one, a record of another service.
pub fn mixed_records(seed: u64, count: usize) -> Vec<Value> {
    let model = ApiModel::reference().unwrap();
    let operations = model.operations();
    let mut records = Vec::new();
    for i in 0..count {
        let operation = &operations[(seed as usize + i) % operations.len()];
        let caller = Caller::ALL[i % Caller::ALL.len()];
        records.push(a4b_records::record(&model, operation, caller, seed + i as u64).record);
        if i % 3 == 2 {
            records.push(a4b_records::other_service_record(seed + i as u64));
        }
    }
    records
}

/// A log file as CloudTrail writes it: `{"Records":[...]}`, gzipped.
pub fn log_file(records: &[Value]) -> Vec<u8> {
    gzip(json!({ "Records": records }).to_string().as_bytes())
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An SNS event carrying one CloudTrail delivery notification per group of keys.
pub fn sns_event(bucket: &str, messages: &[&[String]]) -> SnsEvent {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, keys)| {
            let message = json!({ "s3Bucket": bucket, "s3ObjectKey": keys }).to_string();
            json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:trail:0b1f3c1e-0000-4000-8000-000000000000",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("00000000-0000-4000-8000-{i:012}"),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail",
                    "Subject": null,
                    "Message": message,
                    "Timestamp": "2026-01-01T00:05:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// The audit event items' keys, to find duplicates or missing ones.
pub fn keys(items: &[BTreeMap<String, AttributeValue>]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|item| {
            let text = |name: &str| item[name].as_s().unwrap().clone();
            (text("pk"), text("sk"))
        })
        .collect()
}
