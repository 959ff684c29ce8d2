//! One record -> its audit items: rooms, user key, attributes (pure).
//!
//! A record gives one user item (`pk = USER#<user key>`) and one item per room it touches
//! (`pk = ROOM#<room ARN>`), all with `sk = <eventTime>#<eventID>` and the same attributes
//! (SPEC section 3). The record is read once, its fields borrowed from the raw text.

mod attributes;
mod fields;
mod record;
mod rooms;
mod user_key;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod view_tests;

pub use rooms::is_room_arn;
pub use user_key::UserKey;

use crate::item::{Item, PARTITION_KEY, SORT_KEY};
use record::Record;
use rooms::RoomArns;

/// What the items of one file share, besides the record itself.
#[derive(Debug, Clone)]
pub struct AuditContext {
    /// `s3://bucket/key` of the log file.
    pub source_object: String,
    /// When the items are written, RFC 3339.
    pub ingested_at: String,
    /// `expires_at` (epoch seconds) when retention is configured.
    pub expires_at: Option<i64>,
}

/// Why an A4B record gives no items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("the record is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the record is not a JSON object")]
    NotAnObject,
    #[error("the record has no string `eventID`")]
    MissingEventId,
    #[error("the record has no string `eventTime`")]
    MissingEventTime,
}

const USER_PREFIX: &str = "USER#";
const ROOM_PREFIX: &str = "ROOM#";

/// Maps one record (its exact JSON text) to its items: the user item first, then one per room.
///
/// Every item fits DynamoDB's size limit: when `record` does not, it is left out and
/// `record_truncated` is set; when even that is not enough, the longest free-text attributes are
/// shortened and `attributes_truncated` is set.
pub fn build_items(raw: &[u8], context: &AuditContext) -> Result<Vec<Item>, RejectReason> {
    let text = std::str::from_utf8(raw).map_err(|error| {
        RejectReason::InvalidJson(format!("invalid UTF-8 at byte {}", error.valid_up_to()))
    })?;
    let record = Record::parse(text)?;
    let user_key = UserKey::first_of(record.identity.key_candidates);

    let mut room_arns = RoomArns::default();
    for nested in [record.request_parameters, record.response_elements] {
        room_arns.collect_nested(nested);
    }
    room_arns.collect_resources(record.resources);
    let room_arns = room_arns.into_vec();

    let sort_key = format!("{}#{}", record.event_time, record.event_id);
    let longest_partition_key = room_arns
        .iter()
        .map(|arn| ROOM_PREFIX.len() + arn.len())
        .chain([USER_PREFIX.len() + user_key.as_str().len()])
        .max()
        .unwrap_or_default();
    let key_bytes = PARTITION_KEY.len() + longest_partition_key + SORT_KEY.len() + sort_key.len();

    let partition_keys: Vec<String> = [format!("{USER_PREFIX}{user_key}")]
        .into_iter()
        .chain(room_arns.iter().map(|arn| format!("{ROOM_PREFIX}{arn}")))
        .collect();
    let mut shared = attributes::shared(&record, &user_key, room_arns, context);
    let fitted = attributes::fit(&mut shared, key_bytes, text);
    if fitted.attributes_truncated {
        tracing::warn!(
            event_id = %record.event_id,
            "record too large for an item even without its text: free-text attributes shortened"
        );
    } else if fitted.record_truncated {
        tracing::info!(
            event_id = %record.event_id,
            record_bytes = text.len(),
            "record too large for an item: `record` left out, see `source_object`"
        );
    }

    let mut items = Vec::with_capacity(partition_keys.len());
    let mut partition_keys = partition_keys.into_iter().peekable();
    while let Some(pk) = partition_keys.next() {
        let mut item = Item::new(pk, sort_key.clone());
        // The last item takes the attributes; the others copy them.
        item.attributes = if partition_keys.peek().is_some() {
            shared.clone()
        } else {
            std::mem::take(&mut shared)
        };
        items.push(item);
    }
    Ok(items)
}
