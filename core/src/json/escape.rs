//! A string as JSON text, escaped exactly as serde_json escapes it, at a fraction of its cost.
//!
//! serde_json looks up every byte in a table and hands each plain run and each escape to the
//! writer on its own. Here the next byte to escape is found 16 bytes a step
//! ([`first_stop_in_block`], as the scanner finds the end of a string) and the plain runs are
//! copied into a `Vec` whole. Measured with callgrind on the dry run of the
//! 20 MB benchmark file (`a4b-dev large-trail --size 20MB`), where every item carries its record as
//! a JSON string full of quotes: with the printer building each line in memory this way, the whole
//! dry run took 339.7M instructions on one thread instead of 352.4M (printing about 46M instead of
//! 59M). Copying whole blocks, with the escape written in line, took it from 296.6M to 293.4M
//! later: a record's text has a quote to escape every 10.6 bytes (the same file's items). Looking
//! at a string's last bytes (all of most names and values) as one padded block instead of one at a
//! time took it from 284.9M to 281.7M.

use super::string_stop::{BLOCK, first_stop_in_block};

/// Appends `text` to `out` as a JSON string: quoted, with `"`, `\`, and the control characters
/// escaped as serde_json escapes them (`\b`, `\t`, `\n`, `\f`, `\r`, else `\u00xx`), and nothing
/// else (no `/`, no non-ASCII).
pub fn write_json_string(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let mut rest = text.as_bytes();
    while let Some((block, after)) = rest.split_first_chunk::<BLOCK>() {
        let Some(stop) = first_stop_in_block(block) else {
            out.extend_from_slice(block);
            rest = after;
            continue;
        };
        // The whole block is copied, one fixed-size store, and what follows the plain run is
        // dropped again: a record's text has a quote every ten bytes or so, and a copy of each run
        // by its length is a call to `memcpy`.
        let plain_end = out.len() + stop;
        out.extend_from_slice(block);
        out.truncate(plain_end);
        if let Some(&byte) = block.get(stop) {
            push_escape(out, byte);
        }
        rest = rest.get(stop + 1..).unwrap_or_default();
    }
    // Fewer bytes than a block are left (all of most names and values): they are looked at as
    // one block, padded with plain bytes.
    while let Some(stop) = first_stop_in_padded(rest)
        && let Some((plain, from_stop)) = rest.split_at_checked(stop)
        && let Some((&byte, after)) = from_stop.split_first()
    {
        out.extend_from_slice(plain);
        push_escape(out, byte);
        rest = after;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// The first byte to escape in `bytes`, fewer than a block.
#[inline]
fn first_stop_in_padded(bytes: &[u8]) -> Option<usize> {
    let mut block = [b' '; BLOCK];
    let copied = block
        .iter_mut()
        .zip(bytes)
        .map(|(to, from)| *to = *from)
        .count();
    first_stop_in_block(&block).filter(|&stop| stop < copied)
}

#[inline(always)]
fn push_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        b'\t' => b't',
        b'\n' => b'n',
        0x0c => b'f',
        b'\r' => b'r',
        _ => {
            let high = HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
            let low = HEX.get(usize::from(byte & 0xf)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', high, low]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_json_string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_character_below_0x80_is_escaped_as_serde_json_escapes_it() {
        for byte in 0u8..0x80 {
            let text = format!("a{}b", char::from(byte));
            assert_eq!(
                escaped(&text),
                serde_json::to_string(&text).unwrap(),
                "{byte:#04x}"
            );
        }
    }

    #[test]
    fn quotes_in_json_text_are_escaped_wherever_they_fall_in_a_block() {
        let record = r#"{"eventID":"e1","requestParameters":{"roomArn":"arn:aws:a4b:us-east-1:123456789012:room/r","x":"a\"b\\c"}}"#;
        for pad in 0..20 {
            let text = format!("{}{record}", " ".repeat(pad));
            assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(
            text in prop_oneof![
                any::<String>(),
                prop::collection::vec(
                    prop::sample::select(vec!['"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'a', 'é', '😀', '/']),
                    0..80,
                ).prop_map(|chars| chars.into_iter().collect::<String>()),
            ],
        ) {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
        }
    }
}
