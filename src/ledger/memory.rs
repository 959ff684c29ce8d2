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
