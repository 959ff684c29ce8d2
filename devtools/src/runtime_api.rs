//! A Lambda Runtime API emulator: the few endpoints `lambda_runtime` 1.x calls, served on a random
//! loopback port, so tests and `a4b-dev run-local` can invoke the real Lambda binary.
//!
//! `invoke` queues an event; the function's long-polling `GET /next` takes it; its `POST .../response`
//! or `.../error` completes the invocation. An init error or the death of the process (reported by
//! [`crate::lambda_process::LambdaProcess`]) fails the invocation at once instead of waiting for the
//! deadline.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::http_server;

const API_PREFIX: &str = "/2018-06-01/runtime";
/// Lambda's limit on a synchronous response and on an error document.
const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;
/// The function name when no process was spawned through `LambdaProcess`.
pub const DEFAULT_FUNCTION_NAME: &str = "a4b-audit";
const FUNCTION_ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

/// What the function answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST .../response`: the body, parsed as JSON when it is JSON, else as a string.
    Response(serde_json::Value),
    /// `POST .../error`: the error document the runtime sent.
    Error(FunctionError),
}

/// The error document a runtime posts: `{"errorType": ..., "errorMessage": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FunctionError {
    #[serde(rename = "errorType", default)]
    pub error_type: String,
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
}

/// One completed invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// Time from `invoke` to the outcome.
    pub duration: Duration,
    /// Time from the spawn of the process to its first `GET /next`: the cold start. `None` when
    /// no process was spawned through [`crate::lambda_process::LambdaProcess`].
    pub cold_start: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("invocation {request_id} got no answer within {deadline:?}")]
    Timeout {
        request_id: String,
        deadline: Duration,
    },
    #[error("the function reported an init error: {}: {}", .0.error_type, .0.error_message)]
    InitError(FunctionError),
    #[error("the function process exited ({status}) before answering invocation {request_id}")]
    ProcessExited { request_id: String, status: String },
    #[error("the runtime API emulator has stopped")]
    Stopped,
}

/// The emulator; its server stops on drop.
#[derive(Debug)]
pub struct RuntimeApi {
    address: SocketAddr,
    state: Arc<State>,
    queue: mpsc::UnboundedSender<Queued>,
    server: JoinHandle<()>,
}

/// Something that ends every pending invocation at once.
#[derive(Debug, Clone)]
enum Fatal {
    InitError(FunctionError),
    ProcessExited(String),
}

#[derive(Debug)]
struct Queued {
    sequence: u64,
    request_id: String,
    payload: Bytes,
    deadline: Duration,
    answer: oneshot::Sender<Outcome>,
}

