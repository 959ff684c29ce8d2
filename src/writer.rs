//! Batching, bounded concurrency and retries in front of an [`ItemSink`](crate::sink::ItemSink).
//!
//! Items are gathered into batches of at most [`BATCH_SIZE`] distinct keys and [`MAX_BATCH_BYTES`].
//! Each full batch is written by its own task, at most `max_in_flight` at once; `push` waits for a
//! free slot, so memory stays bounded. A task retries what the sink did not take (unprocessed
//! items, transient failures) with capped exponential backoff and full jitter. A batch the store
//! refuses for what it holds (an item too large or malformed) is written again item by item, so
//! that one bad item never costs its neighbours; the items refused alone fail the writer at the
//! end, named by their record. Any other batch that cannot be written stops every other task
//! before its next attempt, and the writer fails with the number of items that were not written.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::item::{Item, ItemKey};
use crate::retry::RetryPolicy;
use crate::sink::{FailureKind, ItemSink};

/// BatchWriteItem's limit of put requests per call.
pub const BATCH_SIZE: usize = 25;
/// The most item bytes (as DynamoDB counts them) one batch holds: items near DynamoDB's 400 KB go
/// one or two a request, so that the batches in flight, and the SDK's copies of them, stay within a
/// few MiB whatever the records.
pub const MAX_BATCH_BYTES: usize = 512 * 1024;
/// The records a refusal names in its message, at most (all are counted).
const NAMED_REFUSALS: usize = 10;

/// How the writer batches and retries.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Batches in flight at once.
    pub max_in_flight: usize,
    /// Attempts per request and the backoff between them (the object's reads share it).
    pub retry: RetryPolicy,
    /// No retry starts at or after this (the invocation's deadline less its margin).
    pub latest_retry: Option<Instant>,
    /// Each batch is written by `push` itself, one at a time, instead of by a task of its own. For
    /// a sink with nothing to wait for (the dry run's printer), where a task per batch only cost
    /// two thread wake-ups per 25 items: `perf stat` on the dry run of the 200 MB benchmark file
    /// counted 2,000 to 2,900 context switches with a task per batch, 650 to 900 in place.
    pub write_in_place: bool,
}

/// Eight batches in flight, the standard retry budget, no deadline.
impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_in_flight: 8,
            retry: RetryPolicy::STANDARD,
            latest_retry: None,
            write_in_place: false,
        }
    }
}

/// What a writer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Items the store accepted, each counted once however often it was retried. Keys are made
    /// distinct within a batch only: an item whose key comes back after its batch was sent is
    /// written (and counted) again, which leaves one item in the table all the same.
    pub items_written: u64,
    /// BatchWriteItem requests sent, retries included.
    pub batch_calls: u64,
    /// Item writes that were sent again (unprocessed or transient failure).
    pub retried_items: u64,
    /// Items pushed while an item with the same key was waiting in the same batch: the later one
    /// replaced the earlier, so items pushed = `items_written` + `duplicates_replaced`.
    pub duplicates_replaced: u64,
}

/// Items could not all be written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{items_not_written} item(s) could not be written: {cause}")]
pub struct WriteError {
    pub items_not_written: u64,
    pub cause: String,
    /// Whether writing again may succeed (the retries were spent, or the deadline stopped them),
    /// or the table refused an item (validation, access, a missing table).
    pub kind: FailureKind,
    /// What was written before and besides the failure.
    pub report: WriteReport,
    /// The `event_id` of each record with an item the store refused, in the order refused, each once.
    pub refused_records: Vec<String>,
}

/// An item the store refused for what it holds, alone in its request.
#[derive(Debug, Clone)]
struct RefusedItem {
    key: ItemKey,
    event_id: Option<String>,
}

impl RefusedItem {
    fn of(item: &Item) -> Self {
        RefusedItem {
            key: item.key.clone(),
            event_id: item.string("event_id").map(str::to_owned),
        }
    }
}

