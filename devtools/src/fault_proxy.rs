//! A fault-injecting HTTP proxy for tests: it listens on 127.0.0.1 (random port) between the SDK
//! clients of the code under test and moto, and from a seeded schedule answers some requests itself
//! with the failures AWS produces (5xx, S3 `SlowDown`, DynamoDB throttling, connections reset
//! mid-body, partial BatchWriteItem results). It counts every fault it injected, so a test can
//! check the retries it caused against the budget.
//!
//! Only S3 `GetObject` and DynamoDB `BatchWriteItem` are ever faulted; every other request (table
//! set-up, scans) is forwarded untouched, so the fault counts speak of those two alone. Every
//! DynamoDB request is also counted by operation, so a test can check what a file costs.
//! The schedule is a sequence per operation: the n-th `GetObject` gets the same decision for the
//! same seed, whatever the timing.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{Sleep, sleep};

use crate::a4b_records::Rng;
use crate::http_server;

/// The requests the proxy can fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// S3 `GetObject` (a `GET` of `/bucket/key`, path-style).
    GetObject,
    /// DynamoDB `BatchWriteItem` (`X-Amz-Target: DynamoDB_20120810.BatchWriteItem`).
    BatchWriteItem,
}

/// What the proxy does instead of (or to) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// HTTP 500 with the service's internal-error body.
    Status500,
    /// HTTP 503 with the service's unavailable body.
    Status503,
    /// S3's `SlowDown` (503, XML). On DynamoDB: a 503 as well.
    SlowDown,
    /// DynamoDB's `ThrottlingException` (400, JSON). On S3: `SlowDown`.
    Throttling,
    /// DynamoDB's `ProvisionedThroughputExceededException` (400, JSON). On S3: `SlowDown`.
    ProvisionedThroughputExceeded,
    /// The request is forwarded, then the response's headers and the first part of its body are
    /// sent and the connection is dropped. For `BatchWriteItem` the items are written but the
    /// client never learns it.
    ResetMidBody,
    /// The request is held without an answer until the client gives up: a stalled connection,
    /// for deadline tests.
    Stall,
    /// A permanent refusal: S3's `AccessDenied` (403, XML), DynamoDB's `AccessDeniedException`
    /// (400, JSON).
    AccessDenied,
    /// `BatchWriteItem` only: the first half of the batch is forwarded, the rest is answered as
    /// `UnprocessedItems`. On `GetObject`: forwarded untouched (and not counted).
    PartialBatch,
}

/// When one operation is faulted.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// The faults drawn from, each equally likely. Empty: never fault.
    pub faults: Vec<Fault>,
    /// The chance, in percent, that a request is faulted.
    pub percent: u8,
    /// After this many faults in a row the next request is forwarded.
    pub max_consecutive: u32,
    /// No more faults than this in all.
    pub max_total: u64,
}

impl FaultRule {
    /// Never fault.
    pub fn none() -> Self {
        FaultRule {
            faults: Vec::new(),
            percent: 0,
            max_consecutive: 0,
            max_total: 0,
        }
    }

    /// Every request gets `fault`, without end: for budgets that must run out.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            faults: vec![fault],
            percent: 100,
            max_consecutive: u32::MAX,
            max_total: u64::MAX,
        }
    }

    /// `percent` of the requests get one of `faults`, never more than `max_consecutive` in a row.
    pub fn sometimes(faults: &[Fault], percent: u8, max_consecutive: u32) -> Self {
        FaultRule {
            faults: faults.to_vec(),
            percent,
            max_consecutive,
            max_total: u64::MAX,
        }
    }
}

/// The whole schedule: a seed and a rule per operation.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub seed: u64,
    pub get_object: FaultRule,
    pub batch_write: FaultRule,
}

impl FaultPlan {
    /// Forwards everything: the fault-free baseline through the same path.
    pub fn none() -> Self {
        FaultPlan {
            seed: 0,
            get_object: FaultRule::none(),
            batch_write: FaultRule::none(),
        }
    }
}

/// What the proxy did, per operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Requests of each faultable operation seen (faulted or not).
    pub requests: BTreeMap<Operation, u64>,
    /// Faults injected, by operation and kind.
    pub injected: BTreeMap<(Operation, Fault), u64>,
    /// Requests forwarded that are neither operation (set-up, scans, other calls).
    pub other_requests: u64,
    /// Every DynamoDB request seen (faulted or not), by operation (`BatchWriteItem`, `PutItem`, …).
    pub dynamodb_requests: BTreeMap<String, u64>,
}

