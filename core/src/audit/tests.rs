//! The rules of SPEC section 3, one test each, and every generated A4B operation and caller.

use a4b_audit_devtools::a4b_records::{self, ApiModel, Caller};
use serde_json::{Value, json};

use super::*;
use crate::item::{AttrValue, MAX_ITEM_BYTES};

const ROOM_A: &str = "arn:aws:a4b:us-east-1:123456789012:room/8eed09c4eae340d2ba08b8c6c3e40970/66afda686e75c5b62fceaf60ac00e7a6";
const ROOM_B: &str = "arn:aws:a4b:us-east-1:123456789012:room/0123456789abcdef0123456789abcdef/fedcba9876543210fedcba9876543210";
const PROFILE: &str = "arn:aws:a4b:us-east-1:123456789012:profile/8eed09c4eae340d2ba08b8c6c3e40970/00491b672c651240de09540d2072f660";

fn context() -> AuditContext {
    AuditContext {
        source_object: "s3://trail/AWSLogs/123456789012/CloudTrail/us-east-1/2017/11/13/x.json.gz"
            .into(),
        ingested_at: "2026-11-25T10:00:00Z".into(),
        retention: None,
    }
}

/// A minimal accepted record with `fields` added (or replaced).
fn record_with(fields: Value) -> String {
    let mut record = json!({
        "eventID": "2b045b94-82d9-407d-aff3-6c308b40fecb",
        "eventTime": "2017-11-13T10:00:02Z",
        "eventSource": "a4b.amazonaws.com",
        "eventName": "UpdateRoom",
    });
    if let (Value::Object(record), Value::Object(fields)) = (&mut record, fields) {
        record.extend(fields);
    }
    record.to_string()
}

/// The items of a record that is not expired.
fn mapped_items(record: &str, context: &AuditContext) -> Vec<Item> {
    build_items(record.as_bytes(), context)
        .unwrap()
        .into_items()
        .expect("not expired")
        .collect()
}

fn items_of(record: &str) -> Vec<Item> {
    mapped_items(record, &context())
}

/// What mapping `record` logs at any level, one line an event: level, target, message, fields.
///
/// One global subscriber writes each event into a buffer of the thread that logged it. A
/// subscriber set per test (`with_default`) loses events when tests run in parallel: dropping one
/// rebuilds the callsites' interest while another test's mapping logs.
fn logs_of_mapping(record: &str) -> String {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThisThreadsLog)
            .with_ansi(false)
            .without_time()
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    THIS_THREADS_LOG.set(Some(Vec::new()));
    items_of(record);
    String::from_utf8(THIS_THREADS_LOG.take().unwrap()).unwrap()
}

thread_local! {
    /// The log of the test running on this thread, while it captures one.
    static THIS_THREADS_LOG: std::cell::RefCell<Option<Vec<u8>>> =
        const { std::cell::RefCell::new(None) };
}

struct ThisThreadsLog;

impl std::io::Write for ThisThreadsLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        THIS_THREADS_LOG.with_borrow_mut(|log| {
            if let Some(log) = log {
                log.extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logged lines that contain `text`.
fn lines_with<'a>(logs: &'a str, text: &str) -> Vec<&'a str> {
    logs.lines().filter(|line| line.contains(text)).collect()
}

/// The ARNs of the items whose partition key starts with `prefix`, in item order.
fn partitions_of<'i>(items: &'i [Item], prefix: &str) -> Vec<&'i str> {
    items
        .iter()
        .filter_map(|item| item.key.pk.strip_prefix(prefix))
        .collect()
}

fn rooms_of(items: &[Item]) -> Vec<&str> {
    partitions_of(items, "ROOM#")
}

fn resources_of(items: &[Item]) -> Vec<&str> {
    partitions_of(items, "RESOURCE#")
}

fn user_key_of(record: &str) -> String {
    let items = items_of(record);
    items[0].key.pk.strip_prefix("USER#").unwrap().to_owned()
}

fn reject_reason(record: &[u8]) -> RejectReason {
    build_items(record, &context()).unwrap_err()
}

// ---- every generated operation and caller ----

/// The non-empty string at `path` in the record, as an auditor must copy it.
fn string_at<'v>(record: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut value = record;
    for step in path {
        value = value.get(step)?;
    }
    value.as_str().filter(|text| !text.is_empty())
}

fn check_generated(model: &ApiModel, operation: &str, caller: Caller, seed: u64) {
    let generated = a4b_records::record(model, operation, caller, seed);
    let raw = generated.record.to_string();
    let items = items_of(&raw);
    let what = format!("{operation} by {caller:?}, seed {seed}");

    assert_eq!(
        items[0].key.pk,
        format!("USER#{}", generated.user_key),
        "{what}"
    );
    let mut found: Vec<&str> = rooms_of(&items);
    let mut expected: Vec<&str> = generated.room_arns.iter().map(String::as_str).collect();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected, "{what}");
    let mut found: Vec<&str> = resources_of(&items);
    let mut expected: Vec<&str> = generated.resource_arns.iter().map(String::as_str).collect();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected, "{what}");
    assert_eq!(
        items.len(),
        1 + rooms_of(&items).len() + resources_of(&items).len()
    );

    let record = &generated.record;
    let sk = format!(
        "{}#{}",
        string_at(record, &["eventTime"]).unwrap(),
        string_at(record, &["eventID"]).unwrap()
    );
    let read_only = match record.get("readOnly") {
        Some(Value::Bool(flag)) => Some(*flag),
        Some(Value::String(text)) => Some(text == "true"),
        _ => None,
    };
    let context = context();
    let strings = [
        ("event_id", string_at(record, &["eventID"])),
        ("event_time", string_at(record, &["eventTime"])),
        ("event_name", string_at(record, &["eventName"])),
        ("event_source", string_at(record, &["eventSource"])),
        ("aws_region", string_at(record, &["awsRegion"])),
        (
            "account_id",
            string_at(record, &["recipientAccountId"])
                .or(string_at(record, &["userIdentity", "accountId"])),
        ),
        ("user_key", Some(generated.user_key.as_str())),
        ("user_type", string_at(record, &["userIdentity", "type"])),
        (
            "user_name",
            string_at(record, &["userIdentity", "userName"]).or(string_at(
                record,
                &[
                    "userIdentity",
                    "sessionContext",
                    "sessionIssuer",
                    "userName",
                ],
            )),
        ),
        ("source_ip", string_at(record, &["sourceIPAddress"])),
        ("user_agent", string_at(record, &["userAgent"])),
        ("request_id", string_at(record, &["requestID"])),
        ("error_code", string_at(record, &["errorCode"])),
        ("error_message", string_at(record, &["errorMessage"])),
        ("source_object", Some(context.source_object.as_str())),
        ("ingested_at", Some(context.ingested_at.as_str())),
        ("record", Some(raw.as_str())),
    ];
    for item in &items {
        assert_eq!(item.key.sk, sk, "{what}");
        for (name, value) in strings {
            assert_eq!(item.string(name), value, "{what}: {name}");
        }
        assert_eq!(
            item.attributes.get("read_only"),
            read_only.map(AttrValue::Bool).as_ref(),
            "{what}"
        );
        assert_eq!(room_arns_attribute(item), rooms_of(&items), "{what}");
        assert_eq!(
            list_attribute(item, "resource_arns"),
            resources_of(&items),
            "{what}"
        );
        // The user item has `day` besides.
        let user_only = usize::from(item.key.pk.starts_with("USER#"));
        assert_eq!(
            item.attributes.len(),
            items[0].attributes.len() - 1 + user_only,
            "{what}"
        );
    }
    assert_eq!(
        items[0].string("day"),
        Some(&string_at(record, &["eventTime"]).unwrap()[..10]),
        "{what}"
    );
}

