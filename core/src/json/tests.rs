//! The lenient reading against the grammar (serde_json's `IgnoredAny`, which checks the grammar
//! without refusing anything it allows), against a lossy UTF-16 decoder, and against
//! `serde_json::Value` wherever serde_json can build one.

use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::Raw;
use super::unescape::unescape;

/// A piece of a generated string, as it is written in the JSON text.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// Written as itself (escaped when JSON requires it).
    Char(char),
    /// Written as `\u` escapes (a surrogate pair for a character past U+FFFF).
    Escaped(char),
    /// Any UTF-16 code unit as one `\u` escape: an unpaired surrogate among them.
    Unit(u16),
}

/// A generated JSON value, kept as written: duplicate keys, odd escapes and numbers of any size.
#[derive(Debug, Clone)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(Vec<Piece>),
    Array(Vec<Json>),
    Object(Vec<(Vec<Piece>, Json)>),
}

impl Json {
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Json::Number(text) => out.push_str(text),
            Json::String(pieces) => write_string(pieces, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(key, out);
                    out.push_str(" :");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Every string inside, keys included, of the value as `serde_json::Value` sees it (a repeated
    /// key keeps its last member), decoded as documented (U+FFFD for an unpaired surrogate).
    pub(crate) fn strings(&self, out: &mut Vec<String>) {
        match self {
            Json::String(pieces) => out.push(decoded(pieces)),
            Json::Array(items) => items.iter().for_each(|item| item.strings(out)),
            Json::Object(_) => {
                for (key, value) in self.members() {
                    out.push(key);
                    value.strings(out);
                }
            }
            _ => {}
        }
    }

    /// An object's members, each key once with its last value.
    pub(crate) fn members(&self) -> Vec<(String, &Json)> {
        let Json::Object(members) = self else {
            return Vec::new();
        };
        let mut kept: Vec<(String, &Json)> = Vec::new();
        for (key, value) in members {
            let key = decoded(key);
            kept.retain(|(earlier, _)| *earlier != key);
            kept.push((key, value));
        }
        kept
    }
}

fn write_string(pieces: &[Piece], out: &mut String) {
    out.push('"');
    for piece in pieces {
        match *piece {
            Piece::Char(ch) if ch >= ' ' && ch != '"' && ch != '\\' => out.push(ch),
            Piece::Char(ch) | Piece::Escaped(ch) => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            Piece::Unit(unit) => out.push_str(&format!("\\u{unit:04X}")),
        }
    }
    out.push('"');
}

/// A string written plainly.
pub(crate) fn plain(text: &str) -> Vec<Piece> {
    text.chars().map(Piece::Char).collect()
}

/// The documented view of a value as a `serde_json::Value`: strings decoded (U+FFFD for an unpaired
/// surrogate), a repeated key's last member, and numbers past a double's range as `null` (a number
/// is never an attribute, so for the items it is as good as any other non-string).
pub(crate) fn view(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        Json::String(pieces) => Value::String(decoded(pieces)),
        Json::Array(items) => Value::Array(items.iter().map(view).collect()),
        Json::Object(_) => Value::Object(
            json.members()
                .into_iter()
                .map(|(key, value)| (key, view(value)))
                .collect(),
        ),
    }
}

/// The documented value of a string: its UTF-16 code units, decoded lossily.
pub(crate) fn decoded(pieces: &[Piece]) -> String {
    let mut units = Vec::new();
    for piece in pieces {
        match *piece {
            Piece::Char(ch) | Piece::Escaped(ch) => {
                let mut buf = [0u16; 2];
                units.extend_from_slice(ch.encode_utf16(&mut buf));
            }
            Piece::Unit(unit) => units.push(unit),
        }
    }
    String::from_utf16_lossy(&units)
}

pub(crate) fn pieces_strategy() -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        4 => any::<char>().prop_map(Piece::Char),
        1 => any::<char>().prop_map(Piece::Escaped),
        1 => prop_oneof![0xD800u16..=0xDFFF, any::<u16>()].prop_map(Piece::Unit),
    ];
    prop::collection::vec(piece, 0..6)
}

/// Keys that often repeat, also written differently (`"a"` and `"\u0061"` are one key).
pub(crate) fn key_strategy() -> impl Strategy<Value = Vec<Piece>> {
    prop_oneof![
        Just(vec![Piece::Char('a')]),
        Just(vec![Piece::Escaped('a')]),
        Just(vec![Piece::Char('b')]),
        Just(vec![Piece::Char('x'), Piece::Unit(0xDC00)]),
        pieces_strategy(),
    ]
}

pub(crate) fn number_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| x.to_string()),
        prop::sample::select(vec![
            "1e400",
            "-1E+400",
            "1.5e-400",
            "123456789012345678901234567890",
            "9007199254740993",
            "-0",
            "0.10",
        ])
        .prop_map(str::to_owned),
    ]
}

pub(crate) fn json_strategy() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        number_strategy().prop_map(Json::Number),
        pieces_strategy().prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec((key_strategy(), inner), 0..5).prop_map(Json::Object),
        ]
    })
}

