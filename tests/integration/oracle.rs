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

/// DynamoDB's key limits (bytes).
const MAX_PK: usize = 2048;
const MAX_SK: usize = 1024;
/// `room_arns` and `resource_arns` list at most this many; past this many in all, the room and
/// resource items leave `record` out.
const LISTED: usize = 100;

fn items_of(record: &Value, raw: &str, source_object: &str) -> Vec<ComparableItem> {
    let identity = &record["userIdentity"];
    let user_key = ["arn", "invokedBy", "principalId", "accountId"]
        .iter()
        .filter_map(|field| identity[*field].as_str())
        .find(|value| !value.is_empty())
        .unwrap_or("unknown")
        .to_owned();
    let (rooms, resources) = arns_of(record);
    let event_time = record["eventTime"].as_str().expect("eventTime");
    let sk = format!(
        "{event_time}#{}",
        record["eventID"].as_str().expect("eventID")
    );
    let user_pk = format!("USER#{user_key}");
    if sk.len() > MAX_SK || user_pk.len() > MAX_PK {
        return Vec::new();
    }

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
    for (list, count, arns) in [
        ("room_arns", "room_count", &rooms),
        ("resource_arns", "resource_count", &resources),
    ] {
        if !arns.is_empty() {
            let listed: Vec<&String> = arns.iter().take(LISTED).collect();
            attributes.insert(list.into(), json!(listed));
            attributes.insert(count.into(), json!({ "N": arns.len().to_string() }));
        }
    }
    attributes.insert("source_object".into(), json!(source_object));
    attributes.insert("record".into(), json!(raw));

    let mut user = attributes.clone();
    user.insert("pk".into(), json!(user_pk));
    user.insert("sk".into(), json!(sk));
    if let Ok(time) = event_time.parse::<jiff::Timestamp>() {
        user.insert("day".into(), json!(time.strftime("%Y-%m-%d").to_string()));
    }
    let mut items = vec![user];
    if rooms.len() + resources.len() > LISTED {
        attributes.remove("record");
        attributes.insert("record_truncated".into(), json!(true));
    }
    let pks = rooms
        .iter()
        .map(|room| format!("ROOM#{room}"))
        .chain(resources.iter().map(|arn| format!("RESOURCE#{arn}")));
    for pk in pks.filter(|pk| pk.len() <= MAX_PK) {
        let mut item = attributes.clone();
        item.insert("pk".into(), json!(pk));
        item.insert("sk".into(), json!(sk));
        items.push(item);
    }
    items
}

/// The rooms and the other A4B resources a record touches, each deduplicated in the order found.
fn arns_of(record: &Value) -> (Vec<String>, Vec<String>) {
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
    let (mut rooms, mut resources): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for candidate in strings {
        let list = match a4b_type(&candidate) {
            Some("room") => &mut rooms,
            Some(_) => &mut resources,
            None => continue,
        };
        if !list.contains(&candidate) {
            list.push(candidate);
        }
    }
    (rooms, resources)
}

/// Every string of `value`, object member names included, in document order.
fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(values) => values.iter().for_each(|value| collect_strings(value, out)),
        Value::Object(members) => {
            for (name, value) in members {
                out.push(name.clone());
                collect_strings(value, out);
            }
        }
        _ => {}
    }
}

/// The `<type>` of `arn:<partition>:a4b:<region>:<12 digits>:<type>/<…>`, the whole string.
fn a4b_type(text: &str) -> Option<&str> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let ["arn", partition, "a4b", region, account, resource] = parts.as_slice() else {
        return None;
    };
    let (kind, id) = resource.split_once('/')?;
    let valid = !partition.is_empty()
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !kind.is_empty()
        && !id.is_empty();
    valid.then_some(kind)
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