/// A list-of-strings attribute (empty when the item has none).
fn list_attribute<'i>(item: &'i Item, name: &str) -> Vec<&'i str> {
    match item.attributes.get(name) {
        Some(AttrValue::StringList(values)) => values.iter().map(String::as_str).collect(),
        None => Vec::new(),
        Some(other) => panic!("{name} is {other:?}"),
    }
}

/// The `room_arns` attribute (empty when the item has none).
fn room_arns_attribute(item: &Item) -> Vec<&str> {
    list_attribute(item, "room_arns")
}

#[test]
fn every_operation_and_caller_gives_the_expected_user_rooms_and_attributes() {
    let model = ApiModel::reference().unwrap();
    let operations = model.operations();
    assert_eq!(operations.len(), 93);
    let mut records_with_rooms = 0;
    for operation in &operations {
        for caller in Caller::ALL {
            for seed in 0..3 {
                check_generated(&model, operation, caller, seed);
                if !a4b_records::record(&model, operation, caller, seed)
                    .room_arns
                    .is_empty()
                {
                    records_with_rooms += 1;
                }
            }
        }
    }
    // The generator must exercise the room rules, not only records without rooms.
    assert!(records_with_rooms > 500, "{records_with_rooms}");
}

#[test]
fn room_items_follow_the_room_arns_attribute_in_order() {
    let items = items_of(&record_with(json!({
        "requestParameters": {"roomArn": ROOM_B},
        "responseElements": {"roomArn": ROOM_A},
    })));
    assert_eq!(rooms_of(&items), [ROOM_B, ROOM_A]);
    assert_eq!(room_arns_attribute(&items[0]), [ROOM_B, ROOM_A]);
}

// ---- the documentation example ----

#[test]
fn the_documentation_example_gives_a_user_item_a_room_item_and_a_profile_item() {
    let file = std::fs::read_to_string(concat!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.."),
        "/tests/fixtures/reference/a4b-cloudtrail-doc-example.json"
    ))
    .unwrap();
    let file: Value = serde_json::from_str(&file).unwrap();
    let raw = file["Records"][0].to_string();
    let items = items_of(&raw);

    let sk = "2017-11-13T10:00:02Z#2b045b94-82d9-407d-aff3-6c308b40fecb";
    let mut expected_room = Item::new(format!("ROOM#{ROOM_A}"), sk.into());
    let s = |text: &str| AttrValue::S(text.into());
    let n = |number: &str| AttrValue::N(number.into());
    expected_room.attributes = [
        ("event_id", s("2b045b94-82d9-407d-aff3-6c308b40fecb")),
        ("event_time", s("2017-11-13T10:00:02Z")),
        ("event_name", s("CreateRoom")),
        ("event_source", s("a4b.amazonaws.com")),
        ("aws_region", s("us-east-1")),
        ("account_id", s("123456789012")),
        ("user_key", s("arn:aws:iam::123456789012:user/Alice")),
        ("user_type", s("IAMUser")),
        ("user_name", s("Alice")),
        ("source_ip", s("192.2.0.1")),
        ("user_agent", s("AWS Internal")),
        ("request_id", s("6a875d42-c859-11e7-93bc-f944dc16ba6b")),
        ("room_arns", AttrValue::StringList(vec![ROOM_A.into()])),
        ("room_count", n("1")),
        ("resource_arns", AttrValue::StringList(vec![PROFILE.into()])),
        ("resource_count", n("1")),
        ("source_object", s(&context().source_object)),
        ("record", s(&raw)),
        ("ingested_at", s(&context().ingested_at)),
    ]
    .into_iter()
    .collect();
    let mut expected_profile = expected_room.clone();
    expected_profile.key.pk = format!("RESOURCE#{PROFILE}");
    let mut expected_user = expected_room.clone();
    expected_user.key.pk = "USER#arn:aws:iam::123456789012:user/Alice".into();
    expected_user.attributes.insert("day", s("2017-11-13"));

    assert_eq!(items, [expected_user, expected_room, expected_profile]);
}

// ---- user key ----

#[test]
fn user_key_is_the_first_of_arn_invoked_by_principal_id_account_id() {
    let identity = |fields: Value| record_with(json!({ "userIdentity": fields }));
    let all = json!({"arn": "A", "invokedBy": "I", "principalId": "P", "accountId": "C"});
    assert_eq!(user_key_of(&identity(all)), "A");
    let no_arn = json!({"invokedBy": "I", "principalId": "P", "accountId": "C"});
    assert_eq!(user_key_of(&identity(no_arn)), "I");
    let principal = json!({"principalId": "P", "accountId": "C"});
    assert_eq!(user_key_of(&identity(principal)), "P");
    assert_eq!(user_key_of(&identity(json!({"accountId": "C"}))), "C");
}

#[test]
fn user_key_is_unknown_without_an_identity() {
    assert_eq!(user_key_of(&record_with(json!({}))), "unknown");
    assert_eq!(
        user_key_of(&record_with(json!({"userIdentity": null}))),
        "unknown"
    );
    assert_eq!(
        user_key_of(&record_with(json!({"userIdentity": "x"}))),
        "unknown"
    );
    let typed_only = json!({"userIdentity": {"type": "Unknown"}});
    assert_eq!(user_key_of(&record_with(typed_only)), "unknown");
}

