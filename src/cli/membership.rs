//! Which devices, profiles and skill groups belonged to a room, and when (SPEC section 7).
//!
//! Pure logic over the events of the room's partition and of the resources' partitions, taken
//! together in sort-key order: the order in which log files were processed never matters, only
//! the events' own times. A call that failed (it carries an error code) changes nothing.
//!
//! - a device belongs to a room from `AssociateDeviceWithRoom` (or `RegisterAVSDevice` with a
//!   `RoomArn`) until `DisassociateDeviceFromRoom`, an association with another room, or
//!   `DeleteDevice`;
//! - a profile from `CreateRoom` or `UpdateRoom` naming it until an `UpdateRoom` naming another
//!   profile (or `DeleteProfile`);
//! - a skill group from `AssociateSkillGroupWithRoom` until `DisassociateSkillGroupFromRoom` (or
//!   `DeleteSkillGroup`);
//! - `DeleteRoom` ends every membership of the room.
//!
//! A period includes the event that started it and the one that ended it: both say something
//! about the room (the device that left it, the profile that replaced another).

use std::collections::{BTreeMap, BTreeSet};

/// The kinds of resource that act on a room without naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberKind {
    Device,
    Profile,
    SkillGroup,
}

impl MemberKind {
    /// The kind an ARN names (`arn:aws:a4b:<region>:<account>:device/…`), if it is one of these.
    pub fn of_arn(arn: &str) -> Option<MemberKind> {
        match a4b_resource_type(arn)? {
            "device" => Some(MemberKind::Device),
            "profile" => Some(MemberKind::Profile),
            "skill-group" => Some(MemberKind::SkillGroup),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MemberKind::Device => "device",
            MemberKind::Profile => "profile",
            MemberKind::SkillGroup => "skill group",
        }
    }
}

/// The resource type of an Alexa for Business ARN: `device` in
/// `arn:aws:a4b:us-east-1:123456789012:device/…`.
pub fn a4b_resource_type(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("a4b"), Some(_region), Some(_account), Some(rest)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    rest.split_once('/').map(|(kind, _)| kind)
}

/// What membership needs to know of one event (from its item's attributes).
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    /// The sort key, `<eventTime>#<eventID>`: the event's place in time.
    pub sk: &'a str,
    pub event_name: &'a str,
    /// The call failed (it has an error code): it changed nothing.
    pub failed: bool,
    /// The rooms the event touches (`room_arns`).
    pub rooms: &'a [String],
    /// The other A4B resources it touches (`resource_arns`).
    pub resources: &'a [String],
}

impl<'a> EventFacts<'a> {
    /// The one resource of `kind` the event names, if it names exactly one.
    fn the_only(&self, kind: MemberKind) -> Option<&'a str> {
        let mut found = self
            .resources
            .iter()
            .filter(|arn| MemberKind::of_arn(arn) == Some(kind));
        match (found.next(), found.next()) {
            (Some(arn), None) => Some(arn.as_str()),
            _ => None,
        }
    }

    /// The one room the event names, if it names exactly one.
    fn the_only_room(&self) -> Option<&str> {
        match self.rooms {
            [room] => Some(room.as_str()),
            _ => None,
        }
    }
}

/// The time one resource belonged to the room: from the sort key of the event that started it to
/// the one that ended it, both included; `end` is `None` while it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub resource_arn: String,
    pub kind: MemberKind,
    pub start: String,
    pub end: Option<String>,
}

impl Period {
    /// Whether an event with this sort key happened during the period.
    pub fn contains(&self, sk: &str) -> bool {
        sk >= self.start.as_str() && self.end.as_deref().is_none_or(|end| sk <= end)
    }
}

/// The resources a room's own events may have made members of it: the candidates whose
/// partitions the room's history must read.
pub fn candidate_members<'a>(
    room_arn: &str,
    room_events: impl IntoIterator<Item = EventFacts<'a>>,
) -> BTreeSet<String> {
    let mut candidates = BTreeSet::new();
    for event in room_events {
        if event.failed || event.the_only_room() != Some(room_arn) {
            continue;
        }
        if let Some((_, arn)) = membership_start(&event) {
            candidates.insert(arn.to_owned());
        }
    }
    candidates
}