/// Collects items into batches of at most 25 distinct keys and writes them with bounded concurrency.
pub struct ItemWriter<S: ItemSink> {
    sink: Arc<S>,
    options: WriterOptions,
    pending: Vec<Item>,
    /// The size of the pending items, as DynamoDB counts it.
    pending_bytes: usize,
    in_flight: JoinSet<BatchOutcome>,
    /// Items of each batch in flight, to count them if their task dies.
    in_flight_sizes: HashMap<Id, u64>,
    /// Cancelled by the first batch that fails, so the others stop before their next attempt.
    stop: CancellationToken,
    report: WriteReport,
    failure: Option<Failure>,
    /// Items refused alone; they do not stop the other batches.
    refused: Vec<RefusedItem>,
    /// Why the first refused item was refused.
    refusal: Option<String>,
}

/// Why the writer stopped, and how many items it did not write.
#[derive(Debug)]
struct Failure {
    items_not_written: u64,
    cause: String,
    kind: FailureKind,
}

impl<S: ItemSink> ItemWriter<S> {
    pub fn new(sink: Arc<S>, options: WriterOptions) -> Self {
        ItemWriter {
            sink,
            options,
            pending: Vec::with_capacity(BATCH_SIZE),
            pending_bytes: 0,
            in_flight: JoinSet::new(),
            in_flight_sizes: HashMap::new(),
            stop: CancellationToken::new(),
            report: WriteReport::default(),
            failure: None,
            refused: Vec::new(),
            refusal: None,
        }
    }

    /// Stops the writer (its batches stop before their next attempt) when `stop` is cancelled.
    pub fn stopped_by(mut self, stop: &CancellationToken) -> Self {
        self.stop = stop.child_token();
        self
    }

    /// Adds an item; waits when `max_in_flight` batches are already being written.
    ///
    /// Once the writer has failed, every call returns the error, counting the item as not written.
    /// Items the store refused do not fail `push`: they are reported by [`ItemWriter::finish`].
    pub async fn push(&mut self, item: Item) -> Result<(), WriteError> {
        self.collect_finished();
        if self.stop.is_cancelled() {
            self.settle_failure().await;
        }
        if self.failure.is_some() {
            self.count_not_written(1);
            return self.status();
        }
        let item_bytes = item.size_bytes();
        // Linear search: a batch holds at most 25 items, cheaper than hashing every key.
        match self
            .pending
            .iter_mut()
            .find(|queued| queued.key == item.key)
        {
            Some(queued) => {
                self.pending_bytes = self.pending_bytes - queued.size_bytes() + item_bytes;
                *queued = item;
                self.report.duplicates_replaced += 1;
            }
            None => {
                if !self.pending.is_empty() && self.pending_bytes + item_bytes > MAX_BATCH_BYTES {
                    self.send_pending().await;
                    if self.failure.is_some() {
                        self.count_not_written(1);
                        return self.status();
                    }
                }
                self.pending_bytes += item_bytes;
                self.pending.push(item);
            }
        }
        if self.pending.len() >= BATCH_SIZE || self.pending_bytes >= MAX_BATCH_BYTES {
            self.send_pending().await;
        }
        self.status()
    }

    /// Writes what is left and waits for every batch.
    pub async fn finish(mut self) -> Result<WriteReport, WriteError> {
        if !self.pending.is_empty() {
            self.send_pending().await;
        }
        while let Some(joined) = self.in_flight.join_next_with_id().await {
            self.absorb(joined);
        }
        let result = match self.status() {
            Ok(()) => self.refusals(),
            Err(failure) => Err(failure),
        };
        match result {
            Err(failure) => {
                tracing::warn!(
                    items_written = self.report.items_written,
                    items_not_written = failure.items_not_written,
                    items_refused = self.refused.len(),
                    batch_calls = self.report.batch_calls,
                    "writer failed"
                );
                Err(failure)
            }
            Ok(()) => Ok(self.report),
        }
    }

