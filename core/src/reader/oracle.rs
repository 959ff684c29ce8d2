//! serde_json as the reader's oracle, shared by the reader's property tests and the fuzz target
//! (`fuzz/`, built with the `oracle` feature; not part of any release build).
//!
//! SPEC section 2 fails a file that is not one valid JSON text and hands over exactly the records of
//! its one top-level `Records` array. The scanner checks that grammar by hand, a token at a time; the
//! oracle reads the same bytes with serde_json, records as [`RawValue`], and the two verdicts must be
//! equal: valid or not, the same counts, the same records handed over byte for byte, the same
//! elements rejected. [`disagreement`] holds the reader to that on any bytes, in each of the ways it
//! can read them, and holds the mapping's two entry points to each other on every record handed
//! over.

use std::convert::Infallible;
use std::fmt;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{
    BUFFER_LEN, ReadError, ReadStats, ReaderOptions, RecordEvent, read_inflating_on_own_thread,
    read_on_one_thread,
};
use crate::audit::{AuditContext, Retention, build_checked_items, build_items};

/// The event sources the fuzz target watches: the real one, one that is no ASCII, and one equal to
/// the key the scanner looks for at the top level.
pub const SOURCES: &[&str] = &["a4b.amazonaws.com", "été 😀", "Records"];

/// Buffer sizes from one byte (every token split across reads, the token-at-a-time path) to the
/// usual one (whole records in one piece, the fast pass).
const BUFFER_LENS: [usize; 5] = [1, 2, 7, 64, BUFFER_LEN];

/// Reader options watching `sources`, with limits no small input reaches.
pub fn options(sources: &[&str]) -> ReaderOptions {
    ReaderOptions {
        event_sources: sources.iter().map(|source| (*source).to_owned()).collect(),
        max_decompressed_bytes: 1 << 30,
        max_record_bytes: 16 << 20,
    }
}

/// What the reader handed over.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handed {
    pub matched: Vec<(u64, Vec<u8>)>,
    pub rejected: Vec<(u64, String)>,
}

impl Handed {
    /// Keeps one record the reader hands over.
    pub fn take(&mut self, event: RecordEvent<'_>) -> Result<(), Infallible> {
        match event {
            RecordEvent::Matched { index, raw } => {
                self.matched.push((index, raw.as_bytes().to_vec()))
            }
            RecordEvent::Rejected { index, reason } => self.rejected.push((index, reason)),
        }
        Ok(())
    }
}

/// A whole read: what it counted and handed over, or why it failed.
pub type Outcome = Result<(ReadStats, Handed), ReadError<Infallible>>;

/// Reads `input` on the calling thread with a buffer of `buffer_len` bytes.
pub fn read_with(input: impl Read, options: &ReaderOptions, buffer_len: usize) -> Outcome {
    let mut handed = Handed::default();
    let stats = read_on_one_thread(input, options, |event| handed.take(event), buffer_len)
        .map_err(|(error, _)| error)?;
    Ok((stats, handed))
}

/// Reads `input` with inflation on a thread of its own, as on two cores.
pub fn read_threaded_with(
    input: impl Read + Send,
    options: &ReaderOptions,
    buffer_len: usize,
) -> Outcome {
    let mut handed = Handed::default();
    let stats =
        read_inflating_on_own_thread(input, options, |event| handed.take(event), buffer_len)
            .map_err(|(error, _)| error)?;
    Ok((stats, handed))
}

/// `bytes` as one gzip member.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// An object's members in file order, duplicates kept. Keys stay bytes: a lone surrogate escape
/// is valid JSON but no Rust string.
struct Members<'a>(Vec<(KeyBytes, &'a RawValue)>);

struct KeyBytes(Vec<u8>);

impl PartialEq<str> for KeyBytes {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyBytes;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a key")
            }
            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<KeyBytes, E> {
                Ok(KeyBytes(bytes.to_vec()))
            }
            fn visit_str<E>(self, text: &str) -> Result<KeyBytes, E> {
                Ok(KeyBytes(text.as_bytes().to_vec()))
            }
        }
        deserializer.deserialize_bytes(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A read's outcome as the oracle can state it. Rejection reasons are left out: the oracle has
/// none of its own (the reader's tests check them).
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not one valid JSON text (or no text at all).
    Invalid,
    /// Valid JSON, but not an object with exactly one `Records` key holding an array.
    NoRecords,
    Records {
        stats: ReadStats,
        handed: Handed,
    },
    /// A failure the oracle never gives (a limit, an I/O error): always a disagreement.
    Unexpected(String),
}