#[test]
fn user_key_skips_empty_and_non_string_values() {
    let record = record_with(json!({"userIdentity": {
        "arn": "", "invokedBy": 12, "principalId": "", "accountId": "123456789012"
    }}));
    assert_eq!(user_key_of(&record), "123456789012");
}

// ---- rooms ----

#[test]
fn rooms_are_found_at_any_depth() {
    let record = record_with(json!({"requestParameters": {
        "a": {"b": {"c": {"d": {"roomArn": ROOM_A}}}}
    }}));
    assert_eq!(rooms_of(&items_of(&record)), [ROOM_A]);
}

#[test]
fn rooms_are_found_in_lists() {
    let record = record_with(json!({"responseElements": {
        "rooms": [{"roomArn": ROOM_A}, [ROOM_B]]
    }}));
    assert_eq!(rooms_of(&items_of(&record)), [ROOM_A, ROOM_B]);
}

#[test]
fn rooms_are_found_in_the_arn_of_resources() {
    let record = record_with(json!({"resources": [
        {"ARN": PROFILE, "type": "AWS::A4B::Profile"},
        {"ARN": ROOM_A, "type": "AWS::A4B::Room", "accountId": "123456789012"},
        "not an entry",
        {"arn": ROOM_B},
    ]}));
    assert_eq!(rooms_of(&items_of(&record)), [ROOM_A]);
}

#[test]
fn rooms_are_found_in_object_keys() {
    let record = record_with(json!({"requestParameters": {"tags": {ROOM_A: "x"}}}));
    assert_eq!(rooms_of(&items_of(&record)), [ROOM_A]);
}

#[test]
fn rooms_are_compared_after_json_unescaping() {
    let escaped = ROOM_A.replace('/', "\\/");
    let record = format!(
        r#"{{"eventID":"e","eventTime":"t","requestParameters":{{"roomArn":"{escaped}"}}}}"#
    );
    assert_eq!(rooms_of(&items_of(&record)), [ROOM_A]);
}

#[test]
fn rooms_in_error_message_or_other_fields_do_not_count() {
    let record = record_with(json!({
        "errorCode": "NotFoundException",
        "errorMessage": ROOM_A,
        "additionalEventData": {"roomArn": ROOM_B},
        "userAgent": ROOM_B,
    }));
    assert!(rooms_of(&items_of(&record)).is_empty());
}

#[test]
fn partial_room_arns_are_no_rooms() {
    let not_rooms = [
        "arn:aws:a4b:us-east-1:123456789012:room/",
        "arn:aws:a4b:us-east-1:12345678901:room/abc",
        "arn:aws:a4b:us-east-1:1234567890123:room/abc",
        "arn:aws:a4b:us-east-1:12345678901x:room/abc",
        "arn:aws:a4b::123456789012:room/abc",
        "arn::a4b:us-east-1:123456789012:room/abc",
        "arn:aws:a4bx:us-east-1:123456789012:room/abc",
        "arn:aws:a4b:us-east-1:123456789012:profile/abc",
        "arn:aws:a4b:us-east-1:123456789012:rooms/abc",
        "arn:aws:a4b:us-east-1:123456789012:room",
        "see arn:aws:a4b:us-east-1:123456789012:room/abc",
        " arn:aws:a4b:us-east-1:123456789012:room/abc",
        "arn:aws:a4b:us-east-1:123456789012:room/abc and more",
        "arn:aws:a4b:us-east-1:123456789012:room/abc\n",
        "ARN:aws:a4b:us-east-1:123456789012:room/abc",
    ];
    for text in not_rooms {
        assert!(!is_room_arn(text), "{text:?}");
    }
    let record = record_with(json!({ "requestParameters": not_rooms }));
    assert!(rooms_of(&items_of(&record)).is_empty());
}

#[test]
fn room_arns_of_every_partition_count() {
    for arn in [
        "arn:aws:a4b:us-east-1:123456789012:room/abc",
        "arn:aws-cn:a4b:cn-north-1:123456789012:room/abc/def",
        "arn:aws-us-gov:a4b:us-gov-west-1:000000000000:room/x",
        ROOM_A,
    ] {
        assert!(is_room_arn(arn), "{arn}");
    }
}

#[test]
fn rooms_are_deduplicated_in_first_seen_order() {
    let record = record_with(json!({
        "requestParameters": {"roomArn": ROOM_B, "again": [ROOM_B, ROOM_A]},
        "responseElements": {"roomArn": ROOM_A},
        "resources": [{"ARN": ROOM_B}, {"ARN": ROOM_A}],
    }));
    let items = items_of(&record);
    assert_eq!(rooms_of(&items), [ROOM_B, ROOM_A]);
    assert_eq!(items.len(), 3);
}

#[test]
fn a_record_without_rooms_gives_only_the_user_item_and_no_room_arns() {
    let items = items_of(&record_with(
        json!({"requestParameters": null, "resources": null}),
    ));
    assert_eq!(items.len(), 1);
    assert!(!items[0].attributes.contains_key("room_arns"));
}

// ---- other resources ----

/// An A4B ARN of `kind` with the id `n`.
fn a4b_arn_of(kind: &str, n: usize) -> String {
    format!("arn:aws:a4b:us-east-1:123456789012:{kind}/{n:032x}/{n:032x}")
}

#[test]
fn every_other_a4b_resource_gets_a_resource_item() {
    let kinds = [
        "device",
        "profile",
        "skill-group",
        "address-book",
        "contact",
        "conference-provider",
        "network-profile",
        "gateway",
        "gateway-group",
        "schedule",
        "user",
    ];
    let arns: Vec<String> = kinds.iter().map(|kind| a4b_arn_of(kind, 7)).collect();
    let record =
        record_with(json!({ "requestParameters": {"arns": arns}, "resources": [{"ARN": ROOM_A}] }));
    let items = items_of(&record);
    assert_eq!(rooms_of(&items), [ROOM_A]);
    assert_eq!(resources_of(&items), arns);
    for arn in &arns {
        assert!(is_resource_arn(arn) && !is_room_arn(arn), "{arn}");
    }
    assert_eq!(list_attribute(&items[0], "resource_arns"), arns);
    assert_eq!(
        items[0].attributes.get("resource_count"),
        Some(&AttrValue::N(kinds.len().to_string()))
    );
}

