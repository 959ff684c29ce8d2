//! A local AWS (S3 and DynamoDB) for tests and `a4b-dev`: the pinned moto server from `.venv`,
//! started on a free loopback port, plus small client helpers.
//!
//! moto runs under a tiny `sh` wrapper that kills it when its stdin (a pipe this process holds)
//! reaches end of file. The pipe closes when this process exits in any way (return, panic, abort,
//! signal), so even the [`MotoServer::shared`] server, held in a static that is never dropped,
//! never outlives its test binary.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;

use crate::time_index;

/// Region every local client uses; moto accepts any.
pub const LOCAL_REGION: &str = "us-east-1";
/// Dummy credentials: moto checks nothing, the SDK only needs some.
pub const DUMMY_ACCESS_KEY_ID: &str = "testing";
pub const DUMMY_SECRET_ACCESS_KEY: &str = "testing";

/// Environment variable naming the moto server executable, overriding `dev/moto-server`.
pub const MOTO_SERVER_ENV: &str = "A4B_MOTO_SERVER";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const READY_POLL: Duration = Duration::from_millis(100);
/// A free port can be taken by someone else between our probe and moto's bind: try a few.
const START_ATTEMPTS: u32 = 3;

// "$1" is moto_server, "$2" the port, "$3" the log file. The watcher reads the wrapper's stdin
// (kept on fd 3, because an asynchronous list gets /dev/null as stdin) and kills moto at EOF;
// the wrapper itself exits when moto does, so an early death is seen by `try_wait`.
const WRAPPER_SCRIPT: &str = r#"exec 3<&0
"$1" -H 127.0.0.1 -p "$2" </dev/null 3<&- >>"$3" 2>&1 &
moto=$!
( cat <&3 >/dev/null; kill "$moto" 2>/dev/null ) &
exec 3<&-
wait "$moto"
"#;

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error(
        "moto server not found at {path}: run `scripts/test`, or `source scripts/lib/venv.sh; ensure_venv` \
         from the repository root, or point {MOTO_SERVER_ENV} at a moto_server executable"
    )]
    NotInstalled { path: PathBuf },
    #[error("could not {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "moto server exited before answering on port {port}; its log ({log}) ends with:\n{log_tail}"
    )]
    ExitedEarly {
        port: u16,
        log: PathBuf,
        log_tail: String,
    },
    #[error("moto server did not answer on port {port} within {timeout:?}; see its log {log}")]
    NotReady {
        port: u16,
        timeout: Duration,
        log: PathBuf,
    },
    #[error("moto reset at {endpoint} answered HTTP {status}")]
    ResetFailed { endpoint: String, status: u16 },
}

/// An AWS call made by a helper failed; `action` says which (bucket, key, table).
#[derive(Debug, thiserror::Error)]
#[error("could not {action}: {message}")]
pub struct AwsCallError {
    pub action: String,
    pub message: String,
}

impl AwsCallError {
    fn new(action: impl Into<String>, error: impl std::error::Error) -> Self {
        Self {
            action: action.into(),
            // DisplayErrorContext prints the whole chain, which is what says *why*.
            message: aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
        }
    }
}

/// A running moto server on 127.0.0.1; stopped on drop.
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    log_path: PathBuf,
    wrapper: Child,
    // Dropping this closes the pipe, which makes the wrapper kill moto.
    kill_pipe: Option<ChildStdin>,
}

impl MotoServer {
    /// Starts a server of its own (stopped on drop). Blocks until it answers (at most ~30 s).
    pub fn start() -> Result<Self, MotoError> {
        let MotoLauncher {
            executable,
            requires,
        } = moto_launcher();
        if !requires.is_file() {
            return Err(MotoError::NotInstalled { path: requires });
        }
        let log_dir = workspace_root().join("target").join("moto");
        fs::create_dir_all(&log_dir).map_err(|source| MotoError::Io {
            action: format!("create the log directory {}", log_dir.display()),
            source,
        })?;
        let mut attempt = 1;
        loop {
            match Self::start_on_free_port(&executable, &log_dir) {
                Err(MotoError::ExitedEarly { .. }) if attempt < START_ATTEMPTS => attempt += 1,
                outcome => return outcome,
            }
        }
    }

