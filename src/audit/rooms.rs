//! The rooms a record touches: room ARNs anywhere in `requestParameters` and `responseElements`,
//! and the `ARN` of each `resources` entry.

use std::collections::HashSet;

use super::fields::text;
use crate::json::Raw;

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

    /// Every room ARN among the strings of `value` (object keys too: a map keyed by room ARN
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

    pub fn into_vec(self) -> Vec<String> {
        self.ordered
    }
}
