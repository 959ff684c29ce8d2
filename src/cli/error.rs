//! Errors of the CLI, split by exit code: the user's input (2) or what happened (1).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::aws_errors::{self, Cause};

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line names something that cannot work (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A setting is missing or invalid (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// AWS refused or failed a request (exit code 1).
    #[error("{0}")]
    Aws(String),
    /// The bucket has no CloudTrail log files where they were looked for (exit code 1).
    #[error(
        "no CloudTrail log files under {location}: expected {location}AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ (give the trail's S3 key prefix, the folder above AWSLogs/, and check --from/--to/--account/--region)"
    )]
    NoLogFiles { location: String },
    /// Printing failed (exit code 1; 141 when the reader closed the output, see
    /// [`CliError::is_output_closed`]).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The backfill journal cannot be read or written (exit code 1).
    #[error(transparent)]
    Journal(#[from] crate::ledger::JournalError),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            _ if self.is_output_closed() => super::OUTPUT_CLOSED_STATUS,
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::Aws(_)
            | CliError::NoLogFiles { .. }
            | CliError::Output(_)
            | CliError::Journal(_) => 1,
        }
    }

    /// Whether this is stdout or stderr closed by its reader (`| head`): no failure to report,
    /// the command just stops.
    pub fn is_output_closed(&self) -> bool {
        matches!(self, CliError::Output(error) if error.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Where a request went, for error messages.
#[derive(Debug, Clone)]
pub struct AwsTarget<'a> {
    /// `table a4b-audit` or `bucket my-trail`.
    pub resource: &'a str,
    pub region: &'a str,
}

/// A failed AWS request as a message that says what to do.
/// Sorted by the classifier every AWS call shares ([`crate::aws_errors`]).
pub fn aws_error<E>(
    action: &str,
    target: &AwsTarget<'_>,
    error: &SdkError<E, HttpResponse>,
) -> CliError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let AwsTarget { resource, region } = target;
    let details = error_chain(error);
    let failure = aws_errors::classify(error);
    let message = match failure.code() {
        Some("ResourceNotFoundException") => {
            format!("{resource} not found in region {region} (check the name and AWS_REGION)")
        }
        Some("NoSuchBucket") => format!("{resource} does not exist"),
        Some("AccessDenied" | "AccessDeniedException") => format!(
            "access denied to {resource} in region {region} while trying to {action}: the credentials in use need that permission ({details})"
        ),
        Some(
            "UnrecognizedClientException"
            | "InvalidAccessKeyId"
            | "ExpiredToken"
            | "ExpiredTokenException",
        ) => {
            format!("the AWS credentials are invalid or expired: {details}")
        }
        _ if failure.cause == Cause::NoCredentials => {
            tracing::info!(error = %details, "credential chain");
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (-v shows what was tried)".to_owned()
        }
        _ => format!("cannot {action} ({resource}, region {region}): {details}"),
    };
    CliError::Aws(message)
}

/// An error and its causes on one line: `dispatch failure: io error: … Connection refused`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some layers repeat their cause in their own message.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_configuration_errors_exit_with_2_the_others_with_1() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        let config = ConfigError::Missing {
            name: "TABLE_NAME",
            hint: "h",
        };
        assert_eq!(CliError::Config(config).exit_code(), 2);
        assert_eq!(CliError::Aws("x".into()).exit_code(), 1);
        let no_files = CliError::NoLogFiles {
            location: "s3://b/".into(),
        };
        assert_eq!(no_files.exit_code(), 1);
        assert!(no_files.to_string().contains("s3://b/AWSLogs/<account>"));
    }

    #[test]
    fn a_closed_output_exits_with_141_and_other_output_errors_with_1() {
        let closed = CliError::Output(std::io::ErrorKind::BrokenPipe.into());
        assert!(closed.is_output_closed());
        assert_eq!(closed.exit_code(), 141);
        let full = CliError::Output(std::io::ErrorKind::StorageFull.into());
        assert!(!full.is_output_closed());
        assert_eq!(full.exit_code(), 1);
    }
}
