//! The reader against the spec (SPEC section 2) and against serde_json as an oracle.

use std::convert::Infallible;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use super::oracle::{
    Handed, Outcome, SOURCES, Verdict, gzip, options, oracle, read_threaded_with, read_with,
    verdict,
};
use super::*;
use crate::json::tests::{self as lenient, Json, Piece, key_strategy, plain};

const A4B: &str = "a4b.amazonaws.com";

/// Reads on one thread and with inflation on another, which must agree; returns the outcome.
fn read_both(bytes: &[u8], options: &ReaderOptions, buffer_len: usize) -> Outcome {
    let one_thread = read_with(bytes, options, buffer_len);
    let two_threads = read_threaded_with(bytes, options, buffer_len);
    assert_eq!(format!("{one_thread:?}"), format!("{two_threads:?}"));
    one_thread
}

fn read(bytes: &[u8], sources: &[&str]) -> Outcome {
    read_both(bytes, &options(sources), BUFFER_LEN)
}

fn gunzip_all(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn fixture_dir(relative: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .join("tests/fixtures/reference/cloudtrail")
        .join(relative)
}

fn files_under(relative: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(fixture_dir(relative)).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    files.sort();
    files
}

/// A reader that hands out its bytes in pieces of the given sizes, in turn, counting what it has
/// handed out; when asked, it first fails each read with `Interrupted` (a signal arriving mid-call).
struct Pieces<'a> {
    bytes: &'a [u8],
    sizes: Vec<usize>,
    turn: usize,
    handed_out: Arc<AtomicUsize>,
    /// `Some` when reads are interrupted: whether the next one is.
    interrupt_next: Option<bool>,
}

impl<'a> Pieces<'a> {
    fn new(bytes: &'a [u8], sizes: Vec<usize>) -> Self {
        Self {
            bytes,
            sizes,
            turn: 0,
            handed_out: Arc::default(),
            interrupt_next: None,
        }
    }

    /// Fails every other read, starting with the first, with `Interrupted`.
    fn interrupted_before_each_read(mut self) -> Self {
        self.interrupt_next = Some(true);
        self
    }

    /// The count of bytes handed out so far, to read while the reader is in use.
    fn handed_out(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.handed_out)
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(interrupt) = &mut self.interrupt_next {
            *interrupt = !*interrupt;
            if !*interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
        }
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let n = size.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.handed_out.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
}

#[test]
fn a_read_interrupted_by_a_signal_is_made_again_plain_or_gzip_from_the_first_byte_on() {
    let json = log_file(6).into_bytes();
    let expected = verdict(read(&json, &[A4B]));
    assert!(matches!(expected, Verdict::Records { .. }));
    for bytes in [json.clone(), gzip(&json)] {
        for piece in [1, 7, 4096] {
            let interrupting = || Pieces::new(&bytes, vec![piece]).interrupted_before_each_read();
            let one_thread = read_with(interrupting(), &options(&[A4B]), BUFFER_LEN);
            assert_eq!(verdict(one_thread), expected, "piece {piece}");
            let two_threads = read_threaded_with(interrupting(), &options(&[A4B]), BUFFER_LEN);
            assert_eq!(verdict(two_threads), expected, "piece {piece}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reference files

#[test]
fn every_reference_log_file_gives_the_oracles_records() {
    let files = files_under("logfiles");
    assert!(files.len() > 50);
    for file in files {
        let stored = std::fs::read(&file).unwrap();
        let json = if stored.starts_with(&[0x1f, 0x8b]) {
            gunzip_all(&stored)
        } else {
            stored.clone()
        };
        for sources in [
            &["s3.amazonaws.com"][..],
            &["ec2.amazonaws.com", "iam.amazonaws.com"],
        ] {
            let expected = oracle(&json, sources);
            assert!(matches!(expected, Verdict::Records { .. }), "{file:?}");
            assert_eq!(verdict(read(&stored, sources)), expected, "{file:?}");
            let small = read_both(&stored[..], &options(sources), 4096);
            assert_eq!(verdict(small), expected, "{file:?} with a small buffer");
        }
    }
}

#[test]
fn reference_individual_files_give_the_oracles_verdict() {
    for file in files_under("individual") {
        let bytes = std::fs::read(&file).unwrap();
        let expected = oracle(&bytes, &["ec2.amazonaws.com", "s3.amazonaws.com"]);
        let outcome = read(&bytes, &["ec2.amazonaws.com", "s3.amazonaws.com"]);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        match name.as_str() {
            "aws-cloudtrail-user-guide_doc_examples.json"
            | "aws.credential-access.secretsmanager-retrieve-secrets.json"
            | "aws.defense-evasion.cloudtrail-delete.json"
            | "aws.exfiltration.ec2-share-ebs-snapshot.json" => {
                assert!(outcome.is_ok(), "{name}: {outcome:?}");
            }
            // Single records and digests are JSON objects without `Records`.
            name if name.starts_with("example-cloudwatch") || name.starts_with("digest") => {
                assert!(matches!(outcome, Err(ReadError::NoRecords)), "{name}");
            }
            // JSON lines, a missing comma, doc text: not one JSON value.
            _ => assert!(matches!(outcome, Err(ReadError::Json { .. })), "{name}"),
        }
        assert_eq!(verdict(outcome), expected, "{name}");
    }
}

#[test]
fn the_user_guide_examples_count_every_record() {
    let bytes = std::fs::read(fixture_dir(
        "individual/awsdocs/aws-cloudtrail-user-guide_doc_examples.json",
    ))
    .unwrap();
    let (stats, _) = read(&bytes, &[A4B]).unwrap();
    assert_eq!(stats.records, 23);
    assert_eq!(stats.records, stats.matched + stats.other + stats.rejected);
    assert_eq!(stats.decompressed_bytes, bytes.len() as u64);
}

// ---------------------------------------------------------------------------------------------
// Input forms

fn a4b_record(id: u32) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventSource":"a4b.amazonaws.com","eventID":"id-{id}","requestParameters":{{"roomArn":"arn:aws:a4b:us-east-1:123456789012:room/r{id}"}}}}"#
    )
}

fn other_record(id: u32) -> String {
    format!(
        r#"{{"eventSource":"s3.amazonaws.com","eventID":"s3-{id}","requestParameters":{{"x":[1,2.5e3,true,null]}}}}"#
    )
}

/// A log file of alternating A4B and S3 records.
fn log_file(count: u32) -> String {
    let records: Vec<String> = (0..count)
        .map(|id| {
            if id % 2 == 0 {
                a4b_record(id)
            } else {
                other_record(id)
            }
        })
        .collect();
    format!("{{\"Records\":[{}]}}", records.join(","))
}

fn assert_alternating(outcome: Outcome, count: u32) {
    let (stats, handed) = outcome.unwrap();
    assert_eq!(stats.records, u64::from(count));
    assert_eq!(stats.matched, u64::from(count.div_ceil(2)));
    assert_eq!(stats.other, u64::from(count / 2));
    let expected: Vec<(u64, Vec<u8>)> = (0..count)
        .step_by(2)
        .map(|id| (u64::from(id), a4b_record(id).into_bytes()))
        .collect();
    assert_eq!(handed.matched, expected);
}

#[test]
fn plain_json_is_read() {
    assert_alternating(read(log_file(10).as_bytes(), &[A4B]), 10);
}

#[test]
fn single_member_gzip_is_read() {
    let file = log_file(10);
    let (stats, handed) = read(&gzip(file.as_bytes()), &[A4B]).unwrap();
    assert_eq!(stats.decompressed_bytes, file.len() as u64);
    assert_alternating(Ok((stats, handed)), 10);
}

#[test]
fn every_gzip_member_is_read_even_when_a_member_ends_mid_record() {
    let file = log_file(40);
    let bytes = file.as_bytes();
    for cuts in [
        vec![1, 2, 3],
        vec![17, 500, 501, 2000],
        (1..bytes.len()).step_by(97).collect(),
    ] {
        let mut members = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            members.extend(gzip(&bytes[start..cut]));
            start = cut;
        }
        assert_alternating(read(&members, &[A4B]), 40);
    }
}

#[test]
fn a_utf8_bom_is_skipped_in_plain_and_gzip_input() {
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), log_file(4).as_bytes()].concat();
    assert_alternating(read(&with_bom, &[A4B]), 4);
    assert_alternating(read(&gzip(&with_bom), &[A4B]), 4);
}