impl FaultCounts {
    /// Faults injected into `operation`, of any kind.
    pub fn injected_into(&self, operation: Operation) -> u64 {
        self.injected
            .iter()
            .filter(|((op, _), _)| *op == operation)
            .map(|(_, count)| count)
            .sum()
    }

    /// Requests of `operation` seen.
    pub fn requests_of(&self, operation: Operation) -> u64 {
        self.requests.get(&operation).copied().unwrap_or(0)
    }
}

/// A running proxy; it stops serving on drop.
#[derive(Debug)]
pub struct FaultProxy {
    address: SocketAddr,
    state: Arc<ProxyState>,
    server: JoinHandle<()>,
}

#[derive(Debug)]
struct ProxyState {
    upstream: SocketAddr,
    schedule: Mutex<Schedule>,
}

#[derive(Debug)]
struct Schedule {
    get_object: RuleState,
    batch_write: RuleState,
    counts: FaultCounts,
}

#[derive(Debug)]
struct RuleState {
    rule: FaultRule,
    rng: Rng,
    consecutive: u32,
    total: u64,
}

impl RuleState {
    fn new(rule: FaultRule, seed: u64) -> Self {
        RuleState {
            rule,
            rng: Rng::new(seed),
            consecutive: 0,
            total: 0,
        }
    }

    /// The decision for the next request: `None` forwards it.
    fn next(&mut self) -> Option<Fault> {
        // Draw on every request, so the sequence depends on the seed and the position alone.
        let roll = self.rng.below(100);
        let pick = self.rng.below(self.rule.faults.len().max(1) as u64) as usize;
        let allowed =
            self.consecutive < self.rule.max_consecutive && self.total < self.rule.max_total;
        let fault = match self.rule.faults.get(pick) {
            Some(fault) if allowed && roll < u64::from(self.rule.percent) => Some(*fault),
            _ => None,
        };
        match fault {
            Some(_) => {
                self.consecutive += 1;
                self.total += 1;
            }
            None => self.consecutive = 0,
        }
        fault
    }
}