#[test]
fn resources_are_found_like_rooms_deduplicated_in_first_seen_order() {
    let device = a4b_arn_of("device", 1);
    let record = record_with(json!({
        "requestParameters": {"deviceArn": device, "tags": {PROFILE: "x"}},
        "responseElements": {"again": [PROFILE, device]},
        "resources": [{"ARN": device}, {"ARN": ROOM_B}],
        "errorMessage": a4b_arn_of("skill-group", 2),
        "additionalEventData": {"gateway": a4b_arn_of("gateway", 3)},
    }));
    let items = items_of(&record);
    assert_eq!(resources_of(&items), [device.as_str(), PROFILE]);
    assert_eq!(rooms_of(&items), [ROOM_B]);
    // The user item, the room's, then the resources', in that order.
    let pks: Vec<&str> = items.iter().map(|item| item.key.pk.as_str()).collect();
    assert!(
        pks[0].starts_with("USER#") && pks[1].starts_with("ROOM#"),
        "{pks:?}"
    );
}

#[test]
fn partial_resource_arns_are_no_resources() {
    for text in [
        "arn:aws:a4b:us-east-1:123456789012:device",
        "arn:aws:a4b:us-east-1:123456789012:device/",
        "arn:aws:a4b:us-east-1:123456789012:/abc",
        "arn:aws:a4b:us-east-1:123456789012:Device/abc",
        "arn:aws:a4b:us-east-1:12345678901:device/abc",
        "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/abc",
        "arn:aws:a4b:us-east-1:123456789012:device/abc def",
        "the arn:aws:a4b:us-east-1:123456789012:device/abc",
    ] {
        assert_eq!(a4b_arn(text), None, "{text:?}");
    }
    assert_eq!(a4b_arn(ROOM_A), Some(A4bArn::Room));
    assert_eq!(a4b_arn(PROFILE), Some(A4bArn::Resource));
}

#[test]
fn room_arns_list_the_first_100_rooms_and_room_count_all_of_them() {
    let rooms: Vec<String> = (0..150).map(|n| a4b_arn_of("room", n)).collect();
    let record = record_with(json!({ "requestParameters": {"rooms": rooms} }));
    let items = items_of(&record);
    assert_eq!(rooms_of(&items), rooms, "every room gets its item");
    for item in &items {
        assert_eq!(room_arns_attribute(item), rooms[..100]);
        assert_eq!(
            item.attributes.get("room_count"),
            Some(&AttrValue::N("150".into()))
        );
    }
}

#[test]
fn resource_arns_list_the_first_100_resources_and_resource_count_all_of_them() {
    let devices: Vec<String> = (0..101).map(|n| a4b_arn_of("device", n)).collect();
    let record = record_with(json!({ "responseElements": {"devices": devices} }));
    let items = items_of(&record);
    assert_eq!(resources_of(&items), devices);
    for item in &items {
        assert_eq!(list_attribute(item, "resource_arns"), devices[..100]);
        assert_eq!(
            item.attributes.get("resource_count"),
            Some(&AttrValue::N("101".into()))
        );
    }
}

#[test]
fn room_count_and_resource_count_are_left_out_when_there_are_none() {
    let item = &items_of(&record_with(json!({})))[0];
    for name in ["room_arns", "room_count", "resource_arns", "resource_count"] {
        assert!(!item.attributes.contains_key(name), "{name}");
    }
}

#[test]
fn past_100_rooms_and_resources_only_the_user_item_keeps_the_record() {
    let rooms: Vec<String> = (0..60).map(|n| a4b_arn_of("room", n)).collect();
    let devices: Vec<String> = (0..41).map(|n| a4b_arn_of("device", n)).collect();
    let record = record_with(json!({ "requestParameters": {"rooms": rooms, "devices": devices} }));
    let items = items_of(&record);
    assert_eq!(items.len(), 102);
    assert_eq!(items[0].string("record"), Some(record.as_str()));
    assert!(!items[0].attributes.contains_key("record_truncated"));
    for item in &items[1..] {
        assert!(!item.attributes.contains_key("record"), "{}", item.key.pk);
        assert_eq!(
            item.attributes.get("record_truncated"),
            Some(&AttrValue::Bool(true))
        );
        assert_eq!(item.key.sk, items[0].key.sk);
    }
}

#[test]
fn up_to_100_rooms_and_resources_every_item_keeps_the_record() {
    let rooms: Vec<String> = (0..60).map(|n| a4b_arn_of("room", n)).collect();
    let devices: Vec<String> = (0..40).map(|n| a4b_arn_of("device", n)).collect();
    let record = record_with(json!({ "requestParameters": {"rooms": rooms, "devices": devices} }));
    let items = items_of(&record);
    assert_eq!(items.len(), 101);
    for item in &items {
        assert_eq!(item.string("record"), Some(record.as_str()));
    }
}

#[test]
fn a_record_touching_thousands_of_rooms_costs_bytes_in_proportion_to_them() {
    let rooms: Vec<String> = (0..3000).map(|n| a4b_arn_of("room", n)).collect();
    let record = record_with(json!({ "requestParameters": {"rooms": rooms} }));
    let mut items = build_items(record.as_bytes(), &context())
        .unwrap()
        .into_items()
        .unwrap();
    assert_eq!(items.len(), 3001);
    let user = items.next().unwrap();
    let room_item_bytes: Vec<usize> = items.map(|item| item.size_bytes()).collect();
    assert_eq!(room_item_bytes.len(), 3000);
    // Each room item holds its key, the first 100 rooms and the small attributes: far less than the
    // record (3000 rooms), and the same for every room.
    let largest = room_item_bytes.iter().max().unwrap();
    assert!(*largest < 100 * 110 + 1000, "{largest}");
    assert!(
        *largest < record.len() / 20,
        "{largest} of {}",
        record.len()
    );
    assert_eq!(user.string("record"), Some(record.as_str()));
}

// ---- DynamoDB's key limits ----

#[test]
fn a_record_whose_sort_key_is_past_1024_bytes_is_rejected() {
    let event_time = "2017-11-13T10:00:02Z";
    let longest_id = "e".repeat(1024 - event_time.len() - 1);
    let fits = json!({"eventID": longest_id, "eventTime": event_time}).to_string();
    assert_eq!(items_of(&fits)[0].key.sk.len(), 1024);
    let too_long = json!({"eventID": "e".repeat(1100), "eventTime": event_time}).to_string();
    assert_eq!(
        reject_reason(too_long.as_bytes()),
        RejectReason::SortKeyTooLong { bytes: 1121 }
    );
}

