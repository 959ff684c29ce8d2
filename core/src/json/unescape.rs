//! A JSON string's value, with each unpaired surrogate escape decoded to U+FFFD.

use std::borrow::Cow;
use std::ops::RangeInclusive;

const HIGH: RangeInclusive<u32> = 0xD800..=0xDBFF;
const LOW: RangeInclusive<u32> = 0xDC00..=0xDFFF;

/// The value of a string from its contents as written between the quotes (escapes and all).
///
/// A surrogate pair of escapes (`\ud83c\udfa7`) is one character; a surrogate escape without its
/// other half is U+FFFD, as a lossy UTF-16 decoder gives it. Contents without a backslash are
/// borrowed as they are. Checked text is expected; a malformed escape gives U+FFFD, never a panic.
pub(crate) fn unescape(contents: &str) -> Cow<'_, str> {
    // A byte search, not `str::find`: most contents are short keys and names, and `find`'s searcher
    // cost more to set up than the search (callgrind, dry run of the 20 MB benchmark file).
    let Some(first) = contents.bytes().position(|byte| byte == b'\\') else {
        return Cow::Borrowed(contents);
    };
    let bytes = contents.as_bytes();
    let mut value = String::with_capacity(contents.len());
    value.push_str(contents.get(..first).unwrap_or_default());
    let mut at = first;
    loop {
        // `at` is at a backslash.
        let simple = match bytes.get(at + 1) {
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            Some(b'/') => Some('/'),
            Some(b'b') => Some('\u{8}'),
            Some(b'f') => Some('\u{c}'),
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            _ => None,
        };
        if let Some(simple) = simple {
            value.push(simple);
            at += 2;
        } else if let Some(unit) = unit_at(bytes, at) {
            at += 6;
            let code_point = if HIGH.contains(&unit) {
                match unit_at(bytes, at).filter(|low| LOW.contains(low)) {
                    Some(low) => {
                        at += 6;
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    None => u32::from(char::REPLACEMENT_CHARACTER),
                }
            } else {
                unit
            };
            value.push(char::from_u32(code_point).unwrap_or(char::REPLACEMENT_CHARACTER));
        } else {
            value.push(char::REPLACEMENT_CHARACTER);
            at += 1;
        }
        let rest = contents.get(at..).unwrap_or_default();
        match rest.find('\\') {
            Some(next) => {
                value.push_str(rest.get(..next).unwrap_or_default());
                at += next;
            }
            None => {
                value.push_str(rest);
                return Cow::Owned(value);
            }
        }
    }
}

/// The code unit of a `\uXXXX` escape at `at`.
fn unit_at(bytes: &[u8], at: usize) -> Option<u32> {
    let escape = bytes.get(at..at + 6)?;
    let hex = escape.strip_prefix(b"\\u")?;
    hex.iter().try_fold(0u32, |unit, &digit| {
        Some(unit << 4 | char::from(digit).to_digit(16)?)
    })
}