#[derive(Debug)]
struct State {
    // The long-poll takes events from here; tokio's Mutex because it is held across `recv`.
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    fatal: watch::Sender<Option<Fatal>>,
    timing: Mutex<Timing>,
    // For `Lambda-Runtime-Invoked-Function-Arn`; set by `process_spawned`.
    function_name: Mutex<String>,
    next_request: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Timing {
    spawned_at: Option<Instant>,
    first_next_at: Option<Instant>,
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on a random port and serves until dropped.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        let (queue, queue_receiver) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue: tokio::sync::Mutex::new(queue_receiver),
            in_flight: Mutex::new(HashMap::new()),
            fatal: watch::Sender::new(None),
            timing: Mutex::new(Timing::default()),
            function_name: Mutex::new(DEFAULT_FUNCTION_NAME.to_owned()),
            next_request: AtomicU64::new(1),
        });
        let server = tokio::spawn(http_server::serve(
            listener,
            Arc::clone(&state),
            |request, state| async move { route(request, &state).await },
        ));
        Ok(Self {
            address,
            state,
            queue,
            server,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues `payload` and waits for the function's answer, at most `deadline` (also handed to
    /// the function as `Lambda-Runtime-Deadline-Ms`).
    pub async fn invoke(
        &self,
        payload: serde_json::Value,
        deadline: Duration,
    ) -> Result<Invocation, InvokeError> {
        let started = Instant::now();
        let sequence = self.state.next_request.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("a4b0c0de-0000-4000-8000-{sequence:012x}");
        // Fail fast when the function is already gone.
        if let Some(fatal) = self.state.fatal.borrow().clone() {
            return Err(fatal.into_error(&request_id));
        }
        let (answer, answered) = oneshot::channel();
        let queued = Queued {
            sequence,
            request_id: request_id.clone(),
            payload: Bytes::from(payload.to_string()),
            deadline,
            answer,
        };
        self.queue
            .send(queued)
            .map_err(|_closed| InvokeError::Stopped)?;
        let mut fatal = self.state.fatal.subscribe();
        let outcome = tokio::select! {
            // Listed first and `biased`: an answer that raced the process exit still counts.
            biased;
            answer = answered => answer.map_err(|_dropped| InvokeError::Stopped)?,
            fatal = fatal.wait_for(Option::is_some) => {
                let error = match fatal.as_deref() {
                    Ok(Some(fatal)) => fatal.clone().into_error(&request_id),
                    _ => InvokeError::Stopped,
                };
                self.forget(&request_id);
                return Err(error);
            }
            () = tokio::time::sleep(deadline) => {
                self.forget(&request_id);
                return Err(InvokeError::Timeout { request_id, deadline });
            }
        };
        Ok(Invocation {
            request_id,
            outcome,
            duration: started.elapsed(),
            cold_start: self.cold_start(),
        })
    }

    /// Time from the last spawn to the first `GET /next` after it, once that has happened.
    pub fn cold_start(&self) -> Option<Duration> {
        let timing = *lock(&self.state.timing);
        Some(
            timing
                .first_next_at?
                .saturating_duration_since(timing.spawned_at?),
        )
    }

    /// Called by `LambdaProcess::spawn`: starts the cold-start clock and forgets an earlier
    /// process's death or init error.
    pub(crate) fn process_spawned(&self, function_name: &str) {
        function_name.clone_into(&mut lock(&self.state.function_name));
        *lock(&self.state.timing) = Timing {
            spawned_at: Some(Instant::now()),
            first_next_at: None,
        };
        self.state.fatal.send_replace(None);
    }

    /// A handle the process watcher uses to report the process's exit.
    pub(crate) fn exit_reporter(&self) -> ExitReporter {
        ExitReporter {
            fatal: self.state.fatal.clone(),
        }
    }

    fn forget(&self, request_id: &str) {
        lock(&self.state.in_flight).remove(request_id);
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // The connection tasks live in the server task's JoinSet: they end with it.
        self.server.abort();
    }
}

/// Tells the emulator that the function process has exited.
#[derive(Debug, Clone)]
pub(crate) struct ExitReporter {
    fatal: watch::Sender<Option<Fatal>>,
}

impl ExitReporter {
    pub(crate) fn exited(&self, status: ExitStatus) {
        self.fatal
            .send_replace(Some(Fatal::ProcessExited(status.to_string())));
    }
}

impl Fatal {
    fn into_error(self, request_id: &str) -> InvokeError {
        match self {
            Fatal::InitError(error) => InvokeError::InitError(error),
            Fatal::ProcessExited(status) => InvokeError::ProcessExited {
                request_id: request_id.to_owned(),
                status,
            },
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent even if a holder panicked: every update is a single assignment.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn route(request: Request<Incoming>, state: &State) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(endpoint) = path.strip_prefix(API_PREFIX) else {
        return plain(StatusCode::NOT_FOUND, "unknown path");
    };
    let method = request.method().clone();
    let segments: Vec<&str> = endpoint.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next_invocation(state).await,
        (Method::POST, ["invocation", request_id, "response"]) => {
            let request_id = (*request_id).to_owned();
            match read_body(request).await {
                Ok(body) => complete(state, &request_id, Outcome::Response(parse_response(&body))),
                Err(response) => response,
            }
        }
        (Method::POST, ["invocation", request_id, "error"]) => {
            let request_id = (*request_id).to_owned();
            match read_body(request).await {
                Ok(body) => complete(state, &request_id, Outcome::Error(parse_error(&body))),
                Err(response) => response,
            }
        }
        (Method::POST, ["init", "error"]) => match read_body(request).await {
            Ok(body) => {
                state
                    .fatal
                    .send_replace(Some(Fatal::InitError(parse_error(&body))));
                accepted()
            }
            Err(response) => response,
        },
        _ => plain(StatusCode::NOT_FOUND, "unknown path"),
    }
}

async fn next_invocation(state: &State) -> Response<Full<Bytes>> {
    {
        let mut timing = lock(&state.timing);
        if timing.first_next_at.is_none() {
            timing.first_next_at = Some(Instant::now());
        }
    }
    let Some(queued) = next_wanted(state).await else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "emulator stopping");
    };
    let deadline_ms = SystemTime::now()
        .checked_add(queued.deadline)
        .and_then(|deadline| deadline.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since_epoch| since_epoch.as_millis());
    let function_name = lock(&state.function_name).clone();
    lock(&state.in_flight).insert(queued.request_id.clone(), queued.answer);
    let mut response = Response::new(Full::new(queued.payload));
    let headers = response.headers_mut();
    let mut insert = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    insert("lambda-runtime-aws-request-id", queued.request_id.clone());
    insert("lambda-runtime-deadline-ms", deadline_ms.to_string());
    insert(
        "lambda-runtime-invoked-function-arn",
        format!("{FUNCTION_ARN_PREFIX}{function_name}"),
    );
    insert(
        "lambda-runtime-trace-id",
        format!(
            "Root=1-{:08x}-{:024x};Sampled=0",
            deadline_ms / 1000,
            queued.sequence
        ),
    );
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The next queued invocation whose invoker is still waiting: one that timed out before the
/// function asked for it is dropped rather than run late.
async fn next_wanted(state: &State) -> Option<Queued> {
    let mut queue = state.queue.lock().await;
    loop {
        let queued = queue.recv().await?;
        if !queued.answer.is_closed() {
            return Some(queued);
        }
    }
}

fn complete(state: &State, request_id: &str, outcome: Outcome) -> Response<Full<Bytes>> {
    let Some(answer) = lock(&state.in_flight).remove(request_id) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "unknown or already answered request id",
        );
    };
    // The invoker may have timed out meanwhile; the answer then has nobody to go to.
    let _ = answer.send(outcome);
    accepted()
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, Response<Full<Bytes>>> {
    match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_too_large_or_broken) => Err(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body over 6 MB or unreadable",
        )),
    }
}

fn parse_response(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn parse_error(body: &[u8]) -> FunctionError {
    serde_json::from_slice(body).unwrap_or_else(|_| FunctionError {
        error_type: "Unparsable".to_owned(),
        error_message: String::from_utf8_lossy(body).into_owned(),
    })
}

fn accepted() -> Response<Full<Bytes>> {
    plain(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}
