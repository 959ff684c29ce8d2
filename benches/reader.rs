//! The reader's hot path on a generated CloudTrail file (the same mix as the 200 MB benchmark file,
//! 64 MB of JSON): skipping the records of other services, and the whole read with inflation.
//!
//! - `skip_records_plain`: the JSON text from memory, no gzip: the scanner alone.
//! - `read_gzip_single_thread`: gunzip and scan on one thread ([`read_log`]).
//! - `read_gzip_threaded`: gunzip on a second thread ([`read_log_threaded`]), as the pipeline does.
//! - `scan_reference_records`: the public reference records repeated, two sources matched.

use std::convert::Infallible;
use std::io::Read;
use std::path::Path;

use a4b_audit::reader::{ReaderOptions, RecordEvent, read_log, read_log_threaded};
use a4b_audit_devtools::large_trail::{DEFAULT_SEED, TrailMaterial};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TARGET_LEN: usize = 64 * 1024 * 1024;

fn reference_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference")
}

/// The `Records` elements of every plain reference log file, joined by commas.
fn reference_records() -> String {
    let dir = reference_dir().join("cloudtrail/logfiles");
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

fn a4b_only() -> ReaderOptions {
    ReaderOptions {
        event_sources: vec!["a4b.amazonaws.com".to_owned()],
        max_decompressed_bytes: u64::MAX,
        max_record_bytes: u64::MAX,
    }
}

/// Counts the matched bytes, so the handed-over records are used.
fn count_matched(
    matched_bytes: &mut usize,
) -> impl FnMut(RecordEvent<'_>) -> Result<(), Infallible> {
    move |event| {
        if let RecordEvent::Matched { raw, .. } = event {
            *matched_bytes += raw.as_bytes().len();
        }
        Ok(())
    }
}

fn generated_trail(criterion: &mut Criterion) {
    let material = TrailMaterial::load(&reference_dir()).unwrap();
    let mut gzip = Vec::new();
    material
        .write(TARGET_LEN as u64, DEFAULT_SEED, &mut gzip)
        .unwrap();
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(gzip.as_slice())
        .read_to_end(&mut text)
        .unwrap();
    let options = a4b_only();

    let mut group = criterion.benchmark_group("reader");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("skip_records_plain", |bench| {
        bench.iter(|| {
            let mut matched = 0;
            let stats = read_log(text.as_slice(), &options, count_matched(&mut matched)).unwrap();
            (stats, matched)
        });
    });
    group.bench_function("read_gzip_single_thread", |bench| {
        bench.iter(|| {
            let mut matched = 0;
            let stats = read_log(gzip.as_slice(), &options, count_matched(&mut matched)).unwrap();
            (stats, matched)
        });
    });
    group.bench_function("read_gzip_threaded", |bench| {
        bench.iter(|| {
            let mut matched = 0;
            let stats =
                read_log_threaded(gzip.as_slice(), &options, count_matched(&mut matched)).unwrap();
            (stats, matched)
        });
    });
    group.bench_function("inflate_only", |bench| {
        bench.iter(|| {
            let mut sink = std::io::sink();
            std::io::copy(
                &mut flate2::read::MultiGzDecoder::new(gzip.as_slice()),
                &mut sink,
            )
            .unwrap()
        });
    });
    group.finish();
}

fn reference(criterion: &mut Criterion) {
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
        max_record_bytes: u64::MAX,
    };
    let mut group = criterion.benchmark_group("reader");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.sample_size(10);
    group.bench_function("scan_reference_records", |bench| {
        bench.iter(|| {
            let mut matched = 0;
            let stats = read_log(file.as_bytes(), &options, count_matched(&mut matched)).unwrap();
            (stats, matched)
        });
    });
    group.finish();
}

criterion_group!(benches, generated_trail, reference);
criterion_main!(benches);
