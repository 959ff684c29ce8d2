//! The sample scenario of a room's history through its devices, profiles and skill groups (SPEC
//! section 7): a device moves from the North room to the South room and is updated in each, a
//! profile changes while both rooms use it, a skill group is detached from North. Three log files
//! over two days; each record is a generated record of its operation (API model) whose parameters
//! are set to the scenario's resources, with the model's member names.

use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value, json};

use crate::a4b_records::{self, ACCOUNT_ID, ApiModel, Caller, REGION};

/// The scenario's resources.
pub fn north_room() -> String {
    a4b_records::room_arn(7001)
}
pub fn south_room() -> String {
    a4b_records::room_arn(7002)
}
pub fn device() -> String {
    a4b_records::device_arn(7003)
}
pub fn first_profile() -> String {
    a4b_records::profile_arn(7004)
}
pub fn second_profile() -> String {
    a4b_records::profile_arn(7005)
}
pub fn skill_group() -> String {
    a4b_records::skill_group_arn(7006)
}

/// One call of the scenario.
pub struct Step {
    /// 1, 2, …: the last digits of the event id, so tests can name events.
    pub number: u32,
    pub event_time: &'static str,
    pub operation: &'static str,
    pub caller: Caller,
    pub request: Value,
    pub response: Value,
    /// The call failed with this error code.
    pub error: Option<&'static str>,
}

/// The event id of step `number`.
pub fn event_id(number: u32) -> String {
    format!("5ce7a710-0000-4000-8000-{number:012}")
}

