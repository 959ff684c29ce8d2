//! `query --room`, `--direct`, `--resource` and time windows (SPEC section 7) on the sample
//! scenario (`a4b_audit_devtools::scenario`), ingested by `a4b-audit process` in several file
//! orders.

use std::path::PathBuf;

use a4b_audit_devtools::scenario;
use serde_json::Value;

use crate::harness::{TestEnv, events_dir};

/// The scenario's log files under `events/logs/`, in time order.
fn scenario_files() -> Vec<PathBuf> {
    let logs = events_dir().join(a4b_audit_devtools::samples::LOGS_DIR);
    scenario::log_keys()
        .iter()
        .map(|key| logs.join(key))
        .collect()
}

/// A table holding the scenario, its files processed one at a time in `order`.
async fn scenario_table(test_name: &str, order: &[usize]) -> TestEnv {
    let env = TestEnv::new(test_name).await;
    let files = scenario_files();
    for index in order {
        let path = files[*index].to_str().unwrap();
        let run = env.cli(&["process", path]);
        assert_eq!(run.code, Some(0), "{run:?}");
    }
    env
}

/// The step numbers (see `scenario::steps`) of the JSON lines printed, in order, with the `via`
/// of each.
fn steps_printed(stdout: &str) -> Vec<(u32, Vec<String>)> {
    stdout
        .lines()
        .map(|line| {
            let item: Value = serde_json::from_str(line).unwrap();
            let event_id = item["event_id"].as_str().unwrap();
            let number = (1..=30)
                .find(|number| scenario::event_id(*number) == event_id)
                .unwrap_or_else(|| panic!("not a scenario event: {line}"));
            let via = item["via"]
                .as_array()
                .map(|arns| {
                    arns.iter()
                        .map(|arn| arn.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (number, via)
        })
        .collect()
}

fn numbers(printed: &[(u32, Vec<String>)]) -> Vec<u32> {
    printed.iter().map(|(number, _)| *number).collect()
}

fn query_json(env: &TestEnv, args: &[&str]) -> Vec<(u32, Vec<String>)> {
    let mut all = vec!["query"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = env.cli(&all);
    assert_eq!(run.code, Some(0), "{run:?}");
    steps_printed(&run.stdout)
}

#[tokio::test]
async fn a_rooms_history_is_its_partition_plus_its_members_events_during_membership_whatever_the_file_order()
 {
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let env = scenario_table("room-history-orders", &order).await;
        let north = query_json(&env, &["--room", &scenario::north_room()]);
        assert_eq!(
            numbers(&north),
            scenario::north_history(),
            "order {order:?}"
        );
        let south = query_json(&env, &["--room", &scenario::south_room()]);
        assert_eq!(
            numbers(&south),
            scenario::south_history(),
            "order {order:?}"
        );
    }
}

#[tokio::test]
async fn each_event_of_a_room_is_marked_with_the_member_it_came_through() {
    let env = scenario_table("room-history-via", &[0, 1, 2]).await;
    let north = query_json(&env, &["--room", &scenario::north_room()]);
    let via_of = |number: u32| {
        north
            .iter()
            .find(|(printed, _)| *printed == number)
            .map(|(_, via)| via.clone())
            .unwrap()
    };
    for own in [2, 5, 6, 10, 17] {
        assert!(via_of(own).is_empty(), "step {own}: {:?}", via_of(own));
    }
    assert_eq!(via_of(7), [scenario::device()]);
    assert_eq!(via_of(12), [scenario::device()]);
    assert_eq!(via_of(8), [scenario::first_profile()]);
    assert_eq!(via_of(9), [scenario::skill_group()]);
    assert_eq!(via_of(19), [scenario::second_profile()]);
}

#[tokio::test]
async fn direct_is_the_rooms_own_partition_only() {
    let env = scenario_table("room-direct", &[2, 0, 1]).await;
    let north = query_json(&env, &["--room", &scenario::north_room(), "--direct"]);
    assert_eq!(numbers(&north), [2, 5, 6, 10, 17]);
    assert!(north.iter().all(|(_, via)| via.is_empty()));
}

#[tokio::test]
async fn a_resources_history_is_its_partition() {
    let env = scenario_table("resource-history", &[1, 0, 2]).await;
    let device = query_json(&env, &["--resource", &scenario::device()]);
    assert_eq!(numbers(&device), [6, 7, 12, 13, 14, 15, 20, 21]);
    let group = query_json(&env, &["--resource", &scenario::skill_group()]);
    assert_eq!(numbers(&group), [4, 5, 9, 10, 11]);
}

#[tokio::test]
async fn a_rooms_history_in_a_window_keeps_memberships_that_began_before_it() {
    let env = scenario_table("room-history-window", &[0, 1, 2]).await;
    let south = query_json(
        &env,
        &[
            "--room",
            &scenario::south_room(),
            "--from",
            "2023-07-12",
            "--to",
            "2023-07-12T09:59:59Z",
        ],
    );
    // The device (associated the day before) and the first profile still belong.
    assert_eq!(numbers(&south), [15, 18]);
    let errors = query_json(&env, &["--room", &scenario::south_room(), "--errors"]);
    assert_eq!(numbers(&errors), [15]);
}

#[tokio::test]
async fn a_time_window_reads_every_day_and_every_page_of_the_index_in_time_order() {
    let env = scenario_table("time-window", &[2, 1, 0]).await;
    let window = [
        "--from",
        "2023-07-11T14:00:00Z",
        "--to",
        "2023-07-12T09:00:00Z",
    ];
    let mut paged = window.to_vec();
    paged.extend_from_slice(&["--page-size", "2"]);
    assert_eq!(
        numbers(&query_json(&env, &paged)),
        (10..=17).collect::<Vec<_>>()
    );
    assert_eq!(
        numbers(&query_json(&env, &window)),
        (10..=17).collect::<Vec<_>>()
    );
    let mut limited = paged.clone();
    limited.extend_from_slice(&["--limit", "3"]);
    assert_eq!(numbers(&query_json(&env, &limited)), [10, 11, 12]);
}

#[tokio::test]
async fn a_time_window_filters_by_event_name_errors_and_user() {
    let env = scenario_table("time-window-filters", &[0, 1, 2]).await;
    let days = ["--from", "2023-07-11", "--to", "2023-07-12"];
    let mut updates = days.to_vec();
    updates.extend_from_slice(&["--event", "UpdateDevice", "--page-size", "3"]);
    assert_eq!(numbers(&query_json(&env, &updates)), [7, 13, 15, 21]);
    let mut errors = days.to_vec();
    errors.push("--errors");
    assert_eq!(numbers(&query_json(&env, &errors)), [15]);
    // The same window of one user is the user's partition.
    let all = query_json(&env, &days);
    assert_eq!(all.len(), 21);
    let run = env.cli(&[
        "query",
        "--from",
        "2023-07-11",
        "--to",
        "2023-07-12",
        "--format",
        "csv",
    ]);
    let user = run
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .to_owned();
    let mut mine = days.to_vec();
    mine.extend_from_slice(&["--user", &user]);
    let expected: Vec<u32> = run
        .stdout
        .lines()
        .skip(1)
        .filter(|line| line.split(',').nth(2) == Some(user.as_str()))
        .map(|line| {
            let event_id = line.split(',').nth(7).unwrap();
            (1..=21)
                .find(|n| scenario::event_id(*n) == event_id)
                .unwrap()
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(numbers(&query_json(&env, &mine)), expected);
}

#[tokio::test]
async fn a_time_window_needs_a_start() {
    let env = TestEnv::new("time-window-start").await;
    let run = env.cli(&["query", "--to", "2023-07-12"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--from"), "{run:?}");
    let run = env.cli(&["query", "--user", "u", "--direct"]);
    assert_eq!(run.code, Some(2), "{run:?}");
}

#[tokio::test]
async fn the_table_of_a_room_has_a_via_column() {
    let env = scenario_table("room-table", &[0, 1, 2]).await;
    let run = env.cli(&["query", "--room", &scenario::north_room()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("TIME  "), "{run:?}");
    assert!(lines[0].contains("  VIA  "), "{run:?}");
    assert_eq!(lines.len(), 1 + scenario::north_history().len());
    let update_device = lines
        .iter()
        .find(|line| line.contains("UpdateDevice"))
        .unwrap();
    assert!(
        update_device.contains(&scenario::device()),
        "{update_device}"
    );
}
