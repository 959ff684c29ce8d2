//! The record scanner: validates the whole JSON text as it streams by (RFC 8259) without building
//! values, finds the top-level `Records` array and hands over its elements one at a time.

use std::marker::PhantomData;

use super::decode::Source;
use super::input::Input;
use super::{ReadError, ReadStats, RecordEvent};
use crate::json::{Container, Nesting, string_stop};

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
            let Some(first) = self.peek_non_ws()? else {
                return Err(self.unexpected("a value"));
            };
            if is_source && first != b'"' {
                // An `eventSource` that is no string (an object or array too) overrides any before.
                matched = false;
            }
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
                            next_is_source = self.key(watch_source)?;
                            continue 'value;
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
                        continue 'value;
                    }
                }
                b'"' => {
                    self.input.advance(1);
                    self.string(is_source)?;
                    if is_source {
                        matched = (self.event_sources.iter())
                            .any(|source| self.text.is(source.as_bytes()));
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(self.unexpected("a value")),
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

    /// A key and its colon, at the opening quote; says whether it is the record's `eventSource`.
    fn key(&mut self, watch_source: bool) -> Scan<bool, E> {
        self.input.advance(1);
        let decode = watch_source && self.nesting.depth() == 1;
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
            && !matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
        {
            return Ok(Some(byte));
        }
        loop {
            let avail = self.input.avail();
            match avail
                .iter()
                .position(|&byte| !matches!(byte, b' ' | b'\n' | b'\r' | b'\t'))
            {
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
