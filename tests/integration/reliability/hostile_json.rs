//! Valid JSON that serde_json refuses or that hides in odd corners (SPEC section 2; issue 10
//! points 1, 2, 3 and 6, and the record cap), through the real reader and mapping: unpaired
//! surrogates, numbers past a double, any depth, repeated keys, and records past `MAX_RECORD_BYTES`.
//! Records are written as text: serde_json could not write most of them.

use a4b_audit::item::Item;

use super::hostile::{Mapped, assert_invariants, read_and_map};
use super::support::item_keys;
use crate::harness::{TestEnv, cloudtrail_event, invoke, log_key, pipeline_at};

const ROOM_A: &str = "arn:aws:a4b:us-east-1:123456789012:room/8eed09c4eae340d2ba08b8c6c3e40970/66afda686e75c5b62fceaf60ac00e7a6";
const ROOM_B: &str = "arn:aws:a4b:us-east-1:123456789012:room/0123456789abcdef0123456789abcdef/fedcba9876543210fedcba9876543210";
const USER_ARN: &str = "arn:aws:iam::123456789012:user/Zoe";

/// An A4B record with `members` after its usual ones.
fn a4b_record(members: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"6e2ff2b4-0000-4000-8000-000000000001","eventTime":"2026-01-02T03:04:05Z","eventSource":"a4b.amazonaws.com","eventName":"UpdateRoom","awsRegion":"us-east-1"{}{members}}}"#,
        if members.is_empty() { "" } else { "," }
    )
}

fn read_records(records: &[&str]) -> Mapped {
    let file = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let mapped = read_and_map(file.as_bytes()).unwrap();
    assert_invariants(&mapped);
    mapped
}

/// The items of one record, which must be accepted.
fn items_of(record: &str) -> Vec<Item> {
    let mapped = read_records(&[record]);
    assert_eq!(
        (mapped.stats.matched, mapped.mapping_rejected),
        (1, 0),
        "{record}"
    );
    mapped.items
}

fn rooms_of(items: &[Item]) -> Vec<&str> {
    (items.iter())
        .filter_map(|item| item.key.pk.strip_prefix("ROOM#"))
        .collect()
}

