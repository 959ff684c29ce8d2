//! `s3://bucket/key` and `s3://bucket[/prefix]` as an operator types them on the command line.

use std::fmt;
use std::str::FromStr;

use crate::notification::ObjectRef;

/// Why a text is not an `s3://bucket/key` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3UriError {
    #[error("{uri:?} does not start with `s3://`; write it as s3://bucket/key")]
    MissingScheme { uri: String },
    #[error("{uri:?} names no bucket; write it as s3://bucket/key")]
    MissingBucket { uri: String },
    #[error(
        "{uri:?} has an invalid bucket name {bucket:?} (letters, digits, `.`, `-` and `_` only)"
    )]
    InvalidBucket { uri: String, bucket: String },
    #[error("{uri:?} names no object key; write it as s3://bucket/key")]
    MissingKey { uri: String },
}

/// A bucket and a key prefix (possibly empty: the whole bucket), from `s3://bucket[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Prefix {
    pub bucket: String,
    pub prefix: String,
}

impl fmt::Display for S3Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Parses `s3://bucket/key` as typed by a person: the key is taken literally (not URL-decoded)
/// and must not be empty.
pub fn parse_s3_uri(uri: &str) -> Result<ObjectRef, S3UriError> {
    let S3Prefix { bucket, prefix } = parse_s3_prefix(uri)?;
    if prefix.is_empty() {
        return Err(S3UriError::MissingKey {
            uri: uri.to_owned(),
        });
    }
    Ok(ObjectRef {
        bucket,
        key: prefix,
    })
}

/// Parses `s3://bucket`, `s3://bucket/` or `s3://bucket/prefix` (the prefix taken literally).
pub fn parse_s3_prefix(uri: &str) -> Result<S3Prefix, S3UriError> {
    let Some(location) = uri.strip_prefix("s3://") else {
        return Err(S3UriError::MissingScheme {
            uri: uri.to_owned(),
        });
    };
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    if bucket.is_empty() {
        return Err(S3UriError::MissingBucket {
            uri: uri.to_owned(),
        });
    }
    // Loose on purpose: older us-east-1 buckets may hold capitals and underscores.
    let bucket_chars_valid = bucket
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_'));
    if !bucket_chars_valid {
        return Err(S3UriError::InvalidBucket {
            uri: uri.to_owned(),
            bucket: bucket.to_owned(),
        });
    }
    Ok(S3Prefix {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
    })
}

impl FromStr for S3Prefix {
    type Err = S3UriError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        parse_s3_prefix(uri)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn object(bucket: &str, key: &str) -> ObjectRef {
        ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }
    }

    #[test]
    fn s3_uri_parses_into_bucket_and_literal_key() {
        assert_eq!(
            parse_s3_uri("s3://trail-bucket/AWSLogs/a+b%20c.json.gz"),
            Ok(object("trail-bucket", "AWSLogs/a+b%20c.json.gz"))
        );
    }

    #[test]
    fn s3_uri_display_and_parse_round_trip() {
        let original = object("b.example-1", "dir//file name.json");
        assert_eq!(parse_s3_uri(&original.to_string()), Ok(original));
    }

    #[test]
    fn s3_uri_without_scheme_is_refused() {
        for uri in ["b/k", "https://b/k", "S3:/b/k", ""] {
            assert_eq!(
                parse_s3_uri(uri),
                Err(S3UriError::MissingScheme {
                    uri: uri.to_owned()
                })
            );
        }
    }

    #[test]
    fn s3_uri_without_bucket_is_refused() {
        for uri in ["s3://", "s3:///k"] {
            assert_eq!(
                parse_s3_uri(uri),
                Err(S3UriError::MissingBucket {
                    uri: uri.to_owned()
                })
            );
        }
    }

    #[test]
    fn s3_uri_with_invalid_bucket_is_refused() {
        assert_eq!(
            parse_s3_uri("s3://my bucket/k"),
            Err(S3UriError::InvalidBucket {
                uri: "s3://my bucket/k".to_owned(),
                bucket: "my bucket".to_owned()
            })
        );
    }

    #[test]
    fn s3_uri_without_key_is_refused() {
        for uri in ["s3://b", "s3://b/"] {
            assert_eq!(
                parse_s3_uri(uri),
                Err(S3UriError::MissingKey {
                    uri: uri.to_owned()
                })
            );
        }
    }

    #[test]
    fn s3_prefix_may_name_a_whole_bucket_or_a_prefix() {
        let prefix = |bucket: &str, prefix: &str| S3Prefix {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        };
        assert_eq!(parse_s3_prefix("s3://b"), Ok(prefix("b", "")));
        assert_eq!(parse_s3_prefix("s3://b/"), Ok(prefix("b", "")));
        assert_eq!(
            parse_s3_prefix("s3://b/AWSLogs/"),
            Ok(prefix("b", "AWSLogs/"))
        );
        assert_eq!("s3://b/x".parse::<S3Prefix>(), Ok(prefix("b", "x")));
    }

    proptest! {
        #[test]
        fn parse_s3_uri_never_panics(uri in any::<String>()) {
            let _ = parse_s3_uri(&uri);
            let _ = parse_s3_prefix(&format!("s3://{uri}"));
        }
    }
}
