//! The one JSON printer of an item, for the items the dry run builds and for the items `query`
//! reads back from the table: `pk`, `sk`, then the other attributes in name order, numbers as JSON
//! numbers with all their digits, string lists as arrays. An item prints the same line whichever
//! way it comes (a test says so).
//!
//! The dry run, the path the benchmarks measure, prints through this with no copy of the item: the
//! item model's attributes are already in name order, and the printer is generic over the value
//! type. Strings are escaped by [`write_json_string`], as serde_json escapes them.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use a4b_audit_core::write_json_string;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::{AttrValue, Item, PARTITION_KEY, SORT_KEY};

/// Appends an item the mapping built to `lines` as one JSON line.
fn push_item_line(lines: &mut Vec<u8>, item: &Item, shared: &mut SharedText) {
    let others = item
        .attributes
        .iter()
        .map(|(name, value)| (*name, Value::Model(value)));
    push_line(
        lines,
        Some(Value::Text(&item.key.pk)),
        Some(Value::Text(&item.key.sk)),
        others,
        shared,
    );
}

/// The JSON text of the last long string attribute printed, kept with the string it came from: the
/// items of one record share their strings (`Arc<str>`, see [`AttrValue::S`]), and the longest,
/// `record`, is most of each line. The next item of the same record copies it instead of escaping
/// the record again; any other string is escaped as usual. It holds one escaped string at a time,
/// no longer than the line it was printed in (an item stays under DynamoDB's 400 KB).
///
/// Measured with callgrind on the dry run of the 20 MB benchmark file (1,349 items from 788
/// records, on one thread): 274.2M instructions before, 270.8M with this, the same lines.
#[derive(Default)]
pub struct SharedText {
    last: Option<Arc<str>>,
    json: Vec<u8>,
}

impl SharedText {
    /// Strings shorter than this are escaped every time: most of them are names and times, and
    /// the bookkeeping would cost more than it saves.
    const MIN_LEN: usize = 256;

    fn write(&mut self, line: &mut Vec<u8>, text: &Arc<str>) {
        if text.len() < Self::MIN_LEN {
            return write_json_string(line, text);
        }
        if self
            .last
            .as_ref()
            .is_some_and(|last| Arc::ptr_eq(last, text))
        {
            return line.extend_from_slice(&self.json);
        }
        let start = line.len();
        write_json_string(line, text);
        self.json.clear();
        self.json
            .extend_from_slice(line.get(start..).unwrap_or_default());
        self.last = Some(Arc::clone(text));
    }
}

/// Writes an item read from the table as one JSON line.
pub fn write_stored_item(
    out: &mut impl Write,
    item: &HashMap<String, AttributeValue>,
) -> io::Result<()> {
    let mut others: Vec<(&str, &AttributeValue)> = item
        .iter()
        .filter(|(name, _)| *name != PARTITION_KEY && *name != SORT_KEY)
        .map(|(name, value)| (name.as_str(), value))
        .collect();
    others.sort_unstable_by_key(|(name, _)| *name);
    let mut line = Vec::with_capacity(LINE_CAPACITY);
    push_line(
        &mut line,
        item.get(PARTITION_KEY).map(Value::Stored),
        item.get(SORT_KEY).map(Value::Stored),
        others
            .into_iter()
            .map(|(name, value)| (name, Value::Stored(value))),
        &mut SharedText::default(),
    );
    out.write_all(&line)
}

/// Writes an item the mapping built as one JSON line, with one call. `shared` carries the JSON of
/// a string the last item shared with this one: pass the same one for the items of a run.
pub fn write_item(out: &mut impl Write, item: &Item, shared: &mut SharedText) -> io::Result<()> {
    let mut line = Vec::with_capacity(LINE_CAPACITY);
    push_item_line(&mut line, item, shared);
    out.write_all(&line)
}

/// An item as the JSON line [`write_item`] prints, without the newline.
pub fn item_json(item: &Item) -> String {
    let mut line = Vec::new();
    push_item_line(&mut line, item, &mut SharedText::default());
    // The JSON of an Item is always valid UTF-8.
    String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line)).into_owned()
}

/// The line is built in memory, to be written with one call: the JSON of an item is mostly its
/// record, a string full of quotes to escape, and serde_json wrote each run between two of them
/// with a call of its own (see [`write_json_string`] for what that cost).
fn push_line<'a>(
    line: &mut Vec<u8>,
    pk: Option<Value<'a>>,
    sk: Option<Value<'a>>,
    others: impl Iterator<Item = (&'a str, Value<'a>)>,
    shared: &mut SharedText,
) {
    let keys = [(PARTITION_KEY, pk), (SORT_KEY, sk)]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)));
    write_object(line, keys.chain(others), shared);
    line.push(b'\n');
}

