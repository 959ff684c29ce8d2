//! What every integration test needs: the shared moto server, a bucket and a table of its own per
//! test, log files and SNS events to put in them, the table read back, and the pipeline as the
//! Lambda builds it, against moto or another endpoint (the fault proxy).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use a4b_audit::config::Config;
use a4b_audit::handler;
use a4b_audit::ledger::{FileLedger, SeenItems};
use a4b_audit::notification::ObjectRef;
use a4b_audit::object::{Pipeline, PipelineOptions};
use a4b_audit::retry::{Backoff, RetryPolicy};
use a4b_audit::sink::{DynamoDbSink, ItemSink};
use a4b_audit::source::{ObjectSource, S3Source};
use a4b_audit::summary::InvocationSummary;
use a4b_audit::trigger::{InvocationError, InvocationFailed, Response};
use a4b_audit::writer::WriterOptions;
use a4b_audit_devtools::moto::{self, MotoServer};
use a4b_audit_devtools::samples;
use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::oracle::{self, ComparableItem};

/// A table item as scanned, attributes by name.
pub type TableItem = moto::Item;

/// The account of the generated log keys and records.
pub const ACCOUNT: &str = "123456789012";

/// One test's own bucket and table in the shared emulator.
pub struct TestEnv {
    pub endpoint: String,
    pub sdk_config: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub bucket: String,
    pub table: String,
}

/// A valid bucket or table name no other test of this process uses (moto is shared by all of
/// them), with the test's name in it to find its resources in moto's log.
fn unique_name(prefix: &str, test_name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
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
    format!("{prefix}{n}-{slug}")
        .trim_end_matches('-')
        .to_owned()
}

impl TestEnv {
    /// A new bucket and table, named after the test so that tests can run in parallel.
    pub async fn new(test_name: &str) -> TestEnv {
        let moto = MotoServer::shared().unwrap_or_else(|error| {
            panic!("moto server (set A4B_MOTO_SERVER or make .venv): {error}")
        });
        let endpoint = moto.endpoint();
        let sdk_config = moto::sdk_config(&endpoint).await;
        let s3 = moto::s3_client(&sdk_config);
        let dynamodb = moto::dynamodb_client(&sdk_config);
        let bucket = unique_name("t", test_name);
        let table = unique_name("audit-", test_name);
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

    /// Another table on the same server, for a second run to compare with.
    pub async fn another_table(&self, test_name: &str) -> String {
        let table = unique_name("audit-", test_name);
        moto::create_audit_table(&self.dynamodb, &table)
            .await
            .expect("create table");
        table
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) {
        moto::put_object(&self.s3, &self.bucket, key, body)
            .await
            .expect("put object");
    }

    /// Puts an object in a storage class (GLACIER, DEEP_ARCHIVE: GetObject refuses it until restored).
    pub async fn put_in_class(
        &self,
        key: &str,
        body: Vec<u8>,
        class: aws_sdk_s3::types::StorageClass,
    ) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body.into())
            .storage_class(class)
            .send()
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

    /// The function's settings with these environment variables too (`TABLE_NAME` included, for
    /// another table).
    pub fn config_with(&self, extra: &[(&str, &str)]) -> Config {
        let mut variables: BTreeMap<String, String> =
            BTreeMap::from([("TABLE_NAME".to_owned(), self.table.clone())]);
        variables.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Config::from_lookup(|name| variables.get(name).cloned()).expect("test config")
    }

    /// The production pipeline (S3 source, DynamoDB sink, seen items, writer), as the Lambda main
    /// builds it, pointed at the emulator.
    pub fn pipeline(&self, config: Config) -> Pipeline<S3Source, DynamoDbSink, SeenItems> {
        let options = PipelineOptions {
            writer: WriterOptions {
                retry: RetryPolicy {
                    backoff: Backoff {
                        base_delay: Duration::from_millis(5),
                        max_delay: Duration::from_millis(50),
                    },
                    ..RetryPolicy::STANDARD
                },
                ..WriterOptions::default()
            },
            ..PipelineOptions::default()
        };
        let table = config.table_name.clone();
        let dynamodb = a4b_audit::aws::dynamodb_client(&self.sdk_config);
        Pipeline::new(
            S3Source::new(a4b_audit::aws::s3_client(&self.sdk_config)),
            DynamoDbSink::new(dynamodb, table),
            config,
            options,
        )
        .with_ledger(SeenItems)
    }

