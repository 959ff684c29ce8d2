//! Where log files come from: the `ObjectSource` port and its S3 adapter.

use std::future::Future;
use std::pin::Pin;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use tokio::io::AsyncRead;

use crate::notification::ObjectRef;

/// An opened object: its bytes as they are stored (gzipped or not).
pub struct ObjectBody {
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
    /// The stored size, when the source knows it.
    pub stored_bytes: Option<u64>,
}

/// Why an object could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the object does not exist (NoSuchKey): it may have been deleted or the key is wrong")]
    NotFound,
    #[error(
        "access denied: the function's role needs s3:GetObject on this object (and kms:Decrypt if the trail uses SSE-KMS)"
    )]
    AccessDenied,
    #[error("the bucket does not exist (NoSuchBucket)")]
    NoSuchBucket,
    #[error("{0}")]
    Other(String),
}

/// Opens objects for reading.
pub trait ObjectSource: Send + Sync + 'static {
    fn open(
        &self,
        object: &ObjectRef,
    ) -> impl Future<Output = Result<ObjectBody, SourceError>> + Send;
}

/// Reads objects from S3 with `GetObject`, streaming the body.
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
    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, SourceError> {
        let output = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(classify_get_object_error)?;
        let stored_bytes = output
            .content_length()
            .and_then(|length| u64::try_from(length).ok());
        Ok(ObjectBody {
            reader: Box::pin(output.body.into_async_read()),
            stored_bytes,
        })
    }
}

fn classify_get_object_error(error: SdkError<GetObjectError>) -> SourceError {
    if let SdkError::ServiceError(service_error) = &error {
        if service_error.err().is_no_such_key() {
            return SourceError::NotFound;
        }
        match service_error.err().code() {
            Some("AccessDenied") => return SourceError::AccessDenied,
            Some("NoSuchBucket") => return SourceError::NoSuchBucket,
            Some("NoSuchKey") | Some("NotFound") => return SourceError::NotFound,
            _ => {}
        }
        if service_error.raw().status().as_u16() == 403 {
            return SourceError::AccessDenied;
        }
    }
    SourceError::Other(format!(
        "GetObject failed: {}",
        aws_sdk_s3::error::DisplayErrorContext(&error)
    ))
}
