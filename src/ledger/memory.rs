//! An in-memory table: the sink the pipeline writes to and the reader `rooms`/`users` read from,
//! with DynamoDB's rules for both (a put replaces the item with the same key; a partition is read
//! in sort key order), for unit tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::LedgerError;
use super::activity::{PartitionReader, event_time_or_sort_key};
use super::seen::{SEEN_NAME_ATTRIBUTE, SeenKind};
use crate::item::{Item, ItemKey};
use crate::sink::{ItemSink, SinkError};

/// Items by key. Clones share the table (one to the pipeline, one to look at).
#[derive(Debug, Clone, Default)]
pub struct MemoryTable {
    items: Arc<Mutex<BTreeMap<ItemKey, Item>>>,
    /// Batches written, as BatchWriteItem requests would be.
    batches: Arc<Mutex<u64>>,
}

impl MemoryTable {
    fn items(&self) -> MutexGuard<'_, BTreeMap<ItemKey, Item>> {
        // A panic elsewhere while holding the lock leaves plain data: keep using it.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Puts one item, replacing the one with the same key.
    pub fn put(&self, item: Item) {
        self.items().insert(item.key.clone(), item);
    }

    /// Every item, by key.
    pub fn snapshot(&self) -> BTreeMap<ItemKey, Item> {
        self.items().clone()
    }

    /// The items of partition `pk`, in sort key order (what `query` returns).
    pub fn partition(&self, pk: &str) -> Vec<Item> {
        self.items()
            .values()
            .filter(|item| item.key.pk == pk)
            .cloned()
            .collect()
    }

    /// Batches written so far.
    pub fn batches(&self) -> u64 {
        *self
            .batches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ItemSink for MemoryTable {
    async fn put_batch(&self, items: &[Item]) -> Result<Vec<Item>, SinkError> {
        *self
            .batches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
        let mut table = self.items();
        for item in items {
            table.insert(item.key.clone(), item.clone());
        }
        Ok(Vec::new())
    }
}

impl PartitionReader for MemoryTable {
    async fn seen_names(&self, kind: SeenKind, shard: u32) -> Result<Vec<String>, LedgerError> {
        let pk = kind.shard_pk(shard);
        Ok(self
            .partition(&pk)
            .into_iter()
            .map(|item| match item.string(SEEN_NAME_ATTRIBUTE) {
                Some(name) => name.to_owned(),
                None => item.key.sk,
            })
            .collect())
    }

    async fn count_items(&self, pk: &str) -> Result<u64, LedgerError> {
        Ok(self.partition(pk).len() as u64)
    }

    async fn latest_event_time(&self, pk: &str) -> Result<Option<String>, LedgerError> {
        Ok(self
            .partition(pk)
            .last()
            .map(|item| event_time_or_sort_key(item.string("event_time"), &item.key.sk)))
    }
}
