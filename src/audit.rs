//! One record -> its audit items: rooms, user key, attributes (pure).
//! OWNER: helper "audit" (skeleton; to be replaced).

use crate::item::Item;

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

/// Maps one record (its exact JSON text) to its items: the user item first, then one per room.
pub fn build_items(raw: &[u8], context: &AuditContext) -> Result<Vec<Item>, RejectReason> {
    let _ = (raw, context);
    todo!("helper: audit")
}
