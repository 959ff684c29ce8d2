//! Audit items as plain data: the table's key and typed attributes, with no AWS SDK types.
//!
//! The DynamoDB sink converts these to `AttributeValue`s; the CLI's dry run prints them as JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

/// DynamoDB's item size limit (400 KB, counted as 400 * 1024 bytes).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

pub use crate::keys::{PARTITION_KEY, SORT_KEY};

/// One attribute value, in the DynamoDB types the table uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// String (`S`). Shared: a record's user item and its room and resource items carry the same
    /// attributes, and a copy of them costs a count, not a copy of each string (callgrind on the
    /// 20 MB benchmark file: the dry run went from 322.4M instructions to 310.1M on one thread).
    S(Arc<str>),
    /// Number (`N`), kept as its decimal text so that no precision is lost.
    N(String),
    /// Boolean (`BOOL`).
    Bool(bool),
    /// List of strings (`L` of `S`).
    StringList(Vec<String>),
}

impl AttrValue {
    /// The size DynamoDB counts for this value (UTF-8 bytes of strings, about the digits of numbers,
    /// one byte for a boolean, three bytes of list overhead plus one per element).
    pub fn size_bytes(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            // DynamoDB counts about one byte per two significant digits, plus one: the digit count
            // is a safe upper bound.
            AttrValue::N(n) => n.len() + 1,
            AttrValue::Bool(_) => 1,
            AttrValue::StringList(values) => 3 + values.iter().map(|v| v.len() + 1).sum::<usize>(),
        }
    }
}

/// The table key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

/// An item's attributes besides its key, by name.
pub type Attributes = BTreeMap<&'static str, AttrValue>;

/// One item to write: its key and its other attributes, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: ItemKey,
    pub attributes: Attributes,
}

/// The size DynamoDB counts for an item's key, its partition key taking `pk_bytes` and its sort
/// key `sk_bytes`: the attribute names plus the values.
pub fn key_size_bytes(pk_bytes: usize, sk_bytes: usize) -> usize {
    PARTITION_KEY.len() + pk_bytes + SORT_KEY.len() + sk_bytes
}

/// The size DynamoDB counts for attributes: every name plus its value. With
/// [`key_size_bytes`], an item's size ([`Item::size_bytes`]); the mapping uses both to fit an
/// item before it is built.
pub fn attributes_size_bytes(attributes: &Attributes) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + value.size_bytes())
        .sum()
}

impl Item {
    /// An item with this key and no other attribute yet.
    pub fn new(pk: String, sk: String) -> Self {
        Item {
            key: ItemKey { pk, sk },
            attributes: Attributes::new(),
        }
    }

    /// The item's size as DynamoDB counts it: every attribute name plus its value, keys included.
    pub fn size_bytes(&self) -> usize {
        key_size_bytes(self.key.pk.len(), self.key.sk.len())
            + attributes_size_bytes(&self.attributes)
    }

    /// The value of a string attribute, if the item has it.
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.attributes.get(name) {
            Some(AttrValue::S(s)) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_names_keys_and_values() {
        let mut item = Item::new("USER#u".into(), "t#e".into());
        assert_eq!(item.size_bytes(), 2 + 6 + 2 + 3);
        item.attributes.insert("ok", AttrValue::Bool(true));
        item.attributes
            .insert("rooms", AttrValue::StringList(vec!["ab".into()]));
        assert_eq!(item.size_bytes(), 13 + (2 + 1) + (5 + 3 + 3));
    }

    /// DynamoDB: "The maximum item size in DynamoDB is 400 KB, which includes both attribute name
    /// binary length (UTF-8 length) and attribute value lengths", 400 KB being 409,600 bytes. moto
    /// refuses items from about 405,000 bytes on, so only this holds the limit to DynamoDB's.
    #[test]
    fn the_item_size_limit_is_409_600_bytes() {
        assert_eq!(MAX_ITEM_BYTES, 409_600);
    }

    /// DynamoDB: a number takes "1 byte per two significant digits" plus 1 byte (leading and
    /// trailing zeroes trimmed, at most 38 digits). The size counted here must never be less, or an
    /// item counted as fitting could be refused.
    #[test]
    fn a_number_counts_no_fewer_bytes_than_dynamodb_counts_it() {
        for number in [
            "0",
            "1",
            "7",
            "12",
            "-3",
            "1.5",
            "100",
            "86400",
            "1897300800",
        ] {
            let significant = number
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .trim_matches('0')
                .len()
                .max(1);
            let dynamodb = significant.div_ceil(2) + 1;
            let counted = AttrValue::N(number.to_owned()).size_bytes();
            assert!(counted >= dynamodb, "{number}: {counted} < {dynamodb}");
        }
    }

    #[test]
    fn an_attribute_name_counts_its_utf8_bytes_towards_the_item_size() {
        let mut item = Item::new("p".into(), "s".into());
        let empty = item.size_bytes();
        item.attributes
            .insert("user_name", AttrValue::S("é".into()));
        assert_eq!(item.size_bytes(), empty + "user_name".len() + 2);
    }
}
