//! The real handler through the fault proxy: within the retry budget the table ends up exactly as
//! after a fault-free run, with one extra request per injected fault and no more; past the budget
//! the invocation fails and names the object and what failed. Reads (`GetObject`, bodies cut
//! short) and writes (`BatchWriteItem`) share one budget: `WriterOptions::retry`.

use a4b_audit::object::PipelineOptions;
use a4b_audit::summary::InvocationSummary;
use a4b_audit::trigger::InvocationFailed;
use a4b_audit_devtools::fault_proxy::{
    Fault, FaultCounts, FaultPlan, FaultProxy, FaultRule, Operation,
};

use crate::harness::{TestEnv, cloudtrail_event, invoke, log_file, log_key, pipeline_at};

use super::support::{comparable, fast_writer, item_keys, mixed_records};

/// Objects of each run, and A4B records in each.
const OBJECTS: u32 = 3;
const RECORDS_PER_OBJECT: usize = 80;

async fn env_with_logs(test: &str) -> (TestEnv, Vec<String>) {
    env_with(test, OBJECTS, RECORDS_PER_OBJECT).await
}

/// `objects` log files of `records` A4B records each (and records of other services).
async fn env_with(test: &str, objects: u32, records: usize) -> (TestEnv, Vec<String>) {
    let env = TestEnv::new(test).await;
    let mut keys = Vec::new();
    for n in 0..objects {
        let key = log_key(n);
        let records = mixed_records(u64::from(n) * 1000, records);
        env.put(&key, log_file(&records)).await;
        keys.push(key);
    }
    (env, keys)
}

fn options(max_in_flight: usize, max_attempts: u32) -> PipelineOptions {
    let mut writer = fast_writer(max_attempts);
    writer.max_in_flight = max_in_flight;
    PipelineOptions {
        writer,
        ..PipelineOptions::default()
    }
}

/// Delivers the first log file through a proxy applying `plan`; the proxy comes back for its counts.
async fn deliver_first_object_through(
    env: &TestEnv,
    keys: &[String],
    plan: FaultPlan,
    options: PipelineOptions,
) -> (Result<InvocationSummary, InvocationFailed>, FaultProxy) {
    let proxy = FaultProxy::start(&env.endpoint, plan).await.unwrap();
    let outcome = invoke(
        &pipeline_at(&proxy.endpoint(), env.config(), options).await,
        cloudtrail_event(&env.bucket, &[&keys[..1]]),
    )
    .await;
    (outcome, proxy)
}

const EVERY_TRANSIENT_WRITE_FAULT: &[Fault] = &[
    Fault::Status500,
    Fault::Status503,
    Fault::Throttling,
    Fault::ProvisionedThroughputExceeded,
    Fault::ResetMidBody,
    Fault::PartialBatch,
];
/// Faults the SDK retries when opening an object.
const OPEN_FAULTS: &[Fault] = &[Fault::Status500, Fault::Status503, Fault::SlowDown];
/// The same, and bodies cut short, which the pipeline reads again (writing the items again).
const EVERY_TRANSIENT_READ_FAULT: &[Fault] = &[
    Fault::Status500,
    Fault::Status503,
    Fault::SlowDown,
    Fault::ResetMidBody,
];

/// What [`run_twice`] did.
struct TwoRuns {
    baseline: InvocationSummary,
    faulted: InvocationSummary,
    counts: FaultCounts,
    faulted_table: String,
}

/// Runs the same notifications (`groups` of keys, each delivered once) fault-free into the test's
/// table and through `plan` into another.
async fn run_twice(
    env: &TestEnv,
    test: &str,
    groups: &[&[String]],
    plan: FaultPlan,
    options: PipelineOptions,
) -> TwoRuns {
    let event = || cloudtrail_event(&env.bucket, groups);
    let baseline = invoke(
        &pipeline_at(&env.endpoint, env.config(), options.clone()).await,
        event(),
    )
    .await
    .unwrap();

    let faulted_table = env.another_table(test).await;
    let proxy = FaultProxy::start(&env.endpoint, plan).await.unwrap();
    let faulted = invoke(
        &pipeline_at(
            &proxy.endpoint(),
            env.config_with(&[("TABLE_NAME", &faulted_table)]),
            options,
        )
        .await,
        event(),
    )
    .await
    .unwrap_or_else(|failure| panic!("{failure}; proxy counts {:?}", proxy.counts()));
    TwoRuns {
        baseline,
        faulted,
        counts: proxy.counts(),
        faulted_table,
    }
}

/// The faulted table (see [`run_twice`]) is the fault-free one, item for item (but `ingested_at`):
/// no duplicate, nothing lost.
async fn assert_same_tables(env: &TestEnv, faulted_table: &str) {
    let expected: Vec<_> = env.items().await.into_iter().map(comparable).collect();
    let actual: Vec<_> = env
        .items_in(faulted_table)
        .await
        .into_iter()
        .map(comparable)
        .collect();
    assert_eq!(item_keys(&actual), item_keys(&expected));
    assert_eq!(actual, expected);
}

