//! Inflating on a second thread: the decoder fills chunks into a bounded channel while the
//! calling thread scans, so a log file takes about as long as the slower of the two.
//!
//! The scanner hands each chunk back once it has copied it out, so the same few buffers go round
//! and round: a fresh chunk-sized allocation is mapped anew by the allocator and costs a page fault
//! for every 4 KiB written into it.

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use super::decode::{Decoded, Source, SourceError};

/// Size of one inflated chunk: large enough that handing chunks between the threads (a wake-up
/// each) costs little next to inflating them.
const CHUNK_LEN: usize = 1024 * 1024;
/// Chunks in flight: the inflating thread runs at most this far ahead of the scanner.
const CHUNKS_IN_FLIGHT: usize = 2;

type Chunk = Result<Vec<u8>, SourceError>;

/// The receiving end: decompressed bytes as they arrive from the inflating thread.
pub(super) struct Inflated {
    chunks: Receiver<Chunk>,
    /// Emptied chunks going back to the inflating thread for reuse.
    spent: Sender<Vec<u8>>,
    current: Vec<u8>,
    read_upto: usize,
    gzip: bool,
    finished: bool,
}

/// Splits `decoded` into the inflating half (to run on its own thread) and the scanning half.
pub(super) fn split<R: Read>(decoded: Decoded<R>) -> (Inflater<R>, Inflated) {
    let gzip = decoded.is_gzip();
    let (sender, chunks) = sync_channel(CHUNKS_IN_FLIGHT);
    // Unbounded, yet never longer than the chunks in flight: only sent chunks come back.
    let (spent, recycled) = channel();
    let inflater = Inflater {
        decoded,
        sender,
        recycled,
    };
    let inflated = Inflated {
        chunks,
        spent,
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
    recycled: Receiver<Vec<u8>>,
}

impl<R: Read> Inflater<R> {
    /// Inflates until the end, the first error, or the scanner hanging up.
    pub(super) fn run(mut self) {
        loop {
            let mut chunk = self.recycled.try_recv().unwrap_or_default();
            // A recycled chunk was truncated to what it held: its bytes are initialised already.
            chunk.resize(CHUNK_LEN, 0);
            let (filled, failure) = self.fill(&mut chunk);
            if filled > 0 {
                chunk.truncate(filled);
                if self.sender.send(Ok(chunk)).is_err() {
                    // The scanner has stopped (an error, or the size cap): nothing more to do.
                    return;
                }
            }
            match failure {
                Some(Err(error)) => {
                    let _ = self.sender.send(Err(error));
                    return;
                }
                Some(Ok(())) => return,
                None => {}
            }
        }
    }

    /// Inflates into `chunk` until it is full; returns how much it holds, and `Some` once the
    /// stream has ended (`Ok`) or failed (`Err`) after those bytes.
    fn fill(&mut self, chunk: &mut [u8]) -> (usize, Option<Result<(), SourceError>>) {
        let mut filled = 0;
        while let Some(room) = chunk.get_mut(filled..)
            && !room.is_empty()
        {
            match self.decoded.read_into(room) {
                Ok(0) => return (filled, Some(Ok(()))),
                Ok(n) => filled += n,
                Err(error) => return (filled, Some(Err(error))),
            }
        }
        (filled, None)
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
                    let spent = std::mem::replace(&mut self.current, chunk);
                    if spent.capacity() > 0 {
                        // The inflating thread may have finished already: then the chunk is freed.
                        let _ = self.spent.send(spent);
                    }
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
