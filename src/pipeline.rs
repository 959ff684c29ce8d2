//! One invocation: messages -> objects -> records -> items -> sink, and its summary.
//!
//! Each object is read on a blocking thread (gunzip and the record scanner are CPU work) while this
//! task writes the items it hands over, so reading and writing overlap and memory stays bounded by the
//! channel between them and the writer's batches in flight.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::io::SyncIoBridge;
use tracing::{debug, info, warn};

use crate::audit::{self, AuditContext};
use crate::config::Config;
use crate::item::Item;
use crate::ledger::{FileActivity, FileLedger, FileMarker, LedgerError, NoLedger, ProcessedBy};
use crate::log_key;
use crate::notification::{self, Notification};
use crate::reader::{self, ReadError, ReaderOptions, RecordEvent};
use crate::sink::ItemSink;
use crate::source::{ObjectLocation, ObjectSource, SourceError};
use crate::summary::{InvocationSummary, ObjectCounts};
use crate::writer::{ItemWriter, WriteError, WriterOptions};

/// Items the reading thread hands to the writer at a time. Each hand-over may wake the writer's
/// thread, so they go in bundles rather than one record at a time.
const ITEMS_PER_HANDOVER: usize = 100;
/// Bundles that may wait between the reading thread and the writer.
const HANDOVERS_IN_CHANNEL: usize = 8;

/// Reads of one object, the first included, when its connection fails mid-body. The SDK retries
/// opening an object, but not a body cut short; reading again from the start is safe because item
/// writes are idempotent.
pub const READ_ATTEMPTS: u32 = 3;

/// One SNS message of an event: its id (for logs) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    pub message_id: String,
    pub text: String,
}

/// How objects are processed, besides [`Config`].
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub writer: WriterOptions,
    /// No new object is started when less than this much time is left before the deadline.
    pub deadline_margin: Duration,
    /// Skip objects whose key (or file path) is not a CloudTrail log file name. The CLI turns it
    /// off for files named explicitly on its command line.
    pub classify_keys: bool,
    /// Who the file markers name as the processor.
    pub processed_by: ProcessedBy,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            writer: WriterOptions::default(),
            deadline_margin: Duration::from_secs(5),
            classify_keys: true,
            processed_by: ProcessedBy::Lambda,
        }
    }
}

/// Why one object failed. The object itself is named by [`ObjectFailure`].
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(
        "bucket {bucket:?} is not in ALLOWED_BUCKETS: the notification was refused (add the bucket to ALLOWED_BUCKETS if it is yours)"
    )]
    BucketNotAllowed { bucket: String },
    #[error("cannot open the object: {0}")]
    Source(#[from] SourceError),
    #[error("cannot read the log file: {0}")]
    Read(ReadError<WriterStopped>),
    #[error(
        "the connection to S3 failed while reading the object, {attempts} time(s); last: {source} (Lambda will retry the notification)"
    )]
    ReadInterrupted {
        attempts: u32,
        source: ReadError<WriterStopped>,
    },
    #[error("cannot write its items: {0}")]
    Write(#[from] WriteError),
    #[error("its items are written but its summaries or marker are not: {0}")]
    Ledger(#[from] LedgerError),
    #[error(
        "not processed: the invocation was too close to its deadline (raise the function's timeout; Lambda will retry the notification)"
    )]
    DeadlineNear,
    #[error(
        "stopped at the invocation's deadline before it was finished (raise the function's timeout; Lambda will retry the notification)"
    )]
    DeadlineExceeded,
    #[error("counts do not reconcile ({counts:?}): this is a bug, please report it")]
    Unreconciled { counts: ObjectCounts },
    #[error("the reading thread failed: {0}")]
    ReaderThread(String),
}

/// An object that failed, and why.
#[derive(Debug, thiserror::Error)]
#[error("{object}: {error}")]
pub struct ObjectFailure {
    pub object: ObjectLocation,
    pub error: ObjectError,
    /// What was counted before the failure.
    pub counts: ObjectCounts,
}

/// The writer stopped taking items, so reading stops too (its error is reported instead).
#[derive(Debug, thiserror::Error)]
#[error("the item writer stopped")]
pub struct WriterStopped;

