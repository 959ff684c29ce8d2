//! Where log files come from: the `ObjectSource` port, its S3 adapter and a local-file adapter
//! (the CLI's).

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use tokio::io::{AsyncRead, ReadBuf};

use crate::aws_errors::Cause;
use crate::notification::ObjectRef;
use crate::retry::FailureKind;

/// Where one log file is: an S3 object (the Lambda and the CLI) or a local file (the CLI).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectLocation {
    S3(ObjectRef),
    /// An absolute path.
    LocalFile(PathBuf),
}

impl ObjectLocation {
    /// A local file, named by its absolute path so that `source_object` does not depend on the
    /// directory the CLI was started in.
    pub fn local_file(path: &Path) -> std::io::Result<Self> {
        Ok(ObjectLocation::LocalFile(std::path::absolute(path)?))
    }

    /// The key or path to classify with [`log_key::classify`](crate::log_key::classify).
    pub fn key_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ObjectLocation::S3(object) => std::borrow::Cow::Borrowed(&object.key),
            ObjectLocation::LocalFile(path) => path.to_string_lossy(),
        }
    }
}

impl From<ObjectRef> for ObjectLocation {
    fn from(object: ObjectRef) -> Self {
        ObjectLocation::S3(object)
    }
}

/// `s3://bucket/key`, or `file://` + the percent-encoded absolute path for a local file.
impl fmt::Display for ObjectLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectLocation::S3(object) => object.fmt(f),
            ObjectLocation::LocalFile(path) => {
                let bytes = path.as_os_str().as_encoded_bytes();
                write!(f, "file://{}", percent_encode(bytes, PATH_ESCAPED))
            }
        }
    }
}

/// What a `file://` URI escapes in a path: everything but RFC 3986's unreserved characters and `/`.
const PATH_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

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
    #[error("this source cannot open {0}: {1}")]
    Unsupported(String, &'static str),
    #[error("cannot open the local file: {0}")]
    LocalFile(#[source] std::io::Error),
    /// S3 refused the request for a reason a retry does not change (e.g. an archived object).
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
    fn open(
        &self,
        object: &ObjectLocation,
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
    async fn open(&self, location: &ObjectLocation) -> Result<ObjectBody, SourceError> {
        let ObjectLocation::S3(object) = location else {
            return Err(SourceError::Unsupported(
                location.to_string(),
                "the S3 source reads S3 objects only",
            ));
        };
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

/// Reads local files (the CLI's `process PATH`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFileSource;

impl ObjectSource for LocalFileSource {
    async fn open(&self, location: &ObjectLocation) -> Result<ObjectBody, SourceError> {
        let ObjectLocation::LocalFile(path) = location else {
            return Err(SourceError::Unsupported(
                location.to_string(),
                "the local-file source reads local files only",
            ));
        };
        let file = tokio::fs::File::open(path)
            .await
            .map_err(SourceError::LocalFile)?;
        Ok(ObjectBody {
            reader: Box::pin(file),
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
    use tokio::io::AsyncReadExt;

    #[test]
    fn s3_location_reads_as_its_uri() {
        let location = ObjectLocation::S3(ObjectRef {
            bucket: "b".into(),
            key: "AWSLogs/x.json.gz".into(),
        });
        assert_eq!(location.to_string(), "s3://b/AWSLogs/x.json.gz");
        assert_eq!(location.key_text(), "AWSLogs/x.json.gz");
    }

    #[test]
    fn local_location_is_a_file_uri_of_the_absolute_path() {
        let location = ObjectLocation::local_file(Path::new("logs/a.json")).unwrap();
        let absolute = std::env::current_dir().unwrap().join("logs/a.json");
        assert_eq!(location, ObjectLocation::LocalFile(absolute.clone()));
        assert_eq!(
            location.to_string(),
            format!("file://{}", absolute.display())
        );
    }

    #[test]
    fn a_local_file_uri_percent_encodes_its_path() {
        let location = ObjectLocation::LocalFile(PathBuf::from("/logs/a b#1%?é.json"));
        assert_eq!(
            location.to_string(),
            "file:///logs/a%20b%231%25%3F%C3%A9.json"
        );
    }

    #[tokio::test]
    async fn local_file_source_streams_the_file_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"{\"Records\":[]}").unwrap();
        let mut body = LocalFileSource
            .open(&ObjectLocation::local_file(&path).unwrap())
            .await
            .unwrap();
        let mut text = String::new();
        body.reader.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "{\"Records\":[]}");
    }

    #[tokio::test]
    async fn missing_local_file_is_a_local_file_error() {
        let location = ObjectLocation::local_file(Path::new("/nonexistent/a4b/f.json")).unwrap();
        let error = LocalFileSource.open(&location).await.err().unwrap();
        assert!(matches!(error, SourceError::LocalFile(_)), "{error}");
    }

    #[tokio::test]
    async fn local_file_source_refuses_s3_objects() {
        let location = ObjectLocation::S3(ObjectRef {
            bucket: "b".into(),
            key: "k".into(),
        });
        let error = LocalFileSource.open(&location).await.err().unwrap();
        assert!(matches!(error, SourceError::Unsupported(..)), "{error}");
    }
}