#[test]
fn a_bom_anywhere_but_the_start_is_invalid() {
    let text = [b" ".as_slice(), b"\xEF\xBB\xBF", log_file(1).as_bytes()].concat();
    assert!(matches!(
        read(&text, &[A4B]),
        Err(ReadError::Json { offset: 1, .. })
    ));
}

#[test]
fn reads_of_any_size_give_the_same_records() {
    let file = log_file(30);
    let gz = gzip(file.as_bytes());
    for sizes in [vec![1], vec![7], vec![3, 1, 400, 2, 65, 9, 1024]] {
        let plain = Pieces::new(file.as_bytes(), sizes.clone());
        assert_alternating(read_with(plain, &options(&[A4B]), BUFFER_LEN), 30);
        let compressed = Pieces::new(&gz, sizes);
        assert_alternating(read_with(compressed, &options(&[A4B]), BUFFER_LEN), 30);
    }
}

#[test]
fn a_tiny_buffer_gives_the_same_records() {
    for buffer_len in [1, 2, 3, 16, 100] {
        assert_alternating(
            read_with(log_file(12).as_bytes(), &options(&[A4B]), buffer_len),
            12,
        );
    }
}

#[test]
fn a_record_larger_than_the_buffer_is_handed_over_whole() {
    let big_value = "x".repeat(3 * 1024 * 1024);
    let big = format!(
        r#"{{"eventSource":"a4b.amazonaws.com","requestParameters":{{"blob":"{big_value}"}}}}"#
    );
    let file = format!(
        "{{\"Records\":[{},{big},{}]}}",
        other_record(0),
        other_record(2)
    );
    let (stats, handed) = read(file.as_bytes(), &[A4B]).unwrap();
    assert_eq!(stats.records, 3);
    assert_eq!(handed.matched, vec![(1, big.into_bytes())]);
}

#[test]
fn a_record_longer_than_max_record_bytes_is_rejected_without_being_held() {
    let cap = 1 << 20;
    let huge = format!(
        r#"{{"eventSource":"a4b.amazonaws.com","requestParameters":{{"blob":"{}"}}}}"#,
        "x".repeat(3 * cap)
    );
    let file = format!(
        "{{\"Records\":[{},{huge},{}]}}",
        other_record(0),
        a4b_record(2)
    );
    let options = ReaderOptions {
        max_record_bytes: cap as u64,
        ..options(&[A4B])
    };
    let (stats, handed) = read_both(file.as_bytes(), &options, 4096).unwrap();
    assert_eq!(
        (stats.records, stats.matched, stats.other, stats.rejected),
        (3, 1, 1, 1)
    );
    assert_eq!(handed.matched, vec![(2, a4b_record(2).into_bytes())]);
    assert_eq!(handed.rejected.len(), 1);
    let (index, reason) = &handed.rejected[0];
    assert_eq!(*index, 1);
    assert!(
        reason.contains(&format!("{} bytes long", huge.len()))
            && reason.contains("MAX_RECORD_BYTES (1048576 bytes)"),
        "{reason}"
    );
}

#[test]
fn a_record_of_exactly_max_record_bytes_is_kept() {
    let record = a4b_record(0);
    let file = format!("{{\"Records\":[{record}]}}");
    for (cap, kept) in [(record.len(), true), (record.len() - 1, false)] {
        let options = ReaderOptions {
            max_record_bytes: cap as u64,
            ..options(&[A4B])
        };
        for buffer_len in [1, 16, BUFFER_LEN] {
            let (stats, _) = read_both(file.as_bytes(), &options, buffer_len).unwrap();
            assert_eq!(
                (stats.matched, stats.rejected),
                (u64::from(kept), u64::from(!kept))
            );
        }
    }
}

#[test]
fn top_level_fields_before_and_after_records_are_skipped() {
    let file = format!(
        r#"{{"a":{{"Records":[{}],"b":[1,{{"c":null}}]}},"n":-1.5E+3,"s":"Records","Records":[{}],"t":true,"z":[[{{}}]]}}"#,
        a4b_record(9),
        a4b_record(0)
    );
    let (stats, handed) = read(file.as_bytes(), &[A4B]).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(handed.matched, vec![(0, a4b_record(0).into_bytes())]);
}

#[test]
fn empty_records_is_a_file_with_no_records() {
    let (stats, handed) = read(b" { \"Records\" : [ ] } \n", &[A4B]).unwrap();
    assert_eq!(
        stats,
        ReadStats {
            decompressed_bytes: 22,
            ..ReadStats::default()
        }
    );
    assert_eq!(handed, Handed::default());
}

