//! What a failed AWS call means, sorted once for every service the crate calls: whether sending
//! it again may succeed (transient) or not (permanent), and what the service said (HTTP status
//! and error code). Each caller words its own message from this: the DynamoDB calls in
//! [`crate::dynamodb_errors`], S3's `GetObject` in [`crate::source`], the CLI in
//! [`crate::cli::error`].

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::retry::FailureKind;

/// Error codes that may succeed when the call is sent again, whatever the HTTP status.
const TRANSIENT_CODES: &[&str] = &[
    // DynamoDB.
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    // A concurrent write to the same item from another Region of a global table.
    "ReplicatedWriteConflictException",
    // Another transaction holds or changes an item of this one.
    "TransactionConflictException",
    "TransactionInProgressException",
    // S3.
    "SlowDown",
    "RequestTimeout",
    "Throttling",
];

/// One failed AWS call, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFailure<'a> {
    pub kind: FailureKind,
    pub cause: Cause<'a>,
    /// The error and its causes, as the SDK prints them.
    pub details: String,
}

/// Why the call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause<'a> {
    /// The service answered with an error.
    Answered {
        status: u16,
        code: Option<&'a str>,
        message: Option<&'a str>,
    },
    /// No usable credentials: every retry fails alike.
    NoCredentials,
    TimedOut,
    /// The request could not be sent (connection refused, reset, DNS).
    NotSent,
    /// The service answered with something that could not be read.
    Unreadable {
        status: u16,
    },
    /// The request could not be built.
    NotBuilt,
    /// A failure the SDK may add in a later version.
    Other,
}

impl AwsFailure<'_> {
    /// The service's error code, when it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self.cause {
            Cause::Answered { code, .. } => code,
            _ => None,
        }
    }
}

/// Sorts a failed call into transient (retry) and permanent (give up).
pub fn classify<E>(error: &SdkError<E, HttpResponse>) -> AwsFailure<'_>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let details = DisplayErrorContext(error).to_string();
    let (kind, cause) = match error {
        SdkError::ServiceError(context) => {
            let code = context.err().code();
            let status = context.raw().status().as_u16();
            // A 5xx is the service's trouble and 429 is HTTP's "too many requests", whatever the
            // body says or fails to say (an emulator's HTML error page has no code).
            let transient = status >= 500
                || status == 429
                || code.is_some_and(|code| TRANSIENT_CODES.contains(&code));
            let kind = if transient {
                FailureKind::Transient
            } else {
                FailureKind::Permanent
            };
            let message = context.err().message();
            (
                kind,
                Cause::Answered {
                    status,
                    code,
                    message,
                },
            )
        }
        // Checked before the transient variants: without credentials every retry fails alike.
        _ if details.to_ascii_lowercase().contains("credential") => {
            (FailureKind::Permanent, Cause::NoCredentials)
        }
        SdkError::TimeoutError(_) => (FailureKind::Transient, Cause::TimedOut),
        SdkError::DispatchFailure(_) => (FailureKind::Transient, Cause::NotSent),
        SdkError::ResponseError(response) => (
            FailureKind::Transient,
            Cause::Unreadable {
                status: response.raw().status().as_u16(),
            },
        ),
        SdkError::ConstructionFailure(_) => (FailureKind::Permanent, Cause::NotBuilt),
        _ => (FailureKind::Permanent, Cause::Other),
    };
    AwsFailure {
        kind,
        cause,
        details,
    }
}
