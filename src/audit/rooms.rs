//! The rooms and other Alexa for Business resources a record touches: their ARNs anywhere in
//! `requestParameters` and `responseElements`, and the `ARN` of each `resources` entry.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::fields::{Fields, Text, text};

/// What an Alexa for Business ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum A4bArn {
    /// `…:room/<id>`.
    Room,
    /// Any other type: device, profile, skill group, address book, contact, user, …
    Resource,
}

/// What `text` names when it is, in its entirety, an Alexa for Business ARN:
/// `arn:<partition>:a4b:<region>:<12 digits>:<type>/<id>`.
///
/// The partition, region and type are lower-case names (letters, digits, `-`); the id may not
/// hold whitespace or control characters (real ids are hex and `/`), so that an ARN followed by
/// other text is none.
pub fn a4b_arn(text: &str) -> Option<A4bArn> {
    let rest = text.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let is_name = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let (kind, id) = resource.split_once('/')?;
    let valid = is_name(partition)
        && service == "a4b"
        && is_name(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && is_name(kind)
        && !id.is_empty()
        && !id.chars().any(|c| c.is_whitespace() || c.is_control());
    match (valid, kind) {
        (false, _) => None,
        (true, "room") => Some(A4bArn::Room),
        (true, _) => Some(A4bArn::Resource),
    }
}

/// Whether `text` is, in its entirety, an Alexa for Business room ARN.
pub fn is_room_arn(text: &str) -> bool {
    a4b_arn(text) == Some(A4bArn::Room)
}

/// Whether `text` is, in its entirety, the ARN of an Alexa for Business resource other than a room.
pub fn is_resource_arn(text: &str) -> bool {
    a4b_arn(text) == Some(A4bArn::Resource)
}

/// The room ARNs and the other resource ARNs of a record, each list in the order first seen, each
/// ARN once.
#[derive(Debug, Default)]
pub struct TouchedArns {
    pub rooms: Vec<String>,
    pub resources: Vec<String>,
    seen: HashSet<String>,
}

impl TouchedArns {
    fn offer(&mut self, candidate: &str) {
        let Some(kind) = a4b_arn(candidate) else {
            return;
        };
        if self.seen.contains(candidate) {
            return;
        }
        self.seen.insert(candidate.to_owned());
        match kind {
            A4bArn::Room => self.rooms.push(candidate.to_owned()),
            A4bArn::Resource => self.resources.push(candidate.to_owned()),
        }
    }

    /// Every A4B ARN among the strings of `value`, at any depth.
    ///
    /// Walks by recursion bounded by serde_json's nesting limit (128): a deeper value is an error.
    pub fn collect_nested(&mut self, value: Option<&RawValue>) -> Result<(), serde_json::Error> {
        let Some(raw) = value else {
            return Ok(());
        };
        let mut deserializer = serde_json::Deserializer::from_str(raw.get());
        Collect { arns: self }.deserialize(&mut deserializer)?;
        deserializer.end()
    }

    /// The `ARN` of each `resources` entry (entries that are no object, or whose `ARN` is no string,
    /// have none).
    pub fn collect_resources(&mut self, resources: Option<&RawValue>) {
        let Some(raw) = resources.filter(|raw| raw.get().starts_with('[')) else {
            return;
        };
        let Ok(entries) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
            return;
        };
        for entry in entries {
            let [arn] = Fields { names: ["ARN"] }.of(Some(entry));
            if let Some(arn) = text(arn) {
                self.offer(&arn);
            }
        }
    }
}

/// Visits a JSON value, offering every string in it (object keys included) as an A4B ARN.
struct Collect<'r> {
    arns: &'r mut TouchedArns,
}

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        self.arns.offer(value);
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Collect {
                arns: &mut *self.arns,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Keys count too: a map keyed by room ARN touches those rooms.
        while let Some(Text(key)) = map.next_key()? {
            self.arns.offer(&key);
            map.next_value_seed(Collect {
                arns: &mut *self.arns,
            })?;
        }
        Ok(())
    }
}
