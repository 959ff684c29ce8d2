//! A batch of a Step Functions Distributed Map (the backfill on AWS, SPEC sections 1b and 6):
//! `{"Items":[{"Key":…},…],"BatchInput":{"Bucket":…}}`, keys raw (not URL-encoded), more columns
//! of the manifest allowed in `Items`.
//!

use serde::Deserialize;
use serde_json::Value;

use super::{Delivery, KeyForm, PayloadError};
use crate::notification::{IgnoreReason, Notification, ObjectRef};

/// One batch of the map.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapBatch {
    items: Vec<MapItem>,
    batch_input: BatchInput,
}

/// One row of the manifest; columns other than `Key` are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MapItem {
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchInput {
    bucket: String,
}

impl MapBatch {
    pub(super) fn from_payload(payload: Value) -> Result<Self, PayloadError> {
        let malformed = |reason: String| PayloadError::Malformed {
            kind: "a Distributed Map batch",
            reason: format!(
                "{reason} (expected {{\"Items\":[{{\"Key\":…}},…],\"BatchInput\":{{\"Bucket\":…}}}})"
            ),
        };
        let batch: MapBatch =
            serde_json::from_value(payload).map_err(|error| malformed(error.to_string()))?;
        if batch.batch_input.bucket.is_empty() {
            return Err(malformed("`BatchInput.Bucket` is empty".to_owned()));
        }
        Ok(batch)
    }

    pub(super) fn deliveries(&self) -> Vec<Delivery> {
        self.items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let named = if item.key.is_empty() {
                    Err(IgnoreReason::EmptyKey)
                } else {
                    Ok(ObjectRef {
                        bucket: self.batch_input.bucket.clone(),
                        key: item.key.clone(),
                    })
                };
                Delivery {
                    id: format!("Items[{index}]"),
                    message_bytes: 0,
                    notification: Notification::one(named),
                    keys: KeyForm::AsNamed,
                }
            })
            .collect()
    }

    /// Each item's key, in the order of `Items`: the `i`-th item gave the `i`-th delivery.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|item| item.key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::trigger::Trigger;

    const LOG_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1205Z_Ab12Cd34Ef56Gh78.json.gz";

    fn batch(items: Value) -> MapBatch {
        let payload = json!({"Items": items, "BatchInput": {"Bucket": "trail-bucket"}});
        match Trigger::recognise(payload).unwrap() {
            Trigger::MapBatch(batch) => batch,
            other => panic!("not a map batch: {other:?}"),
        }
    }

    fn object(key: &str) -> ObjectRef {
        ObjectRef {
            bucket: "trail-bucket".to_owned(),
            key: key.to_owned(),
        }
    }

    #[test]
    fn keys_are_taken_raw_and_extra_columns_are_ignored() {
        let batch = batch(json!([
            {"Key": "trail logs/team+a4b/x%2B.json.gz", "Size": 10, "Etag": "e"},
            {"Key": LOG_KEY}
        ]));
        let objects: Vec<Vec<ObjectRef>> = batch
            .deliveries()
            .into_iter()
            .map(|delivery| match delivery.notification {
                Notification::Objects { objects, .. } => objects,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            objects,
            [
                vec![object("trail logs/team+a4b/x%2B.json.gz")],
                vec![object(LOG_KEY)]
            ]
        );
        assert_eq!(
            batch.keys().collect::<Vec<_>>(),
            ["trail logs/team+a4b/x%2B.json.gz", LOG_KEY]
        );
    }

    #[test]
    fn a_batch_without_its_bucket_is_refused_saying_what_is_expected() {
        let error = Trigger::recognise(json!({"Items": [{"Key": LOG_KEY}]})).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("Distributed Map batch"), "{text}");
        assert!(text.contains("BatchInput"), "{text}");
    }

    #[test]
    fn a_batch_with_an_empty_bucket_is_refused() {
        let payload = json!({"Items": [{"Key": LOG_KEY}], "BatchInput": {"Bucket": ""}});
        let text = Trigger::recognise(payload).unwrap_err().to_string();
        assert!(text.contains("`BatchInput.Bucket` is empty"), "{text}");
    }
}
