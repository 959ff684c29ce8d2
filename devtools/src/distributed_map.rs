//! A local Step Functions Distributed Map: executes the documented contract of the backfill state
//! machine (template.yaml, `BackfillStateMachine`) against moto, invoking the real Lambda binary
//! through the runtime API emulator, and serves the Step Functions API calls the CLI makes
//! (`ListStateMachines`, `DescribeStateMachine`, `StartExecution`, `DescribeExecution`,
//! `ListMapRuns`, `DescribeMapRun`) on a loopback port. moto has Step Functions but runs no
//! Distributed Map, so the runner serves these calls itself, from the definition it is given.
//!
//! What it executes, as the Step Functions developer guide documents it:
//! - `ItemReader` with `ReaderConfig.InputType: CSV`, header in the first row: one item per row, an
//!   object keyed by the header's column names, read from S3 (`Bucket.$`/`Key.$` from the input).
//! - `ItemBatcher`: `MaxItemsPerBatch[Path]`, `MaxInputBytesPerBatch`, `BatchInput` (paths resolved
//!   against the execution input); the child's input is `{"Items":[…],"BatchInput":{…}}`.
//! - `MaxConcurrency[Path]` children at once; each child runs the processor's one `Task`, a
//!   `lambda:invoke` whose result is `{"Payload":…,"StatusCode":200,…}`, then `OutputPath`.
//! - `Retry`: a function error's `errorType` (or `Lambda.Unknown` when the process dies or times out)
//!   matched against `ErrorEquals`, waiting `IntervalSeconds × BackoffRate^n`, capped at
//!   `MaxDelaySeconds`, with full jitter, at most `MaxAttempts` retries.
//! - `ToleratedFailurePercentage`: more failed items than that share of all items fails the map run
//!   (`States.ExceedToleratedFailureThreshold`); items not started are written as PENDING.
//! - `ResultWriter` to S3: `<Prefix>/<map run id>/manifest.json` naming `SUCCEEDED_0.json`,
//!   `FAILED_0.json`, `PENDING_0.json`, each a JSON array of child executions with their `Input` and
//!   `Output` (or `Error` and `Cause`) as JSON text.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use crate::http_server;
use crate::runtime_api::{InvokeError, Outcome, RuntimeApi};

/// How long one child's invocation may take before it counts as `Lambda.Unknown`.
const INVOKE_DEADLINE: Duration = Duration::from_secs(300);
const ACCOUNT: &str = "123456789012";

/// What the runner needs besides the definition.
pub struct MapRunnerConfig {
    /// The state machine's name (its ARN is built from it).
    pub name: String,
    /// The definition, as deployed (substitutions applied).
    pub definition: Value,
    /// Where the manifest is read from and results written (moto).
    pub s3: aws_sdk_s3::Client,
    /// One emulator per function process: the concurrency the runner can really reach.
    pub functions: Vec<Arc<RuntimeApi>>,
    /// Multiplies every retry wait (1.0 as written; tests shorten the waits).
    pub retry_wait_scale: f64,
}

/// The runner and its Step Functions endpoint; stops on drop.
pub struct MapRunner {
    address: SocketAddr,
    state: Arc<RunnerState>,
    server: JoinHandle<()>,
}

struct RunnerState {
    config: MapRunnerConfig,
    executions: Mutex<HashMap<String, Execution>>,
    next: Mutex<u64>,
    /// Hands free function emulators to children.
    free_functions: Mutex<Vec<Arc<RuntimeApi>>>,
    function_slots: Semaphore,
}

#[derive(Clone, Debug)]
struct Execution {
    arn: String,
    name: String,
    input: String,
    status: &'static str,
    start: f64,
    stop: Option<f64>,
    output: Option<String>,
    error: Option<(String, String)>,
    map_run: Option<MapRun>,
}

#[derive(Clone, Debug, Default)]
struct MapRun {
    arn: String,
    status: &'static str,
    start: f64,
    stop: Option<f64>,
    max_concurrency: u64,
    tolerated_percentage: f64,
    items: Counts,
    children: Counts,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    pending: u64,
    running: u64,
    succeeded: u64,
    failed: u64,
    total: u64,
    results_written: u64,
}