    /// Every item of the test's table, sorted by key.
    pub async fn items(&self) -> Vec<TableItem> {
        self.items_in(&self.table).await
    }

    /// Every item of `table`, sorted by key.
    pub async fn items_in(&self, table: &str) -> Vec<TableItem> {
        moto::scan_items(&self.dynamodb, table).await.expect("scan")
    }

    /// The table's audit event items in the oracle's comparable form (without `ingested_at`).
    pub async fn comparable_items(&self) -> Vec<ComparableItem> {
        self.event_items()
            .await
            .iter()
            .map(oracle::comparable)
            .collect()
    }

    /// The audit event items (`USER#…`, `ROOM#…` and `RESOURCE#…`), without the seen items.
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

/// The pipeline the Lambda main builds, with SDK clients at `endpoint` (moto or the fault proxy):
/// S3 with the SDK's standard retries, DynamoDB with retries off (the writer retries). Without the
/// seen items, so that the table holds only audit event items and two runs compare item for item.
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

/// Runs the real handler once, as the Lambda runtime would, without a deadline. Its EMF metrics
/// line (1 KB on stdout, which the test harness does not capture) is left out unless
/// `A4B_TEST_LOG` is set; the binary's own line is checked by the observability tests.
pub async fn invoke<S: ObjectSource<Location = ObjectRef>, K: ItemSink, L: FileLedger>(
    pipeline: &Pipeline<S, K, L>,
    event: SnsEvent,
) -> Result<InvocationSummary, InvocationFailed> {
    handler::print_metric_lines(std::env::var_os("A4B_TEST_LOG").is_some());
    let payload = serde_json::to_value(event).expect("an SNS event is JSON");
    match handler::handle(pipeline, LambdaEvent::new(payload, Context::default())).await {
        Ok(Response::Summary(summary)) => Ok(summary),
        Ok(other) => panic!("an SNS event is answered with its summary, not {other:?}"),
        Err(InvocationError::ObjectsFailed(failure)) => Err(failure),
        Err(other) => panic!("an SNS event fails only with ObjectsFailed, not {other}"),
    }
}

/// An SNS event in the Lambda envelope carrying these messages.
pub fn sns_event(messages: &[&str]) -> SnsEvent {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            json!({
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
    serde_json::from_value(json!({ "Records": records })).expect("SNS event")
}

/// A CloudTrail delivery notification naming these keys.
pub fn cloudtrail_message(bucket: &str, keys: &[&str]) -> String {
    json!({ "s3Bucket": bucket, "s3ObjectKey": keys }).to_string()
}

/// An SNS event carrying one CloudTrail delivery notification per group of keys.
pub fn cloudtrail_event(bucket: &str, key_groups: &[&[String]]) -> SnsEvent {
    let messages: Vec<String> = key_groups
        .iter()
        .map(|keys| {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            cloudtrail_message(bucket, &keys)
        })
        .collect();
    let messages: Vec<&str> = messages.iter().map(String::as_str).collect();
    sns_event(&messages)
}

/// A log file as CloudTrail writes it: `{"Records":[...]}`, gzipped.
pub fn log_file(records: &[Value]) -> Vec<u8> {
    gzip(json!({ "Records": records }).to_string().as_bytes())
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
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
    cloudtrail_key(
        None,
        ACCOUNT,
        "us-east-1",
        "20230710",
        &format!("Test{n:012}"),
    )
}

/// The key CloudTrail gives a log file: `AWSLogs/[org/]account/CloudTrail/region/YYYY/MM/DD/name`,
/// `day` as `YYYYMMDD`.
pub fn cloudtrail_key(
    organization: Option<&str>,
    account: &str,
    region: &str,
    day: &str,
    id: &str,
) -> String {
    let (year, rest) = day.split_at(4);
    let (month, day_of_month) = rest.split_at(2);
    let organization = organization
        .map(|org| format!("{org}/"))
        .unwrap_or_default();
    format!(
        "AWSLogs/{organization}{account}/CloudTrail/{region}/{year}/{month}/{day_of_month}/{account}_CloudTrail_{region}_{day}T1200Z_{id}.json.gz"
    )
}

pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

pub fn is_event_item(item: &TableItem) -> bool {
    item.get("pk")
        .and_then(|pk| pk.as_s().ok())
        .is_some_and(|pk| a4b_audit::keys::is_event_partition(pk))
}
