//! EventBridge `Object Created`: the key as sent, and once more form-decoded when a key with `+`
//! or `%` answers NoSuchKey; a failed object fails the invocation.

use a4b_audit_devtools::samples::{eventbridge_object_created as object_created, url_encode_key};

use super::TriggerEnv;

#[tokio::test]
async fn each_object_is_processed_from_its_key_as_sent_or_form_decoded() {
    let test = TriggerEnv::start("eventbridge").await;
    let bucket = &test.env.bucket;
    let spaced = test
        .mix
        .good
        .iter()
        .find(|key| key.contains(' '))
        .expect("a sample key with a space and a `+`");
    for key in &test.mix.good {
        let summary = test.invoke(object_created(bucket, key)).await.unwrap();
        assert_eq!(summary["objects_processed"], 1, "{key}: {summary}");
    }
    // Sent form-encoded: NoSuchKey, then the decoded key is read.
    let encoded = url_encode_key(spaced);
    assert_ne!(&encoded, spaced);
    let summary = test.invoke(object_created(bucket, &encoded)).await.unwrap();
    assert_eq!(summary["objects_processed"], 1, "{summary}");
    assert_eq!(summary["objects_failed"], 0, "{summary}");

    let digest = test
        .invoke(object_created(bucket, &test.mix.digest))
        .await
        .unwrap();
    assert_eq!(digest["objects_skipped"], 1, "{digest}");
    for bad in [&test.mix.corrupt, &test.mix.missing] {
        let (error_type, message) = test
            .invoke(object_created(bucket, bad))
            .await
            .expect_err("a failed object fails the invocation");
        assert_eq!(error_type, "ObjectsFailed");
        assert!(message.contains(bad.as_str()), "{message}");
    }
    test.assert_items_are_those_of_the_sns_path().await;
    test.stop().await;
}
