//! The reader-to-writer hand-over of one object: its records are read on a blocking thread (gunzip
//! and the record scanner are CPU work) and mapped to items there, while the calling task writes the
//! items it is handed, so reading and writing overlap and memory stays bounded by the channel between
//! them and the writer's batches in flight.

use std::sync::Arc;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;
use tokio_util::io::SyncIoBridge;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tracing::{debug, warn};

use crate::audit::{self, AuditContext, Mapped};
use crate::item::Item;
use crate::ledger::FileSeen;
use crate::reader::{self, ReadError, ReaderOptions, RecordEvent};
use crate::sink::ItemSink;
use crate::source::WatchedBody;
use crate::summary::ObjectCounts;
use crate::writer::{ItemWriter, WriteError, WriteReport, WriterOptions};

/// Items the reading thread hands to the writer at a time. Each hand-over may wake the writer's
/// thread, so they go in bundles rather than one record at a time.
const ITEMS_PER_HANDOVER: usize = 100;
/// The most item bytes (as DynamoDB counts them) one bundle holds: a record's items near 400 KB
/// each go a few at a time, so the bundles waiting in the channel stay within a few MiB.
const BYTES_PER_HANDOVER: usize = 512 * 1024;
/// Bundles that may wait between the reading thread and the writer.
const HANDOVERS_IN_CHANNEL: usize = 8;

/// The writer stopped taking items, so reading stops too (its error is reported instead).
#[derive(Debug, thiserror::Error)]
#[error("the item writer stopped")]
pub struct WriterStopped;

/// What one hand-over did: how the reading and the writing ended, and what was counted.
pub(crate) struct Transfer {
    pub read: Result<(), ReadError<WriterStopped>>,
    pub write: Result<WriteReport, WriteError>,
    /// Counted by the reading thread; `items_written` and `write_requests` are left for the caller
    /// to take from the write report.
    pub counts: ObjectCounts,
    /// Room and user seen items pushed to the writer with the events (not audit items: the
    /// caller leaves them out of `items_written`).
    pub seen_items: u64,
}

/// Reads `body` on a blocking thread and writes the items of its records to `sink`, with the
/// seen item of each room and user the first time the file touches it when `seen` is given.
pub(crate) async fn transfer<K: ItemSink>(
    body: WatchedBody,
    reader_options: ReaderOptions,
    context: AuditContext,
    sink: Arc<K>,
    writer_options: WriterOptions,
    seen: Option<FileSeen>,
    stop: CancellationToken,
) -> Transfer {
    let (items_tx, mut items_rx) = mpsc::channel::<Vec<Handed>>(HANDOVERS_IN_CHANNEL);
    let input = SyncIoBridge::new(Stoppable::new(body, stop.clone()));
    let reading_stop = stop.clone();
    let reading = tokio::task::spawn_blocking(move || {
        read_records(
            input,
            &reader_options,
            &context,
            seen,
            items_tx,
            &reading_stop,
        )
    });

    let mut writer = ItemWriter::new(sink, writer_options).stopped_by(&stop);
    let mut write_failure = None;
    let mut seen_items = 0;
    'receive: while let Some(items) = items_rx.recv().await {
        for handed in items {
            let item = match handed {
                Handed::Event(item) => item,
                Handed::Seen(item) => {
                    seen_items += 1;
                    item
                }
            };
            if let Err(error) = writer.push(item).await {
                write_failure = Some(error);
                break 'receive;
            }
        }
    }
    // Closing the channel makes a reader that is still going stop at its next record.
    drop(items_rx);
    let write = match write_failure {
        Some(error) => Err(error),
        None => writer.finish().await,
    };
    let (read, counts) = match reading.await {
        Ok(read) => read,
        // Only in test builds: release builds abort on panic.
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // A blocking task is cancelled only when the runtime shuts down, before it started.
        Err(error) => (
            Err(ReadError::Io(std::io::Error::other(error))),
            ObjectCounts::default(),
        ),
    };
    Transfer {
        read,
        write,
        counts,
        seen_items,
    }
}