#[test]
fn an_event_source_nested_deeper_or_inside_a_string_is_not_matched() {
    let file = r#"{"Records":[
        {"requestParameters":{"eventSource":"a4b.amazonaws.com"}},
        {"eventName":"\"eventSource\":\"a4b.amazonaws.com\""},
        {"list":[{"eventSource":"a4b.amazonaws.com"}],"eventSource":"s3.amazonaws.com"},
        {"eventSource":["a4b.amazonaws.com"]},
        {"eventSource":"a4b.amazonaws.com.evil"},
        {"eventSource":"A4B.amazonaws.com"}
    ]}"#;
    let (stats, handed) = read(file.as_bytes(), &[A4B]).unwrap();
    assert_eq!((stats.records, stats.matched, stats.other), (6, 0, 6));
    assert!(handed.matched.is_empty());
}

#[test]
fn an_escaped_event_source_matches_by_its_decoded_value() {
    let file = r#"{"Records":[
        {"eventSource":"a4b\u002eamazonaws.com"},
        {"event\u0053ource":"\u0061\u0034b.amazonaws.com"},
        {"eventSource":"a4b.amazonaws\/com"},
        {"eventSource":"a4b\/amazonaws.com"}
    ]}"#;
    let (stats, handed) = read(file.as_bytes(), &[A4B, "a4b/amazonaws.com"]).unwrap();
    assert_eq!((stats.matched, stats.other), (3, 1));
    let indexes: Vec<u64> = handed.matched.iter().map(|(index, _)| *index).collect();
    assert_eq!(indexes, [0, 1, 3]);
    assert_eq!(
        handed.matched[0].1,
        br#"{"eventSource":"a4b\u002eamazonaws.com"}"#
    );
}

#[test]
fn non_ascii_event_sources_compare_by_value_and_lone_surrogates_match_nothing() {
    let file = r#"{"Records":[{"eventSource":"\u00e9t\u00E9 \ud83d\ude00"},{"eventSource":"été 😀"},{"eventSource":"\ud83d"},{"eventSource":"\ude00"}]}"#;
    let (stats, _) = read(file.as_bytes(), &["été 😀"]).unwrap();
    assert_eq!((stats.matched, stats.other), (2, 2));
}

