//! One CloudTrail record, read once: the fields the audit needs, borrowed from the raw text.

use std::borrow::Cow;

use super::RejectReason;
use super::fields::non_empty_text;
use crate::json::Raw;

/// The fields of a record the items are made of. Each is the raw JSON of the field, whatever its
/// type: a field of an unexpected type is left out of the items, it does not reject the record.
pub(super) struct Record<'a> {
    pub event_id: Cow<'a, str>,
    pub event_time: Cow<'a, str>,
    pub event_name: Option<Raw<'a>>,
    pub event_source: Option<Raw<'a>>,
    pub aws_region: Option<Raw<'a>>,
    pub recipient_account_id: Option<Raw<'a>>,
    pub source_ip: Option<Raw<'a>>,
    pub user_agent: Option<Raw<'a>>,
    pub request_id: Option<Raw<'a>>,
    pub read_only: Option<Raw<'a>>,
    pub error_code: Option<Raw<'a>>,
    pub error_message: Option<Raw<'a>>,
    pub request_parameters: Option<Raw<'a>>,
    pub response_elements: Option<Raw<'a>>,
    pub resources: Option<Raw<'a>>,
    pub identity: Identity<'a>,
}

/// The fields of `userIdentity` the items use.
pub(super) struct Identity<'a> {
    /// `[arn, invokedBy, principalId, accountId]`: the user key candidates, in order.
    pub key_candidates: [Option<Raw<'a>>; 4],
    pub account_id: Option<Raw<'a>>,
    pub user_type: Option<Raw<'a>>,
    pub user_name: Option<Raw<'a>>,
    /// `sessionContext.sessionIssuer.userName`: the role (or user) behind a session.
    pub session_issuer_user_name: Option<Raw<'a>>,
}

impl<'a> Record<'a> {
    /// Checks the whole text against JSON's grammar (RFC 8259, not one library's reading of it),
    /// then takes the fields; a field of an unexpected type or content costs only itself.
    pub fn parse(text: &'a str) -> Result<Self, RejectReason> {
        let record =
            Raw::parse(text).map_err(|invalid| RejectReason::InvalidJson(invalid.to_string()))?;
        Self::read(record)
    }

    /// Takes the fields of a record whose text is checked already.
    pub fn read(record: Raw<'a>) -> Result<Self, RejectReason> {
        if !record.is_object() {
            return Err(RejectReason::NotAnObject);
        }
        let [
            event_id,
            event_time,
            event_name,
            event_source,
            aws_region,
            recipient_account_id,
            source_ip,
            user_agent,
            request_id,
            read_only,
            error_code,
            error_message,
            request_parameters,
            response_elements,
            resources,
            user_identity,
        ] = record.fields([
            "eventID",
            "eventTime",
            "eventName",
            "eventSource",
            "awsRegion",
            "recipientAccountId",
            "sourceIPAddress",
            "userAgent",
            "requestID",
            "readOnly",
            "errorCode",
            "errorMessage",
            "requestParameters",
            "responseElements",
            "resources",
            "userIdentity",
        ]);

        Ok(Record {
            event_id: non_empty_text(event_id).ok_or(RejectReason::MissingEventId)?,
            event_time: non_empty_text(event_time).ok_or(RejectReason::MissingEventTime)?,
            event_name,
            event_source,
            aws_region,
            recipient_account_id,
            source_ip,
            user_agent,
            request_id,
            read_only,
            error_code,
            error_message,
            request_parameters,
            response_elements,
            resources,
            identity: Identity::parse(user_identity),
        })
    }
}

impl<'a> Identity<'a> {
    /// Each field on its own: an odd key or value beside one costs nothing (SPEC section 2).
    fn parse(user_identity: Option<Raw<'a>>) -> Self {
        let [
            arn,
            invoked_by,
            principal_id,
            account_id,
            user_type,
            user_name,
            session_context,
        ] = fields_of(
            user_identity,
            [
                "arn",
                "invokedBy",
                "principalId",
                "accountId",
                "type",
                "userName",
                "sessionContext",
            ],
        );
        let [session_issuer] = fields_of(session_context, ["sessionIssuer"]);
        let [session_issuer_user_name] = fields_of(session_issuer, ["userName"]);
        Identity {
            key_candidates: [arn, invoked_by, principal_id, account_id],
            account_id,
            user_type,
            user_name,
            session_issuer_user_name,
        }
    }
}

/// The fields `names` of a value that may be absent (then it has none).
fn fields_of<'a, const N: usize>(value: Option<Raw<'a>>, names: [&str; N]) -> [Option<Raw<'a>>; N] {
    value.map_or([None; N], |value| value.fields(names))
}
