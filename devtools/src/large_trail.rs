//! Large, realistic CloudTrail log files for benchmarks: gzipped, of a chosen uncompressed size,
//! about one record in twenty from Alexa for Business ([`crate::a4b_records`]), the others real
//! record shapes of other services from the public reference logs, each with its own `eventID`,
//! `requestID` and `eventTime`. Deterministic: the same size and seed give the same bytes.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use serde_json::Value;

use crate::a4b_records::{self, ApiModel, Caller, Rng};

/// One record in this many is an A4B record, on average (about 5 %).
pub const A4B_ONE_IN: u64 = 20;
/// The seed `a4b-dev large-trail` uses.
pub const DEFAULT_SEED: u64 = 0xA4B0_BE7C;

const TRAIL_START_EPOCH_SECONDS: i64 = 1_688_990_400; // 2023-07-10T12:00:00Z
const HEAD: &[u8] = b"{\"Records\":[";
const TAIL: &[u8] = b"]}";

#[derive(Debug, thiserror::Error)]
pub enum LargeTrailError {
    #[error("could not load the A4B API model: {0}")]
    Model(String),
    #[error("could not read the reference log {path}: {source}")]
    ReadReference {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the reference log {path} is not a CloudTrail log file: {reason}")]
    ParseReference { path: PathBuf, reason: String },
    #[error("no reference record of another service under {0}")]
    NoReferenceRecords(PathBuf),
    #[error("could not write the log file: {0}")]
    Write(#[source] io::Error),
}

/// What a generated file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailSummary {
    pub records: u64,
    pub a4b_records: u64,
    /// The JSON text's length.
    pub uncompressed_bytes: u64,
    /// The gzip file's length.
    pub compressed_bytes: u64,
}

/// The records of other services a generated file is made of, and the A4B model.
pub struct TrailMaterial {
    model: ApiModel,
    operations: Vec<String>,
    other_records: Vec<Value>,
}

impl TrailMaterial {
    /// Loads the model and every non-A4B record of the reference logs under `reference_dir`
    /// (`tests/fixtures/reference`).
    pub fn load(reference_dir: &Path) -> Result<Self, LargeTrailError> {
        let model = ApiModel::load(reference_dir.join("a4b-service-2.json"))
            .map_err(|error| LargeTrailError::Model(error.to_string()))?;
        let logs_dir = reference_dir.join("cloudtrail/logfiles");
        let mut other_records = Vec::new();
        let files = crate::local::files_under(&logs_dir).map_err(|error| {
            LargeTrailError::ReadReference {
                path: logs_dir.clone(),
                source: io::Error::other(error.to_string()),
            }
        })?;
        for path in files {
            let name = path.to_string_lossy();
            if !(name.ends_with(".json") || name.ends_with(".json.gz")) {
                continue;
            }
            other_records.extend(
                reference_records(&path)?
                    .into_iter()
                    .filter(|record| record["eventSource"] != a4b_records::EVENT_SOURCE),
            );
        }
        if other_records.is_empty() {
            return Err(LargeTrailError::NoReferenceRecords(logs_dir));
        }
        let operations = model.operations();
        Ok(Self {
            model,
            operations,
            other_records,
        })
    }

    /// Writes a gzipped log file whose JSON text is `uncompressed_bytes` long, give or take one
    /// record, at the usual gzip level of CloudTrail (6).
    pub fn write(
        &self,
        uncompressed_bytes: u64,
        seed: u64,
        out: impl Write,
    ) -> Result<TrailSummary, LargeTrailError> {
        let counted = CountingWriter::new(out);
        let gzip = GzBuilder::new()
            .mtime(0)
            .write(counted, Compression::default());
        let mut json = CountingWriter::new(io::BufWriter::with_capacity(256 * 1024, gzip));
        let mut rng = Rng::new(seed);
        let mut summary = TrailSummary {
            records: 0,
            a4b_records: 0,
            uncompressed_bytes: 0,
            compressed_bytes: 0,
        };
        let mut record_text = Vec::with_capacity(64 * 1024);
        json.write_all(HEAD).map_err(LargeTrailError::Write)?;
        loop {
            record_text.clear();
            let record = self.record(&mut rng, summary.records);
            serde_json::to_writer(&mut record_text, &record.value)
                .map_err(|error| LargeTrailError::Write(error.into()))?;
            let separator = u64::from(summary.records > 0);
            let after = json.count + separator + record_text.len() as u64 + TAIL.len() as u64;
            // At least one record, then stop before the size would pass the target.
            if summary.records > 0 && after > uncompressed_bytes {
                break;
            }
            if separator == 1 {
                json.write_all(b",").map_err(LargeTrailError::Write)?;
            }
            json.write_all(&record_text)
                .map_err(LargeTrailError::Write)?;
            summary.records += 1;
            summary.a4b_records += u64::from(record.is_a4b);
        }
        json.write_all(TAIL).map_err(LargeTrailError::Write)?;
        summary.uncompressed_bytes = json.count;
        let gzip = json
            .inner
            .into_inner()
            .map_err(|error| LargeTrailError::Write(error.into_error()))?;
        let mut counted = gzip.finish().map_err(LargeTrailError::Write)?;
        counted.flush().map_err(LargeTrailError::Write)?;
        summary.compressed_bytes = counted.count;
        Ok(summary)
    }