/// A successful event naming exactly one room that makes a resource a member of that room.
fn membership_start<'e>(event: &EventFacts<'e>) -> Option<(MemberKind, &'e str)> {
    let kind = match event.event_name {
        "AssociateDeviceWithRoom" | "RegisterAVSDevice" => MemberKind::Device,
        "CreateRoom" | "UpdateRoom" => MemberKind::Profile,
        "AssociateSkillGroupWithRoom" => MemberKind::SkillGroup,
        _ => return None,
    };
    event.the_only(kind).map(|arn| (kind, arn))
}

/// Every period during which a device, profile or skill group belonged to `room_arn`, from the
/// events of the room's and the resources' partitions (any order, duplicates allowed), sorted by
/// resource then start.
pub fn membership_periods<'a>(
    room_arn: &str,
    events: impl IntoIterator<Item = EventFacts<'a>>,
) -> Vec<Period> {
    // One event may come from several partitions: keep it once, in time order.
    let ordered: BTreeMap<&str, EventFacts<'a>> =
        events.into_iter().map(|event| (event.sk, event)).collect();
    let mut tracker = Tracker::default();
    for event in ordered.values().filter(|event| !event.failed) {
        tracker.apply(room_arn, event);
    }
    tracker.finish()
}

#[derive(Default)]
struct Tracker {
    /// Open periods: resource ARN -> (kind, start sort key).
    open: BTreeMap<String, (MemberKind, String)>,
    closed: Vec<Period>,
}

impl Tracker {
    fn apply(&mut self, room_arn: &str, event: &EventFacts<'_>) {
        let in_this_room = event.the_only_room() == Some(room_arn);
        match event.event_name {
            "AssociateDeviceWithRoom" | "RegisterAVSDevice" => {
                let Some(device) = event.the_only(MemberKind::Device) else {
                    return;
                };
                if in_this_room {
                    self.open(device, MemberKind::Device, event.sk);
                } else if event.rooms.iter().any(|room| room != room_arn) {
                    // Associated elsewhere: it left this room.
                    self.close(device, event.sk);
                }
            }
            "DisassociateDeviceFromRoom" | "DeleteDevice" => {
                if let Some(device) = event.the_only(MemberKind::Device) {
                    self.close(device, event.sk);
                }
            }
            "CreateRoom" | "UpdateRoom" if in_this_room => {
                if let Some(profile) = event.the_only(MemberKind::Profile) {
                    let others: Vec<String> = self
                        .open_of_kind(MemberKind::Profile)
                        .filter(|open| open.as_str() != profile)
                        .collect();
                    for other in others {
                        self.close(&other, event.sk);
                    }
                    self.open(profile, MemberKind::Profile, event.sk);
                }
            }
            "AssociateSkillGroupWithRoom" if in_this_room => {
                if let Some(group) = event.the_only(MemberKind::SkillGroup) {
                    self.open(group, MemberKind::SkillGroup, event.sk);
                }
            }
            "DisassociateSkillGroupFromRoom" if in_this_room => {
                if let Some(group) = event.the_only(MemberKind::SkillGroup) {
                    self.close(group, event.sk);
                }
            }
            "DeleteProfile" | "DeleteSkillGroup" => {
                for resource in event.resources {
                    self.close(resource, event.sk);
                }
            }
            "DeleteRoom" if in_this_room => {
                let all: Vec<String> = self.open.keys().cloned().collect();
                for resource in all {
                    self.close(&resource, event.sk);
                }
            }
            _ => {}
        }
    }

    fn open_of_kind(&self, kind: MemberKind) -> impl Iterator<Item = String> + '_ {
        self.open
            .iter()
            .filter(move |(_, (open_kind, _))| *open_kind == kind)
            .map(|(arn, _)| arn.clone())
    }

    /// Starts a period unless one is already open (a repeated association changes nothing).
    fn open(&mut self, resource: &str, kind: MemberKind, sk: &str) {
        self.open
            .entry(resource.to_owned())
            .or_insert_with(|| (kind, sk.to_owned()));
    }

    fn close(&mut self, resource: &str, sk: &str) {
        if let Some((kind, start)) = self.open.remove(resource) {
            self.closed.push(Period {
                resource_arn: resource.to_owned(),
                kind,
                start,
                end: Some(sk.to_owned()),
            });
        }
    }

    fn finish(mut self) -> Vec<Period> {
        let open = std::mem::take(&mut self.open);
        self.closed.extend(
            open.into_iter()
                .map(|(resource_arn, (kind, start))| Period {
                    resource_arn,
                    kind,
                    start,
                    end: None,
                }),
        );
        self.closed
            .sort_by(|a, b| (&a.resource_arn, &a.start).cmp(&(&b.resource_arn, &b.start)));
        self.closed
    }
}

