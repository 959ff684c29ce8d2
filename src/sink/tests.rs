//! The DynamoDB sink against a mocked SDK client (aws-smithy-mocks): requests, unprocessed items,
//! error classification, and the writer's retries over it.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::batch_write_item::{
    BatchWriteItemError, BatchWriteItemInput, BatchWriteItemOutput,
};
use aws_sdk_dynamodb::types::error::{
    InternalServerError, ProvisionedThroughputExceededException, RequestLimitExceeded,
    ThrottlingException,
};
use aws_smithy_mocks::{MockResponse, Rule, mock};

use super::*;
use crate::mock_dynamodb::{coded, mocked_client, mocked_client_answering_every_call};
use crate::writer::{ItemWriter, WriteReport, WriterOptions};

const TABLE: &str = "audit-table";

fn audit_item(n: usize) -> Item {
    let mut item = Item::new(
        format!("USER#arn:aws:iam::123456789012:user/u{n}"),
        format!("2024-05-01T10:00:00Z#event-{n}"),
    );
    item.attributes
        .insert("event_name", AttrValue::S("UpdateRoom".into()));
    item.attributes
        .insert("expires_at", AttrValue::N("1735689600".into()));
    item.attributes.insert("read_only", AttrValue::Bool(false));
    item.attributes.insert(
        "room_arns",
        AttrValue::StringList(vec![
            "arn:aws:a4b:us-east-1:123456789012:room/a".into(),
            "arn:aws:a4b:us-east-1:123456789012:room/b".into(),
        ]),
    );
    item
}

/// The put items of a request, in order.
fn put_items(input: &BatchWriteItemInput) -> Vec<HashMap<String, AttributeValue>> {
    let requests = input.request_items().and_then(|tables| tables.get(TABLE));
    requests
        .into_iter()
        .flatten()
        .filter_map(|request| request.put_request().map(|put| put.item().clone()))
        .collect()
}

/// A rule that records each request it answers and answers with `answer`.
fn recording_rule(
    requests: &Arc<Mutex<Vec<BatchWriteItemInput>>>,
    answer: fn(&BatchWriteItemInput) -> BatchWriteItemOutput,
) -> Rule {
    let requests = Arc::clone(requests);
    mock!(Client::batch_write_item).then_compute_output(move |input| {
        requests.lock().unwrap().push(input.clone());
        answer(input)
    })
}

fn all_processed(_: &BatchWriteItemInput) -> BatchWriteItemOutput {
    BatchWriteItemOutput::builder().build()
}

/// Answers as DynamoDB does when it could not take the last `N` put requests.
fn last_unprocessed<const N: usize>(input: &BatchWriteItemInput) -> BatchWriteItemOutput {
    let requests = input
        .request_items()
        .and_then(|tables| tables.get(TABLE))
        .cloned()
        .unwrap_or_default();
    let unprocessed = requests[requests.len().saturating_sub(N)..].to_vec();
    BatchWriteItemOutput::builder()
        .unprocessed_items(TABLE, unprocessed)
        .build()
}

#[tokio::test]
async fn the_request_puts_every_item_into_the_table_with_its_attribute_types() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let rule = recording_rule(&requests, all_processed);
    let sink = DynamoDbSink::new(mocked_client(&[&rule]), TABLE);

    let unprocessed = sink
        .put_batch(&[audit_item(1), audit_item(2)])
        .await
        .unwrap();

    assert!(unprocessed.is_empty());
    let requests = requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    let tables: Vec<&String> = requests[0].request_items().unwrap().keys().collect();
    assert_eq!(tables, [TABLE]);
    let puts = put_items(&requests[0]);
    assert_eq!(puts.len(), 2);
    let first = &puts[0];
    assert_eq!(first.len(), 6);
    assert_eq!(
        first["pk"],
        AttributeValue::S("USER#arn:aws:iam::123456789012:user/u1".into())
    );
    assert_eq!(
        first["sk"],
        AttributeValue::S("2024-05-01T10:00:00Z#event-1".into())
    );
    assert_eq!(first["event_name"], AttributeValue::S("UpdateRoom".into()));
    assert_eq!(first["expires_at"], AttributeValue::N("1735689600".into()));
    assert_eq!(first["read_only"], AttributeValue::Bool(false));
    assert_eq!(
        first["room_arns"],
        AttributeValue::L(vec![
            AttributeValue::S("arn:aws:a4b:us-east-1:123456789012:room/a".into()),
            AttributeValue::S("arn:aws:a4b:us-east-1:123456789012:room/b".into()),
        ])
    );
    assert_eq!(key_of(&puts[1]), Some(audit_item(2).key));
}

