//! The runtime API emulator against a real `lambda_runtime` function (examples/echo_lambda.rs).

use std::time::Duration;

use a4b_audit_devtools::runtime_api::{InvokeError, Outcome};
use a4b_audit_devtools::{LambdaProcess, RuntimeApi};
use serde_json::json;

mod common;
use common::echo_lambda;

const DEADLINE: Duration = Duration::from_secs(20);

async fn start_echo() -> (RuntimeApi, LambdaProcess) {
    let runtime_api = RuntimeApi::start().await.unwrap();
    let process = LambdaProcess::spawn(&echo_lambda(), &runtime_api, &[]).unwrap();
    (runtime_api, process)
}

#[tokio::test]
async fn two_invocations_get_their_own_responses() {
    let (runtime_api, process) = start_echo().await;

    let first = runtime_api.invoke(json!({"echo": "one"}), DEADLINE).await;
    let second = runtime_api
        .invoke(json!({"echo": ["two", 2]}), DEADLINE)
        .await;

    let (first, second) = match (first, second) {
        (Ok(first), Ok(second)) => (first, second),
        other => panic!("{other:?}\nfunction output:\n{}", process.output()),
    };
    let Outcome::Response(first_body) = &first.outcome else {
        panic!("{first:?}")
    };
    let Outcome::Response(second_body) = &second.outcome else {
        panic!("{second:?}")
    };
    assert_eq!(first_body["echoed"], json!("one"));
    assert_eq!(second_body["echoed"], json!(["two", 2]));
    // The headers reached the function's context.
    assert_eq!(first_body["request_id"], json!(first.request_id));
    assert_ne!(first.request_id, second.request_id);
    assert!(
        first_body["function_arn"]
            .as_str()
            .unwrap()
            .ends_with(":function:echo_lambda")
    );
    assert!(
        process.exit_status().is_none(),
        "the function keeps running"
    );
}

#[tokio::test]
async fn a_handler_error_comes_back_as_error_type_and_message() {
    let (runtime_api, process) = start_echo().await;

    let invocation = runtime_api
        .invoke(json!({"fail": "room not found"}), DEADLINE)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));

    let Outcome::Error(error) = invocation.outcome else {
        panic!("expected an error, got {invocation:?}")
    };
    assert_eq!(error.error_message, "room not found");
    assert!(!error.error_type.is_empty());
    // And the function still serves the next one.
    let next = runtime_api
        .invoke(json!({"echo": 3}), DEADLINE)
        .await
        .unwrap();
    assert!(matches!(next.outcome, Outcome::Response(_)));
}

#[tokio::test]
async fn a_crash_fails_the_invocation_and_shows_in_exit_status() {
    let (runtime_api, mut process) = start_echo().await;

    let result = runtime_api.invoke(json!({"exit": 3}), DEADLINE).await;

    assert!(
        matches!(result, Err(InvokeError::ProcessExited { .. })),
        "{result:?}"
    );
    let status = process.wait_exit(DEADLINE).await.unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(process.output().contains("exiting with 3"));
    // Later invocations fail at once rather than wait for the deadline.
    let later = runtime_api.invoke(json!({"echo": 1}), DEADLINE).await;
    assert!(
        matches!(later, Err(InvokeError::ProcessExited { .. })),
        "{later:?}"
    );
}

#[tokio::test]
async fn an_unanswered_invocation_times_out() {
    // No process at all: nobody takes the event.
    let runtime_api = RuntimeApi::start().await.unwrap();

    let result = runtime_api
        .invoke(json!({"echo": 1}), Duration::from_millis(200))
        .await;

    assert!(
        matches!(result, Err(InvokeError::Timeout { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_cold_start_is_measured_from_spawn_to_the_first_poll() {
    let (runtime_api, _process) = start_echo().await;

    let invocation = runtime_api
        .invoke(json!({"echo": 1}), DEADLINE)
        .await
        .unwrap();

    let cold_start = invocation
        .cold_start
        .expect("a spawned process has a cold start");
    assert!(cold_start <= invocation.duration + Duration::from_secs(1));
    assert_eq!(runtime_api.cold_start(), Some(cold_start));
}

#[tokio::test]
async fn dropping_the_process_kills_it() {
    let (runtime_api, process) = start_echo().await;
    runtime_api
        .invoke(json!({"echo": 1}), DEADLINE)
        .await
        .unwrap();

    let pid = process.pid().expect("a spawned process has a pid");
    drop(process);
    // The kill is sent by the process's watcher task, which runs once this task waits: an invoke
    // queued at once could still reach the process before it (seen on a loaded machine). Wait
    // until the process is reaped, as a caller of drop would find it.
    let reaped = async {
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), reaped)
        .await
        .expect("the process is gone within 10 s of its drop");

    let result = runtime_api.invoke(json!({"echo": 2}), DEADLINE).await;
    assert!(
        matches!(result, Err(InvokeError::ProcessExited { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_function_gets_the_lambda_environment_and_nothing_of_the_callers_shell() {
    let runtime_api = RuntimeApi::start().await.unwrap();
    let process =
        LambdaProcess::spawn(&echo_lambda(), &runtime_api, &[("TABLE_NAME", "audit")]).unwrap();
    let mut seen = Vec::new();
    for name in [
        "TABLE_NAME",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "HOME",
    ] {
        let invocation = runtime_api
            .invoke(json!({"env": name}), DEADLINE)
            .await
            .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));
        let Outcome::Response(body) = invocation.outcome else {
            panic!("{name}: {invocation:?}")
        };
        seen.push((name, body["value"].clone()));
    }
    assert_eq!(
        seen,
        [
            ("TABLE_NAME", json!("audit")),
            ("AWS_LAMBDA_FUNCTION_NAME", json!("echo_lambda")),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", json!("256")),
            ("AWS_LAMBDA_RUNTIME_API", json!(runtime_api.address())),
            ("AWS_REGION", json!("us-east-1")),
            // HOME would let the SDK read the developer's ~/.aws.
            ("HOME", json!(null)),
        ]
    );
}

#[tokio::test]
async fn an_init_error_fails_invocations_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime_api = RuntimeApi::start().await.unwrap();
    let body = r#"{"errorType":"ConfigError","errorMessage":"TABLE_NAME is not set"}"#;
    let mut stream = tokio::net::TcpStream::connect(runtime_api.address())
        .await
        .unwrap();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");

    let result = runtime_api.invoke(json!({}), DEADLINE).await;

    let Err(InvokeError::InitError(error)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(error.error_type, "ConfigError");
    assert_eq!(error.error_message, "TABLE_NAME is not set");
}
