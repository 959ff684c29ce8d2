//! The per-object step: one object is opened, read, its items written and its processing
//! recorded, under the object's gate (key class, allowed buckets), its read-retry policy and the
//! invocation's deadline. Every trigger's objects take this same path (see [`crate::invocation`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::audit::{AuditContext, Retention};
use crate::config::Config;
use crate::handover::{self, WriterStopped};
use crate::ledger::{FileLedger, FileSeen, LedgerError, NoLedger};
use crate::log_key;
use crate::reader::{ReadError, ReaderOptions};
use crate::retry::{FailureKind, GiveUp};
use crate::sink::ItemSink;
use crate::source::{Location, ObjectSource, SourceError};
use crate::summary::{InvocationSummary, ObjectCounts};
use crate::writer::{WriteError, WriterOptions, time_left};

/// How objects are processed, besides [`Config`].
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// The writer's batching and its retry budget, which the object's reads share: an object is
    /// opened (`GetObject`) and read again after a transient failure or a body cut short as often
    /// as a batch is sent, with the same backoff, and never past the deadline less its margin.
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
    #[error(
        "cannot open the object after {attempts} attempt(s){note}: {source} (a transient fault: processing the object again will read it)"
    )]
    OpenFailed {
        attempts: u32,
        note: &'static str,
        source: SourceError,
    },
    #[error("cannot read the log file: {0}")]
    Read(ReadError<WriterStopped>),
    #[error(
        "the connection to S3 failed while reading the object, {attempts} time(s){note}; last: {source} (a transient fault: processing the object again will read it)"
    )]
    ReadInterrupted {
        attempts: u32,
        note: &'static str,
        source: ReadError<WriterStopped>,
    },
    #[error("cannot write its items: {0}")]
    Write(#[from] WriteError),
    #[error("its items are written but it could not be recorded as done: {0}")]
    Ledger(#[from] LedgerError),
    #[error(
        "not processed: the invocation was too close to its deadline (raise the function's timeout)"
    )]
    DeadlineNear,
    #[error(
        "stopped at the invocation's deadline before it was finished (raise the function's timeout)"
    )]
    DeadlineExceeded,
    #[error("counts do not reconcile ({counts:?}): this is a bug, please report it")]
    Unreconciled { counts: ObjectCounts },
}

impl ObjectError {
    /// Whether processing the object again may succeed: throttling, 5xx, timeouts, a connection
    /// that failed, the deadline. Missing or refused objects, damaged or oversized files and items
    /// the table refuses are not.
    pub fn is_transient(&self) -> bool {
        match self {
            ObjectError::Source(error) | ObjectError::OpenFailed { source: error, .. } => {
                error.is_transient()
            }
            ObjectError::Write(error) => error.kind == FailureKind::Transient,
            // The ledger's own retries are spent; what stopped them is most likely passing.
            ObjectError::ReadInterrupted { .. }
            | ObjectError::Ledger(_)
            | ObjectError::DeadlineNear
            | ObjectError::DeadlineExceeded => true,
            ObjectError::BucketNotAllowed { .. }
            | ObjectError::Read(_)
            | ObjectError::Unreconciled { .. } => false,
        }
    }
}

/// An object that failed, and why.
#[derive(Debug, thiserror::Error)]
#[error("{object}: {error}")]
pub struct ObjectFailure {
    /// The object's name (`s3://bucket/key`, or the CLI's `file://` path).
    pub object: String,
    pub error: ObjectError,
    /// What was counted before the failure.
    pub counts: ObjectCounts,
}

impl ObjectFailure {
    /// Whether the object's counts do not add up (records read ≠ A4B + other + rejected, or items
    /// written ≠ items built on an object otherwise processed): a bug, which `Unreconciled` alarms on.
    pub fn is_unreconciled(&self) -> bool {
        matches!(self.error, ObjectError::Unreconciled { .. }) || !self.counts.records_reconcile()
    }
}

