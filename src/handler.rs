//! The Lambda side of an invocation: SNS event in, summary or error out.

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

use crate::ledger::FileLedger;
use crate::metrics;
use crate::pipeline::{Pipeline, SnsMessage};
use crate::sink::ItemSink;
use crate::source::ObjectSource;
use crate::summary::InvocationSummary;

/// Some objects failed: the invocation fails so that Lambda retries it and, in the end, keeps the
/// notification in the on-failure destination.
#[derive(Debug, thiserror::Error)]
#[error("{} of {} object(s) failed: {}", .summary.objects_failed, .summary.objects_processed + .summary.objects_failed, failures(.summary))]
pub struct InvocationFailed {
    pub summary: InvocationSummary,
}

fn failures(summary: &InvocationSummary) -> String {
    summary
        .failed
        .iter()
        .map(|note| format!("{}: {}", note.object, note.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Handles one SNS event.
pub async fn handle<S: ObjectSource, K: ItemSink, L: FileLedger>(
    pipeline: &Pipeline<S, K, L>,
    event: LambdaEvent<SnsEvent>,
) -> Result<InvocationSummary, InvocationFailed> {
    let deadline = remaining_time(&event.context).map(|remaining| Instant::now() + remaining);
    let messages: Vec<SnsMessage> = event
        .payload
        .records
        .into_iter()
        .map(|record| SnsMessage {
            message_id: record.sns.message_id,
            text: record.sns.message,
        })
        .collect();
    let summary = pipeline.run(&messages, deadline).await;
    emit_metrics(&summary, &event.context.env_config.function_name);
    if summary.objects_failed > 0 {
        Err(InvocationFailed { summary })
    } else {
        Ok(summary)
    }
}

/// Writes the invocation's figures to stdout as one CloudWatch EMF line (see [`metrics`]).
fn emit_metrics(summary: &InvocationSummary, function_name: &str) {
    use std::io::Write;
    let timestamp_ms = jiff::Timestamp::now().as_millisecond();
    let line = metrics::emf_line(summary, function_name, timestamp_ms);
    // Not `println!`: it panics when stdout is gone, and a lost metric must not kill the process.
    if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
        tracing::warn!(error = %error, "could not write the metrics line to stdout");
    }
}

/// The time left before Lambda's deadline, from the context (epoch milliseconds).
fn remaining_time(context: &lambda_runtime::Context) -> Option<std::time::Duration> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let deadline = std::time::Duration::from_millis(context.deadline);
    // A deadline of 0 means none was given (local runners): no deadline then.
    (context.deadline > 0).then(|| deadline.saturating_sub(now))
}

impl From<InvocationFailed> for lambda_runtime::Diagnostic {
    fn from(failure: InvocationFailed) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "ObjectsFailed".to_owned(),
            error_message: failure.to_string(),
        }
    }
}