/// Runs the same notification fault-free into one table and through `plan` into another, and
/// checks what the faults may and may not change.
async fn run_against_baseline(
    test: &str,
    plan: FaultPlan,
    options: PipelineOptions,
) -> FaultCounts {
    let (env, keys) = env_with_logs(test).await;
    let groups = [&keys[..2], &keys[2..]];
    let TwoRuns {
        baseline,
        faulted,
        counts,
        faulted_table,
    } = run_twice(&env, test, &groups, plan, options).await;
    assert_eq!(baseline.objects_processed, u64::from(OBJECTS));

    // The faults were there, and of several kinds.
    assert!(
        counts.injected_into(Operation::BatchWriteItem) >= 5,
        "{counts:?}"
    );
    assert!(
        counts.injected_into(Operation::GetObject) >= 1,
        "{counts:?}"
    );
    assert!(counts.injected.len() >= 4, "{counts:?}");

    // The same table, item for item (but `ingested_at`), and so no duplicate and nothing lost.
    assert_same_tables(&env, &faulted_table).await;
    assert_eq!(faulted.counts.items_built, baseline.counts.items_built);
    assert_eq!(faulted.counts.items_written, faulted.counts.items_built);

    // Every request sent is accounted for in the summary.
    assert_eq!(
        faulted.counts.write_requests,
        counts.requests_of(Operation::BatchWriteItem),
        "{counts:?}"
    );
    // Every injected fault cost exactly one more request, and no more; a body cut short makes the
    // object be read again, and items already written before the cut are written again, so then
    // the writes are only bounded below.
    let extra_write_requests = faulted.counts.write_requests - baseline.counts.write_requests;
    let injected_writes = counts.injected_into(Operation::BatchWriteItem);
    if counts
        .injected
        .contains_key(&(Operation::GetObject, Fault::ResetMidBody))
    {
        assert!(extra_write_requests >= injected_writes, "{counts:?}");
    } else {
        assert_eq!(extra_write_requests, injected_writes, "{counts:?}");
    }
    assert_eq!(
        counts.requests_of(Operation::GetObject),
        u64::from(OBJECTS) + counts.injected_into(Operation::GetObject),
        "{counts:?}"
    );
    counts
}

#[tokio::test]
async fn faults_within_the_budget_leave_the_same_table_as_a_fault_free_run() {
    // One batch in flight, so "at most 3 faults in a row" is per batch: 5 attempts always suffice.
    let plan = FaultPlan {
        seed: 6,
        get_object: FaultRule::sometimes(OPEN_FAULTS, 40, 2),
        batch_write: FaultRule::sometimes(EVERY_TRANSIENT_WRITE_FAULT, 40, 3),
    };
    run_against_baseline("faults-serial", plan, options(1, 5)).await;
}

#[tokio::test]
async fn bodies_cut_short_among_the_faults_still_leave_the_same_table() {
    let plan = FaultPlan {
        seed: 3,
        get_object: FaultRule::sometimes(EVERY_TRANSIENT_READ_FAULT, 50, 2),
        batch_write: FaultRule::sometimes(EVERY_TRANSIENT_WRITE_FAULT, 40, 3),
    };
    let counts = run_against_baseline("faults-resets", plan, options(1, 5)).await;
    assert!(
        counts
            .injected
            .contains_key(&(Operation::GetObject, Fault::ResetMidBody)),
        "{counts:?}"
    );
}

#[tokio::test]
async fn faults_within_the_budget_with_concurrent_batches_leave_the_same_table() {
    // Batches in flight share the schedule: a total below the attempts bounds every batch.
    let max_attempts = 8;
    let mut batch_write = FaultRule::sometimes(EVERY_TRANSIENT_WRITE_FAULT, 50, u32::MAX);
    batch_write.max_total = u64::from(max_attempts) - 1;
    let plan = FaultPlan {
        seed: 11,
        get_object: FaultRule::sometimes(OPEN_FAULTS, 50, 2),
        batch_write,
    };
    run_against_baseline("faults-concurrent", plan, options(4, max_attempts)).await;
}

#[tokio::test]
async fn write_faults_past_the_budget_fail_the_invocation_naming_the_object_and_the_cause() {
    let (env, keys) = env_with_logs("faults-write-budget").await;
    let max_attempts = 3;
    let plan = FaultPlan {
        seed: 1,
        get_object: FaultRule::none(),
        batch_write: FaultRule::always(Fault::Throttling),
    };
    let (outcome, proxy) =
        deliver_first_object_through(&env, &keys, plan, options(1, max_attempts)).await;
    let failure = outcome.unwrap_err();

    let message = failure.to_string();
    let object = format!("s3://{}/{}", env.bucket, keys[0]);
    assert!(message.contains(&object), "{message}");
    assert!(message.contains("cannot write its items"), "{message}");
    assert!(message.contains("ThrottlingException"), "{message}");
    assert!(message.contains("after 3 attempt(s)"), "{message}");
    assert_eq!(failure.summary.objects_failed, 1);
    // The first batch used up its attempts; the writer stopped every other batch.
    assert_eq!(
        proxy.counts().requests_of(Operation::BatchWriteItem),
        u64::from(max_attempts)
    );
    assert!(env.items().await.is_empty());
}

