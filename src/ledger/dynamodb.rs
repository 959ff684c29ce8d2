//! The ledger's reads in DynamoDB (the CLI only: the Lambda never reads), and the one-off removal
//! of the items earlier versions wrote.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, Select, WriteRequest};

use super::LedgerError;
use super::activity::{PartitionReader, event_time_or_sort_key};
use super::seen::{SEEN_NAME_ATTRIBUTE, SeenKind};
use crate::dynamodb_errors::{Call, classify, region_of};
use crate::keys::{PARTITION_KEY, SORT_KEY};
use crate::retry::RetryPolicy;
use crate::writer::BATCH_SIZE;

pub use crate::keys::LEGACY_PK_PREFIXES;

/// Attempts of one batch of deletions whose items DynamoDB leaves unprocessed (throttling), and the
/// backoff between them: the writer's budget.
const DELETE_RETRY: RetryPolicy = RetryPolicy::STANDARD;

/// The audit table, as `rooms`, `users` and the legacy clean-up read it. Give it a client with
/// the SDK's standard retries ([`crate::aws::dynamodb_read_client`]): these reads have no retry
/// layer of their own.
#[derive(Debug, Clone)]
pub struct DynamoDbLedger {
    client: aws_sdk_dynamodb::Client,
    table_name: String,
    /// The client's region, for messages.
    region: String,
}

/// What [`DynamoDbLedger::delete_legacy_items`] found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacyCleanup {
    /// `Scan` pages read.
    pub scan_pages: u64,
    /// Legacy items found.
    pub items_found: u64,
    /// Legacy items deleted (0 without `delete`).
    pub items_deleted: u64,
    /// `BatchWriteItem` requests sent.
    pub delete_requests: u64,
}

impl DynamoDbLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        DynamoDbLedger {
            region: region_of(&client),
            client,
            table_name: table_name.into(),
        }
    }

    fn failure<E>(&self, operation: &str, error: &SdkError<E, HttpResponse>) -> LedgerError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let call = Call {
            operation,
            table_name: &self.table_name,
            region: &self.region,
        };
        LedgerError(classify(call, error).message)
    }

    /// Finds the `SUMMARY#…` and `FILE#…` items of earlier versions with one `Scan` of the table
    /// (keys only, all pages) and, with `delete`, deletes them 25 to a `BatchWriteItem`. A one-off
    /// clean-up: it reads the whole table once (read units for its whole size).
    pub async fn delete_legacy_items(&self, delete: bool) -> Result<LegacyCleanup, LedgerError> {
        let mut cleanup = LegacyCleanup::default();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table_name)
            .projection_expression("#pk, #sk")
            .filter_expression("begins_with(#pk, :file) OR begins_with(#pk, :summary)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":file", AttributeValue::S(LEGACY_PK_PREFIXES[0].into()))
            .expression_attribute_values(
                ":summary",
                AttributeValue::S(LEGACY_PK_PREFIXES[1].into()),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| self.failure("Scan", &error))?;
            cleanup.scan_pages += 1;
            let keys = page.items();
            cleanup.items_found += keys.len() as u64;
            if delete {
                for chunk in keys.chunks(BATCH_SIZE) {
                    cleanup.delete_requests += self.delete_keys(chunk).await?;
                    cleanup.items_deleted += chunk.len() as u64;
                }
            }
        }
        Ok(cleanup)
    }

    /// A `Query` of the partition `pk` (`#pk` and `#sk` name the keys).
    fn partition_query(&self, pk: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table_name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
    }

    /// Deletes at most 25 items by key, sending again what DynamoDB leaves unprocessed; returns
    /// the requests sent.
    async fn delete_keys(
        &self,
        keys: &[HashMap<String, AttributeValue>],
    ) -> Result<u64, LedgerError> {
        let mut pending: Vec<WriteRequest> = keys
            .iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map_err(|error| LedgerError(format!("cannot build a deletion: {error}")))?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_, LedgerError>>()?;
        let mut requests: u32 = 0;
        while !pending.is_empty() {
            if requests > 0 {
                let Ok(delay) = DELETE_RETRY.next_delay(requests, None) else {
                    return Err(LedgerError(format!(
                        "{} deletion(s) stayed unprocessed after {requests} BatchWriteItem attempts on table {} (the table is throttled: run it again later)",
                        pending.len(),
                        self.table_name
                    )));
                };
                tokio::time::sleep(delay).await;
            }
            requests += 1;
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table_name, pending)
                .send()
                .await
                .map_err(|error| self.failure("BatchWriteItem", &error))?;
            pending = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(&self.table_name))
                .unwrap_or_default();
        }
        Ok(u64::from(requests))
    }
}

