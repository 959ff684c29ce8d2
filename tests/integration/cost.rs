//! What each log file costs in DynamoDB requests, counted by a proxy in front of moto: the real
//! binary over 104 notifications (105 log files, 640 event items), file by file, against the
//! event items alone. Timings are printed for the README's cost section, never asserted.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use a4b_audit::ledger::SeenItems;
use a4b_audit::object::PipelineOptions;
use a4b_audit_devtools::fault_proxy::{FaultCounts, FaultPlan, FaultProxy};
use a4b_audit_devtools::lambda_process::LambdaProcess;
use a4b_audit_devtools::moto::{DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, LOCAL_REGION};
use a4b_audit_devtools::runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};

use crate::cli::{a4b_record, other_record};
use crate::harness::{TestEnv, cloudtrail_event, cloudtrail_key, invoke, log_file, pipeline_at};
use crate::lambda_binary::binary;

const FILES: usize = 105;
const DEADLINE: Duration = Duration::from_secs(60);

/// One generated log file: its key, and the event items and rooms + users it holds.
struct TrailFile {
    key: String,
    event_items: u64,
    rooms_and_users: u64,
}

/// 105 files: 40 without an A4B record, 65 with 4 or 5 records each touching one room (two
/// items a record): 640 event items in all.
async fn trail(env: &TestEnv) -> Vec<TrailFile> {
    let mut files = Vec::new();
    let mut a4b_files = 0;
    for n in 0..FILES {
        let key = cloudtrail_key(
            None,
            "123456789012",
            "us-east-1",
            "20230710",
            &format!("Cost{n:08}"),
        );
        let mut records = vec![other_record(&format!("x{n}"), "2023-07-10T12:00:00Z")];
        let mut seen = BTreeSet::new();
        if n % 8 >= 3 {
            let count = if a4b_files < 60 { 5 } else { 4 };
            a4b_files += 1;
            for r in 0..count {
                let user = format!("user{}", (n + r) % 6);
                let room = format!("room{}", (n * 5 + r) % 12);
                let time = format!("2023-07-10T12:{:02}:{:02}Z", n % 60, r);
                records.push(a4b_record(&format!("e{n}-{r}"), &time, &user, Some(&room)));
                seen.insert(format!("u{user}"));
                seen.insert(format!("r{room}"));
            }
        }
        env.put(&key, log_file(&records)).await;
        files.push(TrailFile {
            key,
            event_items: 2 * (records.len() as u64 - 1),
            rooms_and_users: seen.len() as u64,
        });
    }
    assert_eq!(files.iter().map(|file| file.event_items).sum::<u64>(), 640);
    files
}

/// 104 notifications: the first names two files, the others one each.
fn notifications(files: &[TrailFile]) -> Vec<Vec<&TrailFile>> {
    let mut groups = vec![vec![&files[0], &files[1]]];
    groups.extend(files[2..].iter().map(|file| vec![file]));
    groups
}