/// serde_json's verdict on a (decompressed) text.
pub fn oracle(bytes: &[u8], sources: &[&str]) -> Verdict {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(whole) = serde_json::from_slice::<&RawValue>(text) else {
        return Verdict::Invalid;
    };
    let Ok(Members(members)) = serde_json::from_str::<Members>(whole.get()) else {
        return Verdict::NoRecords;
    };
    let records: Vec<_> = members
        .iter()
        .filter(|(key, _)| *key == *"Records")
        .collect();
    let [(_, records)] = records.as_slice() else {
        return Verdict::NoRecords;
    };
    let Ok(records) = serde_json::from_str::<Vec<&RawValue>>(records.get()) else {
        return Verdict::NoRecords;
    };
    let mut stats = ReadStats {
        decompressed_bytes: bytes.len() as u64,
        ..ReadStats::default()
    };
    let mut handed = Handed::default();
    for (index, record) in (0u64..).zip(records) {
        stats.records += 1;
        let Ok(Members(fields)) = serde_json::from_str::<Members>(record.get()) else {
            stats.rejected += 1;
            handed.rejected.push((index, String::new()));
            continue;
        };
        let source = fields
            .iter()
            .rev()
            .find(|(key, _)| *key == *"eventSource")
            .and_then(|(_, value)| serde_json::from_str::<String>(value.get()).ok());
        if source.is_some_and(|source| sources.contains(&source.as_str())) {
            stats.matched += 1;
            handed
                .matched
                .push((index, record.get().as_bytes().to_vec()));
        } else {
            stats.other += 1;
        }
    }
    Verdict::Records { stats, handed }
}

/// The reader's outcome in the oracle's terms.
pub fn verdict(outcome: Outcome) -> Verdict {
    match outcome {
        Ok((stats, mut handed)) => {
            for (_, reason) in &mut handed.rejected {
                reason.clear();
            }
            Verdict::Records { stats, handed }
        }
        Err(ReadError::Json { .. } | ReadError::Empty) => Verdict::Invalid,
        Err(ReadError::NoRecords) => Verdict::NoRecords,
        Err(other) => Verdict::Unexpected(other.to_string()),
    }
}

/// Where the reader and serde_json disagree on `bytes`, or the mapping's two entry points on a
/// record the reader handed over; `None` when they all agree.
///
/// The bytes are read as plain text at every size of [`BUFFER_LENS`], with inflation on its own
/// thread, and gzipped. Bytes that start with the gzip magic are read as they stand too, where
/// only a panic would be wrong: the oracle cannot read gzip.
pub fn disagreement(bytes: &[u8]) -> Option<String> {
    disagreement_with(bytes, SOURCES, SOURCES)
}

/// [`disagreement`], with the reader watching `reader_sources` and the oracle `oracle_sources`
/// (the same but in a test that shows a disagreement is told).
fn disagreement_with(
    bytes: &[u8],
    reader_sources: &[&str],
    oracle_sources: &[&str],
) -> Option<String> {
    let options = options(reader_sources);
    if bytes.starts_with(&[0x1f, 0x8b]) {
        for buffer_len in [7, BUFFER_LEN] {
            let _ = read_with(bytes, &options, buffer_len);
        }
        return None;
    }
    let expected = oracle(bytes, oracle_sources);
    let plain = BUFFER_LENS.map(|buffer_len| Way {
        buffer_len,
        threaded: false,
        gzipped: false,
    });
    let others = [
        Way {
            buffer_len: 7,
            threaded: true,
            gzipped: false,
        },
        Way {
            buffer_len: 7,
            threaded: false,
            gzipped: true,
        },
        Way {
            buffer_len: BUFFER_LEN,
            threaded: true,
            gzipped: true,
        },
    ];
    let gzipped = gzip(bytes);
    let mut handed_over = None;
    for way in plain.into_iter().chain(others) {
        let input: &[u8] = if way.gzipped { &gzipped } else { bytes };
        let outcome = if way.threaded {
            read_threaded_with(input, &options, way.buffer_len)
        } else {
            read_with(input, &options, way.buffer_len)
        };
        let found = verdict(outcome);
        if found != expected {
            return Some(format!(
                "read {way}, the reader says\n{found:?}\nwhere serde_json says\n{expected:?}"
            ));
        }
        if let Verdict::Records { handed, .. } = found {
            handed_over.get_or_insert(handed);
        }
    }
    let handed = handed_over?;
    handed
        .matched
        .iter()
        .find_map(|(index, raw)| mapping_disagreement(*index, raw, &options))
}

