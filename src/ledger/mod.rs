//! What the pipeline records once all items of a log file are written: the room/user summaries
//! (`SUMMARY#ROOM` / `SUMMARY#USER`) and a marker for the file (`FILE#<source_object>`).
//!
//! The order makes re-delivery safe: items first (idempotent puts), then the summaries (each chunk
//! guarded by an item under the file's `pk`, so a chunk is applied once), then the marker. A file
//! whose marker exists therefore has all its items and summary updates in the table.
//!
//! `event_count` counts the distinct events of each file once; an event that CloudTrail delivers in
//! two different files (rare) counts twice. `last_event_time` is a maximum, set by a conditional
//! update, so it is exact whatever the order in which files arrive.

mod dynamodb;
mod memory;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};

pub use dynamodb::DynamoDbLedger;
pub use memory::MemoryLedger;

use crate::item::{AttrValue, Item, ItemKey};
use crate::keys;
use crate::summary::ObjectCounts;

/// The `pk` prefix of everything recorded about one log file.
pub const FILE_PK_PREFIX: &str = "FILE#";
/// The `sk` of a file's marker.
pub const FILE_MARKER_SK: &str = "FILE";
/// The `sk` prefix of the guard of one applied summary chunk.
pub const SUMMARY_GUARD_SK_PREFIX: &str = "SUMMARY#";
/// The `pk` of the room summaries (`sk` = room ARN).
pub const ROOM_SUMMARY_PK: &str = "SUMMARY#ROOM";
/// The `pk` of the user summaries (`sk` = user key).
pub const USER_SUMMARY_PK: &str = "SUMMARY#USER";
/// Summary updates per transaction: DynamoDB takes 100 actions, one is the chunk's guard.
pub const SUMMARY_UPDATES_PER_CHUNK: usize = 99;

/// Who processed a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessedBy {
    #[default]
    Lambda,
    Cli,
}

impl ProcessedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessedBy::Lambda => "lambda",
            ProcessedBy::Cli => "cli",
        }
    }
}

/// The marker of a processed log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMarker {
    /// `s3://bucket/key` (or `file://…` for a local file given to the CLI).
    pub source_object: String,
    pub counts: ObjectCounts,
    /// RFC 3339.
    pub processed_at: String,
    pub processed_by: ProcessedBy,
}

impl FileMarker {
    /// The key of the marker of `source_object`.
    pub fn key(source_object: &str) -> ItemKey {
        ItemKey {
            pk: file_pk(source_object),
            sk: FILE_MARKER_SK.to_owned(),
        }
    }

    /// The marker as a table item.
    pub fn to_item(&self) -> Item {
        let ItemKey { pk, sk } = FileMarker::key(&self.source_object);
        let mut item = Item::new(pk, sk);
        let number = |value: u64| AttrValue::N(value.to_string());
        let attributes = &mut item.attributes;
        attributes.insert("records_read", number(self.counts.records_read));
        attributes.insert("a4b_records", number(self.counts.a4b_records));
        attributes.insert("records_rejected", number(self.counts.records_rejected));
        attributes.insert("items_written", number(self.counts.items_written));
        attributes.insert("processed_at", AttrValue::S(self.processed_at.clone()));
        attributes.insert(
            "processed_by",
            AttrValue::S(self.processed_by.as_str().to_owned()),
        );
        item
    }
}

/// `FILE#<source_object>`.
pub fn file_pk(source_object: &str) -> String {
    format!("{FILE_PK_PREFIX}{source_object}")
}

/// The key of the guard of summary chunk `chunk` of a file.
pub fn summary_guard_key(source_object: &str, chunk: usize) -> ItemKey {
    ItemKey {
        pk: file_pk(source_object),
        sk: format!("{SUMMARY_GUARD_SK_PREFIX}{chunk}"),
    }
}

/// What one file adds to the summary of one room or user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryUpdate {
    /// `SUMMARY#ROOM` + room ARN, or `SUMMARY#USER` + user key.
    pub key: ItemKey,
    /// Distinct events of the file in that room's or user's partition.
    pub event_count: u64,
    /// The latest `event_time` among them.
    pub last_event_time: String,
}

