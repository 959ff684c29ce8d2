//! The fault proxy itself, against moto and the function's own SDK clients: each fault reaches
//! the client as AWS would send it, and is counted.

use a4b_audit::item::{AttrValue, Item};
use a4b_audit::sink::{DynamoDbSink, FailureKind, ItemSink};
use a4b_audit_devtools::fault_proxy::{Fault, FaultPlan, FaultProxy, FaultRule, Operation};
use a4b_audit_devtools::moto;

use crate::harness::TestEnv;

async fn proxy(env: &TestEnv, get_object: FaultRule, batch_write: FaultRule) -> FaultProxy {
    let plan = FaultPlan {
        seed: 1,
        get_object,
        batch_write,
    };
    FaultProxy::start(&env.endpoint, plan).await.unwrap()
}

async fn clients(proxy: &FaultProxy) -> (aws_sdk_s3::Client, aws_sdk_dynamodb::Client) {
    let config = moto::sdk_config(&proxy.endpoint()).await;
    (
        a4b_audit::aws::s3_client(&config),
        a4b_audit::aws::dynamodb_client(&config),
    )
}

fn items(count: usize) -> Vec<Item> {
    (0..count)
        .map(|i| {
            let mut item = Item::new(format!("USER#proxy-{i}"), "2026-01-01T00:00:00Z#e".into());
            item.attributes
                .insert("event_id", AttrValue::S(format!("e{i}").into()));
            item
        })
        .collect()
}

#[tokio::test]
async fn get_object_errors_are_answered_and_retried_by_the_sdk() {
    let env = TestEnv::new("proxy-get-errors").await;
    env.put("k/one", b"payload".to_vec()).await;
    for fault in [Fault::Status500, Fault::Status503, Fault::SlowDown] {
        // One fault, then the retry is forwarded.
        let rule = FaultRule::sometimes(&[fault], 100, 1);
        let proxy = proxy(&env, rule, FaultRule::none()).await;
        let (s3, _) = clients(&proxy).await;
        let output = s3
            .get_object()
            .bucket(&env.bucket)
            .key("k/one")
            .send()
            .await
            .unwrap();
        let body = output.body.collect().await.unwrap().into_bytes();
        assert_eq!(&body[..], b"payload");
        let counts = proxy.counts();
        assert_eq!(
            counts.injected.get(&(Operation::GetObject, fault)),
            Some(&1)
        );
        assert_eq!(counts.requests_of(Operation::GetObject), 2, "{fault:?}");
    }
}

#[tokio::test]
async fn a_get_object_cut_mid_body_fails_while_reading_the_body() {
    let env = TestEnv::new("proxy-reset").await;
    env.put("k/big", vec![b'x'; 64 * 1024]).await;
    let proxy = proxy(
        &env,
        FaultRule::always(Fault::ResetMidBody),
        FaultRule::none(),
    )
    .await;
    let (s3, _) = clients(&proxy).await;
    let output = s3
        .get_object()
        .bucket(&env.bucket)
        .key("k/big")
        .send()
        .await
        .unwrap();
    assert!(output.body.collect().await.is_err());
    assert_eq!(proxy.counts().injected_into(Operation::GetObject), 1);
}

#[tokio::test]
async fn get_object_access_denied_is_a_403_the_source_names() {
    let env = TestEnv::new("proxy-denied").await;
    env.put("k/one", b"payload".to_vec()).await;
    let proxy = proxy(
        &env,
        FaultRule::always(Fault::AccessDenied),
        FaultRule::none(),
    )
    .await;
    let (s3, _) = clients(&proxy).await;
    let error = s3
        .get_object()
        .bucket(&env.bucket)
        .key("k/one")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&error),
        Some("AccessDenied")
    );
    // Permanent: the SDK does not retry it.
    assert_eq!(proxy.counts().requests_of(Operation::GetObject), 1);
}

