//! The Lambda side of an invocation: any trigger's payload in, the response it expects or an error
//! out (see [`crate::trigger`]).

use std::sync::atomic::{AtomicBool, Ordering};

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tokio::time::Instant;

use crate::ledger::FileLedger;
use crate::metrics;
use crate::notification::ObjectRef;
use crate::object::Pipeline;
use crate::sink::ItemSink;
use crate::source::ObjectSource;
use crate::summary::InvocationSummary;
use crate::trigger::{self, InvocationError, Response, Trigger};

/// Handles one event of any trigger: recognises it, processes the objects it names and answers as
/// that trigger expects.
pub async fn handle<S: ObjectSource<Location = ObjectRef>, K: ItemSink, L: FileLedger>(
    pipeline: &Pipeline<S, K, L>,
    event: LambdaEvent<Value>,
) -> Result<Response, InvocationError> {
    let remaining = remaining_time(&event.context);
    tracing::debug!(
        remaining_ms = remaining.map(|left| left.as_millis() as u64),
        "invocation deadline"
    );
    let deadline = remaining.map(|remaining| Instant::now() + remaining);
    let trigger = Trigger::recognise(event.payload).inspect_err(|error| {
        tracing::error!(error = %error, "payload not recognised");
    })?;
    let invocation = pipeline.invoke(trigger.deliveries(), deadline).await;
    emit_metrics(&invocation.summary, &event.context.env_config.function_name);
    trigger::respond(&trigger, invocation)
}

/// Whether [`handle`] prints its EMF line: always in the function. Tests that run the handler in
/// their own process turn it off ([`print_metric_lines`]) so the lines do not fill their output.
static METRIC_LINES: AtomicBool = AtomicBool::new(true);

/// Turns the EMF line of each invocation on or off, for this whole process.
pub fn print_metric_lines(on: bool) {
    METRIC_LINES.store(on, Ordering::Relaxed);
}

/// Writes the invocation's figures to stdout as one CloudWatch EMF line (see [`metrics`]).
fn emit_metrics(summary: &InvocationSummary, function_name: &str) {
    use std::io::Write;
    if !METRIC_LINES.load(Ordering::Relaxed) {
        return;
    }
    let timestamp_ms = jiff::Timestamp::now().as_millisecond();
    let log_level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let level = metrics::emf_level(log_level.as_deref());
    let line = metrics::emf_line(summary, function_name, timestamp_ms, level);
    // Not `println!`: it panics when stdout is gone, and a lost metric must not kill the process.
    if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
        tracing::warn!(error = %error, "could not write the metrics line to stdout");
    }
}

/// The time left before Lambda's deadline, from the context (epoch milliseconds).
///
/// Lambda always starts an invocation with its deadline ahead. A deadline that is missing (0) or
/// already past at the start comes from a local runner that does not keep one (`cargo lambda watch`
/// sends such values): the invocation then runs without a deadline instead of failing every object.
fn remaining_time(context: &lambda_runtime::Context) -> Option<std::time::Duration> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let deadline = std::time::Duration::from_millis(context.deadline);
    let remaining = deadline.checked_sub(now).filter(|left| !left.is_zero());
    if remaining.is_none() {
        tracing::warn!(
            deadline_ms = context.deadline,
            "the invocation's deadline is not in the future: running without one"
        );
    }
    remaining
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(failure: InvocationError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: failure.error_type().to_owned(),
            error_message: failure.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with_deadline(deadline_ms: u64) -> lambda_runtime::Context {
        let mut context = lambda_runtime::Context::default();
        context.deadline = deadline_ms;
        context
    }

    fn now_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|now| now.as_millis() as u64)
            .unwrap_or_default()
    }

    #[test]
    fn a_deadline_ahead_gives_the_time_left() {
        let remaining = remaining_time(&context_with_deadline(now_ms() + 60_000)).unwrap();
        assert!(
            remaining > std::time::Duration::from_secs(50)
                && remaining <= std::time::Duration::from_secs(60)
        );
    }

    #[test]
    fn a_missing_or_past_deadline_means_no_deadline() {
        assert_eq!(remaining_time(&context_with_deadline(0)), None);
        // cargo lambda watch sends the timeout itself (600000) rather than an epoch time.
        assert_eq!(remaining_time(&context_with_deadline(600_000)), None);
        assert_eq!(
            remaining_time(&context_with_deadline(now_ms() - 1_000)),
            None
        );
    }
}
