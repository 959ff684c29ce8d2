//! In-memory twins of the pipeline's ports, for fast tests of the invocation and object layers (the
//! moto tests cover the AWS side of each): [`MemorySource`] stands for S3, [`MemorySink`] for
//! DynamoDB. Their table is the ledger's [`MemoryTable`], which `rooms` and `users` read as well.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

use crate::item::Item;
pub use crate::ledger::MemoryTable;
use crate::notification::ObjectRef;
use crate::sink::{ItemSink, SinkError};
use crate::source::{ObjectBody, ObjectSource, SourceError};

/// Log files in memory, by S3 object. A location with nothing stored answers NoSuchKey, as S3 does.
/// Clones share the objects and the record of what was opened.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    objects: Arc<Mutex<BTreeMap<ObjectRef, Stored>>>,
    opened: Arc<Mutex<Vec<ObjectRef>>>,
}

#[derive(Debug, Clone)]
struct Stored {
    bytes: Vec<u8>,
    /// The next `breaks` opens deliver only `cut_at` bytes, then fail as a reset connection would.
    cut_at: usize,
    breaks: u32,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data: keep using it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemorySource {
    /// Stores `bytes` under `object`.
    pub fn put(&self, object: ObjectRef, bytes: Vec<u8>) {
        self.put_broken(object, bytes, 0, 0);
    }

    /// Stores `bytes` under `object`, whose next `breaks` reads fail after `cut_at` bytes.
    pub fn put_broken(&self, object: ObjectRef, bytes: Vec<u8>, cut_at: usize, breaks: u32) {
        let stored = Stored {
            bytes,
            cut_at,
            breaks,
        };
        lock(&self.objects).insert(object, stored);
    }

    /// Every location opened so far, in order (a re-read opens again).
    pub fn opened(&self) -> Vec<ObjectRef> {
        lock(&self.opened).clone()
    }
}

impl ObjectSource for MemorySource {
    type Location = ObjectRef;

    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, SourceError> {
        lock(&self.opened).push(object.clone());
        let mut objects = lock(&self.objects);
        let stored = objects.get_mut(object).ok_or(SourceError::NotFound)?;
        let readable = if stored.breaks > 0 {
            stored.breaks -= 1;
            Some(stored.cut_at)
        } else {
            None
        };
        Ok(ObjectBody {
            reader: Box::pin(MemoryBody {
                bytes: stored.bytes.clone(),
                position: 0,
                readable,
            }),
        })
    }
}

/// A stored object's bytes, cut short by a reset connection when `readable` says so.
struct MemoryBody {
    bytes: Vec<u8>,
    position: usize,
    readable: Option<usize>,
}

impl AsyncRead for MemoryBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let end = self
            .readable
            .unwrap_or(self.bytes.len())
            .min(self.bytes.len());
        if self.readable.is_some() && self.position >= end {
            let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
            return Poll::Ready(Err(reset));
        }
        let available = self.bytes.get(self.position..end).unwrap_or_default();
        let taken = available.len().min(buffer.remaining());
        buffer.put_slice(available.get(..taken).unwrap_or_default());
        self.position += taken;
        Poll::Ready(Ok(()))
    }
}

/// A table in memory that refuses, as DynamoDB refuses an invalid item, any batch holding an item
/// whose partition key starts with the prefix it was given.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    table: MemoryTable,
    refused_pk_prefix: Option<String>,
}

impl MemorySink {
    /// Writes to `table`.
    pub fn new(table: MemoryTable) -> Self {
        MemorySink {
            table,
            refused_pk_prefix: None,
        }
    }

    /// Refuses, permanently, every batch with an item whose `pk` starts with `prefix`.
    pub fn refusing(mut self, prefix: &str) -> Self {
        self.refused_pk_prefix = Some(prefix.to_owned());
        self
    }

    /// The table written to.
    pub fn table(&self) -> &MemoryTable {
        &self.table
    }
}

impl ItemSink for MemorySink {
    async fn put_batch(&self, items: &[Item]) -> Result<Vec<Item>, SinkError> {
        if let Some(prefix) = &self.refused_pk_prefix
            && let Some(item) = items.iter().find(|item| item.key.pk.starts_with(prefix))
        {
            return Err(SinkError::permanent(format!(
                "the table refused the item pk={} sk={}",
                item.key.pk, item.key.sk
            )));
        }
        self.table.put_batch(items).await
    }
}
