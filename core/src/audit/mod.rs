//! One record -> its audit items: rooms, resources, user key, attributes, limits (pure).
//!
//! A record gives one user item (`pk = USER#<user key>`), one item per room it touches
//! (`pk = ROOM#<room ARN>`) and one per other Alexa for Business resource it touches
//! (`pk = RESOURCE#<ARN>`), all with `sk = <eventTime>#<eventID>` and the same attributes, but for
//! `day` (the user item's only) and `record` (SPEC section 3). The record is read once, its fields
//! borrowed from the raw text; the items are built one at a time as they are taken, so that a
//! record touching thousands of rooms never has them all in memory at once.

mod attributes;
mod fields;
mod record;
mod rooms;
mod user_key;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod view_tests;

pub use rooms::{A4bArn, a4b_arn, is_resource_arn, is_room_arn};
pub use user_key::UserKey;

use crate::item::{AttrValue, Item, key_size_bytes};
use crate::json::Raw;
use crate::keys::{self, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES};
use crate::reader::CheckedRecord;
use attributes::{Attributes, Fitted};
use record::Record;
use rooms::TouchedArns;

/// A record touching more rooms and resources than this in all gives room and resource items
/// without `record` (the user item keeps it): its items then cost bytes in proportion to their
/// number, not to its square.
pub const MAX_TOUCHED_WITH_RECORD: usize = 100;

/// What the items of one file share, besides the record itself.
#[derive(Debug, Clone)]
pub struct AuditContext {
    /// `s3://bucket/key` of the log file.
    pub source_object: String,
    /// When the items are written, RFC 3339.
    pub ingested_at: String,
    /// `RETENTION_DAYS`, when set.
    pub retention: Option<Retention>,
}

/// How long items are kept: `expires_at` is the event time plus `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: u32,
    /// When the file is read, epoch seconds: a record whose `expires_at` is not after it is expired.
    pub now: i64,
}

impl Retention {
    /// `expires_at` of a record: its event time plus the retention, or, when `eventTime` is no
    /// timestamp (CloudTrail always writes one), the time of reading plus the retention.
    fn expires_at(&self, event_time: Option<jiff::Timestamp>) -> i64 {
        let from = event_time.map_or(self.now, jiff::Timestamp::as_second);
        from.saturating_add(i64::from(self.days) * SECONDS_PER_DAY)
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// What a record maps to.
#[derive(Debug)]
pub enum Mapped {
    /// Its items, to write.
    Items(RecordItems),
    /// Already past its retention when read: nothing is written (SPEC section 3).
    Expired { expires_at: i64 },
}

impl Mapped {
    /// The items, unless the record is expired.
    pub fn into_items(self) -> Option<RecordItems> {
        match self {
            Mapped::Items(items) => Some(items),
            Mapped::Expired { .. } => None,
        }
    }
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
    #[error(
        "its sort key `eventTime#eventID` takes {bytes} bytes, past DynamoDB's limit of 1024: \
         the record is kept in its log file, not in the table"
    )]
    SortKeyTooLong { bytes: usize },
    #[error(
        "its user partition key `USER#<user key>` takes {bytes} bytes, past DynamoDB's limit of \
         2048: the record is kept in its log file, not in the table"
    )]
    UserKeyTooLong { bytes: usize },
}

/// Maps one record (its exact JSON text) to its items: the user item first, then one per room,
/// then one per other resource.
///
/// A record whose sort key or user partition key cannot fit DynamoDB's limits is rejected; a room
/// or resource whose ARN is too long for a partition key gets no item (it is logged, and still
/// listed and counted). Every item fits DynamoDB's size limit: when `record` does not, it is left
/// out and `record_truncated` is set; when even that is not enough, the longest free-text
/// attributes are shortened and `attributes_truncated` is set. With retention set, a record already
/// past it is [`Mapped::Expired`].
pub fn build_items(raw: &[u8], context: &AuditContext) -> Result<Mapped, RejectReason> {
    let text = std::str::from_utf8(raw).map_err(|error| {
        RejectReason::InvalidJson(format!("invalid UTF-8 at byte {}", error.valid_up_to()))
    })?;
    map_record(Record::parse(text)?, text, context)
}

