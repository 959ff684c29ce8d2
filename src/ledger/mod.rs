//! What the pipeline records besides the audit events, and how `rooms`/`users` read it back.
//!
//! - **Seen items** ([`seen`]): one per room and user a file touches, a plain put in the file's
//!   own BatchWriteItem stream. No counter, no condition, no transaction: a log file costs
//!   ceil((event items + rooms and users it touches) / 25) requests, a file without A4B records
//!   costs none, and nothing is ever counted twice.
//! - **Activity** ([`activity`]): `rooms`/`users` list the seen items and read each one's count
//!   and last activity from its own event partition, so they always agree with `query`.
//! - **Files done**: nothing in the table. The CLI's `backfill` keeps a local journal
//!   ([`Journal`]) that `--resume` reads; the Lambda records nothing (a retried notification
//!   writes the same items again, which is idempotent).
//! - **Legacy items**: the `SUMMARY#…` summaries and `FILE#…` markers that earlier versions wrote
//!   are ignored by every command; [`DynamoDbLedger::delete_legacy_items`] removes them.

pub mod activity;
mod dynamodb;
mod journal;
mod memory;
pub mod seen;

use std::future::Future;

pub use activity::{Activity, PartitionReader, list_activity};
pub use dynamodb::{DynamoDbLedger, LEGACY_PK_PREFIXES, LegacyCleanup};
pub use journal::{Journal, JournalError};
pub use memory::MemoryTable;
pub use seen::{FileSeen, SeenKind, seen_item};

use crate::summary::ObjectCounts;

/// The ledger could not record or read something.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(pub String);

/// What the pipeline records for each file besides its event items. No implementation sends a
/// DynamoDB request of its own: seen items travel in the file's batches.
pub trait FileLedger: Send + Sync + 'static {
    /// Whether each room and user a file touches gets its seen item, written with the file's
    /// event items.
    fn writes_seen_items(&self) -> bool;

    /// Notes that every item of the file was written.
    fn file_done(
        &self,
        source_object: &str,
        counts: &ObjectCounts,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// Records nothing and writes only the event items (the CLI's dry run; tests that compare tables
/// item for item).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLedger;

impl FileLedger for NoLedger {
    fn writes_seen_items(&self) -> bool {
        false
    }

    async fn file_done(&self, _: &str, _: &ObjectCounts) -> Result<(), LedgerError> {
        Ok(())
    }
}

/// Writes the seen items and records nothing else: the Lambda's ledger and `a4b-audit process`'.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeenItems;

impl FileLedger for SeenItems {
    fn writes_seen_items(&self) -> bool {
        true
    }

    async fn file_done(&self, _: &str, _: &ObjectCounts) -> Result<(), LedgerError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
