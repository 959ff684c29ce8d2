//! An in-memory ledger with the DynamoDB ledger's rules (guarded chunks, max of times), for tests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use super::{
    FileLedger, FileMarker, FileMarkerLookup, LedgerError, SUMMARY_UPDATES_PER_CHUNK,
    SummaryUpdate, summary_guard_key,
};
use crate::item::ItemKey;

/// One room's or user's summary as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryState {
    pub event_count: u64,
    pub last_event_time: String,
}

#[derive(Debug, Default)]
struct State {
    guards: BTreeSet<ItemKey>,
    summaries: BTreeMap<ItemKey, SummaryState>,
    markers: BTreeMap<String, FileMarker>,
}

/// Keeps markers and summaries in memory.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    state: Mutex<State>,
}

impl MemoryLedger {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data: keep using it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The summaries, by key.
    pub fn summaries(&self) -> BTreeMap<ItemKey, SummaryState> {
        self.state().summaries.clone()
    }

    /// The markers, by source object.
    pub fn markers(&self) -> BTreeMap<String, FileMarker> {
        self.state().markers.clone()
    }
}

impl FileLedger for MemoryLedger {
    async fn apply_summaries(
        &self,
        source_object: &str,
        updates: &[SummaryUpdate],
    ) -> Result<(), LedgerError> {
        let mut state = self.state();
        for (chunk_index, chunk) in updates.chunks(SUMMARY_UPDATES_PER_CHUNK).enumerate() {
            if !state
                .guards
                .insert(summary_guard_key(source_object, chunk_index))
            {
                continue;
            }
            for update in chunk {
                let summary = state
                    .summaries
                    .entry(update.key.clone())
                    .or_insert_with(|| SummaryState {
                        event_count: 0,
                        last_event_time: String::new(),
                    });
                summary.event_count += update.event_count;
                if update.last_event_time > summary.last_event_time {
                    summary.last_event_time = update.last_event_time.clone();
                }
            }
        }
        Ok(())
    }

    async fn mark_processed(&self, marker: &FileMarker) -> Result<(), LedgerError> {
        self.state()
            .markers
            .insert(marker.source_object.clone(), marker.clone());
        Ok(())
    }
}

impl FileMarkerLookup for MemoryLedger {
    async fn processed_files(
        &self,
        source_objects: &[String],
    ) -> Result<BTreeSet<String>, LedgerError> {
        let state = self.state();
        Ok(source_objects
            .iter()
            .filter(|object| state.markers.contains_key(*object))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{ProcessedBy, ROOM_SUMMARY_PK};
    use crate::summary::ObjectCounts;

    fn update(sk: &str, event_count: u64, last_event_time: &str) -> SummaryUpdate {
        SummaryUpdate {
            key: ItemKey {
                pk: ROOM_SUMMARY_PK.to_owned(),
                sk: sk.to_owned(),
            },
            event_count,
            last_event_time: last_event_time.to_owned(),
        }
    }

    #[tokio::test]
    async fn a_file_counts_once_and_times_keep_their_maximum() {
        let ledger = MemoryLedger::default();
        let first = [update("r", 2, "2023-05-02T00:00:00Z")];
        ledger.apply_summaries("s3://b/1", &first).await.unwrap();
        ledger.apply_summaries("s3://b/1", &first).await.unwrap();
        ledger
            .apply_summaries("s3://b/2", &[update("r", 1, "2023-05-01T00:00:00Z")])
            .await
            .unwrap();
        let summaries = ledger.summaries();
        let summary = summaries.values().next().unwrap();
        assert_eq!(summary.event_count, 3);
        assert_eq!(summary.last_event_time, "2023-05-02T00:00:00Z");
    }

    #[tokio::test]
    async fn markers_are_found_by_source_object() {
        let ledger = MemoryLedger::default();
        let marker = FileMarker {
            source_object: "s3://b/1".into(),
            counts: ObjectCounts::default(),
            processed_at: "2026-01-01T00:00:00Z".into(),
            processed_by: ProcessedBy::Lambda,
        };
        ledger.mark_processed(&marker).await.unwrap();
        let found = ledger
            .processed_files(&["s3://b/1".to_owned(), "s3://b/2".to_owned()])
            .await
            .unwrap();
        assert_eq!(found, BTreeSet::from(["s3://b/1".to_owned()]));
    }
}
