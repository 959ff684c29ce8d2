//! Scanner throughput on CloudTrail JSON: the records of the reference log files, repeated into
//! one compact file of about 64 MB, read from memory (no gzip), so only the scan is measured.

use std::convert::Infallible;
use std::path::Path;

use a4b_audit::reader::{ReaderOptions, read_log};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TARGET_LEN: usize = 64 * 1024 * 1024;

/// The `Records` elements of every plain reference log file, joined by commas.
fn reference_records() -> String {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference/cloudtrail/logfiles");
    let mut elements = Vec::new();
    for source in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(source.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                for record in doc["Records"].as_array().unwrap() {
                    elements.push(serde_json::to_string(record).unwrap());
                }
            }
        }
    }
    elements.join(",")
}

fn scan(criterion: &mut Criterion) {
    let records = reference_records();
    let mut file = String::from("{\"Records\":[");
    file.push_str(&records);
    while file.len() < TARGET_LEN {
        file.push(',');
        file.push_str(&records);
    }
    file.push_str("]}");
    let options = ReaderOptions {
        event_sources: vec![
            "a4b.amazonaws.com".to_owned(),
            "sts.amazonaws.com".to_owned(),
        ],
        max_decompressed_bytes: u64::MAX,
    };
    let mut group = criterion.benchmark_group("reader");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.sample_size(10);
    group.bench_function("scan_cloudtrail_json", |bench| {
        bench.iter(|| {
            let mut matched_bytes = 0usize;
            let stats = read_log::<_, Infallible, _>(file.as_bytes(), &options, |event| {
                if let a4b_audit::reader::RecordEvent::Matched { raw, .. } = event {
                    matched_bytes += raw.len();
                }
                Ok(())
            })
            .unwrap();
            (stats, matched_bytes)
        });
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
