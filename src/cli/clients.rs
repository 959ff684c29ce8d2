//! The AWS side of a command: SDK configuration, clients and the table settings.

use aws_config::SdkConfig;

use super::args::TableArgs;
use super::error::CliError;
use crate::config::{Config, ConfigError};

/// The SDK configuration, refusing early when no region is set (every request would fail).
pub async fn sdk_config() -> Result<SdkConfig, CliError> {
    let sdk_config = crate::aws::load_sdk_config().await;
    if sdk_config.region().is_none() {
        return Err(CliError::Config(ConfigError::Missing {
            name: "AWS_REGION",
            hint: "set it (or a region in your AWS profile) to the region of the table and bucket",
        }));
    }
    Ok(sdk_config)
}

/// The region, for messages.
pub fn region_name(sdk_config: &SdkConfig) -> String {
    sdk_config
        .region()
        .map_or_else(|| "(none)".to_owned(), ToString::to_string)
}

/// The table name from `--table` or `TABLE_NAME`.
pub fn table_name(table: &TableArgs) -> Result<String, CliError> {
    table
        .table
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .ok_or(CliError::Config(ConfigError::Missing {
            name: "TABLE_NAME",
            hint: "give the audit table with --table NAME or the TABLE_NAME environment variable",
        }))
}

/// The pipeline's settings: the table from the command line, `EVENT_SOURCES`, `RETENTION_DAYS`,
/// `MAX_OBJECT_BYTES` and `MAX_RECORD_BYTES` from the environment as for the Lambda. `ALLOWED_BUCKETS` is the Lambda's
/// guard against foreign notifications; an operator names the buckets on the command line.
pub fn pipeline_config(table_name: &str) -> Result<Config, CliError> {
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table_name.to_owned()),
        "ALLOWED_BUCKETS" => None,
        _ => std::env::var(name).ok(),
    })?;
    Ok(config)
}

/// Fails with "table X not found in region Y" before any work when the table does not exist.
/// A role that may not describe tables goes on: the writes will tell.
pub async fn check_table(
    client: &aws_sdk_dynamodb::Client,
    table_name: &str,
    region: &str,
) -> Result<(), CliError> {
    match client.describe_table().table_name(table_name).send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Err(CliError::Aws(format!(
                "table {table_name} not found in region {region} (check --table/TABLE_NAME and AWS_REGION)"
            )))
        }
        Err(error) => {
            let resource = format!("table {table_name}");
            let target = super::error::AwsTarget {
                resource: &resource,
                region,
            };
            match super::error::aws_error("describe the table", &target, &error) {
                // Only a missing permission to describe is no reason to stop.
                CliError::Aws(message) if message.starts_with("access denied") => {
                    tracing::debug!(%message, "cannot describe the table; going on");
                    Ok(())
                }
                other => Err(other),
            }
        }
    }
}