/// One way of reading the bytes.
struct Way {
    buffer_len: usize,
    /// Inflation on a thread of its own.
    threaded: bool,
    gzipped: bool,
}

impl fmt::Display for Way {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Way {
            buffer_len,
            threaded,
            gzipped,
        } = self;
        write!(f, "with a {buffer_len}-byte buffer")?;
        if *gzipped {
            f.write_str(", gzipped")?;
        }
        if *threaded {
            f.write_str(", inflating on a thread of its own")?;
        }
        Ok(())
    }
}

/// The record `raw`, read again by the reader as a file of its own so that it comes as the
/// scanner hands it over, mapped both ways: through [`build_checked_items`] (the scanned text,
/// not checked again) and [`build_items`] (checked from scratch). They must agree.
fn mapping_disagreement(index: u64, raw: &[u8], options: &ReaderOptions) -> Option<String> {
    let context = AuditContext {
        source_object: "s3://fuzz/AWSLogs/123456789012/CloudTrail/us-east-1/2019/11/13/x.json.gz"
            .to_owned(),
        ingested_at: "2026-11-30T00:00:00Z".to_owned(),
        retention: Some(Retention {
            days: 365,
            now: 1_600_000_000,
        }),
    };
    let file = [b"{\"Records\":[".as_slice(), raw, b"]}"].concat();
    let mut checked = None;
    let read = read_on_one_thread(
        &file[..],
        options,
        |event| {
            if let RecordEvent::Matched { raw, .. } = event {
                checked = Some(format!("{:?}", build_checked_items(raw, &context)));
            }
            Ok::<(), Infallible>(())
        },
        BUFFER_LEN,
    );
    let from_scratch = format!("{:?}", build_items(raw, &context));
    match (read, checked) {
        (Ok(_), Some(checked)) if checked == from_scratch => None,
        (Ok(_), Some(checked)) => Some(format!(
            "record {index} maps to\n{checked}\nas handed over, and to\n{from_scratch}\nread \
             from scratch"
        )),
        (read, _) => Some(format!(
            "record {index}, handed over, is not handed over again alone: {:?}",
            read.map(|_| ()).map_err(|(error, _)| error.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"Records":[{"eventSource":"a4b.amazonaws.com","eventID":"e1","eventTime":"2019-11-13T10:00:00Z","eventName":"CreateRoom","requestParameters":{"roomName":"Lab \"1\" é😀"},"responseElements":{"roomArn":"arn:aws:a4b:us-east-1:123456789012:room/abc/def"}},3,{"eventSource":"s3.amazonaws.com"}]}"#;

    #[test]
    fn the_reader_agrees_with_serde_json_on_a_log_file_and_on_broken_ones() {
        assert!(matches!(
            oracle(FILE.as_bytes(), SOURCES),
            Verdict::Records { .. }
        ));
        assert_eq!(disagreement(FILE.as_bytes()), None);
        for cut in [1, 20, FILE.len() - 1] {
            assert_eq!(disagreement(&FILE.as_bytes()[..cut]), None, "cut at {cut}");
        }
        assert_eq!(disagreement(b"[1,2]"), None);
        assert_eq!(disagreement(&gzip(FILE.as_bytes())), None);
    }

    #[test]
    fn a_disagreement_is_told_with_what_each_side_says() {
        let told = disagreement_with(FILE.as_bytes(), &["s3.amazonaws.com"], SOURCES);
        let told = told.expect("the reader watches another source than the oracle");
        assert!(
            told.starts_with("read with a 1-byte buffer, the reader says"),
            "{told}"
        );
        assert!(told.contains("where serde_json says"), "{told}");
    }
}
