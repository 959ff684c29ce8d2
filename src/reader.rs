//! Byte stream -> records, one at a time (gzip sniffing, streaming JSON scan) (pure).
//! OWNER: helper "reader" (skeleton; to be replaced).

use std::io::Read;

/// How to read a log file.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Records whose `eventSource` is one of these are handed over; the others are only counted.
    pub event_sources: Vec<String>,
    /// The most decompressed bytes one object may have (SPEC: `MAX_OBJECT_BYTES`).
    pub max_decompressed_bytes: u64,
}

/// One record the reader hands over.
#[derive(Debug)]
pub enum RecordEvent<'a> {
    /// A record (a JSON object) whose `eventSource` is one of the configured ones. `raw` is its exact
    /// JSON text as it stands in the file.
    Matched { index: u64, raw: &'a [u8] },
    /// An element of `Records` that is not a JSON object.
    Rejected { index: u64, reason: String },
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
    #[error("the object is empty")]
    Empty,
    #[error("corrupt or truncated gzip data: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("reading the object failed: {0}")]
    Io(#[source] std::io::Error),
    #[error("invalid JSON at byte {offset} of the decompressed data: {message}")]
    Json { offset: u64, message: String },
    #[error("the file is not a JSON object with a `Records` array")]
    NoRecords,
    #[error("the object inflates past the limit of {limit} bytes (MAX_OBJECT_BYTES)")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Consumer(E),
}

/// Reads a whole log file, calling `on_record` for each matched or rejected record in file order.
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
    let _ = (input, options, on_record);
    todo!("helper: reader")
}