#[test]
fn a_record_whose_user_partition_key_is_past_2048_bytes_is_rejected() {
    let arn = |len: usize| format!("arn:aws:iam::123456789012:user/{}", "a".repeat(len));
    let longest = arn(2048 - "USER#".len() - arn(0).len());
    let fits = record_with(json!({"userIdentity": {"arn": longest}}));
    assert_eq!(items_of(&fits)[0].key.pk.len(), 2048);
    let too_long = record_with(json!({"userIdentity": {"arn": format!("{longest}b")}}));
    assert_eq!(
        reject_reason(too_long.as_bytes()),
        RejectReason::UserKeyTooLong { bytes: 2049 }
    );
}

#[test]
fn an_arn_too_long_for_a_partition_key_gets_no_item_but_is_listed() {
    let long_room = |extra: usize| {
        let prefix = "arn:aws:a4b:us-east-1:123456789012:room/";
        format!(
            "{prefix}{}",
            "a".repeat(2048 - "ROOM#".len() - prefix.len() + extra)
        )
    };
    let long_device = {
        let prefix = "arn:aws:a4b:us-east-1:123456789012:device/";
        format!(
            "{prefix}{}",
            "d".repeat(2048 - "RESOURCE#".len() - prefix.len() + 1)
        )
    };
    let record = record_with(json!({ "requestParameters": {
        "fits": long_room(0), "tooLong": long_room(1), "device": long_device, "room": ROOM_A,
    }}));
    let items = items_of(&record);
    assert_eq!(rooms_of(&items), [long_room(0).as_str(), ROOM_A]);
    assert!(resources_of(&items).is_empty());
    // One warning for each ARN left without an item (the room, the device), none for the others.
    let logs = logs_of_mapping(&record);
    let warned = lines_with(&logs, "too long for a partition key: it gets no item");
    assert_eq!(warned.len(), 2, "{logs}");
    assert!(
        warned.iter().all(|line| line.starts_with(" WARN")
            && line.contains("event_id=\"2b045b94-82d9-407d-aff3-6c308b40fecb\"")),
        "{logs}"
    );
    assert!(
        warned.iter().any(|line| line.contains("pk_bytes=2049")),
        "{logs}"
    );
    for item in &items {
        assert!(item.key.pk.len() <= 2048);
        assert_eq!(
            item.attributes.get("room_count"),
            Some(&AttrValue::N("3".into()))
        );
        assert!(item.size_bytes() <= MAX_ITEM_BYTES);
    }
}

// ---- day ----

#[test]
fn day_is_the_utc_date_of_event_time_on_the_user_item_only() {
    let record = record_with(json!({
        "eventTime": "2017-11-13T23:30:00-02:00",
        "requestParameters": {"roomArn": ROOM_A, "profileArn": PROFILE},
    }));
    let items = items_of(&record);
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].string("day"), Some("2017-11-14"));
    for item in &items[1..] {
        assert!(!item.attributes.contains_key("day"), "{}", item.key.pk);
    }
    let midnight = record_with(json!({"eventTime": "2017-12-31T23:59:59Z"}));
    assert_eq!(items_of(&midnight)[0].string("day"), Some("2017-12-31"));
}

#[test]
fn day_is_left_out_when_event_time_is_no_timestamp() {
    let record = record_with(json!({"eventTime": "yesterday"}));
    let items = items_of(&record);
    assert!(!items[0].attributes.contains_key("day"));
    assert_eq!(
        items[0].key.sk,
        "yesterday#2b045b94-82d9-407d-aff3-6c308b40fecb"
    );
}

// ---- attributes ----

#[test]
fn read_only_is_a_boolean_from_a_boolean_or_its_string() {
    let read_only = |value: Value| {
        items_of(&record_with(json!({ "readOnly": value })))[0]
            .attributes
            .get("read_only")
            .cloned()
    };
    assert_eq!(read_only(json!(true)), Some(AttrValue::Bool(true)));
    assert_eq!(read_only(json!(false)), Some(AttrValue::Bool(false)));
    assert_eq!(read_only(json!("true")), Some(AttrValue::Bool(true)));
    assert_eq!(read_only(json!("false")), Some(AttrValue::Bool(false)));
    assert_eq!(read_only(json!("yes")), None);
    assert_eq!(read_only(json!(1)), None);
    assert_eq!(read_only(json!(null)), None);
    assert!(
        !items_of(&record_with(json!({})))[0]
            .attributes
            .contains_key("read_only")
    );
}

#[test]
fn absent_fields_are_left_out() {
    let raw = r#"{"eventID":"e","eventTime":"t"}"#;
    let items = items_of(raw);
    let names: Vec<&str> = items[0].attributes.keys().copied().collect();
    assert_eq!(
        names,
        [
            "event_id",
            "event_time",
            "ingested_at",
            "record",
            "source_object",
            "user_key"
        ]
    );
}

#[test]
fn empty_strings_and_other_types_are_left_out() {
    let record = record_with(json!({
        "eventName": "", "awsRegion": 1, "userAgent": {"a": "b"}, "sourceIPAddress": null,
        "errorCode": ["x"], "requestID": true, "recipientAccountId": "",
        "userIdentity": {"type": "", "userName": 5, "accountId": "123456789012"},
    }));
    let item = &items_of(&record)[0];
    for name in [
        "event_name",
        "aws_region",
        "user_agent",
        "source_ip",
        "error_code",
        "request_id",
        "user_type",
        "user_name",
    ] {
        assert!(!item.attributes.contains_key(name), "{name}");
    }
    assert_eq!(item.string("account_id"), Some("123456789012"));
}

#[test]
fn account_id_is_the_recipient_account_else_the_identity_account() {
    let both = record_with(json!({
        "recipientAccountId": "111122223333", "userIdentity": {"accountId": "123456789012"}
    }));
    assert_eq!(
        items_of(&both)[0].string("account_id"),
        Some("111122223333")
    );
    let identity_only = record_with(json!({"userIdentity": {"accountId": "123456789012"}}));
    assert_eq!(
        items_of(&identity_only)[0].string("account_id"),
        Some("123456789012")
    );
}

#[test]
fn user_name_is_the_user_name_else_the_session_issuer_name() {
    let issuer = json!({"sessionContext": {"sessionIssuer": {"userName": "A4BAdmin"}}});
    let role = record_with(json!({ "userIdentity": issuer }));
    assert_eq!(items_of(&role)[0].string("user_name"), Some("A4BAdmin"));
    let both = record_with(json!({"userIdentity": {
        "userName": "Alice", "sessionContext": {"sessionIssuer": {"userName": "A4BAdmin"}}
    }}));
    assert_eq!(items_of(&both)[0].string("user_name"), Some("Alice"));
}

