//! The rooms and other Alexa for Business resources a record touches: their ARNs anywhere in
//! `requestParameters` and `responseElements`, and the `ARN` of each `resources` entry.

use std::collections::HashSet;

use super::fields::text;
use crate::json::Raw;

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

    /// Every A4B ARN among the strings of `value` (object keys too: a map keyed by room ARN
    /// touches those rooms), at any depth.
    pub fn collect_nested(&mut self, value: Option<Raw<'_>>) {
        for string in value.into_iter().flat_map(Raw::strings) {
            self.offer(&string);
        }
    }

    /// The `ARN` of each `resources` entry (entries that are no object, or whose `ARN` is no string,
    /// have none).
    pub fn collect_resources(&mut self, resources: Option<Raw<'_>>) {
        for entry in resources.into_iter().flat_map(Raw::elements) {
            let [arn] = entry.fields(["ARN"]);
            if let Some(arn) = text(arn) {
                self.offer(&arn);
            }
        }
    }
}