#[tokio::test]
async fn unprocessed_items_come_back_as_the_original_items() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let rule = recording_rule(&requests, last_unprocessed::<2>);
    let sink = DynamoDbSink::new(mocked_client(&[&rule]), TABLE);
    let batch: Vec<Item> = (0..5).map(audit_item).collect();

    let unprocessed = sink.put_batch(&batch).await.unwrap();

    assert_eq!(unprocessed, batch[3..]);
}

#[tokio::test]
async fn an_empty_batch_makes_no_call() {
    let rule =
        mock!(Client::batch_write_item).then_output(|| BatchWriteItemOutput::builder().build());
    let sink = DynamoDbSink::new(mocked_client(&[&rule]), TABLE);
    assert!(sink.put_batch(&[]).await.unwrap().is_empty());
    assert_eq!(rule.num_calls(), 0);
}

/// The sink's error for a call answered by `rule`.
async fn failure_of(rule: Rule) -> SinkError {
    let sink = DynamoDbSink::new(mocked_client(&[&rule]), TABLE);
    sink.put_batch(&[audit_item(1)]).await.unwrap_err()
}

/// A rule answering with DynamoDB's JSON error body for `code`.
fn http_error(status: u16, code: &str) -> Rule {
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"said by DynamoDB"}}"#
    );
    mock!(Client::batch_write_item)
        .sequence()
        .http_status(status, Some(body))
        .build()
}