#[test]
fn error_code_and_message_are_kept() {
    let record = record_with(json!({"errorCode": "NotFoundException", "errorMessage": "gone"}));
    let item = &items_of(&record)[0];
    assert_eq!(item.string("error_code"), Some("NotFoundException"));
    assert_eq!(item.string("error_message"), Some("gone"));
}

#[test]
fn expires_at_is_set_only_when_retention_is_configured() {
    let record = record_with(json!({}));
    for item in items_of(&record) {
        assert!(!item.attributes.contains_key("expires_at"));
    }
}

/// A context with `RETENTION_DAYS` = `days`, read at `now` (epoch seconds).
fn retained(days: u32, now: i64) -> AuditContext {
    AuditContext {
        retention: Some(Retention { days, now }),
        ..context()
    }
}

#[test]
fn expires_at_is_the_event_time_plus_the_retention_on_every_item() {
    // 2017-11-13T10:00:02Z is 1510567202; 30 days are 2,592,000 seconds.
    let record =
        record_with(json!({"requestParameters": {"roomArn": ROOM_A, "profileArn": PROFILE}}));
    let items = mapped_items(&record, &retained(30, 1_511_000_000));
    assert_eq!(items.len(), 3);
    for item in &items {
        assert_eq!(
            item.attributes.get("expires_at"),
            Some(&AttrValue::N("1513159202".into())),
            "{}",
            item.key.pk
        );
    }
}

#[test]
fn a_record_already_past_its_retention_when_read_is_expired() {
    let record = record_with(json!({}));
    // Expires at 1513159202: read one second later, it is expired; one second before, it is not.
    let expired = build_items(record.as_bytes(), &retained(30, 1_513_159_203)).unwrap();
    assert!(
        matches!(
            expired,
            Mapped::Expired {
                expires_at: 1_513_159_202
            }
        ),
        "{expired:?}"
    );
    let kept = mapped_items(&record, &retained(30, 1_513_159_201));
    assert_eq!(kept.len(), 1);
}

#[test]
fn without_an_event_timestamp_retention_counts_from_the_reading() {
    let record = record_with(json!({"eventTime": "yesterday"}));
    let items = mapped_items(&record, &retained(1, 1_800_000_000));
    assert_eq!(
        items[0].attributes.get("expires_at"),
        Some(&AttrValue::N("1800086400".into()))
    );
}

#[test]
fn big_numbers_and_unicode_are_kept_exactly_in_record() {
    let raw = "{\"eventID\":\"e\",\"eventTime\":\"t\",\"n\":123456789012345678901234567890,\
               \"m\":9007199254740993,\"f\":1.10,\"s\":\"\\u003d caf\\u00e9 東京 🎧\",\
               \"requestParameters\":{\"roomName\":\"Salle \\u00e9\"}}";
    let items = items_of(raw);
    assert_eq!(items[0].string("record"), Some(raw));
}

#[test]
fn the_record_text_is_kept_byte_for_byte_with_its_whitespace() {
    let raw = " {\n  \"eventID\" : \"e\",\t\"eventTime\":\"t\" }\n";
    assert_eq!(items_of(raw)[0].string("record"), Some(raw));
}

// ---- rejections ----

#[test]
fn a_record_without_event_id_is_rejected() {
    for event_id in [None, Some(json!("")), Some(json!(5)), Some(json!(null))] {
        let mut record = json!({"eventTime": "t"});
        if let Some(id) = event_id {
            record["eventID"] = id;
        }
        assert_eq!(
            reject_reason(record.to_string().as_bytes()),
            RejectReason::MissingEventId
        );
    }
}

#[test]
fn a_record_without_event_time_is_rejected() {
    for event_time in [None, Some(json!("")), Some(json!(1.5)), Some(json!({}))] {
        let mut record = json!({"eventID": "e"});
        if let Some(time) = event_time {
            record["eventTime"] = time;
        }
        assert_eq!(
            reject_reason(record.to_string().as_bytes()),
            RejectReason::MissingEventTime
        );
    }
}

#[test]
fn a_record_that_is_not_an_object_is_rejected() {
    for raw in [
        "[]",
        "[{\"eventID\":\"e\",\"eventTime\":\"t\"}]",
        "\"x\"",
        "1",
        "null",
        " true",
    ] {
        assert_eq!(
            reject_reason(raw.as_bytes()),
            RejectReason::NotAnObject,
            "{raw}"
        );
    }
}

