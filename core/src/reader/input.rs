//! A window over the decompressed stream: a fixed buffer refilled from the source, UTF-8 checked
//! as it arrives, the size cap enforced while reading, and the record being scanned kept whole.

use super::ReadError;
use super::decode::{Source, SourceError};

pub(super) struct Input<S: Source> {
    source: S,
    /// `buf[..end]` holds data; the scanner may look at `buf[pos..checked]`, which is valid UTF-8.
    buf: Vec<u8>,
    /// The buffer length to return to once an oversized record has passed.
    usual_len: usize,
    pos: usize,
    checked: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Start of the record being scanned: bytes from here on must stay in the buffer.
    keep: Option<usize>,
    /// Stream offset of the record being scanned, kept or not.
    record_start: u64,
    /// The longest record kept; past it the record is let go (see [`Self::kept`]).
    record_cap: u64,
    /// `buf[checked]` starts an invalid UTF-8 sequence.
    bad_utf8: bool,
    eof: bool,
    total: u64,
    limit: u64,
}

impl<S: Source> Input<S> {
    pub(super) fn new(source: S, buffer_len: usize, limit: u64, record_cap: u64) -> Self {
        let usual_len = buffer_len.max(1);
        Self {
            source,
            buf: vec![0; usual_len],
            usual_len,
            pos: 0,
            checked: 0,
            end: 0,
            base: 0,
            keep: None,
            record_start: 0,
            record_cap,
            bad_utf8: false,
            eof: false,
            total: 0,
            limit,
        }
    }

    /// The bytes available to scan without reading more.
    #[inline]
    pub(super) fn avail(&self) -> &[u8] {
        self.buf.get(self.pos..self.checked).unwrap_or_default()
    }

    #[inline]
    pub(super) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.checked);
    }

    /// The next byte, reading more when needed; `None` at the end of the stream.
    #[inline]
    pub(super) fn peek<E: std::error::Error>(&mut self) -> Result<Option<u8>, ReadError<E>> {
        loop {
            if let Some(&byte) = self.avail().first() {
                return Ok(Some(byte));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Stream offset of the next byte.
    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Decompressed bytes read so far.
    pub(super) fn total(&self) -> u64 {
        self.total
    }

    /// The longest record kept (`MAX_RECORD_BYTES`).
    pub(super) fn record_cap(&self) -> u64 {
        self.record_cap
    }

    /// Keeps the bytes from the current position in the buffer until [`Self::release`], as long as
    /// they are no more than the record cap.
    pub(super) fn keep_from_here(&mut self) {
        self.keep = Some(self.pos);
        self.record_start = self.offset();
    }

    /// The bytes from [`Self::keep_from_here`] to the current position; `Err` with their length
    /// when they are more than the record cap (then they were let go, or are about to be).
    pub(super) fn kept(&self) -> Result<&[u8], u64> {
        let len = self.offset() - self.record_start;
        match self.keep {
            Some(start) if len <= self.record_cap => {
                Ok(self.buf.get(start..self.pos).unwrap_or_default())
            }
            _ => Err(len),
        }
    }

    pub(super) fn release(&mut self) {
        self.keep = None;
    }

    /// Makes more bytes available after the current ones; `false` at the end of the stream.
    pub(super) fn fill<E: std::error::Error>(&mut self) -> Result<bool, ReadError<E>> {
        loop {
            if self.bad_utf8 {
                return Err(self.utf8_error());
            }
            if self.eof {
                if self.checked < self.end {
                    return Err(self.utf8_error());
                }
                return Ok(false);
            }
            // Compaction moves the bytes, so compare counts, not positions.
            let available_before = self.checked - self.pos;
            self.read_more()?;
            self.check_utf8();
            if self.checked - self.pos > available_before {
                return Ok(true);
            }
        }
    }

    /// The gzip error further on in the stream, if any, reading no further than the cap.
    ///
    /// Corrupt deflate data can inflate to garbage that fails as JSON before the gzip checksum
    /// is reached; the damaged gzip is then the cause worth reporting.
    pub(super) fn gzip_error_further_on(&mut self) -> Option<std::io::Error> {
        if !self.source.is_gzip() || self.eof {
            return None;
        }
        self.keep = None;
        while self.total <= self.limit {
            let room = self.buf.as_mut_slice();
            match self.source.read_into(room) {
                Ok(0) | Err(SourceError::Empty | SourceError::Io(_)) => return None,
                Ok(n) => self.total += n as u64,
                Err(SourceError::Gzip(error)) => return Some(error),
            }
        }
        None
    }

    fn utf8_error<E: std::error::Error>(&self) -> ReadError<E> {
        ReadError::Json {
            offset: self.base + self.checked as u64,
            message: "invalid UTF-8 (JSON text must be UTF-8)".to_owned(),
        }
    }

    fn read_more<E: std::error::Error>(&mut self) -> Result<(), ReadError<E>> {
        if let Some(keep) = self.keep
            && (self.end - keep) as u64 > self.record_cap
        {
            // Longer than any record may be: scan on without keeping it.
            self.keep = None;
        }
        self.compact();
        if self.end == self.buf.len() {
            // Only a record longer than the buffer gets here: grow to hold it, up to the cap and a
            // usual buffer's worth of room.
            let most = usize::try_from(self.record_cap)
                .unwrap_or(usize::MAX)
                .saturating_add(self.usual_len);
            let grown = self
                .buf
                .len()
                .saturating_mul(2)
                .min(most)
                .max(self.buf.len() + 1);
            self.buf.resize(grown, 0);
        }
        let room = self.buf.len() - self.end;
        // One byte past the cap is enough to know the object is too large.
        let allowed = (self.limit - self.total).saturating_add(1);
        let want = usize::try_from(allowed).map_or(room, |allowed| allowed.min(room));
        let dst = self
            .buf
            .get_mut(self.end..self.end + want)
            .unwrap_or_default();
        let n = self.source.read_into(dst)?;
        if n == 0 {
            self.eof = true;
            return Ok(());
        }
        self.total += n as u64;
        if self.total > self.limit {
            return Err(ReadError::TooLarge { limit: self.limit });
        }
        self.end += n;
        Ok(())
    }

    /// Drops the bytes before the current position (or the kept record) from the buffer.
    fn compact(&mut self) {
        let start = self.keep.unwrap_or(self.pos);
        if start > 0 {
            self.buf.copy_within(start..self.end, 0);
            self.base += start as u64;
            self.pos -= start;
            self.checked -= start;
            self.end -= start;
            self.keep = self.keep.map(|keep| keep - start);
        }
        if self.buf.len() > self.usual_len && self.end <= self.usual_len / 2 {
            self.buf.truncate(self.usual_len);
            self.buf.shrink_to_fit();
        }
    }

    /// Extends the checked region over the new bytes; an incomplete sequence at the end waits for
    /// more data.
    fn check_utf8(&mut self) {
        let unchecked = self.buf.get(self.checked..self.end).unwrap_or_default();
        // simdutf8 checks 32 or 64 bytes a step (AVX2 or SSE4.2, detected at run time); std's
        // from_utf8 is word-at-a-time on ASCII.
        match simdutf8::compat::from_utf8(unchecked) {
            Ok(_) => self.checked = self.end,
            Err(error) => {
                self.checked += error.valid_up_to();
                if error.error_len().is_some() {
                    self.bad_utf8 = true;
                }
            }
        }
    }
}
