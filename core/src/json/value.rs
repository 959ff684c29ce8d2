//! One JSON value's text, checked against the grammar once, then read field by field.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::nesting::{Container, Nesting};
use super::string_stop::string_stop;
use super::unescape::unescape;
use super::whitespace::{is_ws, skip_ws};

/// The exact text of one JSON value (no whitespace around it) inside a checked text.
///
/// Reading it never fails: an object's fields, an array's elements and its strings are found in
/// text that is already known to be valid, and a value of another kind than asked for has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw<'a>(&'a str);

/// Why a text is not one JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    /// Byte offset in the text.
    pub offset: usize,
    pub message: &'static str,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl<'a> Raw<'a> {
    /// Checks that `text` is one JSON value, with only whitespace around it.
    pub(crate) fn parse(text: &'a str) -> Result<Self, Invalid> {
        let mut cursor = Cursor::new(text);
        cursor.skip_ws();
        let start = cursor.pos;
        cursor.value()?;
        let end = cursor.pos;
        cursor.skip_ws();
        if cursor.pos < text.len() {
            return Err(cursor.error("unexpected data after the JSON value"));
        }
        Ok(Raw(text.get(start..end).unwrap_or_default()))
    }

    /// A record the reader's scanner has checked, taken as it is.
    pub(crate) fn scanned(record: crate::reader::CheckedRecord<'a>) -> Self {
        Raw(record.as_str())
    }

    /// The value's text, exactly as written.
    pub(crate) fn get(self) -> &'a str {
        self.0
    }

    pub(crate) fn is_object(self) -> bool {
        self.0.starts_with('{')
    }

    /// The value of a string; `None` for any other kind.
    pub(crate) fn as_str(self) -> Option<Cow<'a, str>> {
        let contents = self.0.strip_prefix('"')?.strip_suffix('"')?;
        Some(unescape(contents))
    }

    /// The values of the fields `names` of an object, in that order; all `None` for another kind.
    /// A name given twice keeps its last value, as in `serde_json::Value`. Keys compare by their
    /// decoded value: a key with an unpaired surrogate, or anything else odd, is just a key that
    /// is not asked for.
    pub(crate) fn fields<const N: usize>(self, names: [&str; N]) -> [Option<Raw<'a>>; N] {
        let mut found = [None; N];
        Walk::new(self.0).members(|key, value| {
            if let Some(slot) =
                (names.iter().position(|name| *name == key)).and_then(|index| found.get_mut(index))
            {
                *slot = Some(value);
            }
        });
        found
    }

    /// The elements of an array, in order; none for another kind.
    pub(crate) fn elements(self) -> impl Iterator<Item = Raw<'a>> {
        let mut walk = Walk::new(self.0);
        let mut started = false;
        std::iter::from_fn(move || walk.next_element(&mut started))
    }

    /// Every string in the value, object keys included, at any depth, in text order; as in a
    /// `serde_json::Value`, a member whose key comes again later in its object is left out, its
    /// key and everything inside it.
    pub(crate) fn strings(self) -> impl Iterator<Item = Cow<'a, str>> {
        StringsWalk::default().run(self.0)
    }
}

/// One open container of [`Raw::strings`]' walk.
struct Open {
    /// `None` for an array; for an object, each member's range of strings found.
    members: Option<Vec<Range<usize>>>,
    /// The next string of this object is a key.
    key_next: bool,
}

/// The walk behind [`Raw::strings`]: one pass over checked text with a stack of its own, so any
/// depth is fine. Strings are collected first because a later key can still override an earlier
/// member; the members overridden are noted as ranges and left out at the end.
#[derive(Default)]
struct StringsWalk<'a> {
    found: Vec<Cow<'a, str>>,
    open: Vec<Open>,
    overridden: Vec<Range<usize>>,
}