fn delta(after: &FaultCounts, before: &FaultCounts) -> (u64, u64) {
    let of =
        |counts: &FaultCounts, name: &str| counts.dynamodb_requests.get(name).copied().unwrap_or(0);
    let all = |counts: &FaultCounts| counts.dynamodb_requests.values().sum::<u64>();
    (
        of(after, "BatchWriteItem") - of(before, "BatchWriteItem"),
        all(after) - all(before),
    )
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_log_file_costs_ceil_of_its_event_and_seen_items_over_25_requests_and_nothing_else() {
    let env = TestEnv::new("cost-per-file").await;
    let files = trail(&env).await;
    let groups = notifications(&files);
    assert_eq!(groups.len(), 104);

    // The real binary behind the runtime API emulator, its SDK clients pointed at the proxy.
    let proxy = FaultProxy::start(&env.endpoint, FaultPlan::none())
        .await
        .unwrap();
    let endpoint = proxy.endpoint();
    let runtime = RuntimeApi::start().await.unwrap();
    let lambda_env = vec![
        ("TABLE_NAME", env.table.as_str()),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        ("AWS_REGION", LOCAL_REGION),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
    ];
    let mut process = LambdaProcess::spawn(binary(), &runtime, &lambda_env).unwrap();
    let mut binary_times = Vec::new();
    let mut binary_requests = 0;
    for group in &groups {
        let keys: Vec<String> = group.iter().map(|file| file.key.clone()).collect();
        let payload: Value = serde_json::to_value(cloudtrail_event(&env.bucket, &[&keys])).unwrap();
        let before = proxy.counts();
        let invocation = runtime
            .invoke(payload, DEADLINE)
            .await
            .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));
        assert!(
            matches!(invocation.outcome, Outcome::Response(_)),
            "{:?}",
            invocation.outcome
        );
        let (batches, all) = delta(&proxy.counts(), &before);
        let expected: u64 = group
            .iter()
            .map(|file| (file.event_items + file.rooms_and_users).div_ceil(25))
            .sum();
        assert_eq!(batches, expected, "{keys:?}");
        assert_eq!(all, batches, "BatchWriteItem only: {keys:?}");
        binary_requests += all;
        binary_times.push(invocation.duration);
    }
    process.stop().await;
    let empty = files.iter().filter(|file| file.event_items == 0).count();
    assert_eq!(empty, 40);

    // The same notifications through the same proxy in this process: the function's pipeline,
    // and one that writes the event items alone.
    let base = |table: &str| env.config_with(&[("TABLE_NAME", table)]);
    let plain_table = env.another_table("cost-plain").await;
    let plain = pipeline_at(&endpoint, base(&plain_table), PipelineOptions::default()).await;
    let (plain_times, plain_requests) =
        in_process(&plain, &proxy, &env, &groups, |file| file.event_items).await;
    let seen_table = env.another_table("cost-seen").await;
    let seen = pipeline_at(&endpoint, base(&seen_table), PipelineOptions::default())
        .await
        .with_ledger(SeenItems);
    let (seen_times, seen_requests) = in_process(&seen, &proxy, &env, &groups, |file| {
        file.event_items + file.rooms_and_users
    })
    .await;
    let line = json!({
        "notifications": groups.len(),
        "files": files.len(),
        "event_items": 640,
        "binary": {"dynamodb_requests": binary_requests, "median_ms": median(binary_times).as_secs_f64() * 1000.0},
        "in_process": {"dynamodb_requests": seen_requests, "median_ms": median(seen_times).as_secs_f64() * 1000.0},
        "in_process_event_items_only": {"dynamodb_requests": plain_requests, "median_ms": median(plain_times).as_secs_f64() * 1000.0},
    });
    eprintln!("cost per log file: {line}");
}

/// Runs every notification through `pipeline` in this process, checking that each costs
/// ceil(items / 25) requests (`items` of each file), and returns the times and the requests.
async fn in_process<L: a4b_audit::ledger::FileLedger>(
    pipeline: &a4b_audit::object::Pipeline<
        a4b_audit::source::S3Source,
        a4b_audit::sink::DynamoDbSink,
        L,
    >,
    proxy: &FaultProxy,
    env: &TestEnv,
    groups: &[Vec<&TrailFile>],
    items: impl Fn(&TrailFile) -> u64,
) -> (Vec<Duration>, u64) {
    let mut times = Vec::new();
    let mut requests = 0;
    for group in groups {
        let keys: Vec<String> = group.iter().map(|file| file.key.clone()).collect();
        let before = proxy.counts();
        let started = Instant::now();
        invoke(pipeline, cloudtrail_event(&env.bucket, &[&keys]))
            .await
            .unwrap();
        times.push(started.elapsed());
        let (batches, all) = delta(&proxy.counts(), &before);
        let expected: u64 = group.iter().map(|file| items(file).div_ceil(25)).sum();
        assert_eq!((batches, all), (expected, expected), "{keys:?}");
        requests += all;
    }
    (times, requests)
}