/// Every string in a `serde_json::Value`, keys included.
fn value_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| value_strings(item, out)),
        Value::Object(members) => {
            for (key, value) in members {
                out.push(key.clone());
                value_strings(value, out);
            }
        }
        _ => {}
    }
}

fn sorted(mut strings: Vec<String>) -> Vec<String> {
    strings.sort();
    strings
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(a4b_audit_devtools::proptest_cases(512)))]

    #[test]
    fn a_string_decodes_like_a_lossy_utf16_decoder(pieces in pieces_strategy()) {
        let mut written = String::new();
        write_string(&pieces, &mut written);
        let contents = &written[1..written.len() - 1];
        prop_assert_eq!(unescape(contents).into_owned(), decoded(&pieces));
        if let Ok(serde) = serde_json::from_str::<String>(&written) {
            prop_assert_eq!(unescape(contents).into_owned(), serde);
        }
    }

    #[test]
    fn any_valid_json_is_read_and_gives_serde_jsons_view_where_it_has_one(json in json_strategy()) {
        let text = json.text();
        prop_assert!(serde_json::from_str::<IgnoredAny>(&text).is_ok(), "{}", text);
        let raw = Raw::parse(&text).unwrap();
        prop_assert_eq!(raw.get(), text.as_str());

        let strings: Vec<String> = raw.strings().map(|s| s.into_owned()).collect();
        let mut expected = Vec::new();
        json.strings(&mut expected);
        prop_assert_eq!(sorted(strings.clone()), sorted(expected));

        for (key, value) in json.members() {
            let [field] = raw.fields([key.as_str()]);
            let written = value.text();
            prop_assert_eq!(field.map(Raw::get), Some(written.as_str()));
            if let Json::String(pieces) = value {
                prop_assert_eq!(field.and_then(Raw::as_str).map(|s| s.into_owned()), Some(decoded(pieces)));
            }
        }

        // Elements, as written and with whitespace of every kind around them.
        let elements: Vec<&str> = raw.elements().map(Raw::get).collect();
        match &json {
            Json::Array(items) => {
                let written: Vec<String> = items.iter().map(Json::text).collect();
                prop_assert_eq!(&elements, &written);
                let spaced = format!("[\t{} ]", written.join(" ,\r\n"));
                let spaced = Raw::parse(&spaced).unwrap();
                prop_assert_eq!(spaced.elements().map(Raw::get).collect::<Vec<_>>(), written);
            }
            _ => prop_assert!(elements.is_empty()),
        }

        if let Ok(serde) = serde_json::from_str::<Value>(&text) {
            let mut serde_strings = Vec::new();
            value_strings(&serde, &mut serde_strings);
            prop_assert_eq!(sorted(strings), sorted(serde_strings));
            if let Value::Object(members) = &serde {
                for (key, value) in members {
                    let [field] = raw.fields([key.as_str()]);
                    let field: Value = serde_json::from_str(field.unwrap().get()).unwrap();
                    prop_assert_eq!(&field, value);
                }
            }
        }
    }

    #[test]
    fn any_text_is_valid_exactly_when_the_grammar_says_so(
        json in json_strategy(),
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(b"{}[]:,\\\" -+.eE0u1tfnl\n\x01".to_vec())), 0..3),
    ) {
        let mut bytes = json.text().into_bytes();
        for (at, byte) in edits {
            let at = at % (bytes.len() + 1);
            if at % 2 == 0 && at < bytes.len() {
                bytes.remove(at);
            } else {
                bytes.insert(at, byte);
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let grammar = serde_json::from_str::<IgnoredAny>(text).is_ok();
            prop_assert_eq!(Raw::parse(text).is_ok(), grammar, "{}", text);
        }
    }
}

#[test]
fn nesting_of_any_depth_is_read_without_recursion() {
    let depth = 100_000;
    let text = format!(
        "{}{{\"deep\":\"x\\ud800\"}}{}",
        "[{\"a\":".repeat(depth),
        "}]".repeat(depth)
    );
    let raw = Raw::parse(&text).unwrap();
    let strings: Vec<_> = raw.strings().collect();
    assert_eq!(strings.len(), depth + 2);
    assert_eq!(strings.last().unwrap(), "x\u{FFFD}");
    assert!(Raw::parse(&text[..text.len() - 1]).is_err());
}

#[test]
fn strings_of_a_repeated_key_come_from_its_last_member_in_text_order() {
    let text = r#"{"a":["one",{"k":"two"}],"b":"three","\u0061":"four","c":{"d":1,"d":"five"}}"#;
    let strings: Vec<_> = Raw::parse(text).unwrap().strings().collect();
    assert_eq!(strings, ["b", "three", "a", "four", "c", "d", "five"]);
}

#[test]
fn a_field_is_found_beside_keys_serde_json_refuses() {
    let text = r#"{"x\udc00":1,"arn":"A\ud800","n":1e400,"arn\ud800":2}"#;
    let [arn, n, odd] = Raw::parse(text).unwrap().fields(["arn", "n", "x\u{FFFD}"]);
    assert_eq!(arn.and_then(Raw::as_str).unwrap(), "A\u{FFFD}");
    assert_eq!(n.unwrap().get(), "1e400");
    assert_eq!(odd.unwrap().get(), "1");
}
