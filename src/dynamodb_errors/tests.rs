//! One test a rule of the classifier, over several operations (mocked with aws-smithy-mocks) to
//! show that one classifier serves them all.

use aws_sdk_dynamodb::error::ConnectorError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::error::{ResourceNotFoundException, TransactionInProgressException};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_smithy_mocks::{Rule, mock};

use super::*;
use crate::mock_dynamodb::{REGION, coded, mocked_client};

const TABLE: &str = "audit-table";

fn call(operation: &str) -> Call<'_> {
    Call {
        operation,
        table_name: TABLE,
        region: REGION,
    }
}

/// DynamoDB's JSON error body for `code`.
fn error_body(code: &str) -> String {
    format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"said by DynamoDB"}}"#
    )
}

fn put_item_answering(status: u16, body: Option<String>) -> Rule {
    mock!(Client::put_item)
        .sequence()
        .http_status(status, body)
        .build()
}

/// The classified failure of a PutItem answered by `rule`.
async fn put_item_failure(rule: Rule) -> CallFailure {
    let error = mocked_client(&[&rule])
        .put_item()
        .table_name(TABLE)
        .item("pk", AttributeValue::S("FILE#s3://b/k".into()))
        .send()
        .await
        .unwrap_err();
    classify(call("PutItem"), &error)
}

/// The classified failure of a TransactWriteItems answered by `rule`.
async fn transaction_failure(rule: Rule) -> CallFailure {
    let put = Put::builder()
        .table_name(TABLE)
        .item("pk", AttributeValue::S("GUARD".into()))
        .build()
        .unwrap();
    let error = mocked_client(&[&rule])
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(put).build())
        .send()
        .await
        .unwrap_err();
    classify(call("TransactWriteItems"), &error)
}

/// The classified failure of an UpdateItem answered by `rule`.
async fn update_failure(rule: Rule) -> CallFailure {
    let error = mocked_client(&[&rule])
        .update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("SUMMARY#ROOM".into()))
        .update_expression("ADD event_count :one")
        .send()
        .await
        .unwrap_err();
    classify(call("UpdateItem"), &error)
}

/// The classified failure of each operation answered with HTTP 400 and DynamoDB's error `code`
/// (400 so that the code alone decides).
async fn put_item_failure_with(code: &str) -> CallFailure {
    put_item_failure(put_item_answering(400, Some(error_body(code)))).await
}

async fn transaction_failure_with(code: &str) -> CallFailure {
    transaction_failure(transaction_answering(400, Some(error_body(code)))).await
}

async fn update_failure_with(code: &str) -> CallFailure {
    let rule = mock!(Client::update_item)
        .sequence()
        .http_status(400, Some(error_body(code)))
        .build();
    update_failure(rule).await
}

fn assert_transient(failure: &CallFailure) {
    assert_eq!(failure.kind, FailureKind::Transient, "{}", failure.message);
}

fn assert_permanent_saying(failure: &CallFailure, advice: &str) {
    assert_eq!(failure.kind, FailureKind::Permanent, "{}", failure.message);
    assert!(failure.message.contains(advice), "{}", failure.message);
}

#[test]
fn timeouts_are_transient() {
    let timeout = SdkError::<PutItemError, HttpResponse>::timeout_error("operation timed out");
    let failure = classify(call("PutItem"), &timeout);
    assert_transient(&failure);
    assert_eq!(failure.message, "PutItem on table audit-table timed out");
}

#[test]
fn connection_failures_are_transient() {
    let reset = SdkError::<PutItemError, HttpResponse>::dispatch_failure(ConnectorError::io(
        "connection reset by peer".into(),
    ));
    let failure = classify(call("PutItem"), &reset);
    assert_transient(&failure);
    assert!(
        failure.message.contains("connection reset"),
        "{}",
        failure.message
    );
    let connect_timeout = SdkError::<PutItemError, HttpResponse>::dispatch_failure(
        ConnectorError::timeout("connect".into()),
    );
    assert_transient(&classify(call("PutItem"), &connect_timeout));
}

