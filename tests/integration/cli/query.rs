//! `query`, `rooms` and `users` on a table holding known items, in each output format.

use a4b_audit::ledger::{SeenKind, seen_item};
use a4b_audit::sink::{DynamoDbSink, ItemSink};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::harness::TestEnv;

use super::{room_arn, user_arn};

/// Puts an event item of `room` (and its user item) as the pipeline would.
async fn put_event(
    env: &TestEnv,
    event_time: &str,
    event_id: &str,
    user: &str,
    error: Option<&str>,
) {
    let sk = format!("{event_time}#{event_id}");
    for pk in [
        format!("ROOM#{}", room_arn("r1")),
        format!("USER#{}", user_arn(user)),
    ] {
        let mut request = env
            .dynamodb
            .put_item()
            .table_name(&env.table)
            .item("pk", AttributeValue::S(pk))
            .item("sk", AttributeValue::S(sk.clone()))
            .item("event_id", AttributeValue::S(event_id.into()))
            .item("event_time", AttributeValue::S(event_time.into()))
            .item("event_name", AttributeValue::S("UpdateRoom".into()))
            .item("user_key", AttributeValue::S(user_arn(user)))
            .item("source_ip", AttributeValue::S("192.0.2.10".into()))
            .item("read_only", AttributeValue::Bool(false))
            .item(
                "room_arns",
                AttributeValue::L(vec![AttributeValue::S(room_arn("r1"))]),
            );
        if let Some(error) = error {
            request = request.item("error_code", AttributeValue::S(error.into()));
        }
        request.send().await.unwrap();
    }
}

async fn seeded() -> TestEnv {
    let env = TestEnv::new("cli-seeded").await;
    put_event(
        &env,
        "2023-05-02T09:00:00Z",
        "e3",
        "bob",
        Some("AccessDenied"),
    )
    .await;
    put_event(&env, "2023-05-01T10:00:00Z", "e1", "alice", None).await;
    put_event(&env, "2023-05-01T23:59:59Z", "e2", "alice", None).await;
    put_event(&env, "2023-05-03T00:00:00Z", "e4", "alice", None).await;
    env
}

fn room_query<'a>(room: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["query", "--room", room];
    args.extend_from_slice(extra);
    args
}

#[tokio::test]
async fn room_history_prints_in_time_order_as_an_aligned_table() {
    let env = seeded().await;
    let room = room_arn("r1");
    let run = env.cli(&room_query(
        &room,
        &["--from", "2023-05-01", "--to", "2023-05-02"],
    ));
    assert_eq!(run.code, Some(0), "{run:?}");
    let alice = user_arn("alice");
    let bob = user_arn("bob");
    let user_width = alice.len().max(bob.len());
    // The room's own events come through no device, profile or skill group: VIA is empty.
    let line = |time: &str, user: &str, error: &str| {
        format!("{time}  UpdateRoom       {user:user_width$}  192.0.2.10  {error}")
            .trim_end()
            .to_owned()
    };
    let expected = [
        format!(
            "TIME                  EVENT       VIA  {:user_width$}  SOURCE IP   ERROR",
            "USER"
        ),
        line("2023-05-01T10:00:00Z", &alice, ""),
        line("2023-05-01T23:59:59Z", &alice, ""),
        line("2023-05-02T09:00:00Z", &bob, "AccessDenied"),
    ];
    let printed: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(printed, expected, "{run:?}");
}

#[tokio::test]
async fn query_json_prints_every_attribute_of_each_item() {
    let env = seeded().await;
    let room = room_arn("r1");
    let run = env.cli(&room_query(&room, &["--format", "json", "--limit", "2"]));
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{run:?}");
    assert_eq!(
        lines[0],
        serde_json::json!({
            "pk": format!("ROOM#{room}"),
            "sk": "2023-05-01T10:00:00Z#e1",
            "event_id": "e1",
            "event_name": "UpdateRoom",
            "event_time": "2023-05-01T10:00:00Z",
            "read_only": false,
            "room_arns": [room],
            "source_ip": "192.0.2.10",
            "user_key": user_arn("alice"),
        })
    );
    assert!(run.stdout.starts_with("{\"pk\":"), "{run:?}");
}

#[tokio::test]
async fn query_csv_has_a_header_and_one_row_per_event() {
    let env = seeded().await;
    let user = user_arn("alice");
    let run = env.cli(&[
        "query",
        "--user",
        &user,
        "--from",
        "2023-05-01T23:00:00Z",
        "--format",
        "csv",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let room = room_arn("r1");
    assert_eq!(
        run.stdout,
        format!(
            "event_time,event_name,user_key,room_arns,source_ip,error_code,error_message,event_id,source_object,resource_arns,via\n\
             2023-05-01T23:59:59Z,UpdateRoom,{user},{room},192.0.2.10,,,e2,,,\n\
             2023-05-03T00:00:00Z,UpdateRoom,{user},{room},192.0.2.10,,,e4,,,\n"
        )
    );
}

#[tokio::test]
async fn rooms_and_users_list_the_seen_ones_with_the_count_and_last_time_of_their_events() {
    let env = seeded().await;
    // Seen items as the pipeline writes them; r2 is seen but has no event (left out).
    let seen: Vec<_> = [
        (SeenKind::Rooms, room_arn("r1")),
        (SeenKind::Rooms, room_arn("r2")),
        (SeenKind::Users, user_arn("alice")),
        (SeenKind::Users, user_arn("bob")),
    ]
    .iter()
    .map(|(kind, name)| seen_item(*kind, name).unwrap())
    .collect();
    let unprocessed = DynamoDbSink::new(env.dynamodb.clone(), &env.table)
        .put_batch(&seen)
        .await
        .unwrap();
    assert!(unprocessed.is_empty());

    let rooms = env.cli(&["rooms"]);
    assert_eq!(rooms.code, Some(0), "{rooms:?}");
    let room_width = room_arn("r1").len();
    assert_eq!(
        rooms.stdout,
        format!(
            "{:room_width$}  EVENTS  LAST ACTIVITY\n{}  4       2023-05-03T00:00:00Z\n",
            "ROOM",
            room_arn("r1"),
        )
    );
    let users = env.cli(&["users", "--format", "csv"]);
    assert_eq!(users.code, Some(0), "{users:?}");
    assert_eq!(
        users.stdout,
        format!(
            "user_key,event_count,last_event_time\n{},3,2023-05-03T00:00:00Z\n{},1,2023-05-02T09:00:00Z\n",
            user_arn("alice"),
            user_arn("bob")
        )
    );
}
