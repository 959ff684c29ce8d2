//! The ledger in the audit table: summary chunks with `TransactWriteItems`, markers with `PutItem`,
//! marker look-ups with `BatchGetItem` (the CLI only: the Lambda never reads).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};

use super::{
    FileLedger, FileMarker, FileMarkerLookup, LedgerError, SUMMARY_UPDATES_PER_CHUNK,
    SummaryUpdate, summary_guard_key,
};
use crate::dynamodb_errors::{Call, CallFailure, classify, region_of};
use crate::item::{ItemKey, PARTITION_KEY, SORT_KEY};
use crate::retry::{Backoff, FailureKind};
use crate::sink::attribute_map;

/// `BatchGetItem` takes at most 100 keys.
const KEYS_PER_BATCH_GET: usize = 100;

/// How the ledger retries transient failures (the client's own retries are off).
#[derive(Debug, Clone)]
pub struct LedgerRetry {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl LedgerRetry {
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base_delay: self.base_delay,
            max_delay: self.max_delay,
        }
    }
}

impl Default for LedgerRetry {
    fn default() -> Self {
        LedgerRetry {
            max_attempts: 10,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// The ledger in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbLedger {
    client: aws_sdk_dynamodb::Client,
    table_name: String,
    /// The client's region, for messages.
    region: String,
    retry: LedgerRetry,
}

impl DynamoDbLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        DynamoDbLedger {
            region: region_of(&client),
            client,
            table_name: table_name.into(),
            retry: LedgerRetry::default(),
        }
    }

    pub fn with_retry(mut self, retry: LedgerRetry) -> Self {
        self.retry = retry;
        self
    }

    /// Applies one chunk; `Ok(false)` when its guard shows it was applied before.
    async fn apply_chunk(
        &self,
        source_object: &str,
        chunk_index: usize,
        chunk: &[SummaryUpdate],
    ) -> Result<bool, LedgerError> {
        let guard_key = summary_guard_key(source_object, chunk_index);
        let guard = Put::builder()
            .table_name(&self.table_name)
            .set_item(Some(key_attributes(&guard_key)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|error| LedgerError(format!("cannot build the summary guard: {error}")))?;
        let mut actions = vec![TransactWriteItem::builder().put(guard).build()];
        for update in chunk {
            let count = Update::builder()
                .table_name(&self.table_name)
                .set_key(Some(key_attributes(&update.key)))
                .update_expression("ADD event_count :count")
                .expression_attribute_values(
                    ":count",
                    AttributeValue::N(update.event_count.to_string()),
                )
                .build()
                .map_err(|error| LedgerError(format!("cannot build a summary update: {error}")))?;
            actions.push(TransactWriteItem::builder().update(count).build());
        }
        let what = format!("summary chunk {chunk_index} of {source_object}");
        retry(&self.retry, &what, || async {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(error) => match guard_cancellation(&error) {
                    Cancellation::GuardExists => Ok(false),
                    Cancellation::Conflict => Err(CallFailure::transient(
                        "the transaction conflicted with another one".to_owned(),
                    )),
                    Cancellation::Other => Err(self.failure("TransactWriteItems", &error)),
                },
            }
        })
        .await
    }

    /// Raises `last_event_time` to the update's time unless the summary already holds a later one.
    async fn raise_last_event_time(&self, update: &SummaryUpdate) -> Result<(), LedgerError> {
        let what = format!("last_event_time of {} {}", update.key.pk, update.key.sk);
        retry(&self.retry, &what, || async {
            let result = self
                .client
                .update_item()
                .table_name(&self.table_name)
                .set_key(Some(key_attributes(&update.key)))
                .update_expression("SET last_event_time = :time")
                .condition_expression(
                    "attribute_not_exists(last_event_time) OR last_event_time < :time",
                )
                .expression_attribute_values(
                    ":time",
                    AttributeValue::S(update.last_event_time.clone()),
                )
                .send()
                .await;
            match result {
                Ok(_) => Ok(()),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(())
                }
                Err(error) => Err(self.failure("UpdateItem", &error)),
            }
        })
        .await
    }

    fn failure<E>(&self, operation: &str, error: &SdkError<E, HttpResponse>) -> CallFailure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let call = Call {
            operation,
            table_name: &self.table_name,
            region: &self.region,
        };
        classify(call, error)
    }
}

