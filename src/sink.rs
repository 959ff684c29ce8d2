//! Where items go: the `ItemSink` port (one BatchWriteItem-sized request) and its DynamoDB adapter.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use crate::dynamodb_errors::{Call, CallFailure, classify, region_of};
use crate::item::{AttrValue, Item, ItemKey, PARTITION_KEY, SORT_KEY};

pub use crate::retry::FailureKind;

/// A batch request that failed as a whole.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub kind: FailureKind,
    pub message: String,
    /// The store refused what the request holds (DynamoDB's `ValidationException`: an item too
    /// large or malformed), not the request as such: the items may be written one by one, so that
    /// one bad item does not cost the others.
    pub content_refused: bool,
}

impl SinkError {
    pub fn permanent(message: String) -> Self {
        SinkError {
            kind: FailureKind::Permanent,
            message,
            content_refused: false,
        }
    }

    pub fn transient(message: String) -> Self {
        SinkError {
            kind: FailureKind::Transient,
            message,
            content_refused: false,
        }
    }
}

impl From<CallFailure> for SinkError {
    fn from(failure: CallFailure) -> Self {
        SinkError {
            kind: failure.kind,
            message: failure.message,
            content_refused: false,
        }
    }
}

/// Writes one batch of at most 25 items with distinct keys.
pub trait ItemSink: Send + Sync + 'static {
    /// Puts the items; returns copies of the ones the store did not process (to be retried).
    ///
    /// The items are lent, not given: the writer keeps them to send again after a transient
    /// failure, and a copy of every batch for that cost 1.3 % of the dry run's instructions
    /// (callgrind, 20 MB benchmark file: 278.0M -> 274.4M without it).
    fn put_batch(
        &self,
        items: &[Item],
    ) -> impl Future<Output = Result<Vec<Item>, SinkError>> + Send;
}

/// Writes batches to one DynamoDB table with BatchWriteItem.
///
/// Build the client with the SDK's retries off ([`crate::aws::dynamodb_client`]): the
/// [`ItemWriter`](crate::writer::ItemWriter) then retries the items alone, so its counts are exact.
#[derive(Debug, Clone)]
pub struct DynamoDbSink {
    client: Client,
    table_name: String,
    /// The client's region, for messages.
    region: String,
}

impl DynamoDbSink {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoDbSink {
            region: region_of(&client),
            client,
            table_name: table_name.into(),
        }
    }
}

impl ItemSink for DynamoDbSink {
    async fn put_batch(&self, items: &[Item]) -> Result<Vec<Item>, SinkError> {
        if items.is_empty() {
            return Ok(Vec::new());
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
            .map_err(|error| {
                let call = Call {
                    operation: "BatchWriteItem",
                    table_name: &self.table_name,
                    region: &self.region,
                };
                let failure = classify(call, &error);
                SinkError {
                    content_refused: failure.kind == FailureKind::Permanent
                        && error.code() == Some("ValidationException"),
                    ..SinkError::from(failure)
                }
            })?;
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
        AttrValue::S(s) => AttributeValue::S(s.to_string()),
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
    sent: &[Item],
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
        .iter()
        .filter(|item| unprocessed_keys.contains(&item.key))
        .cloned()
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

#[cfg(test)]
mod tests;
