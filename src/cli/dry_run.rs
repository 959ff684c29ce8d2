//! `process --dry-run`: an [`ItemSink`] that prints each item as one JSON line instead of writing it.
//!
//! This is the command the performance work measures: one buffered stdout, no flush per item.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::item_json::{SharedText, write_item};
use crate::item::Item;
use crate::sink::{ItemSink, SinkError};

/// Where the dry run prints, shared by the sink and the command (which flushes it at the end and
/// stops early once the reader has closed it).
pub struct DryRunOutput<W> {
    out: Mutex<Printed<W>>,
    closed: AtomicBool,
}

/// The output, and the JSON of a string its last item shared with the next.
struct Printed<W> {
    out: W,
    shared: SharedText,
}

impl<W: Write> DryRunOutput<W> {
    pub fn new(out: W) -> Arc<Self> {
        Arc::new(DryRunOutput {
            out: Mutex::new(Printed {
                out,
                shared: SharedText::default(),
            }),
            closed: AtomicBool::new(false),
        })
    }

    /// Whether the reader has closed the output (`| head`): nothing more can be printed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Writes the buffered lines out. A closed output is no error: [`is_closed`](Self::is_closed)
    /// says it.
    pub fn flush(&self) -> io::Result<()> {
        let mut printed = self.lock();
        self.closed_is_no_error(printed.out.flush())
    }

    /// The printed lines so far (tests).
    pub fn with_inner<T>(&self, read: impl FnOnce(&W) -> T) -> T {
        read(&self.lock().out)
    }

    fn write_items(&self, items: &[Item]) -> io::Result<()> {
        if self.is_closed() {
            return Ok(());
        }
        let mut printed = self.lock();
        let Printed { out, shared } = &mut *printed;
        let written = items
            .iter()
            .try_for_each(|item| write_item(out, item, shared));
        self.closed_is_no_error(written)
    }

    /// A broken pipe marks the output closed; other errors (a full disk) stay errors.
    fn closed_is_no_error(&self, result: io::Result<()>) -> io::Result<()> {
        match result {
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                self.closed.store(true, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Printed<W>> {
        self.out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Prints items as JSON lines; "writes" everything it is given. Once the reader has closed the
/// output, items are dropped unprinted, without an error: the command notices and stops.
pub struct DryRunSink<W: Write + Send + 'static = BufWriter<Stdout>> {
    out: Arc<DryRunOutput<W>>,
}

impl DryRunSink {
    /// A sink printing to a buffered stdout, and the handle to flush it.
    pub fn stdout() -> (Self, Arc<DryRunOutput<BufWriter<Stdout>>>) {
        let out = DryRunOutput::new(BufWriter::with_capacity(1 << 16, io::stdout()));
        (
            DryRunSink {
                out: Arc::clone(&out),
            },
            out,
        )
    }
}

impl<W: Write + Send + 'static> DryRunSink<W> {
    pub fn new(out: Arc<DryRunOutput<W>>) -> Self {
        DryRunSink { out }
    }
}

impl<W: Write + Send + 'static> ItemSink for DryRunSink<W> {
    async fn put_batch(&self, items: &[Item]) -> Result<Vec<Item>, SinkError> {
        self.out.write_items(items).map_err(|error| {
            SinkError::permanent(format!("cannot print the items to stdout: {error}"))
        })?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::item_json::item_json;
    use crate::cli::item_json::tests::item;
    use crate::sink::FailureKind;

    #[tokio::test]
    async fn dry_run_sink_prints_one_line_per_item_in_order_and_writes_all() {
        let out = DryRunOutput::new(Vec::new());
        let sink = DryRunSink::new(Arc::clone(&out));
        let mut second = item();
        second.key.sk = "2023-05-01T11:00:00Z#e2".into();
        let unprocessed = sink.put_batch(&[item(), second.clone()]).await.unwrap();
        assert!(unprocessed.is_empty());
        let printed = out.with_inner(|bytes| String::from_utf8(bytes.clone()).unwrap());
        assert_eq!(
            printed,
            format!("{}\n{}\n", item_json(&item()), item_json(&second))
        );
        assert!(!out.is_closed());
    }

    /// An output that fails every write with `error`, counting the attempts.
    struct Failing {
        error: io::ErrorKind,
        writes: usize,
    }

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            Err(self.error.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_closed_stdout_marks_the_output_closed_without_a_failure_and_prints_no_more() {
        let out = DryRunOutput::new(Failing {
            error: io::ErrorKind::BrokenPipe,
            writes: 0,
        });
        let sink = DryRunSink::new(Arc::clone(&out));
        assert!(sink.put_batch(&[item()]).await.unwrap().is_empty());
        assert!(out.is_closed());
        let writes = out.with_inner(|failing| failing.writes);
        assert!(sink.put_batch(&[item(), item()]).await.is_ok());
        assert_eq!(out.with_inner(|failing| failing.writes), writes);
    }

    #[tokio::test]
    async fn another_write_error_is_a_permanent_failure() {
        let out = DryRunOutput::new(Failing {
            error: io::ErrorKind::StorageFull,
            writes: 0,
        });
        let error = DryRunSink::new(Arc::clone(&out))
            .put_batch(&[item()])
            .await
            .unwrap_err();
        assert_eq!(error.kind, FailureKind::Permanent);
        assert!(!out.is_closed());
    }
}
