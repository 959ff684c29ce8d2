//! Field values as the items take them: strings decoded, empty ones as absent.
//!
//! The fields themselves are found by [`crate::json::Raw`], which reads any valid JSON (unpaired
//! surrogates, huge numbers, any depth) without failing, so that a problem in one field never
//! costs another.

use std::borrow::Cow;

use crate::json::Raw;

/// The value as a string; `None` when it is absent or not a string. An unpaired surrogate escape
/// is U+FFFD in its place.
pub(super) fn text(value: Option<Raw<'_>>) -> Option<Cow<'_, str>> {
    value?.as_str()
}

/// The value as a non-empty string: empty strings carry no information and are never written.
pub(super) fn non_empty_text(value: Option<Raw<'_>>) -> Option<Cow<'_, str>> {
    text(value).filter(|text| !text.is_empty())
}