#[tokio::test]
async fn throttling_errors_are_transient() {
    let modeled = [
        mock!(Client::batch_write_item).then_error(|| {
            BatchWriteItemError::ThrottlingException(
                ThrottlingException::builder()
                    .meta(coded("ThrottlingException"))
                    .build(),
            )
        }),
        mock!(Client::batch_write_item).then_error(|| {
            BatchWriteItemError::ProvisionedThroughputExceededException(
                ProvisionedThroughputExceededException::builder()
                    .meta(coded("ProvisionedThroughputExceededException"))
                    .build(),
            )
        }),
        mock!(Client::batch_write_item).then_error(|| {
            BatchWriteItemError::RequestLimitExceeded(
                RequestLimitExceeded::builder()
                    .meta(coded("RequestLimitExceeded"))
                    .build(),
            )
        }),
    ];
    for rule in modeled {
        assert_eq!(failure_of(rule).await.kind, FailureKind::Transient);
    }
    for code in [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    ] {
        let error = failure_of(http_error(400, code)).await;
        assert_eq!(error.kind, FailureKind::Transient, "{code}");
        assert!(error.message.contains(code), "{}", error.message);
    }
    let too_many_requests = mock!(Client::batch_write_item)
        .sequence()
        .http_status(429, None)
        .build();
    assert_eq!(
        failure_of(too_many_requests).await.kind,
        FailureKind::Transient
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let internal = mock!(Client::batch_write_item).then_error(|| {
        BatchWriteItemError::InternalServerError(
            InternalServerError::builder()
                .meta(coded("InternalServerError"))
                .build(),
        )
    });
    assert_eq!(failure_of(internal).await.kind, FailureKind::Transient);
    for status in [500, 503] {
        let rule = mock!(Client::batch_write_item)
            .sequence()
            .http_status(status, None)
            .build();
        let error = failure_of(rule).await;
        assert_eq!(error.kind, FailureKind::Transient, "{status}");
        assert!(
            error.message.contains(&format!("HTTP {status}")),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn a_missing_table_is_permanent_and_says_what_to_check() {
    let error = failure_of(http_error(400, "ResourceNotFoundException")).await;
    assert_eq!(error.kind, FailureKind::Permanent);
    assert!(
        error
            .message
            .contains("table audit-table not found in region eu-west-1: check TABLE_NAME"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_validation_error_is_permanent_and_points_at_the_key_schema() {
    let error = failure_of(http_error(400, "ValidationException")).await;
    assert_eq!(error.kind, FailureKind::Permanent);
    assert!(
        error.message.contains("said by DynamoDB"),
        "{}",
        error.message
    );
    assert!(error.message.contains("key schema"), "{}", error.message);
}

#[tokio::test]
async fn access_denied_is_permanent_and_names_the_permission() {
    let error = failure_of(http_error(400, "AccessDeniedException")).await;
    assert_eq!(error.kind, FailureKind::Permanent);
    assert!(
        error.message.contains("grant dynamodb:BatchWriteItem"),
        "{}",
        error.message
    );
}

#[tokio::test(start_paused = true)]
async fn the_writer_retries_unprocessed_then_throttled_then_succeeds() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let unprocessed = recording_rule(&requests, last_unprocessed::<3>);
    let throttled = mock!(Client::batch_write_item).then_error(|| {
        BatchWriteItemError::ThrottlingException(
            ThrottlingException::builder()
                .meta(coded("ThrottlingException"))
                .build(),
        )
    });
    let accepted = recording_rule(&requests, all_processed);
    let client = mocked_client(&[&unprocessed, &throttled, &accepted]);
    let sink = Arc::new(DynamoDbSink::new(client, TABLE));
    let mut writer = ItemWriter::new(sink, WriterOptions::default());
    let batch: Vec<Item> = (0..25).map(audit_item).collect();
    for item in batch.clone() {
        writer.push(item).await.unwrap();
    }

    let report = writer.finish().await.unwrap();

    assert_eq!(
        report,
        WriteReport {
            items_written: 25,
            batch_calls: 3,
            retried_items: 3 + 3,
            duplicates_replaced: 0,
        }
    );
    assert_eq!(
        (
            unprocessed.num_calls(),
            throttled.num_calls(),
            accepted.num_calls()
        ),
        (1, 1, 1)
    );
    let requests = requests.lock().unwrap();
    let last_keys: Vec<Option<ItemKey>> = put_items(&requests[1]).iter().map(key_of).collect();
    let expected: Vec<Option<ItemKey>> = batch[22..]
        .iter()
        .map(|item| Some(item.key.clone()))
        .collect();
    assert_eq!(last_keys, expected);
}

/// A table that refuses, as DynamoDB refuses an item over 400 KB, every request holding `bad`, and
/// takes every other request whole.
fn refusing_requests_holding(bad: ItemKey) -> Rule {
    mock!(Client::batch_write_item).then_compute_response(move |input| {
        let holds_bad = put_items(input)
            .iter()
            .any(|item| key_of(item).as_ref() == Some(&bad));
        if holds_bad {
            MockResponse::Error(BatchWriteItemError::generic(
                ErrorMetadata::builder()
                    .code("ValidationException")
                    .message("Item size has exceeded the maximum allowed size")
                    .build(),
            ))
        } else {
            MockResponse::Output(BatchWriteItemOutput::builder().build())
        }
    })
}

#[tokio::test]
async fn a_validation_error_is_a_refusal_of_the_content() {
    let rule = refusing_requests_holding(audit_item(1).key);
    let error = failure_of(rule).await;
    assert_eq!(error.kind, FailureKind::Permanent);
    assert!(error.content_refused);
    let missing_table = failure_of(http_error(400, "ResourceNotFoundException")).await;
    assert!(!missing_table.content_refused);
}

#[tokio::test(start_paused = true)]
async fn an_item_dynamodb_refuses_costs_only_its_record() {
    let items: Vec<Item> = (0..30)
        .map(|n| {
            let mut item = audit_item(n);
            item.attributes
                .insert("event_id", AttrValue::S(format!("event-{n}").into()));
            item
        })
        .collect();
    let rule = refusing_requests_holding(items[7].key.clone());
    let sink = Arc::new(DynamoDbSink::new(
        mocked_client_answering_every_call(&rule),
        TABLE,
    ));
    let mut writer = ItemWriter::new(sink, WriterOptions::default());
    for item in items {
        writer.push(item).await.unwrap();
    }

    let error = writer.finish().await.unwrap_err();

    assert_eq!(error.items_not_written, 1);
    assert_eq!(error.report.items_written, 29);
    assert_eq!(error.refused_records, ["event-7"]);
    assert!(error.cause.contains("eventID event-7"), "{}", error.cause);
    assert!(
        error.cause.contains("ValidationException"),
        "{}",
        error.cause
    );
    // The first batch, refused; its 25 items alone; the last batch of 5.
    assert_eq!(rule.num_calls(), 1 + 25 + 1);
}
