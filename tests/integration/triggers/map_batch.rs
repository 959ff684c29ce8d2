//! A Step Functions Distributed Map batch: every file listed with its outcome; a permanent failure
//! is listed and the batch succeeds; a transient one fails the batch so that the map retries it.

use a4b_audit_devtools::samples::map_batch as batch;
use serde_json::{Value, json};

use super::TriggerEnv;

#[tokio::test]
async fn a_batch_lists_each_file_with_its_outcome_and_writes_the_items_of_the_sns_path() {
    let test = TriggerEnv::start("map-batch").await;
    let mix = &test.mix;
    // Raw keys: the sample key with a space and a `+` goes as it is stored.
    let mut keys: Vec<&str> = vec![&mix.corrupt, &mix.digest, &mix.missing];
    keys.extend(mix.good.iter().map(String::as_str));
    let response = test
        .invoke(batch(&test.env.bucket, &keys))
        .await
        .expect("permanent failures do not fail the batch");

    let files = response["files"].as_array().expect("files");
    assert_eq!(files.len(), keys.len(), "{response}");
    let outcome = |index: usize| {
        let file = &files[index];
        assert_eq!(file["key"], keys[index], "{response}");
        (
            file["outcome"].as_str().unwrap().to_owned(),
            file["transient"].as_bool().unwrap(),
            file["reason"].clone(),
        )
    };
    let (corrupt, transient, reason) = outcome(0);
    assert_eq!((corrupt.as_str(), transient), ("failed", false));
    assert!(reason.as_str().unwrap().contains("JSON"), "{reason}");
    assert_eq!(
        outcome(1),
        ("skipped".to_owned(), false, json!("digest file"))
    );
    let (missing, transient, reason) = outcome(2);
    assert_eq!((missing.as_str(), transient), ("failed", false));
    assert!(reason.as_str().unwrap().contains("NoSuchKey"), "{reason}");
    for index in 3..keys.len() {
        assert_eq!(outcome(index), ("processed".to_owned(), false, Value::Null));
    }
    assert_eq!(response["summary"]["objects_failed"], 2, "{response}");
    assert_eq!(
        response["summary"]["objects_processed"],
        mix.good.len(),
        "{response}"
    );

    test.assert_items_are_those_of_the_sns_path().await;
    test.stop().await;
}

#[tokio::test]
async fn a_transient_failure_fails_the_batch_naming_the_file() {
    let test = TriggerEnv::start("map-batch-transient").await;
    let key = test.mix.good[0].clone();
    let (error_type, message) = test
        .invoke_too_close_to_the_deadline(batch(&test.env.bucket, &[&key]))
        .await
        .expect_err("a batch with a transient failure fails");
    assert_eq!(error_type, "TransientObjectFailure");
    assert!(message.contains(&key), "{message}");
    assert!(message.contains("deadline"), "{message}");
    assert!(test.env.event_items().await.is_empty());
    test.stop().await;
}