impl Counts {
    fn json(&self) -> Value {
        json!({
            "pending": self.pending,
            "running": self.running,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "timedOut": 0,
            "aborted": 0,
            "total": self.total,
            "resultsWritten": self.results_written,
        })
    }
}

/// Why an execution failed, as Step Functions names it.
#[derive(Debug)]
struct Failure {
    error: String,
    cause: String,
}

fn failure(error: &str, cause: impl Into<String>) -> Failure {
    Failure {
        error: error.to_owned(),
        cause: cause.into(),
    }
}

impl MapRunner {
    /// Serves the Step Functions API on 127.0.0.1 (random port) until dropped.
    pub async fn start(config: MapRunnerConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        let slots = config.functions.len();
        let state = Arc::new(RunnerState {
            free_functions: Mutex::new(config.functions.clone()),
            function_slots: Semaphore::new(slots),
            config,
            executions: Mutex::default(),
            next: Mutex::new(1),
        });
        let server = tokio::spawn(http_server::serve(listener, Arc::clone(&state), route));
        Ok(MapRunner {
            address,
            state,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_SFN`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The state machine's ARN.
    pub fn state_machine_arn(&self) -> String {
        self.state.state_machine_arn()
    }
}

impl Drop for MapRunner {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or_default()
}

impl RunnerState {
    fn state_machine_arn(&self) -> String {
        format!(
            "arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{}",
            self.config.name
        )
    }

    fn next_id(&self) -> u64 {
        let mut next = lock(&self.next);
        let id = *next;
        *next += 1;
        id
    }

    fn update(&self, execution_arn: &str, change: impl FnOnce(&mut Execution)) {
        if let Some(execution) = lock(&self.executions).get_mut(execution_arn) {
            change(execution);
        }
    }

    fn update_map_run(&self, execution_arn: &str, change: impl FnOnce(&mut MapRun)) {
        self.update(execution_arn, |execution| {
            if let Some(map_run) = execution.map_run.as_mut() {
                change(map_run);
            }
        });
    }
}

// ---- the Step Functions API (awsJson1_0) ----------------------------------------------------------

async fn route(request: Request<Incoming>, state: Arc<RunnerState>) -> Response<Full<Bytes>> {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) => return api_error("InvalidRequest", &error.to_string()),
    };
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let operation = target.strip_prefix("AWSStepFunctions.").unwrap_or(&target);
    let answer = match operation {
        "ListStateMachines" => Ok(list_state_machines(&state)),
        "DescribeStateMachine" => describe_state_machine(&state, &input),
        "StartExecution" => start_execution(&state, &input),
        "DescribeExecution" => describe_execution(&state, &input),
        "ListMapRuns" => list_map_runs(&state, &input),
        "DescribeMapRun" => describe_map_run(&state, &input),
        other => Err((
            "UnknownOperationException",
            format!("{other} is not served by the local map runner"),
        )),
    };
    match answer {
        Ok(value) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Full::new(Bytes::from(value.to_string())))
            .unwrap_or_default(),
        Err((code, message)) => api_error(code, &message),
    }
}

fn api_error(code: &str, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header("content-type", "application/x-amz-json-1.0")
        .body(Full::new(Bytes::from(
            json!({ "__type": code, "message": message }).to_string(),
        )))
        .unwrap_or_default()
}

type ApiResult = Result<Value, (&'static str, String)>;

fn list_state_machines(state: &RunnerState) -> Value {
    json!({ "stateMachines": [{
        "stateMachineArn": state.state_machine_arn(),
        "name": state.config.name,
        "type": "STANDARD",
        "creationDate": 0.0,
    }] })
}

fn describe_state_machine(state: &RunnerState, input: &Value) -> ApiResult {
    if input["stateMachineArn"] != state.state_machine_arn().as_str() {
        return Err((
            "StateMachineDoesNotExist",
            format!("no state machine {}", input["stateMachineArn"]),
        ));
    }
    Ok(json!({
        "stateMachineArn": state.state_machine_arn(),
        "name": state.config.name,
        "status": "ACTIVE",
        "definition": state.config.definition.to_string(),
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/local-map-runner"),
        "type": "STANDARD",
        "creationDate": 0.0,
    }))
}

fn start_execution(state: &Arc<RunnerState>, input: &Value) -> ApiResult {
    if input["stateMachineArn"] != state.state_machine_arn().as_str() {
        return Err((
            "StateMachineDoesNotExist",
            format!("no state machine {}", input["stateMachineArn"]),
        ));
    }
    let id = state.next_id();
    let name = input["name"]
        .as_str()
        .map_or_else(|| format!("execution-{id}"), str::to_owned);
    let arn = format!(
        "arn:aws:states:us-east-1:{ACCOUNT}:execution:{}:{name}",
        state.config.name
    );
    let text = input["input"].as_str().unwrap_or("{}").to_owned();
    let start = now();
    {
        let mut executions = lock(&state.executions);
        if executions.contains_key(&arn) {
            return Err(("ExecutionAlreadyExists", format!("{arn} exists")));
        }
        executions.insert(
            arn.clone(),
            Execution {
                arn: arn.clone(),
                name,
                input: text.clone(),
                status: "RUNNING",
                start,
                stop: None,
                output: None,
                error: None,
                map_run: None,
            },
        );
    }
    let runner = Arc::clone(state);
    let execution_arn = arn.clone();
    tokio::spawn(async move {
        let result = match serde_json::from_str::<Value>(&text) {
            Ok(input) => run_map(&runner, &execution_arn, &input).await,
            Err(error) => Err(failure(
                "States.Runtime",
                format!("the input is not JSON: {error}"),
            )),
        };
        runner.update(&execution_arn, |execution| {
            execution.stop = Some(now());
            match result {
                Ok(output) => {
                    execution.status = "SUCCEEDED";
                    execution.output = Some(output.to_string());
                }
                Err(Failure { error, cause }) => {
                    execution.status = "FAILED";
                    execution.error = Some((error, cause));
                }
            }
        });
    });
    Ok(json!({ "executionArn": arn, "startDate": start }))
}

fn execution(state: &RunnerState, arn: &Value) -> Result<Execution, (&'static str, String)> {
    arn.as_str()
        .and_then(|arn| lock(&state.executions).get(arn).cloned())
        .ok_or_else(|| ("ExecutionDoesNotExist", format!("no execution {arn}")))
}

fn describe_execution(state: &RunnerState, input: &Value) -> ApiResult {
    let execution = execution(state, &input["executionArn"])?;
    let mut answer = json!({
        "executionArn": execution.arn,
        "stateMachineArn": state.state_machine_arn(),
        "name": execution.name,
        "status": execution.status,
        "startDate": execution.start,
        "input": execution.input,
    });
    if let Some(stop) = execution.stop {
        answer["stopDate"] = json!(stop);
    }
    if let Some(output) = execution.output {
        answer["output"] = json!(output);
    }
    if let Some((error, cause)) = execution.error {
        answer["error"] = json!(error);
        answer["cause"] = json!(cause);
    }
    Ok(answer)
}

fn list_map_runs(state: &RunnerState, input: &Value) -> ApiResult {
    let execution = execution(state, &input["executionArn"])?;
    let runs: Vec<Value> = execution
        .map_run
        .iter()
        .map(|run| {
            let mut entry = json!({
                "executionArn": execution.arn,
                "mapRunArn": run.arn,
                "stateMachineArn": state.state_machine_arn(),
                "startDate": run.start,
            });
            if let Some(stop) = run.stop {
                entry["stopDate"] = json!(stop);
            }
            entry
        })
        .collect();
    Ok(json!({ "mapRuns": runs }))
}

fn describe_map_run(state: &RunnerState, input: &Value) -> ApiResult {
    let wanted = input["mapRunArn"].as_str().unwrap_or_default();
    let executions = lock(&state.executions);
    let found = executions.values().find_map(|execution| {
        execution
            .map_run
            .as_ref()
            .filter(|run| run.arn == wanted)
            .map(|run| (execution.arn.clone(), run.clone()))
    });
    let Some((execution_arn, run)) = found else {
        return Err(("ResourceNotFound", format!("no map run {wanted}")));
    };
    let mut answer = json!({
        "mapRunArn": run.arn,
        "executionArn": execution_arn,
        "status": run.status,
        "startDate": run.start,
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_percentage,
        "toleratedFailureCount": 0,
        "itemCounts": run.items.json(),
        "executionCounts": run.children.json(),
    });
    if let Some(stop) = run.stop {
        answer["stopDate"] = json!(stop);
    }
    Ok(answer)
}

// ---- the map ------------------------------------------------------------------------------------

/// A JSONPath of the simple form Step Functions' paths take here: `$`, `$.a.b`.
fn at_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let rest = path.strip_prefix('$')?;
    rest.split('.')
        .filter(|segment| !segment.is_empty())
        .try_fold(value, |value, segment| value.get(segment))
}

/// Resolves a `Parameters`-style object: `"Name.$": "$.path"` takes the value at the path.
fn resolve(template: &Value, input: &Value) -> Result<Value, Failure> {
    let Some(fields) = template.as_object() else {
        return Ok(template.clone());
    };
    let mut resolved = Map::new();
    for (name, value) in fields {
        match name.strip_suffix(".$") {
            Some(name) => {
                let path = value.as_str().unwrap_or_default();
                let found = at_path(input, path).ok_or_else(|| {
                    failure(
                        "States.Runtime",
                        format!("the input has no {path} for {name}"),
                    )
                })?;
                resolved.insert(name.to_owned(), found.clone());
            }
            None => {
                resolved.insert(name.clone(), resolve(value, input)?);
            }
        }
    }
    Ok(Value::Object(resolved))
}

/// A number given literally (`Name`) or by path (`NamePath`).
fn number_setting(state: &Value, name: &str, input: &Value) -> Result<Option<u64>, Failure> {
    if let Some(number) = state[name].as_u64() {
        return Ok(Some(number));
    }
    let Some(path) = state[format!("{name}Path")].as_str() else {
        return Ok(None);
    };
    at_path(input, path)
        .and_then(Value::as_u64)
        .map(Some)
        .ok_or_else(|| {
            failure(
                "States.Runtime",
                format!("{name}Path {path} is not a number in the input"),
            )
        })
}

/// Rows of a CSV text (RFC 4180: quoted fields, `""` inside quotes, CRLF or LF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

struct ChildResult {
    input: Value,
    outcome: Result<Value, Failure>,
    start: f64,
    stop: f64,
}

async fn run_map(
    state: &Arc<RunnerState>,
    execution_arn: &str,
    input: &Value,
) -> Result<Value, Failure> {
    let definition = &state.config.definition;
    let start_at = definition["StartAt"].as_str().unwrap_or_default();
    let map = &definition["States"][start_at];
    if map["Type"] != "Map" || map["ItemProcessor"]["ProcessorConfig"]["Mode"] != "DISTRIBUTED" {
        return Err(failure(
            "States.Runtime",
            "the local runner runs a Distributed Map first state only",
        ));
    }

    // ItemReader
    let reader = &map["ItemReader"];
    if reader["Resource"] != "arn:aws:states:::s3:getObject"
        || reader["ReaderConfig"]["InputType"] != "CSV"
    {
        return Err(failure(
            "States.Runtime",
            "the local runner reads CSV manifests from S3 only",
        ));
    }
    let location = resolve(&reader["Parameters"], input)?;
    let (bucket, key) = (
        location["Bucket"].as_str().unwrap_or_default().to_owned(),
        location["Key"].as_str().unwrap_or_default().to_owned(),
    );
    let object = state
        .config
        .s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .map_err(|error| {
            failure(
                "States.ItemReaderFailed",
                format!("s3://{bucket}/{key}: {error:?}"),
            )
        })?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|error| failure("States.ItemReaderFailed", error.to_string()))?
        .into_bytes();
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|error| failure("States.ItemReaderFailed", error.to_string()))?;
    let mut rows = parse_csv(&text).into_iter();
    let header = rows.next().unwrap_or_default();
    let items: Vec<Value> = rows
        .map(|row| {
            let fields: Map<String, Value> = header
                .iter()
                .cloned()
                .zip(row.into_iter().map(Value::String))
                .collect();
            Value::Object(fields)
        })
        .collect();

    // ItemBatcher
    let batcher = &map["ItemBatcher"];
    let max_items = number_setting(batcher, "MaxItemsPerBatch", input)?
        .unwrap_or(u64::MAX)
        .max(1);
    let max_bytes = number_setting(batcher, "MaxInputBytesPerBatch", input)?.unwrap_or(262_144);
    let batch_input = resolve(&batcher["BatchInput"], input)?;
    let mut batches: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut current_bytes = batch_input.to_string().len() as u64 + 32;
    for item in items.iter().cloned() {
        let size = item.to_string().len() as u64 + 1;
        if !current.is_empty()
            && (current.len() as u64 >= max_items || current_bytes + size > max_bytes)
        {
            batches.push(std::mem::take(&mut current));
            current_bytes = batch_input.to_string().len() as u64 + 32;
        }
        current_bytes += size;
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(current);
    }

    let max_concurrency = number_setting(map, "MaxConcurrency", input)?.unwrap_or(0);
    let tolerated = map["ToleratedFailurePercentage"].as_f64().unwrap_or(0.0);
    // `…:mapRun:<state machine>/<map state>:<id>`; ResultWriter's folder is the id.
    let map_run_id = format!("{:08x}-0000-4000-8000-{:012x}", state.next_id(), 0xa4b);
    let map_run_arn = format!(
        "arn:aws:states:us-east-1:{ACCOUNT}:mapRun:{}/{start_at}:{map_run_id}",
        state.config.name
    );
    let total_items = items.len() as u64;
    let total_children = batches.len() as u64;
    state.update(execution_arn, |execution| {
        execution.map_run = Some(MapRun {
            arn: map_run_arn.clone(),
            status: "RUNNING",
            start: now(),
            stop: None,
            max_concurrency,
            tolerated_percentage: tolerated,
            items: Counts {
                pending: total_items,
                total: total_items,
                ..Counts::default()
            },
            children: Counts {
                pending: total_children,
                total: total_children,
                ..Counts::default()
            },
        });
    });

    // The children, at most MaxConcurrency (0: as many as there are functions) at once.
    let limit = if max_concurrency == 0 {
        usize::MAX
    } else {
        max_concurrency as usize
    };
    let concurrency = Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS)));
    let processor = map["ItemProcessor"].clone();
    let mut running = JoinSet::new();
    let mut results: Vec<ChildResult> = Vec::new();
    let mut pending: Vec<Value> = Vec::new();
    let mut failed_items = 0u64;
    let mut exceeded = false;
    let mut queue = batches.into_iter();
    loop {
        // Start what the concurrency allows, unless the map has already failed.
        if !exceeded {
            while let Ok(permit) = Arc::clone(&concurrency).try_acquire_owned() {
                let Some(batch) = queue.next() else {
                    drop(permit);
                    break;
                };
                let child_input = json!({ "Items": batch, "BatchInput": batch_input });
                let files = batch.len() as u64;
                state.update_map_run(execution_arn, |run| {
                    run.items.pending -= files;
                    run.items.running += files;
                    run.children.pending -= 1;
                    run.children.running += 1;
                });
                let state = Arc::clone(state);
                let processor = processor.clone();
                running.spawn(async move {
                    let start = now();
                    let outcome = run_child(&state, &processor, &child_input).await;
                    drop(permit);
                    (
                        files,
                        ChildResult {
                            input: child_input,
                            outcome,
                            start,
                            stop: now(),
                        },
                    )
                });
            }
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let Ok((files, result)) = done else {
            continue;
        };
        let succeeded = result.outcome.is_ok();
        if !succeeded {
            failed_items += files;
        }
        state.update_map_run(execution_arn, |run| {
            run.items.running -= files;
            run.children.running -= 1;
            if succeeded {
                run.items.succeeded += files;
                run.children.succeeded += 1;
            } else {
                run.items.failed += files;
                run.children.failed += 1;
            }
        });
        results.push(result);
        if total_items > 0 && failed_items as f64 * 100.0 / total_items as f64 > tolerated {
            exceeded = true;
        }
    }
    for batch in queue {
        pending.push(json!({ "Items": batch, "BatchInput": batch_input }));
    }

    let details = write_results(
        state,
        &map["ResultWriter"],
        input,
        &map_run_id,
        &map_run_arn,
        &results,
        &pending,
    )
    .await?;
    let written = results.len() as u64;
    let written_items: u64 = results
        .iter()
        .map(|result| result.input["Items"].as_array().map_or(0, Vec::len) as u64)
        .sum();
    state.update_map_run(execution_arn, |run| {
        run.status = if exceeded { "FAILED" } else { "SUCCEEDED" };
        run.stop = Some(now());
        run.items.results_written = written_items;
        run.children.results_written = written;
    });
    if exceeded {
        return Err(failure(
            "States.ExceedToleratedFailureThreshold",
            format!("{failed_items} of {total_items} items failed, more than {tolerated}%"),
        ));
    }
    Ok(json!({ "MapRunArn": map_run_arn, "ResultWriterDetails": details }))
}

/// Runs the processor's task for one batch, with its retriers.
async fn run_child(
    state: &RunnerState,
    processor: &Value,
    child_input: &Value,
) -> Result<Value, Failure> {
    let start_at = processor["StartAt"].as_str().unwrap_or_default();
    let task = &processor["States"][start_at];
    if task["Type"] != "Task"
        || task["Resource"] != "arn:aws:states:::lambda:invoke"
        || task["End"] != true
    {
        return Err(failure(
            "States.Runtime",
            "the local runner runs one lambda:invoke task per child",
        ));
    }
    let parameters = resolve(&task["Parameters"], child_input)?;
    let payload = parameters["Payload"].clone();
    let retriers = task["Retry"].as_array().cloned().unwrap_or_default();
    let mut attempts: Vec<u64> = vec![0; retriers.len()];
    loop {
        let error = match invoke(state, &payload).await {
            Ok(result) => {
                let path = task["OutputPath"].as_str().unwrap_or("$");
                return Ok(at_path(&result, path).cloned().unwrap_or(Value::Null));
            }
            Err(error) => error,
        };
        let retrier = retriers.iter().position(|retrier| {
            retrier["ErrorEquals"].as_array().is_some_and(|errors| {
                errors
                    .iter()
                    .any(|name| name == error.error.as_str() || name == "States.ALL")
            })
        });
        let Some(index) = retrier else {
            return Err(error);
        };
        let retrier = &retriers[index];
        let max_attempts = retrier["MaxAttempts"].as_u64().unwrap_or(3);
        let attempt = attempts[index];
        if attempt >= max_attempts {
            return Err(error);
        }
        attempts[index] += 1;
        let interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
        let rate = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
        let mut wait = interval * rate.powi(attempt as i32);
        if let Some(cap) = retrier["MaxDelaySeconds"].as_f64() {
            wait = wait.min(cap);
        }
        if retrier["JitterStrategy"] == "FULL" {
            wait *= fastrand_unit();
        }
        tokio::time::sleep(Duration::from_secs_f64(
            wait * state.config.retry_wait_scale,
        ))
        .await;
    }
}

/// A number in [0, 1) from the clock: enough for the jitter of a test runner.
fn fastrand_unit() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    f64::from(nanos % 1_000) / 1_000.0
}

/// One `lambda:invoke`: takes a free function process, invokes it, gives it back.
async fn invoke(state: &RunnerState, payload: &Value) -> Result<Value, Failure> {
    let _slot = state
        .function_slots
        .acquire()
        .await
        .map_err(|_closed| failure("Lambda.ServiceException", "the runner stopped"))?;
    let free = lock(&state.free_functions).pop();
    let Some(function) = free else {
        return Err(failure(
            "Lambda.ServiceException",
            "no free function process",
        ));
    };
    let answer = function.invoke(payload.clone(), INVOKE_DEADLINE).await;
    lock(&state.free_functions).push(function);
    match answer {
        Ok(invocation) => match invocation.outcome {
            Outcome::Response(response) => Ok(json!({
                "ExecutedVersion": "$LATEST",
                "Payload": response,
                "StatusCode": 200,
            })),
            Outcome::Error(error) => Err(Failure {
                error: error.error_type,
                cause: json!({ "errorType": "", "errorMessage": error.error_message }).to_string(),
            }),
        },
        Err(
            error @ (InvokeError::Timeout { .. }
            | InvokeError::ProcessExited { .. }
            | InvokeError::InitError(_)),
        ) => Err(failure("Lambda.Unknown", error.to_string())),
        Err(InvokeError::Stopped) => Err(failure(
            "Lambda.ServiceException",
            "the runtime API emulator stopped",
        )),
    }
}

/// Writes the results as ResultWriter does; returns `ResultWriterDetails`.
async fn write_results(
    state: &RunnerState,
    writer: &Value,
    input: &Value,
    map_run_id: &str,
    map_run_arn: &str,
    results: &[ChildResult],
    pending: &[Value],
) -> Result<Value, Failure> {
    let parameters = resolve(&writer["Parameters"], input)?;
    let bucket = parameters["Bucket"].as_str().unwrap_or_default().to_owned();
    let prefix = parameters["Prefix"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    let folder = if prefix.is_empty() {
        map_run_id.to_owned()
    } else {
        format!("{prefix}/{map_run_id}")
    };
    let entry = |result: &ChildResult, status: &str| {
        let mut entry = json!({
            "ExecutionArn": format!("{map_run_arn}:{}", result.start),
            "Input": result.input.to_string(),
            "InputDetails": { "Included": true },
            "Name": format!("{}", result.start),
            "StartDate": result.start,
            "StateMachineArn": state.state_machine_arn(),
            "Status": status,
            "StopDate": result.stop,
        });
        match &result.outcome {
            Ok(output) => {
                entry["Output"] = json!(output.to_string());
                entry["OutputDetails"] = json!({ "Included": true });
            }
            Err(Failure { error, cause }) => {
                entry["Error"] = json!(error);
                entry["Cause"] = json!(cause);
            }
        }
        entry
    };
    let succeeded: Vec<Value> = results
        .iter()
        .filter(|r| r.outcome.is_ok())
        .map(|r| entry(r, "SUCCEEDED"))
        .collect();
    let failed: Vec<Value> = results
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| entry(r, "FAILED"))
        .collect();
    let pending: Vec<Value> = pending
        .iter()
        .map(|input| json!({ "Input": input.to_string(), "InputDetails": { "Included": true }, "Status": "PENDING" }))
        .collect();
    let mut files = Map::new();
    for (kind, entries) in [
        ("SUCCEEDED", succeeded),
        ("FAILED", failed),
        ("PENDING", pending),
    ] {
        let mut listed = Vec::new();
        if !entries.is_empty() {
            let key = format!("{folder}/{kind}_0.json");
            let body = Value::Array(entries).to_string();
            listed.push(json!({ "Key": key, "Size": body.len() }));
            put(state, &bucket, &key, body).await?;
        }
        files.insert(kind.to_owned(), Value::Array(listed));
    }
    let manifest_key = format!("{folder}/manifest.json");
    let manifest = json!({
        "DestinationBucket": bucket,
        "MapRunArn": map_run_arn,
        "ResultFiles": files,
    });
    put(state, &bucket, &manifest_key, manifest.to_string()).await?;
    Ok(json!({ "Bucket": bucket, "Key": manifest_key }))
}

async fn put(state: &RunnerState, bucket: &str, key: &str, body: String) -> Result<(), Failure> {
    state
        .config
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into_bytes().into())
        .send()
        .await
        .map(|_| ())
        .map_err(|error| {
            failure(
                "States.ResultWriterFailed",
                format!("s3://{bucket}/{key}: {error:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_take_quoted_fields_with_commas_quotes_and_newlines() {
        let rows = parse_csv("Key\r\n\"a,b\"\n\"say \"\"hi\"\"\"\nplain\n\"two\nlines\"\n");
        assert_eq!(
            rows,
            vec![
                vec!["Key".to_owned()],
                vec!["a,b".to_owned()],
                vec!["say \"hi\"".to_owned()],
                vec!["plain".to_owned()],
                vec!["two\nlines".to_owned()],
            ]
        );
    }

    #[test]
    fn parameters_take_values_from_their_paths() {
        let input = json!({ "log_bucket": "logs", "deep": { "n": 3 } });
        let resolved = resolve(
            &json!({ "Bucket.$": "$.log_bucket", "N.$": "$.deep.n", "Fixed": "x" }),
            &input,
        )
        .unwrap();
        assert_eq!(resolved, json!({ "Bucket": "logs", "N": 3, "Fixed": "x" }));
        assert!(resolve(&json!({ "Bucket.$": "$.missing" }), &input).is_err());
    }
}