/// [`build_items`] for a record the reader handed over: its text is not checked a second time.
pub fn build_checked_items(
    record: CheckedRecord<'_>,
    context: &AuditContext,
) -> Result<Mapped, RejectReason> {
    map_record(
        Record::read(Raw::scanned(record))?,
        record.as_str(),
        context,
    )
}

/// The items of `record`, whose text is `text`.
fn map_record(
    record: Record<'_>,
    text: &str,
    context: &AuditContext,
) -> Result<Mapped, RejectReason> {
    let user_key = UserKey::first_of(record.identity.key_candidates);

    let sort_key = keys::event_sk(&record.event_time, &record.event_id);
    if sort_key.len() > MAX_SORT_KEY_BYTES {
        return Err(RejectReason::SortKeyTooLong {
            bytes: sort_key.len(),
        });
    }
    let user_pk = keys::user_pk(user_key.as_str());
    if user_pk.len() > MAX_PARTITION_KEY_BYTES {
        return Err(RejectReason::UserKeyTooLong {
            bytes: user_pk.len(),
        });
    }

    let event_time = record.event_time.parse::<jiff::Timestamp>().ok();
    let expires_at = context
        .retention
        .map(|retention| (retention, retention.expires_at(event_time)));
    if let Some((retention, expires_at)) = expires_at
        && expires_at <= retention.now
    {
        return Ok(Mapped::Expired { expires_at });
    }

    let mut arns = TouchedArns::default();
    for nested in [record.request_parameters, record.response_elements] {
        arns.collect_nested(nested);
    }
    arns.collect_resources(record.resources);

    let mut shared = attributes::shared(&record, &user_key, &arns, context);
    if let Some((_, expires_at)) = expires_at {
        shared.insert("expires_at", AttrValue::N(expires_at.to_string()));
    }
    let touched = arns.rooms.len() + arns.resources.len();
    let partitions = RecordPartitions {
        user_key: user_key.as_str().to_owned(),
        rooms: with_items(arns.rooms, keys::ROOM_PREFIX, &record.event_id),
        resources: with_items(arns.resources, keys::RESOURCE_PREFIX, &record.event_id),
    };
    let key_bytes = |pk_bytes: usize| key_size_bytes(pk_bytes, sort_key.len());

    let (mut user_attributes, mut other_attributes) = if partitions.others() == 0 {
        (shared, Attributes::new())
    } else {
        (shared.clone(), shared)
    };
    if let Some(day) = event_time.map(|time| time.strftime("%Y-%m-%d").to_string()) {
        // `YYYY-MM-DD` of `eventTime` in UTC: the partition of the table's time index. Left out
        // when `eventTime` is no RFC 3339 timestamp (CloudTrail always writes one).
        user_attributes.insert(crate::time_index::DAY_ATTRIBUTE, AttrValue::S(day.into()));
    }
    let record_text = attributes::RecordText::new(text);
    let user_fitted = attributes::fit(
        &mut user_attributes,
        key_bytes(user_pk.len()),
        Some(&record_text),
    );
    log_fitted(user_fitted, &record.event_id, text.len(), "user item");

    if let Some(longest_pk) = partitions.longest_other_pk() {
        // Past the threshold the user item alone keeps the text: N items of N rooms each carrying
        // the whole record would cost N times its bytes.
        let record_text = (touched <= MAX_TOUCHED_WITH_RECORD).then_some(&record_text);
        let fitted = attributes::fit(&mut other_attributes, key_bytes(longest_pk), record_text);
        if record_text.is_some() || fitted.attributes_truncated {
            log_fitted(
                fitted,
                &record.event_id,
                text.len(),
                "room and resource items",
            );
        }
    }

    let mut user = Item::new(user_pk, sort_key.clone());
    user.attributes = user_attributes;
    Ok(Mapped::Items(RecordItems {
        sort_key,
        user: Some(user),
        partitions,
        next_other: 0,
        other_attributes,
    }))
}

