//! The per-object step: one object is opened, read, its items written and its processing
//! recorded, under the object's gate (key class, allowed buckets), its read-retry policy and the
//! invocation's deadline. Every trigger's objects take this same path (see [`crate::invocation`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::audit::AuditContext;
use crate::config::Config;
use crate::handover::{self, WriterStopped};
use crate::ledger::{FileLedger, FileSeen, LedgerError, NoLedger};
use crate::log_key;
use crate::reader::{ReadError, ReaderOptions};
use crate::retry::FailureKind;
use crate::sink::ItemSink;
use crate::source::{ObjectLocation, ObjectSource, SourceError};
use crate::summary::ObjectCounts;
use crate::writer::{WriteError, WriterOptions};

/// Reads of one object, the first included, when its connection fails mid-body. The SDK retries
/// opening an object, but not a body cut short; reading again from the start is safe because item
/// writes are idempotent.
pub const READ_ATTEMPTS: u32 = 3;

/// How objects are processed, besides [`Config`].
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub writer: WriterOptions,
    /// No new object is started when less than this much time is left before the deadline.
    pub deadline_margin: Duration,
    /// Skip objects whose key (or file path) is not a CloudTrail log file name. The CLI turns it
    /// off for files named explicitly on its command line.
    pub classify_keys: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            writer: WriterOptions::default(),
            deadline_margin: Duration::from_secs(5),
            classify_keys: true,
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
    #[error("its items are written but it could not be recorded as done: {0}")]
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

impl ObjectError {
    /// Whether processing the object again may succeed: throttling, 5xx, timeouts, a connection
    /// that failed, the deadline. Missing or refused objects, damaged or oversized files and items
    /// the table refuses are not.
    pub fn is_transient(&self) -> bool {
        match self {
            ObjectError::Source(error) => error.is_transient(),
            ObjectError::Write(error) => error.kind == FailureKind::Transient,
            // The ledger's own retries are spent; what stopped them is most likely passing.
            ObjectError::ReadInterrupted { .. }
            | ObjectError::Ledger(_)
            | ObjectError::DeadlineNear
            | ObjectError::DeadlineExceeded => true,
            ObjectError::BucketNotAllowed { .. }
            | ObjectError::Read(_)
            | ObjectError::Unreconciled { .. }
            | ObjectError::ReaderThread(_) => false,
        }
    }
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

/// What became of one object.
#[derive(Debug)]
pub enum ObjectOutcome {
    Processed(ObjectCounts),
    Skipped(&'static str),
    Failed(ObjectFailure),
}

impl ObjectOutcome {
    /// Whether the object failed because there is none under its key.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            ObjectOutcome::Failed(ObjectFailure {
                error: ObjectError::Source(SourceError::NotFound),
                ..
            })
        )
    }
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
    /// A pipeline that writes the event items alone (see [`Pipeline::with_ledger`]).
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
    /// Writes the seen items `ledger` asks for with each file's items, and tells it of each file
    /// done.
    pub fn with_ledger<M: FileLedger>(self, ledger: M) -> Pipeline<S, K, M> {
        Pipeline {
            source: self.source,
            sink: self.sink,
            ledger,
            config: self.config,
            options: self.options,
        }
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

    /// Writes the object's items (with their seen items), then tells the ledger the file is done.
    async fn process_and_record(
        &self,
        object: &ObjectLocation,
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
        let counts = self.read_with_retries(object).await?;
        match self.ledger.file_done(&object.to_string(), &counts).await {
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
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
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
                Ok(mut counts) => {
                    counts.write_requests += earlier_write_requests;
                    return Ok(counts);
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
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
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
        let transfer = handover::transfer(
            body.watched(transport_failed),
            reader_options,
            self.audit_context(object),
            Arc::clone(&self.sink),
            self.options.writer.clone(),
            self.ledger.writes_seen_items().then(FileSeen::default),
        )
        .await
        .map_err(|error| {
            (
                ObjectError::ReaderThread(error.to_string()),
                ObjectCounts::default(),
            )
        })?;
        let mut counts = transfer.counts;
        if let Ok(report) = &transfer.write {
            // An item replaced in its batch by a later one with the same key (a record repeated in
            // the file) is covered by that write: it counts as written.
            counts.items_written = (report.items_written + report.duplicates_replaced)
                .saturating_sub(transfer.seen_items);
            counts.write_requests = report.batch_calls;
        }
        match (transfer.read, transfer.write) {
            (_, Err(error)) => Err((ObjectError::Write(error), counts)),
            (Err(error), Ok(_)) => Err((ObjectError::Read(error), counts)),
            (Ok(()), Ok(_)) => {
                if counts.records_reconcile() && counts.items_reconcile() {
                    Ok(counts)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::FailureKind;

    fn write_error(kind: FailureKind) -> ObjectError {
        ObjectError::Write(WriteError {
            items_not_written: 1,
            cause: "refused".to_owned(),
            kind,
        })
    }

    #[test]
    fn what_a_retry_may_fix_is_transient() {
        for error in [
            ObjectError::Source(SourceError::Other("GetObject failed: 503".to_owned())),
            write_error(FailureKind::Transient),
            ObjectError::ReadInterrupted {
                attempts: READ_ATTEMPTS,
                source: ReadError::Io(std::io::Error::other("reset")),
            },
            ObjectError::DeadlineNear,
            ObjectError::DeadlineExceeded,
        ] {
            assert!(error.is_transient(), "{error}");
        }
    }

    #[test]
    fn what_a_retry_cannot_fix_is_permanent() {
        for error in [
            ObjectError::Source(SourceError::NotFound),
            ObjectError::Source(SourceError::AccessDenied),
            ObjectError::Source(SourceError::Refused("InvalidObjectState".to_owned())),
            ObjectError::BucketNotAllowed {
                bucket: "b".to_owned(),
            },
            ObjectError::Read(ReadError::NoRecords),
            ObjectError::Read(ReadError::TooLarge { limit: 1 }),
            write_error(FailureKind::Permanent),
        ] {
            assert!(!error.is_transient(), "{error}");
        }
    }
}
