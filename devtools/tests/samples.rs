//! The committed sample data under `events/` is what `a4b-dev samples` generates, and is valid.

use std::io::Read;
use std::path::{Path, PathBuf};

use a4b_audit_devtools::local::files_under;
use a4b_audit_devtools::samples::{self, BUCKET, SampleFile};
use aws_lambda_events::event::sns::SnsEvent;
use serde_json::Value;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn generated() -> Vec<SampleFile> {
    samples::generate(&repository().join("tests/fixtures/reference")).unwrap()
}

fn events_dir() -> PathBuf {
    repository().join("events")
}

fn sns_event(name: &str) -> SnsEvent {
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn message(name: &str) -> String {
    let event = sns_event(name);
    assert_eq!(event.records.len(), 1, "{name}");
    event.records[0].sns.message.clone()
}

fn log_keys() -> Vec<String> {
    let logs = events_dir().join("logs");
    files_under(&logs)
        .unwrap()
        .iter()
        .map(|file| samples::key_of_log(&logs, file).unwrap())
        .collect()
}

#[test]
fn the_committed_samples_are_exactly_a_fresh_generation() {
    let files = generated();
    for file in &files {
        let committed = std::fs::read(events_dir().join(&file.path)).unwrap_or_else(|error| {
            panic!("{}: {error}; run `a4b-dev samples`", file.path.display())
        });
        assert!(
            committed == file.bytes,
            "{} differs from a fresh generation: run `cargo run -p a4b-audit-devtools --bin a4b-dev -- samples`",
            file.path.display()
        );
    }
    let mut expected: Vec<PathBuf> = files
        .iter()
        .map(|file| events_dir().join(&file.path))
        .collect();
    expected.sort();
    assert_eq!(
        files_under(&events_dir()).unwrap(),
        expected,
        "stale files under events/"
    );
}

#[test]
fn generating_twice_gives_identical_bytes() {
    assert_eq!(generated(), generated());
}

#[test]
fn every_sample_event_deserializes_as_an_sns_event() {
    for name in [
        "cloudtrail-delivery-single.json",
        "cloudtrail-delivery-multi.json",
        "s3-event-url-encoded.json",
        "cloudtrail-validation.json",
        "s3-test-event.json",
    ] {
        let event = sns_event(name);
        let record = &event.records[0];
        assert_eq!(record.event_source, "aws:sns");
        assert_eq!(record.sns.sns_message_type, "Notification");
    }
}

#[test]
fn every_log_file_is_gzipped_cloudtrail_with_a4b_among_other_records() {
    let logs = events_dir().join("logs");
    for file in files_under(&logs).unwrap() {
        let key = samples::key_of_log(&logs, &file).unwrap();
        assert!(
            key.contains("_CloudTrail_us-east-1_") && key.ends_with(".json.gz"),
            "{key}"
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(
            text.lines().count(),
            1,
            "{key}: one line, as CloudTrail writes"
        );
        let log: Value = serde_json::from_str(&text).unwrap();
        let sources: Vec<&str> = log["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["eventSource"].as_str().unwrap())
            .collect();
        let a4b = sources
            .iter()
            .filter(|source| **source == "a4b.amazonaws.com")
            .count();
        assert!(a4b >= 5, "{key}: {a4b} A4B records");
        assert!(
            sources.len() > a4b * 2,
            "{key}: other services' records dominate"
        );
    }
}

#[test]
fn the_logs_include_an_organization_trail_and_a_key_with_a_space_and_a_plus() {
    let keys = log_keys();
    assert!(
        keys.iter().any(|key| key.starts_with("AWSLogs/o-")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|key| key.contains(' ') && key.contains('+')),
        "{keys:?}"
    );
}

#[test]
fn cloudtrail_deliveries_name_uploaded_logs_and_the_multi_one_a_digest() {
    let keys = log_keys();
    let single: Value = serde_json::from_str(&message("cloudtrail-delivery-single.json")).unwrap();
    assert_eq!(single["s3Bucket"], BUCKET);
    let single_keys = single["s3ObjectKey"].as_array().unwrap();
    assert_eq!(single_keys.len(), 1);
    assert!(keys.contains(&single_keys[0].as_str().unwrap().to_owned()));

    let multi: Value = serde_json::from_str(&message("cloudtrail-delivery-multi.json")).unwrap();
    let multi_keys: Vec<&str> = multi["s3ObjectKey"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap())
        .collect();
    let (digests, logs): (Vec<&str>, Vec<&str>) = multi_keys
        .iter()
        .partition(|key| key.contains("CloudTrail-Digest"));
    assert_eq!(digests.len(), 1, "{multi_keys:?}");
    assert!(logs.len() >= 2);
    assert!(
        logs.iter().all(|key| keys.contains(&(*key).to_owned())),
        "{logs:?}"
    );
}

#[test]
fn the_s3_event_key_is_url_encoded_and_decodes_to_an_uploaded_log() {
    let notification: Value = serde_json::from_str(&message("s3-event-url-encoded.json")).unwrap();
    let record = &notification["Records"][0];
    assert_eq!(record["eventSource"], "aws:s3");
    assert_eq!(record["s3"]["bucket"]["name"], BUCKET);
    let encoded = record["s3"]["object"]["key"].as_str().unwrap();
    assert!(encoded.starts_with("trail+logs/team%2Ba4b/"), "{encoded}");
    // Decoding as S3 does: `+` is a space, then %XX.
    let decoded = encoded.replace('+', " ").replace("%2B", "+");
    assert!(log_keys().contains(&decoded), "{decoded}");
}

#[test]
fn the_validation_and_test_events_carry_their_documented_messages() {
    assert_eq!(
        message("cloudtrail-validation.json"),
        "CloudTrail validation message."
    );
    let test_event: Value = serde_json::from_str(&message("s3-test-event.json")).unwrap();
    assert_eq!(test_event["Service"], "Amazon S3");
    assert_eq!(test_event["Event"], "s3:TestEvent");
}
