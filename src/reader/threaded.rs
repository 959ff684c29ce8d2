//! Inflating on a second thread: the decoder fills chunks into a bounded channel while the
//! calling thread scans, so a log file takes about as long as the slower of the two.

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::decode::{Decoded, Source, SourceError};

/// Size of one inflated chunk.
const CHUNK_LEN: usize = 256 * 1024;
/// Chunks in flight: the inflating thread runs at most this far ahead of the scanner.
const CHUNKS_IN_FLIGHT: usize = 4;

type Chunk = Result<Vec<u8>, SourceError>;

/// The receiving end: decompressed bytes as they arrive from the inflating thread.
pub(super) struct Inflated {
    chunks: Receiver<Chunk>,
    current: Vec<u8>,
    read_upto: usize,
    gzip: bool,
    finished: bool,
}

/// Splits `decoded` into the inflating half (to run on its own thread) and the scanning half.
pub(super) fn split<R: Read>(decoded: Decoded<R>) -> (Inflater<R>, Inflated) {
    let gzip = decoded.is_gzip();
    let (sender, chunks) = sync_channel(CHUNKS_IN_FLIGHT);
    let inflater = Inflater { decoded, sender };
    let inflated = Inflated {
        chunks,
        current: Vec::new(),
        read_upto: 0,
        gzip,
        finished: false,
    };
    (inflater, inflated)
}

/// The sending end: owns the decoder.
pub(super) struct Inflater<R: Read> {
    decoded: Decoded<R>,
    sender: SyncSender<Chunk>,
}

impl<R: Read> Inflater<R> {
    /// Inflates until the end, the first error, or the scanner hanging up.
    pub(super) fn run(mut self) {
        loop {
            let mut chunk = vec![0; CHUNK_LEN];
            let sent = match self.decoded.read_into(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    self.sender.send(Ok(chunk))
                }
                Err(error) => {
                    let _ = self.sender.send(Err(error));
                    return;
                }
            };
            if sent.is_err() {
                // The scanner has stopped (an error, or the size cap): nothing more to do.
                return;
            }
        }
    }
}

impl Source for Inflated {
    fn read_into(&mut self, dst: &mut [u8]) -> Result<usize, SourceError> {
        while self.read_upto == self.current.len() {
            if self.finished {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.read_upto = 0;
                }
                Ok(Err(error)) => {
                    self.finished = true;
                    return Err(error);
                }
                Err(_) => {
                    self.finished = true;
                    return Ok(0);
                }
            }
        }
        let pending = self.current.get(self.read_upto..).unwrap_or_default();
        let n = pending.len().min(dst.len());
        if let (Some(to), Some(from)) = (dst.get_mut(..n), pending.get(..n)) {
            to.copy_from_slice(from);
        }
        self.read_upto += n;
        Ok(n)
    }

    fn is_gzip(&self) -> bool {
        self.gzip
    }
}
