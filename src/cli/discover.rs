//! Finding the log files of a bucket for `backfill`: the trail prefixes (every folder holding an
//! `AWSLogs/` folder, at any depth below the given prefix), accounts and regions by listing folders,
//! then only the day folders between `--from` and `--to`, never the whole bucket.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use futures::stream::{self, StreamExt, TryStreamExt};
use jiff::civil::Date;

use super::error::{AwsTarget, CliError, aws_error};
use crate::cli::trail_location::TrailLogLocation;
use crate::log_key::{self, is_account_id};

/// Day folders listed at once.
const DAY_LISTINGS_IN_FLIGHT: usize = 16;

/// How many folders deep below the given prefix the search for `AWSLogs/` folders goes. CloudTrail
/// key prefixes are short paths; the bound keeps a bucket that also holds deep unrelated trees from
/// costing a listing per folder of them.
const TRAIL_PREFIX_DEPTH: usize = 8;

/// The storage classes whose objects GetObject refuses (`InvalidObjectState`) until restored.
const ARCHIVE_STORAGE_CLASSES: [&str; 2] = ["GLACIER", "DEEP_ARCHIVE"];

/// An object found by listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredObject {
    pub key: String,
    /// Stored bytes.
    pub size: u64,
    /// The listing's storage class (`None`: S3 left it out, which means STANDARD).
    pub storage_class: Option<String>,
}

impl DiscoveredObject {
    /// Whether GetObject refuses it until it is restored (GLACIER, DEEP_ARCHIVE).
    pub fn is_archived(&self) -> bool {
        self.storage_class
            .as_deref()
            .is_some_and(|class| ARCHIVE_STORAGE_CLASSES.contains(&class))
    }
}

