//! What a failed DynamoDB call means, for every operation the crate sends (the sink's
//! BatchWriteItem, the ledger's queries, scans and deletions): retry it
//! (transient) or stop (permanent), with a message that names the call and says what to do.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::aws_errors::{self, AwsFailure, Cause};
use crate::retry::FailureKind;

/// The call that failed, as messages name it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The DynamoDB operation, e.g. `BatchWriteItem`.
    pub operation: &'a str,
    pub table_name: &'a str,
    pub region: &'a str,
}

/// One failed attempt of a call, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl CallFailure {
    pub fn transient(message: String) -> Self {
        CallFailure {
            kind: FailureKind::Transient,
            message,
        }
    }

    pub fn permanent(message: String) -> Self {
        CallFailure {
            kind: FailureKind::Permanent,
            message,
        }
    }
}

/// The region a client sends to, for messages.
pub fn region_of(client: &Client) -> String {
    client
        .config()
        .region()
        .map_or_else(|| "(no region)".to_owned(), ToString::to_string)
}

/// Sorts a failed call into transient (retry) and permanent (give up) by the classifier every
/// AWS call shares ([`crate::aws_errors`]), with a message that says what to do.
pub fn classify<E>(call: Call<'_>, error: &SdkError<E, HttpResponse>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Call {
        operation,
        table_name,
        ..
    } = call;
    let AwsFailure {
        kind,
        cause,
        details,
    } = aws_errors::classify(error);
    let message = match cause {
        Cause::Answered {
            status,
            code,
            message,
        } => {
            let failed = format!(
                "{operation} on table {table_name} failed with {} (HTTP {status}): {}",
                code.unwrap_or("unknown error"),
                message.unwrap_or("no message")
            );
            match kind {
                FailureKind::Transient => failed,
                FailureKind::Permanent => format!("{failed}; {}", advice(call, code)),
            }
        }
        Cause::NoCredentials => format!(
            "no usable AWS credentials ({details}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ),
        Cause::TimedOut => format!("{operation} on table {table_name} timed out"),
        Cause::NotSent => {
            format!("{operation} on table {table_name} could not be sent: {details}")
        }
        Cause::Unreadable { .. } => format!(
            "the response to {operation} on table {table_name} could not be read: {details}"
        ),
        Cause::NotBuilt => {
            format!("the {operation} request for table {table_name} could not be built: {details}")
        }
        Cause::Other => format!("{operation} on table {table_name} failed: {details}"),
    };
    CallFailure { kind, message }
}

fn advice(call: Call<'_>, code: Option<&str>) -> String {
    let Call {
        operation,
        table_name,
        region,
    } = call;
    match code {
        Some("ResourceNotFoundException") => format!(
            "table {table_name} not found in region {region}: check TABLE_NAME (--table in the \
             CLI) and the region (AWS_REGION)"
        ),
        Some("AccessDeniedException") => format!(
            "grant {} on table {table_name} to the function's role",
            iam_actions(operation)
        ),
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

/// The IAM actions an operation needs. A transaction is authorized action by action: there is
/// no `dynamodb:TransactWriteItems` action (the ledger's transactions put and update).
fn iam_actions(operation: &str) -> String {
    match operation {
        "TransactWriteItems" => "dynamodb:PutItem and dynamodb:UpdateItem".to_owned(),
        _ => format!("dynamodb:{operation}"),
    }
}

#[cfg(test)]
mod tests;