#[test]
fn a_record_that_is_not_json_is_rejected() {
    for raw in [
        &b"{\"eventID\":\"e\",\"eventTime\":\"t\""[..],
        b"{\"eventID\":\"e\",\"eventTime\":\"t\"} x",
        b"{\"eventID\":\"e\" \"eventTime\":\"t\"}",
        b"",
        b"nul",
        b"{\"eventID\":\"\xff\",\"eventTime\":\"t\"}",
    ] {
        assert!(
            matches!(reject_reason(raw), RejectReason::InvalidJson(_)),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn an_a4b_record_nested_10000_levels_deep_is_accepted_with_its_rooms() {
    let depth = 10_000;
    let raw = format!(
        "{{\"eventID\":\"e\",\"eventTime\":\"t\",\"requestParameters\":{}\"{ROOM_A}\"{}}}",
        "[{\"a\":".repeat(depth),
        "}]".repeat(depth)
    );
    let items = items_of(&raw);
    assert_eq!(rooms_of(&items), [ROOM_A]);
    assert_eq!(items[0].string("record"), Some(raw.as_str()));
}

#[test]
fn deep_nesting_outside_the_walked_fields_is_kept() {
    let depth = 100_000;
    let raw = format!(
        "{{\"eventID\":\"e\",\"eventTime\":\"t\",\"additionalEventData\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let items = items_of(&raw);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].string("record"), Some(raw.as_str()));
}

// ---- size ----

#[test]
fn a_record_too_large_for_an_item_is_left_out_and_flagged() {
    let record = record_with(json!({
        "requestParameters": {"roomArn": ROOM_A, "description": "x".repeat(MAX_ITEM_BYTES)},
        "errorMessage": "kept",
    }));
    let items = items_of(&record);
    assert_eq!(items.len(), 2);
    for item in &items {
        assert!(item.size_bytes() <= MAX_ITEM_BYTES);
        assert!(!item.attributes.contains_key("record"));
        assert_eq!(
            item.attributes.get("record_truncated"),
            Some(&AttrValue::Bool(true))
        );
        assert!(!item.attributes.contains_key("attributes_truncated"));
        assert_eq!(item.string("error_message"), Some("kept"));
        assert_eq!(
            item.string("source_object"),
            Some(context().source_object.as_str())
        );
    }
}

#[test]
fn a_record_that_fits_is_kept_whole() {
    let record =
        record_with(json!({"requestParameters": {"d": "x".repeat(MAX_ITEM_BYTES - 2000)}}));
    let item = &items_of(&record)[0];
    assert!(item.size_bytes() <= MAX_ITEM_BYTES);
    assert_eq!(item.string("record"), Some(record.as_str()));
    assert!(!item.attributes.contains_key("record_truncated"));
}

#[test]
fn a_huge_error_message_is_shortened_at_a_char_boundary_and_flagged() {
    let message = "é東🎧".repeat(MAX_ITEM_BYTES / 4);
    let record = record_with(json!({
        "requestParameters": {"roomArn": ROOM_A},
        "errorMessage": message,
        "userAgent": "aws-cli/2",
    }));
    let items = items_of(&record);
    assert_eq!(items.len(), 2);
    for item in &items {
        assert!(item.size_bytes() <= MAX_ITEM_BYTES, "{}", item.size_bytes());
        assert_eq!(
            item.attributes.get("record_truncated"),
            Some(&AttrValue::Bool(true))
        );
        assert_eq!(
            item.attributes.get("attributes_truncated"),
            Some(&AttrValue::Bool(true))
        );
        let kept = item.string("error_message").unwrap();
        assert!(message.starts_with(kept) && kept.len() < message.len());
        assert_eq!(item.string("user_agent"), Some("aws-cli/2"));
    }
    // Shortened no more than needed (a character is at most 4 bytes).
    let largest = items.iter().map(Item::size_bytes).max().unwrap();
    assert!(largest > MAX_ITEM_BYTES - 4, "{largest}");
}

// DynamoDB's item limit as its documentation states it: 400 KB, 409,600 bytes, attribute names
// counted. moto refuses items from about 405,000 bytes on, so its end-to-end tests cannot take an
// item between the two; these hold the mapping to the real number.

/// The user item of a record whose `requestParameters.description` is `filler` bytes long.
fn user_item_with_a_description_of(filler: usize) -> Item {
    let record = record_with(json!({"requestParameters": {"description": "x".repeat(filler)}}));
    let items = items_of(&record);
    assert_eq!(items.len(), 1);
    items.into_iter().next().unwrap()
}

/// The item `item_with(filler)` keeps its `record` while it takes up to 409,600 bytes, and one
/// more byte of filler leaves it out (flagged), the item still within 409,600 bytes.
fn assert_kept_whole_up_to_409_600_bytes(item_with: impl Fn(usize) -> Item) {
    // Each byte of filler is counted once in `record` and once in the attributes.
    let grows = item_with(1).size_bytes() - item_with(0).size_bytes();
    let base = item_with(0).size_bytes();
    let largest = (409_600 - base) / grows;
    let fits = item_with(largest);
    assert!(fits.size_bytes() <= 409_600 && fits.size_bytes() > 409_600 - grows);
    assert!(
        fits.attributes.contains_key("record"),
        "{}",
        fits.size_bytes()
    );
    assert!(!fits.attributes.contains_key("record_truncated"));

    let over = item_with(largest + 1);
    assert!(!over.attributes.contains_key("record"));
    assert_eq!(
        over.attributes.get("record_truncated"),
        Some(&AttrValue::Bool(true))
    );
    assert!(over.size_bytes() <= 409_600);
}

#[test]
fn a_record_whose_item_takes_up_to_409_600_bytes_is_kept_whole_and_one_byte_more_is_not() {
    assert_kept_whole_up_to_409_600_bytes(user_item_with_a_description_of);
}

/// The profile's item of a record naming a room and the profile, whose `requestParameters.description`
/// is `filler` bytes long. The profile's `pk` (`RESOURCE#` and a 105-byte ARN) is the longest of
/// the room and resource items, so its key sets what their attributes may take.
fn profile_item_with_a_description_of(filler: usize) -> Item {
    let short_room = "arn:aws:a4b:us-east-1:123456789012:room/r";
    let record = record_with(json!({"requestParameters": {
        "roomArn": short_room,
        "profileArn": PROFILE,
        "description": "x".repeat(filler),
    }}));
    let items = items_of(&record);
    assert_eq!(rooms_of(&items), [short_room]);
    assert_eq!(resources_of(&items), [PROFILE]);
    items
        .into_iter()
        .find(|item| item.key.pk == format!("RESOURCE#{PROFILE}"))
        .unwrap()
}

#[test]
fn a_resource_item_with_the_longest_key_takes_up_to_409_600_bytes_whole_and_one_byte_more_does_not()
{
    assert_kept_whole_up_to_409_600_bytes(profile_item_with_a_description_of);
}

#[test]
fn a_record_too_large_for_its_items_is_logged_once_for_the_user_item_and_once_for_the_others() {
    let record = record_with(json!({"requestParameters": {
        "roomArn": ROOM_A, "description": "x".repeat(MAX_ITEM_BYTES),
    }}));
    let logs = logs_of_mapping(&record);
    let lines = lines_with(&logs, "record too large for an item: `record` left out");
    assert_eq!(lines.len(), 2, "{logs}");
    for (line, items) in lines.iter().zip(["user item", "room and resource items"]) {
        assert!(line.starts_with(" INFO"), "{line}");
        assert!(line.contains(&format!("items=\"{items}\"")), "{line}");
        assert!(
            line.contains(&format!("record_bytes={}", record.len())),
            "{line}"
        );
    }
    assert!(
        !logs.contains(&"x".repeat(100)),
        "the record's text is never logged"
    );
}

#[test]
fn a_record_touching_more_rooms_than_carry_its_text_logs_nothing_of_their_items_leaving_it_out() {
    let rooms: Vec<String> = (0..=MAX_TOUCHED_WITH_RECORD)
        .map(|n| format!("arn:aws:a4b:us-east-1:123456789012:room/{n:032x}/r"))
        .collect();
    let record = record_with(json!({"requestParameters": {"roomArns": rooms}}));
    let items = items_of(&record);
    assert_eq!(items.len(), 1 + rooms.len());
    assert!(
        items[1..]
            .iter()
            .all(|item| !item.attributes.contains_key("record"))
    );
    assert_eq!(logs_of_mapping(&record), "");
}

#[test]
fn no_item_takes_more_than_409_600_bytes_attribute_names_counted() {
    let record = record_with(json!({
        "requestParameters": {"roomArn": ROOM_A, "description": "d".repeat(600_000)},
        "errorMessage": "é東🎧".repeat(150_000),
    }));
    let items = items_of(&record);
    assert_eq!(items.len(), 2);
    for item in &items {
        let counted: usize = "pk".len()
            + item.key.pk.len()
            + "sk".len()
            + item.key.sk.len()
            + item
                .attributes
                .iter()
                .map(|(name, value)| name.len() + value.size_bytes())
                .sum::<usize>();
        assert_eq!(item.size_bytes(), counted);
        assert!(counted <= 409_600, "{counted}");
        // Shortened no more than needed (a character is at most 4 bytes).
        assert!(counted > 409_600 - 4, "{counted}");
    }
}

#[test]
fn a_room_list_too_large_for_an_item_loses_its_last_rooms() {
    let rooms: Vec<String> = (0..5000)
        .map(|n| format!("arn:aws:a4b:us-east-1:123456789012:room/{n:032x}/{n:032x}"))
        .collect();
    let mut attributes = attributes::Attributes::new();
    attributes.insert("room_arns", AttrValue::StringList(rooms.clone()));
    attributes.insert("event_id", AttrValue::S("e".into()));
    let fitted = attributes::fit(
        &mut attributes,
        100,
        Some(&attributes::RecordText::new("{}")),
    );
    assert!(fitted.record_truncated && fitted.attributes_truncated);
    let Some(AttrValue::StringList(kept)) = attributes.get("room_arns") else {
        panic!("room_arns gone");
    };
    assert!(rooms.starts_with(kept) && kept.len() < rooms.len());
    let size: usize = 100
        + attributes
            .iter()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum::<usize>();
    assert!(size <= MAX_ITEM_BYTES);
}

#[test]
fn a_list_too_large_loses_just_enough_of_its_last_elements_to_fill_the_item_exactly() {
    // 5,600 room ARNs of 72 bytes; DynamoDB counts each element of a list as its bytes plus one,
    // and the list itself as 3.
    let rooms: Vec<String> = (0..5600)
        .map(|n| format!("arn:aws:a4b:us-east-1:123456789012:room/{n:032x}"))
        .collect();
    let element = 72 + 1;
    let list = "room_arns".len() + 3 + rooms.len() * element;
    let flags = "record_truncated".len() + 1 + "attributes_truncated".len() + 1;
    // A key that leaves the item two elements over 409,600 bytes, exactly.
    let key_bytes = 409_600 + 2 * element - list - flags;
    assert_eq!(key_bytes, 896);
    let mut attributes = attributes::Attributes::new();
    attributes.insert("room_arns", AttrValue::StringList(rooms.clone()));
    let fitted = attributes::fit(&mut attributes, key_bytes, None);
    assert!(fitted.record_truncated && fitted.attributes_truncated);
    assert_eq!(
        attributes.get("room_arns"),
        Some(&AttrValue::StringList(rooms[..rooms.len() - 2].to_vec()))
    );
    let size = key_bytes
        + attributes
            .iter()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum::<usize>();
    assert_eq!(size, 409_600);
}

#[test]
fn a_field_given_twice_keeps_its_last_value() {
    let raw = r#"{"eventID":"first","eventTime":"t","eventID":"second"}"#;
    assert_eq!(items_of(raw)[0].string("event_id"), Some("second"));
}

#[test]
fn escaped_strings_are_unescaped_in_attributes_and_keys() {
    let raw = r#"{"eventID":"a\u003db","eventTime":"t","userIdentity":{"arn":"arn:aws:iam::123456789012:user\/Zo\u00e9"}}"#;
    let items = items_of(raw);
    assert_eq!(items[0].key.pk, "USER#arn:aws:iam::123456789012:user/Zoé");
    assert_eq!(items[0].key.sk, "t#a=b");
    assert_eq!(items[0].string("record"), Some(raw));
}

// ---- oracle: the streaming walk against a plain tree walk ----

/// The rooms (or, with `is_wanted` = [`is_resource_arn`], the other resources) of a record by the
/// simplest reading of the rule, on a parsed tree.
fn arns_by_tree_walk(record: &Value, is_wanted: fn(&str) -> bool) -> Vec<String> {
    fn walk(value: &Value, rooms: &mut Vec<String>, is_wanted: fn(&str) -> bool) {
        let offer = |text: &str, rooms: &mut Vec<String>| {
            if is_wanted(text) && !rooms.iter().any(|room| room == text) {
                rooms.push(text.to_owned());
            }
        };
        match value {
            Value::String(text) => offer(text, rooms),
            Value::Array(values) => values
                .iter()
                .for_each(|value| walk(value, rooms, is_wanted)),
            Value::Object(fields) => {
                for (key, value) in fields {
                    offer(key, rooms);
                    walk(value, rooms, is_wanted);
                }
            }
            _ => {}
        }
    }
    let mut rooms = Vec::new();
    walk(&record["requestParameters"], &mut rooms, is_wanted);
    walk(&record["responseElements"], &mut rooms, is_wanted);
    if let Some(resources) = record["resources"].as_array() {
        for resource in resources {
            if let Some(arn) = resource.get("ARN").and_then(Value::as_str)
                && is_wanted(arn)
                && !rooms.iter().any(|room| room == arn)
            {
                rooms.push(arn.to_owned());
            }
        }
    }
    rooms
}

fn json_tree() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let texts = vec![
        ROOM_A,
        ROOM_B,
        PROFILE,
        "ARN",
        "arn:aws:a4b:us-east-1:123456789012:room/",
        "arn:aws-cn:a4b:cn-north-1:123456789012:room/x",
        "arn:aws:a4b:us-east-1:123456789012:device/d1",
        "arn:aws:a4b:us-east-1:123456789012:device/",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        proptest::sample::select(texts.clone()).prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 48, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                proptest::sample::select(texts.clone()).prop_map(String::from),
                inner,
                0..4
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn rooms_and_resources_match_a_plain_tree_walk(
        request in json_tree(),
        response in json_tree(),
        resources in json_tree(),
    ) {
        let record = json!({
            "eventID": "e", "eventTime": "t",
            "requestParameters": request, "responseElements": response, "resources": resources,
        });
        let items = items_of(&record.to_string());
        let rooms = arns_by_tree_walk(&record, is_room_arn);
        let resources = arns_by_tree_walk(&record, is_resource_arn);
        proptest::prop_assert_eq!(rooms_of(&items), rooms.iter().map(String::as_str).collect::<Vec<_>>());
        proptest::prop_assert_eq!(resources_of(&items), resources.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
