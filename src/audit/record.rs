//! One CloudTrail record, read once: the fields the audit needs, borrowed from the raw text.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::RejectReason;
use super::fields::{Fields, non_empty_text};

/// The fields of a record the items are made of. Each is the raw JSON of the field, whatever its
/// type: a field of an unexpected type is left out of the items, it does not reject the record.
pub(super) struct Record<'a> {
    pub event_id: Cow<'a, str>,
    pub event_time: Cow<'a, str>,
    pub event_name: Option<&'a RawValue>,
    pub event_source: Option<&'a RawValue>,
    pub aws_region: Option<&'a RawValue>,
    pub recipient_account_id: Option<&'a RawValue>,
    pub source_ip: Option<&'a RawValue>,
    pub user_agent: Option<&'a RawValue>,
    pub request_id: Option<&'a RawValue>,
    pub read_only: Option<&'a RawValue>,
    pub error_code: Option<&'a RawValue>,
    pub error_message: Option<&'a RawValue>,
    pub request_parameters: Option<&'a RawValue>,
    pub response_elements: Option<&'a RawValue>,
    pub resources: Option<&'a RawValue>,
    pub identity: Identity<'a>,
}

/// The fields of `userIdentity` the items use.
pub(super) struct Identity<'a> {
    /// `[arn, invokedBy, principalId, accountId]`: the user key candidates, in order.
    pub key_candidates: [Option<&'a RawValue>; 4],
    pub account_id: Option<&'a RawValue>,
    pub user_type: Option<&'a RawValue>,
    pub user_name: Option<&'a RawValue>,
    /// `sessionContext.sessionIssuer.userName`: the role (or user) behind a session.
    pub session_issuer_user_name: Option<&'a RawValue>,
}

impl<'a> Record<'a> {
    pub fn parse(text: &'a str) -> Result<Self, RejectReason> {
        if !text.trim_start().starts_with('{') {
            return Err(match serde_json::from_str::<IgnoredAny>(text) {
                Ok(_) => RejectReason::NotAnObject,
                Err(error) => invalid_json(&error),
            });
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
        ] = Fields {
            names: [
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
            ],
        }
        .parse(text)
        .map_err(|error| invalid_json(&error))?;

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
    fn parse(user_identity: Option<&'a RawValue>) -> Self {
        let [
            arn,
            invoked_by,
            principal_id,
            account_id,
            user_type,
            user_name,
            session_context,
        ] = Fields {
            names: [
                "arn",
                "invokedBy",
                "principalId",
                "accountId",
                "type",
                "userName",
                "sessionContext",
            ],
        }
        .of(user_identity);
        let [session_issuer] = Fields {
            names: ["sessionIssuer"],
        }
        .of(session_context);
        let [session_issuer_user_name] = Fields {
            names: ["userName"],
        }
        .of(session_issuer);
        Identity {
            key_candidates: [arn, invoked_by, principal_id, account_id],
            account_id,
            user_type,
            user_name,
            session_issuer_user_name,
        }
    }
}

/// serde_json's message, with what its nesting limit means for a record.
pub(super) fn invalid_json(error: &serde_json::Error) -> RejectReason {
    let message = error.to_string();
    if message.contains("recursion limit") {
        RejectReason::InvalidJson(format!(
            "nested deeper than the 128 levels serde_json reads ({message}); \
             the record is kept in its log file, not in the table"
        ))
    } else {
        RejectReason::InvalidJson(message)
    }
}
