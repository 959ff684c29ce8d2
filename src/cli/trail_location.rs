//! Where a trail writes the log files of one account and region: the listing prefixes of the
//! backfill's discovery.

use std::fmt::Write as _;

use crate::log_key;

/// Why a trail's log location cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrailLocationError {
    #[error("account id {0:?} is not 12 digits")]
    AccountId(String),
    #[error("region {0:?} is not a region name such as us-east-1")]
    Region(String),
    #[error("organization id {0:?} is not `o-` and 10 to 32 lowercase letters or digits")]
    OrganizationId(String),
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
        if !log_key::is_account_id(account_id) {
            return Err(TrailLocationError::AccountId(account_id.to_owned()));
        }
        if !log_key::is_region(region) {
            return Err(TrailLocationError::Region(region.to_owned()));
        }
        if let Some(organization_id) = organization_id.filter(|id| !log_key::is_organization_id(id))
        {
            return Err(TrailLocationError::OrganizationId(
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
    use proptest::prelude::*;

    use super::*;
    use crate::log_key::{KeyKind, classify};

    const LOG_FILE_NAME: &str =
        "123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz";

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
        assert_eq!(classify(&key), KeyKind::LogFile);
    }

    #[test]
    fn trail_location_refuses_invalid_parts() {
        assert_eq!(
            TrailLogLocation::new("", None, "12345", "us-east-1"),
            Err(TrailLocationError::AccountId("12345".to_owned()))
        );
        assert_eq!(
            TrailLogLocation::new("", None, "123456789012", "us east 1"),
            Err(TrailLocationError::Region("us east 1".to_owned()))
        );
        assert_eq!(
            TrailLogLocation::new("", Some("org-1"), "123456789012", "us-east-1"),
            Err(TrailLocationError::OrganizationId("org-1".to_owned()))
        );
    }

    proptest! {
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
            prop_assert_eq!(classify(&key), KeyKind::LogFile);
        }
    }
}
