//! Finding log files in a real (emulated) bucket: accounts, organization trails, regions, days.

use a4b_audit::cli::{DiscoveryFilter, S3Listing, discover_log_files};

use super::{ACCOUNT, OTHER_ACCOUNT, TestEnv, log_key};

const ORGANIZATION: &str = "o-abc123def4";

async fn tree(env: &TestEnv) {
    let keys = [
        log_key(None, ACCOUNT, "us-east-1", "20230430", "a"),
        log_key(None, ACCOUNT, "us-east-1", "20230501", "b"),
        log_key(None, ACCOUNT, "eu-west-1", "20230502", "c"),
        log_key(None, ACCOUNT, "us-east-1", "20230601", "d"),
        log_key(
            Some(ORGANIZATION),
            OTHER_ACCOUNT,
            "us-east-1",
            "20230501",
            "e",
        ),
        format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2023/05/01/{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20230501T120000Z.json.gz"
        ),
    ];
    for key in keys {
        env.put_object(&key, b"{}".to_vec()).await;
    }
}

fn listing(env: &TestEnv) -> S3Listing {
    S3Listing {
        client: a4b_audit::aws::s3_client(&env.sdk_config),
        bucket: env.bucket.clone(),
        region: "us-east-1".into(),
    }
}

fn ids(keys: &[a4b_audit::cli::DiscoveredObject]) -> Vec<String> {
    keys.iter()
        .map(|object| {
            object
                .key
                .rsplit('_')
                .next()
                .unwrap()
                .trim_end_matches(".json.gz")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn every_account_region_and_organization_trail_is_found() {
    let env = TestEnv::new().await;
    tree(&env).await;
    let discovery = discover_log_files(&listing(&env), "", &DiscoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(ids(&discovery.log_files), ["c", "a", "b", "d", "e"]);
    assert!(discovery.log_files.iter().all(|object| object.size == 2));
}

#[tokio::test]
async fn from_and_to_select_the_delivery_days() {
    let env = TestEnv::new().await;
    tree(&env).await;
    let filter = DiscoveryFilter {
        from: Some("2023-05-01".parse().unwrap()),
        to: Some("2023-05-02".parse().unwrap()),
        ..DiscoveryFilter::default()
    };
    let discovery = discover_log_files(&listing(&env), "", &filter)
        .await
        .unwrap();
    assert_eq!(ids(&discovery.log_files), ["c", "b", "e"]);
}

#[tokio::test]
async fn a_missing_bucket_is_named() {
    let env = TestEnv::new().await;
    let mut listing = listing(&env);
    listing.bucket = "no-such-bucket-a4b".into();
    let error = discover_log_files(&listing, "", &DiscoveryFilter::default())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("bucket no-such-bucket-a4b does not exist"),
        "{error}"
    );
}
