//! An object's reads and writes against the invocation's deadline, over in-memory adapters: no
//! object is started, and no read or write is tried again, within the deadline margin; reads and
//! writes share one retry budget; the write requests of every read, cut short or not, are counted.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::item::Item;
use crate::ledger::MemoryTable;
use crate::notification::ObjectRef;
use crate::retry::{Backoff, RetryPolicy};
use crate::sink::SinkError;
use crate::source::ObjectBody;

/// A log file of one A4B record (two items: the user's and the resource's, or so).
const LOG: &[u8] = br#"{"Records":[{"eventID":"e1","eventTime":"2024-01-01T00:00:00Z","eventSource":"a4b.amazonaws.com","eventName":"CreateRoom"}]}"#;

/// What one `open` does.
#[derive(Debug, Clone)]
enum Open {
    /// Fails as S3 does when throttled (a transient failure).
    SlowDown,
    /// The object does not exist.
    Missing,
    /// Serves the first half of the log, then the connection is reset.
    CutShort,
    /// Serves the first half of the log, then never another byte.
    Stalls,
}

/// A source whose opens follow a script (then serve [`LOG`] whole; or fail, `always`), noting
/// when each open happened.
#[derive(Default)]
struct ScriptedSource {
    script: Mutex<VecDeque<Open>>,
    always: Option<Open>,
    opened_at: Mutex<Vec<Instant>>,
}

impl ScriptedSource {
    fn new(script: &[Open]) -> Self {
        ScriptedSource {
            script: Mutex::new(script.iter().cloned().collect()),
            ..ScriptedSource::default()
        }
    }

    fn always(open: Open) -> Self {
        ScriptedSource {
            always: Some(open),
            ..ScriptedSource::default()
        }
    }
}

impl ObjectSource for Arc<ScriptedSource> {
    type Location = ObjectRef;

    async fn open(&self, _: &ObjectRef) -> Result<ObjectBody, SourceError> {
        self.opened_at.lock().unwrap().push(Instant::now());
        let next = self.script.lock().unwrap().pop_front();
        let reader: std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>> =
            match next.or_else(|| self.always.clone()) {
                None => Box::pin(LOG),
                Some(Open::SlowDown) => {
                    return Err(SourceError::Other(
                        "GetObject failed with SlowDown (HTTP 503)".to_owned(),
                    ));
                }
                Some(Open::Missing) => return Err(SourceError::NotFound),
                Some(Open::CutShort) => {
                    let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
                    Box::pin(tokio::io::AsyncReadExt::chain(
                        &LOG[..LOG.len() / 2],
                        FailingRead(Some(reset)),
                    ))
                }
                Some(Open::Stalls) => Box::pin(tokio::io::AsyncReadExt::chain(
                    &LOG[..LOG.len() / 2],
                    StalledRead,
                )),
            };
        Ok(ObjectBody { reader })
    }
}

/// A stream that fails at once.
struct FailingRead(Option<std::io::Error>);

impl tokio::io::AsyncRead for FailingRead {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let error = self
            .0
            .take()
            .unwrap_or_else(|| std::io::Error::other("failed"));
        std::task::Poll::Ready(Err(error))
    }
}

/// A stream that never gives another byte, nor an error.
struct StalledRead;

impl tokio::io::AsyncRead for StalledRead {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Pending
    }
}

/// A table that is always throttled, noting when each batch was sent.
#[derive(Default)]
struct ThrottledTable {
    sent_at: Mutex<Vec<Instant>>,
}

impl ItemSink for Arc<ThrottledTable> {
    async fn put_batch(&self, _: &[Item]) -> Result<Vec<Item>, SinkError> {
        self.sent_at.lock().unwrap().push(Instant::now());
        Err(SinkError::transient("ThrottlingException".to_owned()))
    }
}

fn config() -> Config {
    Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "audit".to_owned())).unwrap()
}

/// `max_attempts` per request, waits of up to `delay`, and `margin` before the deadline.
fn options(max_attempts: u32, delay: Duration, margin: Duration) -> PipelineOptions {
    PipelineOptions {
        writer: WriterOptions {
            retry: RetryPolicy {
                max_attempts,
                backoff: Backoff {
                    base_delay: delay,
                    max_delay: delay,
                },
            },
            ..WriterOptions::default()
        },
        deadline_margin: margin,
        classify_keys: false,
    }
}

