//! The one JSON printer of an item, for the items the dry run builds and for the items `query`
//! reads back from the table: `pk`, `sk`, then the other attributes in name order, numbers as JSON
//! numbers with all their digits, string lists as arrays. An item prints the same line whichever
//! way it comes (a test says so).
//!
//! The dry run, the path the benchmarks measure, prints through this with no copy: the item
//! model's attributes are already in name order, and the printer is generic over the value type.

use std::collections::HashMap;
use std::io::{self, Write};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::item::{AttrValue, Item, PARTITION_KEY, SORT_KEY};

/// Writes an item the mapping built as one JSON line.
pub fn write_item(out: &mut impl Write, item: &Item) -> io::Result<()> {
    let others = item
        .attributes
        .iter()
        .map(|(name, value)| (*name, Value::Model(value)));
    write_line(
        out,
        Some(Value::Text(&item.key.pk)),
        Some(Value::Text(&item.key.sk)),
        others,
    )
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
    write_line(
        out,
        item.get(PARTITION_KEY).map(Value::Stored),
        item.get(SORT_KEY).map(Value::Stored),
        others
            .into_iter()
            .map(|(name, value)| (name, Value::Stored(value))),
    )
}

/// An item as the JSON line [`write_item`] prints, without the newline.
pub fn item_json(item: &Item) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and the JSON of an Item is always valid UTF-8.
    let _ = write_item(&mut out, item);
    String::from_utf8_lossy(out.strip_suffix(b"\n").unwrap_or(&out)).into_owned()
}

fn write_line<'a, I>(
    out: &mut impl Write,
    pk: Option<Value<'a>>,
    sk: Option<Value<'a>>,
    others: I,
) -> io::Result<()>
where
    I: Iterator<Item = (&'a str, Value<'a>)> + Clone,
{
    let line = Line { pk, sk, others };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

struct Line<'a, I> {
    pk: Option<Value<'a>>,
    sk: Option<Value<'a>>,
    /// In the order printed; cloned to be walked (a map or slice iterator: no copy of the item).
    others: I,
}

impl<'a, I> Serialize for Line<'a, I>
where
    I: Iterator<Item = (&'a str, Value<'a>)> + Clone,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in [(PARTITION_KEY, self.pk), (SORT_KEY, self.sk)] {
            if let Some(value) = value {
                map.serialize_entry(name, &value)?;
            }
        }
        for (name, value) in self.others.clone() {
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}

/// A value of either kind of item.
#[derive(Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Model(&'a AttrValue),
    Stored(&'a AttributeValue),
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Text(text) => serializer.serialize_str(text),
            Value::Model(value) => match value {
                AttrValue::S(text) => serializer.serialize_str(text),
                AttrValue::N(number) => serialize_number(number, serializer),
                AttrValue::Bool(flag) => serializer.serialize_bool(*flag),
                AttrValue::StringList(values) => values.serialize(serializer),
            },
            Value::Stored(value) => match value {
                AttributeValue::S(text) => serializer.serialize_str(text),
                AttributeValue::N(number) => serialize_number(number, serializer),
                AttributeValue::Bool(flag) => serializer.serialize_bool(*flag),
                AttributeValue::Null(_) => serializer.serialize_unit(),
                AttributeValue::L(values) => {
                    let mut seq = serializer.serialize_seq(Some(values.len()))?;
                    for value in values {
                        seq.serialize_element(&Value::Stored(value))?;
                    }
                    seq.end()
                }
                AttributeValue::Ss(values) => values.serialize(serializer),
                AttributeValue::Ns(values) => {
                    let mut seq = serializer.serialize_seq(Some(values.len()))?;
                    for number in values {
                        seq.serialize_element(&Number(number))?;
                    }
                    seq.end()
                }
                AttributeValue::M(map) => {
                    let mut names: Vec<&String> = map.keys().collect();
                    names.sort_unstable();
                    let mut out = serializer.serialize_map(Some(names.len()))?;
                    for name in names {
                        if let Some(value) = map.get(name) {
                            out.serialize_entry(name, &Value::Stored(value))?;
                        }
                    }
                    out.end()
                }
                // The audit table holds no binary values; say so rather than guess an encoding.
                _ => serializer.serialize_str("<unsupported attribute type>"),
            },
        }
    }
}

struct Number<'a>(&'a str);

impl Serialize for Number<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_number(self.0, serializer)
    }
}

/// A DynamoDB number as a JSON number, digit for digit (a string if it is somehow not one).
fn serialize_number<S: Serializer>(number: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::value::RawValue::from_string(number.to_owned()) {
        Ok(raw) if looks_numeric(number) => raw.serialize(serializer),
        _ => serializer.serialize_str(number),
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

    #[test]
    fn item_line_has_the_table_keys_and_typed_attributes() {
        assert_eq!(
            item_json(&item()),
            r#"{"pk":"ROOM#arn:aws:a4b:us-east-1:123456789012:room/r","sk":"2023-05-01T10:00:00Z#e1","expires_at":1700000000,"read_only":true,"record":"{\"eventID\":\"e1\"}","room_arns":["arn:aws:a4b:us-east-1:123456789012:room/r"]}"#
        );
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