/// The listing a discovery needs (S3's `ListObjectsV2`).
pub trait BucketListing: Send + Sync {
    /// The full prefixes of the folders right below `prefix` (which ends in `/`).
    fn folders(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, CliError>> + Send;
    /// Every object below `prefix`.
    fn objects(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<DiscoveredObject>, CliError>> + Send;
}

/// Which log files a backfill wants.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryFilter {
    /// First and last delivery day (UTC), inclusive.
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Empty: all.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// What a discovery found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The trail prefixes found (each the folder above an `AWSLogs/` folder: empty or ending in
    /// `/`), in key order.
    pub trail_prefixes: Vec<String>,
    /// Log files that can be read, by trail prefix, location, day and key.
    pub log_files: Vec<DiscoveredObject>,
    /// Log files in an archive storage class (GLACIER, DEEP_ARCHIVE): GetObject refuses them
    /// (`InvalidObjectState`) until they are restored, so they are left out and reported.
    pub archived: Vec<DiscoveredObject>,
    /// Other objects in the day folders (not log files), with the reason.
    pub skipped: Vec<(String, &'static str)>,
    /// Account and region folders found (after the filters).
    pub trail_locations: usize,
}

/// Finds the log files below `bucket_prefix` (empty for the whole bucket, or any text): in every
/// trail prefix at or below it (the folders holding an `AWSLogs/` folder).
pub async fn discover_log_files(
    listing: &impl BucketListing,
    bucket_prefix: &str,
    filter: &DiscoveryFilter,
) -> Result<Discovery, CliError> {
    let mut prefix = bucket_prefix.to_owned();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let trail_prefixes = find_trail_prefixes(listing, &prefix).await?;
    let mut locations = Vec::new();
    for trail_prefix in &trail_prefixes {
        locations.extend(trail_locations(listing, trail_prefix, filter).await?);
    }

    let mut day_prefixes = Vec::new();
    for location in &locations {
        for date in days_with_folders(listing, location, filter).await? {
            day_prefixes.push(location.day_prefix(date));
        }
    }
    let listed: Vec<Vec<DiscoveredObject>> = stream::iter(
        day_prefixes
            .iter()
            .map(|day_prefix| listing.objects(day_prefix)),
    )
    .buffered(DAY_LISTINGS_IN_FLIGHT)
    .try_collect()
    .await?;

    let mut discovery = Discovery {
        trail_prefixes,
        trail_locations: locations.len(),
        ..Discovery::default()
    };
    for object in listed.into_iter().flatten() {
        match log_key::classify(&object.key).skip_reason() {
            None if object.is_archived() => discovery.archived.push(object),
            None => discovery.log_files.push(object),
            Some(reason) => discovery.skipped.push((object.key, reason)),
        }
    }
    Ok(discovery)
}

/// The folders at or below `start` (empty or ending in `/`) that hold an `AWSLogs/` folder, walking
/// the folder tree level by level, at most [`TRAIL_PREFIX_DEPTH`] folders deep, without entering
/// `AWSLogs/` folders themselves.
async fn find_trail_prefixes(
    listing: &impl BucketListing,
    start: &str,
) -> Result<Vec<String>, CliError> {
    let mut found = Vec::new();
    let mut level = vec![start.to_owned()];
    for _ in 0..=TRAIL_PREFIX_DEPTH {
        let mut next = Vec::new();
        for folder in level {
            let children = listing.folders(&folder).await?;
            if children
                .iter()
                .any(|child| last_segment(child) == "AWSLogs")
            {
                found.push(folder.clone());
            }
            next.extend(
                children
                    .into_iter()
                    .filter(|child| last_segment(child) != "AWSLogs"),
            );
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    found.sort();
    Ok(found)
}

/// The account and region folders of one trail prefix that pass the filter: standard trails
/// (`AWSLogs/<account>/`) and organization trails (`AWSLogs/o-…/<account>/`). Other folders are not
/// CloudTrail's, and are not listed.
async fn trail_locations(
    listing: &impl BucketListing,
    prefix: &str,
    filter: &DiscoveryFilter,
) -> Result<Vec<TrailLogLocation>, CliError> {
    let mut accounts: Vec<(Option<String>, String)> = Vec::new();
    for folder in listing.folders(&format!("{prefix}AWSLogs/")).await? {
        let name = last_segment(&folder);
        if is_account_id(name) {
            accounts.push((None, name.to_owned()));
        } else if log_key::is_organization_id(name) {
            for account_folder in listing.folders(&folder).await? {
                let account = last_segment(&account_folder);
                if is_account_id(account) {
                    accounts.push((Some(name.to_owned()), account.to_owned()));
                }
            }
        }
    }
    accounts.retain(|(_, account)| filter.accounts.is_empty() || filter.accounts.contains(account));

    let mut locations = Vec::new();
    for (organization_id, account) in &accounts {
        let trail_root = match organization_id {
            Some(organization_id) => {
                format!("{prefix}AWSLogs/{organization_id}/{account}/CloudTrail/")
            }
            None => format!("{prefix}AWSLogs/{account}/CloudTrail/"),
        };
        for region_folder in listing.folders(&trail_root).await? {
            let region = last_segment(&region_folder);
            if !filter.regions.is_empty() && !filter.regions.iter().any(|wanted| wanted == region) {
                continue;
            }
            // A folder that is no region name is not CloudTrail's: leave it.
            if let Ok(location) =
                TrailLogLocation::new(prefix, organization_id.as_deref(), account, region)
            {
                locations.push(location);
            }
        }
    }
    Ok(locations)
}

/// The days of a trail location that have a folder and fall in the filter's range, walking
/// year, month and day folders and listing only those in range.
async fn days_with_folders(
    listing: &impl BucketListing,
    location: &TrailLogLocation,
    filter: &DiscoveryFilter,
) -> Result<Vec<Date>, CliError> {
    let in_range = |first: Date, last: Date| {
        filter.from.is_none_or(|from| last >= from) && filter.to.is_none_or(|to| first <= to)
    };
    let mut days = Vec::new();
    for year_folder in listing.folders(&location.region_prefix()).await? {
        let Some(year) = number::<i16>(last_segment(&year_folder), 4) else {
            continue;
        };
        let (Ok(first), Ok(last)) = (Date::new(year, 1, 1), Date::new(year, 12, 31)) else {
            continue;
        };
        if !in_range(first, last) {
            continue;
        }
        for month_folder in listing.folders(&year_folder).await? {
            let Some(month) = number::<i8>(last_segment(&month_folder), 2) else {
                continue;
            };
            let Ok(first) = Date::new(year, month, 1) else {
                continue;
            };
            if !in_range(first, first.last_of_month()) {
                continue;
            }
            for day_folder in listing.folders(&month_folder).await? {
                let Some(day) = number::<i8>(last_segment(&day_folder), 2) else {
                    continue;
                };
                if let Ok(date) = Date::new(year, month, day)
                    && in_range(date, date)
                {
                    days.push(date);
                }
            }
        }
    }
    Ok(days)
}

/// `a/b/c/` -> `c`.
fn last_segment(folder: &str) -> &str {
    folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// A folder name of exactly `digits` digits, as a number.
fn number<T: std::str::FromStr>(text: &str, digits: usize) -> Option<T> {
    (text.len() == digits && text.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Keys or folders S3 returns in one ListObjectsV2 page.
const KEYS_PER_PAGE: usize = 1_000;

/// A listing that counts the ListObjectsV2 requests (pages) it makes, for `backfill --plan`.
pub struct CountingListing<L> {
    inner: L,
    requests: AtomicU64,
}

impl<L> CountingListing<L> {
    pub fn new(inner: L) -> Self {
        CountingListing {
            inner,
            requests: AtomicU64::new(0),
        }
    }

    /// ListObjectsV2 requests so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// One request per started page of results (at least one).
    fn count(&self, results: usize) {
        let pages = results.div_ceil(KEYS_PER_PAGE).max(1) as u64;
        self.requests.fetch_add(pages, Ordering::Relaxed);
    }
}

impl<L: BucketListing> BucketListing for CountingListing<L> {
    async fn folders(&self, prefix: &str) -> Result<Vec<String>, CliError> {
        let folders = self.inner.folders(prefix).await?;
        self.count(folders.len());
        Ok(folders)
    }

    async fn objects(&self, prefix: &str) -> Result<Vec<DiscoveredObject>, CliError> {
        let objects = self.inner.objects(prefix).await?;
        self.count(objects.len());
        Ok(objects)
    }
}

/// Lists an S3 bucket.
pub struct S3Listing {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub region: String,
}

impl S3Listing {
    fn error<E>(
        &self,
        error: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> CliError
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let resource = format!("bucket {}", self.bucket);
        let target = AwsTarget {
            resource: &resource,
            region: &self.region,
        };
        aws_error("list the bucket (s3:ListBucket)", &target, error)
    }
}

impl S3Listing {
    /// Calls `on_page` with every page of the listing of `prefix` (grouped at `/` with
    /// `delimiter`), as the SDK's paginator follows the continuation tokens.
    async fn each_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        mut on_page: impl FnMut(&ListObjectsV2Output),
    ) -> Result<(), CliError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_owned))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            on_page(&page.map_err(|error| self.error(&error))?);
        }
        Ok(())
    }
}

impl BucketListing for S3Listing {
    async fn folders(&self, prefix: &str) -> Result<Vec<String>, CliError> {
        let mut folders = Vec::new();
        self.each_page(prefix, Some("/"), |page| {
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|common| common.prefix().map(str::to_owned)),
            );
        })
        .await?;
        Ok(folders)
    }