#[test]
fn a_strange_key_inside_user_identity_costs_no_other_field() {
    let odd = r#""x\udc00":1"#;
    for identity in [
        format!(r#"{{{odd},"type":"IAMUser","arn":"{USER_ARN}","userName":"Zoe"}}"#),
        format!(r#"{{"type":"IAMUser","arn":"{USER_ARN}","userName":"Zoe",{odd}}}"#),
        format!(
            r#"{{"type":"IAMUser","arn":"{USER_ARN}","sessionContext":{{{odd}}},"userName":"Zoe","a":{{"b":[{{{odd}}}]}}}}"#
        ),
        format!(r#"{{"type":"IAMUser","\ud800":"\udfff","arn":"{USER_ARN}","userName":"Zoe"}}"#),
    ] {
        let items = items_of(&a4b_record(&format!(r#""userIdentity":{identity}"#)));
        let user = &items[0];
        assert_eq!(user.key.pk, format!("USER#{USER_ARN}"), "{identity}");
        assert_eq!(user.string("user_type"), Some("IAMUser"), "{identity}");
        assert_eq!(user.string("user_name"), Some("Zoe"), "{identity}");
    }
    // The same inside `sessionContext`: the session issuer's name is still the user name.
    let identity = format!(
        r#"{{"type":"AssumedRole","arn":"{USER_ARN}","sessionContext":{{{odd},"sessionIssuer":{{"\ud800":2,"userName":"Admin"}}}}}}"#
    );
    let items = items_of(&a4b_record(&format!(r#""userIdentity":{identity}"#)));
    assert_eq!(items[0].key.pk, format!("USER#{USER_ARN}"));
    assert_eq!(items[0].string("user_type"), Some("AssumedRole"));
    assert_eq!(items[0].string("user_name"), Some("Admin"));
}

#[test]
fn unpaired_surrogates_and_numbers_past_a_double_never_reject_a_valid_record() {
    let record = a4b_record(&format!(
        r#""\ud800top":"v\udbff","big":1e400,"bigger":-1E+400,"tiny":1.5e-400,"long":123456789012345678901234567890,"past53":9007199254740993,
        "userAgent":"agent\udc00","errorMessage":"half a pair \ud83d then text","requestID":"\ud83c\udfa7 paired",
        "requestParameters":{{"\udfff":"x\ud800","roomArn":"{ROOM_A}","n":1e400,"list":[1E+400,"\ude00",{{"k\ud800":null}}]}},
        "responseElements":{{"k\ud800":{{"room":"{ROOM_B}","m":9007199254740993}}}}"#
    ));
    let items = items_of(&record);
    assert_eq!(rooms_of(&items), [ROOM_A, ROOM_B]);
    for item in &items {
        assert_eq!(
            item.string("record"),
            Some(record.as_str()),
            "byte for byte"
        );
        assert_eq!(item.string("user_agent"), Some("agent\u{FFFD}"));
        assert_eq!(
            item.string("error_message"),
            Some("half a pair \u{FFFD} then text")
        );
        assert_eq!(item.string("request_id"), Some("🎧 paired"));
    }
}

#[test]
fn an_event_field_with_an_unpaired_surrogate_is_kept_with_u_fffd() {
    let record = r#"{"eventID":"id-\ud800","eventTime":"2026-01-02T03:04:05Z","eventSource":"a4b.amazonaws.com","eventName":"Update\udc00Room","userIdentity":{"arn":"arn:aws:iam::123456789012:user/\udbffZoe"}}"#;
    let items = items_of(record);
    assert_eq!(
        items[0].key.pk,
        "USER#arn:aws:iam::123456789012:user/\u{FFFD}Zoe"
    );
    assert_eq!(items[0].key.sk, "2026-01-02T03:04:05Z#id-\u{FFFD}");
    assert_eq!(items[0].string("event_name"), Some("Update\u{FFFD}Room"));
}

#[test]
fn valid_json_of_any_depth_never_fails_its_file() {
    // An A4B record 10 000 levels deep keeps its rooms; records of other services 100 000 levels
    // deep are skipped; the ordinary record beside them is written.
    let deep_a4b = a4b_record(&format!(
        r#""requestParameters":{}"{ROOM_A}"{}"#,
        r#"[{"a":"#.repeat(10_000),
        "}]".repeat(10_000)
    ));
    let deep_other = format!(
        r#"{{"eventSource":"s3.amazonaws.com","requestParameters":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_unknown = format!(
        r#"{{"x":{}1{}}}"#,
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    let plain = a4b_record(&format!(r#""requestParameters":{{"roomArn":"{ROOM_B}"}}"#));
    let mapped = read_records(&[&deep_other, &deep_a4b, &deep_unknown, &plain]);
    assert_eq!((mapped.stats.matched, mapped.stats.other), (2, 2));
    assert_eq!(mapped.mapping_rejected, 0);
    assert_eq!(rooms_of(&mapped.items), [ROOM_A, ROOM_B]);
}

#[test]
fn a_repeated_key_counts_by_its_last_value_for_every_field() {
    // `eventSource`: the last one decides, whatever its type.
    for (members, is_a4b) in [
        (r#""eventSource":{"x":1}"#, false),
        (r#""eventSource":["a4b.amazonaws.com"]"#, false),
        (r#""eventSource":"s3.amazonaws.com""#, false),
        (
            r#""eventSource":"s3.amazonaws.com","eventSource":"a4b.amazonaws.com""#,
            true,
        ),
    ] {
        let mapped = read_records(&[&a4b_record(members)]);
        assert_eq!(mapped.stats.matched == 1, is_a4b, "{members}");
        assert_eq!(mapped.items.is_empty(), !is_a4b, "{members}");
    }
    // Every other field too, at any depth.
    let record = a4b_record(&format!(
        r#""eventName":"First","eventName":"Second",
        "userIdentity":{{"arn":"arn:aws:iam::123456789012:user/First"}},
        "userIdentity":{{"arn":"{USER_ARN}","arn\u0000":"x","type":"IAMUser","type":"Root"}},
        "requestParameters":{{"roomArn":"{ROOM_A}","roomArn":"{ROOM_B}","other":{{"r":"{ROOM_A}","r":1}}}},
        "resources":[{{"ARN":"{ROOM_A}","ARN":"nothing"}}]"#
    ));
    let items = items_of(&record);
    assert_eq!(items[0].key.pk, format!("USER#{USER_ARN}"));
    assert_eq!(items[0].string("event_name"), Some("Second"));
    assert_eq!(items[0].string("user_type"), Some("Root"));
    assert_eq!(rooms_of(&items), [ROOM_B]);
}

#[tokio::test]
async fn a_record_longer_than_max_record_bytes_is_rejected_and_the_file_goes_on() {
    let env = TestEnv::new("hostile-record-cap").await;
    let cap = 64 * 1024;
    let config = env.config_with(&[("MAX_RECORD_BYTES", &cap.to_string())]);
    let huge = a4b_record(&format!(
        r#""requestParameters":{{"roomArn":"{ROOM_A}","blob":"{}"}}"#,
        "x".repeat(cap)
    ));
    let good = a4b_record(&format!(r#""requestParameters":{{"roomArn":"{ROOM_B}"}}"#))
        .replace("000000000001", "000000000002");
    let key = log_key(1);
    let file = format!(r#"{{"Records":[{huge},{good}]}}"#);
    env.put(&key, file.into_bytes()).await;

    let summary = invoke(
        &pipeline_at(&env.endpoint, config, Default::default()).await,
        cloudtrail_event(&env.bucket, &[&[key]]),
    )
    .await
    .unwrap();

    assert_eq!(summary.counts.records_read, 2);
    assert_eq!(summary.counts.records_rejected, 1);
    assert_eq!(summary.counts.a4b_records, 1);
    let items = env.items().await;
    let rooms: Vec<String> = (item_keys(&items).into_iter())
        .map(|(pk, _)| pk)
        .filter(|pk| pk.starts_with("ROOM#"))
        .collect();
    assert_eq!(rooms, [format!("ROOM#{ROOM_B}")]);
}
