//! What only the reliability tests need, on top of the shared harness: fast writer settings, log
//! files of generated A4B records, and the table read back in a form two runs can be compared in.

use std::time::Duration;

use a4b_audit::retry::{Backoff, RetryPolicy};
use a4b_audit::writer::WriterOptions;
use a4b_audit_devtools::a4b_records::{self, ApiModel, Caller};
use serde_json::Value;

use crate::harness::TableItem;

/// Writer settings that keep retry tests fast: short, capped backoff.
pub fn fast_writer(max_attempts: u32) -> WriterOptions {
    WriterOptions {
        max_in_flight: 4,
        retry: RetryPolicy {
            max_attempts,
            backoff: Backoff {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
        },
        latest_retry: None,
        write_in_place: false,
    }
}

/// An item without what differs between two runs of the same input (`ingested_at`, and
/// `expires_at` which follows it).
pub fn comparable(mut item: TableItem) -> TableItem {
    item.remove("ingested_at");
    item.remove("expires_at");
    item
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

/// The audit event items' keys, to find duplicates or missing ones.
pub fn item_keys(items: &[TableItem]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|item| {
            let text = |name: &str| item[name].as_s().unwrap().clone();
            (text("pk"), text("sk"))
        })
        .collect()
}
