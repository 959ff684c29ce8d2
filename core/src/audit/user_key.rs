//! Who made the call, as the key of the user items.

use super::fields::non_empty_text;
use crate::json::Raw;

/// The user a record is filed under: the first non-empty string among `userIdentity.arn`,
/// `userIdentity.invokedBy`, `userIdentity.principalId` and `userIdentity.accountId`, else
/// [`UserKey::UNKNOWN`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserKey(String);

impl UserKey {
    /// The key of records whose identity names nobody.
    pub const UNKNOWN: &'static str = "unknown";

    /// The first non-empty string of `[arn, invokedBy, principalId, accountId]`, in that order.
    pub(super) fn first_of(candidates: [Option<Raw<'_>>; 4]) -> Self {
        let key = candidates.into_iter().find_map(non_empty_text);
        UserKey(key.map_or_else(|| Self::UNKNOWN.to_owned(), |key| key.into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
