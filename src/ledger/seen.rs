//! "Seen" items: one small item per room and per user that has event items, so that `rooms` and
//! `users` can list them without scanning the events. Counts and last activity are not kept here:
//! they are read from the event partitions themselves when asked (see [`super::activity`]), so
//! they always agree with `query`, whatever was processed twice, under which name, in which order.
//!
//! A seen item is a plain put with no condition and no counter: writing it twice leaves the same
//! item, so many writers at once, re-deliveries and retries cannot make it wrong. It goes in the
//! same BatchWriteItem stream as the file's event items, once per file (deduplicated here).
//!
//! Keys: `pk = SEEN#ROOM#<shard>` (or `SEEN#USER#<shard>`), `sk = <room ARN>` (or user key), the
//! shard a stable hash of the ARN or key modulo [`SEEN_SHARDS`]. Why 64 shards: DynamoDB takes at
//! most 1,000 write units a second per partition key, and an on-demand table at most 40,000 by
//! default; spread over 64 keys, even a table writing nothing but seen items at that limit stays
//! under 625 writes a second per key, so 1,000 writers (or a Distributed Map at any concurrency
//! the table allows) find no hot key. One room's own seen item is written at most once per file
//! that also writes at least one event item into that room's partition, so it is never hotter than
//! the room's events are. Reading them back costs one `Query` per shard (64 per listing, run
//! concurrently), whatever the number of rooms.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use crate::audit::RecordPartitions;
use crate::item::{AttrValue, Item};
use crate::keys::{MAX_SORT_KEY_BYTES, ROOM_PREFIX, USER_PREFIX};

/// Shards per kind. Part of the table's format: readers query `0..SEEN_SHARDS`.
pub const SEEN_SHARDS: u32 = 64;
pub use crate::keys::{SEEN_ROOM_PK_PREFIX, SEEN_USER_PK_PREFIX};
/// The attribute holding the whole room ARN or user key when it is too long for a sort key.
pub const SEEN_NAME_ATTRIBUTE: &str = "name";

/// How much of a too-long name a sort key keeps, before `#` and its 16-digit hash.
const SHORTENED_NAME_BYTES: usize = MAX_SORT_KEY_BYTES - 17;

/// What is listed: rooms or users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeenKind {
    Rooms,
    Users,
}

impl SeenKind {
    /// `SEEN#ROOM#` or `SEEN#USER#`.
    pub fn seen_pk_prefix(self) -> &'static str {
        match self {
            SeenKind::Rooms => SEEN_ROOM_PK_PREFIX,
            SeenKind::Users => SEEN_USER_PK_PREFIX,
        }
    }

    /// `ROOM#` or `USER#`.
    pub fn event_pk_prefix(self) -> &'static str {
        match self {
            SeenKind::Rooms => ROOM_PREFIX,
            SeenKind::Users => USER_PREFIX,
        }
    }

    /// The `pk` of one shard: `SEEN#ROOM#07`.
    pub fn shard_pk(self, shard: u32) -> String {
        format!("{}{shard:02}", self.seen_pk_prefix())
    }

    /// The event partition of a room ARN or user key: `ROOM#<arn>`.
    pub fn event_pk(self, name: &str) -> String {
        format!("{}{name}", self.event_pk_prefix())
    }
}

/// The seen item of a room ARN or user key; `None` for an empty name.
pub fn seen_item(kind: SeenKind, name: &str) -> Option<Item> {
    if name.is_empty() {
        return None;
    }
    let hash = stable_hash(name.as_bytes());
    let shard = (hash % u64::from(SEEN_SHARDS)) as u32;
    let pk = kind.shard_pk(shard);
    if name.len() <= MAX_SORT_KEY_BYTES {
        return Some(Item::new(pk, name.to_owned()));
    }
    // A name too long for a sort key (a partition key may be twice as long): a prefix made unique
    // by the hash of the whole, which the item keeps in full.
    let end = name.floor_char_boundary(SHORTENED_NAME_BYTES);
    let prefix = name.get(..end).unwrap_or_default();
    let mut item = Item::new(pk, format!("{prefix}#{hash:016x}"));
    item.attributes
        .insert(SEEN_NAME_ATTRIBUTE, AttrValue::S(name.into()));
    Some(item)
}

