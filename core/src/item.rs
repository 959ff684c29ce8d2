//! Audit items as plain data: the table's key and typed attributes, with no AWS SDK types.
//!
//! The DynamoDB sink converts these to `AttributeValue`s; the CLI's dry run prints them as JSON.

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

/// An item's attributes besides its key, by name, in name order.
///
/// A vector kept sorted, not a `BTreeMap`: an item has about twenty attributes, built once, copied
/// to each of the record's room items and read once; the map's nodes cost an allocation each and
/// its inserts a call to `memcmp` per step. Callgrind, dry run of the 20 MB benchmark file on one
/// thread: 292.9M instructions with the map, 287.8M with this.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    entries: Vec<(&'static str, AttrValue)>,
}

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `name` is, or where it would go.
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(held, _)| (*held).cmp(name))
    }

    /// Room for `capacity` attributes.
    pub fn with_capacity(capacity: usize) -> Self {
        Attributes {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Sets `name` to `value`; returns the value it replaces.
    pub fn insert(&mut self, name: &'static str, value: AttrValue) -> Option<AttrValue> {
        // The mapping adds most attributes in name order: then their place, the end, costs one
        // comparison.
        let place = match self.entries.last() {
            Some((last, _)) if *last < name => Err(self.entries.len()),
            _ => self.find(name),
        };
        match place {
            Ok(at) => self
                .entries
                .get_mut(at)
                .map(|(_, held)| std::mem::replace(held, value)),
            Err(at) => {
                self.entries.insert(at, (name, value));
                None
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        let at = self.find(name).ok()?;
        self.entries.get(at).map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut AttrValue> {
        let at = self.find(name).ok()?;
        self.entries.get_mut(at).map(|(_, value)| value)
    }

    pub fn remove(&mut self, name: &str) -> Option<AttrValue> {
        let at = self.find(name).ok()?;
        Some(self.entries.remove(at).1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &&'static str> {
        self.entries.iter().map(|(name, _)| name)
    }

    /// The names and values, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&&'static str, &AttrValue)> {
        self.entries.iter().map(|(name, value)| (name, value))
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a &'static str, &'a AttrValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (&'static str, AttrValue)>,
        fn(&'a (&'static str, AttrValue)) -> (&'a &'static str, &'a AttrValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(name, value)| (name, value))
    }
}

impl FromIterator<(&'static str, AttrValue)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (&'static str, AttrValue)>>(pairs: I) -> Self {
        let mut attributes = Attributes::new();
        for (name, value) in pairs {
            attributes.insert(name, value);
        }
        attributes
    }
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

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
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    const NAMES: [&str; 6] = ["a", "ab", "b", "record", "user_key", "z"];

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize, u8),
        Remove(usize),
        Change(usize, u8),
    }

    proptest! {
        /// The attributes answer every question as a `BTreeMap` would, in the same order.
        #[test]
        fn attributes_behave_as_an_ordered_map(
            ops in prop::collection::vec(
                prop_oneof![
                    (0..NAMES.len(), any::<u8>()).prop_map(|(name, n)| Op::Insert(name, n)),
                    (0..NAMES.len()).prop_map(Op::Remove),
                    (0..NAMES.len(), any::<u8>()).prop_map(|(name, n)| Op::Change(name, n)),
                ],
                0..40,
            ),
        ) {
            let mut attributes = Attributes::new();
            let mut map = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(name, n) => prop_assert_eq!(
                        attributes.insert(NAMES[name], AttrValue::N(n.to_string())),
                        map.insert(NAMES[name], AttrValue::N(n.to_string()))
                    ),
                    Op::Remove(name) => {
                        prop_assert_eq!(attributes.remove(NAMES[name]), map.remove(NAMES[name]));
                    }
                    Op::Change(name, n) => {
                        if let (Some(held), Some(expected)) =
                            (attributes.get_mut(NAMES[name]), map.get_mut(NAMES[name]))
                        {
                            *held = AttrValue::Bool(n % 2 == 0);
                            *expected = AttrValue::Bool(n % 2 == 0);
                        }
                        prop_assert_eq!(
                            attributes.get_mut(NAMES[name]).is_some(),
                            map.contains_key(NAMES[name])
                        );
                    }
                }
                for name in NAMES {
                    prop_assert_eq!(attributes.get(name), map.get(name));
                    prop_assert_eq!(attributes.contains_key(name), map.contains_key(name));
                }
                prop_assert_eq!(attributes.len(), map.len());
                prop_assert_eq!(attributes.is_empty(), map.is_empty());
                prop_assert!(attributes.iter().eq(map.iter()));
                prop_assert!(attributes.keys().eq(map.keys()));
                prop_assert_eq!(format!("{attributes:?}"), format!("{map:?}"));
            }
        }
    }

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
