//! Mapping A4B records to items (`audit::build_items`): the generator's records of every
//! operation and caller kind, as their exact JSON text.

use a4b_audit::audit::{AuditContext, Retention, build_items};
use a4b_audit_devtools::a4b_records::{self, ApiModel, Caller};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn mapping(criterion: &mut Criterion) {
    let model = ApiModel::reference().unwrap();
    let mut records = Vec::new();
    for (index, operation) in model.operations().iter().enumerate() {
        for caller in Caller::ALL {
            let record = a4b_records::record(&model, operation, caller, index as u64);
            records.push(serde_json::to_vec(&record.record).unwrap());
        }
    }
    let context = AuditContext {
        source_object: "s3://trail/AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/f.json.gz"
            .to_owned(),
        ingested_at: "2026-01-01T00:00:00Z".to_owned(),
        retention: Some(Retention {
            days: 36_500,
            now: 1_800_000_000,
        }),
    };
    let mut group = criterion.benchmark_group("audit");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("build_items", |bench| {
        bench.iter(|| {
            records
                .iter()
                .map(|raw| {
                    build_items(raw, &context)
                        .unwrap()
                        .into_items()
                        .map_or(0, |items| items.len())
                })
                .sum::<usize>()
        });
    });
    group.finish();
}

criterion_group!(benches, mapping);
criterion_main!(benches);