/// What became of one object.
#[derive(Debug)]
pub enum ObjectOutcome {
    Processed(ObjectCounts),
    Skipped(&'static str),
    Failed(ObjectFailure),
}

/// Objects in, items out: the whole work of the function, independent of Lambda.
pub struct Pipeline<S, K, L = NoLedger> {
    source: S,
    sink: Arc<K>,
    ledger: L,
    config: Config,
    options: PipelineOptions,
}

impl<S: ObjectSource, K: ItemSink> Pipeline<S, K, NoLedger> {
    /// A pipeline that records no file markers or summaries (see [`Pipeline::with_ledger`]).
    pub fn new(source: S, sink: K, config: Config, options: PipelineOptions) -> Self {
        Pipeline {
            source,
            sink: Arc::new(sink),
            ledger: NoLedger,
            config,
            options,
        }
    }
}

impl<S: ObjectSource, K: ItemSink, L: FileLedger> Pipeline<S, K, L> {
    /// Records each processed file's summaries and marker in `ledger` once its items are written.
    pub fn with_ledger<M: FileLedger>(self, ledger: M) -> Pipeline<S, K, M> {
        Pipeline {
            source: self.source,
            sink: self.sink,
            ledger,
            config: self.config,
            options: self.options,
        }
    }

    /// Processes every object the messages name, each once, and sums up.
    pub async fn run(
        &self,
        messages: &[SnsMessage],
        deadline: Option<Instant>,
    ) -> InvocationSummary {
        let mut summary = InvocationSummary {
            messages: messages.len() as u64,
            ..InvocationSummary::default()
        };
        let mut seen = BTreeSet::new();
        for message in messages {
            let objects = match notification::decode_message(&message.text) {
                Notification::Objects { objects, ignored } => {
                    for entry in &ignored {
                        warn!(message_id = %message.message_id, entry = %entry, "notification entry ignored");
                    }
                    if objects.is_empty() {
                        summary.messages_without_objects += 1;
                    }
                    objects
                }
                Notification::CloudTrailValidation => {
                    info!(message_id = %message.message_id, "CloudTrail validation message: nothing to do");
                    summary.messages_without_objects += 1;
                    continue;
                }
                Notification::S3TestEvent => {
                    info!(message_id = %message.message_id, "S3 test event: nothing to do");
                    summary.messages_without_objects += 1;
                    continue;
                }
                Notification::Unrecognized(reason) => {
                    warn!(
                        message_id = %message.message_id,
                        message_bytes = message.text.len(),
                        reason = %reason,
                        "message is neither a CloudTrail nor an S3 notification: ignored"
                    );
                    summary.messages_without_objects += 1;
                    continue;
                }
            };
            for object in objects {
                if !seen.insert(object.clone()) {
                    continue;
                }
                let uri = object.to_string();
                match self
                    .process_object(&ObjectLocation::S3(object), deadline)
                    .await
                {
                    ObjectOutcome::Processed(counts) => summary.add_processed(&counts),
                    ObjectOutcome::Skipped(reason) => {
                        info!(object = %uri, reason, "skipped");
                        summary.add_skipped(uri, reason.to_owned());
                    }
                    ObjectOutcome::Failed(failure) => {
                        summary.add_failed(uri, failure.error.to_string(), &failure.counts);
                    }
                }
            }
        }
        info!(
            messages = summary.messages,
            objects_processed = summary.objects_processed,
            objects_skipped = summary.objects_skipped,
            objects_failed = summary.objects_failed,
            records_read = summary.counts.records_read,
            a4b_records = summary.counts.a4b_records,
            other_records = summary.counts.other_records,
            records_rejected = summary.counts.records_rejected,
            items_built = summary.counts.items_built,
            items_written = summary.counts.items_written,
            write_requests = summary.counts.write_requests,
            "invocation summary"
        );
        summary
    }

