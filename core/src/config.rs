//! Environment -> [`Config`], with errors that name the variable (SPEC section 5).

use std::collections::BTreeSet;

/// The event source kept when `EVENT_SOURCES` is not set.
pub const DEFAULT_EVENT_SOURCE: &str = "a4b.amazonaws.com";
/// The decompressed size cap when `MAX_OBJECT_BYTES` is not set: 1 GiB.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 1 << 30;
/// One record's cap when `MAX_RECORD_BYTES` is not set: 16 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 16 << 20;

/// The function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the audit table.
    pub table_name: String,
    /// `EVENT_SOURCES`: comma-separated `eventSource` values whose records become items.
    pub event_sources: Vec<String>,
    /// `RETENTION_DAYS`: when set, items get `expires_at` this many days after their event, and
    /// records already past it are not written.
    pub retention_days: Option<u32>,
    /// `MAX_OBJECT_BYTES`: the most bytes one object may inflate to.
    pub max_object_bytes: u64,
    /// `MAX_RECORD_BYTES`: the longest one record may be; a longer one is rejected unread.
    pub max_record_bytes: u64,
    /// `ALLOWED_BUCKETS`: when set, objects in other buckets are refused.
    pub allowed_buckets: Option<BTreeSet<String>>,
}

/// A setting is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // An empty variable counts as unset: templates often render optional parameters as "".
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let table_name = get("TABLE_NAME")
            .map(|value| value.trim().to_owned())
            .ok_or(ConfigError::Missing {
                name: "TABLE_NAME",
                hint: "set it to the name of the DynamoDB audit table",
            })?;

        let event_sources = match get("EVENT_SOURCES") {
            None => vec![DEFAULT_EVENT_SOURCE.to_owned()],
            Some(value) => {
                let sources = comma_list(&value);
                if sources.is_empty() {
                    return Err(invalid(
                        "EVENT_SOURCES",
                        &value,
                        "expected comma-separated eventSource values such as a4b.amazonaws.com",
                    ));
                }
                sources
            }
        };

        let retention_days = match get("RETENTION_DAYS") {
            None => None,
            Some(value) => match value.trim().parse::<u32>() {
                Ok(days) if (1..=36_500).contains(&days) => Some(days),
                _ => {
                    return Err(invalid(
                        "RETENTION_DAYS",
                        &value,
                        "expected a whole number of days from 1 to 36500, or unset to keep items forever",
                    ));
                }
            },
        };

        let max_object_bytes = match get("MAX_OBJECT_BYTES") {
            None => DEFAULT_MAX_OBJECT_BYTES,
            Some(value) => match value.trim().parse::<u64>() {
                Ok(bytes) if bytes > 0 => bytes,
                _ => {
                    return Err(invalid(
                        "MAX_OBJECT_BYTES",
                        &value,
                        "expected a positive number of bytes (decompressed size cap per object)",
                    ));
                }
            },
        };

        let max_record_bytes = match get("MAX_RECORD_BYTES") {
            None => DEFAULT_MAX_RECORD_BYTES,
            Some(value) => match value.trim().parse::<u64>() {
                Ok(bytes) if bytes > 0 => bytes,
                _ => {
                    return Err(invalid(
                        "MAX_RECORD_BYTES",
                        &value,
                        "expected a positive number of bytes (the longest one record may be)",
                    ));
                }
            },
        };

        let allowed_buckets = match get("ALLOWED_BUCKETS") {
            None => None,
            Some(value) => {
                let buckets: BTreeSet<String> = comma_list(&value).into_iter().collect();
                if buckets.is_empty() {
                    return Err(invalid(
                        "ALLOWED_BUCKETS",
                        &value,
                        "expected comma-separated bucket names, or unset to allow any bucket",
                    ));
                }
                Some(buckets)
            }
        };

        Ok(Config {
            table_name,
            event_sources,
            retention_days,
            max_object_bytes,
            max_record_bytes,
            allowed_buckets,
        })
    }

    /// Whether objects in `bucket` may be read.
    pub fn bucket_allowed(&self, bucket: &str) -> bool {
        self.allowed_buckets
            .as_ref()
            .is_none_or(|allowed| allowed.contains(bucket))
    }
}

fn comma_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn table_name_is_required_and_named_in_the_error() {
        let error = config(&[]).unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Missing {
                name: "TABLE_NAME",
                ..
            }
        ));
        assert!(error.to_string().starts_with("TABLE_NAME is not set"));
        assert!(config(&[("TABLE_NAME", "  ")]).is_err());
    }

    #[test]
    fn defaults_follow_the_spec() {
        let config = config(&[("TABLE_NAME", "audit")]).unwrap();
        assert_eq!(config.table_name, "audit");
        assert_eq!(config.event_sources, vec!["a4b.amazonaws.com"]);
        assert_eq!(config.retention_days, None);
        assert_eq!(config.max_object_bytes, 1024 * 1024 * 1024);
        assert_eq!(config.max_record_bytes, 16 * 1024 * 1024);
        assert_eq!(config.allowed_buckets, None);
        assert!(config.bucket_allowed("any-bucket"));
    }

    #[test]
    fn lists_are_comma_separated_and_trimmed() {
        let config = config(&[
            ("TABLE_NAME", "audit"),
            ("EVENT_SOURCES", "a4b.amazonaws.com, s3.amazonaws.com ,"),
            ("ALLOWED_BUCKETS", "trail-a,trail-b"),
        ])
        .unwrap();
        assert_eq!(
            config.event_sources,
            vec!["a4b.amazonaws.com", "s3.amazonaws.com"]
        );
        assert!(config.bucket_allowed("trail-b"));
        assert!(!config.bucket_allowed("elsewhere"));
    }

    #[test]
    fn numbers_are_parsed_and_checked() {
        let config = config(&[
            ("TABLE_NAME", "audit"),
            ("RETENTION_DAYS", "365"),
            ("MAX_OBJECT_BYTES", "1000"),
            ("MAX_RECORD_BYTES", "100"),
        ])
        .unwrap();
        assert_eq!(config.retention_days, Some(365));
        assert_eq!(config.max_object_bytes, 1000);
        assert_eq!(config.max_record_bytes, 100);
    }

    #[test]
    fn invalid_settings_name_the_variable() {
        for (name, value) in [
            ("RETENTION_DAYS", "forever"),
            ("RETENTION_DAYS", "0"),
            ("RETENTION_DAYS", "-3"),
            ("MAX_OBJECT_BYTES", "1GiB"),
            ("MAX_OBJECT_BYTES", "0"),
            ("MAX_RECORD_BYTES", "16MiB"),
            ("MAX_RECORD_BYTES", "0"),
            ("EVENT_SOURCES", ","),
            ("ALLOWED_BUCKETS", " , "),
        ] {
            let error = config(&[("TABLE_NAME", "audit"), (name, value)]).unwrap_err();
            assert!(
                error.to_string().starts_with(&format!("{name}=")),
                "{name}={value}: {error}"
            );
        }
    }
}