    /// The refused items as the writer's failure, once every other item is written.
    fn refusals(&self) -> Result<(), WriteError> {
        if self.refused.is_empty() {
            return Ok(());
        }
        let refused_records = self.refused_records();
        let named: Vec<&str> = refused_records
            .iter()
            .take(NAMED_REFUSALS)
            .map(String::as_str)
            .collect();
        let more = refused_records.len().saturating_sub(named.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let first = self.refused.first().map_or_else(String::new, |item| {
            format!(" (first key: pk={} sk={})", item.key.pk, item.key.sk)
        });
        Err(WriteError {
            items_not_written: self.refused.len() as u64,
            cause: format!(
                "DynamoDB refused {} item(s) of the record(s) with eventID {}{more}{first}: {}; \
                 every other item was written",
                self.refused.len(),
                named.join(", "),
                self.refusal.as_deref().unwrap_or("no reason given"),
            ),
            kind: FailureKind::Permanent,
            report: self.report.clone(),
            refused_records,
        })
    }

    /// The event ids of the refused items, each once, in the order refused.
    fn refused_records(&self) -> Vec<String> {
        let mut records: Vec<String> = Vec::new();
        for item in &self.refused {
            let event_id = item
                .event_id
                .clone()
                .unwrap_or_else(|| format!("(none; sk={})", item.key.sk));
            if !records.contains(&event_id) {
                records.push(event_id);
            }
        }
        records
    }

    /// Starts a task for the pending batch once a slot is free; on failure, counts the pending
    /// items as not written instead.
    async fn send_pending(&mut self) {
        while self.failure.is_none()
            && !self.stop.is_cancelled()
            && self.in_flight.len() >= self.options.max_in_flight.max(1)
        {
            match self.in_flight.join_next_with_id().await {
                Some(joined) => self.absorb(joined),
                None => break,
            }
        }
        if self.failure.is_some() || self.stop.is_cancelled() {
            self.settle_failure().await;
            self.count_not_written(self.pending.len() as u64);
            self.pending.clear();
            self.pending_bytes = 0;
            return;
        }
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH_SIZE));
        self.pending_bytes = 0;
        let batch_size = batch.len() as u64;
        let task = write_batch(
            Arc::clone(&self.sink),
            batch,
            self.options.clone(),
            self.stop.clone(),
        );
        if self.options.write_in_place {
            let outcome = task.await;
            self.take_outcome(outcome);
            return;
        }
        let handle = self.in_flight.spawn(task);
        self.in_flight_sizes.insert(handle.id(), batch_size);
    }

    /// Takes in the outcome of every batch that is already done, without waiting.
    fn collect_finished(&mut self) {
        while let Some(joined) = self.in_flight.try_join_next_with_id() {
            self.absorb(joined);
        }
    }

    /// After a batch failed: waits for the other tasks (they stop before their next attempt) so
    /// that the count of items not written is exact.
    async fn settle_failure(&mut self) {
        self.stop.cancel();
        while let Some(joined) = self.in_flight.join_next_with_id().await {
            self.absorb(joined);
        }
    }

    fn absorb(&mut self, joined: Result<(Id, BatchOutcome), JoinError>) {
        let outcome = match joined {
            Ok((id, outcome)) => {
                self.in_flight_sizes.remove(&id);
                outcome
            }
            Err(join_error) => {
                let lost = self
                    .in_flight_sizes
                    .remove(&join_error.id())
                    .unwrap_or_default();
                BatchOutcome {
                    not_written: lost,
                    cause: Some((
                        format!("a batch task ended abnormally: {join_error}"),
                        FailureKind::Permanent,
                    )),
                    ..BatchOutcome::default()
                }
            }
        };
        self.take_outcome(outcome);
    }

    /// Counts what one batch did; a batch that failed stops the others.
    fn take_outcome(&mut self, outcome: BatchOutcome) {
        self.report.items_written += outcome.written;
        self.report.batch_calls += outcome.calls;
        self.report.retried_items += outcome.retried;
        if !outcome.refused.is_empty() && self.refusal.is_none() {
            self.refusal = outcome.refusal;
        }
        self.refused.extend(outcome.refused);
        if outcome.not_written == 0 && outcome.cause.is_none() {
            return;
        }
        self.stop.cancel();
        let failure = self.count_not_written(outcome.not_written);
        // The first batch that failed explains the failure; the others were only stopped.
        if let Some((cause, kind)) = outcome.cause
            && failure.cause.is_empty()
        {
            failure.cause = cause;
            failure.kind = kind;
        }
    }

    /// Marks the writer failed (if it was not yet) and adds to the items not written.
    fn count_not_written(&mut self, items: u64) -> &mut Failure {
        let failure = self.failure.get_or_insert_with(|| Failure {
            items_not_written: 0,
            cause: String::new(),
            kind: FailureKind::Transient,
        });
        failure.items_not_written += items;
        failure
    }

    /// The failure if there is one, with a cause even when no batch gave one; items refused so far
    /// count as not written too.
    fn status(&self) -> Result<(), WriteError> {
        let Some(failure) = &self.failure else {
            return Ok(());
        };
        let (mut cause, kind) = if failure.cause.is_empty() {
            (
                "the writer was stopped before every batch was written".to_owned(),
                FailureKind::Transient,
            )
        } else {
            (failure.cause.clone(), failure.kind)
        };
        if let Err(refusals) = self.refusals() {
            cause = format!("{cause}; besides, {}", refusals.cause);
        }
        Err(WriteError {
            items_not_written: failure.items_not_written + self.refused.len() as u64,
            cause,
            kind,
            report: self.report.clone(),
            refused_records: self.refused_records(),
        })
    }
}