/// What became of one object.
#[derive(Debug)]
pub enum ObjectOutcome {
    Processed(ObjectCounts),
    Skipped(&'static str),
    Failed(ObjectFailure),
}

impl ObjectOutcome {
    /// Adds what became of `object` to `summary` (the Lambda's invocations and the CLI's runs alike).
    pub fn add_to(&self, summary: &mut InvocationSummary, object: &impl std::fmt::Display) {
        match self {
            ObjectOutcome::Processed(counts) => summary.add_processed(counts),
            ObjectOutcome::Skipped(reason) => {
                summary.add_skipped(object.to_string(), (*reason).to_owned())
            }
            ObjectOutcome::Failed(failure) => summary.add_failed(
                object.to_string(),
                failure.error.to_string(),
                &failure.counts,
                failure.is_unreconciled(),
            ),
        }
    }

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
        object: &S::Location,
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
                object: object.to_string(),
                error,
                counts,
            })
        };
        if let Some(bucket) = object.bucket()
            && !self.config.bucket_allowed(bucket)
        {
            let bucket = bucket.to_owned();
            return failure(
                ObjectError::BucketNotAllowed { bucket },
                ObjectCounts::default(),
            );
        }
        // No attempt (the object's first included) starts within the margin before the deadline.
        let latest_start = deadline.map(|deadline| {
            deadline
                .checked_sub(self.options.deadline_margin)
                .unwrap_or(deadline)
        });
        if latest_start.is_some_and(|latest_start| Instant::now() >= latest_start) {
            return failure(ObjectError::DeadlineNear, ObjectCounts::default());
        }

        // Boxed: the nested futures of reading, writing, retrying and recording are otherwise too
        // deep for the compiler's layout computation, and one allocation per object costs nothing.
        let stop = CancellationToken::new();
        let mut work = Box::pin(self.process_and_record(object, &stop, latest_start));
        let result = match deadline {
            // Stop a little before Lambda would kill the process, so the error can be reported.
            Some(deadline) => {
                let stop_at = deadline
                    .checked_sub(self.options.deadline_margin / 2)
                    .unwrap_or(deadline);
                tokio::select! {
                    result = &mut work => result,
                    () = tokio::time::sleep_until(stop_at) => {
                        self.stop_at_deadline(object, &stop, work).await
                    }
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

    /// Stops an object at the deadline: its reading (the body, the reading and inflating threads)
    /// and its writer stop at once, and the object is reported only once they have, so that
    /// nothing of it runs on into the next invocation. Counts what it did up to there.
    async fn stop_at_deadline(
        &self,
        object: &S::Location,
        stop: &CancellationToken,
        work: std::pin::Pin<
            Box<impl Future<Output = Result<ObjectCounts, (ObjectError, ObjectCounts)>>>,
        >,
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
        stop.cancel();
        match tokio::time::timeout(self.options.deadline_margin / 4, work).await {
            // It finished just then.
            Ok(Ok(counts)) => Ok(counts),
            Ok(Err((_, counts))) => Err((ObjectError::DeadlineExceeded, counts)),
            Err(_) => {
                warn!(object = %object, "the object's reading did not stop within its grace period");
                Err((ObjectError::DeadlineExceeded, ObjectCounts::default()))
            }
        }
    }

    /// Writes the object's items (with their seen items), then tells the ledger the file is done.
    async fn process_and_record(
        &self,
        object: &S::Location,
        stop: &CancellationToken,
        latest_start: Option<Instant>,
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
        let counts = self.read_with_retries(object, stop, latest_start).await?;
        match self.ledger.file_done(&object.to_string(), &counts).await {
            Ok(()) => Ok(counts),
            Err(error) => Err((ObjectError::Ledger(error), counts)),
        }
    }

    /// Reads and writes the object, opening and reading it again after a transient failure to open
    /// it or a connection that failed mid-body, within the retry budget and before `latest_start`.
    /// Reading again from the start is safe because item writes are idempotent.
    ///
    /// The counts are those of the last read, but for `write_requests`, which counts the requests
    /// of every read: each was sent.
    async fn read_with_retries(
        &self,
        object: &S::Location,
        stop: &CancellationToken,
        latest_start: Option<Instant>,
    ) -> Result<ObjectCounts, (ObjectError, ObjectCounts)> {
        let retry = self.options.writer.retry;
        let mut attempt = 1;
        let mut earlier_write_requests = 0;
        loop {
            let transport_failed = Arc::new(AtomicBool::new(false));
            let outcome = self
                .read_and_write(object, Arc::clone(&transport_failed), stop, latest_start)
                .await;
            let (error, mut counts) = match outcome {
                Ok(mut counts) => {
                    counts.write_requests += earlier_write_requests;
                    return Ok(counts);
                }
                Err(failure) => failure,
            };
            counts.write_requests += earlier_write_requests;
            let retryable = match &error {
                ObjectError::Read(_) => transport_failed.load(Ordering::Relaxed),
                ObjectError::Source(source) => source.is_transient(),
                _ => false,
            };
            if !retryable {
                return Err((error, counts));
            }
            let give_up = match retry.next_delay(attempt, time_left(latest_start)) {
                Ok(delay) => {
                    warn!(
                        object = %object,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "reading the object failed (a transient fault): reading it again"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        // The deadline: reported by `stop_at_deadline`.
                        () = stop.cancelled() => return Err((error, counts)),
                    }
                    earlier_write_requests = counts.write_requests;
                    attempt += 1;
                    continue;
                }
                Err(give_up) => give_up,
            };
            return Err((gave_up(error, attempt, give_up), counts));
        }
    }

    async fn read_and_write(
        &self,
        object: &S::Location,
        transport_failed: Arc<AtomicBool>,
        stop: &CancellationToken,
        latest_start: Option<Instant>,
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
            WriterOptions {
                latest_retry: latest_start,
                ..self.options.writer.clone()
            },
            self.ledger.writes_seen_items().then(FileSeen::default),
            stop.clone(),
        )
        .await;
        let mut counts = transfer.counts;
        let report = match &transfer.write {
            Ok(report) => report,
            // What was written before the failure counts too.
            Err(error) => &error.report,
        };
        // An item replaced in its batch by a later one with the same key (a record repeated in the
        // file) is covered by that write: it counts as written. Seen items are the ledger's, not
        // items built from records.
        counts.items_written =
            (report.items_written + report.duplicates_replaced).saturating_sub(transfer.seen_items);
        counts.write_requests = report.batch_calls;
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

    fn audit_context(&self, object: &S::Location) -> AuditContext {
        let now = jiff::Timestamp::now();
        AuditContext {
            source_object: object.to_string(),
            ingested_at: now.to_string(),
            retention: self.config.retention_days.map(|days| Retention {
                days,
                now: now.as_second(),
            }),
        }
    }
}

/// The error of an object whose reads were retried until `give_up`, after `attempts` attempts.
fn gave_up(error: ObjectError, attempts: u32, give_up: GiveUp) -> ObjectError {
    let note = give_up.note();
    match error {
        ObjectError::Read(source) => ObjectError::ReadInterrupted {
            attempts,
            note,
            source,
        },
        ObjectError::Source(source) => ObjectError::OpenFailed {
            attempts,
            note,
            source,
        },
        other => other,
    }
}

#[cfg(test)]
mod deadline_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::FailureKind;

    fn write_error(kind: FailureKind) -> ObjectError {
        ObjectError::Write(WriteError {
            items_not_written: 1,
            cause: "refused".to_owned(),
            kind,
            report: Default::default(),
            refused_records: Vec::new(),
        })
    }

    fn failed(error: ObjectError, counts: ObjectCounts) -> ObjectOutcome {
        ObjectOutcome::Failed(ObjectFailure {
            object: "s3://b/k".to_owned(),
            error,
            counts,
        })
    }

    #[test]
    fn a_failure_is_unreconciled_when_it_says_so_or_its_records_do_not_add_up() {
        let reconciled = ObjectCounts {
            records_read: 3,
            a4b_records: 1,
            other_records: 2,
            ..ObjectCounts::default()
        };
        let records_missing = ObjectCounts {
            records_read: 3,
            ..ObjectCounts::default()
        };
        let cases = [
            (ObjectError::DeadlineExceeded, reconciled, false),
            (ObjectError::DeadlineExceeded, records_missing, true),
            (
                ObjectError::Unreconciled { counts: reconciled },
                reconciled,
                true,
            ),
        ];
        for (error, counts, unreconciled) in cases {
            let ObjectOutcome::Failed(failure) = failed(error, counts) else {
                unreachable!()
            };
            assert_eq!(
                failure.is_unreconciled(),
                unreconciled,
                "{failure}: {counts:?}"
            );
        }
    }

    #[test]
    fn only_a_missing_object_is_not_found() {
        assert!(failed(SourceError::NotFound.into(), ObjectCounts::default()).is_not_found());
        for outcome in [
            failed(SourceError::AccessDenied.into(), ObjectCounts::default()),
            failed(SourceError::NoSuchBucket.into(), ObjectCounts::default()),
            failed(ObjectError::DeadlineNear, ObjectCounts::default()),
            ObjectOutcome::Processed(ObjectCounts::default()),
            ObjectOutcome::Skipped("digest file"),
        ] {
            assert!(!outcome.is_not_found(), "{outcome:?}");
        }
    }

    #[test]
    fn what_a_retry_may_fix_is_transient() {
        for error in [
            ObjectError::Source(SourceError::Other("GetObject failed: 503".to_owned())),
            write_error(FailureKind::Transient),
            ObjectError::ReadInterrupted {
                attempts: 10,
                note: "",
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

    /// A store that, on its first call, answers every item it was sent as unprocessed and one it
    /// was never sent besides: the writer then writes one item more than was built, as a counting
    /// bug would.
    #[derive(Default)]
    struct MiscountingSink {
        called: std::sync::atomic::AtomicBool,
    }

    impl ItemSink for MiscountingSink {
        async fn put_batch(
            &self,
            items: &[crate::item::Item],
        ) -> Result<Vec<crate::item::Item>, crate::sink::SinkError> {
            if self.called.swap(true, Ordering::SeqCst) {
                return Ok(Vec::new());
            }
            let mut items = items.to_vec();
            items.push(crate::item::Item::new(
                "USER#phantom".into(),
                "2024-01-01T00:00:00Z#phantom".into(),
            ));
            Ok(items)
        }
    }

    #[tokio::test]
    async fn an_object_whose_counts_do_not_add_up_raises_unreconciled() {
        let record = r#"{"eventID":"e1","eventTime":"2024-01-01T00:00:00Z","eventSource":"a4b.amazonaws.com"}"#;
        let location = crate::notification::ObjectRef {
            bucket: "trail".into(),
            key: "f.json".into(),
        };
        let source = crate::memory::MemorySource::default();
        source.put(
            location.clone(),
            format!(r#"{{"Records":[{record}]}}"#).into_bytes(),
        );
        let config =
            Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "audit".to_owned())).unwrap();
        let options = PipelineOptions {
            classify_keys: false,
            ..PipelineOptions::default()
        };
        let pipeline = Pipeline::new(source, MiscountingSink::default(), config, options);

        let ObjectOutcome::Failed(failure) = pipeline.process_object(&location, None).await else {
            panic!("the object must fail");
        };
        assert!(
            matches!(failure.error, ObjectError::Unreconciled { .. }),
            "{}",
            failure.error
        );
        assert!(failure.is_unreconciled());

        let mut summary = crate::summary::InvocationSummary::default();
        summary.add_failed(
            location.to_string(),
            failure.error.to_string(),
            &failure.counts,
            failure.is_unreconciled(),
        );
        let metrics = crate::metrics::invocation_metrics(&summary);
        assert!(metrics.contains(&("Unreconciled", 1)), "{metrics:?}");
        assert!(metrics.contains(&("ObjectsFailed", 1)), "{metrics:?}");
    }

    /// A body that streams records of another service without end (or, `stalled`, never yields
    /// a byte), counting the bytes read and noting when it is dropped.
    struct EndlessBody {
        started: bool,
        pending: Vec<u8>,
        stalled: bool,
        read: Arc<std::sync::atomic::AtomicU64>,
        dropped: Arc<AtomicBool>,
    }

    impl tokio::io::AsyncRead for EndlessBody {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buffer: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.stalled {
                return std::task::Poll::Pending;
            }
            if !self.started {
                self.started = true;
                self.pending.extend_from_slice(b"{\"Records\":[");
            }
            let record = b"{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"},";
            let before = buffer.filled().len();
            while buffer.remaining() > 0 {
                if self.pending.is_empty() {
                    self.pending.extend_from_slice(record);
                }
                let take = buffer.remaining().min(self.pending.len());
                buffer.put_slice(&self.pending[..take]);
                self.pending.drain(..take);
            }
            let filled = (buffer.filled().len() - before) as u64;
            self.read
                .fetch_add(filled, std::sync::atomic::Ordering::SeqCst);
            std::task::Poll::Ready(Ok(()))
        }
    }

    impl Drop for EndlessBody {
        fn drop(&mut self) {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }

    struct EndlessSource {
        stalled: bool,
        read: Arc<std::sync::atomic::AtomicU64>,
        dropped: Arc<AtomicBool>,
    }

    impl ObjectSource for EndlessSource {
        type Location = crate::notification::ObjectRef;

        async fn open(
            &self,
            _: &crate::notification::ObjectRef,
        ) -> Result<crate::source::ObjectBody, SourceError> {
            Ok(crate::source::ObjectBody {
                reader: Box::pin(EndlessBody {
                    started: false,
                    pending: Vec::new(),
                    stalled: self.stalled,
                    read: Arc::clone(&self.read),
                    dropped: Arc::clone(&self.dropped),
                }),
            })
        }
    }

    /// Runs an endless object against a deadline; returns the failure, the bytes read and whether
    /// the body was dropped when the object was reported.
    async fn stop_endless_object(
        stalled: bool,
    ) -> (ObjectFailure, Arc<std::sync::atomic::AtomicU64>, bool) {
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let dropped = Arc::new(AtomicBool::new(false));
        let source = EndlessSource {
            stalled,
            read: Arc::clone(&read),
            dropped: Arc::clone(&dropped),
        };
        let config =
            Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "audit".to_owned())).unwrap();
        let options = PipelineOptions {
            classify_keys: false,
            // Stopped 4 s after the start, with 1 s of grace: room for a loaded machine.
            deadline_margin: Duration::from_secs(4),
            ..PipelineOptions::default()
        };
        let pipeline = Pipeline::new(source, MiscountingSink::default(), config, options);
        let object = crate::notification::ObjectRef {
            bucket: "trail".into(),
            key: "endless.json".into(),
        };
        let deadline = Instant::now() + Duration::from_secs(6);
        let ObjectOutcome::Failed(failure) = pipeline.process_object(&object, Some(deadline)).await
        else {
            panic!("an endless object cannot finish");
        };
        let dropped_when_reported = dropped.load(Ordering::SeqCst);
        (failure, read, dropped_when_reported)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_object_stopped_at_the_deadline_stops_reading_before_it_is_reported() {
        let (failure, read, dropped) = stop_endless_object(false).await;
        assert!(
            matches!(failure.error, ObjectError::DeadlineExceeded),
            "{}",
            failure.error
        );
        assert!(dropped, "the reading thread still holds the body");
        let at_report = read.load(Ordering::SeqCst);
        assert!(at_report > 0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(read.load(Ordering::SeqCst), at_report, "reading ran on");
        // What was read before the stop is counted, and adds up.
        assert!(failure.counts.records_read > 0, "{:?}", failure.counts);
        assert!(failure.counts.records_reconcile(), "{:?}", failure.counts);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_object_stalled_on_its_body_at_the_deadline_is_stopped_too() {
        let (failure, read, dropped) = stop_endless_object(true).await;
        assert!(
            matches!(failure.error, ObjectError::DeadlineExceeded),
            "{}",
            failure.error
        );
        assert!(dropped, "the reading thread still waits on the body");
        assert_eq!(read.load(Ordering::SeqCst), 0);
    }
}
