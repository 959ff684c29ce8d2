//! Is this object key a CloudTrail log file? Account, region and time from the key (pure).
//!
//! CloudTrail writes `[<prefix>/]AWSLogs/[<o-orgid>/]<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/`
//! `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`. Since the SPEC accepts log files
//! "under any prefix" (copies, backfills), the decision rests on the file name alone; the folders
//! only add the organization id of an organization trail.

use std::fmt::Write as _;

/// What an object key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// A CloudTrail log file: `…/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`
    /// (or `.json`, for local and backfill use).
    LogFile(LogFileKey),
    /// A digest file (`CloudTrail-Digest`).
    Digest,
    /// An Insights file (`CloudTrail-Insight`).
    Insight,
    /// A folder marker (key ending in `/`).
    FolderMarker,
    /// Anything else.
    Other,
}

/// What the name of a CloudTrail log file tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileKey {
    pub account_id: String,
    /// The region of the file name (CloudTrail's own examples show folder and file-name regions
    /// that differ; the file name is the one that describes the file).
    pub region: String,
    /// `o-…` for an organization trail.
    pub organization_id: Option<String>,
    /// `YYYYMMDDTHHMMZ` from the file name.
    pub delivery_time: String,
}

impl KeyKind {
    /// Why a key that is not a log file is skipped, as a short reason for the summary.
    pub fn skip_reason(&self) -> Option<&'static str> {
        match self {
            KeyKind::LogFile(_) => None,
            KeyKind::Digest => Some("digest file"),
            KeyKind::Insight => Some("insights file"),
            KeyKind::FolderMarker => Some("folder marker"),
            KeyKind::Other => Some("not a CloudTrail log file"),
        }
    }
}

/// Classifies an (already URL-decoded) object key.
pub fn classify(key: &str) -> KeyKind {
    if key.ends_with('/') {
        return KeyKind::FolderMarker;
    }
    let file_name = key.rsplit('/').next().unwrap_or(key);
    let in_folder = |folder: &str| key.split('/').any(|segment| segment == folder);
    if file_name.contains("_CloudTrail-Digest_") || in_folder("CloudTrail-Digest") {
        return KeyKind::Digest;
    }
    if file_name.contains("_CloudTrail-Insight_") || in_folder("CloudTrail-Insight") {
        return KeyKind::Insight;
    }
    let Some(name) = parse_log_file_name(file_name) else {
        return KeyKind::Other;
    };
    KeyKind::LogFile(LogFileKey {
        organization_id: organization_id(key, name.account_id).map(str::to_owned),
        account_id: name.account_id.to_owned(),
        region: name.region.to_owned(),
        delivery_time: name.delivery_time.to_owned(),
    })
}

/// The parts of `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json[.gz]`.
struct LogFileName<'a> {
    account_id: &'a str,
    region: &'a str,
    delivery_time: &'a str,
}

fn parse_log_file_name(file_name: &str) -> Option<LogFileName<'_>> {
    let stem = file_name
        .strip_suffix(".json.gz")
        .or_else(|| file_name.strip_suffix(".json"))?;
    let mut parts = stem.splitn(5, '_');
    let account_id = parts.next().filter(|part| is_account_id(part))?;
    parts.next().filter(|part| *part == "CloudTrail")?;
    let region = parts.next().filter(|part| is_region(part))?;
    let delivery_time = parts.next().filter(|part| is_delivery_time(part))?;
    parts.next().filter(|part| is_unique_id(part))?;
    Some(LogFileName {
        account_id,
        region,
        delivery_time,
    })
}