#[test]
fn unreadable_responses_are_transient() {
    let raw = HttpResponse::new(200.try_into().unwrap(), "{\"Attrib".into());
    let cut_short =
        SdkError::<PutItemError, HttpResponse>::response_error("unexpected end of body", raw);
    let failure = classify(call("PutItem"), &cut_short);
    assert_transient(&failure);
    assert!(
        failure
            .message
            .contains("the response to PutItem on table audit-table could not be read"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn server_errors_without_an_error_code_are_transient() {
    // What a local emulator answers when it breaks: an HTML page, no error code.
    let html = "<!doctype html><title>500 Internal Server Error</title>".to_owned();
    let failure = transaction_failure(transaction_answering(500, Some(html))).await;
    assert_transient(&failure);
    assert!(failure.message.contains("HTTP 500"), "{}", failure.message);
    assert_transient(&put_item_failure(put_item_answering(503, None)).await);
}

fn transaction_answering(status: u16, body: Option<String>) -> Rule {
    mock!(Client::transact_write_items)
        .sequence()
        .http_status(status, body)
        .build()
}

#[tokio::test]
async fn too_many_requests_without_an_error_code_is_transient() {
    assert_transient(&put_item_failure(put_item_answering(429, None)).await);
}

#[tokio::test]
async fn throttling_and_service_trouble_codes_are_transient() {
    for code in [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    ] {
        let failure = put_item_failure_with(code).await;
        assert_transient(&failure);
        assert!(failure.message.contains(code), "{}", failure.message);
    }
}

#[tokio::test]
async fn transaction_and_replication_conflicts_are_transient() {
    for code in [
        "TransactionConflictException",
        "TransactionInProgressException",
        "ReplicatedWriteConflictException",
    ] {
        assert_transient(&transaction_failure_with(code).await);
    }
}

#[tokio::test]
async fn modeled_errors_are_sorted_by_their_error_code() {
    let in_progress = mock!(Client::transact_write_items).then_error(|| {
        TransactWriteItemsError::TransactionInProgressException(
            TransactionInProgressException::builder()
                .meta(coded("TransactionInProgressException"))
                .build(),
        )
    });
    assert_transient(&transaction_failure(in_progress).await);
    let missing = mock!(Client::update_item).then_error(|| {
        UpdateItemError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .meta(coded("ResourceNotFoundException"))
                .build(),
        )
    });
    assert_permanent_saying(
        &update_failure(missing).await,
        "table audit-table not found",
    );
}

#[tokio::test]
async fn a_missing_table_is_permanent_and_names_the_table_and_its_region() {
    assert_permanent_saying(
        &put_item_failure_with("ResourceNotFoundException").await,
        "table audit-table not found in region eu-west-1: check TABLE_NAME",
    );
}

#[tokio::test]
async fn access_denied_is_permanent_and_names_the_missing_iam_action() {
    assert_permanent_saying(
        &put_item_failure_with("AccessDeniedException").await,
        "grant dynamodb:PutItem on table audit-table",
    );
    // IAM authorizes a transaction action by action.
    assert_permanent_saying(
        &transaction_failure_with("AccessDeniedException").await,
        "grant dynamodb:PutItem and dynamodb:UpdateItem on table audit-table",
    );
}

#[tokio::test]
async fn a_validation_error_is_permanent_and_points_at_the_key_schema() {
    let failure = update_failure_with("ValidationException").await;
    assert_permanent_saying(&failure, "key schema pk (String, partition key)");
    assert!(
        failure.message.contains("said by DynamoDB"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn rejected_credentials_are_permanent_and_say_what_to_check() {
    assert_permanent_saying(
        &put_item_failure_with("UnrecognizedClientException").await,
        "check the AWS credentials and region",
    );
}

#[test]
fn missing_credentials_are_permanent_even_when_nothing_was_sent() {
    let no_credentials =
        SdkError::<PutItemError, HttpResponse>::dispatch_failure(ConnectorError::other(
            "failed to load credentials from the environment".into(),
            None,
        ));
    assert_permanent_saying(
        &classify(call("PutItem"), &no_credentials),
        "no usable AWS credentials",
    );
}

#[test]
fn a_request_that_cannot_be_built_is_permanent() {
    let unbuilt = SdkError::<PutItemError, HttpResponse>::construction_failure("no table name");
    assert_permanent_saying(
        &classify(call("PutItem"), &unbuilt),
        "the PutItem request for table audit-table could not be built",
    );
}

#[tokio::test]
async fn any_other_error_code_is_permanent_and_says_retrying_will_not_help() {
    assert_permanent_saying(
        &put_item_failure_with("ConditionalCheckFailedException").await,
        "retrying will not help",
    );
}

#[tokio::test]
async fn the_message_names_the_operation_the_table_the_code_and_the_status() {
    assert_eq!(
        update_failure_with("ThrottlingException").await.message,
        "UpdateItem on table audit-table failed with ThrottlingException (HTTP 400): said by \
         DynamoDB"
    );
}