    /// Processes one object: skipped when its key is no CloudTrail log file (unless
    /// [`PipelineOptions::classify_keys`] is off).
    pub async fn process_object(
        &self,
        object: &ObjectLocation,
        deadline: Option<Instant>,
    ) -> ObjectOutcome {
        if self.options.classify_keys
            && let Some(reason) = log_key::classify(&object.key_text()).skip_reason()
        {
            return ObjectOutcome::Skipped(reason);
        }
        let failure = |error: ObjectError, counts: ObjectCounts| {
            warn!(object = %object, error = %error, "object failed");
            ObjectOutcome::Failed(ObjectFailure {
                object: object.clone(),
                error,
                counts,
            })
        };
        if let ObjectLocation::S3(s3_object) = object
            && !self.config.bucket_allowed(&s3_object.bucket)
        {
            let bucket = s3_object.bucket.clone();
            return failure(
                ObjectError::BucketNotAllowed { bucket },
                ObjectCounts::default(),
            );
        }
        if deadline
            .is_some_and(|deadline| Instant::now() + self.options.deadline_margin >= deadline)
        {
            return failure(ObjectError::DeadlineNear, ObjectCounts::default());
        }

        // Boxed: the nested futures of reading, writing, retrying and recording are otherwise too
        // deep for the compiler's layout computation, and one allocation per object costs nothing.
        let work = Box::pin(self.process_and_record(object));
        let result = match deadline {
            // Stop a little before Lambda would kill the process, so the error can be reported.
            Some(deadline) => {
                let stop_at = deadline
                    .checked_sub(self.options.deadline_margin / 2)
                    .unwrap_or(deadline);
                match tokio::time::timeout_at(stop_at, work).await {
                    Ok(result) => result,
                    Err(_) => Err((ObjectError::DeadlineExceeded, ObjectCounts::default())),
                }
            }
            None => work.await,
        };
        match result {
            Ok(counts) => {
                info!(
                    object = %object,
                    records_read = counts.records_read,
                    a4b_records = counts.a4b_records,
                    records_rejected = counts.records_rejected,
                    items_written = counts.items_written,
                    "object processed"
                );
                ObjectOutcome::Processed(counts)
            }
            Err((error, counts)) => failure(error, counts),
        }
    }

    /// Writes the object's items, then records its summaries and marker.
    async fn process_and_record(
        &self,
        object: &ObjectLocation,
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
        let (counts, activity) = self.read_with_retries(object).await?;
        let source_object = object.to_string();
        let recorded = async {
            self.ledger
                .apply_summaries(&source_object, &activity.summary_updates())
                .await?;
            let marker = FileMarker {
                source_object: source_object.clone(),
                counts,
                processed_at: jiff::Timestamp::now().to_string(),
                processed_by: self.options.processed_by,
            };
            self.ledger.mark_processed(&marker).await
        };
        match recorded.await {
            Ok(()) => Ok(counts),
            Err(error) => Err((ObjectError::Ledger(error), counts)),
        }
    }

    /// Reads and writes the object, reading it again when its connection failed mid-body.
    ///
    /// The counts are those of the last read, but for `write_requests`, which counts the requests
    /// of every read: each was sent.
    async fn read_with_retries(
        &self,
        object: &ObjectLocation,
    ) -> Result<(ObjectCounts, FileActivity), (ObjectError, ObjectCounts)> {
        let mut attempt = 1;
        let mut earlier_write_requests = 0;
        loop {
            let transport_failed = Arc::new(AtomicBool::new(false));
            let outcome = self
                .read_and_write(object, Arc::clone(&transport_failed))
                .await;
            match outcome {
                Err((ObjectError::Read(error), counts))
                    if transport_failed.load(Ordering::Relaxed) && attempt < READ_ATTEMPTS =>
                {
                    warn!(object = %object, attempt, error = %error, "the connection failed while reading: reading the object again");
                    earlier_write_requests += counts.write_requests;
                    attempt += 1;
                }
                Err((ObjectError::Read(error), mut counts))
                    if transport_failed.load(Ordering::Relaxed) =>
                {
                    counts.write_requests += earlier_write_requests;
                    let error = ObjectError::ReadInterrupted {
                        attempts: attempt,
                        source: error,
                    };
                    return Err((error, counts));
                }
                Ok((mut counts, activity)) => {
                    counts.write_requests += earlier_write_requests;
                    return Ok((counts, activity));
                }
                Err((error, mut counts)) => {
                    counts.write_requests += earlier_write_requests;
                    return Err((error, counts));
                }
            }
        }
    }

    async fn read_and_write(
        &self,
        object: &ObjectLocation,
        transport_failed: Arc<AtomicBool>,
    ) -> Result<(ObjectCounts, FileActivity), (ObjectError, ObjectCounts)> {
        let body = self
            .source
            .open(object)
            .await
            .map_err(|error| (ObjectError::from(error), ObjectCounts::default()))?;

        let reader_options = ReaderOptions {
            event_sources: self.config.event_sources.clone(),
            max_decompressed_bytes: self.config.max_object_bytes,
            max_record_bytes: self.config.max_record_bytes,
        };
        let context = self.audit_context(object);
        let (items_tx, mut items_rx) = mpsc::channel::<Vec<Item>>(HANDOVERS_IN_CHANNEL);
        let uri = object.to_string();
        let input = SyncIoBridge::new(WatchedBody {
            inner: body.reader,
            failed: transport_failed,
        });
        let reading = tokio::task::spawn_blocking(move || {
            read_records(input, &reader_options, &context, &uri, items_tx)
        });

        let mut writer = ItemWriter::new(Arc::clone(&self.sink), self.options.writer.clone());
        let mut write_failure = None;
        let mut activity = FileActivity::default();
        'receive: while let Some(items) = items_rx.recv().await {
            for item in items {
                activity.observe(&item);
                if let Err(error) = writer.push(item).await {
                    write_failure = Some(error);
                    break 'receive;
                }
            }
        }
        // Closing the channel makes a reader that is still going stop at its next record.
        drop(items_rx);
        let write_result = match write_failure {
            Some(error) => Err(error),
            None => writer.finish().await,
        };

