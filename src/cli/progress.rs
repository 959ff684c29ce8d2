//! Backfill progress on stderr: a bar on a terminal, a plain line every few seconds otherwise.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;

use crate::summary::ObjectCounts;

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_LINE_EVERY: Duration = Duration::from_secs(10);

/// The bar on screen, if any: log lines are printed above it instead of through it.
static ACTIVE_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Where the CLI's logs go: stderr, above the progress bar when one is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

/// One log event, written out whole when dropped.
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let write = || {
            // A log line that cannot be written has nowhere else to go.
            let _ = std::io::stderr().lock().write_all(&self.0);
        };
        let bar = ACTIVE_BAR
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

fn set_active_bar(bar: Option<ProgressBar>) {
    *ACTIVE_BAR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = bar;
}

/// What is done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub files_total: u64,
    pub bytes_total: u64,
    pub files_done: u64,
    pub bytes_done: u64,
    pub records: u64,
    pub items: u64,
}

impl Tally {
    /// One line: files, bytes, records, items, rate and time left.
    pub fn line(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        let files_per_second = if seconds > 0.0 {
            self.files_done as f64 / seconds
        } else {
            0.0
        };
        let eta = if self.bytes_done > 0 && seconds > 0.0 {
            let bytes_left = self.bytes_total.saturating_sub(self.bytes_done) as f64;
            let bytes_per_second = self.bytes_done as f64 / seconds;
            format_duration(Duration::from_secs_f64(bytes_left / bytes_per_second))
        } else {
            "?".to_owned()
        };
        format!(
            "files {}/{}, {}/{}, records {}, items {}, {:.1} files/s, ETA {}",
            self.files_done,
            self.files_total,
            format_bytes(self.bytes_done),
            format_bytes(self.bytes_total),
            self.records,
            self.items,
            files_per_second,
            eta
        )
    }
}

/// Shows a backfill's progress.
pub struct Progress {
    tally: Tally,
    started: Instant,
    bar: Option<ProgressBar>,
    last_plain_line: Instant,
}

impl Progress {
    pub fn new(files_total: u64, bytes_total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(bytes_total);
            let style = ProgressStyle::with_template(
                "{wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}\n{msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            set_active_bar(Some(bar.clone()));
            bar
        });
        let now = Instant::now();
        Progress {
            tally: Tally {
                files_total,
                bytes_total,
                ..Tally::default()
            },
            started: now,
            bar,
            last_plain_line: now,
        }
    }

    /// Counts one finished file (processed, skipped or failed).
    pub fn file_done(&mut self, bytes: u64, counts: Option<&ObjectCounts>) {
        let tally = &mut self.tally;
        tally.files_done += 1;
        tally.bytes_done += bytes;
        if let Some(counts) = counts {
            tally.records += counts.records_read;
            tally.items += counts.items_written;
        }
        let elapsed = self.started.elapsed();
        match &self.bar {
            Some(bar) => {
                bar.set_position(tally.bytes_done);
                bar.set_message(tally.line(elapsed));
            }
            None => {
                let now = Instant::now();
                if now.duration_since(self.last_plain_line) >= PLAIN_LINE_EVERY {
                    self.last_plain_line = now;
                    note!("progress: {}", tally.line(elapsed));
                }
            }
        }
    }

    /// Clears the bar; the summary follows.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            set_active_bar(None);
            bar.finish_and_clear();
        }
    }
}

/// The counts of a map run on AWS, as one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapTally {
    pub files_total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl MapTally {
    /// Files done (succeeded or failed) of the total, failed, rate and time left.
    pub fn line(&self, elapsed: Duration) -> String {
        let done = self.succeeded + self.failed;
        let seconds = elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        };
        let eta = if done > 0 && rate > 0.0 {
            let left = self.files_total.saturating_sub(done) as f64;
            format_duration(Duration::from_secs_f64(left / rate))
        } else {
            "?".to_owned()
        };
        format!(
            "files {done}/{}, {} failed, {rate:.1} files/s, ETA {eta}",
            self.files_total, self.failed
        )
    }
}

/// Shows a map run's progress, from the counts Step Functions reports.
pub struct MapProgress {
    tally: MapTally,
    bar: Option<ProgressBar>,
    last_plain_line: Option<Instant>,
}

impl MapProgress {
    pub fn new(files_total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(files_total);
            let style = ProgressStyle::with_template("{wide_bar} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            set_active_bar(Some(bar.clone()));
            bar
        });
        MapProgress {
            tally: MapTally {
                files_total,
                ..MapTally::default()
            },
            bar,
            last_plain_line: None,
        }
    }

    /// The map run's item counts now.
    pub fn update(&mut self, succeeded: u64, failed: u64, elapsed: Duration) {
        self.tally.succeeded = succeeded;
        self.tally.failed = failed;
        let line = self.tally.line(elapsed);
        match &self.bar {
            Some(bar) => {
                bar.set_position(succeeded + failed);
                bar.set_message(line);
            }
            None => {
                let now = Instant::now();
                if self
                    .last_plain_line
                    .is_none_or(|last| now.duration_since(last) >= PLAIN_LINE_EVERY)
                {
                    self.last_plain_line = Some(now);
                    note!("progress: {line}");
                }
            }
        }
    }

    /// Clears the bar; the report follows.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            set_active_bar(None);
            bar.finish_and_clear();
        }
    }
}

fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS.get(unit).copied().unwrap_or("B")),
    }
}

fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_shows_files_bytes_records_items_rate_and_eta() {
        let tally = Tally {
            files_total: 10,
            bytes_total: 4 * 1024 * 1024,
            files_done: 5,
            bytes_done: 1024 * 1024,
            records: 1200,
            items: 30,
        };
        assert_eq!(
            tally.line(Duration::from_secs(10)),
            "files 5/10, 1.0 MiB/4.0 MiB, records 1200, items 30, 0.5 files/s, ETA 30s"
        );
    }

    #[test]
    fn eta_is_unknown_before_any_byte() {
        let tally = Tally {
            files_total: 1,
            bytes_total: 10,
            ..Tally::default()
        };
        assert!(tally.line(Duration::ZERO).ends_with("ETA ?"));
    }

    #[test]
    fn map_progress_line_shows_files_done_failed_rate_and_eta() {
        let tally = MapTally {
            files_total: 1_000,
            succeeded: 180,
            failed: 20,
        };
        assert_eq!(
            tally.line(Duration::from_secs(100)),
            "files 200/1000, 20 failed, 2.0 files/s, ETA 6m40s"
        );
    }

    #[test]
    fn durations_and_sizes_read_easily() {
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h02m");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