/// Every step, in time order.
pub fn steps() -> Vec<Step> {
    let (north, south, device, p1, p2, group) = (
        north_room(),
        south_room(),
        device(),
        first_profile(),
        second_profile(),
        skill_group(),
    );
    let step = |number, event_time, operation, caller, request: Value, response: Value| Step {
        number,
        event_time,
        operation,
        caller,
        request,
        response,
        error: None,
    };
    let alice = Caller::IamUser;
    let admin = Caller::AssumedRole;
    let console = Caller::ConsoleIamUser;
    vec![
        step(
            1,
            "2023-07-11T09:00:00Z",
            "CreateProfile",
            alice,
            json!({"profileName": "Meeting rooms", "timezone": "Europe/Paris", "address": "1 Rue de Rivoli, Paris", "distanceUnit": "METRIC", "temperatureUnit": "CELSIUS", "wakeWord": "ALEXA"}),
            json!({"profileArn": p1}),
        ),
        step(
            2,
            "2023-07-11T09:01:00Z",
            "CreateRoom",
            alice,
            json!({"roomName": "North boardroom", "profileArn": p1}),
            json!({"roomArn": north}),
        ),
        step(
            3,
            "2023-07-11T09:02:00Z",
            "CreateRoom",
            alice,
            json!({"roomName": "South huddle", "profileArn": p1}),
            json!({"roomArn": south}),
        ),
        step(
            4,
            "2023-07-11T09:05:00Z",
            "CreateSkillGroup",
            alice,
            json!({"skillGroupName": "Meeting tools"}),
            json!({"skillGroupArn": group}),
        ),
        step(
            5,
            "2023-07-11T09:06:00Z",
            "AssociateSkillGroupWithRoom",
            alice,
            json!({"skillGroupArn": group, "roomArn": north}),
            Value::Null,
        ),
        step(
            6,
            "2023-07-11T09:10:00Z",
            "AssociateDeviceWithRoom",
            admin,
            json!({"deviceArn": device, "roomArn": north}),
            Value::Null,
        ),
        step(
            7,
            "2023-07-11T09:20:00Z",
            "UpdateDevice",
            admin,
            json!({"deviceArn": device, "deviceName": "North display"}),
            Value::Null,
        ),
        step(
            8,
            "2023-07-11T10:00:00Z",
            "UpdateProfile",
            console,
            json!({"profileArn": p1, "maxVolumeLimit": 6}),
            Value::Null,
        ),
        step(
            9,
            "2023-07-11T10:05:00Z",
            "AssociateSkillWithSkillGroup",
            alice,
            json!({"skillGroupArn": group, "skillId": "amzn1.ask.skill.0b9a2c4e-1111-4a6b-9c7d-5e5f60718293"}),
            Value::Null,
        ),
        step(
            10,
            "2023-07-11T14:00:00Z",
            "DisassociateSkillGroupFromRoom",
            alice,
            json!({"skillGroupArn": group, "roomArn": north}),
            Value::Null,
        ),
        step(
            11,
            "2023-07-11T14:05:00Z",
            "AssociateSkillWithSkillGroup",
            alice,
            json!({"skillGroupArn": group, "skillId": "amzn1.ask.skill.7c1d0e2f-2222-4b3c-8d9e-0f1a2b3c4d5e"}),
            Value::Null,
        ),
        step(
            12,
            "2023-07-11T14:30:00Z",
            "AssociateDeviceWithRoom",
            admin,
            json!({"deviceArn": device, "roomArn": south}),
            Value::Null,
        ),
        step(
            13,
            "2023-07-11T14:40:00Z",
            "UpdateDevice",
            admin,
            json!({"deviceArn": device, "deviceName": "South display"}),
            Value::Null,
        ),
        step(
            14,
            "2023-07-11T15:00:00Z",
            "StartDeviceSync",
            admin,
            json!({"deviceArn": device, "features": ["SETTINGS"]}),
            Value::Null,
        ),
        Step {
            error: Some("AccessDeniedException"),
            ..step(
                15,
                "2023-07-12T08:30:00Z",
                "UpdateDevice",
                console,
                json!({"deviceArn": device, "deviceName": "Lobby"}),
                Value::Null,
            )
        },
        step(
            16,
            "2023-07-12T08:50:00Z",
            "CreateProfile",
            alice,
            json!({"profileName": "Boardroom", "timezone": "Europe/Paris", "address": "1 Rue de Rivoli, Paris", "distanceUnit": "METRIC", "temperatureUnit": "CELSIUS", "wakeWord": "COMPUTER"}),
            json!({"profileArn": p2}),
        ),
        step(
            17,
            "2023-07-12T09:00:00Z",
            "UpdateRoom",
            alice,
            json!({"roomArn": north, "profileArn": p2}),
            Value::Null,
        ),
        step(
            18,
            "2023-07-12T09:30:00Z",
            "UpdateProfile",
            console,
            json!({"profileArn": p1, "maxVolumeLimit": 4}),
            Value::Null,
        ),
        step(
            19,
            "2023-07-12T09:40:00Z",
            "UpdateProfile",
            console,
            json!({"profileArn": p2, "setupModeDisabled": true}),
            Value::Null,
        ),
        step(
            20,
            "2023-07-12T10:00:00Z",
            "DisassociateDeviceFromRoom",
            admin,
            json!({"deviceArn": device}),
            Value::Null,
        ),
        step(
            21,
            "2023-07-12T10:10:00Z",
            "UpdateDevice",
            admin,
            json!({"deviceArn": device, "deviceName": "Spare"}),
            Value::Null,
        ),
    ]
}

/// The steps a room's full history holds (`query --room`): its own events and those of its
/// members while they belonged to it, by step number.
pub fn north_history() -> Vec<u32> {
    // own: 2, 5, 6, 10, 17; the device 7, 12 (it moved away); the first profile 8; the skill
    // group 9; the second profile 19.
    vec![2, 5, 6, 7, 8, 9, 10, 12, 17, 19]
}

pub fn south_history() -> Vec<u32> {
    // own: 3, 12; the first profile 8, 18; the device 13, 14, 15 (failed), 20 (disassociated).
    vec![3, 8, 12, 13, 14, 15, 18, 20]
}