/// The events of one file per room and user partition, collected as its items are written.
///
/// Memory grows with the file's A4B events, so each is kept as a 128-bit fingerprint of its key
/// (16 bytes) rather than the key itself (about 200 bytes with a tree node): a file of a million
/// A4B records then needs about 40 MB rather than 400. The fingerprints are keyed at random per
/// file, so two distinct events share one with a chance of about n² / 2¹²⁹, which no crafted input
/// can raise.
#[derive(Debug, Default)]
pub struct FileActivity {
    /// Event partition (`ROOM#…`/`USER#…`) -> its distinct events and the latest event time.
    partitions: BTreeMap<String, PartitionEvents>,
    /// Fingerprints of the (partition, sort key) of the events counted so far.
    seen: HashSet<u128>,
    fingerprint_keys: [RandomState; 2],
}

#[derive(Debug, Default)]
struct PartitionEvents {
    event_count: u64,
    last_event_time: String,
}

impl FileActivity {
    /// Counts an item if it is an audit event item (`ROOM#…`/`USER#…` with sk `<time>#<id>`).
    pub fn observe(&mut self, item: &Item) {
        if summary_key(&item.key.pk).is_none() || !item.key.sk.contains('#') {
            return;
        }
        if !self.seen.insert(self.fingerprint(&item.key)) {
            return;
        }
        let events = match self.partitions.get_mut(&item.key.pk) {
            Some(events) => events,
            None => self.partitions.entry(item.key.pk.clone()).or_default(),
        };
        events.event_count += 1;
        if let Some(event_time) = item.string("event_time")
            && event_time > events.last_event_time.as_str()
        {
            events.last_event_time = event_time.to_owned();
        }
    }

    fn fingerprint(&self, key: &ItemKey) -> u128 {
        let [low, high] = self
            .fingerprint_keys
            .each_ref()
            .map(|keys| keys.hash_one((&key.pk, &key.sk)));
        u128::from(high) << 64 | u128::from(low)
    }

    /// The summary updates, in key order (so that the chunks are the same on every re-delivery).
    pub fn summary_updates(&self) -> Vec<SummaryUpdate> {
        let mut updates: Vec<SummaryUpdate> = self
            .partitions
            .iter()
            .filter_map(|(pk, events)| {
                Some(SummaryUpdate {
                    key: summary_key(pk)?,
                    event_count: events.event_count,
                    last_event_time: events.last_event_time.clone(),
                })
            })
            .collect();
        updates.sort_by(|a, b| a.key.cmp(&b.key));
        updates
    }
}

/// The summary item of an event partition: `ROOM#arn` -> (`SUMMARY#ROOM`, arn).
fn summary_key(event_pk: &str) -> Option<ItemKey> {
    let (pk, sk) = if let Some(room_arn) = event_pk.strip_prefix(keys::ROOM_PREFIX) {
        (ROOM_SUMMARY_PK, room_arn)
    } else if let Some(user_key) = event_pk.strip_prefix(keys::USER_PREFIX) {
        (USER_SUMMARY_PK, user_key)
    } else {
        return None;
    };
    (!sk.is_empty()).then(|| ItemKey {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
    })
}

/// The ledger could not record a file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(pub String);