impl FileLedger for DynamoDbLedger {
    async fn apply_summaries(
        &self,
        source_object: &str,
        updates: &[SummaryUpdate],
    ) -> Result<(), LedgerError> {
        for (chunk_index, chunk) in updates.chunks(SUMMARY_UPDATES_PER_CHUNK).enumerate() {
            self.apply_chunk(source_object, chunk_index, chunk).await?;
        }
        // A maximum is idempotent: done for every update, even of chunks applied before, so that
        // a run stopped between a chunk and its times still ends with the right times.
        for update in updates {
            self.raise_last_event_time(update).await?;
        }
        Ok(())
    }

    async fn mark_processed(&self, marker: &FileMarker) -> Result<(), LedgerError> {
        let item = attribute_map(&marker.to_item());
        let what = format!("the marker of {}", marker.source_object);
        retry(&self.retry, &what, || async {
            self.client
                .put_item()
                .table_name(&self.table_name)
                .set_item(Some(item.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|error| self.failure("PutItem", &error))
        })
        .await
    }
}

impl FileMarkerLookup for DynamoDbLedger {
    async fn processed_files(
        &self,
        source_objects: &[String],
    ) -> Result<BTreeSet<String>, LedgerError> {
        let mut processed = BTreeSet::new();
        for batch in source_objects.chunks(KEYS_PER_BATCH_GET) {
            let mut pending: Vec<HashMap<String, AttributeValue>> = batch
                .iter()
                .map(|object| key_attributes(&FileMarker::key(object)))
                .collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                let keys = KeysAndAttributes::builder()
                    .set_keys(Some(pending.clone()))
                    .projection_expression("pk")
                    .build()
                    .map_err(|error| LedgerError(format!("cannot build BatchGetItem: {error}")))?;
                let what = "the file markers (BatchGetItem)";
                let output = retry(&self.retry, what, || async {
                    self.client
                        .batch_get_item()
                        .request_items(&self.table_name, keys.clone())
                        .send()
                        .await
                        .map_err(|error| self.failure("BatchGetItem", &error))
                })
                .await?;
                let found = output
                    .responses()
                    .and_then(|responses| responses.get(&self.table_name))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for item in found {
                    if let Some(AttributeValue::S(pk)) = item.get(PARTITION_KEY)
                        && let Some(object) = pk.strip_prefix(super::FILE_PK_PREFIX)
                    {
                        processed.insert(object.to_owned());
                    }
                }
                pending = output
                    .unprocessed_keys()
                    .and_then(|unprocessed| unprocessed.get(&self.table_name))
                    .map(|keys| keys.keys().to_vec())
                    .unwrap_or_default();
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt >= self.retry.max_attempts {
                        return Err(LedgerError(format!(
                            "{} file marker(s) stayed unprocessed after {attempt} BatchGetItem attempts (the table is throttled: try a lower --concurrency)",
                            pending.len()
                        )));
                    }
                    tokio::time::sleep(self.retry.backoff().delay(attempt - 1)).await;
                }
            }
        }
        Ok(processed)
    }
}

/// Calls `attempt` until it succeeds, fails permanently or runs out of attempts.
async fn retry<T, F, Fut>(
    policy: &LedgerRetry,
    what: &str,
    mut attempt: F,
) -> Result<T, LedgerError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CallFailure>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(CallFailure {
                kind: FailureKind::Permanent,
                message,
            }) => {
                return Err(LedgerError(format!("cannot write {what}: {message}")));
            }
            Err(CallFailure { message, .. }) if attempts >= policy.max_attempts => {
                return Err(LedgerError(format!(
                    "cannot write {what} after {attempts} attempts: {message}"
                )));
            }
            Err(CallFailure { message, .. }) => {
                tracing::debug!(what, attempts, error = %message, "transient failure, retrying");
                tokio::time::sleep(policy.backoff().delay(attempts - 1)).await;
            }
        }
    }
}

enum Cancellation {
    /// The chunk's guard exists: the chunk was applied before.
    GuardExists,
    /// Another transaction touched the same summary: retry.
    Conflict,
    Other,
}