/// The resources through which an event with this sort key, of the partition of
/// `resource_arn`, reached the room: that resource when one of its periods holds the event.
pub fn reached_through<'p>(
    periods: &'p [Period],
    resource_arn: &str,
    sk: &str,
) -> Option<&'p Period> {
    periods
        .iter()
        .find(|period| period.resource_arn == resource_arn && period.contains(sk))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM_A: &str = "arn:aws:a4b:us-east-1:123456789012:room/a/1";
    const ROOM_B: &str = "arn:aws:a4b:us-east-1:123456789012:room/b/2";
    const DEVICE: &str = "arn:aws:a4b:us-east-1:123456789012:device/d/1";
    const PROFILE_1: &str = "arn:aws:a4b:us-east-1:123456789012:profile/p/1";
    const PROFILE_2: &str = "arn:aws:a4b:us-east-1:123456789012:profile/p/2";
    const GROUP: &str = "arn:aws:a4b:us-east-1:123456789012:skill-group/g/1";

    /// An event as owned data; `facts()` borrows it.
    struct Event {
        sk: String,
        name: &'static str,
        failed: bool,
        rooms: Vec<String>,
        resources: Vec<String>,
    }

    fn event(minute: u32, name: &'static str, rooms: &[&str], resources: &[&str]) -> Event {
        Event {
            sk: format!("2023-07-10T12:{minute:02}:00Z#e{minute}"),
            name,
            failed: false,
            rooms: rooms.iter().map(|room| room.to_string()).collect(),
            resources: resources.iter().map(|arn| arn.to_string()).collect(),
        }
    }

    fn failed(mut event: Event) -> Event {
        event.failed = true;
        event
    }

    fn facts(events: &[Event]) -> impl Iterator<Item = EventFacts<'_>> {
        events.iter().map(|event| EventFacts {
            sk: &event.sk,
            event_name: event.name,
            failed: event.failed,
            rooms: &event.rooms,
            resources: &event.resources,
        })
    }

    fn sk(minute: u32) -> String {
        format!("2023-07-10T12:{minute:02}:00Z#e{minute}")
    }

    fn period(resource: &str, kind: MemberKind, start: u32, end: Option<u32>) -> Period {
        Period {
            resource_arn: resource.to_owned(),
            kind,
            start: sk(start),
            end: end.map(sk),
        }
    }

    #[test]
    fn a4b_resource_types_come_from_the_arn() {
        assert_eq!(a4b_resource_type(DEVICE), Some("device"));
        assert_eq!(a4b_resource_type(GROUP), Some("skill-group"));
        assert_eq!(a4b_resource_type("arn:aws:iam::123456789012:user/x"), None);
        assert_eq!(MemberKind::of_arn(ROOM_A), None);
        assert_eq!(MemberKind::of_arn(PROFILE_1), Some(MemberKind::Profile));
    }

    #[test]
    fn a_device_belongs_from_its_association_until_its_disassociation() {
        let events = [
            event(1, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            event(5, "DisassociateDeviceFromRoom", &[], &[DEVICE]),
        ];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [period(DEVICE, MemberKind::Device, 1, Some(5))]
        );
    }

    #[test]
    fn a_device_associated_elsewhere_leaves_the_room_and_joins_the_other() {
        let events = [
            event(1, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            event(4, "AssociateDeviceWithRoom", &[ROOM_B], &[DEVICE]),
            event(7, "DeleteDevice", &[], &[DEVICE]),
        ];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [period(DEVICE, MemberKind::Device, 1, Some(4))]
        );
        assert_eq!(
            membership_periods(ROOM_B, facts(&events)),
            [period(DEVICE, MemberKind::Device, 4, Some(7))]
        );
    }

    #[test]
    fn a_device_still_associated_belongs_without_end() {
        let events = [event(1, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE])];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [period(DEVICE, MemberKind::Device, 1, None)]
        );
    }

    #[test]
    fn a_failed_call_changes_no_membership() {
        let events = [
            event(1, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            failed(event(2, "DisassociateDeviceFromRoom", &[], &[DEVICE])),
            failed(event(3, "AssociateSkillGroupWithRoom", &[ROOM_A], &[GROUP])),
        ];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [period(DEVICE, MemberKind::Device, 1, None)]
        );
        assert_eq!(
            candidate_members(ROOM_A, facts(&events)),
            BTreeSet::from([DEVICE.to_owned()])
        );
    }

    #[test]
    fn the_order_events_arrive_in_does_not_matter_and_duplicates_count_once() {
        let mut events = vec![
            event(4, "AssociateDeviceWithRoom", &[ROOM_B], &[DEVICE]),
            event(1, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            event(9, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            event(1, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
        ];
        let expected = [
            period(DEVICE, MemberKind::Device, 1, Some(4)),
            period(DEVICE, MemberKind::Device, 9, None),
        ];
        assert_eq!(membership_periods(ROOM_A, facts(&events)), expected);
        events.reverse();
        assert_eq!(membership_periods(ROOM_A, facts(&events)), expected);
    }

    #[test]
    fn a_profile_belongs_from_create_room_until_update_room_names_another() {
        let events = [
            event(1, "CreateRoom", &[ROOM_A], &[PROFILE_1]),
            event(2, "UpdateRoom", &[ROOM_A], &[]),
            event(3, "UpdateRoom", &[ROOM_A], &[PROFILE_1]),
            event(6, "UpdateRoom", &[ROOM_A], &[PROFILE_2]),
        ];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [
                period(PROFILE_1, MemberKind::Profile, 1, Some(6)),
                period(PROFILE_2, MemberKind::Profile, 6, None),
            ]
        );
    }

    #[test]
    fn a_profile_of_another_room_is_no_member() {
        let events = [event(1, "CreateRoom", &[ROOM_B], &[PROFILE_1])];
        assert!(membership_periods(ROOM_A, facts(&events)).is_empty());
        assert!(candidate_members(ROOM_A, facts(&events)).is_empty());
    }

    #[test]
    fn a_skill_group_belongs_until_it_is_disassociated_from_this_room() {
        let events = [
            event(1, "AssociateSkillGroupWithRoom", &[ROOM_A], &[GROUP]),
            event(2, "AssociateSkillGroupWithRoom", &[ROOM_B], &[GROUP]),
            event(3, "DisassociateSkillGroupFromRoom", &[ROOM_B], &[GROUP]),
            event(8, "DisassociateSkillGroupFromRoom", &[ROOM_A], &[GROUP]),
        ];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [period(GROUP, MemberKind::SkillGroup, 1, Some(8))]
        );
        assert_eq!(
            membership_periods(ROOM_B, facts(&events)),
            [period(GROUP, MemberKind::SkillGroup, 2, Some(3))]
        );
    }

    #[test]
    fn delete_room_ends_every_membership() {
        let events = [
            event(1, "CreateRoom", &[ROOM_A], &[PROFILE_1]),
            event(2, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            event(3, "AssociateSkillGroupWithRoom", &[ROOM_A], &[GROUP]),
            event(4, "DeleteRoom", &[ROOM_A], &[]),
        ];
        assert_eq!(
            membership_periods(ROOM_A, facts(&events)),
            [
                period(DEVICE, MemberKind::Device, 2, Some(4)),
                period(PROFILE_1, MemberKind::Profile, 1, Some(4)),
                period(GROUP, MemberKind::SkillGroup, 3, Some(4)),
            ]
        );
    }

    #[test]
    fn candidates_are_the_resources_the_rooms_own_events_associate() {
        let events = [
            event(1, "CreateRoom", &[ROOM_A], &[PROFILE_1]),
            event(2, "AssociateDeviceWithRoom", &[ROOM_A], &[DEVICE]),
            event(3, "AssociateSkillGroupWithRoom", &[ROOM_A], &[GROUP]),
            event(4, "StartDeviceSync", &[ROOM_A], &[DEVICE]),
            event(5, "UpdateRoom", &[ROOM_A], &[PROFILE_2]),
        ];
        assert_eq!(
            candidate_members(ROOM_A, facts(&events)),
            BTreeSet::from([
                DEVICE.to_owned(),
                PROFILE_1.to_owned(),
                PROFILE_2.to_owned(),
                GROUP.to_owned()
            ])
        );
    }

    #[test]
    fn a_period_holds_its_first_and_last_event_and_nothing_outside() {
        let periods = [period(DEVICE, MemberKind::Device, 2, Some(5))];
        assert!(reached_through(&periods, DEVICE, &sk(2)).is_some());
        assert!(reached_through(&periods, DEVICE, &sk(5)).is_some());
        assert!(reached_through(&periods, DEVICE, &sk(1)).is_none());
        assert!(reached_through(&periods, DEVICE, &sk(6)).is_none());
        assert!(reached_through(&periods, GROUP, &sk(3)).is_none());
    }
}