    async fn objects(&self, prefix: &str) -> Result<Vec<DiscoveredObject>, CliError> {
        let mut objects = Vec::new();
        self.each_page(prefix, None, |page| {
            objects.extend(page.contents().iter().filter_map(|object| {
                Some(DiscoveredObject {
                    key: object.key()?.to_owned(),
                    size: object
                        .size()
                        .and_then(|size| u64::try_from(size).ok())
                        .unwrap_or(0),
                    storage_class: object
                        .storage_class()
                        .map(|class| class.as_str().to_owned()),
                })
            }));
        })
        .await?;
        Ok(objects)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    use super::*;

    /// A bucket in memory that records every listing asked of it.
    #[derive(Default)]
    struct MemoryBucket {
        keys: BTreeSet<String>,
        /// Keys stored in DEEP_ARCHIVE.
        archived: BTreeSet<String>,
        listed: Mutex<Vec<String>>,
        objects_listed: Mutex<Vec<String>>,
    }

    impl MemoryBucket {
        fn with(keys: &[String]) -> Self {
            MemoryBucket {
                keys: keys.iter().cloned().collect(),
                ..MemoryBucket::default()
            }
        }
    }

    impl BucketListing for MemoryBucket {
        async fn folders(&self, prefix: &str) -> Result<Vec<String>, CliError> {
            self.listed.lock().unwrap().push(prefix.to_owned());
            let folders: BTreeSet<String> = self
                .keys
                .iter()
                .filter_map(|key| {
                    let rest = key.strip_prefix(prefix)?;
                    let (folder, _) = rest.split_once('/')?;
                    Some(format!("{prefix}{folder}/"))
                })
                .collect();
            Ok(folders.into_iter().collect())
        }

        async fn objects(&self, prefix: &str) -> Result<Vec<DiscoveredObject>, CliError> {
            self.listed.lock().unwrap().push(prefix.to_owned());
            self.objects_listed.lock().unwrap().push(prefix.to_owned());
            Ok(self
                .keys
                .iter()
                .filter(|key| key.starts_with(prefix))
                .map(|key| DiscoveredObject {
                    key: key.clone(),
                    size: 1,
                    storage_class: self
                        .archived
                        .contains(key)
                        .then(|| "DEEP_ARCHIVE".to_owned()),
                })
                .collect())
        }
    }

    fn log_key(root: &str, account: &str, region: &str, day: &str, id: &str) -> String {
        let (year, rest) = day.split_at(4);
        let (month, day) = rest.split_at(2);
        format!(
            "{root}{account}/CloudTrail/{region}/{year}/{month}/{day}/{account}_CloudTrail_{region}_{year}{month}{day}T1200Z_{id}.json.gz"
        )
    }

    fn tree() -> Vec<String> {
        vec![
            log_key("AWSLogs/", "111111111111", "us-east-1", "20230430", "a"),
            log_key("AWSLogs/", "111111111111", "us-east-1", "20230501", "b"),
            log_key("AWSLogs/", "111111111111", "eu-west-1", "20230502", "c"),
            log_key("AWSLogs/", "111111111111", "us-east-1", "20230601", "d"),
            log_key("AWSLogs/o-abc123def4/", "222222222222", "us-east-1", "20230501", "e"),
            // Not an organization id (`o-` and 10 to 32 letters or digits): not CloudTrail's folder.
            log_key("AWSLogs/o-notanorg/", "333333333333", "us-east-1", "20230501", "f"),
            "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2023/05/01/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20230501T120000Z.json.gz".to_owned(),
            "AWSLogs/111111111111/CloudTrail/us-east-1/2023/05/01/README.txt".to_owned(),
        ]
    }

    fn found(discovery: &Discovery) -> Vec<String> {
        discovery
            .log_files
            .iter()
            .map(|object| object.key.rsplit('_').next().unwrap().to_owned())
            .collect()
    }

    fn date(text: &str) -> Option<Date> {
        Some(text.parse().unwrap())
    }

    #[tokio::test]
    async fn finds_standard_and_organization_trail_files_of_every_account_and_region() {
        let bucket = MemoryBucket::with(&tree());
        let discovery = discover_log_files(&bucket, "", &DiscoveryFilter::default())
            .await
            .unwrap();
        assert_eq!(
            found(&discovery),
            [
                "c.json.gz",
                "a.json.gz",
                "b.json.gz",
                "d.json.gz",
                "e.json.gz"
            ]
        );
        assert_eq!(discovery.trail_locations, 3);
        let listed = bucket.listed.lock().unwrap().clone();
        assert!(
            !listed.iter().any(|prefix| prefix.contains("o-notanorg")),
            "listed a folder that is no organization id: {listed:?}"
        );
        assert_eq!(
            discovery.skipped,
            vec![(
                "AWSLogs/111111111111/CloudTrail/us-east-1/2023/05/01/README.txt".to_owned(),
                "not a CloudTrail log file"
            )]
        );
    }

    #[tokio::test]
    async fn from_and_to_select_the_days_and_list_only_those() {
        let bucket = MemoryBucket::with(&tree());
        let filter = DiscoveryFilter {
            from: date("2023-05-01"),
            to: date("2023-05-01"),
            ..DiscoveryFilter::default()
        };
        let discovery = discover_log_files(&bucket, "", &filter).await.unwrap();
        assert_eq!(found(&discovery), ["b.json.gz", "e.json.gz"]);
        let listed = bucket.listed.lock().unwrap().clone();
        assert!(
            !listed
                .iter()
                .any(|prefix| prefix.ends_with("/2023/04/30/") || prefix.ends_with("/2023/06/")),
            "listed outside the range: {listed:?}"
        );
        let objects_listed = bucket.objects_listed.lock().unwrap().clone();
        assert!(
            objects_listed
                .iter()
                .all(|prefix| prefix.ends_with("/2023/05/01/")),
            "listed objects outside the day folders: {objects_listed:?}"
        );
    }

    #[tokio::test]
    async fn account_and_region_filters_apply() {
        let bucket = MemoryBucket::with(&tree());
        let filter = DiscoveryFilter {
            accounts: vec!["222222222222".into()],
            regions: vec!["us-east-1".into()],
            ..DiscoveryFilter::default()
        };
        let discovery = discover_log_files(&bucket, "", &filter).await.unwrap();
        assert_eq!(found(&discovery), ["e.json.gz"]);
        let filter = DiscoveryFilter {
            regions: vec!["eu-west-1".into()],
            ..DiscoveryFilter::default()
        };
        let discovery = discover_log_files(&bucket, "", &filter).await.unwrap();
        assert_eq!(found(&discovery), ["c.json.gz"]);
    }

    #[tokio::test]
    async fn the_trail_prefix_is_honoured_with_or_without_a_slash() {
        let mut keys: Vec<String> = tree().iter().map(|key| format!("team/{key}")).collect();
        keys.push(log_key(
            "other/AWSLogs/",
            "333333333333",
            "us-east-1",
            "20230501",
            "f",
        ));
        let bucket = MemoryBucket::with(&keys);
        for prefix in ["team", "team/"] {
            let discovery = discover_log_files(&bucket, prefix, &DiscoveryFilter::default())
                .await
                .unwrap();
            assert_eq!(discovery.log_files.len(), 5, "{prefix}");
            assert_eq!(discovery.trail_prefixes, ["team/"]);
        }
    }

    #[tokio::test]
    async fn without_a_prefix_every_trail_prefix_at_any_depth_is_found() {
        let mut keys = tree();
        keys.extend(tree().iter().map(|key| format!("team/{key}")));
        keys.push(log_key(
            "a/b/c/AWSLogs/",
            "333333333333",
            "us-east-1",
            "20230501",
            "f",
        ));
        keys.push("a/notes/readme.txt".to_owned());
        let bucket = MemoryBucket::with(&keys);
        let discovery = discover_log_files(&bucket, "", &DiscoveryFilter::default())
            .await
            .unwrap();
        assert_eq!(discovery.trail_prefixes, ["", "a/b/c/", "team/"]);
        assert_eq!(discovery.log_files.len(), 11);
        assert_eq!(discovery.trail_locations, 7);
        // The account folders are never listed: the search does not walk into AWSLogs/.
        let listed = bucket.listed.lock().unwrap().clone();
        assert!(
            !listed
                .iter()
                .any(|prefix| prefix.ends_with("AWSLogs/111111111111/")),
            "the search entered an AWSLogs folder: {listed:?}"
        );
    }

    #[tokio::test]
    async fn the_search_for_trail_prefixes_stops_at_its_depth() {
        let deep = format!("{}AWSLogs/", "x/".repeat(TRAIL_PREFIX_DEPTH + 1));
        let shallow = format!("{}AWSLogs/", "x/".repeat(TRAIL_PREFIX_DEPTH));
        let bucket = MemoryBucket::with(&[
            log_key(&deep, "111111111111", "us-east-1", "20230501", "a"),
            log_key(&shallow, "111111111111", "us-east-1", "20230501", "b"),
        ]);
        let discovery = discover_log_files(&bucket, "", &DiscoveryFilter::default())
            .await
            .unwrap();
        assert_eq!(found(&discovery), ["b.json.gz"]);
    }

    #[tokio::test]
    async fn log_files_in_an_archive_storage_class_are_counted_apart() {
        let keys = tree();
        let mut bucket = MemoryBucket::with(&keys);
        bucket.archived.insert(keys[1].clone());
        let discovery = discover_log_files(&bucket, "", &DiscoveryFilter::default())
            .await
            .unwrap();
        assert_eq!(
            found(&discovery),
            ["c.json.gz", "a.json.gz", "d.json.gz", "e.json.gz"]
        );
        let archived: Vec<&str> = discovery
            .archived
            .iter()
            .map(|object| object.key.as_str())
            .collect();
        assert_eq!(archived, [keys[1].as_str()]);
    }

    #[tokio::test]
    async fn a_counting_listing_counts_one_request_per_started_page() {
        let keys: Vec<String> = (0..2_500).map(|n| format!("p/{n:05}")).collect();
        let bucket = CountingListing::new(MemoryBucket::with(&keys));
        bucket.objects("p/").await.unwrap();
        assert_eq!(bucket.requests(), 3);
        bucket.folders("nothing/").await.unwrap();
        assert_eq!(bucket.requests(), 4);
    }

    #[test]
    fn only_glacier_and_deep_archive_need_a_restore() {
        let object = |class: Option<&str>| DiscoveredObject {
            key: "k".into(),
            size: 1,
            storage_class: class.map(str::to_owned),
        };
        for class in ["GLACIER", "DEEP_ARCHIVE"] {
            assert!(object(Some(class)).is_archived(), "{class}");
        }
        for class in [
            None,
            Some("STANDARD"),
            Some("GLACIER_IR"),
            Some("STANDARD_IA"),
        ] {
            assert!(!object(class).is_archived(), "{class:?}");
        }
    }
}
