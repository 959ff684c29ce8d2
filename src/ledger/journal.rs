//! The local journal of `a4b-audit backfill`: one line per log file whose items are all written,
//! which `--resume` reads to skip those files. It lives on the operator's disk, not in the table,
//! so that recording a file costs no DynamoDB write (most files of a backfill hold no A4B record
//! and cost nothing else).
//!
//! Each line is a JSON object `{"table":…,"object":"s3://bucket/key","done_at":…}`, appended and
//! flushed as each file finishes, so a run stopped at any point leaves every finished file in the
//! journal; at worst a line cut short by a crash is ignored, and that file is processed again
//! (its writes are idempotent). One journal may serve several tables: lines name theirs.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{FileLedger, LedgerError};
use crate::summary::ObjectCounts;

/// The journal file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} the backfill journal {path}: {source} (give another file with --journal)")]
pub struct JournalError {
    action: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

/// One line as written.
#[derive(Debug, Serialize)]
struct Line<'a> {
    table: &'a str,
    object: &'a str,
    done_at: &'a str,
}

/// One line as read back (owned: names may hold escapes).
#[derive(Debug, Deserialize)]
struct Entry {
    table: String,
    object: String,
}

/// An open journal, appending the files done into one table.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    table_name: String,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` to append the files done into `table_name`.
    pub fn open(path: &Path, table_name: &str) -> Result<Self, JournalError> {
        let error = |source| JournalError {
            action: "open",
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(error)?;
        // A line cut short by an earlier crash is ended, so that the next line stays whole.
        if !ends_with_newline(&mut file).map_err(error)? {
            file.write_all(b"\n").map_err(error)?;
        }
        Ok(Journal {
            path: path.to_owned(),
            table_name: table_name.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// The files the journal at `path` records as done into `table_name`; none when it does not
    /// exist yet.
    pub fn files_done(path: &Path, table_name: &str) -> Result<BTreeSet<String>, JournalError> {
        let error = |source| JournalError {
            action: "read",
            path: path.to_owned(),
            source,
        };
        let file = match File::open(path) {
            Ok(file) => file,
            Err(source) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(BTreeSet::new());
            }
            Err(source) => return Err(error(source)),
        };
        let mut done = BTreeSet::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(error)?;
            // A line cut short (the run was killed while writing it) names no file done.
            if let Ok(entry) = serde_json::from_str::<Entry>(&line)
                && entry.table == table_name
            {
                done.insert(entry.object);
            }
        }
        Ok(done)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether the file is empty or its last byte is a newline.
fn ends_with_newline(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last == *b"\n")
}

impl FileLedger for Journal {
    fn writes_seen_items(&self) -> bool {
        true
    }

    async fn file_done(&self, source_object: &str, _: &ObjectCounts) -> Result<(), LedgerError> {
        let done_at = jiff::Timestamp::now().to_string();
        let line = Line {
            table: &self.table_name,
            object: source_object,
            done_at: &done_at,
        };
        let mut text = serde_json::to_string(&line)
            .map_err(|error| LedgerError(format!("cannot encode a journal line: {error}")))?;
        text.push('\n');
        // One write of a whole line to a file opened for appending: lines of concurrent files do
        // not interleave.
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(text.as_bytes()).map_err(|error| {
            LedgerError(format!(
                "cannot write to the backfill journal {}: {error}",
                self.path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_journal() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backfill.journal");
        (dir, path)
    }

    #[tokio::test]
    async fn the_files_done_are_read_back_for_their_table_only() {
        let (_dir, path) = temp_journal();
        let journal = Journal::open(&path, "audit").unwrap();
        let counts = ObjectCounts::default();
        journal
            .file_done("s3://b/1.json.gz", &counts)
            .await
            .unwrap();
        journal
            .file_done("s3://b/2\n.json.gz", &counts)
            .await
            .unwrap();
        Journal::open(&path, "other")
            .unwrap()
            .file_done("s3://b/3.json.gz", &counts)
            .await
            .unwrap();
        assert_eq!(
            Journal::files_done(&path, "audit").unwrap(),
            BTreeSet::from([
                "s3://b/1.json.gz".to_owned(),
                "s3://b/2\n.json.gz".to_owned()
            ])
        );
        assert_eq!(Journal::files_done(&path, "other").unwrap().len(), 1);
    }

    #[test]
    fn a_missing_journal_records_nothing() {
        let (_dir, path) = temp_journal();
        assert_eq!(
            Journal::files_done(&path, "audit").unwrap(),
            BTreeSet::new()
        );
    }

    #[tokio::test]
    async fn a_line_cut_short_is_ignored_and_the_others_still_count() {
        let (_dir, path) = temp_journal();
        let counts = ObjectCounts::default();
        let journal = Journal::open(&path, "audit").unwrap();
        journal
            .file_done("s3://b/1.json.gz", &counts)
            .await
            .unwrap();
        drop(journal);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(br#"{"table":"audit","object":"s3://b/2.js"#)
            .unwrap();
        // The next run goes on after the torn line.
        let journal = Journal::open(&path, "audit").unwrap();
        journal
            .file_done("s3://b/3.json.gz", &counts)
            .await
            .unwrap();
        assert_eq!(
            Journal::files_done(&path, "audit").unwrap(),
            BTreeSet::from(["s3://b/1.json.gz".to_owned(), "s3://b/3.json.gz".to_owned()])
        );
    }

    #[test]
    fn a_journal_that_cannot_be_read_fails_naming_its_path_rather_than_recording_nothing() {
        // Under a plain file: opening it fails, and not for want of the journal (ENOTDIR).
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"").unwrap();
        let path = plain.join("backfill.journal");
        let error = Journal::files_done(&path, "audit").unwrap_err();
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_journal_opened_again_gains_no_blank_line() {
        let (_dir, path) = temp_journal();
        let counts = ObjectCounts::default();
        Journal::open(&path, "audit")
            .unwrap()
            .file_done("s3://b/1.json.gz", &counts)
            .await
            .unwrap();
        Journal::open(&path, "audit")
            .unwrap()
            .file_done("s3://b/2.json.gz", &counts)
            .await
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text:?}");
        assert!(text.lines().all(|line| !line.is_empty()), "{text:?}");
    }

    #[test]
    fn a_journal_that_cannot_be_created_names_its_path() {
        let error = Journal::open(Path::new("/nonexistent-dir/x.journal"), "audit").unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent-dir/x.journal"),
            "{error}"
        );
        assert!(error.to_string().contains("--journal"), "{error}");
    }
}
