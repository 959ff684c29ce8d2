//! The record scanner: validates the whole JSON text as it streams by (RFC 8259) without building
//! values, finds the top-level `Records` array and hands over its elements one at a time.

use std::marker::PhantomData;

use super::decode::Source;
use super::input::Input;
use super::{CheckedRecord, ReadError, ReadStats, RecordEvent};
use crate::json::{Container, Nesting, is_ws, skip_ws, string_stop};

const BOM: &[u8] = b"\xEF\xBB\xBF";
const RECORDS_KEY: &[u8] = b"Records";
const EVENT_SOURCE_KEY: &[u8] = b"eventSource";

type Scan<T, E> = Result<T, ReadError<E>>;

pub(super) struct Scanner<'a, S: Source, E, F> {
    pub(super) input: Input<S>,
    event_sources: &'a [String],
    /// The last string read with decoding on.
    text: Text,
    /// The containers open inside the value being scanned: valid JSON of any depth is read, at
    /// one bit a level.
    nesting: Nesting,
    pub(super) stats: ReadStats,
    on_record: F,
    consumer_error: PhantomData<fn() -> E>,
}

impl<'a, S, E, F> Scanner<'a, S, E, F>
where
    S: Source,
    E: std::error::Error + 'static,
    F: FnMut(RecordEvent<'_>) -> Result<(), E>,
{
    pub(super) fn new(input: Input<S>, event_sources: &'a [String], on_record: F) -> Self {
        let decode_cap = event_sources
            .iter()
            .map(String::len)
            .chain([RECORDS_KEY.len(), EVENT_SOURCE_KEY.len()])
            .max()
            .unwrap_or_default();
        Self {
            input,
            event_sources,
            text: Text::new(decode_cap),
            nesting: Nesting::default(),
            stats: ReadStats::default(),
            on_record,
            consumer_error: PhantomData,
        }
    }

    /// Scans the whole text: `{ ..., "Records": [ ... ], ... }` and nothing after it.
    pub(super) fn document(&mut self) -> Scan<(), E> {
        self.skip_bom()?;
        match self.peek_non_ws()? {
            Some(b'{') => self.input.advance(1),
            Some(_) => {
                self.value(false)?;
                self.end_of_text()?;
                return Err(ReadError::NoRecords);
            }
            None => return Err(self.syntax("the JSON text is empty or only whitespace")),
        }
        let mut records_keys = 0u32;
        let mut records_is_array = false;
        match self.peek_non_ws()? {
            Some(b'}') => self.input.advance(1),
            Some(b'"') => loop {
                self.input.advance(1);
                self.string(true)?;
                let is_records = self.text.is(RECORDS_KEY);
                self.colon()?;
                if is_records {
                    records_keys += 1;
                    if self.peek_non_ws()? == Some(b'[') {
                        self.input.advance(1);
                        self.records()?;
                        records_is_array = true;
                    } else {
                        self.value(false)?;
                        records_is_array = false;
                    }
                } else {
                    self.value(false)?;
                }
                match self.peek_non_ws()? {
                    Some(b',') => {
                        self.input.advance(1);
                        if self.peek_non_ws()? != Some(b'"') {
                            return Err(self.unexpected("a key string"));
                        }
                    }
                    Some(b'}') => {
                        self.input.advance(1);
                        break;
                    }
                    _ => return Err(self.unexpected("`,` or `}`")),
                }
            },
            _ => return Err(self.unexpected("a key string or `}`")),
        }
        self.end_of_text()?;
        // A second `Records` key would make the file ambiguous: refuse it rather than guess.
        if records_keys == 1 && records_is_array {
            Ok(())
        } else {
            Err(ReadError::NoRecords)
        }
    }

    /// The elements of `Records`, after its `[`, through its `]`.
    fn records(&mut self) -> Scan<(), E> {
        if self.peek_non_ws()? == Some(b']') {
            self.input.advance(1);
            return Ok(());
        }
        let mut index = 0u64;
        loop {
            match self.peek_non_ws()? {
                Some(b'{') => {
                    self.input.keep_from_here();
                    let matched = self.value(true)?;
                    match self.input.kept() {
                        Ok(raw) if matched => {
                            // The window holds checked UTF-8 only, and a record starts and ends
                            // with ASCII: this check cannot fail, and costs a few hundred
                            // instructions a record.
                            let text = simdutf8::basic::from_utf8(raw)
                                .map_err(|_| self.syntax("invalid UTF-8 inside a record"))?;
                            let raw = CheckedRecord::scanned(text);
                            self.stats.matched += 1;
                            (self.on_record)(RecordEvent::Matched { index, raw })
                                .map_err(ReadError::Consumer)?;
                        }
                        Ok(_) => self.stats.other += 1,
                        Err(len) => {
                            self.stats.rejected += 1;
                            let reason = format!(
                                "record {index} is {len} bytes long, longer than \
                                 MAX_RECORD_BYTES ({} bytes): skipped without being held; raise \
                                 MAX_RECORD_BYTES if it is genuine",
                                self.input.record_cap()
                            );
                            (self.on_record)(RecordEvent::Rejected { index, reason })
                                .map_err(ReadError::Consumer)?;
                        }
                    }
                    self.input.release();
                }
                first => {
                    self.value(false)?;
                    let kind = match first {
                        Some(b'"') => "a string",
                        Some(b'[') => "an array",
                        Some(b't' | b'f') => "a boolean",
                        Some(b'n') => "null",
                        _ => "a number",
                    };
                    self.stats.rejected += 1;
                    let reason = format!("record {index} is {kind}, not a JSON object");
                    (self.on_record)(RecordEvent::Rejected { index, reason })
                        .map_err(ReadError::Consumer)?;
                }
            }
            self.stats.records += 1;
            index += 1;
            match self.peek_non_ws()? {
                Some(b',') => self.input.advance(1),
                Some(b']') => {
                    self.input.advance(1);
                    return Ok(());
                }
                _ => return Err(self.unexpected("`,` or `]` after a record")),
            }
        }
    }

    /// Scans one JSON value. With `watch_source`, the value is a record object and the result says
    /// whether its own `eventSource` (the last one, should there be several, as in
    /// `serde_json::Value`) is a string equal to a configured one.
    fn value(&mut self, watch_source: bool) -> Scan<bool, E> {
        self.nesting.clear();
        let mut matched = false;
        let mut next_is_source = false;
        'value: loop {
            let is_source = std::mem::take(&mut next_is_source);
            // The fast pass takes every token it can see whole and needs no decoding of; the
            // tokens it leaves (at the buffer's end, a record's own keys, anything invalid) are
            // taken below, one at a time.
            let skimmed_a_value = !is_source && self.skim(watch_source) == Skimmed::AfterValue;
            if !skimmed_a_value {
                let Some(first) = self.peek_non_ws()? else {
                    return Err(self.unexpected("a value"));
                };
                if is_source && first != b'"' {
                    // An `eventSource` that is no string (an object or array too) overrides any
                    // before.
                    matched = false;
                }
                if self.one_value(
                    first,
                    is_source,
                    watch_source,
                    &mut next_is_source,
                    &mut matched,
                )? {
                    continue 'value;
                }
            }
            // After a complete value: close containers until one continues.
            loop {
                let Some(container) = self.nesting.last() else {
                    return Ok(matched);
                };
                match (self.peek_non_ws()?, container) {
                    (Some(b','), Container::Object) => {
                        self.input.advance(1);
                        if self.peek_non_ws()? != Some(b'"') {
                            return Err(self.unexpected("a key string"));
                        }
                        next_is_source = self.key(watch_source)?;
                        continue 'value;
                    }
                    (Some(b','), Container::Array) => {
                        self.input.advance(1);
                        continue 'value;
                    }
                    (Some(b'}'), Container::Object) | (Some(b']'), Container::Array) => {
                        self.input.advance(1);
                        self.nesting.pop();
                    }
                    (_, Container::Object) => return Err(self.unexpected("`,` or `}`")),
                    (_, Container::Array) => return Err(self.unexpected("`,` or `]`")),
                }
            }
        }
    }

    /// One value's first token, `first` (not consumed yet): a scalar whole, or a container's
    /// opening (and its closing when it is empty). Returns `true` when a container was left open
    /// and a value (or a key's value) comes next.
    fn one_value(
        &mut self,
        first: u8,
        is_source: bool,
        watch_source: bool,
        next_is_source: &mut bool,
        matched: &mut bool,
    ) -> Scan<bool, E> {
        {
            match first {
                b'{' => {
                    self.input.advance(1);
                    self.nesting.push(Container::Object);
                    match self.peek_non_ws()? {
                        Some(b'}') => {
                            self.input.advance(1);
                            self.nesting.pop();
                        }
                        Some(b'"') => {
                            *next_is_source = self.key(watch_source)?;
                            return Ok(true);
                        }
                        _ => return Err(self.unexpected("a key string or `}`")),
                    }
                }
                b'[' => {
                    self.input.advance(1);
                    self.nesting.push(Container::Array);
                    if self.peek_non_ws()? == Some(b']') {
                        self.input.advance(1);
                        self.nesting.pop();
                    } else {
                        return Ok(true);
                    }
                }
                b'"' => {
                    self.input.advance(1);
                    self.string(is_source)?;
                    if is_source {
                        *matched = (self.event_sources.iter())
                            .any(|source| self.text.is(source.as_bytes()));
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(self.unexpected("a value")),
            }
            Ok(false)
        }
    }

    /// The fast pass over the tokens of a value that are whole in the buffer, from where a value is
    /// expected: scalars, and containers opened and closed, at any depth, without decoding and
    /// without a call per token. It stops before the first token it cannot take whole: one that
    /// runs past the buffered bytes, a key of the record itself when `watch_source` that is
    /// `eventSource` or holds an escape (the caller decodes it), or anything that is not valid
    /// JSON (the caller then reports it). It only ever
    /// stops where a value is expected ([`Skimmed::ExpectValue`]) or after a complete value
    /// ([`Skimmed::AfterValue`]), with [`Self::nesting`] kept as it goes.
    ///
    /// Measured with callgrind on the 20 MB benchmark file (`a4b-dev large-trail --size 20MB`):
    /// scanning the records took 231M instructions token at a time (11.6 a byte), 146M with this
    /// pass (7.3 a byte).
    fn skim(&mut self, watch_source: bool) -> Skimmed {
        let bytes = self.input.avail();
        let nesting = &mut self.nesting;
        // The innermost container, kept here as it changes: looked up on every `,` and closing.
        let mut innermost = nesting.last();
        let mut at = 0;
        let mut after_value = false;
        // `at` only moves past whole tokens; `stop` is where to hand over and in which state.
        let stop = loop {
            if after_value {
                let Some(container) = innermost else {
                    break (at, Skimmed::AfterValue);
                };
                let close = skip_ws(bytes, at);
                match (bytes.get(close), container) {
                    (Some(b','), Container::Object) => {
                        let key = if watch_source && nesting.depth() == 1 {
                            other_plain_key_and_colon(bytes, close + 1)
                        } else {
                            key_and_colon(bytes, close + 1)
                        };
                        match key {
                            Some(next) => {
                                at = next;
                                after_value = false;
                            }
                            None => break (at, Skimmed::AfterValue),
                        }
                    }
                    (Some(b','), Container::Array) => {
                        at = close + 1;
                        after_value = false;
                    }
                    (Some(b'}'), Container::Object) | (Some(b']'), Container::Array) => {
                        nesting.pop();
                        innermost = nesting.last();
                        at = close + 1;
                    }
                    _ => break (at, Skimmed::AfterValue),
                }
                continue;
            }
            let start = skip_ws(bytes, at);
            let Some(&first) = bytes.get(start) else {
                break (at, Skimmed::ExpectValue);
            };
            let end = match first {
                b'"' => string_end(bytes, start + 1),
                b'{' => {
                    let inner = skip_ws(bytes, start + 1);
                    match bytes.get(inner) {
                        Some(b'}') => Some(inner + 1),
                        Some(b'"') => {
                            let key = if watch_source && nesting.depth() == 0 {
                                other_plain_key_and_colon(bytes, inner)
                            } else {
                                key_and_colon(bytes, inner)
                            };
                            match key {
                                Some(next) => {
                                    nesting.push(Container::Object);
                                    innermost = Some(Container::Object);
                                    at = next;
                                    continue;
                                }
                                None => None,
                            }
                        }
                        _ => None,
                    }
                }
                b'[' => {
                    let inner = skip_ws(bytes, start + 1);
                    match bytes.get(inner) {
                        Some(b']') => Some(inner + 1),
                        Some(_) => {
                            nesting.push(Container::Array);
                            innermost = Some(Container::Array);
                            at = inner;
                            continue;
                        }
                        None => None,
                    }
                }
                b't' => literal_end(bytes, start, b"true"),
                b'f' => literal_end(bytes, start, b"false"),
                b'n' => literal_end(bytes, start, b"null"),
                _ => number_end(bytes, start),
            };
            match end {
                Some(end) => {
                    at = end;
                    after_value = true;
                }
                None => break (at, Skimmed::ExpectValue),
            }
        };
        let (at, state) = stop;
        self.input.advance(at);
        state
    }

    /// A key and its colon, at the opening quote; says whether it is the record's `eventSource`.
    fn key(&mut self, watch_source: bool) -> Scan<bool, E> {
        self.input.advance(1);
        let decode = watch_source && self.nesting.depth() == 1;
        // Most keys are whole in the buffer and hold no escape: compared as they stand, without
        // decoding them into `text` (a record's own keys took 200 instructions each that way).
        let avail = self.input.avail();
        if let Some(stop) = string_stop(avail)
            && avail.get(stop) == Some(&b'"')
        {
            let is_source = decode && avail.get(..stop) == Some(EVENT_SOURCE_KEY);
            self.input.advance(stop + 1);
            self.colon()?;
            return Ok(is_source);
        }
        self.string(decode)?;
        self.colon()?;
        Ok(decode && self.text.is(EVENT_SOURCE_KEY))
    }

    fn colon(&mut self) -> Scan<(), E> {
        if self.peek_non_ws()? != Some(b':') {
            return Err(self.unexpected("`:`"));
        }
        self.input.advance(1);
        Ok(())
    }

    /// A string's contents and closing quote, after the opening quote. With `decode`, its value is
    /// left in `text`.
    fn string(&mut self, decode: bool) -> Scan<(), E> {
        if decode {
            self.text.clear();
        }
        loop {
            let avail = self.input.avail();
            let stop = string_stop(avail);
            let run = avail.get(..stop.unwrap_or(avail.len())).unwrap_or_default();
            if let Some(at) = stop
                && avail.get(at).is_some_and(|&byte| byte < 0x20)
            {
                self.input.advance(at);
                return Err(self.syntax("a control character inside a string (it must be escaped)"));
            }
            let run_len = run.len();
            if decode && run_len > 0 {
                self.text.push(run);
            }
            self.input.advance(run_len);
            match stop {
                Some(_) => {
                    let quote_or_backslash = self.input.avail().first().copied();
                    self.input.advance(1);
                    if quote_or_backslash == Some(b'"') {
                        if decode {
                            self.text.finish();
                        }
                        return Ok(());
                    }
                    self.escape(decode)?;
                }
                None => {
                    if !self.input.fill()? {
                        return Err(self.syntax("the text ends inside a string"));
                    }
                }
            }
        }
    }

    /// One escape sequence, after its backslash.
    fn escape(&mut self, decode: bool) -> Scan<(), E> {
        let Some(kind) = self.input.peek()? else {
            return Err(self.syntax("the text ends inside an escape sequence"));
        };
        let simple = match kind {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                self.input.advance(1);
                let unit = self.hex4()?;
                if decode {
                    self.text.push_unit(unit);
                }
                return Ok(());
            }
            _ => return Err(self.syntax("an invalid escape sequence")),
        };
        self.input.advance(1);
        if decode {
            self.text.push(&[simple]);
        }
        Ok(())
    }

    fn hex4(&mut self) -> Scan<u16, E> {
        let mut unit = 0u16;
        for _ in 0..4 {
            let digit = match self.input.peek()? {
                Some(byte) => (byte as char).to_digit(16),
                None => None,
            };
            let Some(digit) = digit else {
                return Err(self.syntax("a `\\u` escape needs four hex digits"));
            };
            self.input.advance(1);
            unit = unit << 4 | digit as u16;
        }
        Ok(unit)
    }

    fn literal(&mut self, word: &[u8]) -> Scan<(), E> {
        if self.input.avail().starts_with(word) {
            self.input.advance(word.len());
            return Ok(());
        }
        for &expected in word {
            if self.input.peek()? != Some(expected) {
                return Err(self.unexpected("`true`, `false` or `null`"));
            }
            self.input.advance(1);
        }
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Scan<(), E> {
        if self.input.peek()? == Some(b'-') {
            self.input.advance(1);
        }
        match self.input.peek()? {
            Some(b'0') => self.input.advance(1),
            Some(b'1'..=b'9') => self.digits()?,
            _ => return Err(self.unexpected("a digit")),
        }
        if self.input.peek()? == Some(b'.') {
            self.input.advance(1);
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.input.peek()? {
            self.input.advance(1);
            if let Some(b'+' | b'-') = self.input.peek()? {
                self.input.advance(1);
            }
            self.one_or_more_digits()?;
        }
        Ok(())
    }

    fn one_or_more_digits(&mut self) -> Scan<(), E> {
        if !matches!(self.input.peek()?, Some(b'0'..=b'9')) {
            return Err(self.unexpected("a digit"));
        }
        self.digits()
    }

    fn digits(&mut self) -> Scan<(), E> {
        loop {
            let avail = self.input.avail();
            let count = avail
                .iter()
                .take_while(|byte| byte.is_ascii_digit())
                .count();
            let all = count == avail.len();
            self.input.advance(count);
            if !all || !self.input.fill()? {
                return Ok(());
            }
        }
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end of the text.
    #[inline]
    fn peek_non_ws(&mut self) -> Scan<Option<u8>, E> {
        // Compact JSON, the usual case: no whitespace at all.
        if let Some(&byte) = self.input.avail().first()
            && !is_ws(byte)
        {
            return Ok(Some(byte));
        }
        loop {
            let avail = self.input.avail();
            match avail.iter().position(|&byte| !is_ws(byte)) {
                Some(at) => {
                    let byte = avail.get(at).copied();
                    self.input.advance(at);
                    return Ok(byte);
                }
                None => {
                    let len = avail.len();
                    self.input.advance(len);
                    if !self.input.fill()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    fn skip_bom(&mut self) -> Scan<(), E> {
        while self.input.avail().len() < BOM.len() && self.input.fill()? {}
        if self.input.avail().starts_with(BOM) {
            self.input.advance(BOM.len());
        }
        Ok(())
    }

    fn end_of_text(&mut self) -> Scan<(), E> {
        match self.peek_non_ws()? {
            None => Ok(()),
            Some(_) => Err(self.syntax("unexpected data after the JSON text")),
        }
    }

    fn syntax(&self, message: impl Into<String>) -> ReadError<E> {
        ReadError::Json {
            offset: self.input.offset(),
            message: message.into(),
        }
    }

    /// An error at the current byte: what was expected and what is there.
    fn unexpected(&self, expected: &str) -> ReadError<E> {
        let found = match self.input.avail().first() {
            None => "the end of the text".to_owned(),
            Some(&byte) if byte.is_ascii_graphic() => format!("`{}`", byte as char),
            Some(&byte) => format!("byte 0x{byte:02x}"),
        };
        self.syntax(format!("expected {expected}, found {found}"))
    }
}

/// Where [`Scanner::skim`] handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skimmed {
    /// A value comes next (where the skim started, or after a `,` or `:`).
    ExpectValue,
    /// A value has just ended: a `,` or a container's closing comes next.
    AfterValue,
}

/// The end (past the closing quote) of the string whose contents start at `at`, when it is whole
/// in `bytes` and valid: no control character, only valid escapes. `None` otherwise.
#[inline(always)]
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let stop = at + string_stop(bytes.get(at..)?)?;
        match *bytes.get(stop)? {
            b'"' => return Some(stop + 1),
            b'\\' => {
                at = match *bytes.get(stop + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => stop + 2,
                    b'u' => {
                        let hex = bytes.get(stop + 2..stop + 6)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        stop + 6
                    }
                    _ => return None,
                };
            }
            // A control character.
            _ => return None,
        }
    }
}

/// After a key string starting at `at` (its opening quote), whitespace and the colon: where its
/// value may start. `None` unless all of it is whole in `bytes` and valid.
#[inline(always)]
fn key_and_colon(bytes: &[u8], at: usize) -> Option<usize> {
    let at = skip_ws(bytes, at);
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let colon = skip_ws(bytes, string_end(bytes, at + 1)?);
    (bytes.get(colon) == Some(&b':')).then_some(colon + 1)
}

/// [`key_and_colon`] for a key of the record itself: only one that holds no escape and is not
/// `eventSource`, which needs no decoding to be told apart.
#[inline(always)]
fn other_plain_key_and_colon(bytes: &[u8], at: usize) -> Option<usize> {
    let at = skip_ws(bytes, at);
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let stop = at + 1 + string_stop(bytes.get(at + 1..)?)?;
    if bytes.get(stop) != Some(&b'"') || bytes.get(at + 1..stop) == Some(EVENT_SOURCE_KEY) {
        return None;
    }
    let colon = skip_ws(bytes, stop + 1);
    (bytes.get(colon) == Some(&b':')).then_some(colon + 1)
}

/// The end of `word` at `at`, when it is whole there and not followed by more of the buffer's
/// bytes that could continue it (the caller checks what follows, as for any value).
#[inline(always)]
fn literal_end(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let end = at + word.len();
    (bytes.get(at..end)? == word).then_some(end)
}

/// The end of the number at `at` (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`), when
/// it is valid and a byte that is no part of it follows in `bytes` (so that it is whole).
#[inline(always)]
fn number_end(bytes: &[u8], at: usize) -> Option<usize> {
    let digits = |from: usize| {
        let count = bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        (count > 0).then_some(from + count)
    };
    let mut at = at;
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    at = match bytes.get(at)? {
        b'0' => at + 1,
        b'1'..=b'9' => digits(at)?,
        _ => return None,
    };
    if bytes.get(at)? == &b'.' {
        at = digits(at + 1)?;
    }
    if let b'e' | b'E' = bytes.get(at)? {
        at += 1;
        if let b'+' | b'-' = bytes.get(at)? {
            at += 1;
        }
        at = digits(at)?;
    }
    // The byte after it must be in the buffer: the number could go on in bytes not read yet.
    bytes.get(at)?;
    Some(at)
}

/// The decoded value of a string, kept only as far as some comparison needs it.
struct Text {
    bytes: Vec<u8>,
    /// `bytes` is the string's whole, exact value (not cut at the cap, no lone surrogate).
    exact: bool,
    /// A high surrogate escape waiting for its low half.
    pending_high: Option<u16>,
    /// No key or event source we compare with is longer.
    cap: usize,
}

impl Text {
    fn new(cap: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(cap),
            exact: true,
            pending_high: None,
            cap,
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.exact = true;
        self.pending_high = None;
    }

    fn is(&self, expected: &[u8]) -> bool {
        self.exact && self.bytes == expected
    }

    /// Adds decoded literal bytes.
    fn push(&mut self, decoded: &[u8]) {
        if self.pending_high.take().is_some() {
            self.exact = false;
        }
        if self.bytes.len() + decoded.len() > self.cap {
            self.exact = false;
        } else {
            self.bytes.extend_from_slice(decoded);
        }
    }

    /// Adds one `\u` code unit, pairing surrogates. A lone surrogate decodes to no string, so the
    /// text then equals nothing.
    fn push_unit(&mut self, unit: u16) {
        const HIGH: std::ops::RangeInclusive<u16> = 0xD800..=0xDBFF;
        const LOW: std::ops::RangeInclusive<u16> = 0xDC00..=0xDFFF;
        let code_point = match self.pending_high.take() {
            Some(high) if LOW.contains(&unit) => {
                0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00)
            }
            pending => {
                if pending.is_some() || LOW.contains(&unit) {
                    self.exact = false;
                }
                if HIGH.contains(&unit) {
                    self.pending_high = Some(unit);
                    return;
                }
                if LOW.contains(&unit) {
                    return;
                }
                u32::from(unit)
            }
        };
        match char::from_u32(code_point) {
            Some(ch) => {
                let mut utf8 = [0u8; 4];
                self.push(ch.encode_utf8(&mut utf8).as_bytes());
            }
            None => self.exact = false,
        }
    }

    /// Ends the string: a high surrogate still waiting is a lone one.
    fn finish(&mut self) {
        if self.pending_high.take().is_some() {
            self.exact = false;
        }
    }
}