/// Room for a usual item's line without growing (a record is a few KiB).
const LINE_CAPACITY: usize = 4096;

fn write_object<'a>(
    line: &mut Vec<u8>,
    members: impl Iterator<Item = (&'a str, Value<'a>)>,
    shared: &mut SharedText,
) {
    line.push(b'{');
    for (index, (name, value)) in members.enumerate() {
        if index > 0 {
            line.push(b',');
        }
        write_json_string(line, name);
        line.push(b':');
        value.write(line, shared);
    }
    line.push(b'}');
}

fn write_array<'a>(
    line: &mut Vec<u8>,
    values: impl Iterator<Item = Value<'a>>,
    shared: &mut SharedText,
) {
    line.push(b'[');
    for (index, value) in values.enumerate() {
        if index > 0 {
            line.push(b',');
        }
        value.write(line, shared);
    }
    line.push(b']');
}

/// A value of either kind of item.
#[derive(Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Model(&'a AttrValue),
    Stored(&'a AttributeValue),
    Number(&'a str),
}

impl Value<'_> {
    fn write(self, line: &mut Vec<u8>, shared: &mut SharedText) {
        match self {
            Value::Text(text) => write_json_string(line, text),
            Value::Number(number) => write_number(line, number),
            Value::Model(value) => match value {
                AttrValue::S(text) => shared.write(line, text),
                AttrValue::N(number) => write_number(line, number),
                AttrValue::Bool(flag) => write_bool(line, *flag),
                AttrValue::StringList(values) => {
                    let values = values.iter().map(|value| Value::Text(value));
                    write_array(line, values, shared);
                }
            },
            Value::Stored(value) => match value {
                AttributeValue::S(text) => write_json_string(line, text),
                AttributeValue::N(number) => write_number(line, number),
                AttributeValue::Bool(flag) => write_bool(line, *flag),
                AttributeValue::Null(_) => line.extend_from_slice(b"null"),
                AttributeValue::L(values) => {
                    write_array(line, values.iter().map(Value::Stored), shared);
                }
                AttributeValue::Ss(values) => {
                    write_array(line, values.iter().map(|value| Value::Text(value)), shared);
                }
                AttributeValue::Ns(values) => {
                    let numbers = values.iter().map(|number| Value::Number(number));
                    write_array(line, numbers, shared);
                }
                AttributeValue::M(map) => {
                    let mut members: Vec<(&str, &AttributeValue)> = map
                        .iter()
                        .map(|(name, value)| (name.as_str(), value))
                        .collect();
                    members.sort_unstable_by_key(|(name, _)| *name);
                    let members = members
                        .into_iter()
                        .map(|(name, value)| (name, Value::Stored(value)));
                    write_object(line, members, shared);
                }
                // The audit table holds no binary values; say so rather than guess an encoding.
                _ => write_json_string(line, "<unsupported attribute type>"),
            },
        }
    }
}

fn write_bool(line: &mut Vec<u8>, flag: bool) {
    line.extend_from_slice(if flag { b"true" } else { b"false" });
}

/// A DynamoDB number as a JSON number, digit for digit (a string if it is somehow not one).
fn write_number(line: &mut Vec<u8>, number: &str) {
    let is_json_number = looks_numeric(number)
        && serde_json::from_str::<&serde_json::value::RawValue>(number).is_ok();
    if is_json_number {
        line.extend_from_slice(number.as_bytes());
    } else {
        write_json_string(line, number);
    }
}

