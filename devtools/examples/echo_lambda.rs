//! A tiny Lambda for the runtime API emulator's tests, written with `lambda_runtime` like the
//! real function. The event says what to do:
//! `{"echo": ...}` answers `{"echoed": ...}`; `{"fail": "message"}` returns an error;
//! `{"exit": code}` ends the process at once, as a crash would; `{"env": "NAME"}` answers
//! `{"value": <the variable or null>}`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        eprintln!("echo_lambda: exiting with {code} as asked");
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    if let Some(name) = payload.get("env").and_then(Value::as_str) {
        return Ok(json!({"value": std::env::var(name).ok()}));
    }
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(Box::new(Refused(message.to_owned())));
    }
    Ok(json!({
        "echoed": payload.get("echo").cloned().unwrap_or(Value::Null),
        "request_id": context.request_id,
        "function_arn": context.invoked_function_arn,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