        let (read_result, mut counts) = reading.await.map_err(|error| {
            (
                ObjectError::ReaderThread(error.to_string()),
                ObjectCounts::default(),
            )
        })?;
        if let Ok(report) = &write_result {
            // An item replaced in its batch by a later one with the same key (a record repeated in
            // the file) is covered by that write: it counts as written.
            counts.items_written = report.items_written + report.duplicates_replaced;
            counts.write_requests = report.batch_calls;
        }
        match (read_result, write_result) {
            (_, Err(error)) => Err((ObjectError::Write(error), counts)),
            (Err(error), Ok(_)) => Err((ObjectError::Read(error), counts)),
            (Ok(()), Ok(_)) => {
                if counts.records_reconcile() && counts.items_reconcile() {
                    Ok((counts, activity))
                } else {
                    Err((ObjectError::Unreconciled { counts }, counts))
                }
            }
        }
    }

    fn audit_context(&self, object: &ObjectLocation) -> AuditContext {
        let now = jiff::Timestamp::now();
        let expires_at = self
            .config
            .retention_days
            .map(|days| now.as_second() + i64::from(days) * 86_400);
        AuditContext {
            source_object: object.to_string(),
            ingested_at: now.to_string(),
            expires_at,
        }
    }
}

/// An object's byte stream that notes when the stream itself failed (a connection reset, a body
/// cut short), as opposed to its bytes being wrong: only the former is worth reading again.
struct WatchedBody {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    failed: Arc<AtomicBool>,
}

impl AsyncRead for WatchedBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let polled = self.inner.as_mut().poll_read(context, buffer);
        if let Poll::Ready(Err(_)) = &polled {
            self.failed.store(true, Ordering::Relaxed);
        }
        polled
    }
}

/// Reads one file on the calling (blocking) thread, maps each handed-over record and sends its items.
/// Inflation runs on a second thread, so gunzip and the scan each take a core and a file takes about
/// as long as the slower of the two.
fn read_records(
    input: impl std::io::Read + Send,
    options: &ReaderOptions,
    context: &AuditContext,
    uri: &str,
    items_tx: mpsc::Sender<Vec<Item>>,
) -> (Result<(), ReadError<WriterStopped>>, ObjectCounts) {
    let mut counts = ObjectCounts::default();
    let mut mapping_rejected = 0;
    let mut bundle = Vec::with_capacity(ITEMS_PER_HANDOVER);
    let result = reader::read_log_threaded(input, options, |event| {
        match event {
            RecordEvent::Matched { index, raw } => match audit::build_items(raw, context) {
                Ok(items) => {
                    counts.a4b_records += 1;
                    counts.items_built += items.len() as u64;
                    if items_tx.is_closed() {
                        return Err(WriterStopped);
                    }
                    bundle.extend(items);
                    if bundle.len() >= ITEMS_PER_HANDOVER {
                        let full =
                            std::mem::replace(&mut bundle, Vec::with_capacity(ITEMS_PER_HANDOVER));
                        items_tx.blocking_send(full).map_err(|_| WriterStopped)?;
                    }
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
        if !bundle.is_empty() {
            items_tx
                .blocking_send(bundle)
                .map_err(|_| ReadError::Consumer(WriterStopped))?;
        }
        Ok(stats)
    });
    match result {
        Ok(stats) => {
            debug!(
                object = uri,
                decompressed_bytes = stats.decompressed_bytes,
                "file read"
            );
            counts.records_read = stats.records;
            counts.other_records = stats.other;
            counts.records_rejected = stats.rejected + mapping_rejected;
            (Ok(()), counts)
        }
        Err(error) => {
            counts.records_rejected += mapping_rejected;
            (Err(error), counts)
        }
    }
}
