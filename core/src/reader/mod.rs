//! Byte stream -> records, one at a time (gzip sniffing, streaming JSON scan) (pure).
//!
//! The object's bytes go through gunzip when they start with the gzip magic (every member is
//! read), then through a scanner that validates the JSON text as it streams by and walks the
//! top-level `Records` array one element at a time. Memory stays flat: a fixed buffer, grown only
//! while one record longer than it is being scanned, and never past the record cap (a longer
//! record is scanned on without being kept, then rejected). Only records of the configured event
//! sources are handed over, as their exact bytes; the others are counted and never built.
//!
//! [`read_log`] does it all on the calling thread; [`read_log_threaded`] inflates on a second
//! thread while the calling thread scans, for when gunzip and the scan each take a core.

mod decode;
mod input;
#[cfg(any(test, feature = "oracle"))]
pub mod oracle;
mod scan;
#[cfg(test)]
mod tests;
mod threaded;

use std::io::Read;

use decode::{Decoded, Source, SourceError};
use input::Input;
use scan::Scanner;

/// The usual size of the read buffer.
const BUFFER_LEN: usize = 256 * 1024;

/// How to read a log file.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Records whose `eventSource` is one of these are handed over; the others are only counted.
    pub event_sources: Vec<String>,
    /// The most decompressed bytes one object may have (SPEC: `MAX_OBJECT_BYTES`).
    pub max_decompressed_bytes: u64,
    /// The longest one record may be (SPEC: `MAX_RECORD_BYTES`): a longer one is rejected, and no
    /// more of it than this is ever held.
    pub max_record_bytes: u64,
}

/// One record the reader hands over.
#[derive(Debug)]
pub enum RecordEvent<'a> {
    /// A record (a JSON object) whose `eventSource` is one of the configured ones. `raw` is its exact
    /// JSON text as it stands in the file.
    Matched { index: u64, raw: CheckedRecord<'a> },
    /// An element of `Records` that is not a JSON object, or a record longer than
    /// [`ReaderOptions::max_record_bytes`].
    Rejected { index: u64, reason: String },
}

/// A record's exact JSON text as it stands in the file, checked by the scanner as it went by: valid
/// UTF-8, and one JSON object. Only the scanner makes one, so that
/// [`build_checked_items`](crate::audit::build_checked_items) can read its fields without checking
/// the whole text a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedRecord<'a>(&'a str);

impl<'a> CheckedRecord<'a> {
    /// A record the scanner has checked. Test builds check it again with the audit's own reading
    /// of the grammar, so that every test that scans a file also holds the two to each other.
    pub(crate) fn scanned(text: &'a str) -> Self {
        debug_assert!(
            crate::json::Raw::parse(text).is_ok_and(|raw| raw.is_object() && raw.get() == text),
            "the scanner handed over a record the audit does not read as one JSON object"
        );
        Self(text)
    }

    /// The record's text.
    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// The record's text, as bytes.
    pub fn as_bytes(self) -> &'a [u8] {
        self.0.as_bytes()
    }
}

/// What reading one file counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Elements of the `Records` array.
    pub records: u64,
    /// Records handed over as [`RecordEvent::Matched`].
    pub matched: u64,
    /// Records of other event sources.
    pub other: u64,
    /// Elements handed over as [`RecordEvent::Rejected`].
    pub rejected: u64,
    /// Bytes after decompression.
    pub decompressed_bytes: u64,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E: std::error::Error + 'static> {
    #[error("the object is empty (zero bytes); a CloudTrail log file is never empty")]
    Empty,
    #[error("corrupt or truncated gzip data: {0}; the object is damaged or was cut short")]
    Gzip(#[source] std::io::Error),
    #[error("reading the object failed: {0}")]
    Io(#[source] std::io::Error),
    #[error("invalid JSON at byte {offset} of the decompressed data: {message}")]
    Json { offset: u64, message: String },
    #[error(
        "the file is not a JSON object with one `Records` array; it is not a CloudTrail log file"
    )]
    NoRecords,
    #[error(
        "the object inflates past the limit of {limit} bytes; raise MAX_OBJECT_BYTES if it is genuine"
    )]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Consumer(E),
}

/// Reads a whole log file, calling `on_record` for each matched or rejected record in file order.
///
/// An error returned by `on_record` stops reading at once and comes back as
/// [`ReadError::Consumer`].
pub fn read_log<R, E, F>(
    input: R,
    options: &ReaderOptions,
    on_record: F,
) -> Result<ReadStats, ReadError<E>>
where
    R: Read,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    read_on_one_thread(input, options, on_record, BUFFER_LEN).map_err(|(error, _)| error)
}

/// [`read_log`] with inflation on a second thread: the decoder runs ahead of the scanner by a few
/// chunks at most, so memory stays flat. Same records, counts and errors as [`read_log`].
pub fn read_log_threaded<R, E, F>(
    input: R,
    options: &ReaderOptions,
    on_record: F,
) -> Result<ReadStats, ReadError<E>>
where
    R: Read + Send,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    read_inflating_on_own_thread(input, options, on_record, BUFFER_LEN).map_err(|(error, _)| error)
}

