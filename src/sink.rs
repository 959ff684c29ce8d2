//! Where items go: the `ItemSink` port (one BatchWriteItem-sized request) and its DynamoDB adapter.
//! OWNER: helper "writer" (skeleton; to be replaced).

use std::future::Future;

use crate::item::Item;

/// Whether retrying the same request may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Throttling, 5xx, timeouts, connection resets.
    Transient,
    /// Everything else (validation errors, missing table, access denied).
    Permanent,
}

/// A batch request that failed as a whole.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub kind: FailureKind,
    pub message: String,
}

/// Writes one batch of at most 25 items with distinct keys.
pub trait ItemSink: Send + Sync + 'static {
    /// Puts the items; returns the ones the store did not process (to be retried).
    fn put_batch(&self, items: Vec<Item>) -> impl Future<Output = Result<Vec<Item>, SinkError>> + Send;
}
