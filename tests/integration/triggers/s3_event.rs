//! An S3 event notification invoking the function directly: keys URL-decoded; a failed object
//! fails the invocation, naming only it, after the others are processed.

use a4b_audit_devtools::samples::s3_event_notification;

use super::TriggerEnv;

#[tokio::test]
async fn a_failed_object_fails_the_invocation_naming_only_the_failed_objects() {
    let test = TriggerEnv::start("s3-direct").await;
    let mix = &test.mix;
    let mut keys: Vec<&str> = vec![&mix.corrupt, &mix.digest, &mix.missing];
    keys.extend(mix.good.iter().map(String::as_str));
    let (error_type, message) = test
        .invoke(s3_event_notification(&test.env.bucket, &keys))
        .await
        .expect_err("a failed object fails the invocation");
    assert_eq!(error_type, "ObjectsFailed");
    assert!(message.starts_with("2 of "), "{message}");
    for failed in [&mix.corrupt, &mix.missing] {
        assert!(
            message.contains(&format!("s3://{}/{failed}", test.env.bucket)),
            "{message}"
        );
    }
    for good in &mix.good {
        assert!(!message.contains(good.as_str()), "{message}");
    }
    test.assert_items_are_those_of_the_sns_path().await;
    test.stop().await;
}

#[tokio::test]
async fn good_objects_are_answered_with_the_summary() {
    let test = TriggerEnv::start("s3-direct-good").await;
    let keys: Vec<&str> = test.mix.good.iter().map(String::as_str).collect();
    let summary = test
        .invoke(s3_event_notification(&test.env.bucket, &keys))
        .await
        .unwrap();
    assert_eq!(summary["objects_processed"], keys.len(), "{summary}");
    test.assert_items_are_those_of_the_sns_path().await;
    test.stop().await;
}
