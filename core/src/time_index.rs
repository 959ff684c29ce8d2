//! The table's time index (SPEC section 7): a global secondary index on the user items' `day`
//! (partition key) and `sk` (sort key). template.yaml declares it; `a4b-audit query --from --to`
//! reads it one day at a time.

/// The index's name.
pub const TIME_INDEX: &str = "time-index";

/// The attribute only user items carry: `YYYY-MM-DD` of the event time (UTC).
pub const DAY_ATTRIBUTE: &str = "day";

/// The attributes the index holds besides its keys and the table's: every attribute of an event
/// item but `record`, which would double the index's size and write units (the user partition
/// keeps it).
pub const PROJECTED_ATTRIBUTES: [&str; 24] = [
    "event_id",
    "event_time",
    "event_name",
    "event_source",
    "aws_region",
    "account_id",
    "user_key",
    "user_type",
    "user_name",
    "source_ip",
    "user_agent",
    "request_id",
    "read_only",
    "error_code",
    "error_message",
    "room_arns",
    "room_count",
    "resource_arns",
    "resource_count",
    "source_object",
    "record_truncated",
    "attributes_truncated",
    "ingested_at",
    "expires_at",
];
