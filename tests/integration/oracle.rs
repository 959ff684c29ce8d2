//! A second, deliberately simple implementation of SPEC section 3 (items from records), written from
//! the spec alone, to check the real mapping's output in the table item by item.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Value, json};

/// An item in a comparable form: attribute name -> JSON (S as a string, N as `{"N": "…"}`, BOOL as a
/// boolean, L as an array).
pub type ComparableItem = BTreeMap<String, Value>;

/// The items SPEC section 3 expects for every record of `file_json` whose `eventSource` is
/// `a4b.amazonaws.com`, minus `ingested_at` (the time of writing).
pub fn expected_items(file_json: &str, source_object: &str) -> Vec<ComparableItem> {
    #[derive(serde::Deserialize)]
    struct File<'a> {
        #[serde(borrow, rename = "Records")]
        records: Vec<&'a RawValue>,
    }
    let file: File = serde_json::from_str(file_json).expect("the sample file is valid JSON");
    let mut items = Vec::new();
    for raw in file.records {
        let record: Value = serde_json::from_str(raw.get()).expect("record parses");
        if record["eventSource"] != "a4b.amazonaws.com" {
            continue;
        }
        items.extend(items_of(&record, raw.get(), source_object));
    }
    items.sort_by_key(|item| (item["pk"].to_string(), item["sk"].to_string()));
    items
}

fn items_of(record: &Value, raw: &str, source_object: &str) -> Vec<ComparableItem> {
    let identity = &record["userIdentity"];
    let user_key = ["arn", "invokedBy", "principalId", "accountId"]
        .iter()
        .filter_map(|field| identity[*field].as_str())
        .find(|value| !value.is_empty())
        .unwrap_or("unknown")
        .to_owned();
    let rooms = rooms_of(record);
    let sk = format!(
        "{}#{}",
        record["eventTime"].as_str().expect("eventTime"),
        record["eventID"].as_str().expect("eventID")
    );

    let mut attributes = ComparableItem::new();
    let mut text = |name: &str, value: &Value| {
        if let Some(value) = value.as_str() {
            attributes.insert(name.to_owned(), json!(value));
        }
    };
    text("event_id", &record["eventID"]);
    text("event_time", &record["eventTime"]);
    text("event_name", &record["eventName"]);
    text("event_source", &record["eventSource"]);
    text("aws_region", &record["awsRegion"]);
    if record["recipientAccountId"].is_string() {
        text("account_id", &record["recipientAccountId"]);
    } else {
        text("account_id", &identity["accountId"]);
    }
    text("user_type", &identity["type"]);
    if identity["userName"].is_string() {
        text("user_name", &identity["userName"]);
    } else {
        text(
            "user_name",
            &identity["sessionContext"]["sessionIssuer"]["userName"],
        );
    }
    text("source_ip", &record["sourceIPAddress"]);
    text("user_agent", &record["userAgent"]);
    text("request_id", &record["requestID"]);
    text("error_code", &record["errorCode"]);
    text("error_message", &record["errorMessage"]);
    match &record["readOnly"] {
        Value::Bool(flag) => {
            attributes.insert("read_only".into(), json!(flag));
        }
        Value::String(flag) if flag == "true" || flag == "false" => {
            attributes.insert("read_only".into(), json!(flag == "true"));
        }
        _ => {}
    }
    attributes.insert("user_key".into(), json!(user_key));
    if !rooms.is_empty() {
        attributes.insert("room_arns".into(), json!(rooms));
    }
    attributes.insert("source_object".into(), json!(source_object));
    attributes.insert("record".into(), json!(raw));

    let mut items = Vec::new();
    let pks = std::iter::once(format!("USER#{user_key}"))
        .chain(rooms.iter().map(|room| format!("ROOM#{room}")));
    for pk in pks {
        let mut item = attributes.clone();
        item.insert("pk".into(), json!(pk));
        item.insert("sk".into(), json!(sk));
        items.push(item);
    }
    items
}

fn rooms_of(record: &Value) -> Vec<String> {
    let mut strings = Vec::new();
    collect_strings(&record["requestParameters"], &mut strings);
    collect_strings(&record["responseElements"], &mut strings);
    if let Some(resources) = record["resources"].as_array() {
        for resource in resources {
            if let Some(arn) = resource["ARN"].as_str() {
                strings.push(arn.to_owned());
            }
        }
    }
    let mut rooms: Vec<String> = Vec::new();
    for candidate in strings {
        if is_room_arn(&candidate) && !rooms.contains(&candidate) {
            rooms.push(candidate);
        }
    }
    rooms
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(values) => values.iter().for_each(|value| collect_strings(value, out)),
        Value::Object(members) => members
            .values()
            .for_each(|value| collect_strings(value, out)),
        _ => {}
    }
}

/// `arn:<partition>:a4b:<region>:<12 digits>:room/<…>`, the whole string.
pub fn is_room_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "a4b", region, account, resource]
        if !partition.is_empty()
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("room/").is_some_and(|rest| !rest.is_empty()))
}

/// A table item (as scanned) in the comparable form, without `ingested_at`.
pub fn comparable(
    item: &BTreeMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> ComparableItem {
    use aws_sdk_dynamodb::types::AttributeValue;
    fn convert(value: &AttributeValue) -> Value {
        match value {
            AttributeValue::S(text) => json!(text),
            AttributeValue::N(number) => json!({ "N": number }),
            AttributeValue::Bool(flag) => json!(flag),
            AttributeValue::L(values) => Value::Array(values.iter().map(convert).collect()),
            other => json!({ "unexpected": format!("{other:?}") }),
        }
    }
    item.iter()
        .filter(|(name, _)| name.as_str() != "ingested_at")
        .map(|(name, value)| (name.clone(), convert(value)))
        .collect()
}
