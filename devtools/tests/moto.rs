//! The local AWS: moto server start, shared server, reset and the client helpers.

use a4b_audit_devtools::MotoServer;
use a4b_audit_devtools::moto::{
    create_audit_table, create_bucket, dynamodb_client, put_object, s3_client, scan_items,
    sdk_config,
};
use aws_sdk_dynamodb::types::AttributeValue;

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

#[tokio::test]
async fn objects_put_through_path_style_s3_read_back() {
    let moto = MotoServer::shared().unwrap();
    let config = sdk_config(&moto.endpoint()).await;
    let s3 = s3_client(&config);
    create_bucket(&s3, "objects-put-read-back").await.unwrap();

    put_object(
        &s3,
        "objects-put-read-back",
        "trail logs/a+b.json.gz",
        b"bytes".to_vec(),
    )
    .await
    .unwrap();

    let object = s3
        .get_object()
        .bucket("objects-put-read-back")
        .key("trail logs/a+b.json.gz")
        .send()
        .await
        .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], b"bytes");
}

#[tokio::test]
async fn the_audit_table_has_pk_and_sk_and_scans_sorted() {
    let moto = MotoServer::shared().unwrap();
    let dynamodb = dynamodb_client(&sdk_config(&moto.endpoint()).await);
    create_audit_table(&dynamodb, "audit-scan-sorted")
        .await
        .unwrap();
    for (pk, sk) in [
        ("USER#b", "2"),
        ("ROOM#a", "2"),
        ("USER#b", "1"),
        ("ROOM#a", "1"),
    ] {
        dynamodb
            .put_item()
            .table_name("audit-scan-sorted")
            .item("pk", text(pk))
            .item("sk", text(sk))
            .send()
            .await
            .unwrap();
    }

    let items = scan_items(&dynamodb, "audit-scan-sorted").await.unwrap();

    let keys: Vec<(String, String)> = items
        .iter()
        .map(|item| {
            let field = |name: &str| item[name].as_s().unwrap().clone();
            (field("pk"), field("sk"))
        })
        .collect();
    let expected = [
        ("ROOM#a", "1"),
        ("ROOM#a", "2"),
        ("USER#b", "1"),
        ("USER#b", "2"),
    ];
    assert_eq!(
        keys,
        expected.map(|(pk, sk)| (pk.to_owned(), sk.to_owned()))
    );
    let description = dynamodb
        .describe_table()
        .table_name("audit-scan-sorted")
        .send()
        .await
        .unwrap();
    let key_schema = description.table.unwrap().key_schema.unwrap();
    assert_eq!(key_schema[0].attribute_name, "pk");
    assert_eq!(key_schema[1].attribute_name, "sk");
}

#[tokio::test]
async fn the_shared_server_is_started_once() {
    let first = MotoServer::shared().unwrap();
    let second = MotoServer::shared().unwrap();
    assert_eq!(first.endpoint(), second.endpoint());
}

#[tokio::test]
async fn an_own_server_resets_and_stops_on_drop() {
    let moto = MotoServer::start().unwrap();
    let s3 = s3_client(&sdk_config(&moto.endpoint()).await);
    create_bucket(&s3, "reset-forgets-me").await.unwrap();

    moto.reset().unwrap();

    let buckets = s3.list_buckets().send().await.unwrap();
    assert!(buckets.buckets().is_empty(), "{buckets:?}");
    let port = moto.port();
    drop(moto);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// Run in a child process by the test below: starts the shared server and prints its port.
#[tokio::test]
#[ignore = "run by the_shared_server_goes_away_with_its_process"]
async fn helper_start_the_shared_server_and_exit() {
    let moto = MotoServer::shared().unwrap();
    println!("SHARED_MOTO_PORT={}", moto.port());
}

#[test]
fn the_shared_server_goes_away_with_its_process() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_start_the_shared_server_and_exit",
            "--ignored",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let port: u16 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("SHARED_MOTO_PORT="))
        .unwrap_or_else(|| panic!("no port in:\n{stdout}"))
        .parse()
        .unwrap();

    // The wrapper kills moto as soon as the child process's pipe closes; allow it a moment.
    let gone = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
    assert!(
        gone,
        "moto still answers on {port} after its test process exited"
    );
}