#[test]
fn a_repeated_event_source_counts_by_its_last_value_as_in_serde_json() {
    let a4b = r#""eventSource":"a4b.amazonaws.com""#;
    let cases: &[(&str, bool)] = &[
        (
            r#""eventSource":"s3.amazonaws.com","eventSource":"a4b.amazonaws.com""#,
            true,
        ),
        (
            r#""eventSource":1,"event\u0053ource":"a4b.amazonaws.com""#,
            true,
        ),
        (
            r#""eventSource":{"eventSource":"x"},"eventSource":"a4b.amazonaws.com""#,
            true,
        ),
        (&format!(r#"{a4b},"eventSource":1"#), false),
        (
            &format!(r#"{a4b},"eventSource":{{"a":"a4b.amazonaws.com"}}"#),
            false,
        ),
        (
            &format!(r#"{a4b},"eventSource":["a4b.amazonaws.com"]"#),
            false,
        ),
        (&format!(r#"{a4b},"eventSource":[[]]"#), false),
        (&format!(r#"{a4b},"eventSource":{{}}"#), false),
        (&format!(r#"{a4b},"eventSource":[]"#), false),
        (&format!(r#"{a4b},"eventSource":null"#), false),
        (&format!(r#"{a4b},"eventSource":"s3.amazonaws.com""#), false),
        (
            &format!(r#"{a4b},"eventSource":"a4b.amazonaws.com\ud800""#),
            false,
        ),
        (&format!(r#"{a4b},"eventSource\ud800":1"#), true),
    ];
    for &(members, is_a4b) in cases {
        let text = format!(r#"{{"Records":[{{{members}}}]}}"#);
        let (stats, _) = read(text.as_bytes(), &[A4B]).unwrap();
        assert_eq!(stats.matched == 1, is_a4b, "{members}");
        assert_eq!(
            verdict(read(text.as_bytes(), &[A4B])),
            oracle(text.as_bytes(), &[A4B]),
            "{members}"
        );
    }
}

#[test]
fn elements_that_are_not_objects_are_rejected_with_their_index() {
    let file = format!(
        r#"{{"Records":[{}, "text", 42, [1], null, true, {}]}}"#,
        a4b_record(0),
        a4b_record(6)
    );
    let (stats, handed) = read(file.as_bytes(), &[A4B]).unwrap();
    assert_eq!((stats.records, stats.matched, stats.rejected), (7, 2, 5));
    assert_eq!(stats.records, stats.matched + stats.other + stats.rejected);
    let reasons: Vec<(u64, &str)> = handed
        .rejected
        .iter()
        .map(|(i, r)| (*i, r.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (1, "record 1 is a string, not a JSON object"),
            (2, "record 2 is a number, not a JSON object"),
            (3, "record 3 is an array, not a JSON object"),
            (4, "record 4 is null, not a JSON object"),
            (5, "record 5 is a boolean, not a JSON object"),
        ]
    );
    assert_eq!(handed.matched[1].0, 6);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn an_empty_object_is_empty() {
    assert!(matches!(read(b"", &[A4B]), Err(ReadError::Empty)));
}

#[test]
fn truncated_gzip_is_a_gzip_error_wherever_it_is_cut() {
    let gz = gzip(log_file(50).as_bytes());
    for cut in [2, 5, 10, 11, 30, gz.len() / 2, gz.len() - 8, gz.len() - 1] {
        let outcome = read(&gz[..cut], &[A4B]);
        assert!(
            matches!(outcome, Err(ReadError::Gzip(_))),
            "cut at {cut}: {outcome:?}"
        );
    }
}

#[test]
fn a_lone_surrogate_key_is_valid_json() {
    let text = r#"{"Records":[{"\ud800":1,"eventSource":"a4b.amazonaws.com"}]}"#;
    assert_eq!(
        verdict(read(text.as_bytes(), &[A4B])),
        oracle(text.as_bytes(), &[A4B])
    );
    assert_eq!(read(text.as_bytes(), &[A4B]).unwrap().0.matched, 1);
}

#[test]
fn corrupt_gzip_is_a_gzip_error() {
    let mut gz = gzip(log_file(50).as_bytes());
    let middle = gz.len() / 2;
    for byte in &mut gz[middle..middle + 16] {
        *byte ^= 0x5a;
    }
    assert!(matches!(read(&gz, &[A4B]), Err(ReadError::Gzip(_))));
    let mut bad_crc = gzip(log_file(2).as_bytes());
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 1;
    assert!(matches!(read(&bad_crc, &[A4B]), Err(ReadError::Gzip(_))));
    let trailing = [gzip(log_file(2).as_bytes()), b"garbage".to_vec()].concat();
    assert!(matches!(read(&trailing, &[A4B]), Err(ReadError::Gzip(_))));
}

#[test]
fn invalid_json_is_a_json_error_at_its_offset() {
    let cases: &[(&str, u64)] = &[
        ("   ", 3),
        ("{", 1),
        (r#"{"Records":[}"#, 12),
        (r#"{"Records":[{"a":1,}]}"#, 19),
        (r#"{"Records":[{"a" 1}]}"#, 17),
        (r#"{"Records":[{"a":01}]}"#, 18),
        (r#"{"Records":[{"a":1.}]}"#, 19),
        (r#"{"Records":[{"a":-}]}"#, 18),
        (r#"{"Records":[{"a":1e}]}"#, 19),
        (r#"{"Records":[{"a":+1}]}"#, 17),
        (r#"{"Records":[{"a":.5}]}"#, 17),
        (r#"{"Records":[{"a":tru}]}"#, 20),
        (r#"{"Records":[{"a":nul}]}"#, 20),
        (r#"{"Records":[{"a":NaN}]}"#, 17),
        (r#"{"Records":[{"a":"\x"}]}"#, 19),
        (r#"{"Records":[{"a":"\u12G4"}]}"#, 22),
        ("{\"Records\":[{\"a\":\"tab\tin string\"}]}", 21),
        (r#"{"Records":[{'a':1}]}"#, 13),
        (r#"{"Records":[{"a":1}],}"#, 21),
        (r#"{"Records":[{"a":1}]"#, 20),
        (r#"{"Records":[{"a":"unterminated}]}"#, 33),
        (r#"{"Records":[{"a":1}{"b":2}]}"#, 19),
        (r#"{"Records":[{"a":[1,2}]}"#, 21),
        (r#"{"Records":[1 2]}"#, 14),
        ("{\"Records\":[\"\u{0}\"]}", 13),
    ];
    for &(text, offset) in cases {
        match read(text.as_bytes(), &[A4B]) {
            Err(ReadError::Json {
                offset: found,
                message,
            }) => {
                assert_eq!(found, offset, "{text}: {message}");
                assert!(!message.is_empty());
            }
            other => panic!("{text}: {other:?}"),
        }
        assert_eq!(oracle(text.as_bytes(), &[A4B]), Verdict::Invalid, "{text}");
    }
}

#[test]
fn a_syntax_error_names_what_it_found_a_printable_character_a_byte_or_the_end() {
    let cases: &[(&[u8], &str)] = &[
        (b"{\"Records\":[{\"a\":1}x]}", "found `x`"),
        (b"{\"Records\":[{\"a\":1}\x01]}", "found byte 0x01"),
        ("{\"Records\":[{\"a\":1}é]}".as_bytes(), "found byte 0xc3"),
        (b"{\"Records\":[{\"a\":1} ", "found the end of the text"),
    ];
    for &(text, found) in cases {
        match read(text, &[A4B]) {
            Err(ReadError::Json { message, .. }) => {
                assert!(message.ends_with(found), "{message}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn keys_are_read_as_serde_json_reads_them_by_the_fast_pass_too() {
    // Whole in the buffer, so the pass over whole tokens reads them: keys of the record itself
    // and nested ones, after a first field and first in their object.
    let cases = [
        r#"{"Records":[{"eventSource":"s3.amazonaws.com",x":1}]}"#,
        r#"{"Records":[{x":1,"eventSource":"s3.amazonaws.com"}]}"#,
        r#"{"Records":[{"a":1,x":2,"eventSource":"s3.amazonaws.com"}]}"#,
        r#"{"Records":[{"a":1,"ab\:1,"eventSource":"s3.amazonaws.com"}]}"#,
        r#"{"Records":[{"a":1,"ab\q":1,"eventSource":"a4b.amazonaws.com"}]}"#,
        r#"{"Records":[{"a":1,"a\"b":1,"eventSource":"a4b.amazonaws.com"}]}"#,
        r#"{"Records":[{"a":1, "b"  :  2,"eventSource":"a4b.amazonaws.com"}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","ab\:1}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","ab\q":1}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","b\u12":2}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","a" :1,"b"x:1}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","a":{"b":1,x":2}}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","a":{x":2}}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","a":{"b\:2}}]}"#,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","a\n":1,"eventSource":"a4b.amazonaws.com"}]}"#,
        r#"{"Records":[{"a\u0041":1,"eventSource":"a4b.amazonaws.com","a":{"b\"":1, "c" : 2}}]}"#,
        r#"{"Records":[{"eventSourc":"a4b.amazonaws.com","eventSource" :"a4b.amazonaws.com"}]}"#,
        r#"{"Records":[{"eventSource":"a4b.amazonaws.com","eventSource\u0020":"s3.amazonaws.com"}]}"#,
    ];
    for text in cases {
        let expected = oracle(text.as_bytes(), &[A4B]);
        assert_eq!(verdict(read(text.as_bytes(), &[A4B])), expected, "{text}");
    }
}

#[test]
fn numbers_are_read_as_serde_json_reads_them_by_the_fast_pass_too() {
    for number in [
        "0", "-0", "0.0", "-0.5", "0e5", "0E+5", "0.5e-3", "10", "1.5e+3", "0.", "-0.", "0e",
        "0E+", "0.e1", "-", "01", "-01", ".5", "1.", "1e", "00", "0x1",
    ] {
        for record in [
            format!(r#"{{"eventSource":"s3.amazonaws.com","a":{number}}}"#),
            format!(r#"{{"a":[{number},1],"eventSource":"a4b.amazonaws.com"}}"#),
        ] {
            let text = format!("{{\"Records\":[{record}]}}");
            let expected = oracle(text.as_bytes(), &[A4B]);
            assert_eq!(verdict(read(text.as_bytes(), &[A4B])), expected, "{text}");
        }
    }
}

#[test]
fn an_event_source_with_a_lone_surrogate_beside_the_name_is_not_the_name() {
    for source in [
        r"\udc00a4b.amazonaws.com",
        r"\ud800a4b.amazonaws.com",
        r"\ud800\u0061\u0034b.amazonaws.com",
        r"a4b.amazonaws.com\ud800",
        r"a4b.amazonaws.com\udc00",
    ] {
        let text = format!(r#"{{"Records":[{{"eventSource":"{source}","a":1}}]}}"#);
        let (stats, _) = read(text.as_bytes(), &[A4B]).unwrap();
        assert_eq!((stats.matched, stats.other), (0, 1), "{source}");
        assert_eq!(
            verdict(read(text.as_bytes(), &[A4B])),
            oracle(text.as_bytes(), &[A4B])
        );
    }
}

#[test]
fn invalid_utf8_is_a_json_error() {
    for text in [
        b"{\"Records\":[{\"a\":\"\xFF\"}]}".as_slice(),
        b"{\"Records\":[{\"a\":\"\xC3\"}]}",
        b"{\"Records\":[{\"a\":\"\xED\xA0\x80\"}]}",
        b"{\"Records\":[]}\xC3",
    ] {
        assert!(
            matches!(read(text, &[A4B]), Err(ReadError::Json { .. })),
            "{text:?}"
        );
    }
}

#[test]
fn invalid_utf8_is_a_json_error_at_the_offset_of_its_first_byte_wherever_the_buffer_ends() {
    let head = format!(
        "{{\"Records\":[{},{{\"a\":\"",
        log_file(40)
            .trim_start_matches("{\"Records\":[")
            .trim_end_matches("]}")
    );
    let at = head.len() as u64;
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(b"\xFF\"}]}");
    for buffer_len in [1, 3, 64, 1000, BUFFER_LEN] {
        match read_with(&bytes[..], &options(&[A4B]), buffer_len) {
            Err(ReadError::Json { offset, message }) => {
                assert_eq!(offset, at, "buffer of {buffer_len}: {message}");
                assert!(message.contains("UTF-8"), "{message}");
            }
            other => panic!("buffer of {buffer_len}: {other:?}"),
        }
    }
}

#[test]
fn damaged_gzip_is_reported_as_such_even_when_its_text_fails_as_json_long_before() {
    // The JSON fails at byte 12; the damage (a wrong CRC) is met only after 2 MB of inflated
    // text, past several reads, and within the size cap: the damaged gzip is the cause reported.
    let text = format!("{{\"Records\":[x{}]}}", " ".repeat(2 << 20));
    let mut gz = gzip(text.as_bytes());
    let crc_at = gz.len() - 8;
    gz[crc_at] ^= 1;
    assert!(matches!(read(&gz, &[A4B]), Err(ReadError::Gzip(_))));
    // Past the cap it is not searched for: the JSON error stands.
    let capped = ReaderOptions {
        max_decompressed_bytes: 1 << 20,
        ..options(&[A4B])
    };
    assert!(matches!(
        read_with(&gz[..], &capped, BUFFER_LEN),
        Err(ReadError::Json { offset: 12, .. })
    ));
}

#[test]
fn the_reader_holds_no_more_than_a_buffer_of_text_past_the_record_it_hands_over() {
    // Small records, then one four times the buffer, then small ones again: past the large one
    // the buffer is back to its usual size.
    let large = format!(
        r#"{{"eventSource":"a4b.amazonaws.com","eventID":"large","d":"{}"}}"#,
        "é".repeat(8 * 1024)
    );
    let records: Vec<String> = (0..300)
        .map(a4b_record)
        .chain([large.clone()])
        .chain((300..1000).map(a4b_record))
        .collect();
    let text = format!("{{\"Records\":[{}]}}", records.join(","));
    let large_ends_at = text.find(&large).unwrap() + large.len();
    let buffer_len = 4096;
    for piece in [100, 1000, 1 << 20] {
        let input = Pieces::new(text.as_bytes(), vec![piece]);
        let handed_out = input.handed_out();
        let mut searched_to = 0;
        let mut checked = 0;
        let stats = read_on_one_thread(
            input,
            &options(&[A4B]),
            |event| {
                if let RecordEvent::Matched { raw, .. } = event {
                    let raw = raw.as_str();
                    let ends_at = searched_to + text[searched_to..].find(raw).unwrap() + raw.len();
                    searched_to = ends_at;
                    let ahead = handed_out.load(Ordering::Relaxed) - ends_at;
                    let settled = ends_at > large_ends_at + 2 * large.len()
                        || ends_at < large_ends_at - large.len();
                    if settled {
                        assert!(
                            ahead <= buffer_len,
                            "{ahead} bytes read past the record ending at {ends_at} (pieces of {piece})"
                        );
                        checked += 1;
                    }
                }
                Ok::<(), Infallible>(())
            },
            buffer_len,
        )
        .map_err(|(error, _)| error)
        .unwrap();
        assert_eq!(stats.matched, 1001);
        assert!(checked > 600, "{checked}");
    }
}

#[test]
fn no_more_than_one_byte_past_the_size_cap_is_read() {
    let text = log_file(2000);
    let input = Pieces::new(text.as_bytes(), vec![usize::MAX]);
    let handed_out = input.handed_out();
    let capped = ReaderOptions {
        max_decompressed_bytes: 10_000,
        ..options(&[A4B])
    };
    assert!(matches!(
        read_with(input, &capped, BUFFER_LEN),
        Err(ReadError::TooLarge { limit: 10_000 })
    ));
    assert_eq!(handed_out.load(Ordering::Relaxed), 10_001);
}

#[test]
fn records_up_to_the_record_cap_are_handed_over_wherever_the_buffer_ends() {
    let records: Vec<String> = (0..40)
        .map(|id| format!(r#"{{"eventSource":"a4b.amazonaws.com","eventID":"é😀-{id:03}"}}"#))
        .collect();
    let text = format!("{{\"Records\":[{}]}}", records.join(","));
    let longest = records.iter().map(String::len).max().unwrap() as u64;
    for buffer_len in (1..300).chain([4096, BUFFER_LEN]) {
        let capped = ReaderOptions {
            max_record_bytes: longest,
            ..options(&[A4B])
        };
        let (stats, handed) = read_with(text.as_bytes(), &capped, buffer_len).unwrap();
        assert_eq!(
            stats.matched, 40,
            "buffer of {buffer_len}: {:?}",
            handed.rejected
        );
        let shorter = ReaderOptions {
            max_record_bytes: longest - 1,
            ..options(&[A4B])
        };
        let (stats, _) = read_with(text.as_bytes(), &shorter, buffer_len).unwrap();
        assert_eq!(
            (stats.matched, stats.rejected),
            (0, 40),
            "buffer of {buffer_len}"
        );
    }
}

#[test]
fn trailing_garbage_is_a_json_error() {
    for tail in ["x", "{}", "]", "\u{0}", "0"] {
        let text = format!("{}\n{tail}", log_file(2));
        assert!(
            matches!(read(text.as_bytes(), &[A4B]), Err(ReadError::Json { .. })),
            "{tail}"
        );
    }
}

#[test]
fn an_object_without_records_is_no_records() {
    for text in [
        r#"{}"#,
        r#"{"records":[]}"#,
        r#"{"Record":[],"logFiles":[]}"#,
    ] {
        assert!(
            matches!(read(text.as_bytes(), &[A4B]), Err(ReadError::NoRecords)),
            "{text}"
        );
    }
}

#[test]
fn records_that_is_not_an_array_is_no_records() {
    for text in [
        r#"{"Records":{}}"#,
        r#"{"Records":null}"#,
        r#"{"Records":"[]"}"#,
    ] {
        assert!(
            matches!(read(text.as_bytes(), &[A4B]), Err(ReadError::NoRecords)),
            "{text}"
        );
    }
}

#[test]
fn two_records_keys_are_no_records() {
    let text = r#"{"Records":[],"Records":[]}"#;
    assert!(matches!(
        read(text.as_bytes(), &[A4B]),
        Err(ReadError::NoRecords)
    ));
}

#[test]
fn a_top_level_that_is_not_an_object_is_no_records() {
    for text in [r#"[{"Records":[]}]"#, "\"Records\"", "1", "null"] {
        assert!(
            matches!(read(text.as_bytes(), &[A4B]), Err(ReadError::NoRecords)),
            "{text}"
        );
    }
    // Invalid JSON stays a JSON error whatever the top-level value.
    assert!(matches!(read(b"[1,", &[A4B]), Err(ReadError::Json { .. })));
}

#[test]
fn valid_json_never_fails_its_file_for_depth() {
    // Records of another service 100 000 levels deep, one of them an array, and an A4B record
    // 10 000 levels deep, beside an ordinary A4B record: skipped, skipped, handed over, handed over.
    let deep_other = format!(
        r#"{{"eventSource":"s3.amazonaws.com","x":{}1{}}}"#,
        "[{\"a\":".repeat(50_000),
        "}]".repeat(50_000)
    );
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_a4b = format!(
        r#"{{"eventSource":"a4b.amazonaws.com","requestParameters":{}"x"{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let text = format!(
        r#"{{"Records":[{deep_other},{deep_array},{deep_a4b},{}],"more":{}{}}}"#,
        a4b_record(3),
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (stats, handed) = read(text.as_bytes(), &[A4B]).unwrap();
    assert_eq!(
        (stats.records, stats.matched, stats.other, stats.rejected),
        (4, 2, 1, 1)
    );
    assert_eq!(handed.matched[0], (2, deep_a4b.into_bytes()));
    assert_eq!(
        verdict(Ok((stats, handed))),
        oracle(text.as_bytes(), &[A4B])
    );
    // Unclosed nesting is still invalid JSON, however deep.
    let unclosed = format!(r#"{{"Records":[{}]}}"#, "[".repeat(100_000));
    assert!(matches!(
        read(unclosed.as_bytes(), &[A4B]),
        Err(ReadError::Json { .. })
    ));
}

#[test]
fn more_than_the_cap_is_too_large() {
    let file = log_file(100);
    let limited = |limit| ReaderOptions {
        max_decompressed_bytes: limit,
        ..options(&[A4B])
    };
    let exact = file.len() as u64;
    assert!(read_with(file.as_bytes(), &limited(exact), 64).is_ok());
    for bytes in [file.as_bytes().to_vec(), gzip(file.as_bytes())] {
        let outcome = read_both(&bytes[..], &limited(exact - 1), 64);
        assert!(matches!(outcome, Err(ReadError::TooLarge { limit }) if limit == exact - 1));
    }
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    // About 1 GiB of spaces in 1 MiB members of about 1 KiB each: reading must stop at the cap.
    let space_member = gzip(&vec![b' '; 1 << 20]);
    let mut bomb = gzip(b"{\"Records\":[");
    for _ in 0..1024 {
        bomb.extend_from_slice(&space_member);
    }
    assert!(bomb.len() < 4 << 20);
    let limit = 1 << 20;
    let options = ReaderOptions {
        max_decompressed_bytes: limit,
        ..options(&[A4B])
    };
    let outcome = read_log::<_, Infallible, _>(&bomb[..], &options, |_| Ok(()));
    assert!(matches!(
        outcome,
        Err(ReadError::TooLarge { limit: 1_048_576 })
    ));
    let outcome = read_log_threaded::<_, Infallible, _>(&bomb[..], &options, |_| Ok(()));
    assert!(matches!(
        outcome,
        Err(ReadError::TooLarge { limit: 1_048_576 })
    ));
}

#[derive(Debug, thiserror::Error)]
#[error("the sink is full")]
struct SinkFull;

#[test]
fn a_callback_error_stops_reading_at_once() {
    let mut calls = 0;
    let outcome = read_log(log_file(10).as_bytes(), &options(&[A4B]), |_| {
        calls += 1;
        if calls == 2 { Err(SinkFull) } else { Ok(()) }
    });
    assert!(matches!(outcome, Err(ReadError::Consumer(SinkFull))));
    assert_eq!(calls, 2);
    let mut calls = 0;
    let outcome = read_log_threaded(&gzip(log_file(10).as_bytes())[..], &options(&[A4B]), |_| {
        calls += 1;
        if calls == 2 { Err(SinkFull) } else { Ok(()) }
    });
    assert!(matches!(outcome, Err(ReadError::Consumer(SinkFull))));
    assert_eq!(calls, 2);
}

#[test]
fn an_underlying_read_error_is_an_io_error_for_plain_and_gzip() {
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            let n = buf.len().min(self.0.len()).min(100);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let file = log_file(50);
    let gz = gzip(file.as_bytes());
    for bytes in [&file.as_bytes()[..1000], &gz[..gz.len() / 2], &[][..]] {
        let outcome = read_with(Failing(bytes), &options(&[A4B]), BUFFER_LEN);
        assert!(matches!(outcome, Err(ReadError::Io(_))), "{outcome:?}");
        let outcome = read_threaded_with(Failing(bytes), &options(&[A4B]), BUFFER_LEN);
        assert!(matches!(outcome, Err(ReadError::Io(_))), "{outcome:?}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let message = read(br#"{"Records":[{"a":1,}]}"#, &[A4B])
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "invalid JSON at byte 19 of the decompressed data: expected a key string, found `}`"
    );
    assert!(read(b"", &[A4B]).unwrap_err().to_string().contains("empty"));
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Writes `value` as JSON, escaping the characters `escapes` picks as `\u` sequences and adding
/// whitespace where `spaces` says.
fn write_json(value: &serde_json::Value, flags: &mut impl Iterator<Item = bool>, out: &mut String) {
    use serde_json::Value;
    fn space(out: &mut String, flags: &mut impl Iterator<Item = bool>) {
        if flags.next().unwrap_or(false) {
            out.push_str(" \n\t\r");
        }
    }
    match value {
        Value::String(text) => write_string(text, flags, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(out, flags);
                write_json(item, flags, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(out, flags);
                write_string(key, flags, out);
                space(out, flags);
                out.push(':');
                write_json(item, flags, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(text: &str, flags: &mut impl Iterator<Item = bool>, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        if flags.next().unwrap_or(false) || ch < ' ' || ch == '"' || ch == '\\' {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(ch);
        }
    }
    out.push('"');
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("eventSource".to_owned()),
        Just("Records".to_owned()),
        Just(A4B.to_owned()),
        Just("s3.amazonaws.com".to_owned()),
        Just("été 😀".to_owned()),
        any::<String>(),
    ]
}

fn json_strategy() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        text_strategy().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text_strategy(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A `{"Records":[...]}` document: records that are mostly objects with an `eventSource`.
fn log_strategy() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let record = (
        json_strategy(),
        prop::option::of(text_strategy()),
        any::<bool>(),
    )
        .prop_map(|(value, source, as_object)| match (value, source) {
            (Value::Object(mut members), Some(source)) => {
                members.insert("eventSource".to_owned(), Value::String(source));
                Value::Object(members)
            }
            (value, Some(source)) if as_object => {
                serde_json::json!({ "eventSource": source, "requestParameters": value })
            }
            (value, _) => value,
        });
    (
        prop::collection::vec(record, 0..8),
        prop::collection::vec((text_strategy(), json_strategy()), 0..3),
    )
        .prop_map(|(records, others)| {
            let mut members: serde_json::Map<String, Value> = others.into_iter().collect();
            members.insert("Records".to_owned(), Value::Array(records));
            Value::Object(members)
        })
}

/// One edit of a JSON text, with bytes that break JSON in the interesting ways.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let byte = prop::sample::select(b"{}[]:,\"\\ -+.eE019tfnulx/\n\x01\xC3\xFF".to_vec());
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, byte)| Edit::Insert(at, byte)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte).prop_map(|(at, byte)| Edit::Replace(at, byte)),
    ]
}

fn apply(edits: &[Edit], text: &mut Vec<u8>) {
    for edit in edits {
        let len = text.len();
        match *edit {
            Edit::Insert(at, byte) => text.insert(at % (len + 1), byte),
            Edit::Delete(at) if len > 0 => {
                text.remove(at % len);
            }
            Edit::Replace(at, byte) if len > 0 => text[at % len] = byte,
            _ => {}
        }
    }
}

/// Log files whose records repeat `eventSource` with values of any type, hold odd keys and strings
/// (unpaired surrogates), numbers past a double, and nesting past serde_json's limit.
fn lenient_log_strategy() -> impl Strategy<Value = Json> {
    let source_key = prop_oneof![
        3 => Just(plain("eventSource")),
        1 => Just([vec![Piece::Escaped('e')], plain("ventSource")].concat()),
    ];
    let source_value = prop_oneof![
        3 => Just(Json::String(plain(A4B))),
        1 => Just(Json::String(plain("s3.amazonaws.com"))),
        1 => Just(Json::String([plain(A4B), vec![Piece::Unit(0xD800)]].concat())),
        2 => lenient::json_strategy(),
    ];
    let deep = (lenient::json_strategy(), 100usize..700).prop_map(|(mut value, depth)| {
        for _ in 0..depth {
            value = Json::Array(vec![value]);
        }
        value
    });
    let member = prop_oneof![
        2 => (source_key, source_value),
        3 => (key_strategy(), lenient::json_strategy()),
        1 => (key_strategy(), deep),
    ];
    let record = prop_oneof![
        4 => prop::collection::vec(member, 0..6).prop_map(Json::Object),
        1 => lenient::json_strategy(),
    ];
    prop::collection::vec(record, 0..6)
        .prop_map(|records| Json::Object(vec![(plain("Records"), Json::Array(records))]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(a4b_audit_devtools::proptest_cases(512)))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), buffer_len in 1usize..64) {
        let _ = read_with(&bytes[..], &options(SOURCES), buffer_len);
        let _ = read_with(&gzip(&bytes)[..], &options(SOURCES), buffer_len);
        let mut gz = gzip(&bytes);
        let last = gz.len() - 1;
        gz[last / 2] ^= bytes.first().copied().unwrap_or(1);
        let _ = read_with(&gz[..], &options(SOURCES), buffer_len);
    }

    #[test]
    fn any_valid_log_file_of_repeated_keys_odd_strings_and_depth_gives_serde_jsons_records(
        log in lenient_log_strategy(),
        buffer_len in 1usize..64,
    ) {
        let text = log.text();
        let expected = oracle(text.as_bytes(), SOURCES);
        prop_assert!(matches!(expected, Verdict::Records { .. }), "{}", text);
        prop_assert_eq!(verdict(read_with(text.as_bytes(), &options(SOURCES), buffer_len)), expected);
    }

    #[test]
    fn any_json_text_gets_serde_jsons_verdict(
        value in json_strategy(),
        flags in prop::collection::vec(any::<bool>(), 0..64),
        edits in prop::collection::vec(edit_strategy(), 0..3),
        buffer_len in 1usize..48,
    ) {
        let mut text = String::new();
        write_json(&value, &mut flags.iter().copied().cycle(), &mut text);
        let mut bytes = text.into_bytes();
        apply(&edits, &mut bytes);
        let expected = oracle(&bytes, SOURCES);
        prop_assert_eq!(verdict(read_with(&bytes[..], &options(SOURCES), buffer_len)), expected);
    }

    #[test]
    fn any_log_file_gives_the_oracles_records(
        value in log_strategy(),
        flags in prop::collection::vec(any::<bool>(), 0..64),
        edits in prop::collection::vec(edit_strategy(), 0..2),
        pieces in prop::collection::vec(1usize..40, 1..8),
        buffer_len in 1usize..64,
    ) {
        let mut text = String::new();
        write_json(&value, &mut flags.iter().copied().cycle(), &mut text);
        let mut bytes = text.into_bytes();
        apply(&edits, &mut bytes);
        let expected = oracle(&bytes, SOURCES);
        if edits.is_empty() {
            let is_log_file = matches!(expected, Verdict::Records { .. });
            prop_assert!(is_log_file);
        }
        let plain = Pieces::new(&bytes, pieces.clone());
        prop_assert_eq!(verdict(read_with(plain, &options(SOURCES), buffer_len)), expected);
        if !bytes.is_empty() {
            let expected = oracle(&bytes, SOURCES);
            let gz = gzip(&bytes);
            let compressed = Pieces::new(&gz, pieces.clone());
            prop_assert_eq!(verdict(read_with(compressed, &options(SOURCES), buffer_len)), expected);
            let compressed = Pieces::new(&gz, pieces);
            let threaded = read_threaded_with(compressed, &options(SOURCES), buffer_len);
            prop_assert_eq!(verdict(threaded), oracle(&bytes, SOURCES));
        }
    }
}

/// Buffer sizes from one byte (every token split) to the usual one (whole records in one piece),
/// so that the scanner's fast pass over whole tokens and its token-at-a-time path both run, and
/// hand over to each other at every kind of place.
fn any_buffer_len() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..64, 64usize..4096, Just(BUFFER_LEN)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(a4b_audit_devtools::proptest_cases(512)))]

    #[test]
    fn the_nested_values_of_skipped_and_matched_records_get_serde_jsons_verdict_at_any_split(
        value in json_strategy(),
        source in prop_oneof![Just(A4B), Just("s3.amazonaws.com")],
        flags in prop::collection::vec(any::<bool>(), 0..64),
        edits in prop::collection::vec(edit_strategy(), 0..3),
        buffer_len in any_buffer_len(),
    ) {
        // Inside a record (depth two and more): strings with escapes anywhere (the flags), numbers,
        // literals and containers in any mix, and the edits break them in every way.
        let record = serde_json::json!({
            "eventVersion": "1.08",
            "requestParameters": value,
            "eventSource": source,
            "responseElements": [value, {"nested": value}],
        });
        let document = serde_json::json!({"Records": [record, value, record]});
        let mut text = String::new();
        write_json(&document, &mut flags.iter().copied().cycle(), &mut text);
        let mut bytes = text.into_bytes();
        apply(&edits, &mut bytes);
        let expected = oracle(&bytes, SOURCES);
        prop_assert_eq!(verdict(read_with(&bytes[..], &options(SOURCES), buffer_len)), expected);
        let threaded = read_threaded_with(&bytes[..], &options(SOURCES), buffer_len);
        prop_assert_eq!(verdict(threaded), oracle(&bytes, SOURCES));
    }

    #[test]
    fn deep_valid_json_in_any_record_is_read_at_any_split(
        log in lenient_log_strategy(),
        buffer_len in any_buffer_len(),
    ) {
        let text = log.text();
        let expected = oracle(text.as_bytes(), SOURCES);
        prop_assert_eq!(verdict(read_with(text.as_bytes(), &options(SOURCES), buffer_len)), expected);
    }
}

#[test]
fn escapes_and_multibyte_characters_split_at_every_byte_give_the_same_records() {
    let tricky = r#"{"Records":[{"eventSource":"s3.amazonaws.com","requestParameters":{"k\"ey":"a\\\"b\u00e9\ud83d\ude00é😀","n":[-0.5e+10,0,1E-2,true,false,null,{}],"e":[]}},{"eventSource":"a4b.amazonaws.com","requestParameters":{"s":"\/\b\f\n\r\t"}}]}"#;
    let expected = oracle(tricky.as_bytes(), SOURCES);
    assert!(matches!(expected, Verdict::Records { .. }));
    for buffer_len in 1..tricky.len() + 2 {
        assert_eq!(
            verdict(read_with(tricky.as_bytes(), &options(SOURCES), buffer_len)),
            expected,
            "buffer of {buffer_len}"
        );
    }
    // Invalid UTF-8 (a lone continuation byte) inside a skipped record, at every place a window
    // can end.
    let mut bytes = tricky.replacen("é😀", "é", 1).into_bytes();
    let at = bytes.iter().position(|&byte| byte == 0xC3).unwrap();
    bytes.insert(at + 2, 0x80);
    for buffer_len in 1..bytes.len() + 2 {
        assert!(matches!(
            read_with(&bytes[..], &options(SOURCES), buffer_len),
            Err(ReadError::Json { .. })
        ));
    }
}

#[test]
fn the_thread_layout_fitted_to_the_cores_gives_the_same_records() {
    let file = gzip(log_file(12).as_bytes());
    let mut handed = Handed::default();
    let stats = read_log_counted(&file[..], &options(&[A4B]), |event| handed.take(event)).unwrap();
    assert_eq!(
        verdict(Ok((stats, handed))),
        verdict(read_with(&file[..], &options(&[A4B]), BUFFER_LEN))
    );
}

#[test]
fn on_lambda_the_thread_layout_follows_the_cpu_the_memory_pays_for() {
    // Lambda: 1,769 MB buys one vCPU; the template's default 512 MB about a third of one.
    assert_eq!(super::cores_to_use(2, Some(512)), 1);
    assert_eq!(super::cores_to_use(2, Some(1_769)), 1);
    assert_eq!(super::cores_to_use(2, Some(3_537)), 1);
    assert_eq!(super::cores_to_use(2, Some(3_538)), 2);
    assert_eq!(super::cores_to_use(6, Some(10_240)), 5);
    // Never more than the OS shows, never none.
    assert_eq!(super::cores_to_use(1, Some(10_240)), 1);
    assert_eq!(super::cores_to_use(0, None), 1);
    // Off Lambda, what the OS shows.
    assert_eq!(super::cores_to_use(2, None), 2);
}
