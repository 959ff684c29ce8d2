//! Batching, bounded concurrency and retries in front of an [`ItemSink`](crate::sink::ItemSink).
//!
//! Items are gathered into batches of at most [`BATCH_SIZE`] distinct keys. Each full batch is
//! written by its own task, at most `max_in_flight` at once; `push` waits for a free slot, so
//! memory stays bounded. A task retries what the sink did not take (unprocessed items, transient
//! failures) with capped exponential backoff and full jitter. The first batch that cannot be
//! written stops every other task before its next attempt, and the writer fails with the number
//! of items that were not written.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::item::Item;
use crate::retry::Backoff;
use crate::sink::{FailureKind, ItemSink};

/// BatchWriteItem's limit of put requests per call.
pub const BATCH_SIZE: usize = 25;

/// How the writer batches and retries.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Batches in flight at once.
    pub max_in_flight: usize,
    /// Attempts per batch (first try included) before the writer gives up.
    pub max_attempts: u32,
    /// First backoff delay; doubled each attempt, capped at `max_delay`, with full jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl WriterOptions {
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base_delay: self.base_delay,
            max_delay: self.max_delay,
        }
    }
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_in_flight: 8,
            max_attempts: 10,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
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
}

/// Collects items into batches of at most 25 distinct keys and writes them with bounded concurrency.
pub struct ItemWriter<S: ItemSink> {
    sink: Arc<S>,
    options: WriterOptions,
    pending: Vec<Item>,
    in_flight: JoinSet<BatchOutcome>,
    /// Items of each batch in flight, to count them if their task dies.
    in_flight_sizes: HashMap<Id, u64>,
    /// Cancelled by the first batch that fails, so the others stop before their next attempt.
    stop: CancellationToken,
    report: WriteReport,
    failure: Option<WriteError>,
}

impl<S: ItemSink> ItemWriter<S> {
    pub fn new(sink: Arc<S>, options: WriterOptions) -> Self {
        ItemWriter {
            sink,
            options,
            pending: Vec::with_capacity(BATCH_SIZE),
            in_flight: JoinSet::new(),
            in_flight_sizes: HashMap::new(),
            stop: CancellationToken::new(),
            report: WriteReport::default(),
            failure: None,
        }
    }

    /// Adds an item; waits when `max_in_flight` batches are already being written.
    ///
    /// Once the writer has failed, every call returns the error, counting the item as not written.
    pub async fn push(&mut self, item: Item) -> Result<(), WriteError> {
        self.collect_finished();
        if self.stop.is_cancelled() {
            self.settle_failure().await;
        }
        if self.failure.is_some() {
            self.count_not_written(1);
            return self.status();
        }
        // Linear search: a batch holds at most 25 items, cheaper than hashing every key.
        match self
            .pending
            .iter_mut()
            .find(|queued| queued.key == item.key)
        {
            Some(queued) => {
                *queued = item;
                self.report.duplicates_replaced += 1;
            }
            None => self.pending.push(item),
        }
        if self.pending.len() >= BATCH_SIZE {
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
        match self.status() {
            Err(failure) => {
                tracing::warn!(
                    items_written = self.report.items_written,
                    items_not_written = failure.items_not_written,
                    batch_calls = self.report.batch_calls,
                    "writer failed"
                );
                Err(failure)
            }
            Ok(()) => Ok(self.report),
        }
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
            return;
        }
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH_SIZE));
        let batch_size = batch.len() as u64;
        let task = write_batch(
            Arc::clone(&self.sink),
            batch,
            self.options.clone(),
            self.stop.clone(),
        );
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
        self.report.items_written += outcome.written;
        self.report.batch_calls += outcome.calls;
        self.report.retried_items += outcome.retried;
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
    fn count_not_written(&mut self, items: u64) -> &mut WriteError {
        let failure = self.failure.get_or_insert_with(|| WriteError {
            items_not_written: 0,
            cause: String::new(),
            kind: FailureKind::Transient,
        });
        failure.items_not_written += items;
        failure
    }

    /// The failure if there is one, with a cause even when no batch gave one.
    fn status(&self) -> Result<(), WriteError> {
        match &self.failure {
            None => Ok(()),
            Some(failure) if failure.cause.is_empty() => Err(WriteError {
                items_not_written: failure.items_not_written,
                cause: "the writer was stopped before every batch was written".to_owned(),
                kind: FailureKind::Transient,
            }),
            Some(failure) => Err(failure.clone()),
        }
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
}

/// Writes one batch, retrying unprocessed items and transient failures until `max_attempts`.
async fn write_batch<S: ItemSink>(
    sink: Arc<S>,
    batch: Vec<Item>,
    options: WriterOptions,
    stop: CancellationToken,
) -> BatchOutcome {
    let max_attempts = options.max_attempts.max(1);
    let mut outcome = BatchOutcome::default();
    let mut remaining = batch;
    let mut attempt: u32 = 0;
    loop {
        if stop.is_cancelled() {
            outcome.not_written = remaining.len() as u64;
            return outcome;
        }
        attempt += 1;
        outcome.calls += 1;
        if attempt > 1 {
            outcome.retried += remaining.len() as u64;
        }
        let sent = remaining.len() as u64;
        // The sink consumes the batch; a copy is kept to send again after a transient failure.
        let reason = match sink.put_batch(remaining.clone()).await {
            Ok(unprocessed) => {
                outcome.written += sent.saturating_sub(unprocessed.len() as u64);
                if unprocessed.is_empty() {
                    return outcome;
                }
                remaining = unprocessed;
                format!("{} item(s) unprocessed", remaining.len())
            }
            Err(error) if error.kind == FailureKind::Permanent => {
                let failure = (error.message.as_str(), FailureKind::Permanent);
                return give_up(outcome, &remaining, attempt, failure, &stop);
            }
            Err(error) => error.message,
        };
        if attempt >= max_attempts {
            let cause = format!("still failing after {attempt} attempt(s), last: {reason}");
            let failure = (cause.as_str(), FailureKind::Transient);
            return give_up(outcome, &remaining, attempt, failure, &stop);
        }
        let delay = options.backoff().delay(attempt - 1);
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

/// Ends a batch that cannot be written, and stops the other batches.
fn give_up(
    mut outcome: BatchOutcome,
    remaining: &[Item],
    attempts: u32,
    (error, kind): (&str, FailureKind),
    stop: &CancellationToken,
) -> BatchOutcome {
    stop.cancel();
    let first_key = remaining.first().map_or_else(String::new, |item| {
        format!(
            "; first key not written: pk={} sk={}",
            item.key.pk, item.key.sk
        )
    });
    let cause = format!("{error}{first_key}");
    tracing::warn!(
        attempts,
        items_not_written = remaining.len(),
        cause = %cause,
        "giving up on batch"
    );
    outcome.not_written = remaining.len() as u64;
    outcome.cause = Some((cause, kind));
    outcome
}

#[cfg(test)]
mod tests;