/// Why a summary transaction was canceled; the guard is its first action.
fn guard_cancellation<R>(error: &SdkError<TransactWriteItemsError, R>) -> Cancellation {
    let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
        error.as_service_error()
    else {
        return Cancellation::Other;
    };
    let reasons = canceled.cancellation_reasons();
    let code = |index: usize| reasons.get(index).and_then(|reason| reason.code());
    if code(0) == Some("ConditionalCheckFailed") {
        return Cancellation::GuardExists;
    }
    let transient = [
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    ];
    if reasons
        .iter()
        .any(|reason| reason.code().is_some_and(|code| transient.contains(&code)))
    {
        return Cancellation::Conflict;
    }
    Cancellation::Other
}

fn key_attributes(key: &ItemKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PARTITION_KEY.to_owned(), AttributeValue::S(key.pk.clone())),
        (SORT_KEY.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::item::ItemKey;
    use crate::ledger::{FileLedger, SummaryUpdate};
    use crate::mock_dynamodb::mocked_client;

    #[tokio::test]
    async fn a_server_error_without_an_error_code_is_retried() {
        // What a local emulator answers when it breaks: 500 with an HTML body, no error code.
        summaries_survive_one(
            500,
            "<!doctype html><title>500 Internal Server Error</title>",
        )
        .await;
    }

    #[tokio::test]
    async fn too_many_requests_without_an_error_code_is_retried() {
        summaries_survive_one(429, "").await;
    }

    /// Applies one summary through a client whose first TransactWriteItems answers `status` with
    /// `body`: the ledger must retry it and succeed.
    async fn summaries_survive_one(status: u16, body: &str) {
        let broken = mock!(Client::transact_write_items)
            .sequence()
            .http_status(status, Some(body.to_owned()))
            .build();
        let applied = mock!(Client::transact_write_items)
            .then_output(|| TransactWriteItemsOutput::builder().build());
        let raised = mock!(Client::update_item).then_output(|| UpdateItemOutput::builder().build());
        let client = mocked_client(&[&broken, &applied, &raised]);
        let ledger = DynamoDbLedger::new(client, "audit").with_retry(LedgerRetry {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        });
        ledger
            .apply_summaries("s3://trail/key.json.gz", &[room_update()])
            .await
            .expect("the 500 is retried and the second attempt succeeds");
        assert_eq!(broken.num_calls(), 1);
        assert_eq!(applied.num_calls(), 1);
    }

    fn room_update() -> SummaryUpdate {
        SummaryUpdate {
            key: ItemKey {
                pk: "SUMMARY#ROOM".into(),
                sk: "arn:aws:a4b:us-east-1:123456789012:room/a/b".into(),
            },
            event_count: 2,
            last_event_time: "2023-07-10T12:00:00Z".into(),
        }
    }

    /// A rule answering every TransactWriteItems with DynamoDB's error `code` (HTTP 400).
    fn transactions_failing_with(code: &str) -> aws_smithy_mocks::Rule {
        let body = format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}"}}"#);
        mock!(Client::transact_write_items)
            .sequence()
            .http_status(400, Some(body))
            .repeatedly()
            .build()
    }

    /// The ledger's error for one summary whose transactions are answered by `rule`.
    async fn summaries_error(rule: &aws_smithy_mocks::Rule) -> LedgerError {
        DynamoDbLedger::new(mocked_client(&[rule]), "audit")
            .apply_summaries("s3://trail/key.json.gz", &[room_update()])
            .await
            .unwrap_err()
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_error_is_not_retried_and_names_the_table() {
        let missing = transactions_failing_with("ResourceNotFoundException");
        let error = summaries_error(&missing).await;
        assert_eq!(missing.num_calls(), 1);
        assert!(
            error
                .to_string()
                .contains("table audit not found in region eu-west-1"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_error_is_retried_up_to_the_attempt_limit() {
        let throttled = transactions_failing_with("ThrottlingException");
        let error = summaries_error(&throttled).await;
        let max_attempts = LedgerRetry::default().max_attempts;
        assert_eq!(throttled.num_calls(), max_attempts as usize);
        assert!(
            error
                .to_string()
                .contains(&format!("after {max_attempts} attempts")),
            "{error}"
        );
    }
}