    fn record(&self, rng: &mut Rng, index: u64) -> GeneratedValue {
        // About two records a second, in file order, as in a busy account's five-minute file.
        let event_time = utc_time(TRAIL_START_EPOCH_SECONDS + (index / 2) as i64);
        if rng.one_in(A4B_ONE_IN) {
            let operation = rng.pick(&self.operations);
            let caller = *rng.pick(&Caller::ALL);
            let mut value =
                a4b_records::record(&self.model, operation, caller, rng.next_u64()).record;
            if let Value::Object(fields) = &mut value {
                fields.insert("eventTime".into(), event_time.into());
            }
            return GeneratedValue {
                value,
                is_a4b: true,
            };
        }
        let mut value = rng.pick(&self.other_records).clone();
        if let Value::Object(fields) = &mut value {
            fields.insert("eventTime".into(), event_time.into());
            fields.insert("eventID".into(), rng.uuid().into());
            if fields.get("requestID").is_some_and(Value::is_string) {
                fields.insert("requestID".into(), rng.uuid().into());
            }
        }
        GeneratedValue {
            value,
            is_a4b: false,
        }
    }
}

struct GeneratedValue {
    value: Value,
    is_a4b: bool,
}

/// Parses a size such as `200MB`, `1.5GiB`, `64KiB` or `1000` (bytes). `KB`, `MB`, `GB` are
/// powers of ten, `KiB`, `MiB`, `GiB` powers of two.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size: expected a number such as 200MB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    Ok((number * multiplier as f64).round() as u64)
}

/// `YYYY-MM-DDTHH:MM:SSZ` without a date library: days from the civil calendar algorithm.
fn utc_time(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(86_400);
    let seconds = epoch_seconds.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

fn reference_records(path: &Path) -> Result<Vec<Value>, LargeTrailError> {
    let bytes = std::fs::read(path).map_err(|source| LargeTrailError::ReadReference {
        path: path.to_owned(),
        source,
    })?;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
            &mut text,
        )
        .map_err(|source| LargeTrailError::ReadReference {
            path: path.to_owned(),
            source,
        })?;
        text
    } else {
        bytes
    };
    let parse_error = |reason: String| LargeTrailError::ParseReference {
        path: path.to_owned(),
        reason,
    };
    let mut document: Value =
        serde_json::from_slice(&text).map_err(|error| parse_error(error.to_string()))?;
    match document.get_mut("Records").map(Value::take) {
        Some(Value::Array(records)) => Ok(records),
        _ => Err(parse_error("no `Records` array".to_owned())),
    }
}

/// Counts the bytes written through it.
struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W> CountingWriter<W> {
    fn new(inner: W) -> Self {
        Self { inner, count: 0 }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.count += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io::Read;

    use super::*;

    fn material() -> TrailMaterial {
        TrailMaterial::load(&crate::moto::workspace_root().join("tests/fixtures/reference"))
            .unwrap()
    }

    fn inflate(gzip: &[u8]) -> Vec<u8> {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(gzip)
            .read_to_end(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn the_same_size_and_seed_give_the_same_bytes() {
        let material = material();
        let mut first = Vec::new();
        let mut second = Vec::new();
        material.write(300_000, 7, &mut first).unwrap();
        material.write(300_000, 7, &mut second).unwrap();
        assert_eq!(first, second);
        let mut other_seed = Vec::new();
        material.write(300_000, 8, &mut other_seed).unwrap();
        assert_ne!(first, other_seed);
    }

    #[test]
    fn the_json_text_has_the_requested_size_give_or_take_one_record() {
        let mut gzip = Vec::new();
        let summary = material()
            .write(2_000_000, DEFAULT_SEED, &mut gzip)
            .unwrap();
        let text = inflate(&gzip);
        assert_eq!(text.len() as u64, summary.uncompressed_bytes);
        assert_eq!(gzip.len() as u64, summary.compressed_bytes);
        assert!(summary.uncompressed_bytes <= 2_000_000);
        assert!(
            summary.uncompressed_bytes > 2_000_000 - 64 * 1024,
            "{summary:?}"
        );
    }

    #[test]
    fn about_one_record_in_twenty_is_an_a4b_record_and_the_summary_counts_them() {
        let mut gzip = Vec::new();
        let summary = material()
            .write(4_000_000, DEFAULT_SEED, &mut gzip)
            .unwrap();
        let document: Value = serde_json::from_slice(&inflate(&gzip)).unwrap();
        let records = document["Records"].as_array().unwrap();
        let a4b = records
            .iter()
            .filter(|record| record["eventSource"] == a4b_records::EVENT_SOURCE)
            .count() as u64;
        assert_eq!(records.len() as u64, summary.records);
        assert_eq!(a4b, summary.a4b_records);
        let share = a4b as f64 / summary.records as f64;
        assert!((0.03..0.07).contains(&share), "A4B share {share}");
        let sources: HashSet<&str> = records
            .iter()
            .filter_map(|record| record["eventSource"].as_str())
            .collect();
        assert!(sources.len() > 5, "only {sources:?}");
    }

    #[test]
    fn every_record_has_its_own_event_id() {
        let mut gzip = Vec::new();
        let summary = material()
            .write(2_000_000, DEFAULT_SEED, &mut gzip)
            .unwrap();
        let document: Value = serde_json::from_slice(&inflate(&gzip)).unwrap();
        let ids: HashSet<&str> = document["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["eventID"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len() as u64, summary.records);
    }

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("200MB"), Ok(200_000_000));
        assert_eq!(parse_size("1.5GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2PB").is_err());
    }

    #[test]
    fn event_times_are_utc_calendar_times() {
        assert_eq!(utc_time(TRAIL_START_EPOCH_SECONDS), "2023-07-10T12:00:00Z");
        assert_eq!(utc_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_time(951_782_400 + 86_399), "2000-02-29T23:59:59Z");
    }
}
