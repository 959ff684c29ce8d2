//! The table's key schema, defined once (SPEC section 3): the key attributes, the partition key
//! prefixes of the audit event items, their sort key, and DynamoDB's limits on both.
//!
//! Every module that builds or reads an event item's key (the mapping, the ledger, the queries)
//! goes through these, so that a prefix is spelled in one place.

/// The name of the partition key attribute.
pub const PARTITION_KEY: &str = "pk";
/// The name of the sort key attribute.
pub const SORT_KEY: &str = "sk";

/// The partition of a user's events: `USER#<user key>`.
pub const USER_PREFIX: &str = "USER#";
/// The partition of a room's events: `ROOM#<room ARN>`.
pub const ROOM_PREFIX: &str = "ROOM#";
/// The partition of any other Alexa for Business resource's events: `RESOURCE#<ARN>`.
pub const RESOURCE_PREFIX: &str = "RESOURCE#";

/// The prefixes of the partitions that hold audit event items.
pub const EVENT_PREFIXES: [&str; 3] = [USER_PREFIX, ROOM_PREFIX, RESOURCE_PREFIX];

/// The partitions of the rooms' seen items: `SEEN#ROOM#<shard>` (the ledger's, besides the events).
pub const SEEN_ROOM_PK_PREFIX: &str = "SEEN#ROOM#";
/// The partitions of the users' seen items: `SEEN#USER#<shard>`.
pub const SEEN_USER_PK_PREFIX: &str = "SEEN#USER#";

/// The `pk` prefixes of what earlier versions wrote besides the events: per-file markers and
/// summary guards (`FILE#<source_object>`) and the room/user summaries (`SUMMARY#ROOM`,
/// `SUMMARY#USER`). No command reads them any more; `cleanup-legacy` removes them.
pub const LEGACY_PK_PREFIXES: [&str; 2] = ["FILE#", "SUMMARY#"];

/// DynamoDB's limit on a partition key value, in UTF-8 bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// DynamoDB's limit on a sort key value, in UTF-8 bytes.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

/// `USER#<user key>`.
pub fn user_pk(user_key: &str) -> String {
    format!("{USER_PREFIX}{user_key}")
}

/// `ROOM#<room ARN>`.
pub fn room_pk(room_arn: &str) -> String {
    format!("{ROOM_PREFIX}{room_arn}")
}

/// `RESOURCE#<ARN>`.
pub fn resource_pk(arn: &str) -> String {
    format!("{RESOURCE_PREFIX}{arn}")
}

/// The sort key of every item of one record: `<eventTime>#<eventID>`.
pub fn event_sk(event_time: &str, event_id: &str) -> String {
    format!("{event_time}#{event_id}")
}

/// Whether `pk` is the partition of audit event items (a user's, a room's or a resource's).
pub fn is_event_partition(pk: &str) -> bool {
    EVENT_PREFIXES.iter().any(|prefix| pk.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_prefix_and_the_value() {
        assert_eq!(
            user_pk("arn:aws:iam::1:user/a"),
            "USER#arn:aws:iam::1:user/a"
        );
        assert_eq!(room_pk("r"), "ROOM#r");
        assert_eq!(resource_pk("d"), "RESOURCE#d");
        assert_eq!(
            event_sk("2023-05-01T10:00:00Z", "e1"),
            "2023-05-01T10:00:00Z#e1"
        );
    }

    #[test]
    fn event_partitions_are_user_room_and_resource_ones() {
        for pk in ["USER#u", "ROOM#r", "RESOURCE#d"] {
            assert!(is_event_partition(pk), "{pk}");
        }
        for pk in ["FILE#s3://b/k", "SUMMARY#ROOM", "user#u", "ROOMS#r"] {
            assert!(!is_event_partition(pk), "{pk}");
        }
    }
}
