//! What `rooms` and `users` print: every room (user) with a seen item, its number of events and
//! its last activity, read from its own event partition when asked. Nothing is counted at write
//! time, so nothing can drift: the count is what `query` returns for that partition.
//!
//! Requests for R rooms: one `Query` per seen shard ([`SEEN_SHARDS`], more pages only past 1 MB of
//! seen items, about 10,000 rooms a shard), then per room one `Select=COUNT` query (a page per MB
//! of the room's events) and one newest-first `Limit=1` query; `concurrency` at a time.

use std::collections::BTreeSet;
use std::future::Future;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::LedgerError;
use super::seen::{SEEN_SHARDS, SeenKind};

/// One room's or user's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The room ARN or user key.
    pub name: String,
    /// Event items in its partition: exactly what `query` returns for it.
    pub event_count: u64,
    /// `event_time` of its newest event item.
    pub last_event_time: String,
}

/// Reads the table for [`list_activity`]; DynamoDB or an in-memory twin.
pub trait PartitionReader: Send + Sync {
    /// The room ARNs (user keys) of one shard of seen items, all pages.
    fn seen_names(
        &self,
        kind: SeenKind,
        shard: u32,
    ) -> impl Future<Output = Result<Vec<String>, LedgerError>> + Send;

    /// How many items the partition `pk` holds.
    fn count_items(&self, pk: &str) -> impl Future<Output = Result<u64, LedgerError>> + Send;

    /// The `event_time` of the partition's last item in sort key order, if it has any.
    fn latest_event_time(
        &self,
        pk: &str,
    ) -> impl Future<Output = Result<Option<String>, LedgerError>> + Send;
}

/// An event item's time: its `event_time`, else the time its sort key (`<eventTime>#<eventID>`)
/// starts with.
pub fn event_time_or_sort_key(event_time: Option<&str>, sk: &str) -> String {
    event_time
        .or_else(|| sk.split_once('#').map(|(time, _)| time))
        .unwrap_or(sk)
        .to_owned()
}

/// Every room (user) seen, in name order, with its count and last activity; `concurrency`
/// requests at a time. A room whose partition holds no event (its events expired, or a file
/// failed after its seen item was written and before its events were) is left out: `query` has
/// nothing for it either.
pub async fn list_activity<R: PartitionReader>(
    reader: &R,
    kind: SeenKind,
    concurrency: usize,
) -> Result<Vec<Activity>, LedgerError> {
    let concurrency = concurrency.max(1);
    let shards: Vec<Vec<String>> = stream::iter(0..SEEN_SHARDS)
        .map(|shard| reader.seen_names(kind, shard))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    let names: BTreeSet<String> = shards.into_iter().flatten().collect();
    let mut activity: Vec<Activity> = stream::iter(names)
        .map(|name| async move {
            let pk = kind.event_pk(&name);
            let (event_count, last_event_time) =
                futures::try_join!(reader.count_items(&pk), reader.latest_event_time(&pk))?;
            Ok::<_, LedgerError>(last_event_time.map(|last_event_time| Activity {
                name,
                event_count,
                last_event_time,
            }))
        })
        // Two requests a name: half as many names as requests in flight.
        .buffer_unordered(concurrency.div_ceil(2))
        .try_filter_map(|activity| async move { Ok(activity.filter(|a| a.event_count > 0)) })
        .try_collect()
        .await?;
    activity.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(activity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Item;
    use crate::ledger::MemoryTable;
    use crate::ledger::seen::seen_item;

    fn event(pk: &str, time: &str, id: &str) -> Item {
        let mut item = Item::new(pk.to_owned(), format!("{time}#{id}"));
        item.attributes
            .insert("event_time", crate::item::AttrValue::S(time.into()));
        item
    }

    #[tokio::test]
    async fn each_room_gets_the_count_and_latest_time_of_its_own_partition() {
        let table = MemoryTable::default();
        for item in [
            event("ROOM#r1", "2023-05-01T10:00:00Z", "e1"),
            event("ROOM#r1", "2023-05-03T10:00:00Z", "e3"),
            event("ROOM#r1", "2023-05-02T10:00:00Z", "e2"),
            event("ROOM#r2", "2023-04-01T00:00:00Z", "e4"),
            event("USER#alice", "2023-05-03T10:00:00Z", "e3"),
            seen_item(SeenKind::Rooms, "r1").unwrap(),
            seen_item(SeenKind::Rooms, "r2").unwrap(),
            seen_item(SeenKind::Users, "alice").unwrap(),
        ] {
            table.put(item);
        }
        let rooms = list_activity(&table, SeenKind::Rooms, 4).await.unwrap();
        assert_eq!(
            rooms,
            vec![
                Activity {
                    name: "r1".into(),
                    event_count: 3,
                    last_event_time: "2023-05-03T10:00:00Z".into(),
                },
                Activity {
                    name: "r2".into(),
                    event_count: 1,
                    last_event_time: "2023-04-01T00:00:00Z".into(),
                },
            ]
        );
        let users = list_activity(&table, SeenKind::Users, 1).await.unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].name, "alice");
    }

    #[tokio::test]
    async fn a_room_seen_without_events_is_not_listed() {
        let table = MemoryTable::default();
        table.put(seen_item(SeenKind::Rooms, "r1").unwrap());
        assert_eq!(
            list_activity(&table, SeenKind::Rooms, 8).await.unwrap(),
            vec![]
        );
    }

    #[tokio::test]
    async fn a_room_with_a_name_too_long_for_a_sort_key_is_listed_by_its_whole_name() {
        let table = MemoryTable::default();
        let long = format!(
            "arn:aws:a4b:us-east-1:123456789012:room/{}",
            "a".repeat(1500)
        );
        table.put(seen_item(SeenKind::Rooms, &long).unwrap());
        table.put(event(&format!("ROOM#{long}"), "2023-05-01T10:00:00Z", "e1"));
        let rooms = list_activity(&table, SeenKind::Rooms, 8).await.unwrap();
        assert_eq!(rooms.len(), 1);
        assert_eq!(rooms[0].name, long);
    }
}