/// The `o-…` folder of `AWSLogs/<o-orgid>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`, read
/// from the end so that any prefix may come before it.
fn organization_id<'a>(key: &'a str, account_id: &str) -> Option<&'a str> {
    let mut segments = key.rsplit('/');
    // The file name, then DD, MM, YYYY and the region.
    segments.nth(4)?;
    segments.next().filter(|segment| *segment == "CloudTrail")?;
    segments.next().filter(|segment| *segment == account_id)?;
    let organization_id = segments
        .next()
        .filter(|segment| is_organization_id(segment))?;
    segments.next().filter(|segment| *segment == "AWSLogs")?;
    Some(organization_id)
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`: lowercase words and digits joined by hyphens.
fn is_region(text: &str) -> bool {
    text.contains('-')
        && text.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `o-` and lowercase letters and digits (AWS: `o-[a-z0-9]{10,32}`).
fn is_organization_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn is_unique_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
}

/// `YYYYMMDDTHHMMZ` naming a real UTC minute.
fn is_delivery_time(text: &str) -> bool {
    let Some((date, time)) = text.split_at_checked(8) else {
        return false;
    };
    let Some(hours_minutes) = time.strip_prefix('T').and_then(|t| t.strip_suffix('Z')) else {
        return false;
    };
    let all_digits = |digits: &str| digits.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits(date) || hours_minutes.len() != 4 || !all_digits(hours_minutes) {
        return false;
    }
    let number = |digits: Option<&str>| digits.and_then(|digits| digits.parse::<i16>().ok());
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute)) = (
        number(date.get(0..4)),
        number(date.get(4..6)),
        number(date.get(6..8)),
        number(hours_minutes.get(0..2)),
        number(hours_minutes.get(2..4)),
    ) else {
        return false;
    };
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
        return false;
    };
    jiff::civil::Date::new(year, month, day).is_ok() && hour < 24 && minute < 60
}

/// Why a trail's log location cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrailLocationError {
    #[error("account id {0:?} is not 12 digits")]
    InvalidAccountId(String),
    #[error("region {0:?} is not a region name such as us-east-1")]
    InvalidRegion(String),
    #[error("organization id {0:?} is not of the form o-abc123…")]
    InvalidOrganizationId(String),
}

/// Where a trail writes the log files of one account and region in its bucket, for listing them
/// (the backfill command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailLogLocation {
    /// The trail's S3 key prefix, empty or ending in `/`.
    bucket_prefix: String,
    organization_id: Option<String>,
    account_id: String,
    region: String,
}

impl TrailLogLocation {
    /// `bucket_prefix` is the trail's S3 key prefix as CloudTrail takes it (`logs` or `logs/`;
    /// empty for none).
    pub fn new(
        bucket_prefix: &str,
        organization_id: Option<&str>,
        account_id: &str,
        region: &str,
    ) -> Result<Self, TrailLocationError> {
        if !is_account_id(account_id) {
            return Err(TrailLocationError::InvalidAccountId(account_id.to_owned()));
        }
        if !is_region(region) {
            return Err(TrailLocationError::InvalidRegion(region.to_owned()));
        }
        if let Some(organization_id) = organization_id.filter(|id| !is_organization_id(id)) {
            return Err(TrailLocationError::InvalidOrganizationId(
                organization_id.to_owned(),
            ));
        }
        let mut normalized_prefix = bucket_prefix.to_owned();
        if !normalized_prefix.is_empty() && !normalized_prefix.ends_with('/') {
            normalized_prefix.push('/');
        }
        Ok(TrailLogLocation {
            bucket_prefix: normalized_prefix,
            organization_id: organization_id.map(str::to_owned),
            account_id: account_id.to_owned(),
            region: region.to_owned(),
        })
    }

    /// `<prefix>AWSLogs/[o-…/]<account>/CloudTrail/<region>/`.
    pub fn region_prefix(&self) -> String {
        let mut prefix = format!("{}AWSLogs/", self.bucket_prefix);
        if let Some(organization_id) = &self.organization_id {
            prefix.push_str(organization_id);
            prefix.push('/');
        }
        // Writing to a String cannot fail.
        let _ = write!(prefix, "{}/CloudTrail/{}/", self.account_id, self.region);
        prefix
    }

    /// `<prefix>AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/`: the listing prefix of
    /// the log files delivered on `date` (UTC).
    pub fn day_prefix(&self, date: jiff::civil::Date) -> String {
        let mut prefix = self.region_prefix();
        let _ = write!(
            prefix,
            "{:04}/{:02}/{:02}/",
            date.year(),
            date.month(),
            date.day()
        );
        prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOG_FILE_NAME: &str =
        "123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz";

    fn log_file(
        account_id: &str,
        region: &str,
        organization_id: Option<&str>,
        time: &str,
    ) -> KeyKind {
        KeyKind::LogFile(LogFileKey {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            organization_id: organization_id.map(str::to_owned),
            delivery_time: time.to_owned(),
        })
    }

    fn standard_log_file() -> KeyKind {
        log_file("123456789012", "us-east-2", None, "20160811T2215Z")
    }

    #[test]
    fn standard_log_file_key_is_a_log_file() {
        let key = format!("AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}");
        assert_eq!(classify(&key), standard_log_file());
    }

    #[test]
    fn organization_trail_log_file_carries_the_organization_id() {
        let key = format!(
            "AWSLogs/o-exampleorgid/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
        );
        assert_eq!(
            classify(&key),
            log_file(
                "123456789012",
                "us-east-2",
                Some("o-exampleorgid"),
                "20160811T2215Z"
            )
        );
    }

    #[test]
    fn prefixed_log_file_is_a_log_file() {
        let key = format!(
            "team/audit/AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
        );
        assert_eq!(classify(&key), standard_log_file());
        let org_key = format!(
            "logs/AWSLogs/o-abc123def4/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
        );
        assert_eq!(
            classify(&org_key),
            log_file(
                "123456789012",
                "us-east-2",
                Some("o-abc123def4"),
                "20160811T2215Z"
            )
        );
    }

    #[test]
    fn log_file_under_any_prefix_is_decided_by_its_name() {
        assert_eq!(classify(LOG_FILE_NAME), standard_log_file());
        assert_eq!(
            classify(&format!("backfill/copy/{LOG_FILE_NAME}")),
            standard_log_file()
        );
    }

    #[test]
    fn organization_id_needs_the_organization_trail_layout() {
        for key in [
            // An `o-` folder that is not right after AWSLogs/ and before the account.
            format!(
                "o-exampleorgid/AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
            ),
            format!(
                "AWSLogs/o-exampleorgid/210987654321/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
            ),
            format!(
                "logs/o-exampleorgid/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
            ),
            format!("AWSLogs/o-/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"),
            format!("AWSLogs/o-exampleorgid/123456789012/{LOG_FILE_NAME}"),
        ] {
            assert_eq!(classify(&key), standard_log_file(), "{key}");
        }
    }

    #[test]
    fn region_comes_from_the_file_name() {
        // CloudTrail's own single-key example: folder us-east-2, file name us-west-2.
        let key = "AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz";
        assert_eq!(
            classify(key),
            log_file("123456789012", "us-west-2", None, "20131213T1920Z")
        );
    }

    #[test]
    fn reference_notification_keys_are_log_files() {
        let path = format!(
            "{}/tests/fixtures/reference/sns/cloudtrail-sns-message_awsdocs_multi-key.json",
            concat!(env!("CARGO_MANIFEST_DIR"), "/..")
        );
        let message = std::fs::read_to_string(path).unwrap();
        let crate::notification::Notification::Objects { objects, .. } =
            crate::notification::decode_message(&message)
        else {
            panic!("the reference message names objects");
        };
        assert_eq!(objects.len(), 3);
        for object in objects {
            assert!(
                matches!(classify(&object.key), KeyKind::LogFile(_)),
                "{}",
                object.key
            );
        }
    }

    #[test]
    fn plain_json_log_file_is_a_log_file() {
        let key = "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json";
        assert_eq!(classify(key), standard_log_file());
    }

    #[test]
    fn digest_file_is_a_digest() {
        for key in [
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-2/2016/08/11/123456789012_CloudTrail-Digest_us-east-2_trail_us-east-2_20160811T221500Z.json.gz",
            "copy/123456789012_CloudTrail-Digest_us-east-2_trail_us-east-2_20160811T221500Z.json.gz",
            // Whatever its name, a file in a digest folder is not a log file.
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
        ] {
            assert_eq!(classify(key), KeyKind::Digest, "{key}");
        }
    }

    #[test]
    fn insights_file_is_an_insight() {
        for key in [
            "AWSLogs/123456789012/CloudTrail-Insight/us-east-2/2019/11/13/123456789012_CloudTrail-Insight_us-east-2_20191113T1925Z_Wn5rA7ULhXLyp3Aw.json.gz",
            "123456789012_CloudTrail-Insight_us-east-2_20191113T1925Z_Wn5rA7ULhXLyp3Aw.json.gz",
        ] {
            assert_eq!(classify(key), KeyKind::Insight, "{key}");
        }
    }

    #[test]
    fn key_ending_in_slash_is_a_folder_marker() {
        for key in [
            "AWSLogs/",
            "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/",
            "AWSLogs/123456789012/CloudTrail-Digest/",
            "/",
        ] {
            assert_eq!(classify(key), KeyKind::FolderMarker, "{key}");
        }
    }

    #[test]
    fn account_id_must_be_twelve_digits() {
        for account_id in ["12345678901", "1234567890123", "12345678901a", ""] {
            let key = format!(
                "{account_id}_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz"
            );
            assert_eq!(classify(&key), KeyKind::Other, "{key}");
        }
    }

    #[test]
    fn delivery_time_must_be_a_real_utc_minute() {
        for time in [
            "20161311T2215Z", // month 13
            "20160230T2215Z", // 30 February
            "20160811T2415Z", // hour 24
            "20160811T2260Z", // minute 60
            "20160811T2215",  // no Z
            "20160811 2215Z",
            "20160811T221500Z", // seconds, as in digest names
            "2016081T2215Z",
            "2016-08-11T22:15Z",
            "",
        ] {
            let key = format!("123456789012_CloudTrail_us-east-2_{time}_kpaMYavMQA9Ahp7L.json.gz");
            assert_eq!(classify(&key), KeyKind::Other, "{key}");
        }
        let leap_day = "123456789012_CloudTrail_us-east-2_20160229T0000Z_kpaMYavMQA9Ahp7L.json.gz";
        assert!(matches!(classify(leap_day), KeyKind::LogFile(_)));
    }

    #[test]
    fn log_file_needs_the_json_or_json_gz_suffix() {
        for suffix in [
            ".json.gz.tmp",
            ".gz",
            ".jsonl",
            ".json.bz2",
            "",
            ".JSON.GZ",
            ".json.gz/x",
        ] {
            let key = format!(
                "123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L{suffix}"
            );
            assert_eq!(classify(&key), KeyKind::Other, "{key}");
        }
    }

    #[test]
    fn lookalike_names_are_other() {
        for key in [
            "",
            "HappyFace.jpg",
            "123456789012_Cloudtrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
            "123456789012_CloudTrail_US-EAST-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
            "123456789012_CloudTrail_useast2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
            "123456789012_CloudTrail_us-east-2_20160811T2215Z_.json.gz",
            "123456789012_CloudTrail_us-east-2_20160811T2215Z.json.gz",
            "123456789012_CloudTrail_us-east-2_20160811T2215Z_kpa MYav.json.gz",
            "x123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
        ] {
            assert_eq!(classify(key), KeyKind::Other, "{key:?}");
        }
    }

    #[test]
    fn only_log_files_have_no_skip_reason() {
        assert_eq!(standard_log_file().skip_reason(), None);
        for kind in [
            KeyKind::Digest,
            KeyKind::Insight,
            KeyKind::FolderMarker,
            KeyKind::Other,
        ] {
            assert!(kind.skip_reason().is_some(), "{kind:?}");
        }
    }

    // --- listing prefixes ---

    fn date(year: i16, month: i8, day: i8) -> jiff::civil::Date {
        jiff::civil::Date::new(year, month, day).unwrap()
    }

    #[test]
    fn day_prefix_without_bucket_prefix() {
        let location = TrailLogLocation::new("", None, "123456789012", "us-east-2").unwrap();
        assert_eq!(
            location.day_prefix(date(2016, 8, 1)),
            "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/01/"
        );
        assert_eq!(
            location.region_prefix(),
            "AWSLogs/123456789012/CloudTrail/us-east-2/"
        );
    }

    #[test]
    fn day_prefix_with_bucket_prefix_with_or_without_slash() {
        for bucket_prefix in ["team/logs", "team/logs/"] {
            let location =
                TrailLogLocation::new(bucket_prefix, None, "123456789012", "eu-west-1").unwrap();
            assert_eq!(
                location.day_prefix(date(2024, 12, 31)),
                "team/logs/AWSLogs/123456789012/CloudTrail/eu-west-1/2024/12/31/"
            );
        }
    }

    #[test]
    fn day_prefix_of_an_organization_trail() {
        let location =
            TrailLogLocation::new("logs", Some("o-abc123def4"), "123456789012", "us-east-1")
                .unwrap();
        assert_eq!(
            location.day_prefix(date(2025, 1, 9)),
            "logs/AWSLogs/o-abc123def4/123456789012/CloudTrail/us-east-1/2025/01/09/"
        );
    }

    #[test]
    fn day_prefix_names_the_folder_of_that_days_log_files() {
        let location = TrailLogLocation::new("", None, "123456789012", "us-east-2").unwrap();
        let key = format!("{}{LOG_FILE_NAME}", location.day_prefix(date(2016, 8, 11)));
        assert_eq!(classify(&key), standard_log_file());
    }

    #[test]
    fn trail_location_refuses_invalid_parts() {
        assert_eq!(
            TrailLogLocation::new("", None, "12345", "us-east-1"),
            Err(TrailLocationError::InvalidAccountId("12345".to_owned()))
        );
        assert_eq!(
            TrailLogLocation::new("", None, "123456789012", "us east 1"),
            Err(TrailLocationError::InvalidRegion("us east 1".to_owned()))
        );
        assert_eq!(
            TrailLogLocation::new("", Some("org-1"), "123456789012", "us-east-1"),
            Err(TrailLocationError::InvalidOrganizationId(
                "org-1".to_owned()
            ))
        );
    }

    // --- properties ---

    proptest! {
        #[test]
        fn classify_never_panics(key in any::<String>()) {
            let _ = classify(&key);
        }

        #[test]
        fn classify_never_panics_on_keys_like_log_files(
            key in "[0-9a-zA-Z/_.-]{0,20}_CloudTrail_[a-z0-9-]{0,12}_[0-9TZ]{0,16}_[a-zA-Z0-9_]{0,6}\\.json(\\.gz)?"
        ) {
            let _ = classify(&key);
        }

        #[test]
        fn every_valid_log_file_name_is_classified_with_its_parts(
            account_id in "[0-9]{12}",
            region in "[a-z]{2}(-[a-z]{2,9}){1,2}-[0-9]{1,2}",
            organization_id in proptest::option::of("o-[a-z0-9]{10,32}"),
            bucket_prefix in "([a-z0-9]{1,8}/){0,2}",
            (year, month, day) in (1970i16..=2099, 1i8..=12, 1i8..=28),
            (hour, minute) in (0u8..24, 0u8..60),
            unique_id in "[A-Za-z0-9]{16}",
            gzipped in any::<bool>(),
        ) {
            let delivery_time = format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}Z");
            let location = TrailLogLocation::new(
                &bucket_prefix,
                organization_id.as_deref(),
                &account_id,
                &region,
            ).unwrap();
            let suffix = if gzipped { ".json.gz" } else { ".json" };
            let key = format!(
                "{}{account_id}_CloudTrail_{region}_{delivery_time}_{unique_id}{suffix}",
                location.day_prefix(date(year, month, day)),
            );
            prop_assert_eq!(
                classify(&key),
                log_file(&account_id, &region, organization_id.as_deref(), &delivery_time)
            );
        }
    }
}