impl<'a> StringsWalk<'a> {
    fn run(mut self, text: &'a str) -> impl Iterator<Item = Cow<'a, str>> + use<'a> {
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(&byte) = bytes.get(at) {
            at += 1;
            match byte {
                b'"' => {
                    let (close, escaped) = string_close(bytes, at).unwrap_or((bytes.len(), true));
                    let string = decoded(text.get(at..close).unwrap_or_default(), escaped);
                    at = close + 1;
                    if let Some(Open {
                        members: Some(members),
                        key_next: key_next @ true,
                    }) = self.open.last_mut()
                    {
                        *key_next = false;
                        members.push(self.found.len()..self.found.len() + 1);
                    }
                    self.found.push(string);
                }
                b'{' | b'[' => self.open.push(Open {
                    members: (byte == b'{').then(Vec::new),
                    key_next: true,
                }),
                b',' => self.end_member(),
                b'}' | b']' => {
                    self.end_member();
                    if let Some(Open {
                        members: Some(members),
                        ..
                    }) = self.open.pop()
                    {
                        self.override_repeated_keys(members);
                    }
                }
                _ => {}
            }
        }
        self.overridden.sort_unstable_by_key(|range| range.start);
        let mut overridden = self.overridden.into_iter().peekable();
        let mut skip_until = 0;
        (0..).zip(self.found).filter_map(move |(index, string)| {
            while let Some(range) = overridden.next_if(|range| range.start <= index) {
                skip_until = skip_until.max(range.end);
            }
            (index >= skip_until).then_some(string)
        })
    }

    /// The value of the current object member (if any) has ended: its range ends here.
    fn end_member(&mut self) {
        let found = self.found.len();
        if let Some(Open {
            members: Some(members),
            key_next,
        }) = self.open.last_mut()
        {
            if !*key_next && let Some(member) = members.last_mut() {
                member.end = found;
            }
            *key_next = true;
        }
    }

    /// Notes every member of a closed object whose key comes again later in it.
    fn override_repeated_keys(&mut self, mut members: Vec<Range<usize>>) {
        if members.len() < 2 {
            return;
        }
        let key = |member: &Range<usize>| self.found.get(member.start);
        // Stable: members of one key stay in text order, the last one last.
        members.sort_by(|a, b| key(a).cmp(&key(b)));
        for pair in members.windows(2) {
            if let [earlier, later] = pair
                && key(earlier) == key(later)
            {
                self.overridden.push(earlier.clone());
            }
        }
    }
}

/// The offset of the quote that closes the string whose contents start at `from`.
fn closing_quote(bytes: &[u8], from: usize) -> Option<usize> {
    string_close(bytes, from).map(|(close, _)| close)
}

/// The offset of the quote that closes the string whose contents start at `from`, and whether the
/// contents hold an escape: the search meets every backslash anyway, and most strings have none,
/// so that they need not be searched again to be decoded.
fn string_close(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut at = from;
    let mut escaped = false;
    loop {
        at += string_stop(bytes.get(at..)?)?;
        match bytes.get(at)? {
            b'"' => return Some((at, escaped)),
            // The escaped byte is never a quote that ends the string (`\uXXXX` holds none).
            b'\\' => {
                escaped = true;
                at += 2;
            }
            _ => at += 1,
        }
    }
}

/// A string's value from its contents, decoded only when they hold an escape.
fn decoded(contents: &str, escaped: bool) -> Cow<'_, str> {
    if escaped {
        unescape(contents)
    } else {
        Cow::Borrowed(contents)
    }
}

/// A position in checked text: a value's extent is found from its quotes and brackets alone, with
/// no second check of the grammar. Every [`Raw`] is checked text, so its fields and elements are
/// found this way. The checking [`Cursor`] did it before, checking each field's value again for
/// every field asked of it (`userIdentity` three times over); with that, the dry run of the 20 MB
/// benchmark file took 310.1M instructions on one thread (callgrind), and 296.6M with this walk
/// and the reader's check of each record trusted ([`Raw::scanned`]).
struct Walk<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Walk<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.bytes(), self.pos);
    }

    /// Steps over `byte` after any whitespace; `false` (and no step) when another byte is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.bytes().get(self.pos) == Some(&byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The value starting here, after any whitespace.
    fn value(&mut self) -> Raw<'a> {
        self.skip_ws();
        let start = self.pos;
        self.pos = value_end(self.bytes(), start);
        Raw(self.text.get(start..self.pos).unwrap_or_default())
    }

    /// A key's value, and its colon.
    fn key(&mut self) -> Option<Cow<'a, str>> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        let (close, escaped) = string_close(self.bytes(), start)?;
        self.pos = close + 1;
        let key = decoded(self.text.get(start..close)?, escaped);
        self.eat(b':').then_some(key)
    }

    /// Calls `member` with each key (its value) and value of the object here; none for another
    /// kind.
    fn members(&mut self, mut member: impl FnMut(Cow<'a, str>, Raw<'a>)) {
        if !self.eat(b'{') {
            return;
        }
        // An empty object ends here: `}` is no key.
        while let Some(key) = self.key() {
            member(key, self.value());
            if !self.eat(b',') {
                return;
            }
        }
    }

    /// The next element of the array here; `started` says whether its `[` is behind. `None` at
    /// its end, and for another kind.
    fn next_element(&mut self, started: &mut bool) -> Option<Raw<'a>> {
        if *started {
            if !self.eat(b',') {
                return None;
            }
        } else {
            if !self.eat(b'[') {
                return None;
            }
            *started = true;
            if self.eat(b']') {
                return None;
            }
        }
        Some(self.value())
    }
}

