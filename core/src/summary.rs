//! The figures of one invocation (SPEC section 4): what happened to each object and the counts that
//! must reconcile, so that a silent drop cannot stay silent.

use serde::Serialize;

/// The counts of one log file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ObjectCounts {
    /// Elements of the file's `Records` array.
    pub records_read: u64,
    /// Records of the configured event sources accepted: those that became items, and those already
    /// past their retention when read (`records_expired`).
    pub a4b_records: u64,
    /// Records of other event sources, skipped.
    pub other_records: u64,
    /// Records rejected (not an object, an A4B record without `eventID`/`eventTime`, or whose keys
    /// cannot fit DynamoDB's limits).
    pub records_rejected: u64,
    /// A4B records already past their retention when read: counted among `a4b_records`, not written.
    pub records_expired: u64,
    /// Items the mapping built.
    pub items_built: u64,
    /// Items the table accepted.
    pub items_written: u64,
    /// BatchWriteItem requests sent, retries included.
    pub write_requests: u64,
}

impl ObjectCounts {
    /// Whether every record is accounted for: read = A4B + other + rejected, and the expired
    /// records are among the A4B ones.
    pub fn records_reconcile(&self) -> bool {
        self.records_read == self.a4b_records + self.other_records + self.records_rejected
            && self.records_expired <= self.a4b_records
    }

    /// Whether every item built was written.
    pub fn items_reconcile(&self) -> bool {
        self.items_written == self.items_built
    }

    fn add(&mut self, other: &ObjectCounts) {
        self.records_read += other.records_read;
        self.a4b_records += other.a4b_records;
        self.other_records += other.other_records;
        self.records_rejected += other.records_rejected;
        self.records_expired += other.records_expired;
        self.items_built += other.items_built;
        self.items_written += other.items_written;
        self.write_requests += other.write_requests;
    }
}

/// An object and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectNote {
    /// `s3://bucket/key`.
    pub object: String,
    pub reason: String,
}

/// The response of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvocationSummary {
    /// SNS messages in the event.
    pub messages: u64,
    /// Messages that named no object (CloudTrail's validation message, S3's test event, unknown).
    pub messages_without_objects: u64,
    pub objects_processed: u64,
    pub objects_skipped: u64,
    pub objects_failed: u64,
    /// Objects whose counts do not add up (a bug, never an input's fault): records read ≠ A4B +
    /// other + rejected, or, for an object otherwise processed, items written ≠ items built.
    pub objects_unreconciled: u64,
    #[serde(flatten)]
    pub counts: ObjectCounts,
    /// Objects skipped because they are not CloudTrail log files (digests, Insights, folders).
    pub skipped: Vec<ObjectNote>,
    /// Objects that failed, with the cause.
    pub failed: Vec<ObjectNote>,
}

impl InvocationSummary {
    pub fn add_processed(&mut self, counts: &ObjectCounts) {
        self.objects_processed += 1;
        self.counts.add(counts);
    }

    /// Adds a failed object; `unreconciled` when its counts do not add up (its records, or its
    /// items when it failed for that reason).
    pub fn add_failed(
        &mut self,
        object: String,
        reason: String,
        counts: &ObjectCounts,
        unreconciled: bool,
    ) {
        self.objects_failed += 1;
        if unreconciled || !counts.records_reconcile() {
            self.objects_unreconciled += 1;
        }
        self.counts.add(counts);
        self.failed.push(ObjectNote { object, reason });
    }

    pub fn add_skipped(&mut self, object: String, reason: String) {
        self.objects_skipped += 1;
        self.skipped.push(ObjectNote { object, reason });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_reconcile_only_when_every_record_is_counted_once() {
        let mut counts = ObjectCounts {
            records_read: 10,
            a4b_records: 2,
            other_records: 7,
            records_rejected: 1,
            ..ObjectCounts::default()
        };
        assert!(counts.records_reconcile());
        counts.other_records = 6;
        assert!(!counts.records_reconcile());
    }

    /// Counts with a different value in every field, `scale` times over.
    fn distinct_counts(scale: u64) -> ObjectCounts {
        ObjectCounts {
            records_read: 101 * scale,
            a4b_records: 30 * scale,
            other_records: 70 * scale,
            records_rejected: scale,
            records_expired: 3 * scale,
            items_built: 47 * scale,
            items_written: 45 * scale,
            write_requests: 5 * scale,
        }
    }

    #[test]
    fn the_summary_adds_up_the_counts_of_every_object_processed_or_failed() {
        let mut summary = InvocationSummary::default();
        summary.add_processed(&distinct_counts(1));
        summary.add_processed(&distinct_counts(10));
        summary.add_failed(
            "s3://b/k".into(),
            "access denied".into(),
            &distinct_counts(100),
            false,
        );
        assert_eq!(summary.counts, distinct_counts(111));
        assert_eq!(summary.objects_processed, 2);
        assert_eq!(summary.objects_failed, 1);
        assert_eq!(summary.objects_unreconciled, 0);
        assert_eq!(
            summary.failed,
            [ObjectNote {
                object: "s3://b/k".into(),
                reason: "access denied".into()
            }]
        );
    }

    #[test]
    fn a_failed_object_is_unreconciled_when_said_so_or_when_its_records_do_not_add_up() {
        let mut summary = InvocationSummary::default();
        let records_missing = ObjectCounts {
            records_read: 5,
            a4b_records: 1,
            ..ObjectCounts::default()
        };
        summary.add_failed("s3://b/1".into(), "x".into(), &records_missing, false);
        assert_eq!(summary.objects_unreconciled, 1);
        summary.add_failed("s3://b/2".into(), "x".into(), &distinct_counts(1), true);
        assert_eq!(summary.objects_unreconciled, 2);
        summary.add_failed("s3://b/3".into(), "x".into(), &distinct_counts(1), false);
        assert_eq!(summary.objects_unreconciled, 2);
        assert_eq!(summary.objects_failed, 3);
    }

    #[test]
    fn summary_serializes_flat_with_fixed_names() {
        let mut summary = InvocationSummary::default();
        summary.add_skipped("s3://b/digest".into(), "digest file".into());
        let json = serde_json::to_value(&summary).unwrap();
        for name in [
            "messages",
            "objects_processed",
            "objects_skipped",
            "objects_failed",
            "objects_unreconciled",
            "records_read",
            "a4b_records",
            "other_records",
            "records_rejected",
            "records_expired",
            "items_built",
            "items_written",
            "write_requests",
            "skipped",
            "failed",
        ] {
            assert!(json.get(name).is_some(), "{name} missing from {json}");
        }
        assert_eq!(json["skipped"][0]["reason"], "digest file");
        assert_eq!(json["objects_skipped"], 1);
    }
}
