//! EventBridge: S3's `Object Created` event from a rule on the log bucket. The key is not
//! URL-encoded, as observed; since AWS documents no example with special characters, a key with
//! `+` or `%` that answers NoSuchKey is tried once more form-decoded (SPEC section 1b).

use serde::Deserialize;
use serde_json::Value;

use super::{Delivery, KeyForm, PayloadError};
use crate::notification::{IgnoreReason, Notification, ObjectRef};

/// The detail-type of the one S3 event the function processes.
const OBJECT_CREATED: &str = "Object Created";

/// An EventBridge event: `detail-type`, `source` and `detail` are required, as they were with
/// `aws_lambda_events`' `EventBridgeEvent`; `id` is optional.
#[derive(Deserialize)]
struct EventBridgeEvent {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(rename = "source")]
    _source: String,
    detail: Detail,
}

#[derive(Debug, Default, Deserialize)]
struct Detail {
    #[serde(default)]
    bucket: Option<Named>,
    #[serde(default)]
    object: Option<Keyed>,
}

#[derive(Debug, Default, Deserialize)]
struct Named {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Keyed {
    #[serde(default)]
    key: Option<String>,
}

/// The delivery of an EventBridge event from S3 (`"source":"aws.s3"`).
pub(super) fn delivery(payload: Value) -> Result<Delivery, PayloadError> {
    let event: EventBridgeEvent =
        serde_json::from_value(payload).map_err(|error| PayloadError::Malformed {
            kind: "an EventBridge event from S3",
            reason: error.to_string(),
        })?;
    let id = event.id.unwrap_or_else(|| "EventBridge event".to_owned());
    let named = if event.detail_type == OBJECT_CREATED {
        object_of(event.detail)
    } else {
        // A rule that also matches other S3 events must not make the function fetch objects.
        Err(IgnoreReason::NotObjectCreated {
            event_name: Some(event.detail_type),
        })
    };
    let notification = Notification::one(named);
    Ok(Delivery {
        id,
        message_bytes: 0,
        notification,
        keys: KeyForm::MaybeFormEncoded,
    })
}

fn object_of(detail: Detail) -> Result<ObjectRef, IgnoreReason> {
    let bucket = detail
        .bucket
        .and_then(|bucket| bucket.name)
        .filter(|name| !name.is_empty())
        .ok_or(IgnoreReason::MissingBucket {
            field: "detail.bucket.name",
        })?;
    let key = detail
        .object
        .and_then(|object| object.key)
        .filter(|key| !key.is_empty())
        .ok_or(IgnoreReason::MissingKey {
            field: "detail.object.key",
        })?;
    Ok(ObjectRef { bucket, key })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::trigger::Trigger;
    use crate::trigger::tests::reference;

    fn delivery_of(payload: Value) -> Delivery {
        match Trigger::recognise(payload).unwrap() {
            Trigger::EventBridge(delivery) => delivery,
            other => panic!("not EventBridge: {other:?}"),
        }
    }

    fn with_key(key: &str) -> Value {
        let mut payload = reference("events/eventbridge-s3-object-created.json");
        payload["detail"]["object"]["key"] = json!(key);
        payload
    }

    #[test]
    fn the_reference_event_names_its_object_by_id() {
        let delivery = delivery_of(reference("events/eventbridge-s3-object-created.json"));
        assert_eq!(delivery.id, "f5f1e65c-dc3a-93ca-6c1e-b1647eac7963");
        assert_eq!(delivery.keys, KeyForm::MaybeFormEncoded);
        assert_eq!(
            delivery.notification,
            Notification::Objects {
                objects: vec![ObjectRef {
                    bucket: "example-bucket".to_owned(),
                    key: "IMG_m7fzo3.jpg".to_owned(),
                }],
                ignored: Vec::new(),
            }
        );
    }

    #[test]
    fn the_key_is_taken_as_sent_not_url_decoded() {
        let delivery = delivery_of(with_key("trail logs/team+a4b/x%2B.json.gz"));
        let Notification::Objects { objects, .. } = delivery.notification else {
            panic!("no objects");
        };
        assert_eq!(objects[0].key, "trail logs/team+a4b/x%2B.json.gz");
    }

    #[test]
    fn other_s3_events_are_ignored_naming_their_detail_type() {
        let mut payload = reference("events/eventbridge-s3-object-created.json");
        payload["detail-type"] = json!("Object Deleted");
        let Notification::Objects { objects, ignored } = delivery_of(payload).notification else {
            panic!("no objects");
        };
        assert!(objects.is_empty());
        assert_eq!(
            ignored[0].reason,
            IgnoreReason::NotObjectCreated {
                event_name: Some("Object Deleted".to_owned())
            }
        );
    }

    #[test]
    fn an_event_without_a_key_names_no_object() {
        let mut payload = reference("events/eventbridge-s3-object-created.json");
        payload["detail"]["object"] = json!({});
        let Notification::Objects { objects, ignored } = delivery_of(payload).notification else {
            panic!("no objects");
        };
        assert!(objects.is_empty());
        assert_eq!(
            ignored[0].reason,
            IgnoreReason::MissingKey {
                field: "detail.object.key"
            }
        );
    }
}
