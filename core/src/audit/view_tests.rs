//! Records of arbitrary valid JSON (repeated keys, unpaired surrogates, numbers past a double,
//! odd keys anywhere) give the items of their documented view: serde_json's view wherever
//! serde_json can read the record, and U+FFFD / numbers as text where it cannot (SPEC section 2).

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::json::tests::{Json, Piece, json_strategy, key_strategy, pieces_strategy, plain, view};

const ROOM_A: &str = "arn:aws:a4b:us-east-1:123456789012:room/8eed09c4eae340d2ba08b8c6c3e40970/66afda686e75c5b62fceaf60ac00e7a6";
const ROOM_B: &str = "arn:aws:a4b:us-east-1:123456789012:room/0123456789abcdef0123456789abcdef/fedcba9876543210fedcba9876543210";

fn context() -> AuditContext {
    AuditContext {
        source_object: "s3://trail/x.json.gz".into(),
        ingested_at: "2026-11-25T10:00:00Z".into(),
        retention: None,
    }
}

/// A field's value: mostly a string (often odd), sometimes anything.
fn field_value() -> impl Strategy<Value = Json> {
    prop_oneof![
        3 => pieces_strategy().prop_map(Json::String),
        1 => prop::sample::select(vec!["x", "", ROOM_A, ROOM_B]).prop_map(|text| Json::String(plain(text))),
        1 => json_strategy(),
    ]
}

fn member(
    names: &'static [&'static str],
    value: BoxedStrategy<Json>,
) -> impl Strategy<Value = (Vec<Piece>, Json)> {
    let key = prop_oneof![
        4 => prop::sample::select(names).prop_map(plain),
        1 => key_strategy(),
    ];
    (key, value)
}

fn object(
    names: &'static [&'static str],
    value: BoxedStrategy<Json>,
) -> impl Strategy<Value = Json> {
    prop::collection::vec(member(names, value), 0..6).prop_map(Json::Object)
}

/// Parameters with room ARNs among odd strings and keys, at some depth.
fn parameters() -> BoxedStrategy<Json> {
    let leaf = prop_oneof![
        field_value(),
        Just(Json::String(plain(ROOM_A))),
        Just(Json::String(plain(ROOM_B))),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((key_strategy(), inner), 0..4).prop_map(Json::Object),
        ]
    })
    .boxed()
}

fn record_strategy() -> impl Strategy<Value = Json> {
    let issuer = object(&["userName"], field_value().boxed());
    let session = object(&["sessionIssuer"], issuer.boxed());
    let identity_value = prop_oneof![3 => field_value(), 1 => session].boxed();
    let identity = object(
        &[
            "arn",
            "invokedBy",
            "principalId",
            "accountId",
            "type",
            "userName",
            "sessionContext",
        ],
        identity_value,
    );
    let value = prop_oneof![
        4 => field_value(),
        2 => identity,
        2 => parameters(),
    ]
    .boxed();
    prop::collection::vec(
        member(
            &[
                "eventID",
                "eventTime",
                "eventName",
                "userAgent",
                "userIdentity",
                "requestParameters",
                "responseElements",
            ],
            value,
        ),
        0..12,
    )
    .prop_map(|members| {
        // Always an id and a time at the start, which later members may override.
        let start = [("eventID", "id"), ("eventTime", "2026-01-01T00:00:00Z")]
            .map(|(name, text)| (plain(name), Json::String(plain(text))));
        Json::Object(start.into_iter().chain(members).collect())
    })
}

/// The non-empty string at `path`.
fn text_at<'v>(record: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut value = record;
    for step in path {
        value = value.get(step)?;
    }
    value.as_str().filter(|text| !text.is_empty())
}

/// Every room ARN in a value's strings (keys included), each once, in the order of the text.
fn rooms_in(json: &Json, rooms: &mut Vec<String>) {
    let mut strings = Vec::new();
    json.strings(&mut strings);
    for text in strings {
        if is_room_arn(&text) && !rooms.contains(&text) {
            rooms.push(text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(a4b_audit_devtools::proptest_cases(512)))]

    #[test]
    fn any_valid_record_gives_the_items_of_its_documented_view(record in record_strategy()) {
        let text = record.text();
        let expected = view(&record);
        if let Ok(serde) = serde_json::from_str::<Value>(&text) {
            // Where serde_json reads the record, the documented view is serde_json's.
            prop_assert_eq!(&serde, &expected);
        }
        let outcome = build_items(text.as_bytes(), &context());
        let (Some(event_id), Some(event_time)) =
            (text_at(&expected, &["eventID"]), text_at(&expected, &["eventTime"]))
        else {
            prop_assert!(matches!(
                outcome,
                Err(RejectReason::MissingEventId | RejectReason::MissingEventTime)
            ));
            return Ok(());
        };
        let items: Vec<Item> = outcome.unwrap().into_items().unwrap().collect();
        let user_key = ["arn", "invokedBy", "principalId", "accountId"]
            .iter()
            .find_map(|name| text_at(&expected, &["userIdentity", name]))
            .unwrap_or("unknown");
        let user_name = text_at(&expected, &["userIdentity", "userName"]).or_else(|| {
            text_at(&expected, &["userIdentity", "sessionContext", "sessionIssuer", "userName"])
        });
        // `requestParameters` first, then `responseElements`, each the last of its key.
        let mut rooms = Vec::new();
        let members = record.members();
        for field in ["requestParameters", "responseElements"] {
            for (_, value) in members.iter().filter(|(key, _)| key == field) {
                rooms_in(value, &mut rooms);
            }
        }

        let user = &items[0];
        prop_assert_eq!(&user.key.pk, &format!("USER#{user_key}"));
        prop_assert_eq!(&user.key.sk, &format!("{event_time}#{event_id}"));
        let found_rooms: Vec<&str> = (items.iter())
            .filter_map(|item| item.key.pk.strip_prefix("ROOM#"))
            .collect();
        prop_assert_eq!(found_rooms, rooms.iter().map(String::as_str).collect::<Vec<_>>());
        for item in &items {
            prop_assert_eq!(item.string("record"), Some(text.as_str()));
            prop_assert_eq!(item.string("event_name"), text_at(&expected, &["eventName"]));
            prop_assert_eq!(item.string("user_agent"), text_at(&expected, &["userAgent"]));
            prop_assert_eq!(item.string("user_type"), text_at(&expected, &["userIdentity", "type"]));
            prop_assert_eq!(item.string("user_name"), user_name);
        }
    }
}