/// Reads a whole log file with the thread layout that fits the CPU this process gets, and also
/// says, when reading stops with an error, what was counted up to there (the records read whole
/// before the failure), so that a failed file's counts reconcile.
///
/// With two cores or more ([`std::thread::available_parallelism`], which honours CPU affinity and
/// cgroup quotas), inflation runs on a second thread as in [`read_log_threaded`]; with one, both
/// take turns on the calling thread as in [`read_log`]: a second thread there only adds hand-overs
/// and a copy of every inflated byte.
pub fn read_log_counted<R, E, F>(
    input: R,
    options: &ReaderOptions,
    on_record: F,
) -> Result<ReadStats, (ReadError<E>, ReadStats)>
where
    R: Read + Send,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    if inflate_on_own_thread() {
        read_inflating_on_own_thread(input, options, on_record, BUFFER_LEN)
    } else {
        read_on_one_thread(input, options, on_record, BUFFER_LEN)
    }
}

/// Whether inflation gets a thread of its own: only when another core can run it meanwhile.
fn inflate_on_own_thread() -> bool {
    usable_cores() >= 2
}

/// The cores this process is worth keeping busy: those the OS shows it
/// (`std::thread::available_parallelism`, which honours CPU affinity and cgroup quotas), but on
/// Lambda no more than the function's memory pays for (see [`cores_to_use`]). The reader takes
/// one thread or two by it, and the Lambda sizes its async runtime by it.
pub fn usable_cores() -> usize {
    let visible = std::thread::available_parallelism().map_or(1, usize::from);
    let lambda_memory_mb = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        .ok()
        .and_then(|memory| memory.parse().ok());
    cores_to_use(visible, lambda_memory_mb)
}

/// Memory that buys one full vCPU on Lambda, which allots CPU in proportion to memory.
const LAMBDA_MB_PER_VCPU: u64 = 1_769;

/// The cores worth keeping busy: those the OS shows (affinity and cgroup quotas included), but on
/// Lambda (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE` set) no more than the function's memory pays for. Its
/// VM may show two cores to a function that gets a third of one (512 MB), and a second thread
/// there only costs CPU time, which is what is billed (`scripts/bench`, one core: 0.41 s of CPU
/// threaded against 0.35 s on one thread for the 200 MB file).
fn cores_to_use(visible: usize, lambda_memory_mb: Option<u64>) -> usize {
    let visible = visible.max(1);
    match lambda_memory_mb {
        Some(memory_mb) => {
            let paid_for = usize::try_from(memory_mb / LAMBDA_MB_PER_VCPU).unwrap_or(usize::MAX);
            visible.min(paid_for.max(1))
        }
        None => visible,
    }
}

/// The one-thread layout: gunzip and scan take turns on the calling thread.
fn read_on_one_thread<R, E, F>(
    input: R,
    options: &ReaderOptions,
    on_record: F,
    buffer_len: usize,
) -> Result<ReadStats, (ReadError<E>, ReadStats)>
where
    R: Read,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    scan(open(input)?, options, on_record, buffer_len)
}

/// The two-thread layout: gunzip on a thread of its own, the scan on the calling thread.
fn read_inflating_on_own_thread<R, E, F>(
    input: R,
    options: &ReaderOptions,
    on_record: F,
    buffer_len: usize,
) -> Result<ReadStats, (ReadError<E>, ReadStats)>
where
    R: Read + Send,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    let (inflater, inflated) = threaded::split(open(input)?);
    std::thread::scope(|scope| {
        scope.spawn(move || inflater.run());
        // Returning drops the receiving end, which stops the inflating thread before the join.
        scan(inflated, options, on_record, buffer_len)
    })
}

/// The input, gunzipped when it is gzip; nothing is counted yet when it cannot be opened.
fn open<R: Read, E: std::error::Error + 'static>(
    input: R,
) -> Result<Decoded<R>, (ReadError<E>, ReadStats)> {
    Decoded::open(input).map_err(|error| (error.into(), ReadStats::default()))
}

impl<E: std::error::Error + 'static> From<SourceError> for ReadError<E> {
    fn from(error: SourceError) -> Self {
        match error {
            SourceError::Empty => ReadError::Empty,
            SourceError::Io(error) => ReadError::Io(error),
            SourceError::Gzip(error) => ReadError::Gzip(error),
        }
    }
}

/// Scans the decompressed stream for records; when it stops with an error, also gives what was
/// counted up to there.
fn scan<S, E, F>(
    source: S,
    options: &ReaderOptions,
    on_record: F,
    buffer_len: usize,
) -> Result<ReadStats, (ReadError<E>, ReadStats)>
where
    S: Source,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    let input = Input::new(
        source,
        buffer_len,
        options.max_decompressed_bytes,
        options.max_record_bytes,
    );
    let mut scanner = Scanner::new(input, &options.event_sources, on_record);
    let scanned = scanner.document();
    let mut stats = scanner.stats.clone();
    stats.decompressed_bytes = scanner.input.total();
    match scanned {
        Ok(()) => Ok(stats),
        Err(ReadError::Json { offset, message }) => {
            let error = match scanner.input.gzip_error_further_on() {
                Some(error) => ReadError::Gzip(error),
                None => ReadError::Json { offset, message },
            };
            Err((error, stats))
        }
        Err(error) => Err((error, stats)),
    }
}
