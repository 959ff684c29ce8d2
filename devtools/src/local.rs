//! "Run it locally": the sample logs in a local S3, the audit table in a local DynamoDB, and the
//! real Lambda binary invoked with each sample event (every trigger's) through the runtime API
//! emulator, printing each response.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::lambda_process::{LambdaProcess, SpawnError};
use crate::moto::{
    self, AwsCallError, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, Item, LOCAL_REGION,
    MotoError, MotoServer,
};
use crate::runtime_api::{InvokeError, Outcome, RuntimeApi};
use crate::samples::{BUCKET, LOGS_DIR, TABLE, key_of_log};

/// Generous: the first invocation includes the SDK's first connections.
const INVOKE_DEADLINE: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Moto(#[from] MotoError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error("could not {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the Lambda binary {0} does not exist: build it with `cargo build --bin a4b-audit-lambda` \
         or pass --lambda-binary"
    )]
    MissingBinary(PathBuf),
    #[error("{path} is not JSON: {source}")]
    BadEvent {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_error(action: impl Into<String>) -> impl FnOnce(io::Error) -> LocalError {
    let action = action.into();
    move |source| LocalError::Io { action, source }
}

/// A local AWS holding the sample logs and an empty audit table.
pub struct LocalAws {
    pub moto: MotoServer,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub uploaded_keys: Vec<String>,
}

impl LocalAws {
    /// Starts moto, creates the bucket and the table, uploads every file under `events/logs/`.
    pub async fn start(events_dir: &Path) -> Result<Self, LocalError> {
        let moto = MotoServer::start()?;
        let config = moto::sdk_config(&moto.endpoint()).await;
        let s3 = moto::s3_client(&config);
        let dynamodb = moto::dynamodb_client(&config);
        moto::create_bucket(&s3, BUCKET).await?;
        moto::create_audit_table(&dynamodb, TABLE).await?;
        let logs_dir = events_dir.join(LOGS_DIR);
        let mut uploaded_keys = Vec::new();
        for file in files_under(&logs_dir)? {
            let Some(key) = key_of_log(&logs_dir, &file) else {
                continue;
            };
            let body = fs::read(&file).map_err(io_error(format!("read {}", file.display())))?;
            moto::put_object(&s3, BUCKET, &key, body).await?;
            uploaded_keys.push(key);
        }
        Ok(Self {
            moto,
            s3,
            dynamodb,
            uploaded_keys,
        })
    }

    /// The environment the Lambda (or `cargo lambda watch`) needs to use this local AWS.
    pub fn lambda_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TABLE_NAME", TABLE.to_owned()),
            ("AWS_ENDPOINT_URL", self.moto.endpoint()),
            ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY.to_owned()),
            ("AWS_REGION", LOCAL_REGION.to_owned()),
        ]
    }
}

/// `a4b-dev run-local`. Returns whether every invocation succeeded.
pub async fn run_local(events_dir: &Path, lambda_binary: &Path) -> Result<bool, LocalError> {
    if !lambda_binary.is_file() {
        return Err(LocalError::MissingBinary(lambda_binary.to_owned()));
    }
    let events = event_files(events_dir)?;
    let aws = LocalAws::start(events_dir).await?;
    println!(
        "local AWS at {}: bucket {BUCKET} holds {} log files, table {TABLE} is empty",
        aws.moto.endpoint(),
        aws.uploaded_keys.len()
    );
    let runtime_api = RuntimeApi::start()
        .await
        .map_err(io_error("start the runtime API emulator"))?;
    let env = aws.lambda_env();
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let mut process = LambdaProcess::spawn(lambda_binary, &runtime_api, &env)?;

    let mut all_succeeded = true;
    for event_path in &events {
        let name = event_path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = fs::read_to_string(event_path)
            .map_err(io_error(format!("read {}", event_path.display())))?;
        let payload = serde_json::from_str(&text).map_err(|source| LocalError::BadEvent {
            path: event_path.clone(),
            source,
        })?;
        println!("\n==> {name}");
        match runtime_api.invoke(payload, INVOKE_DEADLINE).await {
            Ok(invocation) => match invocation.outcome {
                Outcome::Response(body) => println!("{}", pretty(&body)),
                Outcome::Error(error) => {
                    all_succeeded = false;
                    println!("FAILED: {}: {}", error.error_type, error.error_message);
                }
            },
            Err(error) => {
                all_succeeded = false;
                println!("FAILED: {error}");
                if matches!(
                    error,
                    InvokeError::ProcessExited { .. } | InvokeError::InitError(_)
                ) {
                    println!("function output:\n{}", process.output());
                    break;
                }
            }
        }
    }

    let items = moto::scan_items(&aws.dynamodb, TABLE).await?;
    print!("\n{}", describe_items(&items));
    process.stop().await;
    println!(
        "\nthe function's own output (logs) is in {}",
        process.output_path().display()
    );
    Ok(all_succeeded)
}

/// What `a4b-dev emulator` says to run, from the repository: the cargo-lambda of the project's
/// venv (`scripts/run-local` or `scripts/test` installs it), so no global install is needed.
pub const CARGO_LAMBDA_COMMANDS: [&str; 2] = [
    ".venv/bin/cargo-lambda lambda watch --invoke-address 127.0.0.1",
    ".venv/bin/cargo-lambda lambda invoke --invoke-address 127.0.0.1 a4b-audit-lambda --data-file events/cloudtrail-delivery-single.json",
];

