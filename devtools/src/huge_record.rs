//! A log file of one huge A4B record (one string of the given size) between two ordinary ones, for
//! the benchmark's memory check: a record longer than `MAX_RECORD_BYTES` must be rejected without
//! being held, so the dry run's peak memory stays flat however long the record is.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

/// An ordinary A4B record, `id` making its event id unique.
fn ordinary_record(id: u32) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2026-01-02T03:04:05Z","eventSource":"a4b.amazonaws.com","eventName":"GetRoom","awsRegion":"us-east-1","eventID":"00000000-0000-4000-8000-00000000000{id}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/bench"}},"requestParameters":{{"roomArn":"arn:aws:a4b:us-east-1:123456789012:room/{id:032x}/{id:032x}"}}}}"#
    )
}

/// Writes the gzipped file; `string_bytes` is the length of the huge record's one string.
pub fn write(string_bytes: u64, out: impl Write) -> io::Result<()> {
    let mut gz = GzEncoder::new(out, Compression::default());
    write!(
        gz,
        r#"{{"Records":[{},{{"eventVersion":"1.08","eventTime":"2026-01-02T03:04:05Z","eventSource":"a4b.amazonaws.com","eventName":"UpdateRoom","eventID":"00000000-0000-4000-8000-0000000000ff","requestParameters":{{"description":""#,
        ordinary_record(1)
    )?;
    let block = [b'x'; 64 * 1024];
    let mut left = string_bytes;
    while left > 0 {
        let n = usize::try_from(left)
            .unwrap_or(block.len())
            .min(block.len());
        gz.write_all(&block[..n])?;
        left -= n as u64;
    }
    write!(gz, r#""}}}},{}]}}"#, ordinary_record(2))?;
    gz.finish()?.flush()
}
