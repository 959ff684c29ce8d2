//! Decoding SNS notifications: the Lambda event itself (`SnsEvent`), then each message text
//! (`notification::decode_message`), on the public reference messages.

use std::path::Path;

use a4b_audit::notification::decode_message;
use aws_lambda_events::event::sns::SnsEvent;
use criterion::{Criterion, criterion_group, criterion_main};

fn reference(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference/sns")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn decoding(criterion: &mut Criterion) {
    let sns_event = reference("aws-lambda-rust-runtime__example-sns-event.json");
    let messages = [
        (
            "cloudtrail_single_key",
            reference("cloudtrail-sns-message_awsdocs_single-key.json"),
        ),
        (
            "cloudtrail_multi_key",
            reference("cloudtrail-sns-message_awsdocs_multi-key.json"),
        ),
        ("s3_event", reference("awsdocs-s3__s3-event_put.json")),
        ("s3_test_event", reference("awsdocs-s3__s3-testevent.json")),
    ];
    let mut group = criterion.benchmark_group("sns");
    group.bench_function("sns_event", |bench| {
        bench.iter(|| serde_json::from_str::<SnsEvent>(&sns_event).unwrap());
    });
    for (name, message) in &messages {
        group.bench_function(*name, |bench| bench.iter(|| decode_message(message)));
    }
    group.finish();
}

criterion_group!(benches, decoding);
criterion_main!(benches);