fn object() -> ObjectRef {
    ObjectRef {
        bucket: "trail".into(),
        key: "logs/f.json".into(),
    }
}

fn opens(source: &ScriptedSource) -> Vec<Instant> {
    source.opened_at.lock().unwrap().clone()
}

/// Processes the object of `source` into `table` with `options`, before `deadline`.
async fn process<K: ItemSink>(
    source: &Arc<ScriptedSource>,
    table: K,
    options: PipelineOptions,
    deadline: Option<Instant>,
) -> ObjectOutcome {
    Pipeline::new(Arc::clone(source), table, config(), options)
        .process_object(&object(), deadline)
        .await
}

/// `max_attempts` per request, waits of 1 ms, a margin of 1 s.
fn quick(max_attempts: u32) -> PipelineOptions {
    options(
        max_attempts,
        Duration::from_millis(1),
        Duration::from_secs(1),
    )
}

/// Processes the object of `source` into `table` with `config`, no deadline and quick retries: the
/// counts of an object that must be processed.
async fn processed<S: ObjectSource<Location = ObjectRef>>(
    source: S,
    table: &MemoryTable,
    config: Config,
) -> ObjectCounts {
    let outcome = Pipeline::new(source, table.clone(), config, quick(10))
        .process_object(&object(), None)
        .await;
    match outcome {
        ObjectOutcome::Processed(counts) => counts,
        other => panic!("the object must be processed, not {other:?}"),
    }
}

