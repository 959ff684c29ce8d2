//! A room's whole history: its own events, plus the events of each device, profile and skill group
//! during the time it belonged to the room, each marked with the resource it came through.
//! Pure: the partitions are read by the caller.
//!
//! A member's event that names other rooms and not this one is about those rooms (`CreateRoom`
//! of another room with the same profile, the skill group associated with another room too): it
//! is left out, except when it is the event that ended the membership (the device associated
//! with another room), which is this room's history too.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::membership::{self, EventFacts, Period};
use super::output::text;
use super::table_reader::TableItem;

/// One event as shown: the item read back and the resources it came through (none for the
/// partition's own events).
#[derive(Debug, Clone, PartialEq)]
pub struct ShownEvent {
    pub item: TableItem,
    pub via: Vec<String>,
}

impl ShownEvent {
    pub fn own(item: TableItem) -> Self {
        ShownEvent {
            item,
            via: Vec::new(),
        }
    }

    pub fn sort_key(&self) -> String {
        text(&self.item, crate::item::SORT_KEY)
    }
}

/// The room's events in time order and the membership periods they were resolved with.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomHistory {
    pub events: Vec<ShownEvent>,
    pub periods: Vec<Period>,
}

/// What membership needs of an item, owned (the item's lists are `AttributeValue`s).
pub struct ItemFacts {
    sk: String,
    event_name: String,
    failed: bool,
    rooms: Vec<String>,
    resources: Vec<String>,
}

impl ItemFacts {
    pub fn of(item: &TableItem) -> Self {
        ItemFacts {
            sk: text(item, crate::item::SORT_KEY),
            event_name: text(item, "event_name"),
            failed: item.contains_key("error_code"),
            rooms: strings(item, "room_arns"),
            resources: strings(item, "resource_arns"),
        }
    }

    pub fn facts(&self) -> EventFacts<'_> {
        EventFacts {
            sk: &self.sk,
            event_name: &self.event_name,
            failed: self.failed,
            rooms: &self.rooms,
            resources: &self.resources,
        }
    }
}

