//! Where items go: the `ItemSink` port (one BatchWriteItem-sized request) and its DynamoDB adapter.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use crate::item::{AttrValue, Item, ItemKey, PARTITION_KEY, SORT_KEY};

pub use crate::retry::FailureKind;

/// A batch request that failed as a whole.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub kind: FailureKind,
    pub message: String,
}

impl SinkError {
    fn transient(message: String) -> Self {
        SinkError {
            kind: FailureKind::Transient,
            message,
        }
    }

    fn permanent(message: String) -> Self {
        SinkError {
            kind: FailureKind::Permanent,
            message,
        }
    }
}

/// Writes one batch of at most 25 items with distinct keys.
pub trait ItemSink: Send + Sync + 'static {
    /// Puts the items; returns the ones the store did not process (to be retried).
    fn put_batch(
        &self,
        items: Vec<Item>,
    ) -> impl Future<Output = Result<Vec<Item>, SinkError>> + Send;
}

/// Writes batches to one DynamoDB table with BatchWriteItem.
///
/// Build the client with the SDK's retries off (max attempts 1): the
/// [`ItemWriter`](crate::writer::ItemWriter) is the only retry layer, so its counts are exact.
#[derive(Debug, Clone)]
pub struct DynamoDbSink {
    client: Client,
    table_name: String,
}

impl DynamoDbSink {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoDbSink {
            client,
            table_name: table_name.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }
}

impl ItemSink for DynamoDbSink {
    async fn put_batch(&self, items: Vec<Item>) -> Result<Vec<Item>, SinkError> {
        if items.is_empty() {
            return Ok(items);
        }
        let requests = items
            .iter()
            .map(write_request)
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .batch_write_item()
            .request_items(&self.table_name, requests)
            .send()
            .await
            .map_err(|error| classify(&self.table_name, &error))?;
        match output.unprocessed_items {
            Some(unprocessed) => originals_of(items, unprocessed, &self.table_name),
            None => Ok(Vec::new()),
        }
    }
}

/// The item as DynamoDB attributes: `pk` and `sk` as strings, then every other attribute.
pub fn attribute_map(item: &Item) -> HashMap<String, AttributeValue> {
    let mut attributes: HashMap<String, AttributeValue> = item
        .attributes
        .iter()
        .map(|(name, value)| ((*name).to_owned(), attribute_value(value)))
        .collect();
    // Inserted last so that the key always wins over a stray attribute of the same name.
    attributes.insert(
        PARTITION_KEY.to_owned(),
        AttributeValue::S(item.key.pk.clone()),
    );
    attributes.insert(SORT_KEY.to_owned(), AttributeValue::S(item.key.sk.clone()));
    attributes
}

fn attribute_value(value: &AttrValue) -> AttributeValue {
    match value {
        AttrValue::S(s) => AttributeValue::S(s.clone()),
        AttrValue::N(n) => AttributeValue::N(n.clone()),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
        AttrValue::StringList(values) => {
            AttributeValue::L(values.iter().cloned().map(AttributeValue::S).collect())
        }
    }
}

/// The key of an item as DynamoDB returns it, if it has a string `pk` and `sk`.
pub fn key_of(attributes: &HashMap<String, AttributeValue>) -> Option<ItemKey> {
    match (attributes.get(PARTITION_KEY), attributes.get(SORT_KEY)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(ItemKey {
            pk: pk.clone(),
            sk: sk.clone(),
        }),
        _ => None,
    }
}

fn write_request(item: &Item) -> Result<WriteRequest, SinkError> {
    let put = PutRequest::builder()
        .set_item(Some(attribute_map(item)))
        .build()
        .map_err(|error| {
            SinkError::permanent(format!(
                "could not build the put request for pk={} sk={}: {error}",
                item.key.pk, item.key.sk
            ))
        })?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// The items sent that DynamoDB reports as unprocessed, found by key among the originals (so no
/// attribute is parsed back), in the order they were sent.
fn originals_of(
    sent: Vec<Item>,
    unprocessed: HashMap<String, Vec<WriteRequest>>,
    table_name: &str,
) -> Result<Vec<Item>, SinkError> {
    let mut unprocessed_keys = HashSet::new();
    for request in unprocessed.into_values().flatten() {
        let key = request
            .put_request
            .as_ref()
            .and_then(|put| key_of(&put.item))
            .ok_or_else(|| {
                SinkError::permanent(format!(
                    "DynamoDB returned an unprocessed request for table {table_name} without a \
                     put item with string pk and sk: the batch cannot be retried safely"
                ))
            })?;
        unprocessed_keys.insert(key);
    }
    let returned = unprocessed_keys.len();
    let originals: Vec<Item> = sent
        .into_iter()
        .filter(|item| unprocessed_keys.contains(&item.key))
        .collect();
    if originals.len() != returned {
        return Err(SinkError::permanent(format!(
            "DynamoDB returned {returned} unprocessed item(s) for table {table_name} but only {} \
             match an item of the batch sent: the batch cannot be retried safely",
            originals.len()
        )));
    }
    Ok(originals)
}

/// Error codes of a BatchWriteItem that may succeed when sent again.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    // A concurrent write to the same item from another Region of a global table.
    "ReplicatedWriteConflictException",
];