/// Guards against a JSON string or object posing as a number: valid JSON of number characters only.
fn looks_numeric(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E'))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::sink::attribute_map;

    /// A room item with one attribute of each type.
    pub(in crate::cli) fn item() -> Item {
        let mut item = Item::new(
            "ROOM#arn:aws:a4b:us-east-1:123456789012:room/r".into(),
            "2023-05-01T10:00:00Z#e1".into(),
        );
        item.attributes.insert("read_only", AttrValue::Bool(true));
        item.attributes
            .insert("expires_at", AttrValue::N("1700000000".into()));
        item.attributes.insert(
            "room_arns",
            AttrValue::StringList(vec!["arn:aws:a4b:us-east-1:123456789012:room/r".into()]),
        );
        item.attributes
            .insert("record", AttrValue::S("{\"eventID\":\"e1\"}".into()));
        item
    }

    fn stored_line(item: &HashMap<String, AttributeValue>) -> String {
        let mut out = Vec::new();
        write_stored_item(&mut out, item).unwrap();
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn any_item_prints_as_json_that_reads_back_to_its_attributes(
            pk in ".*",
            text in proptest::prelude::any::<String>(),
            list in proptest::collection::vec(".*", 0..4),
            flag in proptest::prelude::any::<bool>(),
            number in proptest::prelude::any::<i64>(),
        ) {
            let mut item = Item::new(pk.clone(), "sk".into());
            item.attributes.insert("record", AttrValue::S(text.as_str().into()));
            item.attributes.insert("room_arns", AttrValue::StringList(list.clone()));
            item.attributes.insert("read_only", AttrValue::Bool(flag));
            item.attributes.insert("expires_at", AttrValue::N(number.to_string()));
            let line = item_json(&item);
            let read: serde_json::Value = serde_json::from_str(&line).unwrap();
            let expected = serde_json::json!({
                "pk": pk, "sk": "sk", "record": text, "room_arns": list,
                "read_only": flag, "expires_at": number,
            });
            proptest::prop_assert_eq!(read, expected);
            let pk_first = format!("{{\"pk\":{}", serde_json::to_string(&pk).unwrap());
            proptest::prop_assert!(line.starts_with(&pk_first));
        }
    }

    #[test]
    fn item_line_has_the_table_keys_and_typed_attributes() {
        assert_eq!(
            item_json(&item()),
            r#"{"pk":"ROOM#arn:aws:a4b:us-east-1:123456789012:room/r","sk":"2023-05-01T10:00:00Z#e1","expires_at":1700000000,"read_only":true,"record":"{\"eventID\":\"e1\"}","room_arns":["arn:aws:a4b:us-east-1:123456789012:room/r"]}"#
        );
    }

    /// An item of `record`, a long text that `SharedText` keeps, under the partition `pk`.
    fn item_of(record: &Arc<str>, pk: &str) -> Item {
        let mut item = item();
        item.key.pk = pk.into();
        item.attributes
            .insert("record", AttrValue::S(Arc::clone(record)));
        item
    }

    #[test]
    fn items_sharing_their_record_print_as_each_prints_alone_in_any_order() {
        let long = |id: &str| -> Arc<str> {
            format!(r#"{{"eventID":"{id}","a\"b":"{}\n"}}"#, "x\"y".repeat(100)).into()
        };
        let (first, second) = (long("e1"), long("e2"));
        // The same text in another allocation, and the first record again after another one.
        let first_again: Arc<str> = first.as_ref().into();
        let items = [
            item_of(&first, "USER#u"),
            item_of(&first, "ROOM#r1"),
            item_of(&second, "ROOM#r2"),
            item_of(&first_again, "ROOM#r3"),
            item_of(&first, "ROOM#r4"),
            item(),
        ];
        assert!(first.len() >= SharedText::MIN_LEN);
        let mut printed = Vec::new();
        let mut shared = SharedText::default();
        for item in &items {
            write_item(&mut printed, item, &mut shared).unwrap();
        }
        let alone: String = items
            .iter()
            .map(|item| format!("{}\n", item_json(item)))
            .collect();
        assert_eq!(String::from_utf8(printed).unwrap(), alone);
        assert!(alone.contains(r#"\"eventID\":\"e2\""#));
    }

    #[test]
    fn an_item_prints_the_same_line_built_as_read_back_from_the_table() {
        let item = item();
        assert_eq!(
            stored_line(&attribute_map(&item)),
            format!("{}\n", item_json(&item))
        );
    }

    #[test]
    fn a_stored_item_puts_the_key_first_and_keeps_number_digits() {
        let item = HashMap::from([
            ("sk".to_owned(), AttributeValue::S("t#e".into())),
            ("zeta".to_owned(), AttributeValue::Bool(true)),
            ("pk".to_owned(), AttributeValue::S("USER#u".into())),
            (
                "expires_at".to_owned(),
                AttributeValue::N("12345678901234567890".into()),
            ),
            (
                "room_arns".to_owned(),
                AttributeValue::L(vec![AttributeValue::S("r".into())]),
            ),
        ]);
        assert_eq!(
            stored_line(&item),
            "{\"pk\":\"USER#u\",\"sk\":\"t#e\",\"expires_at\":12345678901234567890,\"room_arns\":[\"r\"],\"zeta\":true}\n"
        );
    }

    #[test]
    fn a_stored_item_prints_maps_in_name_order_and_odd_numbers_as_text() {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("ROOM#r".into())),
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([
                    ("b".to_owned(), AttributeValue::Null(true)),
                    ("a".to_owned(), AttributeValue::Ns(vec!["1.50".into()])),
                ])),
            ),
            ("n".to_owned(), AttributeValue::N("\"1\"".into())),
        ]);
        assert_eq!(
            stored_line(&item),
            "{\"pk\":\"ROOM#r\",\"m\":{\"a\":[1.50],\"b\":null},\"n\":\"\\\"1\\\"\"}\n"
        );
    }
}