impl PartitionReader for DynamoDbLedger {
    async fn seen_names(&self, kind: SeenKind, shard: u32) -> Result<Vec<String>, LedgerError> {
        let mut names = Vec::new();
        let mut pages = self
            .partition_query(&kind.shard_pk(shard))
            // `name` is one of DynamoDB's reserved words.
            .projection_expression("#sk, #name")
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_names("#name", SEEN_NAME_ATTRIBUTE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| self.failure("Query", &error))?;
            names.extend(page.items().iter().filter_map(|item| {
                match (item.get(SEEN_NAME_ATTRIBUTE), item.get(SORT_KEY)) {
                    (Some(AttributeValue::S(name)), _) | (None, Some(AttributeValue::S(name))) => {
                        Some(name.clone())
                    }
                    _ => None,
                }
            }));
        }
        Ok(names)
    }

    async fn count_items(&self, pk: &str) -> Result<u64, LedgerError> {
        let mut count = 0;
        let mut pages = self
            .partition_query(pk)
            .select(Select::Count)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| self.failure("Query", &error))?;
            count += u64::try_from(page.count()).unwrap_or_default();
        }
        Ok(count)
    }

    async fn latest_event_time(&self, pk: &str) -> Result<Option<String>, LedgerError> {
        let page = self
            .partition_query(pk)
            .projection_expression("#sk, event_time")
            .expression_attribute_names("#sk", SORT_KEY)
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|error| self.failure("Query", &error))?;
        Ok(page.items().first().and_then(|item| {
            let text = |name: &str| match item.get(name) {
                Some(AttributeValue::S(text)) => Some(text.as_str()),
                _ => None,
            };
            Some(event_time_or_sort_key(text("event_time"), text(SORT_KEY)?))
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The legacy clean-up's deletions against a mocked client (aws-smithy-mocks): what DynamoDB
    //! leaves unprocessed, which moto never does. The whole command runs against moto in
    //! `tests/integration/cli/ledger.rs`.

    use std::sync::{Arc, Mutex};

    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::operation::batch_write_item::{
        BatchWriteItemInput, BatchWriteItemOutput,
    };
    use aws_sdk_dynamodb::operation::scan::ScanOutput;
    use aws_smithy_mocks::{Rule, mock};

    use super::*;
    use crate::mock_dynamodb::{mocked_client, mocked_client_answering_every_call};

    const TABLE: &str = "audit-table";

    fn key(pk: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PARTITION_KEY.to_owned(), AttributeValue::S(pk.to_owned())),
            (SORT_KEY.to_owned(), AttributeValue::S("SUMMARY".to_owned())),
        ])
    }

    fn one_page_of(pks: &'static [&'static str]) -> Rule {
        mock!(Client::scan).then_output(move || {
            ScanOutput::builder()
                .set_items(Some(pks.iter().map(|pk| key(pk)).collect()))
                .build()
        })
    }

    /// The deletions of each request, by partition key.
    fn deleted_pks(input: &BatchWriteItemInput) -> Vec<String> {
        let requests = input.request_items().and_then(|tables| tables.get(TABLE));
        requests
            .into_iter()
            .flatten()
            .filter_map(|request| request.delete_request())
            .filter_map(|delete| delete.key().get(PARTITION_KEY)?.as_s().ok().cloned())
            .collect()
    }

    /// Answers a `BatchWriteItem` leaving its last deletion unprocessed.
    fn last_unprocessed(input: &BatchWriteItemInput) -> BatchWriteItemOutput {
        let requests = input
            .request_items()
            .and_then(|tables| tables.get(TABLE))
            .cloned()
            .unwrap_or_default();
        BatchWriteItemOutput::builder()
            .unprocessed_items(TABLE, requests.into_iter().rev().take(1).collect())
            .build()
    }

    #[tokio::test(start_paused = true)]
    async fn deletions_left_unprocessed_are_sent_again_and_counted() {
        let sent: Arc<Mutex<Vec<BatchWriteItemInput>>> = Arc::default();
        let recorded = Arc::clone(&sent);
        let first = mock!(Client::batch_write_item).then_compute_output(move |input| {
            recorded.lock().unwrap().push(input.clone());
            last_unprocessed(input)
        });
        let recorded = Arc::clone(&sent);
        let second = mock!(Client::batch_write_item).then_compute_output(move |input| {
            recorded.lock().unwrap().push(input.clone());
            BatchWriteItemOutput::builder().build()
        });
        let scan = one_page_of(&["SUMMARY#a", "FILE#b", "FILE#c"]);
        let ledger = DynamoDbLedger::new(mocked_client(&[&scan, &first, &second]), TABLE);
        let cleanup = ledger.delete_legacy_items(true).await.unwrap();
        assert_eq!(
            cleanup,
            LegacyCleanup {
                scan_pages: 1,
                items_found: 3,
                items_deleted: 3,
                delete_requests: 2,
            }
        );
        let sent: Vec<Vec<String>> = sent.lock().unwrap().iter().map(deleted_pks).collect();
        assert_eq!(
            sent,
            [vec!["SUMMARY#a", "FILE#b", "FILE#c"], vec!["FILE#c"]]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deletions_that_stay_unprocessed_fail_naming_the_table_and_the_attempts() {
        let throttled = mock!(Client::batch_write_item).then_compute_output(last_unprocessed);
        let ledger = DynamoDbLedger::new(mocked_client_answering_every_call(&throttled), TABLE);
        let keys = [key("FILE#b")];
        let error = ledger.delete_keys(&keys).await.unwrap_err().to_string();
        let attempts = RetryPolicy::STANDARD.max_attempts;
        assert!(
            error.contains(&format!(
                "1 deletion(s) stayed unprocessed after {attempts} BatchWriteItem attempts on table {TABLE}"
            )),
            "{error}"
        );
        assert!(error.contains("run it again later"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dry_run_scans_and_deletes_nothing() {
        let scan = one_page_of(&["SUMMARY#a", "FILE#b"]);
        let ledger = DynamoDbLedger::new(mocked_client(&[&scan]), TABLE);
        let cleanup = ledger.delete_legacy_items(false).await.unwrap();
        assert_eq!(
            cleanup,
            LegacyCleanup {
                scan_pages: 1,
                items_found: 2,
                items_deleted: 0,
                delete_requests: 0,
            }
        );
    }
}