/// The end of the value of checked text that starts at `start`.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let after_string =
        |from: usize| closing_quote(bytes, from).map_or(bytes.len(), |close| close + 1);
    match bytes.get(start) {
        Some(b'"') => after_string(start + 1),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut at = start;
            while let Some(&byte) = bytes.get(at) {
                at += 1;
                match byte {
                    b'"' => at = after_string(at),
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return at;
                        }
                    }
                    _ => {}
                }
            }
            bytes.len()
        }
        // A number or a literal: up to the byte that follows it.
        Some(_) => bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|&byte| matches!(byte, b',' | b'}' | b']') || is_ws(byte))
            .map_or(bytes.len(), |len| start + len),
        None => start,
    }
}

/// A position in a text, checking the grammar as it moves.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    nesting: Nesting,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            nesting: Nesting::default(),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn error(&self, message: &'static str) -> Invalid {
        Invalid {
            offset: self.pos,
            message,
        }
    }

    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.bytes(), self.pos);
    }

    fn expect(&mut self, byte: u8, message: &'static str) -> Result<(), Invalid> {
        self.skip_ws();
        if self.peek() != Some(byte) {
            return Err(self.error(message));
        }
        self.pos += 1;
        Ok(())
    }

    /// A key string and its colon; returns the key's contents as written.
    fn key(&mut self) -> Result<&'a str, Invalid> {
        self.expect(b'"', "expected a key string")?;
        let start = self.pos;
        self.string()?;
        let key = self.text.get(start..self.pos - 1).unwrap_or_default();
        self.expect(b':', "expected `:`")?;
        Ok(key)
    }

    /// One value, at its first byte, through its last; nested containers on [`Nesting`].
    fn value(&mut self) -> Result<(), Invalid> {
        self.nesting.clear();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        self.nesting.push(Container::Object);
                        self.key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        self.nesting.push(Container::Array);
                        continue;
                    }
                }
                Some(b'"') => {
                    self.pos += 1;
                    self.string()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => return Err(self.error("expected a value")),
            }
            // After a complete value: close containers until one continues.
            loop {
                let Some(container) = self.nesting.last() else {
                    return Ok(());
                };
                self.skip_ws();
                match (self.peek(), container) {
                    (Some(b','), Container::Object) => {
                        self.pos += 1;
                        self.key()?;
                        break;
                    }
                    (Some(b','), Container::Array) => {
                        self.pos += 1;
                        break;
                    }
                    (Some(b'}'), Container::Object) | (Some(b']'), Container::Array) => {
                        self.pos += 1;
                        self.nesting.pop();
                    }
                    (_, Container::Object) => return Err(self.error("expected `,` or `}`")),
                    (_, Container::Array) => return Err(self.error("expected `,` or `]`")),
                }
            }
        }
    }

    /// A string's contents and closing quote, after the opening quote.
    fn string(&mut self) -> Result<(), Invalid> {
        loop {
            let rest = self.bytes().get(self.pos..).unwrap_or_default();
            let Some(stop) = string_stop(rest) else {
                self.pos = self.text.len();
                return Err(self.error("the text ends inside a string"));
            };
            self.pos += stop;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape()?;
                }
                _ => {
                    return Err(
                        self.error("a control character inside a string (it must be escaped)")
                    );
                }
            }
        }
    }

    /// One escape sequence, after its backslash.
    fn escape(&mut self) -> Result<(), Invalid> {
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
            Some(b'u') => {
                self.pos += 1;
                for _ in 0..4 {
                    if !self.peek().is_some_and(|byte| byte.is_ascii_hexdigit()) {
                        return Err(self.error("a `\\u` escape needs four hex digits"));
                    }
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("an invalid escape sequence")),
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Invalid> {
        for &expected in word {
            if self.peek() != Some(expected) {
                return Err(self.error("expected `true`, `false` or `null`"));
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, of any length: a number is text.
    fn number(&mut self) -> Result<(), Invalid> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
        }
        Ok(())
    }

    fn one_or_more_digits(&mut self) -> Result<(), Invalid> {
        if !self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            return Err(self.error("expected a digit"));
        }
        self.digits();
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.pos += 1;
        }
    }
}