#[tokio::test]
async fn batch_write_errors_reach_the_sink_as_transient_with_their_code() {
    let env = TestEnv::new("proxy-throttle").await;
    for (fault, code) in [
        (Fault::Throttling, "ThrottlingException"),
        (
            Fault::ProvisionedThroughputExceeded,
            "ProvisionedThroughputExceededException",
        ),
        (Fault::Status500, "InternalServerError"),
        (Fault::Status503, "ServiceUnavailable"),
    ] {
        let proxy = proxy(&env, FaultRule::none(), FaultRule::always(fault)).await;
        let (_, dynamodb) = clients(&proxy).await;
        let sink = DynamoDbSink::new(dynamodb, env.table.clone());
        let error = sink.put_batch(&items(3)).await.unwrap_err();
        assert_eq!(error.kind, FailureKind::Transient, "{fault:?}: {error}");
        assert!(error.message.contains(code), "{fault:?}: {error}");
        // The DynamoDB client does not retry: the writer is the one retry layer.
        assert_eq!(proxy.counts().requests_of(Operation::BatchWriteItem), 1);
    }
    assert!(env.items().await.is_empty());
}

#[tokio::test]
async fn batch_write_access_denied_is_permanent() {
    let env = TestEnv::new("proxy-dyn-denied").await;
    let proxy = proxy(
        &env,
        FaultRule::none(),
        FaultRule::always(Fault::AccessDenied),
    )
    .await;
    let (_, dynamodb) = clients(&proxy).await;
    let sink = DynamoDbSink::new(dynamodb, env.table.clone());
    let error = sink.put_batch(&items(1)).await.unwrap_err();
    assert_eq!(error.kind, FailureKind::Permanent, "{error}");
    assert!(error.message.contains("AccessDeniedException"), "{error}");
}

#[tokio::test]
async fn a_partial_batch_writes_the_first_half_and_returns_the_rest_unprocessed() {
    let env = TestEnv::new("proxy-partial").await;
    let proxy = proxy(
        &env,
        FaultRule::none(),
        FaultRule::always(Fault::PartialBatch),
    )
    .await;
    let (_, dynamodb) = clients(&proxy).await;
    let sink = DynamoDbSink::new(dynamodb, env.table.clone());
    let sent = items(5);
    let unprocessed = sink.put_batch(&sent).await.unwrap();
    assert_eq!(unprocessed, sent[2..].to_vec());
    let written = env.items().await;
    let written_pks: Vec<&str> = written
        .iter()
        .map(|item| item["pk"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(written_pks, ["USER#proxy-0", "USER#proxy-1"]);
}

#[tokio::test]
async fn a_batch_write_cut_mid_body_is_written_but_reported_as_transient() {
    let env = TestEnv::new("proxy-dyn-reset").await;
    let proxy = proxy(
        &env,
        FaultRule::none(),
        FaultRule::always(Fault::ResetMidBody),
    )
    .await;
    let (_, dynamodb) = clients(&proxy).await;
    let sink = DynamoDbSink::new(dynamodb, env.table.clone());
    let error = sink.put_batch(&items(3)).await.unwrap_err();
    assert_eq!(error.kind, FailureKind::Transient, "{error}");
    // The write happened: a retry writes the same items again, which leaves them as they are.
    assert_eq!(env.items().await.len(), 3);
}

#[tokio::test]
async fn requests_that_are_neither_operation_are_forwarded_untouched() {
    let env = TestEnv::new("proxy-other").await;
    let proxy = proxy(
        &env,
        FaultRule::always(Fault::Status500),
        FaultRule::always(Fault::Status500),
    )
    .await;
    let (s3, dynamodb) = clients(&proxy).await;
    s3.list_objects_v2()
        .bucket(&env.bucket)
        .send()
        .await
        .unwrap();
    dynamodb
        .describe_table()
        .table_name(&env.table)
        .send()
        .await
        .unwrap();
    let counts = proxy.counts();
    assert_eq!(counts.other_requests, 2);
    assert!(counts.injected.is_empty());
}