/// Records processed files and their summary updates. Writes only: the Lambda's role may not read.
pub trait FileLedger: Send + Sync + 'static {
    /// Applies a file's summary updates, in chunks of [`SUMMARY_UPDATES_PER_CHUNK`], each at most
    /// once per file (a chunk already applied is skipped).
    fn apply_summaries(
        &self,
        source_object: &str,
        updates: &[SummaryUpdate],
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Writes (or overwrites) the file's marker.
    fn mark_processed(
        &self,
        marker: &FileMarker,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// Tells which files have a marker (`backfill --resume`).
pub trait FileMarkerLookup: Send + Sync {
    /// The ones of `source_objects` that have a marker.
    fn processed_files(
        &self,
        source_objects: &[String],
    ) -> impl Future<Output = Result<BTreeSet<String>, LedgerError>> + Send;
}

/// Records nothing (the CLI's dry run).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLedger;

impl FileLedger for NoLedger {
    async fn apply_summaries(&self, _: &str, _: &[SummaryUpdate]) -> Result<(), LedgerError> {
        Ok(())
    }

    async fn mark_processed(&self, _: &FileMarker) -> Result<(), LedgerError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_item(pk: &str, event_time: &str, event_id: &str) -> Item {
        let mut item = Item::new(pk.to_owned(), format!("{event_time}#{event_id}"));
        item.attributes
            .insert("event_time", AttrValue::S(event_time.to_owned()));
        item
    }

    #[test]
    fn marker_item_has_the_file_key_and_its_counts() {
        let marker = FileMarker {
            source_object: "s3://b/k.json.gz".into(),
            counts: ObjectCounts {
                records_read: 10,
                a4b_records: 3,
                other_records: 6,
                records_rejected: 1,
                items_built: 5,
                items_written: 5,
                write_requests: 1,
            },
            processed_at: "2026-01-02T03:04:05Z".into(),
            processed_by: ProcessedBy::Cli,
        };
        let item = marker.to_item();
        assert_eq!(item.key.pk, "FILE#s3://b/k.json.gz");
        assert_eq!(item.key.sk, "FILE");
        let n = |value: &str| AttrValue::N(value.to_owned());
        assert_eq!(item.attributes.get("records_read"), Some(&n("10")));
        assert_eq!(item.attributes.get("a4b_records"), Some(&n("3")));
        assert_eq!(item.attributes.get("records_rejected"), Some(&n("1")));
        assert_eq!(item.attributes.get("items_written"), Some(&n("5")));
        assert_eq!(item.string("processed_at"), Some("2026-01-02T03:04:05Z"));
        assert_eq!(item.string("processed_by"), Some("cli"));
        assert_eq!(item.attributes.len(), 6);
    }

    #[test]
    fn summary_counts_distinct_events_per_room_and_user() {
        let mut activity = FileActivity::default();
        let room = "ROOM#arn:aws:a4b:us-east-1:123456789012:room/r1";
        activity.observe(&event_item(room, "2023-05-01T10:00:00Z", "e1"));
        activity.observe(&event_item(room, "2023-05-01T09:00:00Z", "e2"));
        // The same event twice in one file counts once.
        activity.observe(&event_item(room, "2023-05-01T10:00:00Z", "e1"));
        activity.observe(&event_item("USER#alice", "2023-05-01T09:00:00Z", "e2"));
        assert_eq!(
            activity.summary_updates(),
            vec![
                SummaryUpdate {
                    key: ItemKey {
                        pk: "SUMMARY#ROOM".into(),
                        sk: "arn:aws:a4b:us-east-1:123456789012:room/r1".into()
                    },
                    event_count: 2,
                    last_event_time: "2023-05-01T10:00:00Z".into(),
                },
                SummaryUpdate {
                    key: ItemKey {
                        pk: "SUMMARY#USER".into(),
                        sk: "alice".into()
                    },
                    event_count: 1,
                    last_event_time: "2023-05-01T09:00:00Z".into(),
                },
            ]
        );
    }

    #[test]
    fn one_event_counts_in_each_partition_it_is_written_to() {
        let mut activity = FileActivity::default();
        for pk in ["ROOM#r1", "ROOM#r2", "USER#alice"] {
            activity.observe(&event_item(pk, "2023-05-01T10:00:00Z", "e1"));
        }
        let counts: Vec<u64> = (activity.summary_updates().iter())
            .map(|update| update.event_count)
            .collect();
        assert_eq!(counts, [1, 1, 1]);
    }

    #[test]
    fn many_distinct_events_are_each_counted_and_repeats_are_not() {
        let mut activity = FileActivity::default();
        for round in 0..2 {
            for n in 0..20_000 {
                let pk = if n % 2 == 0 { "ROOM#r1" } else { "USER#alice" };
                let time = format!("2023-05-01T10:{:02}:{:02}Z", n / 60 % 60, n % 60);
                activity.observe(&event_item(pk, &time, &format!("event-{n}")));
            }
            let counts: Vec<u64> = (activity.summary_updates().iter())
                .map(|update| update.event_count)
                .collect();
            assert_eq!(counts, [10_000, 10_000], "after round {round}");
        }
    }

    #[test]
    fn summary_counts_only_event_items() {
        let mut activity = FileActivity::default();
        activity.observe(&event_item("FILE#s3://b/k", "2023-05-01T10:00:00Z", "e1"));
        activity.observe(&event_item("SUMMARY#ROOM", "2023-05-01T10:00:00Z", "e1"));
        activity.observe(&Item::new("USER#alice".into(), "no-separator".into()));
        activity.observe(&event_item("USER#", "2023-05-01T10:00:00Z", "e1"));
        assert_eq!(activity.summary_updates(), vec![]);
    }

    #[test]
    fn guard_keys_live_under_the_file_pk() {
        assert_eq!(
            summary_guard_key("s3://b/k", 3),
            ItemKey {
                pk: "FILE#s3://b/k".into(),
                sk: "SUMMARY#3".into()
            }
        );
    }
}
