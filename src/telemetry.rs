//! Structured logs: JSON lines when Lambda asks for them (`AWS_LAMBDA_LOG_FORMAT=JSON`), plain text
//! otherwise. The level comes from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`, else `info`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber, writing to stderr. Safe to call more than once.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .filter(|level| !level.is_empty())
        // Lambda's levels are TRACE to FATAL; tracing has no FATAL.
        .map(|level| match level.to_lowercase().as_str() {
            "fatal" => "error".to_owned(),
            other => other.to_owned(),
        });
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    // An error means a subscriber is already installed (tests): keep that one.
    drop(result);
}