fn failure_of(outcome: ObjectOutcome) -> ObjectFailure {
    match outcome {
        ObjectOutcome::Failed(failure) => failure,
        other => panic!("the object must fail, not {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn no_object_is_started_within_the_deadline_margin() {
    let margin = Duration::from_secs(5);
    for left in [Duration::ZERO, margin / 2, margin] {
        let source = Arc::new(ScriptedSource::default());
        let options = options(10, Duration::from_millis(1), margin);
        let deadline = Instant::now() + left;
        let outcome = process(&source, MemoryTable::default(), options, Some(deadline)).await;
        let failure = failure_of(outcome);
        assert!(
            matches!(failure.error, ObjectError::DeadlineNear),
            "{left:?} left: {}",
            failure.error
        );
        assert!(opens(&source).is_empty(), "{left:?} left: opened");
    }
}

#[tokio::test(start_paused = true)]
async fn an_object_is_started_with_more_than_the_deadline_margin_left() {
    let margin = Duration::from_secs(5);
    let source = Arc::new(ScriptedSource::default());
    let options = options(10, Duration::from_millis(1), margin);
    let deadline = Instant::now() + margin + Duration::from_millis(1);
    let outcome = process(&source, MemoryTable::default(), options, Some(deadline)).await;
    assert!(
        !matches!(
            &outcome,
            ObjectOutcome::Failed(ObjectFailure {
                error: ObjectError::DeadlineNear,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(opens(&source).len(), 1);
}

// Real time: the body is read on a blocking thread, which keeps paused time from advancing.
#[tokio::test]
async fn an_object_that_stalls_is_stopped_before_the_deadline_and_fails_for_it() {
    let margin = Duration::from_secs(2);
    let source = Arc::new(ScriptedSource::always(Open::Stalls));
    let options = options(10, Duration::from_millis(1), margin);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3);
    let outcome = process(&source, MemoryTable::default(), options, Some(deadline)).await;
    let stopped_at = Instant::now();
    let failure = failure_of(outcome);
    assert!(
        matches!(failure.error, ObjectError::DeadlineExceeded),
        "{}",
        failure.error
    );
    assert!(failure.error.is_transient(), "{}", failure.error);
    // Not before half the margin before the deadline, and reported before the deadline.
    assert!(
        stopped_at >= deadline - margin / 2 && stopped_at < deadline,
        "stopped {:?} after the start, the deadline {:?} after it",
        stopped_at - started,
        deadline - started
    );
    assert_eq!(opens(&source).len(), 1);
}

/// A log whose first `cut_opens` opens are cut short after `cut` bytes (the connection reset), and
/// whose next opens serve it whole.
struct CutShortAt {
    log: Vec<u8>,
    cut: usize,
    cut_opens: u32,
    opens: Mutex<u32>,
}

impl ObjectSource for Arc<CutShortAt> {
    type Location = ObjectRef;

    async fn open(&self, _: &ObjectRef) -> Result<ObjectBody, SourceError> {
        let cut_short = {
            let mut opens = self.opens.lock().unwrap();
            *opens += 1;
            *opens <= self.cut_opens
        };
        let log = std::io::Cursor::new(self.log.clone());
        let reader: std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>> = if cut_short {
            let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
            Box::pin(tokio::io::AsyncReadExt::chain(
                tokio::io::AsyncReadExt::take(log, self.cut as u64),
                FailingRead(Some(reset)),
            ))
        } else {
            Box::pin(log)
        };
        Ok(ObjectBody { reader })
    }
}

#[tokio::test]
async fn the_write_requests_of_a_read_cut_short_are_counted_with_the_next_reads() {
    // 150 records of one item each: each of the two reads cut short hands over a bundle of 100
    // items (four requests) before the cut, the third writes all 150 (six).
    let records: Vec<String> = (0..150)
        .map(|n| {
            format!(
                r#"{{"eventID":"e{n:03}","eventTime":"2024-01-01T00:00:00Z","eventSource":"a4b.amazonaws.com","eventName":"CreateRoom"}}"#
            )
        })
        .collect();
    let log = format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes();
    let cut = log.len() * 9 / 10;
    let source = Arc::new(CutShortAt {
        log,
        cut,
        cut_opens: 2,
        opens: Mutex::new(0),
    });
    let table = MemoryTable::default();
    let counts = processed(Arc::clone(&source), &table, config()).await;
    assert_eq!(*source.opens.lock().unwrap(), 3);
    assert_eq!(counts.items_built, 150);
    assert_eq!(counts.items_written, 150);
    assert_eq!(counts.write_requests, table.batches(), "{counts:?}");
    assert_eq!(counts.write_requests, 4 + 4 + 6, "{counts:?}");
}

#[tokio::test]
async fn a_record_past_its_retention_is_counted_as_read_and_expired_and_writes_nothing() {
    // `LOG`'s record is of 2024-01-01: a day's retention is long past.
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("audit".to_owned()),
        "RETENTION_DAYS" => Some("1".to_owned()),
        _ => None,
    })
    .unwrap();
    let source = Arc::new(ScriptedSource::default());
    let table = MemoryTable::default();
    let counts = processed(Arc::clone(&source), &table, config).await;
    assert_eq!(counts.records_read, 1, "{counts:?}");
    assert_eq!(counts.a4b_records, 1, "{counts:?}");
    assert_eq!(counts.records_expired, 1, "{counts:?}");
    assert_eq!((counts.items_built, counts.items_written), (0, 0));
    assert!(counts.records_reconcile(), "{counts:?}");
    assert!(table.snapshot().is_empty());
}

#[tokio::test]
async fn a_record_repeated_in_its_file_counts_as_written_twice_and_reconciles() {
    // The second copy replaces the first in its batch (one key): both are covered by the write.
    let record = r#"{"eventID":"e1","eventTime":"2024-01-01T00:00:00Z","eventSource":"a4b.amazonaws.com","eventName":"CreateRoom"}"#;
    let log = format!(r#"{{"Records":[{record},{record}]}}"#).into_bytes();
    let source = Arc::new(CutShortAt {
        cut: log.len(),
        log,
        cut_opens: 0,
        opens: Mutex::new(0),
    });
    let table = MemoryTable::default();
    let counts = processed(Arc::clone(&source), &table, config()).await;
    assert_eq!(
        (counts.items_built, counts.items_written),
        (2, 2),
        "{counts:?}"
    );
    assert_eq!(table.snapshot().len(), 1);
}

#[tokio::test]
async fn failed_opens_and_bodies_cut_short_share_the_writers_budget() {
    let script = [Open::SlowDown, Open::CutShort, Open::SlowDown];
    // Three failures: a fourth attempt reads the object.
    let source = Arc::new(ScriptedSource::new(&script));
    let table = MemoryTable::default();
    let outcome = process(&source, table.clone(), quick(4), None).await;
    assert!(
        matches!(outcome, ObjectOutcome::Processed(_)),
        "{outcome:?}"
    );
    assert_eq!(opens(&source).len(), 4);
    assert!(!table.snapshot().is_empty());

    // A budget of three: the third failure ends it.
    let source = Arc::new(ScriptedSource::new(&script));
    let failure = failure_of(process(&source, MemoryTable::default(), quick(3), None).await);
    assert!(
        matches!(
            failure.error,
            ObjectError::OpenFailed {
                attempts: 3,
                note: "",
                ..
            }
        ),
        "{}",
        failure.error
    );
    assert!(failure.error.is_transient());
    assert_eq!(opens(&source).len(), 3);
}

#[tokio::test]
async fn a_body_cut_short_every_time_fails_after_the_budget_naming_the_attempts() {
    let source = Arc::new(ScriptedSource::always(Open::CutShort));
    let failure = failure_of(process(&source, MemoryTable::default(), quick(5), None).await);
    let message = failure.error.to_string();
    assert!(
        message.starts_with("the connection to S3 failed while reading the object, 5 time(s); "),
        "{message}"
    );
    assert_eq!(opens(&source).len(), 5);
}

#[tokio::test]
async fn a_missing_object_is_opened_once() {
    let source = Arc::new(ScriptedSource::always(Open::Missing));
    let outcome = process(&source, MemoryTable::default(), quick(10), None).await;
    assert!(outcome.is_not_found(), "{outcome:?}");
    assert_eq!(opens(&source).len(), 1);
}

/// Processes an object whose reads or writes fail without end (attempts without end, waits of up
/// to 40 ms) with 400 ms before its latest start and a margin of 2 s; checks that it failed as
/// transient, saying no time was left, at once rather than when the deadline stopped it. Gives the
/// latest start.
async fn fail_for_lack_of_time<K: ItemSink>(source: &Arc<ScriptedSource>, table: K) -> Instant {
    let margin = Duration::from_secs(2);
    let start = Instant::now();
    let latest_start = start + Duration::from_millis(400);
    let options = options(u32::MAX, Duration::from_millis(40), margin);
    let outcome = process(source, table, options, Some(latest_start + margin)).await;
    let reported = Instant::now();
    let failure = failure_of(outcome);
    let message = failure.error.to_string();
    assert!(
        message.contains("(no time left for another before the invocation's deadline)"),
        "{message}"
    );
    assert!(failure.error.is_transient());
    assert!(
        reported < latest_start + margin / 2,
        "{:?}",
        reported - start
    );
    latest_start
}

// Paused time: the clock moves only by the waits themselves, so a wait that a loaded machine
// oversleeps cannot push an attempt past the latest start and make the rule look broken.
#[tokio::test(start_paused = true)]
async fn no_read_is_tried_again_within_the_deadline_margin() {
    let source = Arc::new(ScriptedSource::always(Open::SlowDown));
    let latest_start = fail_for_lack_of_time(&source, MemoryTable::default()).await;
    let opens = opens(&source);
    assert!(opens.len() > 2, "{} opens", opens.len());
    assert!(opens.iter().all(|open| *open < latest_start), "{opens:?}");
}

// Real time (the object's reader runs on a blocking thread, and paused time would leap past it).
// A loaded machine may oversleep a wait chosen to end before the latest start, so a send is allowed
// up to `OVERSLEEP` after it: far less than the second until the deadline stops the object, where
// an ignored margin would keep sending.
#[tokio::test]
async fn no_write_is_tried_again_within_the_deadline_margin() {
    const OVERSLEEP: Duration = Duration::from_millis(150);
    let table = Arc::new(ThrottledTable::default());
    let source = Arc::new(ScriptedSource::default());
    let latest_start = fail_for_lack_of_time(&source, Arc::clone(&table)).await;
    let sent = table.sent_at.lock().unwrap().clone();
    assert!(sent.len() > 2, "{} batches", sent.len());
    assert!(
        sent.iter().all(|batch| *batch < latest_start + OVERSLEEP),
        "{sent:?}"
    );
}