/// FNV-1a, 64 bits: a hash fixed for all time (the standard library's may change between
/// releases), so that a room always lands in the same shard.
fn stable_hash(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The seen items of one file: each room and user once, the first time one of its event items
/// goes by.
///
/// Each partition is remembered as a 128-bit fingerprint (16 bytes) rather than its name, so a
/// file touching a million users needs 16 MB, not hundreds. The fingerprints are keyed at random
/// per file, so two partitions share one with a chance of about n² / 2¹²⁹, which no crafted input
/// can raise.
#[derive(Debug, Default)]
pub struct FileSeen {
    partitions: HashSet<u128>,
    fingerprint_keys: [RandomState; 2],
}

impl FileSeen {
    /// The seen items to write with one record's items (the mapping says which partitions they
    /// go to): one for each room and for the user that no earlier record of this file touched.
    pub fn first_sights(&mut self, partitions: &RecordPartitions) -> Vec<Item> {
        let user = std::iter::once((SeenKind::Users, partitions.user_key.as_str()));
        let rooms = partitions
            .rooms
            .iter()
            .map(|arn| (SeenKind::Rooms, arn.as_str()));
        user.chain(rooms)
            .filter_map(|(kind, name)| {
                let item = seen_item(kind, name)?;
                self.partitions
                    .insert(self.fingerprint(kind, name))
                    .then_some(item)
            })
            .collect()
    }

    fn fingerprint(&self, kind: SeenKind, name: &str) -> u128 {
        let [low, high] = self
            .fingerprint_keys
            .each_ref()
            .map(|keys| keys.hash_one((kind, name)));
        u128::from(high) << 64 | u128::from(low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(user_key: &str, rooms: &[&str]) -> RecordPartitions {
        RecordPartitions {
            user_key: user_key.to_owned(),
            rooms: rooms.iter().map(|&room| room.to_owned()).collect(),
            resources: vec!["arn:aws:a4b:us-east-1:123456789012:device/d".to_owned()],
        }
    }

    const ROOM: &str = "arn:aws:a4b:us-east-1:123456789012:room/8eed09c4/66afda68";

    #[test]
    fn a_room_has_one_seen_item_under_its_shard_with_its_arn_as_sort_key() {
        let item = seen_item(SeenKind::Rooms, ROOM).unwrap();
        assert!(item.key.pk.starts_with("SEEN#ROOM#"), "{:?}", item.key);
        let shard: u32 = item.key.pk["SEEN#ROOM#".len()..].parse().unwrap();
        assert!(shard < SEEN_SHARDS);
        assert_eq!(item.key.sk, ROOM);
        assert!(item.attributes.is_empty(), "a seen item is its key alone");
        // The same room always lands in the same shard.
        assert_eq!(seen_item(SeenKind::Rooms, ROOM).unwrap(), item);
    }

    #[test]
    fn the_shard_is_a_fixed_hash_of_the_name() {
        // FNV-1a of "alice" is 0x508b2abb65a03907 (fixed for all time), modulo 64 = 7.
        assert_eq!(stable_hash(b"alice"), 0x508b_2abb_65a0_3907);
        assert_eq!(
            seen_item(SeenKind::Users, "alice").unwrap().key.pk,
            "SEEN#USER#07"
        );
    }

    #[test]
    fn many_rooms_spread_over_every_shard() {
        let mut per_shard = [0u32; SEEN_SHARDS as usize];
        for n in 0..6_400 {
            let item = seen_item(
                SeenKind::Rooms,
                &format!("arn:aws:a4b:us-east-1:123456789012:room/{n:x}"),
            )
            .unwrap();
            let shard: usize = item.key.pk["SEEN#ROOM#".len()..].parse().unwrap();
            per_shard[shard] += 1;
        }
        // 100 a shard on average; no shard far above it.
        assert!(
            per_shard.iter().all(|&count| (50..=150).contains(&count)),
            "{per_shard:?}"
        );
    }

    #[test]
    fn an_empty_name_has_no_seen_item() {
        assert!(seen_item(SeenKind::Users, "").is_none());
        assert!(seen_item(SeenKind::Rooms, "").is_none());
    }

    #[test]
    fn a_name_too_long_for_a_sort_key_is_shortened_uniquely_and_kept_whole() {
        let long = format!("arn:aws:iam::123456789012:user/{}", "é".repeat(900));
        let item = seen_item(SeenKind::Users, &long).unwrap();
        // As much of the name as fits, but for the last character's bytes: `é` takes two.
        assert!(
            (1023..=1024).contains(&item.key.sk.len()),
            "{}",
            item.key.sk.len()
        );
        assert!(long.starts_with(item.key.sk.rsplit_once('#').unwrap().0));
        assert_eq!(item.string(SEEN_NAME_ATTRIBUTE), Some(long.as_str()));
        let other = format!("{long}x");
        assert_ne!(
            seen_item(SeenKind::Users, &other).unwrap().key.sk,
            item.key.sk
        );
    }

    #[test]
    fn a_fingerprint_takes_both_of_its_hashes() {
        // Each half is a 64-bit hash: both are zero for no name but once in 2^64.
        let seen = FileSeen::default();
        for n in 0..100 {
            let fingerprint = seen.fingerprint(SeenKind::Users, &format!("user-{n}"));
            assert_ne!(fingerprint >> 64, 0, "{fingerprint:032x}");
            assert_ne!(fingerprint & u128::from(u64::MAX), 0, "{fingerprint:032x}");
        }
    }

    #[test]
    fn a_file_writes_each_room_and_user_once() {
        let mut seen = FileSeen::default();
        let first = seen.first_sights(&record("alice", &[ROOM]));
        assert_eq!(
            first,
            vec![
                seen_item(SeenKind::Users, "alice").unwrap(),
                seen_item(SeenKind::Rooms, ROOM).unwrap()
            ]
        );
        assert_eq!(seen.first_sights(&record("alice", &[ROOM])), vec![]);
        assert_eq!(
            seen.first_sights(&record("bob", &[ROOM])),
            vec![seen_item(SeenKind::Users, "bob").unwrap()]
        );
        assert_eq!(seen.partitions.len(), 3);
    }

    #[test]
    fn resources_have_no_seen_items() {
        let mut seen = FileSeen::default();
        assert_eq!(seen.first_sights(&record("alice", &[])).len(), 1);
        assert_eq!(seen.partitions.len(), 1);
    }

    #[test]
    fn a_room_and_a_user_of_the_same_name_are_each_seen() {
        let mut seen = FileSeen::default();
        assert_eq!(seen.first_sights(&record("same", &["same"])).len(), 2);
    }
}