/// Sorts a failed BatchWriteItem call into transient (retry) and permanent (give up), with a
/// message that says what to do.
pub fn classify(table_name: &str, error: &SdkError<BatchWriteItemError>) -> SinkError {
    let details = DisplayErrorContext(error);
    match error {
        SdkError::TimeoutError(_) => {
            SinkError::transient(format!("BatchWriteItem on table {table_name} timed out"))
        }
        SdkError::DispatchFailure(_) => SinkError::transient(format!(
            "BatchWriteItem on table {table_name} could not be sent: {details}"
        )),
        SdkError::ResponseError(_) => SinkError::transient(format!(
            "the response to BatchWriteItem on table {table_name} could not be read: {details}"
        )),
        SdkError::ServiceError(context) => {
            let service_error = context.err();
            let code = service_error.code().or_else(|| modeled_code(service_error));
            let status = context.raw().status().as_u16();
            let message = service_error.message().unwrap_or("no message");
            let code_text = code.unwrap_or("unknown error");
            // 429 is HTTP's own "too many requests", whatever the body says.
            if status >= 500
                || status == 429
                || code.is_some_and(|code| TRANSIENT_CODES.contains(&code))
            {
                SinkError::transient(format!(
                    "BatchWriteItem on table {table_name} failed with {code_text} (HTTP {status}): \
                     {message}"
                ))
            } else {
                SinkError::permanent(format!(
                    "BatchWriteItem on table {table_name} failed with {code_text} (HTTP {status}): \
                     {message}; {}",
                    advice(code, table_name)
                ))
            }
        }
        SdkError::ConstructionFailure(_) => SinkError::permanent(format!(
            "the BatchWriteItem request for table {table_name} could not be built: {details}"
        )),
        _ => SinkError::permanent(format!(
            "BatchWriteItem on table {table_name} failed: {details}"
        )),
    }
}

/// The code of a modeled error built without error metadata (the SDK fills it in when it parses
/// a response, but not every path does).
fn modeled_code(error: &BatchWriteItemError) -> Option<&'static str> {
    match error {
        BatchWriteItemError::InternalServerError(_) => Some("InternalServerError"),
        BatchWriteItemError::InvalidEndpointException(_) => Some("InvalidEndpointException"),
        BatchWriteItemError::ItemCollectionSizeLimitExceededException(_) => {
            Some("ItemCollectionSizeLimitExceededException")
        }
        BatchWriteItemError::ProvisionedThroughputExceededException(_) => {
            Some("ProvisionedThroughputExceededException")
        }
        BatchWriteItemError::ReplicatedWriteConflictException(_) => {
            Some("ReplicatedWriteConflictException")
        }
        BatchWriteItemError::RequestLimitExceeded(_) => Some("RequestLimitExceeded"),
        BatchWriteItemError::ResourceNotFoundException(_) => Some("ResourceNotFoundException"),
        BatchWriteItemError::ThrottlingException(_) => Some("ThrottlingException"),
        _ => None,
    }
}

fn advice(code: Option<&str>, table_name: &str) -> String {
    match code {
        Some("ResourceNotFoundException") => {
            format!("table {table_name} not found: check TABLE_NAME and the region")
        }
        Some("AccessDeniedException") => {
            format!("grant dynamodb:BatchWriteItem on table {table_name} to the function's role")
        }
        Some("ValidationException") => format!(
            "check that table {table_name} has the key schema pk (String, partition key) and sk \
             (String, sort key); if it does, the item is malformed, which is a bug in a4b-audit"
        ),
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "MissingAuthenticationTokenException",
        ) => "check the AWS credentials and region the function runs with".to_owned(),
        Some("ItemCollectionSizeLimitExceededException") => format!(
            "an item collection of table {table_name} exceeds 10 GB: review its local secondary \
             indexes"
        ),
        Some("InvalidEndpointException") => {
            "check AWS_ENDPOINT_URL and the region the function runs with".to_owned()
        }
        _ => "retrying will not help: check the table and the function's permissions".to_owned(),
    }
}

#[cfg(test)]
mod tests;
