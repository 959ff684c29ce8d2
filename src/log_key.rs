//! Is this object key a CloudTrail log file? Account, region and time from the key (pure).
//! OWNER: helper "notification" (skeleton; to be replaced).

/// What an object key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// A CloudTrail log file: `…/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`.
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
    let _ = key;
    todo!("helper: notification")
}
