//! The decompressed byte stream of one object: gzip sniffing, every gzip member, and telling a
//! corrupt gzip stream apart from a failing underlying reader.

use std::io::{self, BufReader, Chain, Cursor, ErrorKind, Read};

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// How much compressed input is read at a time. Each read of an S3 body (or a local file, through
/// the async runtime) is a round trip to another thread, so they are few and large: a 50 MB
/// object takes about fifty.
const COMPRESSED_READ_LEN: usize = 1024 * 1024;

/// Where the scanner's decompressed bytes come from.
pub(super) trait Source {
    /// Reads decompressed bytes into `dst`; `Ok(0)` at the end of the stream.
    fn read_into(&mut self, dst: &mut [u8]) -> Result<usize, SourceError>;

    /// Whether the bytes come out of gzip (whose damage can show up as bad JSON first).
    fn is_gzip(&self) -> bool;
}

/// Why the decompressed stream could not be read.
#[derive(Debug)]
pub(super) enum SourceError {
    /// The object has no bytes at all.
    Empty,
    /// The underlying reader failed.
    Io(io::Error),
    /// The gzip data is corrupt or truncated.
    Gzip(io::Error),
}

/// The object's bytes with the sniffed head put back in front.
type Rejoined<R> = Chain<Cursor<Vec<u8>>, R>;

/// The decompressed bytes of an object, gzip or plain.
pub(super) enum Decoded<R: Read> {
    Plain(Rejoined<R>),
    Gzip(Box<MultiGzDecoder<BufReader<FailureWatch<Rejoined<R>>>>>),
}

impl<R: Read> Decoded<R> {
    /// Sniffs the gzip magic bytes and picks the decoder.
    pub(super) fn open(mut raw: R) -> Result<Self, SourceError> {
        let mut head = [0u8; 2];
        let mut head_len = 0;
        while head_len < head.len() {
            match raw.read(&mut head[head_len..]) {
                Ok(0) => break,
                Ok(n) => head_len += n,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(SourceError::Io(error)),
            }
        }
        if head_len == 0 {
            return Err(SourceError::Empty);
        }
        let is_gzip = head_len == head.len() && head == GZIP_MAGIC;
        let rejoined = Cursor::new(head[..head_len].to_vec()).chain(raw);
        Ok(if is_gzip {
            let watched = FailureWatch {
                inner: rejoined,
                failed: false,
            };
            let buffered = BufReader::with_capacity(COMPRESSED_READ_LEN, watched);
            Self::Gzip(Box::new(MultiGzDecoder::new(buffered)))
        } else {
            Self::Plain(rejoined)
        })
    }
}

impl<R: Read> Source for Decoded<R> {
    fn is_gzip(&self) -> bool {
        matches!(self, Self::Gzip(_))
    }

    fn read_into(&mut self, dst: &mut [u8]) -> Result<usize, SourceError> {
        loop {
            let result = match self {
                Self::Plain(plain) => plain.read(dst).map_err(SourceError::Io),
                Self::Gzip(decoder) => decoder.read(dst).map_err(|error| {
                    // flate2 passes the underlying reader's errors through unchanged, so only the
                    // watch can tell them apart from errors in the compressed data.
                    if decoder.get_ref().get_ref().failed {
                        SourceError::Io(error)
                    } else {
                        SourceError::Gzip(error)
                    }
                }),
            };
            match result {
                Err(SourceError::Io(error) | SourceError::Gzip(error))
                    if error.kind() == ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

/// Remembers whether the wrapped reader ever failed.
pub(super) struct FailureWatch<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for FailureWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        if let Err(error) = &result
            && error.kind() != ErrorKind::Interrupted
        {
            self.failed = true;
        }
        result
    }
}
