//! The CLI reads S3 objects and local files in one run: each from its own source.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

use crate::notification::ObjectRef;
use crate::source::{Location, ObjectBody, ObjectSource, S3Source, SourceError};

/// Where one of the CLI's log files is: an S3 object or a local file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CliObject {
    S3(ObjectRef),
    /// An absolute path.
    LocalFile(PathBuf),
}

impl CliObject {
    /// A local file, named by its absolute path so that `source_object` does not depend on the
    /// directory the CLI was started in.
    pub fn local_file(path: &Path) -> std::io::Result<Self> {
        Ok(CliObject::LocalFile(std::path::absolute(path)?))
    }
}

/// `s3://bucket/key`, or `file://` + the percent-encoded absolute path for a local file.
impl fmt::Display for CliObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliObject::S3(object) => object.fmt(f),
            CliObject::LocalFile(path) => {
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

impl Location for CliObject {
    fn key_text(&self) -> Cow<'_, str> {
        match self {
            CliObject::S3(object) => object.key_text(),
            CliObject::LocalFile(path) => path.to_string_lossy(),
        }
    }

    fn bucket(&self) -> Option<&str> {
        match self {
            CliObject::S3(object) => object.bucket(),
            CliObject::LocalFile(_) => None,
        }
    }
}

/// S3 objects from S3 (when a client was built), local files from the file system.
pub struct CliSource {
    pub s3: Option<S3Source>,
}

impl ObjectSource for CliSource {
    type Location = CliObject;

    async fn open(&self, location: &CliObject) -> Result<ObjectBody, SourceError> {
        match (location, &self.s3) {
            (CliObject::LocalFile(path), _) => {
                let file = tokio::fs::File::open(path).await.map_err(|error| {
                    SourceError::Refused(format!("cannot open the local file: {error}"))
                })?;
                Ok(ObjectBody {
                    reader: Box::pin(file),
                })
            }
            (CliObject::S3(object), Some(s3)) => s3.open(object).await,
            (CliObject::S3(_), None) => Err(SourceError::Refused(format!(
                "cannot open {location}: no S3 client was set up for this run"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn a_local_file_is_a_file_uri_of_its_absolute_path() {
        let location = CliObject::local_file(Path::new("logs/a.json")).unwrap();
        let absolute = std::env::current_dir().unwrap().join("logs/a.json");
        assert_eq!(location, CliObject::LocalFile(absolute.clone()));
        assert_eq!(
            location.to_string(),
            format!("file://{}", absolute.display())
        );
        assert_eq!(location.bucket(), None);
    }

    #[test]
    fn a_local_file_uri_percent_encodes_its_path() {
        let location = CliObject::LocalFile(PathBuf::from("/logs/a b#1%?é.json"));
        assert_eq!(
            location.to_string(),
            "file:///logs/a%20b%231%25%3F%C3%A9.json"
        );
    }

    #[tokio::test]
    async fn a_local_file_is_streamed_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"{\"Records\":[]}").unwrap();
        let mut body = CliSource { s3: None }
            .open(&CliObject::local_file(&path).unwrap())
            .await
            .unwrap();
        let mut text = String::new();
        body.reader.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "{\"Records\":[]}");
    }

    #[tokio::test]
    async fn a_missing_local_file_is_a_permanent_failure_naming_it() {
        let location = CliObject::local_file(Path::new("/nonexistent/a4b/f.json")).unwrap();
        let error = CliSource { s3: None }.open(&location).await.err().unwrap();
        assert!(matches!(error, SourceError::Refused(_)), "{error}");
        assert!(!error.is_transient());
        assert!(
            error
                .to_string()
                .starts_with("cannot open the local file: "),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_s3_object_without_an_s3_client_is_refused() {
        let location = CliObject::S3(ObjectRef {
            bucket: "b".into(),
            key: "k".into(),
        });
        let error = CliSource { s3: None }.open(&location).await.err().unwrap();
        assert!(matches!(error, SourceError::Refused(_)), "{error}");
        assert!(error.to_string().contains("s3://b/k"), "{error}");
    }
}
