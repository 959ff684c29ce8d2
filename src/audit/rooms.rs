//! The rooms a record touches: room ARNs anywhere in `requestParameters` and `responseElements`,
//! and the `ARN` of each `resources` entry.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::fields::{Fields, Text, text};

/// DynamoDB's limit on a partition key value; a room's `pk` is `ROOM#` + its ARN.
const MAX_PARTITION_KEY_BYTES: usize = 2048;
const ROOM_KEY_PREFIX_BYTES: usize = "ROOM#".len();

/// Whether `text` is, in its entirety, an Alexa for Business room ARN:
/// `arn:<partition>:a4b:<region>:<12 digits>:room/<id>`.
///
/// The id may not hold whitespace or control characters (real ids are hex and `/`), so that an ARN
/// followed by other text is no room; an ARN too long to be a partition key is no room either.
pub fn is_room_arn(text: &str) -> bool {
    if text.len() + ROOM_KEY_PREFIX_BYTES > MAX_PARTITION_KEY_BYTES {
        return false;
    }
    let Some(rest) = text.strip_prefix("arn:") else {
        return false;
    };
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let is_name = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let Some(room_id) = resource.strip_prefix("room/") else {
        return false;
    };
    is_name(partition)
        && service == "a4b"
        && is_name(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !room_id.is_empty()
        && !room_id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Room ARNs in the order first seen, each once.
#[derive(Debug, Default)]
pub struct RoomArns {
    ordered: Vec<String>,
    seen: HashSet<String>,
}

impl RoomArns {
    fn offer(&mut self, candidate: &str) {
        if is_room_arn(candidate) && !self.seen.contains(candidate) {
            self.seen.insert(candidate.to_owned());
            self.ordered.push(candidate.to_owned());
        }
    }

    /// Every room ARN among the strings of `value`, at any depth.
    ///
    /// Walks by recursion bounded by serde_json's nesting limit (128): a deeper value is an error.
    pub fn collect_nested(&mut self, value: Option<&RawValue>) -> Result<(), serde_json::Error> {
        let Some(raw) = value else {
            return Ok(());
        };
        let mut deserializer = serde_json::Deserializer::from_str(raw.get());
        Collect { rooms: self }.deserialize(&mut deserializer)?;
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

    pub fn into_vec(self) -> Vec<String> {
        self.ordered
    }
}

/// Visits a JSON value, offering every string in it (object keys included) as a room ARN.
struct Collect<'r> {
    rooms: &'r mut RoomArns,
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
        self.rooms.offer(value);
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
                rooms: &mut *self.rooms,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Keys count too: a map keyed by room ARN touches those rooms.
        while let Some(Text(key)) = map.next_key()? {
            self.rooms.offer(&key);
            map.next_value_seed(Collect {
                rooms: &mut *self.rooms,
            })?;
        }
        Ok(())
    }
}
