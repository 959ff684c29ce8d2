//! The end-of-run summary on stderr.

use std::io::{self, Write};

use crate::summary::InvocationSummary;

/// Writes one line to stderr, ignoring a closed stderr (what `note!` expands to).
pub fn note(line: std::fmt::Arguments<'_>) {
    // Nowhere else to report it: a closed stderr loses the line, and the run goes on.
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Prints what a run did: files, records, items, then the files that failed and why.
pub fn write_summary(
    out: &mut impl Write,
    summary: &InvocationSummary,
    files_already_done: u64,
    dry_run: bool,
) -> io::Result<()> {
    let counts = &summary.counts;
    write!(
        out,
        "files: {} processed, {} skipped, {} failed",
        summary.objects_processed, summary.objects_skipped, summary.objects_failed
    )?;
    if files_already_done > 0 {
        write!(out, ", {files_already_done} already done (--resume)")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "records: {} read, {} A4B, {} other, {} rejected",
        counts.records_read, counts.a4b_records, counts.other_records, counts.records_rejected
    )?;
    let verb = if dry_run { "printed" } else { "written" };
    writeln!(out, "items: {} {verb}", counts.items_written)?;
    if !summary.failed.is_empty() {
        writeln!(out, "failed files:")?;
        for note in &summary.failed {
            writeln!(out, "  {}: {}", note.object, note.reason)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{ObjectCounts, ObjectNote};

    #[test]
    fn summary_names_the_counts_and_every_failed_file() {
        let summary = InvocationSummary {
            objects_processed: 2,
            objects_skipped: 1,
            objects_failed: 1,
            counts: ObjectCounts {
                records_read: 10,
                a4b_records: 3,
                other_records: 6,
                records_rejected: 1,
                items_built: 7,
                items_written: 7,
                write_requests: 1,
            },
            failed: vec![ObjectNote {
                object: "s3://b/bad.json.gz".into(),
                reason: "cannot read the log file: corrupt gzip".into(),
            }],
            ..InvocationSummary::default()
        };
        let mut out = Vec::new();
        write_summary(&mut out, &summary, 4, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "files: 2 processed, 1 skipped, 1 failed, 4 already done (--resume)\n\
             records: 10 read, 3 A4B, 6 other, 1 rejected\n\
             items: 7 written\n\
             failed files:\n  s3://b/bad.json.gz: cannot read the log file: corrupt gzip\n"
        );
    }
}
