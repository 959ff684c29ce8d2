//! The real `a4b-audit-lambda` binary behind the Lambda runtime API emulator, against moto: what a
//! deployed function does, start-up included.

use std::path::Path;
use std::time::Duration;

use a4b_audit_devtools::lambda_process::LambdaProcess;
use a4b_audit_devtools::moto::{DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, LOCAL_REGION};
use a4b_audit_devtools::runtime_api::{InvokeError, Outcome, RuntimeApi};

use crate::harness::TestEnv;

const DEADLINE: Duration = Duration::from_secs(60);

pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_a4b-audit-lambda"))
}

pub fn lambda_env<'a>(env: &'a TestEnv, table: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("TABLE_NAME", table),
        ("AWS_ENDPOINT_URL", &env.endpoint),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        ("AWS_REGION", LOCAL_REGION),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
    ]
}

fn sample_payload(env: &TestEnv, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(crate::harness::events_dir().join(file)).unwrap();
    serde_json::from_str(&text.replace(a4b_audit_devtools::samples::BUCKET, &env.bucket)).unwrap()
}

#[tokio::test]
async fn the_binary_answers_every_sample_event_and_writes_the_items() {
    let env = TestEnv::new("binary").await;
    env.put_sample_logs().await;
    let runtime = RuntimeApi::start().await.unwrap();
    let mut process =
        LambdaProcess::spawn(binary(), &runtime, &lambda_env(&env, &env.table)).unwrap();

    let invocation = runtime
        .invoke(
            sample_payload(&env, "cloudtrail-delivery-multi.json"),
            DEADLINE,
        )
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", process.output()));
    let Outcome::Response(summary) = invocation.outcome else {
        panic!(
            "expected a response: {:?}\n{}",
            invocation.outcome,
            process.output()
        );
    };
    assert_eq!(summary["objects_processed"], 2, "{summary}");
    assert_eq!(summary["objects_skipped"], 1, "{summary}");
    assert_eq!(
        summary["items_written"], summary["items_built"],
        "{summary}"
    );
    let written = summary["items_written"].as_u64().unwrap();
    assert!(written > 0);
    assert_eq!(env.event_items().await.len() as u64, written);

    for file in ["cloudtrail-validation.json", "s3-test-event.json"] {
        let invocation = runtime
            .invoke(sample_payload(&env, file), DEADLINE)
            .await
            .unwrap();
        assert!(
            matches!(invocation.outcome, Outcome::Response(_)),
            "{file}: {:?}",
            invocation.outcome
        );
    }
    assert_eq!(
        env.event_items().await.len() as u64,
        written,
        "nothing more written"
    );

    // Logs are JSON lines and never hold a whole record at info level.
    let output = process.output();
    assert!(
        output
            .lines()
            .any(|line| line.contains("\"invocation summary\"")),
        "{output}"
    );
    assert!(
        !output.contains("\"requestParameters\""),
        "a record leaked into the logs:\n{output}"
    );
    process.stop().await;
}

#[tokio::test]
async fn a_failed_object_fails_the_invocation_with_an_error_naming_it() {
    let env = TestEnv::new("binary-failure").await;
    let key = crate::harness::log_key(7);
    env.put(&key, b"not gzip, not json".to_vec()).await;
    let runtime = RuntimeApi::start().await.unwrap();
    let mut process =
        LambdaProcess::spawn(binary(), &runtime, &lambda_env(&env, &env.table)).unwrap();
    let message = crate::harness::cloudtrail_message(&env.bucket, &[&key]);
    let payload = serde_json::to_value(crate::harness::sns_event(&[&message])).unwrap();

    let invocation = runtime.invoke(payload, DEADLINE).await.unwrap();
    let Outcome::Error(error) = invocation.outcome else {
        panic!("expected an error: {:?}", invocation.outcome);
    };
    assert_eq!(error.error_type, "ObjectsFailed");
    assert!(
        error
            .error_message
            .contains(&format!("s3://{}/{key}", env.bucket)),
        "{error:?}"
    );
    assert!(
        process.exit_status().is_none(),
        "the process keeps serving after a failed object"
    );
    process.stop().await;
}

#[tokio::test]
async fn a_missing_table_name_fails_the_start_up_naming_the_variable() {
    let env = TestEnv::new("binary-no-config").await;
    let runtime = RuntimeApi::start().await.unwrap();
    let environment: Vec<(&str, &str)> = lambda_env(&env, "")
        .into_iter()
        .filter(|(name, _)| *name != "TABLE_NAME")
        .collect();
    let process = LambdaProcess::spawn(binary(), &runtime, &environment).unwrap();
    let error = runtime
        .invoke(sample_payload(&env, "cloudtrail-validation.json"), DEADLINE)
        .await
        .expect_err("no invocation can succeed");
    assert!(
        matches!(
            error,
            InvokeError::InitError(_) | InvokeError::ProcessExited { .. }
        ),
        "{error}"
    );
    let output = process.output();
    assert!(output.contains("TABLE_NAME is not set"), "{output}");
}