/// The CloudTrail record of a step.
pub fn record(model: &ApiModel, step: &Step) -> Value {
    let generated = a4b_records::record(
        model,
        step.operation,
        step.caller,
        7000 + u64::from(step.number),
    );
    let mut record = match generated.record {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    for field in ["errorCode", "errorMessage", "resources"] {
        record.remove(field);
    }
    record.insert("eventTime".into(), step.event_time.into());
    record.insert("eventID".into(), event_id(step.number).into());
    record.insert("awsRegion".into(), REGION.into());
    record.insert("requestParameters".into(), step.request.clone());
    record.insert("responseElements".into(), step.response.clone());
    if let Some(code) = step.error {
        record.insert("errorCode".into(), code.into());
        record.insert(
            "errorMessage".into(),
            format!("User is not authorized to perform: a4b:{}", step.operation).into(),
        );
        record.insert("responseElements".into(), Value::Null);
    }
    Value::Object(record)
}

/// The scenario's log files: (the day folder's `YYYY/MM/DD`, the file stamp, the step numbers).
pub const FILES: [(&str, &str, &str, std::ops::RangeInclusive<u32>); 3] = [
    ("2023/07/11", "20230711T1010Z", "Sc01North0000001", 1..=9),
    ("2023/07/11", "20230711T1505Z", "Sc02Moves0000002", 10..=14),
    ("2023/07/12", "20230712T1015Z", "Sc03NextDay00003", 15..=21),
];

/// The S3 keys of [`FILES`], in order (under `events/logs/` locally).
pub fn log_keys() -> Vec<String> {
    FILES
        .iter()
        .map(|(day, stamp, id, _)| {
            format!(
                "AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/{day}/{ACCOUNT_ID}_CloudTrail_{REGION}_{stamp}_{id}.json.gz"
            )
        })
        .collect()
}

/// Prints what `a4b-audit query --room` shows for the scenario's two rooms (run-local's last
/// words), with the CLI binary next to the Lambda's and `env` pointing it at the local table.
pub fn show_room_histories(cli_binary: &Path, env: &[(&str, &str)]) {
    if !cli_binary.is_file() {
        println!(
            "\n(build the CLI, cargo build --bin a4b-audit, to see the rooms' histories here)"
        );
        return;
    }
    for (name, room) in [("North", north_room()), ("South", south_room())] {
        println!("\n==> the {name} room's history: a4b-audit query --room {room}");
        let output = Command::new(cli_binary)
            .args(["query", "--room", &room])
            .envs(env.iter().copied())
            .output();
        match output {
            Ok(output) => {
                print!("{}", String::from_utf8_lossy(&output.stdout));
                print!("{}", String::from_utf8_lossy(&output.stderr));
            }
            Err(error) => println!("cannot run {}: {error}", cli_binary.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_is_a_member_of_the_operations_shape() {
        let model = ApiModel::reference().unwrap();
        for step in steps() {
            let inputs = model.member_names(step.operation, "input");
            let outputs = model.member_names(step.operation, "output");
            for (values, members) in [(&step.request, &inputs), (&step.response, &outputs)] {
                for name in values
                    .as_object()
                    .into_iter()
                    .flat_map(|object| object.keys())
                {
                    assert!(
                        members.contains(name),
                        "{}: {name} not in {members:?}",
                        step.operation
                    );
                }
            }
        }
    }

    #[test]
    fn steps_are_numbered_in_time_order() {
        let steps = steps();
        for (index, pair) in steps.windows(2).enumerate() {
            assert!(pair[0].event_time < pair[1].event_time);
            assert_eq!(pair[0].number as usize, index + 1);
        }
        let covered: u32 = FILES
            .iter()
            .map(|(_, _, _, range)| range.clone().count() as u32)
            .sum();
        assert_eq!(covered as usize, steps.len());
    }

    #[test]
    fn a_failed_step_has_an_error_and_no_response() {
        let model = ApiModel::reference().unwrap();
        for step in steps() {
            let record = record(&model, &step);
            assert_eq!(record["eventID"], event_id(step.number));
            assert_eq!(record.get("errorCode").is_some(), step.error.is_some());
            assert!(record.get("resources").is_none());
        }
    }
}
