//! The attributes every item of a record carries, and keeping the items within DynamoDB's size limit.

use std::cell::OnceCell;
use std::sync::Arc;

use super::AuditContext;
use super::fields::{non_empty_text, text};
use super::record::Record;
use super::rooms::TouchedArns;
use super::user_key::UserKey;
pub(super) use crate::item::Attributes;
use crate::item::{AttrValue, MAX_ITEM_BYTES, attributes_size_bytes};
use crate::json::Raw;

/// How many ARNs `room_arns` and `resource_arns` list at most: the first found. `room_count` and
/// `resource_count` say how many there are in all.
pub(super) const MAX_LISTED_ARNS: usize = 100;

/// The attributes shared by the user item and the room and resource items, `record`, `day` and
/// size aside.
///
/// Absent fields, fields of another type than expected, and empty strings are left out.
/// `account_id` is `recipientAccountId`, else `userIdentity.accountId`; `user_name` is
/// `userIdentity.userName`, else `userIdentity.sessionContext.sessionIssuer.userName` (the role
/// behind an assumed-role session, the IAM user behind a federated one).
pub(super) fn shared(
    record: &Record<'_>,
    user_key: &UserKey,
    arns: &TouchedArns,
    context: &AuditContext,
) -> Attributes {
    let text = |value: Option<Raw<'_>>| non_empty_text(value).map(|text| AttrValue::S(text.into()));
    let whole = |text: &str| Some(AttrValue::S(text.into()));
    let listed = |arns: &Vec<String>| {
        (!arns.is_empty())
            .then(|| AttrValue::StringList(arns.iter().take(MAX_LISTED_ARNS).cloned().collect()))
    };
    let count =
        |arns: &Vec<String>| (!arns.is_empty()).then(|| AttrValue::N(arns.len().to_string()));
    let account_id = [record.recipient_account_id, record.identity.account_id]
        .into_iter()
        .find(|field| non_empty_text(*field).is_some())
        .flatten();
    let user_name = [
        record.identity.user_name,
        record.identity.session_issuer_user_name,
    ]
    .into_iter()
    .find(|field| non_empty_text(*field).is_some())
    .flatten();
    // In name order, the attributes' own: each goes at the end, found with one comparison.
    let shared = [
        ("account_id", text(account_id)),
        ("aws_region", text(record.aws_region)),
        ("error_code", text(record.error_code)),
        ("error_message", text(record.error_message)),
        ("event_id", whole(&record.event_id)),
        ("event_name", text(record.event_name)),
        ("event_source", text(record.event_source)),
        ("event_time", whole(&record.event_time)),
        ("ingested_at", whole(&context.ingested_at)),
        (
            "read_only",
            read_only(record.read_only).map(AttrValue::Bool),
        ),
        ("request_id", text(record.request_id)),
        ("resource_arns", listed(&arns.resources)),
        ("resource_count", count(&arns.resources)),
        ("room_arns", listed(&arns.rooms)),
        ("room_count", count(&arns.rooms)),
        ("source_ip", text(record.source_ip)),
        ("source_object", whole(&context.source_object)),
        ("user_agent", text(record.user_agent)),
        ("user_key", whole(user_key.as_str())),
        ("user_name", text(user_name)),
        ("user_type", text(record.identity.user_type)),
    ];
    // Room for those the mapping adds later too: `day`, `expires_at`, `record` and the two flags.
    let mut attributes = Attributes::with_capacity(shared.len() + 5);
    for (name, value) in shared {
        if let Some(value) = value {
            attributes.insert(name, value);
        }
    }
    attributes
}

/// `readOnly` as a boolean: `true`/`false`, or the strings `"true"`/`"false"` older trails log.
fn read_only(value: Option<Raw<'_>>) -> Option<bool> {
    match value?.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => match text(value)?.as_ref() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
    }
}

/// Attributes that may be shortened when an item is still too large without `record`: the free
/// text of the record. The key mirrors (`event_id`, `event_time`, `user_key`), `source_object`
/// (where the full record is) and the ones the function sets stay whole.
const SHORTENABLE: [&str; 13] = [
    "error_message",
    "user_agent",
    "room_arns",
    "resource_arns",
    "user_name",
    "source_ip",
    "error_code",
    "event_name",
    "request_id",
    "user_type",
    "account_id",
    "aws_region",
    "event_source",
];

/// What [`fit`] had to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Fitted {
    pub record_truncated: bool,
    pub attributes_truncated: bool,
}

/// A record's text, copied into shared memory once, when the first of its items takes it: the user
/// item and the room items then hold the one copy.
pub(super) struct RecordText<'a> {
    text: &'a str,
    shared: OnceCell<Arc<str>>,
}

impl<'a> RecordText<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            shared: OnceCell::new(),
        }
    }

    fn len(&self) -> usize {
        self.text.len()
    }

    fn shared(&self) -> Arc<str> {
        Arc::clone(self.shared.get_or_init(|| self.text.into()))
    }
}

/// Adds `record` (the raw text, when given) if the largest item, whose key takes `key_bytes`, stays
/// within [`MAX_ITEM_BYTES`]; else (or when no text is given) sets `record_truncated`, and if that
/// is not enough shortens the largest free-text attributes (at a character boundary; a list loses
/// its last elements) and sets `attributes_truncated`.
pub(super) fn fit(
    attributes: &mut Attributes,
    key_bytes: usize,
    record_text: Option<&RecordText<'_>>,
) -> Fitted {
    let size = |attributes: &Attributes| key_bytes + attributes_size_bytes(attributes);
    let without_record = size(attributes);
    if let Some(record_text) = record_text
        && without_record + "record".len() + record_text.len() <= MAX_ITEM_BYTES
    {
        attributes.insert("record", AttrValue::S(record_text.shared()));
        return Fitted::default();
    }
    attributes.insert("record_truncated", AttrValue::Bool(true));
    let mut fitted = Fitted {
        record_truncated: true,
        attributes_truncated: false,
    };
    loop {
        let excess = size(attributes).saturating_sub(MAX_ITEM_BYTES);
        if excess == 0 {
            return fitted;
        }
        if !fitted.attributes_truncated {
            attributes.insert("attributes_truncated", AttrValue::Bool(true));
            fitted.attributes_truncated = true;
            continue;
        }
        let largest = SHORTENABLE
            .iter()
            .filter_map(|name| Some((*name, attributes.get(name)?.size_bytes())))
            .max_by_key(|(_, bytes)| *bytes);
        let Some((name, _)) = largest else {
            // Only the keys and fixed attributes are left: nothing more can go.
            return fitted;
        };
        let keep = match attributes.get_mut(name) {
            Some(AttrValue::S(value)) => {
                let end = value.floor_char_boundary(value.len().saturating_sub(excess));
                *value = value.get(..end).unwrap_or_default().into();
                !value.is_empty()
            }
            Some(AttrValue::StringList(values)) => {
                let mut removed = 0;
                while removed < excess {
                    match values.pop() {
                        Some(value) => removed += value.len() + 1,
                        None => break,
                    }
                }
                !values.is_empty()
            }
            _ => false,
        };
        if !keep {
            attributes.remove(name);
        }
    }
}
