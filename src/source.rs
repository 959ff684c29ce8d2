//! Where log files come from: the `ObjectSource` port and its S3 adapter (the CLI's local files
//! are its own, in `crate::cli::source`).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use tokio::io::{AsyncRead, ReadBuf};

use crate::aws_errors::Cause;
use crate::notification::ObjectRef;
use crate::retry::FailureKind;

/// Where one log file is, as the per-object step needs to know it: the name it is reported and
/// recorded under (its `Display`, the items' `source_object`), the text its key class is read from,
/// and the bucket `ALLOWED_BUCKETS` is checked against. Each source names its own objects: S3 by
/// [`ObjectRef`], the CLI's local files by path (`crate::cli::source`).
pub trait Location: fmt::Display + fmt::Debug + Clone + Send + Sync + 'static {
    /// The key or path to classify with [`log_key::classify`](crate::log_key::classify).
    fn key_text(&self) -> Cow<'_, str>;
    /// The S3 bucket, for `ALLOWED_BUCKETS`; `None` for an object outside S3.
    fn bucket(&self) -> Option<&str>;
}

/// `s3://bucket/key`.
impl Location for ObjectRef {
    fn key_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.key)
    }

    fn bucket(&self) -> Option<&str> {
        Some(&self.bucket)
    }
}

/// An opened object: its bytes as they are stored (gzipped or not).
pub struct ObjectBody {
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
}

impl ObjectBody {
    /// The body as a stream that notes in `failed` whether the stream itself failed.
    pub fn watched(self, failed: Arc<AtomicBool>) -> WatchedBody {
        WatchedBody {
            inner: self.reader,
            failed,
        }
    }
}

/// An object's byte stream that notes when the stream itself failed (a connection reset, a body
/// cut short), as opposed to its bytes being wrong: only the former is worth reading again.
pub struct WatchedBody {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    failed: Arc<AtomicBool>,
}

impl AsyncRead for WatchedBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let polled = self.inner.as_mut().poll_read(context, buffer);
        if let Poll::Ready(Err(_)) = &polled {
            self.failed.store(true, Ordering::Relaxed);
        }
        polled
    }
}

/// Why an object could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the object does not exist (NoSuchKey): it may have been deleted or the key is wrong")]
    NotFound,
    #[error(
        "access denied (HTTP 403): the object may be missing, as S3 answers 403 for a missing key to a role without s3:ListBucket on the bucket; if it exists, the function's role needs s3:GetObject on it (and kms:Decrypt if the trail uses SSE-KMS)"
    )]
    AccessDenied,
    #[error("the bucket does not exist (NoSuchBucket)")]
    NoSuchBucket,
    #[error(
        "the object is in an archive storage class (GLACIER or DEEP_ARCHIVE: InvalidObjectState): restore it first (S3 RestoreObject, or an S3 Batch Operations restore job for many), then process it again"
    )]
    Archived,
    /// The source refused the object for a reason a retry does not change (S3: e.g. an invalid
    /// request; the CLI: a local file it cannot open).
    #[error("{0}")]
    Refused(String),
    /// Throttling, 5xx, timeouts, a connection that failed: what the pipeline's retries did not
    /// overcome, but a later attempt may.
    #[error("{0}")]
    Other(String),
}

impl SourceError {
    /// Whether opening the object again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Other(_))
    }
}

/// Opens objects for reading.
pub trait ObjectSource: Send + Sync + 'static {
    /// How this source names its objects.
    type Location: Location;

    fn open(
        &self,
        object: &Self::Location,
    ) -> impl Future<Output = Result<ObjectBody, SourceError>> + Send;
}

/// Reads objects from S3 with `GetObject`, streaming the body. One attempt per `open`, the SDK's
/// retries off whatever the client's configuration: the pipeline is the one retry layer for an
/// object's reads, so that opening it and reading a body cut short share one budget, bounded by the
/// invocation's deadline (see [`crate::object::PipelineOptions::writer`]).
#[derive(Debug, Clone)]
pub struct S3Source {
    client: aws_sdk_s3::Client,
}

impl S3Source {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Source { client }
    }
}

impl ObjectSource for S3Source {
    type Location = ObjectRef;

    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, SourceError> {
        let output = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .customize()
            .config_override(
                aws_sdk_s3::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(classify_get_object_error)?;
        Ok(ObjectBody {
            reader: Box::pin(output.body.into_async_read()),
        })
    }
}

fn classify_get_object_error(error: SdkError<GetObjectError>) -> SourceError {
    if let SdkError::ServiceError(service_error) = &error
        && service_error.err().is_no_such_key()
    {
        return SourceError::NotFound;
    }
    let failure = crate::aws_errors::classify(&error);
    match failure.cause {
        Cause::Answered {
            code: Some("AccessDenied"),
            ..
        } => SourceError::AccessDenied,
        Cause::Answered {
            code: Some("NoSuchBucket"),
            ..
        } => SourceError::NoSuchBucket,
        Cause::Answered {
            code: Some("InvalidObjectState"),
            ..
        } => SourceError::Archived,
        Cause::Answered {
            code: Some("NoSuchKey" | "NotFound"),
            ..
        } => SourceError::NotFound,
        Cause::Answered { status: 403, .. } => SourceError::AccessDenied,
        _ if failure.kind == FailureKind::Transient => {
            SourceError::Other(get_object_failure(&error))
        }
        Cause::Answered { .. } => SourceError::Refused(get_object_failure(&error)),
        _ => SourceError::Refused(format!("GetObject failed: {}", failure.details)),
    }
}

/// What a failed `GetObject` says: the HTTP status and S3's error code when S3 answered, else what
/// kept the request from being answered.
fn get_object_failure(error: &SdkError<GetObjectError>) -> String {
    let context = aws_sdk_s3::error::DisplayErrorContext(error);
    match error {
        SdkError::ServiceError(service_error) => {
            let code = service_error.err().code().unwrap_or("no error code");
            let status = service_error.raw().status().as_u16();
            match service_error.err().message() {
                Some(message) => format!("GetObject failed with {code} (HTTP {status}): {message}"),
                None => format!("GetObject failed with {code} (HTTP {status})"),
            }
        }
        SdkError::ResponseError(response_error) => format!(
            "the response to GetObject (HTTP {}) could not be read: {context}",
            response_error.raw().status().as_u16()
        ),
        SdkError::TimeoutError(_) => format!("GetObject timed out: {context}"),
        SdkError::DispatchFailure(_) => format!("GetObject could not be sent: {context}"),
        _ => format!("GetObject failed: {context}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_object_reads_as_its_uri_and_is_classified_by_its_key() {
        let object = ObjectRef {
            bucket: "b".into(),
            key: "AWSLogs/x.json.gz".into(),
        };
        assert_eq!(object.to_string(), "s3://b/AWSLogs/x.json.gz");
        assert_eq!(object.key_text(), "AWSLogs/x.json.gz");
        assert_eq!(object.bucket(), Some("b"));
    }
}