#[tokio::test]
async fn a_body_cut_short_is_read_again_up_to_the_budget_then_fails_naming_the_object() {
    let (env, keys) = env_with_logs("faults-read-budget").await;
    let plan = FaultPlan {
        seed: 1,
        get_object: FaultRule::always(Fault::ResetMidBody),
        batch_write: FaultRule::none(),
    };
    let (outcome, proxy) = deliver_first_object_through(&env, &keys, plan, options(4, 5)).await;
    let failure = outcome.unwrap_err();

    let message = failure.to_string();
    assert!(
        message.contains(&format!("s3://{}/{}", env.bucket, keys[0])),
        "{message}"
    );
    assert!(
        message.contains("the connection to S3 failed while reading the object, 5 time(s)"),
        "{message}"
    );
    // The writer's budget of 5 attempts, reads and writes alike.
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 5);
}

#[tokio::test]
async fn a_body_cut_short_once_is_read_again_and_written_once() {
    let (env, keys) = env_with_logs("faults-read-again").await;
    let mut get_object = FaultRule::always(Fault::ResetMidBody);
    get_object.max_total = 1;
    let plan = FaultPlan {
        seed: 1,
        get_object,
        batch_write: FaultRule::none(),
    };
    let (outcome, proxy) = deliver_first_object_through(&env, &keys, plan, options(4, 5)).await;
    let summary = outcome.unwrap();
    assert_eq!(summary.objects_processed, 1);
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 2);
    // The counts are those of the one complete read, not of both.
    assert_eq!(
        summary.counts.records_read,
        summary.counts.a4b_records + summary.counts.other_records + summary.counts.records_rejected
    );
    assert_eq!(env.items().await.len() as u64, summary.counts.items_written);
}

#[tokio::test]
async fn get_object_errors_past_the_budget_fail_the_object_naming_it() {
    let (env, keys) = env_with_logs("faults-get-budget").await;
    let plan = FaultPlan {
        seed: 1,
        get_object: FaultRule::always(Fault::Status503),
        batch_write: FaultRule::none(),
    };
    let (outcome, proxy) = deliver_first_object_through(&env, &keys, plan, options(4, 5)).await;
    let failure = outcome.unwrap_err();
    let message = failure.to_string();
    assert!(
        message.contains(&format!(
            "s3://{}/{}: cannot open the object",
            env.bucket, keys[0]
        )),
        "{message}"
    );
    assert!(message.contains("after 5 attempt(s)"), "{message}");
    assert!(message.contains("ServiceUnavailable"), "{message}");
    // The writer's budget of 5 attempts, and no second layer (the SDK's) on top of it.
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 5);
}

/// Log files, and A4B records in each, of the run at the fault rate the function must absorb.
const MANY_OBJECTS: u32 = 100;
const FEW_RECORDS: usize = 4;

#[tokio::test]
async fn a_fifth_of_all_requests_failing_with_each_notification_delivered_once_leaves_the_fault_free_table()
 {
    // The production budget and backoff (10 attempts, 50 ms to 5 s), reads and writes alike.
    // With reads held to 3 attempts (as the SDK's GetObject retries and the 3 reads of a body cut
    // short were), this seed loses 1 object of the 100: it failed after 3 attempts.
    let options = PipelineOptions::default();
    let (env, keys) = env_with("faults-fifth", MANY_OBJECTS, FEW_RECORDS).await;
    // Ten notifications of ten log files each, each delivered once (one invocation, no redelivery).
    let groups: Vec<&[String]> = keys.chunks(10).collect();
    // 20 % of GetObject and BatchWriteItem requests fail, as often several in a row as chance has it.
    let plan = FaultPlan {
        seed: 20,
        get_object: FaultRule::sometimes(EVERY_TRANSIENT_READ_FAULT, 20, u32::MAX),
        batch_write: FaultRule::sometimes(EVERY_TRANSIENT_WRITE_FAULT, 20, u32::MAX),
    };
    let TwoRuns {
        baseline,
        faulted,
        counts,
        faulted_table,
    } = run_twice(&env, "faults-fifth", &groups, plan, options).await;
    assert_eq!(baseline.objects_processed, u64::from(MANY_OBJECTS));

    // About a fifth of each operation's requests were faulted, with every kind of fault.
    for operation in [Operation::GetObject, Operation::BatchWriteItem] {
        let requests = counts.requests_of(operation);
        let injected = counts.injected_into(operation);
        assert!(
            requests >= u64::from(MANY_OBJECTS) && injected * 100 >= requests * 12,
            "{operation:?}: {counts:?}"
        );
    }
    assert_eq!(
        counts.injected.len(),
        EVERY_TRANSIENT_READ_FAULT.len() + EVERY_TRANSIENT_WRITE_FAULT.len(),
        "{counts:?}"
    );

    // Nothing lost, nothing extra: the same table, item for item (but `ingested_at`).
    assert_eq!(faulted.objects_processed, u64::from(MANY_OBJECTS));
    assert_eq!(faulted.objects_failed, 0);
    assert_same_tables(&env, &faulted_table).await;
}