/// The ARNs of `arns` that get an item under `prefix`: an ARN too long for a partition key gets
/// none (it is logged).
fn with_items(mut arns: Vec<String>, prefix: &str, event_id: &str) -> Vec<String> {
    arns.retain(|arn| {
        let pk_bytes = prefix.len() + arn.len();
        let fits = pk_bytes <= MAX_PARTITION_KEY_BYTES;
        if !fits {
            tracing::warn!(
                event_id,
                pk_bytes,
                "an ARN the record touches is too long for a partition key: it gets no item"
            );
        }
        fits
    });
    arns
}

/// The partitions one record's items go to, by kind. The mapping hands them to the ledger with
/// the items (for the seen items of the rooms and users), so that nothing reads them back out of
/// the items' keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordPartitions {
    /// The user key of the user item (`USER#<user key>`).
    pub user_key: String,
    /// The room ARNs that get an item (`ROOM#<ARN>`), in the order first seen.
    pub rooms: Vec<String>,
    /// The other resource ARNs that get an item (`RESOURCE#<ARN>`), in the order first seen.
    pub resources: Vec<String>,
}

impl RecordPartitions {
    /// The `pk` of each room item, then of each resource item.
    fn other_pk(&self, index: usize) -> Option<String> {
        match self.rooms.get(index) {
            Some(arn) => Some(keys::room_pk(arn)),
            None => self
                .resources
                .get(index - self.rooms.len())
                .map(|arn| keys::resource_pk(arn)),
        }
    }

    /// The length of the longest room or resource item's `pk`, without building them.
    fn longest_other_pk(&self) -> Option<usize> {
        let rooms = self
            .rooms
            .iter()
            .map(|arn| keys::ROOM_PREFIX.len() + arn.len());
        let resources = self
            .resources
            .iter()
            .map(|arn| keys::RESOURCE_PREFIX.len() + arn.len());
        rooms.chain(resources).max()
    }

    fn others(&self) -> usize {
        self.rooms.len() + self.resources.len()
    }
}

fn log_fitted(fitted: Fitted, event_id: &str, record_bytes: usize, items: &str) {
    if fitted.attributes_truncated {
        tracing::warn!(
            event_id,
            items,
            "record too large for an item even without its text: free-text attributes shortened"
        );
    } else if fitted.record_truncated {
        tracing::info!(
            event_id,
            items,
            record_bytes,
            "record too large for an item: `record` left out, see `source_object`"
        );
    }
}

/// The items of one record, built one at a time as they are taken: the user item, then each room
/// item, then each resource item.
#[derive(Debug)]
pub struct RecordItems {
    sort_key: String,
    user: Option<Item>,
    partitions: RecordPartitions,
    /// The room or resource item to build next, as an index into the rooms then the resources.
    next_other: usize,
    /// The attributes of every room and resource item.
    other_attributes: Attributes,
}

impl RecordItems {
    /// The partitions the record's items go to, by kind.
    pub fn partitions(&self) -> &RecordPartitions {
        &self.partitions
    }
}

impl Iterator for RecordItems {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if let Some(user) = self.user.take() {
            return Some(user);
        }
        let pk = self.partitions.other_pk(self.next_other)?;
        self.next_other += 1;
        let mut item = Item::new(pk, self.sort_key.clone());
        // The last item takes the attributes; the others copy them.
        item.attributes = if self.next_other == self.partitions.others() {
            std::mem::take(&mut self.other_attributes)
        } else {
            self.other_attributes.clone()
        };
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = usize::from(self.user.is_some())
            + self.partitions.others().saturating_sub(self.next_other);
        (len, Some(len))
    }
}

impl ExactSizeIterator for RecordItems {}