/// What one batch task did.
#[derive(Debug, Default)]
struct BatchOutcome {
    written: u64,
    calls: u64,
    retried: u64,
    not_written: u64,
    /// Why the batch failed, and whether writing again may succeed; `None` when it was written or
    /// stopped because another batch failed.
    cause: Option<(String, FailureKind)>,
    /// Items the store refused alone (they are not in `not_written`).
    refused: Vec<RefusedItem>,
    /// Why the first of them was refused.
    refusal: Option<String>,
}

/// How the attempts at one request ended without writing all of it.
enum Unwritten {
    /// The store refused what the request holds.
    Refused { items: Vec<Item>, reason: String },
    /// A permanent failure, or transient ones past the attempts.
    GaveUp {
        items: Vec<Item>,
        attempts: u32,
        cause: String,
        kind: FailureKind,
    },
    /// Another batch failed: this one stopped before its next attempt.
    Stopped { items: Vec<Item> },
}

/// Writes one batch; when the store refuses it for what it holds, writes its items one by one, so
/// that only the bad ones are lost.
async fn write_batch<S: ItemSink>(
    sink: Arc<S>,
    batch: Vec<Item>,
    options: WriterOptions,
    stop: CancellationToken,
) -> BatchOutcome {
    let mut outcome = BatchOutcome::default();
    let (items, reason) = match write_request(&*sink, batch, &options, &stop, &mut outcome).await {
        Ok(()) => return outcome,
        Err(Unwritten::Refused { items, reason }) => (items, reason),
        Err(unwritten) => return end_batch(outcome, unwritten, Vec::new(), &stop),
    };
    outcome.refusal = Some(reason.clone());
    if let [item] = items.as_slice() {
        refuse(&mut outcome, item, &reason);
        return outcome;
    }
    tracing::warn!(
        items = items.len(),
        reason = %reason,
        "the store refused a batch for what it holds: writing its items one by one"
    );
    let mut alone = items.into_iter();
    while let Some(item) = alone.next() {
        match write_request(&*sink, vec![item], &options, &stop, &mut outcome).await {
            Ok(()) => {}
            Err(Unwritten::Refused { items, reason }) => {
                for item in &items {
                    refuse(&mut outcome, item, &reason);
                }
            }
            Err(unwritten) => return end_batch(outcome, unwritten, alone.collect(), &stop),
        }
    }
    outcome
}

/// Notes an item the store refused alone.
fn refuse(outcome: &mut BatchOutcome, item: &Item, reason: &str) {
    tracing::warn!(
        event_id = item.string("event_id"),
        pk = %item.key.pk,
        reason,
        "the store refused an item: its record is named in the object's failure"
    );
    outcome.refused.push(RefusedItem::of(item));
}

