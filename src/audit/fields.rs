//! Borrowed access to the fields of a JSON object, without building a tree.
//!
//! A record is read once: the fields the audit needs are kept as slices of the raw text
//! ([`RawValue`]); everything else is skipped by serde_json without allocating.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The fields named in `names`, in that order, from a JSON object. A field given twice keeps its
/// last value, as most JSON readers do.
pub(super) struct Fields<const N: usize> {
    pub names: [&'static str; N],
}

impl<const N: usize> Fields<N> {
    /// Parses `text` as an object; `Err` when it is not valid JSON or not an object.
    pub fn parse(self, text: &str) -> Result<[Option<&RawValue>; N], serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let fields = self.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(fields)
    }

    /// Like [`Fields::parse`] for a nested value: anything but an object has no fields.
    pub fn of(self, value: Option<&RawValue>) -> [Option<&RawValue>; N] {
        value
            .filter(|raw| raw.get().starts_with('{'))
            .and_then(|raw| self.parse(raw.get()).ok())
            .unwrap_or([None; N])
    }
}

impl<'de, const N: usize> DeserializeSeed<'de> for Fields<N> {
    type Value = [Option<&'de RawValue>; N];

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Fields<N> {
    type Value = [Option<&'de RawValue>; N];

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = [None; N];
        while let Some(Text(name)) = map.next_key()? {
            match self.names.iter().position(|wanted| *wanted == name) {
                Some(index) => {
                    if let Some(slot) = found.get_mut(index) {
                        *slot = Some(map.next_value::<&RawValue>()?);
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// A JSON string, borrowed from the raw text unless it holds escapes.
#[derive(Deserialize)]
pub(super) struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// The value as a string; `None` when it is absent or not a string.
pub(super) fn text(value: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let raw = value?.get();
    if !raw.starts_with('"') {
        return None;
    }
    serde_json::from_str::<Text>(raw)
        .ok()
        .map(|Text(text)| text)
}

/// The value as a non-empty string: empty strings carry no information and are never written.
pub(super) fn non_empty_text(value: Option<&RawValue>) -> Option<Cow<'_, str>> {
    text(value).filter(|text| !text.is_empty())
}
