//! Is this object key a CloudTrail log file? (pure)
//!
//! CloudTrail writes `[<prefix>/]AWSLogs/[<o-orgid>/]<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/`
//! `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`. Since the SPEC accepts log files
//! "under any prefix" (copies, backfills), the decision rests on the file name alone. The checks of
//! the parts (account, region, organization id) are public: the CLI lists a trail's folders by them.

/// What an object key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// A CloudTrail log file: `…/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`
    /// (or `.json`, for local and backfill use).
    LogFile,
    /// A digest file (`CloudTrail-Digest`).
    Digest,
    /// An Insights file (`CloudTrail-Insight`).
    Insight,
    /// A folder marker (key ending in `/`).
    FolderMarker,
    /// Anything else.
    Other,
}

impl KeyKind {
    /// Why a key that is not a log file is skipped, as a short reason for the summary.
    pub fn skip_reason(&self) -> Option<&'static str> {
        match self {
            KeyKind::LogFile => None,
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
    if is_log_file_name(file_name) {
        KeyKind::LogFile
    } else {
        KeyKind::Other
    }
}

/// `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json[.gz]`.
fn is_log_file_name(file_name: &str) -> bool {
    let Some(stem) = file_name
        .strip_suffix(".json.gz")
        .or_else(|| file_name.strip_suffix(".json"))
    else {
        return false;
    };
    let mut parts = stem.splitn(5, '_');
    parts.next().is_some_and(is_account_id)
        && parts.next() == Some("CloudTrail")
        && parts.next().is_some_and(is_region)
        && parts.next().is_some_and(is_delivery_time)
        && parts.next().is_some_and(is_unique_id)
}

/// Twelve digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`: lowercase words and digits joined by hyphens.
pub fn is_region(text: &str) -> bool {
    text.contains('-')
        && text.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `o-` and 10 to 32 lowercase letters and digits: AWS Organizations' pattern for an organization
/// id (`^o-[a-z0-9]{10,32}$`).
pub fn is_organization_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
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

/// `YYYYMMDDTHHMMZ` naming a real UTC minute: what jiff parses and writes back unchanged (its
/// parser alone would also take a sign and shorter fields, which the name never has).
fn is_delivery_time(text: &str) -> bool {
    const DELIVERY_TIME: &str = "%Y%m%dT%H%MZ";
    jiff::civil::DateTime::strptime(DELIVERY_TIME, text)
        .and_then(|time| jiff::fmt::strtime::format(DELIVERY_TIME, time))
        .is_ok_and(|written| written == text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOG_FILE_NAME: &str =
        "123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz";

    fn standard_log_file() -> KeyKind {
        KeyKind::LogFile
    }

    #[test]
    fn standard_log_file_key_is_a_log_file() {
        let key = format!("AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}");
        assert_eq!(classify(&key), standard_log_file());
    }

    #[test]
    fn organization_trail_log_file_is_a_log_file() {
        let key = format!(
            "AWSLogs/o-exampleorgid/123456789012/CloudTrail/us-east-2/2016/08/11/{LOG_FILE_NAME}"
        );
        assert_eq!(classify(&key), standard_log_file());
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
        assert_eq!(classify(&org_key), standard_log_file());
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
    fn folder_and_file_name_regions_may_differ() {
        // CloudTrail's own single-key example: folder us-east-2, file name us-west-2.
        let key = "AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz";
        assert_eq!(classify(key), standard_log_file());
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
                matches!(classify(&object.key), KeyKind::LogFile),
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
            "2016112T2215Z",  // a short field
            "+2016112T2215Z", // a sign
            "-2016112T2215Z",
            "20160811T2215Z ",
            "",
        ] {
            let key = format!("123456789012_CloudTrail_us-east-2_{time}_kpaMYavMQA9Ahp7L.json.gz");
            assert_eq!(classify(&key), KeyKind::Other, "{key}");
        }
        let leap_day = "123456789012_CloudTrail_us-east-2_20160229T0000Z_kpaMYavMQA9Ahp7L.json.gz";
        assert_eq!(classify(leap_day), KeyKind::LogFile);
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

    #[test]
    fn organization_ids_are_o_and_10_to_32_lowercase_letters_and_digits() {
        for id in [
            "o-abc123def4",
            "o-exampleorgid",
            "o-0123456789",
            "o-abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert!(is_organization_id(id), "{id:?}");
        }
        for id in [
            "",
            "o-",
            "o-abc123def",
            "o-abcdefghijklmnopqrstuvwxyz0123456",
            "o-ABC123DEF4",
            "o-abc123_def4",
            "o-abc-123def4",
            "org-abc123def4",
            "abc123def4",
            "O-abc123def4",
        ] {
            assert!(!is_organization_id(id), "{id:?}");
        }
    }

    // --- properties ---

    proptest! {
        /// Half the cases near the pattern (lengths around 10 and 32), half anywhere.
        #[test]
        fn an_organization_id_is_what_the_aws_pattern_matches(
            id in "(o-)?[a-z0-9]{8,34}|(o-)?[a-zA-Z0-9_-]{0,40}"
        ) {
            let pattern = regex::Regex::new("^o-[a-z0-9]{10,32}$").map_err(|error| {
                TestCaseError::fail(error.to_string())
            })?;
            prop_assert_eq!(is_organization_id(&id), pattern.is_match(&id), "{:?}", id);
        }

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
    }
}