/// tokio's timer counts in milliseconds and ends a wait at the first tick at or after the time
/// asked, so a wait may end up to one tick late.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// How long until `latest_start` on the runtime's clock (paused in tests), for the retry policy:
/// one timer tick short, so that a wait chosen to end before `latest_start` does.
pub(crate) fn time_left(latest_start: Option<Instant>) -> Option<Duration> {
    latest_start.map(|latest| {
        latest
            .saturating_duration_since(Instant::now())
            .saturating_sub(TIMER_TICK)
    })
}

/// Sends `items` in one request until they are all written, retrying unprocessed items and
/// transient failures within the retry budget and before `latest_retry`.
async fn write_request<S: ItemSink>(
    sink: &S,
    items: Vec<Item>,
    options: &WriterOptions,
    stop: &CancellationToken,
    outcome: &mut BatchOutcome,
) -> Result<(), Unwritten> {
    let mut remaining = items;
    let mut attempt: u32 = 0;
    loop {
        if stop.is_cancelled() {
            return Err(Unwritten::Stopped { items: remaining });
        }
        attempt += 1;
        outcome.calls += 1;
        if attempt > 1 {
            outcome.retried += remaining.len() as u64;
        }
        let sent = remaining.len() as u64;
        // The batch is lent: it stays here, to send again after a transient failure.
        let reason = match sink.put_batch(&remaining).await {
            Ok(unprocessed) => {
                outcome.written += sent.saturating_sub(unprocessed.len() as u64);
                if unprocessed.is_empty() {
                    return Ok(());
                }
                remaining = unprocessed;
                format!("{} item(s) unprocessed", remaining.len())
            }
            Err(error) if error.kind == FailureKind::Permanent && error.content_refused => {
                return Err(Unwritten::Refused {
                    items: remaining,
                    reason: error.message,
                });
            }
            Err(error) if error.kind == FailureKind::Permanent => {
                return Err(Unwritten::GaveUp {
                    items: remaining,
                    attempts: attempt,
                    cause: error.message,
                    kind: FailureKind::Permanent,
                });
            }
            Err(error) => error.message,
        };
        let delay = match options
            .retry
            .next_delay(attempt, time_left(options.latest_retry))
        {
            Ok(delay) => delay,
            Err(give_up) => {
                return Err(Unwritten::GaveUp {
                    items: remaining,
                    attempts: attempt,
                    cause: format!(
                        "still failing after {attempt} attempt(s){}, last: {reason}",
                        give_up.note()
                    ),
                    kind: FailureKind::Transient,
                });
            }
        };
        tracing::debug!(
            attempt,
            items = remaining.len(),
            delay_ms = delay.as_millis() as u64,
            reason = %reason,
            "retrying batch"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.cancelled() => {}
        }
    }
}

/// Ends a batch that cannot be written (`untried` are its items not sent yet); a batch that gave up
/// stops the other batches.
fn end_batch(
    mut outcome: BatchOutcome,
    unwritten: Unwritten,
    untried: Vec<Item>,
    stop: &CancellationToken,
) -> BatchOutcome {
    let (mut items, gave_up) = match unwritten {
        Unwritten::Stopped { items } => (items, None),
        Unwritten::GaveUp {
            items,
            attempts,
            cause,
            kind,
        } => (items, Some((attempts, cause, kind))),
        // Not reached: a refusal is answered by writing the items alone.
        Unwritten::Refused { items, reason } => (items, Some((1, reason, FailureKind::Permanent))),
    };
    items.extend(untried);
    outcome.not_written += items.len() as u64;
    let Some((attempts, error, kind)) = gave_up else {
        return outcome;
    };
    stop.cancel();
    let first_key = items.first().map_or_else(String::new, |item| {
        format!(
            "; first key not written: pk={} sk={}",
            item.key.pk, item.key.sk
        )
    });
    let cause = format!("{error}{first_key}");
    tracing::warn!(
        attempts,
        items_not_written = items.len(),
        cause = %cause,
        "giving up on batch"
    );
    outcome.cause = Some((cause, kind));
    outcome
}

#[cfg(test)]
mod tests;