/// Errors of the proxy's own work (not faults it injects).
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("could not reach moto at {upstream}: {source}")]
    Connect {
        upstream: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP exchange with moto failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("could not build the forwarded request: {0}")]
    Build(#[from] hyper::http::Error),
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (moto's `http://127.0.0.1:PORT` or `127.0.0.1:PORT`).
    pub async fn start(upstream: &str, plan: FaultPlan) -> std::io::Result<Self> {
        let upstream = parse_upstream(upstream)?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        // Different streams for the two operations, both from the one seed.
        let schedule = Schedule {
            get_object: RuleState::new(plan.get_object, plan.seed ^ 0x0047_4554_4F42_4A45),
            batch_write: RuleState::new(plan.batch_write, plan.seed ^ 0x0042_4154_4348_5752),
            counts: FaultCounts::default(),
        };
        let state = Arc::new(ProxyState {
            upstream,
            schedule: Mutex::new(schedule),
        });
        let server = tokio::spawn(http_server::serve(
            listener,
            Arc::clone(&state),
            |request, state| async move { handle(&state, request).await },
        ));
        Ok(FaultProxy {
            address,
            state,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`: the endpoint the code under test is given.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// What the proxy has done so far.
    pub fn counts(&self) -> FaultCounts {
        lock(&self.state.schedule).counts.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn parse_upstream(upstream: &str) -> std::io::Result<SocketAddr> {
    let host_port = upstream.trim_start_matches("http://").trim_end_matches('/');
    host_port.parse().map_err(|error| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("upstream {upstream:?} is not http://IP:PORT: {error}"),
        )
    })
}

fn lock(schedule: &Mutex<Schedule>) -> MutexGuard<'_, Schedule> {
    // A panic while holding the lock leaves plain counters behind: still usable.
    schedule
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn handle(state: &ProxyState, request: Request<Incoming>) -> Response<ProxyBody> {
    let operation = operation_of(&request);
    let fault = {
        let mut schedule = lock(&state.schedule);
        let decision = match operation {
            Some(Operation::GetObject) => schedule.get_object.next(),
            Some(Operation::BatchWriteItem) => schedule.batch_write.next(),
            None => None,
        };
        // A partial batch means nothing for a read: forward it and do not count it.
        let decision = match (operation, decision) {
            (Some(Operation::GetObject), Some(Fault::PartialBatch)) => None,
            (_, decision) => decision,
        };
        if let Some(name) = dynamodb_operation(&request) {
            *schedule.counts.dynamodb_requests.entry(name).or_default() += 1;
        }
        match operation {
            Some(operation) => {
                *schedule.counts.requests.entry(operation).or_default() += 1;
                if let Some(fault) = decision {
                    *schedule
                        .counts
                        .injected
                        .entry((operation, fault))
                        .or_default() += 1;
                }
            }
            None => schedule.counts.other_requests += 1,
        }
        decision
    };
    let outcome = match (operation, fault) {
        (Some(operation), Some(fault)) => inject(state, operation, fault, request).await,
        _ => forward(state.upstream, request).await.map(into_proxy_body),
    };
    outcome.unwrap_or_else(|error| {
        // The proxy's own failure: a 502 the SDK treats as transient; the test will see it in the
        // counts not adding up, and here in the message.
        text_response(StatusCode::BAD_GATEWAY, "text/plain", error.to_string())
    })
}

/// The DynamoDB operation of a request (`X-Amz-Target: DynamoDB_20120810.<operation>`).
fn dynamodb_operation<B>(request: &Request<B>) -> Option<String> {
    let target = request.headers().get("x-amz-target")?.to_str().ok()?;
    let operation = target.strip_prefix("DynamoDB_20120810.")?;
    Some(operation.to_owned())
}

fn operation_of<B>(request: &Request<B>) -> Option<Operation> {
    if let Some(target) = request.headers().get("x-amz-target") {
        return (target.as_bytes() == b"DynamoDB_20120810.BatchWriteItem")
            .then_some(Operation::BatchWriteItem);
    }
    // Path-style GetObject: `/bucket/key...`; a bucket alone (`/bucket`, `/bucket/`) is a listing.
    let path = request.uri().path().trim_start_matches('/');
    let is_object = path
        .split_once('/')
        .is_some_and(|(bucket, key)| !bucket.is_empty() && !key.is_empty());
    (request.method() == Method::GET && is_object).then_some(Operation::GetObject)
}

async fn inject(
    state: &ProxyState,
    operation: Operation,
    fault: Fault,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, ProxyError> {
    match (operation, fault) {
        (_, Fault::ResetMidBody) => {
            let response = forward(state.upstream, request).await?;
            Ok(cut_mid_body(response))
        }
        (_, Fault::Stall) => std::future::pending().await,
        (Operation::BatchWriteItem, Fault::PartialBatch) => {
            partial_batch(state.upstream, request).await
        }
        (Operation::GetObject, fault) => Ok(s3_error(fault)),
        (Operation::BatchWriteItem, fault) => Ok(dynamodb_error(fault)),
    }
}

fn s3_error(fault: Fault) -> Response<ProxyBody> {
    let (status, code, message) = match fault {
        Fault::Status500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        Fault::Status503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service is unable to handle request.",
        ),
        Fault::AccessDenied => (StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        ),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>FAULTPROXY</RequestId></Error>"
    );
    text_response(status, "application/xml", body)
}

fn dynamodb_error(fault: Fault) -> Response<ProxyBody> {
    let (status, code, message) = match fault {
        Fault::Status500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error",
        ),
        Fault::Throttling => (
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ),
        Fault::ProvisionedThroughputExceeded => (
            StatusCode::BAD_REQUEST,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
        Fault::AccessDenied => (
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            "User is not authorized to perform: dynamodb:BatchWriteItem",
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service is unavailable.",
        ),
    };
    let body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": message,
    });
    text_response(status, "application/x-amz-json-1.0", body.to_string())
}

/// Forwards the first half of the batch's requests and reports the rest as unprocessed.
async fn partial_batch(
    upstream: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, ProxyError> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let Some((forwarded, unprocessed)) = split_batch(&body) else {
        // Not a batch this proxy understands: leave it alone.
        let request = Request::from_parts(parts, Full::new(body));
        return forward(upstream, request).await.map(into_proxy_body);
    };
    let unprocessed = json!({ "UnprocessedItems": unprocessed }).to_string();
    let Some(forwarded) = forwarded else {
        // Nothing to forward (a batch of one): all of it comes back unprocessed.
        return Ok(text_response(
            StatusCode::OK,
            "application/x-amz-json-1.0",
            unprocessed,
        ));
    };
    let mut request = Request::from_parts(parts, Full::new(Bytes::from(forwarded)));
    request.headers_mut().remove(CONTENT_LENGTH);
    let response = forward(upstream, request).await?;
    if response.status() != StatusCode::OK {
        return Ok(into_proxy_body(response));
    }
    let (mut parts, _) = response.into_parts();
    // The body changes, so its checksum and length must go.
    parts.headers.remove("x-amz-crc32");
    parts.headers.remove(CONTENT_LENGTH);
    Ok(Response::from_parts(
        parts,
        ProxyBody::Whole(Some(Bytes::from(unprocessed))),
    ))
}

/// Splits a BatchWriteItem body: the request with the first half of each table's write requests,
/// and the other halves as an `UnprocessedItems` map. `None` when the body is not a batch.
/// The forwarded request is `None` when it would carry nothing.
fn split_batch(body: &[u8]) -> Option<(Option<String>, Value)> {
    let mut document: Value = serde_json::from_slice(body).ok()?;
    let tables = document.get_mut("RequestItems")?.as_object_mut()?;
    let mut unprocessed = Map::new();
    let mut forwarded_any = false;
    for (table, requests) in tables.iter_mut() {
        let requests = requests.as_array_mut()?;
        let keep = requests.len() / 2;
        let rest = requests.split_off(keep);
        forwarded_any |= !requests.is_empty();
        if !rest.is_empty() {
            unprocessed.insert(table.clone(), Value::Array(rest));
        }
    }
    tables.retain(|_, requests| requests.as_array().is_some_and(|list| !list.is_empty()));
    let forwarded = forwarded_any.then(|| document.to_string());
    Some((forwarded, Value::Object(unprocessed)))
}

/// Sends `request` to moto on a fresh connection and reads the whole response.
async fn forward<B>(
    upstream: SocketAddr,
    request: Request<B>,
) -> Result<Response<Bytes>, ProxyError>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|source| ProxyError::Connect { upstream, source })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(connection);
    let mut request = request;
    if !request.headers().contains_key(HOST) {
        let host = HeaderValue::from_str(&upstream.to_string())
            .unwrap_or(HeaderValue::from_static("127.0.0.1"));
        request.headers_mut().insert(HOST, host);
    }
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    driver.abort();
    Ok(Response::from_parts(parts, body))
}

fn into_proxy_body(response: Response<Bytes>) -> Response<ProxyBody> {
    response.map(|body| ProxyBody::Whole(Some(body)))
}

/// The response with its full `Content-Length` but only the first part of the body; then the
/// body fails, which makes hyper drop the connection.
fn cut_mid_body(response: Response<Bytes>) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(TRANSFER_ENCODING);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let sent = body.len() / 2;
    Response::from_parts(
        parts,
        ProxyBody::CutShort {
            first_part: Some(body.slice(..sent)),
            announced: body.len() as u64,
            pause: None,
        },
    )
}

fn text_response(status: StatusCode, content_type: &str, body: String) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::Whole(Some(Bytes::from(body))));
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// How long a body cut short waits after its first part before failing. hyper drops what it has
/// buffered when a body fails: the pause (a `Pending`) makes it send the headers and the first
/// part first, as a real connection reset mid-transfer would have.
const PAUSE_BEFORE_RESET: Duration = Duration::from_millis(20);

/// A response body: whole, or cut short by an error after its first part.
#[derive(Debug)]
enum ProxyBody {
    Whole(Option<Bytes>),
    CutShort {
        first_part: Option<Bytes>,
        announced: u64,
        pause: Option<Pin<Box<Sleep>>>,
    },
}

/// The error that ends a body cut short.
#[derive(Debug, thiserror::Error)]
#[error("fault proxy: connection reset mid-body")]
struct ResetMidBody;

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = ResetMidBody;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ResetMidBody>>> {
        match self.get_mut() {
            ProxyBody::Whole(body) => Poll::Ready(body.take().map(|bytes| Ok(Frame::data(bytes)))),
            ProxyBody::CutShort {
                first_part, pause, ..
            } => {
                if let Some(bytes) = first_part.take().filter(|bytes| !bytes.is_empty()) {
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                let pause = pause.get_or_insert_with(|| Box::pin(sleep(PAUSE_BEFORE_RESET)));
                match pause.as_mut().poll(context) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(ResetMidBody))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ProxyBody::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Whole(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            ProxyBody::Whole(None) => SizeHint::with_exact(0),
            ProxyBody::CutShort { announced, .. } => SizeHint::with_exact(*announced),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_decisions(rule: FaultRule, seed: u64, requests: usize) -> Vec<Option<Fault>> {
        let mut state = RuleState::new(rule, seed);
        (0..requests).map(|_| state.next()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let rule = FaultRule::sometimes(&[Fault::Throttling, Fault::PartialBatch], 40, 3);
        let first = rule_decisions(rule.clone(), 7, 200);
        assert_eq!(first, rule_decisions(rule.clone(), 7, 200));
        assert_ne!(first, rule_decisions(rule, 8, 200));
        assert!(first.iter().any(Option::is_some) && first.iter().any(Option::is_none));
    }

    #[test]
    fn never_more_faults_in_a_row_than_allowed() {
        let rule = FaultRule::sometimes(&[Fault::Status503], 90, 2);
        let decisions = rule_decisions(rule, 1, 500);
        let longest_run = decisions
            .split(Option::is_none)
            .map(<[Option<Fault>]>::len)
            .max()
            .unwrap();
        assert_eq!(longest_run, 2);
    }

    #[test]
    fn never_more_faults_than_the_total() {
        let mut rule = FaultRule::always(Fault::Status500);
        rule.max_total = 5;
        let decisions = rule_decisions(rule, 3, 50);
        assert_eq!(decisions.iter().flatten().count(), 5);
        assert!(decisions[..5].iter().all(Option::is_some));
    }

    #[test]
    fn a_batch_is_split_in_half_per_table() {
        let body = json!({"RequestItems": {"audit": [
            {"PutRequest": {"Item": {"pk": {"S": "a"}}}},
            {"PutRequest": {"Item": {"pk": {"S": "b"}}}},
            {"PutRequest": {"Item": {"pk": {"S": "c"}}}},
        ]}});
        let (forwarded, unprocessed) = split_batch(body.to_string().as_bytes()).unwrap();
        let forwarded: Value = serde_json::from_str(&forwarded.unwrap()).unwrap();
        assert_eq!(
            forwarded["RequestItems"]["audit"].as_array().unwrap().len(),
            1
        );
        assert_eq!(unprocessed["audit"].as_array().unwrap().len(), 2);
        assert_eq!(
            unprocessed["audit"][0]["PutRequest"]["Item"]["pk"]["S"],
            "b"
        );
    }

    #[test]
    fn a_batch_of_one_is_answered_unprocessed_without_forwarding() {
        let body = json!({"RequestItems": {"audit": [{"PutRequest": {"Item": {}}}]}});
        let (forwarded, unprocessed) = split_batch(body.to_string().as_bytes()).unwrap();
        assert!(forwarded.is_none());
        assert_eq!(unprocessed["audit"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn requests_are_told_apart_by_target_and_path() {
        let request = |method: Method, uri: &str, target: Option<&str>| {
            let mut builder = Request::builder().method(method).uri(uri);
            if let Some(target) = target {
                builder = builder.header("x-amz-target", target);
            }
            builder.body(()).unwrap()
        };
        let batch = request(Method::POST, "/", Some("DynamoDB_20120810.BatchWriteItem"));
        assert_eq!(operation_of(&batch), Some(Operation::BatchWriteItem));
        let put = request(Method::POST, "/", Some("DynamoDB_20120810.PutItem"));
        assert_eq!(operation_of(&put), None);
        assert_eq!(dynamodb_operation(&put).as_deref(), Some("PutItem"));
        assert_eq!(
            dynamodb_operation(&batch).as_deref(),
            Some("BatchWriteItem")
        );
        let get = request(Method::GET, "/trail/AWSLogs/x.json.gz?x-id=GetObject", None);
        assert_eq!(operation_of(&get), Some(Operation::GetObject));
        let list = request(Method::GET, "/trail/?list-type=2", None);
        assert_eq!(operation_of(&list), None);
        let upload = request(Method::PUT, "/trail/key", None);
        assert_eq!(operation_of(&upload), None);
    }
}