/// Reads one file on the calling (blocking) thread, maps each handed-over record and sends its items.
/// With two cores, inflation runs on a second thread, so gunzip and the scan each take a core and a
/// file takes about as long as the slower of the two; with one, both run here in turn.
fn read_records(
    input: impl std::io::Read + Send,
    options: &ReaderOptions,
    context: &AuditContext,
    mut seen: Option<FileSeen>,
    items_tx: mpsc::Sender<Vec<Handed>>,
    stop: &CancellationToken,
) -> (Result<(), ReadError<WriterStopped>>, ObjectCounts) {
    let uri = context.source_object.as_str();
    let mut counts = ObjectCounts::default();
    let mut mapping_rejected = 0;
    let mut bundle = Bundle::default();
    let result = reader::read_log_counted(input, options, |event| {
        if stop.is_cancelled() {
            return Err(WriterStopped);
        }
        match event {
            RecordEvent::Matched { index, raw } => match audit::build_checked_items(raw, context) {
                Ok(Mapped::Expired { expires_at }) => {
                    counts.a4b_records += 1;
                    counts.records_expired += 1;
                    debug!(
                        object = uri,
                        record_index = index,
                        expires_at,
                        "record past its retention: not written"
                    );
                }
                Ok(Mapped::Items(items)) => {
                    // The seen items of the rooms and the user the file had not touched yet, from
                    // what the mapping says of the record: written in the same batches as the
                    // events, a seen item costs a 25th of a request.
                    let seen_items = seen
                        .as_mut()
                        .map(|seen| seen.first_sights(items.partitions()))
                        .unwrap_or_default();
                    // Built one at a time as the bundle takes them: a record touching thousands of
                    // rooms never has all its items in memory at once.
                    let handed = items
                        .map(Handed::Event)
                        .chain(seen_items.into_iter().map(Handed::Seen));
                    for handed in handed {
                        if items_tx.is_closed() {
                            return Err(WriterStopped);
                        }
                        if let Handed::Event(_) = handed {
                            counts.items_built += 1;
                        }
                        if let Some(full) = bundle.add(handed) {
                            items_tx.blocking_send(full).map_err(|_| WriterStopped)?;
                        }
                    }
                    // Counted once handed over whole, as the reader counts a record read once its
                    // hand-over returns: the counts of a file stopped part-way reconcile too.
                    counts.a4b_records += 1;
                }
                Err(reason) => {
                    mapping_rejected += 1;
                    warn!(object = uri, record_index = index, reason = %reason, "record rejected");
                }
            },
            RecordEvent::Rejected { index, reason } => {
                warn!(object = uri, record_index = index, reason = %reason, "record rejected");
            }
        }
        Ok(())
    });
    let result = result.and_then(|stats| {
        if !bundle.items.is_empty() {
            items_tx
                .blocking_send(bundle.items)
                .map_err(|_| (ReadError::Consumer(WriterStopped), stats.clone()))?;
        }
        Ok(stats)
    });
    let (result, stats) = match result {
        Ok(stats) => {
            debug!(
                object = uri,
                decompressed_bytes = stats.decompressed_bytes,
                "file read"
            );
            (Ok(()), stats)
        }
        // What was read before the failure is counted too, so that a failed file reconciles.
        Err((error, stats)) => (Err(error), stats),
    };
    counts.records_read = stats.records;
    counts.other_records = stats.other;
    counts.records_rejected = stats.rejected + mapping_rejected;
    (result, counts)
}

/// An object's byte stream that ends with an error as soon as the object is stopped (at the
/// deadline), even while a read is waiting for the network: the reading thread then stops at once.
struct Stoppable {
    inner: WatchedBody,
    stopped: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Stoppable {
    fn new(inner: WatchedBody, stop: CancellationToken) -> Self {
        Stoppable {
            inner,
            stopped: Box::pin(stop.cancelled_owned()),
        }
    }
}

impl AsyncRead for Stoppable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.stopped.as_mut().poll(context).is_ready() {
            return Poll::Ready(Err(std::io::Error::other(
                "the object was stopped at the invocation's deadline",
            )));
        }
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

/// An item handed to the writer: a record's, or the ledger's seen item of a room or user.
enum Handed {
    Event(Item),
    Seen(Item),
}

impl Handed {
    fn item(&self) -> &Item {
        match self {
            Handed::Event(item) | Handed::Seen(item) => item,
        }
    }
}

/// The items gathered for the next hand-over.
#[derive(Default)]
struct Bundle {
    items: Vec<Handed>,
    bytes: usize,
}

impl Bundle {
    /// Adds an item; returns the full bundle when it reaches [`ITEMS_PER_HANDOVER`] items or
    /// [`BYTES_PER_HANDOVER`] bytes.
    fn add(&mut self, item: Handed) -> Option<Vec<Handed>> {
        self.bytes += item.item().size_bytes();
        self.items.push(item);
        if self.items.len() < ITEMS_PER_HANDOVER && self.bytes < BYTES_PER_HANDOVER {
            return None;
        }
        self.bytes = 0;
        Some(std::mem::replace(
            &mut self.items,
            Vec::with_capacity(ITEMS_PER_HANDOVER),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::AttrValue;

    fn item_of(bytes: usize) -> Handed {
        let mut item = Item::new("USER#u".to_owned(), "t#e".to_owned());
        item.attributes
            .insert("record", AttrValue::S("x".repeat(bytes).into()));
        Handed::Event(item)
    }

    #[test]
    fn a_bundle_is_handed_over_at_its_item_count() {
        let mut bundle = Bundle::default();
        for n in 1..ITEMS_PER_HANDOVER {
            assert!(
                bundle.add(item_of(10)).is_none(),
                "handed over at {n} items"
            );
        }
        let full = bundle
            .add(item_of(10))
            .expect("handed over at the item count");
        assert_eq!(full.len(), ITEMS_PER_HANDOVER);
        // The next bundle starts empty, its bytes too.
        assert!(bundle.items.is_empty());
        assert_eq!(bundle.bytes, 0);
        assert!(bundle.add(item_of(10)).is_none());
    }

    #[test]
    fn a_bundle_of_large_items_is_handed_over_at_its_byte_count() {
        // Three items of 200 KB pass the 512 KiB a bundle holds; two do not.
        let mut bundle = Bundle::default();
        assert!(bundle.add(item_of(200_000)).is_none());
        assert!(bundle.add(item_of(200_000)).is_none());
        let full = bundle
            .add(item_of(200_000))
            .expect("handed over at the byte count");
        assert_eq!(full.len(), 3);
        assert_eq!(bundle.bytes, 0);
        // The byte count starts again from zero: two more large items stay.
        assert!(bundle.add(item_of(200_000)).is_none());
        assert!(bundle.add(item_of(200_000)).is_none());
    }
}
