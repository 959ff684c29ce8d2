//! The CLI reads S3 objects and local files in one run: each from its own source.

use crate::source::{
    LocalFileSource, ObjectBody, ObjectLocation, ObjectSource, S3Source, SourceError,
};

/// S3 objects from S3 (when a client was built), local files from the file system.
pub struct CliSource {
    pub s3: Option<S3Source>,
    pub local: LocalFileSource,
}

impl ObjectSource for CliSource {
    async fn open(&self, location: &ObjectLocation) -> Result<ObjectBody, SourceError> {
        match (location, &self.s3) {
            (ObjectLocation::LocalFile(_), _) => self.local.open(location).await,
            (ObjectLocation::S3(_), Some(s3)) => s3.open(location).await,
            (ObjectLocation::S3(_), None) => Err(SourceError::Unsupported(
                location.to_string(),
                "no S3 client was set up for this run",
            )),
        }
    }
}