/// `a4b-dev emulator`: the local AWS with the sample logs, until Ctrl-C.
pub async fn emulator(events_dir: &Path) -> Result<(), LocalError> {
    let aws = LocalAws::start(events_dir).await?;
    println!(
        "# local AWS at {} (moto log: {})",
        aws.moto.endpoint(),
        aws.moto.log_path().display()
    );
    println!(
        "# bucket {BUCKET}: {} sample log files; table {TABLE}: empty",
        aws.uploaded_keys.len()
    );
    println!("# paste these into another shell:");
    for (name, value) in aws.lambda_env() {
        println!("export {name}={value}");
    }
    println!(
        "# then, in the repository ({}), run the function and invoke it with a sample event:",
        crate::moto::workspace_root().display()
    );
    for command in CARGO_LAMBDA_COMMANDS {
        println!("#   {command}");
    }
    println!("# (with cargo-lambda installed on your own, `cargo lambda …` works the same)");
    println!("# Ctrl-C stops the emulator.");
    tokio::signal::ctrl_c()
        .await
        .map_err(io_error("wait for Ctrl-C"))?;
    Ok(())
}

/// The audit items, per room, per other A4B resource, then per user: time, event name, and the
/// user or the rooms.
pub fn describe_items(items: &[Item]) -> String {
    let mut rooms = String::new();
    let mut resources = String::new();
    let mut users = String::new();
    let mut other_items: BTreeMap<&str, usize> = BTreeMap::new();
    let mut last_pk = "";
    for item in items {
        let Some(pk) = text(item, "pk") else {
            *other_items.entry("(no pk)").or_default() += 1;
            continue;
        };
        let time = text(item, "event_time").unwrap_or("?");
        let event_name = text(item, "event_name").unwrap_or("?");
        let (section, detail) = if pk.starts_with("ROOM#") {
            (&mut rooms, text(item, "user_key").unwrap_or("?").to_owned())
        } else if pk.starts_with("RESOURCE#") {
            (
                &mut resources,
                text(item, "user_key").unwrap_or("?").to_owned(),
            )
        } else if pk.starts_with("USER#") {
            let room_arns = match item.get("room_arns") {
                Some(AttributeValue::L(values)) => values
                    .iter()
                    .filter_map(|value| value.as_s().ok().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(AttributeValue::Ss(values)) => values.join(", "),
                _ => "no room".to_owned(),
            };
            (&mut users, format!("rooms: {room_arns}"))
        } else {
            *other_items.entry(pk_prefix(pk)).or_default() += 1;
            continue;
        };
        if pk != last_pk {
            section.push_str(&format!("  {pk}\n"));
            last_pk = pk;
        }
        section.push_str(&format!("    {time}  {event_name:<28}  {detail}\n"));
    }
    let mut out = format!(
        "audit items per room (time, event, user):\n{}",
        or_none(&rooms)
    );
    out.push_str(&format!(
        "audit items per resource (time, event, user):\n{}",
        or_none(&resources)
    ));
    out.push_str(&format!(
        "audit items per user (time, event, rooms):\n{}",
        or_none(&users)
    ));
    if !other_items.is_empty() {
        let count: usize = other_items.values().sum();
        out.push_str(&format!("and {count} other items (not audit events):\n"));
        for (prefix, count) in &other_items {
            out.push_str(&format!(
                "  {count} {prefix}…: {}\n",
                other_item_kind(prefix)
            ));
        }
    }
    out
}

/// What the table holds besides the audit events, by the start of their `pk`.
const OTHER_ITEM_KINDS: [(&str, &str); 3] = [
    (
        "SEEN#",
        "one per room and user seen, what `a4b-audit rooms` and `users` list",
    ),
    (
        "SUMMARY#",
        "room and user summaries, what `a4b-audit rooms` and `users` list",
    ),
    (
        "FILE#",
        "a marker per processed log file, what `a4b-audit backfill --resume` skips",
    ),
];

fn other_item_kind(prefix: &str) -> &'static str {
    OTHER_ITEM_KINDS
        .iter()
        .find(|(kind, _)| *kind == prefix)
        .map_or("not described here", |(_, meaning)| *meaning)
}

/// The start of a `pk` up to its first `#` (`SEEN#`), or all of it.
fn pk_prefix(pk: &str) -> &str {
    pk.find('#').map_or(pk, |at| &pk[..=at])
}

fn or_none(section: &str) -> &str {
    if section.is_empty() {
        "  (none)\n"
    } else {
        section
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `events/*.json`, sorted by name.
fn event_files(events_dir: &Path) -> Result<Vec<PathBuf>, LocalError> {
    let entries = fs::read_dir(events_dir).map_err(io_error(format!(
        "list the events in {}",
        events_dir.display()
    )))?;
    let mut events: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    events.sort();
    Ok(events)
}

/// Every file under `dir`, at any depth, sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, LocalError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let entries =
            fs::read_dir(&current).map_err(io_error(format!("list {}", current.display())))?;
        for entry in entries {
            let path = entry
                .map_err(io_error(format!("list {}", current.display())))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
