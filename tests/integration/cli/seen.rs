//! `rooms` and `users` agree with `query` for every room and user, whatever was processed twice,
//! under which name (`s3://…` by the Lambda's path, `file://…` by `a4b-audit process`), in which
//! order, and by how many writers at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use crate::harness::{TestEnv, cloudtrail_event, events_dir, invoke};

/// The sample log files: in the test's bucket (their S3 keys) and on disk.
struct Samples {
    keys: Vec<String>,
    paths: Vec<PathBuf>,
}

async fn samples(env: &TestEnv) -> Samples {
    let keys = env.put_sample_logs().await;
    let logs = events_dir().join(a4b_audit_devtools::samples::LOGS_DIR);
    let paths = keys.iter().map(|key| logs.join(key)).collect();
    Samples { keys, paths }
}

/// Every sample through the Lambda's handler, under its `s3://` name.
async fn through_the_lambda(env: &TestEnv, samples: &Samples) {
    let pipeline = env.pipeline(env.config());
    let event = cloudtrail_event(&env.bucket, &[&samples.keys]);
    let summary = invoke(&pipeline, event).await.expect("invocation succeeds");
    assert_eq!(summary.objects_processed, samples.keys.len() as u64);
}

/// Every sample through `a4b-audit process`, under its `file://` name.
fn through_the_cli(env: &TestEnv, samples: &Samples) {
    let mut args = vec!["process"];
    args.extend(samples.paths.iter().map(|path| path.to_str().unwrap()));
    let run = env.cli(&args);
    assert_eq!(run.code, Some(0), "{run:?}");
}

/// (event count, latest event time) per room or user, from the JSON lines of a command.
fn tally(lines: &str, name_field: Option<&str>) -> BTreeMap<String, (u64, String)> {
    let mut tally: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for line in lines.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        match name_field {
            // A line of `rooms`/`users`.
            Some(field) => {
                tally.insert(
                    value[field].as_str().unwrap().to_owned(),
                    (
                        value["event_count"].as_u64().unwrap(),
                        value["last_event_time"].as_str().unwrap().to_owned(),
                    ),
                );
            }
            // An event of `query`.
            None => {
                let entry = tally.entry(String::new()).or_default();
                entry.0 += 1;
                let time = value["event_time"].as_str().unwrap().to_owned();
                entry.1 = entry.1.clone().max(time);
            }
        }
    }
    tally
}

async fn assert_listings_agree_with_query(env: &TestEnv) {
    let items = env.items().await;
    for (command, field, flag, prefix) in [
        ("rooms", "room_arn", "--room", "ROOM#"),
        ("users", "user_key", "--user", "USER#"),
    ] {
        let run = env.cli(&[command, "--format", "json"]);
        assert_eq!(run.code, Some(0), "{run:?}");
        let listed = tally(&run.stdout, Some(field));
        let partitions: BTreeSet<String> = items
            .iter()
            .filter_map(|item| item["pk"].as_s().ok()?.strip_prefix(prefix))
            .map(str::to_owned)
            .collect();
        assert!(!partitions.is_empty());
        assert_eq!(
            listed.keys().cloned().collect::<BTreeSet<_>>(),
            partitions,
            "{command} lists every {prefix} partition and nothing else"
        );
        for name in &partitions {
            let query = env.cli(&["query", flag, name, "--format", "json"]);
            assert_eq!(query.code, Some(0), "{query:?}");
            let queried = tally(&query.stdout, None);
            assert_eq!(
                Some(&listed[name]),
                queried.get(""),
                "{command}: {name} as `query {flag}` shows it"
            );
        }
    }
}

#[tokio::test]
async fn listings_agree_with_query_after_both_names_twice_lambda_first() {
    let env = TestEnv::new("cli-listings_agree_lambda_first").await;
    let samples = samples(&env).await;
    for _ in 0..2 {
        through_the_lambda(&env, &samples).await;
        through_the_cli(&env, &samples);
    }
    assert_listings_agree_with_query(&env).await;
}

#[tokio::test]
async fn listings_agree_with_query_after_both_names_twice_cli_first() {
    let env = TestEnv::new("cli-listings_agree_cli_first").await;
    let samples = samples(&env).await;
    for _ in 0..2 {
        through_the_cli(&env, &samples);
        through_the_lambda(&env, &samples).await;
    }
    assert_listings_agree_with_query(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listings_agree_with_query_after_both_names_twice_at_once() {
    let env = std::sync::Arc::new(TestEnv::new("cli-listings_agree_at_once").await);
    let samples = std::sync::Arc::new(samples(&env).await);
    let cli_runs: Vec<_> = (0..2)
        .map(|_| {
            let (env, samples) = (env.clone(), samples.clone());
            tokio::task::spawn_blocking(move || through_the_cli(&env, &samples))
        })
        .collect();
    futures::future::join_all((0..2).map(|_| through_the_lambda(&env, &samples))).await;
    for run in cli_runs {
        run.await.unwrap();
    }
    assert_listings_agree_with_query(&env).await;
}
