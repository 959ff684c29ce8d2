//! S3 Batch Operations: one result per task, echoing the invocation; `Succeeded` for processed and
//! skipped files, `PermanentFailure` for what a retry cannot fix, `TemporaryFailure` for what it may.

use a4b_audit_devtools::samples::{BatchSchema, s3_batch_event};
use serde_json::Value;

use super::TriggerEnv;

fn schema_2(bucket: &str, keys: &[&str]) -> Value {
    s3_batch_event(BatchSchema::V2, bucket, keys)
}

fn schema_1(bucket: &str, key: &str) -> Value {
    s3_batch_event(BatchSchema::V1, bucket, &[key])
}

fn codes(response: &Value) -> Vec<(String, String)> {
    response["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| {
            (
                result["taskId"].as_str().unwrap().to_owned(),
                result["resultCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_task_gets_the_result_code_its_object_deserves() {
    let test = TriggerEnv::start("s3-batch").await;
    let mix = &test.mix;
    let mut keys: Vec<&str> = vec![&mix.corrupt, &mix.digest, &mix.missing];
    keys.extend(mix.good.iter().map(String::as_str));
    let response = test
        .invoke(schema_2(&test.env.bucket, &keys))
        .await
        .unwrap();
    assert_eq!(response["invocationSchemaVersion"], "2.0");
    assert_eq!(
        response["invocationId"],
        "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo"
    );
    assert_eq!(response["treatMissingKeysAs"], "PermanentFailure");
    let mut expected = vec![
        ("task-0".to_owned(), "PermanentFailure".to_owned()),
        ("task-1".to_owned(), "Succeeded".to_owned()),
        ("task-2".to_owned(), "PermanentFailure".to_owned()),
    ];
    expected.extend((3..keys.len()).map(|index| (format!("task-{index}"), "Succeeded".to_owned())));
    assert_eq!(codes(&response), expected, "{response}");
    let result_string = |index: usize| response["results"][index]["resultString"].as_str().unwrap();
    assert_eq!(result_string(1), "skipped: digest file");
    assert!(result_string(2).contains("NoSuchKey"), "{response}");
    assert!(result_string(3).starts_with("processed: "), "{response}");

    // Schema 1.0, one task per invocation as S3 sends them.
    for key in &mix.good {
        let response = test.invoke(schema_1(&test.env.bucket, key)).await.unwrap();
        assert_eq!(response["invocationSchemaVersion"], "1.0");
        assert_eq!(
            codes(&response),
            [("task-0".to_owned(), "Succeeded".to_owned())]
        );
    }
    test.assert_items_are_those_of_the_sns_path().await;
    test.stop().await;
}

#[tokio::test]
async fn a_task_stopped_by_the_deadline_is_a_temporary_failure() {
    let test = TriggerEnv::start("s3-batch-deadline").await;
    let response = test
        .invoke_too_close_to_the_deadline(schema_1(&test.env.bucket, &test.mix.good[0]))
        .await
        .unwrap();
    assert_eq!(
        codes(&response),
        [("task-0".to_owned(), "TemporaryFailure".to_owned())]
    );
    assert!(
        response["results"][0]["resultString"]
            .as_str()
            .unwrap()
            .contains("deadline"),
        "{response}"
    );
    test.stop().await;
}