    /// One server for the whole test process, started on first use. Tests isolate themselves by
    /// unique bucket and table names. The server goes away when the process exits.
    pub fn shared() -> Result<&'static MotoServer, MotoError> {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        static STARTING: Mutex<()> = Mutex::new(());
        if let Some(server) = SHARED.get() {
            return Ok(server);
        }
        // OnceLock::get_or_try_init is unstable: serialise the first start by hand.
        let _guard = STARTING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(server) = SHARED.get() {
            return Ok(server);
        }
        let server = Self::start()?;
        Ok(SHARED.get_or_init(|| server))
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` and [`sdk_config`].
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where moto's own output goes; worth printing when a test fails.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Forgets every bucket, table and object (`POST /moto-api/reset`). Blocks briefly.
    pub fn reset(&self) -> Result<(), MotoError> {
        let status =
            http_status(self.port, "POST", "/moto-api/reset").map_err(|source| MotoError::Io {
                action: format!("reset the moto server at {}", self.endpoint()),
                source,
            })?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(MotoError::ResetFailed {
                endpoint: self.endpoint(),
                status,
            })
        }
    }

    fn start_on_free_port(executable: &Path, log_dir: &Path) -> Result<Self, MotoError> {
        let port = free_port().map_err(|source| MotoError::Io {
            action: "find a free port on 127.0.0.1".to_owned(),
            source,
        })?;
        let log_path = log_dir.join(format!("moto-{port}.log"));
        File::create(&log_path).map_err(|source| MotoError::Io {
            action: format!("create the log file {}", log_path.display()),
            source,
        })?;
        let mut wrapper = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER_SCRIPT)
            .arg("a4b-moto-wrapper")
            .arg(executable)
            .arg(port.to_string())
            .arg(&log_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| MotoError::Io {
                action: format!("start {} through sh", executable.display()),
                source,
            })?;
        let kill_pipe = wrapper.stdin.take();
        let mut server = MotoServer {
            port,
            log_path,
            wrapper,
            kill_pipe,
        };
        server.wait_until_ready()?;
        Ok(server)
    }

    fn wait_until_ready(&mut self) -> Result<(), MotoError> {
        let started = Instant::now();
        loop {
            if let Ok(Some(_status)) = self.wrapper.try_wait() {
                return Err(MotoError::ExitedEarly {
                    port: self.port,
                    log: self.log_path.clone(),
                    log_tail: log_tail(&self.log_path),
                });
            }
            // Any HTTP answer at all means moto is serving.
            if http_status(self.port, "GET", "/moto-api/").is_ok() {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(MotoError::NotReady {
                    port: self.port,
                    timeout: READY_TIMEOUT,
                    log: self.log_path.clone(),
                });
            }
            thread::sleep(READY_POLL);
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        drop(self.kill_pipe.take());
        // The wrapper exits once moto has; reap it so no zombie is left.
        let _ = self.wrapper.wait();
    }
}

/// What starts moto, and the file it cannot start without.
struct MotoLauncher {
    executable: PathBuf,
    requires: PathBuf,
}

/// `A4B_MOTO_SERVER`, else `<workspace>/dev/moto-server`: the virtualenv's moto (so it requires the
/// virtualenv's Python) with one fix of a cost that grows with the table (see
/// `dev/moto_server.py`).
fn moto_launcher() -> MotoLauncher {
    match std::env::var_os(MOTO_SERVER_ENV) {
        Some(path) if !path.is_empty() => MotoLauncher {
            executable: PathBuf::from(&path),
            requires: PathBuf::from(path),
        },
        _ => MotoLauncher {
            executable: workspace_root().join("dev").join("moto-server"),
            requires: workspace_root().join(".venv").join("bin").join("python"),
        },
    }
}

/// The repository root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A minimal HTTP/1.0 request on loopback returning the status code; enough to poll and reset
/// moto without an HTTP client dependency.
fn http_status(port: u16, method: &str, path: &str) -> io::Result<u16> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let status_line = response.split(|&byte| byte == b'\n').next().unwrap_or(&[]);
    String::from_utf8_lossy(status_line)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))
}

fn log_tail(path: &Path) -> String {
    const TAIL_LINES: usize = 20;
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// SDK configuration for a local endpoint: dummy static credentials, region `us-east-1`.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new(
            DUMMY_ACCESS_KEY_ID,
            DUMMY_SECRET_ACCESS_KEY,
            None,
            None,
            "a4b-devtools",
        ))
        .load()
        .await
}

/// An S3 client with path-style addressing (`http://127.0.0.1:PORT/bucket/key`), as moto needs.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), AwsCallError> {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|error| AwsCallError::new(format!("create bucket {bucket}"), error))?;
    Ok(())
}

pub async fn put_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<(), AwsCallError> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|error| AwsCallError::new(format!("put s3://{bucket}/{key}"), error))?;
    Ok(())
}

/// The audit table as the SAM template declares it: `pk`/`sk` (both String), on-demand, with the
/// time index (`day`/`sk`, the attributes of [`time_index::PROJECTED_ATTRIBUTES`]).
pub async fn create_audit_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), AwsCallError> {
    let action = || format!("create table {table}");
    let key_attribute = |name: &str, key_type: KeyType| {
        let definition = AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build();
        let key = KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build();
        definition
            .and_then(|definition| key.map(|key| (definition, key)))
            .map_err(|error| AwsCallError::new(action(), error))
    };
    let (pk_definition, pk_key) = key_attribute("pk", KeyType::Hash)?;
    let (sk_definition, sk_key) = key_attribute("sk", KeyType::Range)?;
    let (day_definition, day_key) = key_attribute(time_index::DAY_ATTRIBUTE, KeyType::Hash)?;
    let index = GlobalSecondaryIndex::builder()
        .index_name(time_index::TIME_INDEX)
        .key_schema(day_key)
        .key_schema(sk_key.clone())
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    time_index::PROJECTED_ATTRIBUTES
                        .iter()
                        .map(|name| name.to_string())
                        .collect(),
                ))
                .build(),
        )
        .build()
        .map_err(|error| AwsCallError::new(action(), error))?;
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(pk_definition)
        .attribute_definitions(sk_definition)
        .attribute_definitions(day_definition)
        .key_schema(pk_key)
        .key_schema(sk_key)
        .global_secondary_indexes(index)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|error| AwsCallError::new(action(), error))?;
    Ok(())
}

/// One item as DynamoDB returns it, attributes by name.
pub type Item = BTreeMap<String, AttributeValue>;

/// Every item of the table (all scan pages), sorted by `pk` then `sk`.
pub async fn scan_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<Item>, AwsCallError> {
    let mut items = Vec::new();
    let mut pages = client.scan().table_name(table).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| AwsCallError::new(format!("scan table {table}"), error))?;
        items.extend(
            page.items
                .unwrap_or_default()
                .into_iter()
                .map(|item| item.into_iter().collect::<Item>()),
        );
    }
    items.sort_by(|left, right| item_key(left).cmp(&item_key(right)));
    Ok(items)
}

fn item_key(item: &Item) -> (Option<&str>, Option<&str>) {
    let text = |name: &str| {
        item.get(name)
            .and_then(|value| value.as_s().ok())
            .map(String::as_str)
    };
    (text("pk"), text("sk"))
}
