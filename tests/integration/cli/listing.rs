//! Finding log files in a real (emulated) bucket: accounts, organization trails, regions, days.

use a4b_audit::cli::{DiscoveryFilter, S3Listing, discover_log_files};

use crate::harness::{ACCOUNT, TestEnv, cloudtrail_key};

use super::OTHER_ACCOUNT;

const ORGANIZATION: &str = "o-abc123def4";

async fn tree(env: &TestEnv) {
    let keys = [
        cloudtrail_key(None, ACCOUNT, "us-east-1", "20230430", "a"),
        cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", "b"),
        cloudtrail_key(None, ACCOUNT, "eu-west-1", "20230502", "c"),
        cloudtrail_key(None, ACCOUNT, "us-east-1", "20230601", "d"),
        cloudtrail_key(
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
        env.put(&key, b"{}".to_vec()).await;
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
    let env = TestEnv::new("cli-every_account_region_and_organization_trail_is_found").await;
    tree(&env).await;
    let discovery = discover_log_files(&listing(&env), "", &DiscoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(ids(&discovery.log_files), ["c", "a", "b", "d", "e"]);
    assert!(discovery.log_files.iter().all(|object| object.size == 2));
}

#[tokio::test]
async fn from_and_to_select_the_delivery_days() {
    let env = TestEnv::new("cli-from_and_to_select_the_delivery_days").await;
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
    let env = TestEnv::new("cli-a_missing_bucket_is_named").await;
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

#[tokio::test]
async fn without_a_prefix_the_trail_prefixes_at_any_depth_are_found() {
    let env = TestEnv::new("cli-without_a_prefix_the_trail_prefixes_at_any_depth").await;
    tree(&env).await;
    let nested = format!(
        "teams/blue/{}",
        cloudtrail_key(None, ACCOUNT, "us-west-2", "20230501", "f")
    );
    env.put(&nested, b"{}".to_vec()).await;
    let discovery = discover_log_files(&listing(&env), "", &DiscoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(discovery.trail_prefixes, ["", "teams/blue/"]);
    assert_eq!(ids(&discovery.log_files), ["c", "a", "b", "d", "e", "f"]);
}

#[tokio::test]
async fn log_files_in_glacier_or_deep_archive_are_listed_apart() {
    let env = TestEnv::new("cli-log_files_in_glacier_or_deep_archive_are_listed_apart").await;
    tree(&env).await;
    for (id, class) in [
        ("g", aws_sdk_s3::types::StorageClass::Glacier),
        ("h", aws_sdk_s3::types::StorageClass::DeepArchive),
        ("i", aws_sdk_s3::types::StorageClass::GlacierIr),
    ] {
        env.put_in_class(
            &cloudtrail_key(None, ACCOUNT, "us-east-1", "20230501", id),
            b"{}".to_vec(),
            class,
        )
        .await;
    }
    let discovery = discover_log_files(&listing(&env), "", &DiscoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(ids(&discovery.archived), ["g", "h"]);
    assert_eq!(ids(&discovery.log_files), ["c", "a", "b", "i", "d", "e"]);
}

#[tokio::test]
async fn a_day_with_more_log_files_than_one_listing_page_is_listed_whole() {
    let env =
        TestEnv::new("cli-a_day_with_more_log_files_than_one_listing_page_is_listed_whole").await;
    // ListObjectsV2 returns at most 1,000 keys a page: the listing must follow the next pages.
    let count = 1_001;
    for index in 0..count {
        let key = cloudtrail_key(
            None,
            ACCOUNT,
            "us-east-1",
            "20230501",
            &format!("k{index:04}"),
        );
        env.put(&key, b"{}".to_vec()).await;
    }
    let discovery = discover_log_files(&listing(&env), "", &DiscoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(discovery.log_files.len(), count);
}