fn strings(item: &TableItem, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::L(values)) => values
            .iter()
            .filter_map(|value| value.as_s().ok().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// The resources whose partitions the room's history needs (see [`membership::candidate_members`]).
pub fn candidates(room_arn: &str, room_items: &[TableItem]) -> Vec<String> {
    let facts: Vec<ItemFacts> = room_items.iter().map(ItemFacts::of).collect();
    membership::candidate_members(room_arn, facts.iter().map(ItemFacts::facts))
        .into_iter()
        .collect()
}

/// Merges the room's partition with its candidate resources' partitions (resource ARN, items).
pub fn room_history(
    room_arn: &str,
    room_items: Vec<TableItem>,
    resource_items: Vec<(String, Vec<TableItem>)>,
) -> RoomHistory {
    let room_facts: Vec<ItemFacts> = room_items.iter().map(ItemFacts::of).collect();
    let resource_facts: Vec<ItemFacts> = resource_items
        .iter()
        .flat_map(|(_, items)| items.iter().map(ItemFacts::of))
        .collect();
    let periods = membership::membership_periods(
        room_arn,
        room_facts
            .iter()
            .chain(&resource_facts)
            .map(ItemFacts::facts),
    );

    let mut by_sort_key: BTreeMap<String, ShownEvent> = room_items
        .into_iter()
        .map(|item| (text(&item, crate::item::SORT_KEY), ShownEvent::own(item)))
        .collect();
    let own: Vec<String> = by_sort_key.keys().cloned().collect();
    for (resource_arn, items) in resource_items {
        for item in items {
            let sk = text(&item, crate::item::SORT_KEY);
            let Some(period) = membership::reached_through(&periods, &resource_arn, &sk) else {
                continue;
            };
            let rooms = strings(&item, "room_arns");
            let about_other_rooms = !rooms.is_empty() && !rooms.iter().any(|room| room == room_arn);
            let ends_the_period = period.end.as_deref() == Some(sk.as_str());
            if own.binary_search(&sk).is_ok() || (about_other_rooms && !ends_the_period) {
                continue;
            }
            by_sort_key
                .entry(sk)
                .or_insert_with(|| ShownEvent {
                    item,
                    via: Vec::new(),
                })
                .via
                .push(resource_arn.clone());
        }
    }
    RoomHistory {
        events: by_sort_key.into_values().collect(),
        periods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "arn:aws:a4b:us-east-1:123456789012:room/a/1";
    const OTHER_ROOM: &str = "arn:aws:a4b:us-east-1:123456789012:room/b/2";
    const DEVICE: &str = "arn:aws:a4b:us-east-1:123456789012:device/d/1";
    const PROFILE: &str = "arn:aws:a4b:us-east-1:123456789012:profile/p/1";

    fn item(pk: &str, minute: u32, name: &str, rooms: &[&str], resources: &[&str]) -> TableItem {
        let list = |arns: &[&str]| {
            AttributeValue::L(
                arns.iter()
                    .map(|arn| AttributeValue::S(arn.to_string()))
                    .collect(),
            )
        };
        let mut item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            (
                "sk".to_owned(),
                AttributeValue::S(format!("2023-07-10T12:{minute:02}:00Z#e{minute}")),
            ),
            ("event_name".to_owned(), AttributeValue::S(name.to_owned())),
        ]);
        if !rooms.is_empty() {
            item.insert("room_arns".to_owned(), list(rooms));
        }
        if !resources.is_empty() {
            item.insert("resource_arns".to_owned(), list(resources));
        }
        item
    }

    use std::collections::HashMap;

    fn room_pk() -> String {
        format!("ROOM#{ROOM}")
    }

    fn device_pk() -> String {
        format!("RESOURCE#{DEVICE}")
    }

    fn shown(history: &RoomHistory) -> Vec<(String, Vec<String>)> {
        history
            .events
            .iter()
            .map(|event| (text(&event.item, "event_name"), event.via.clone()))
            .collect()
    }

    #[test]
    fn a_devices_events_count_only_while_it_belongs_to_the_room() {
        let associate = item(&room_pk(), 1, "AssociateDeviceWithRoom", &[ROOM], &[DEVICE]);
        let room_items = vec![
            associate.clone(),
            item(&room_pk(), 3, "UpdateRoom", &[ROOM], &[]),
        ];
        let device_items = vec![
            item(&device_pk(), 0, "UpdateDevice", &[], &[DEVICE]),
            {
                let mut copy = associate;
                copy.insert("pk".into(), AttributeValue::S(device_pk()));
                copy
            },
            item(&device_pk(), 2, "UpdateDevice", &[], &[DEVICE]),
            item(
                &device_pk(),
                4,
                "AssociateDeviceWithRoom",
                &[OTHER_ROOM],
                &[DEVICE],
            ),
            item(&device_pk(), 5, "UpdateDevice", &[], &[DEVICE]),
        ];
        assert_eq!(candidates(ROOM, &room_items), [DEVICE]);
        let history = room_history(ROOM, room_items, vec![(DEVICE.into(), device_items)]);
        assert_eq!(
            shown(&history),
            [
                ("AssociateDeviceWithRoom".to_owned(), vec![]),
                ("UpdateDevice".to_owned(), vec![DEVICE.to_owned()]),
                ("UpdateRoom".to_owned(), vec![]),
                (
                    "AssociateDeviceWithRoom".to_owned(),
                    vec![DEVICE.to_owned()]
                ),
            ]
        );
        assert_eq!(history.periods.len(), 1);
    }

    #[test]
    fn a_members_event_about_another_room_is_left_out() {
        let room_items = vec![item(&room_pk(), 1, "CreateRoom", &[ROOM], &[PROFILE])];
        let profile_pk = format!("RESOURCE#{PROFILE}");
        let profile_items = vec![
            item(&profile_pk, 2, "CreateRoom", &[OTHER_ROOM], &[PROFILE]),
            item(&profile_pk, 3, "UpdateProfile", &[], &[PROFILE]),
        ];
        let history = room_history(ROOM, room_items, vec![(PROFILE.into(), profile_items)]);
        assert_eq!(
            shown(&history),
            [
                ("CreateRoom".to_owned(), vec![]),
                ("UpdateProfile".to_owned(), vec![PROFILE.to_owned()]),
            ]
        );
    }

    #[test]
    fn an_event_reached_through_two_resources_is_shown_once_marked_with_both() {
        let room_items = vec![
            item(&room_pk(), 1, "CreateRoom", &[ROOM], &[PROFILE]),
            item(&room_pk(), 2, "AssociateDeviceWithRoom", &[ROOM], &[DEVICE]),
        ];
        let both = |pk: &str| item(pk, 3, "TagResource", &[], &[DEVICE, PROFILE]);
        let history = room_history(
            ROOM,
            room_items,
            vec![
                (DEVICE.into(), vec![both(&device_pk())]),
                (PROFILE.into(), vec![both(&format!("RESOURCE#{PROFILE}"))]),
            ],
        );
        assert_eq!(
            shown(&history)[2],
            (
                "TagResource".to_owned(),
                vec![DEVICE.to_owned(), PROFILE.to_owned()]
            )
        );
    }
}
