//! `a4b-dev bench`: the figures of issues 5 and 14 on one generated log file, as a Markdown table.
//!
//! Commands are timed here (wall clock from spawn to exit, stdout to /dev/null) and wrapped in
//! `/usr/bin/time` for their CPU time (user + system) and peak resident memory; runs of the
//! compared commands alternate so that a burst of load from elsewhere does not fall on one of them
//! only; each figure is the median. The same comparison runs again pinned to one core (`taskset -c
//! 0` on both commands), as on a Lambda function that gets a fraction of a vCPU. The cost line
//! turns the dry run's CPU time into Lambda GB-seconds per GB of CloudTrail JSON at the template's
//! default memory. The Lambda figures come from the release binary behind the runtime API
//! emulator: its cold start, and one whole invocation against moto (S3 read, parse,
//! BatchWriteItem) with its peak memory.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flate2::bufread::MultiGzDecoder;
use serde_json::{Value, json};

use crate::lambda_process::{LambdaProcess, SpawnError};
use crate::moto::{
    self, AwsCallError, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, LOCAL_REGION, MotoError,
    MotoServer,
};
use crate::runtime_api::{Outcome, RuntimeApi};

const BUCKET: &str = "a4b-audit-bench";
const TABLE: &str = "a4b-audit-bench";
const KEY: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1200Z_benchmark0000000.json.gz";
/// The slowest part is moto taking a few hundred BatchWriteItem calls.
const INVOKE_DEADLINE: Duration = Duration::from_secs(1800);
const COLD_START_WAIT: Duration = Duration::from_secs(20);
/// DynamoDB's BatchWriteItem limit.
const BATCH_LIMIT: u64 = 25;
/// Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion to memory below that
/// (AWS Lambda developer guide, "Memory and computing power").
const MB_PER_VCPU: f64 = 1769.0;
/// The price of a GB-second on arm64 (the template's architecture) in us-east-1, first pricing
/// tier, for the cost line.
const USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// Pins a command to one core.
const ONE_CORE: [&str; 3] = ["taskset", "-c", "0"];

/// What to measure.
pub struct BenchPlan {
    /// The generated gzipped log file.
    pub file: PathBuf,
    /// The same mix, twice as large: the dry run's memory must not grow with it.
    pub double_file: Option<PathBuf>,
    /// A file of one record past `MAX_RECORD_BYTES`: the dry run's memory must stay flat on it.
    pub huge_record_file: Option<PathBuf>,
    /// A file of one record touching thousands of rooms: the dry run's memory must stay flat on it.
    pub many_rooms_file: Option<PathBuf>,
    /// `template.yaml`, for the function's default memory.
    pub template: PathBuf,
    /// The dry run, as program and arguments; the file is appended.
    pub dry_run: Vec<String>,
    /// The reader's inflation alone ([`inflate`], `a4b-dev inflate`), as program and arguments; the
    /// file is appended.
    pub inflate_only: Vec<String>,
    /// The release Lambda binary (`bootstrap`).
    pub lambda_binary: PathBuf,
    pub runs: usize,
    /// Skip the run against moto (no Python tools installed).
    pub skip_handler: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("could not {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {stderr}")]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error(
        "/usr/bin/time gave no CPU time and peak memory for {0}: install GNU time (apt-get install time)"
    )]
    NoRss(String),
    #[error("{0} has no `MemorySize` parameter with a `Default`")]
    NoMemorySize(PathBuf),
    #[error(transparent)]
    Moto(#[from] MotoError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error("the Lambda binary never asked for an event within {0:?}; its output: {1}")]
    NoColdStart(Duration, String),
    #[error("the Lambda invocation failed: {0}")]
    Invocation(String),
}

fn io_error(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let action = action.into();
    move |source| BenchError::Io { action, source }
}

/// One run of a command, or the medians of several.
#[derive(Debug, Clone, Copy)]
struct Measured {
    wall: Duration,
    /// User + system CPU time.
    cpu: Duration,
    peak_rss_kib: u64,
}

fn median<T: Copy + Ord>(values: &mut [T]) -> Option<T> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// Each figure's median, on its own.
fn summarize(runs: &[Measured]) -> Option<Measured> {
    let mut walls: Vec<Duration> = runs.iter().map(|run| run.wall).collect();
    let mut cpus: Vec<Duration> = runs.iter().map(|run| run.cpu).collect();
    let mut rss: Vec<u64> = runs.iter().map(|run| run.peak_rss_kib).collect();
    Some(Measured {
        wall: median(&mut walls)?,
        cpu: median(&mut cpus)?,
        peak_rss_kib: median(&mut rss)?,
    })
}

/// `/usr/bin/time -f '%U %S %M'`'s report: user and system seconds, peak RSS in KiB.
fn parse_time_report(report: &str) -> Option<(Duration, u64)> {
    report.lines().rev().find_map(|line| {
        let mut fields = line.split_whitespace();
        let user: f64 = fields.next()?.parse().ok()?;
        let system: f64 = fields.next()?.parse().ok()?;
        let rss: u64 = fields.next()?.parse().ok()?;
        let cpu = Duration::try_from_secs_f64(user + system).ok()?;
        fields.next().is_none().then_some((cpu, rss))
    })
}

/// Runs `program args... file > /dev/null` under `/usr/bin/time`.
fn run_once(program: &[String], file: &Path) -> Result<Measured, BenchError> {
    let report = tempfile_path("time");
    let shown = format!("{} {}", program.join(" "), file.display());
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%U %S %M", "-o"])
        .arg(&report)
        .args(program)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(io_error(format!("run {shown} under /usr/bin/time")))?;
    let wall = started.elapsed();
    let report_text = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    if !output.status.success() {
        return Err(BenchError::CommandFailed {
            command: shown,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let (cpu, peak_rss_kib) = parse_time_report(&report_text).ok_or(BenchError::NoRss(shown))?;
    Ok(Measured {
        wall,
        cpu,
        peak_rss_kib,
    })
}

fn tempfile_path(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("a4b-bench-{what}-{}", std::process::id()))
}

/// Runs every command `runs` times, alternating, and returns their medians in order.
fn measure_alternating(
    commands: &[Vec<String>],
    file: &Path,
    runs: usize,
) -> Result<Vec<Measured>, BenchError> {
    // One untimed round first: the file in the page cache, the binaries loaded.
    for command in commands {
        run_once(command, file)?;
    }
    let mut all: Vec<Vec<Measured>> = vec![Vec::new(); commands.len()];
    for _ in 0..runs.max(1) {
        for (command, runs) in commands.iter().zip(all.iter_mut()) {
            runs.push(run_once(command, file)?);
        }
    }
    Ok(all.iter().filter_map(|runs| summarize(runs)).collect())
}

/// The median of `runs` runs of one command.
fn measure(command: &[String], file: &Path, runs: usize) -> Result<Option<Measured>, BenchError> {
    let runs: Vec<Measured> = (0..runs.max(1))
        .map(|_| run_once(command, file))
        .collect::<Result<_, _>>()?;
    Ok(summarize(&runs))
}

/// `command` pinned to the first core.
fn on_one_core(command: &[String]) -> Vec<String> {
    ONE_CORE
        .iter()
        .map(|word| (*word).to_owned())
        .chain(command.iter().cloned())
        .collect()
}

/// The compressed bytes read at a time and the inflated bytes asked for at a time by the reader
/// (`core/src/reader/decode.rs` and `reader/mod.rs`), kept the same here so that [`inflate`]
/// measures the decoder the dry run drives. devtools cannot call the core's reader itself: the core
/// dev-depends on devtools.
const READER_COMPRESSED_READ_LEN: usize = 1024 * 1024;
const READER_BUFFER_LEN: usize = 256 * 1024;

/// Inflates the gzip file (every member) as the reader does, with the same crates, features and
/// buffer sizes (flate2's `MultiGzDecoder` on zlib-rs, CRC-32 checked), and throws the text away;
/// returns its length. `a4b-dev inflate` runs it for the benchmark's floor: the CPU time the dry
/// run spends before it scans a byte.
pub fn inflate(file: &Path) -> Result<u64, BenchError> {
    let gz = std::fs::File::open(file).map_err(io_error(format!("open {}", file.display())))?;
    let compressed = std::io::BufReader::with_capacity(READER_COMPRESSED_READ_LEN, gz);
    let mut decoder = MultiGzDecoder::new(compressed);
    let mut buf = vec![0u8; READER_BUFFER_LEN];
    let mut total = 0u64;
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(io_error(format!("inflate {}", file.display()))(error)),
        }
    }
}

/// The `Default` of the template's `MemorySize` parameter, in MB.
fn default_memory_mb(template: &str) -> Option<u32> {
    let mut lines = template
        .lines()
        .skip_while(|line| line.trim_end() != "Parameters:");
    lines.find(|line| line.trim() == "MemorySize:")?;
    lines
        .take_while(|line| line.starts_with("    ") || line.trim().is_empty())
        .find_map(|line| line.trim().strip_prefix("Default:"))
        .and_then(|value| value.trim().parse().ok())
}

/// What a log file costs on Lambda when the function is CPU-bound: at `memory_mb` it gets
/// `memory_mb / 1769` of a vCPU, so its duration is about its CPU time divided by that share
/// (CPU time measured on a core of the same speed), and it is billed memory (GB) times duration.
struct LambdaCost {
    memory_mb: u32,
    /// The CPU time it was worked out from.
    cpu: Duration,
    vcpu_share: f64,
    /// Estimated duration on Lambda, seconds.
    duration: f64,
    gb_seconds_per_json_gb: f64,
}

impl LambdaCost {
    fn new(memory_mb: u32, cpu: Duration, json_bytes: u64) -> Self {
        let vcpu_share = (f64::from(memory_mb) / MB_PER_VCPU).min(1.0);
        let duration = cpu.as_secs_f64() / vcpu_share;
        let gb_seconds = f64::from(memory_mb) / 1024.0 * duration;
        Self {
            memory_mb,
            cpu,
            vcpu_share,
            duration,
            gb_seconds_per_json_gb: gb_seconds / (json_bytes as f64 / 1e9),
        }
    }
}

/// The dry run's CPU time in the thread layout the function takes at `memory_mb`: below two vCPUs'
/// worth of memory (3,538 MB) the reader runs on one thread (`reader::cores_to_use`), which is
/// what the one-core run measures; two threads cost more CPU time for the same file.
fn cpu_of_layout(memory_mb: u32, two_cores: Duration, one_core: Duration) -> Duration {
    if reads_on_one_thread(memory_mb) {
        one_core
    } else {
        two_cores
    }
}

fn reads_on_one_thread(memory_mb: u32) -> bool {
    f64::from(memory_mb) < 2.0 * MB_PER_VCPU
}

/// The environment the function gets besides the runtime API's: its settings and a local AWS.
fn function_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TABLE_NAME", TABLE.to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY.to_owned()),
        ("AWS_REGION", LOCAL_REGION.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// Spawns the function `runs` times and returns the median time to its first `GET /next`.
async fn cold_start(binary: &Path, runs: usize) -> Result<Duration, BenchError> {
    let runtime_api = RuntimeApi::start()
        .await
        .map_err(io_error("start the runtime API emulator"))?;
    // Nothing listens there: the function must not call AWS before its first event.
    let env = function_env("http://127.0.0.1:9");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut times = Vec::new();
    // One untimed spawn first, so the binary is in the page cache.
    for run in 0..=runs.max(1) {
        let mut process = LambdaProcess::spawn(binary, &runtime_api, &env)?;
        let time = started(&runtime_api, &mut process).await?;
        process.stop().await;
        if run > 0 {
            times.push(time);
        }
    }
    Ok(median(&mut times).unwrap_or_default())
}

/// Waits for the function's first `GET /next` (its start-up done) and returns how long after its
/// spawn that came; stops the process and fails when it does not come.
async fn started(
    runtime_api: &RuntimeApi,
    process: &mut LambdaProcess,
) -> Result<Duration, BenchError> {
    let waited = Instant::now();
    loop {
        if let Some(time) = runtime_api.cold_start() {
            return Ok(time);
        }
        if waited.elapsed() > COLD_START_WAIT || process.exit_status().is_some() {
            let output = process.output();
            process.stop().await;
            return Err(BenchError::NoColdStart(COLD_START_WAIT, output));
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// What one invocation through the handler against moto gave.
struct HandlerRun {
    summary: Value,
    duration: Duration,
    peak_rss_kib: Option<u64>,
    /// The function process's CPU time (user + system) in the invocation: from its first `GET
    /// /next` (start-up done) to its answer.
    cpu: Option<Duration>,
    /// Room and user seen items in the table afterwards (they travel in the same batches).
    seen_items: u64,
}

/// Uploads the file to moto and has the release Lambda binary process it.
async fn handler_run(binary: &Path, file: &Path) -> Result<HandlerRun, BenchError> {
    let server = MotoServer::start()?;
    let config = moto::sdk_config(&server.endpoint()).await;
    let s3 = moto::s3_client(&config);
    let dynamodb = moto::dynamodb_client(&config);
    moto::create_bucket(&s3, BUCKET).await?;
    moto::create_audit_table(&dynamodb, TABLE).await?;
    let body = std::fs::read(file).map_err(io_error(format!("read {}", file.display())))?;
    moto::put_object(&s3, BUCKET, KEY, body).await?;

    let runtime_api = RuntimeApi::start()
        .await
        .map_err(io_error("start the runtime API emulator"))?;
    let env = function_env(&server.endpoint());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut process = LambdaProcess::spawn(binary, &runtime_api, &env)?;
    started(&runtime_api, &mut process).await?;
    let start_up_cpu = process.pid().and_then(cpu_time_of_pid);
    let invocation = runtime_api
        .invoke(sns_event(BUCKET, KEY), INVOKE_DEADLINE)
        .await
        .map_err(|error| BenchError::Invocation(format!("{error}; output: {}", process.output())));
    // Read before the process goes: the kernel's high-water mark of its resident set, and the CPU
    // time of all its threads.
    let peak_rss_kib = process.pid().and_then(peak_rss_of_pid);
    let cpu = process
        .pid()
        .and_then(cpu_time_of_pid)
        .zip(start_up_cpu)
        .map(|(total, start_up)| total.saturating_sub(start_up));
    process.stop().await;
    let invocation = invocation?;
    match invocation.outcome {
        Outcome::Response(summary) => Ok(HandlerRun {
            summary,
            duration: invocation.duration,
            peak_rss_kib,
            cpu,
            seen_items: seen_items(&dynamodb).await?,
        }),
        Outcome::Error(error) => Err(BenchError::Invocation(format!(
            "{}: {}",
            error.error_type, error.error_message
        ))),
    }
}

/// The room and user seen items (`SEEN#…`) of the bench table.
async fn seen_items(dynamodb: &aws_sdk_dynamodb::Client) -> Result<u64, BenchError> {
    let items = moto::scan_items(dynamodb, TABLE).await?;
    Ok(items
        .iter()
        .filter(|item| {
            item.get("pk")
                .and_then(|pk| pk.as_s().ok())
                .is_some_and(|pk| pk.starts_with("SEEN#"))
        })
        .count() as u64)
}

/// `VmHWM` of a live process, in KiB (Linux).
fn peak_rss_of_pid(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Clock ticks per second of the times in `/proc/PID/stat` (`USER_HZ`): 100 in the kernel's ABI on
/// x86-64 and arm64.
const USER_HZ: u64 = 100;

/// User + system CPU time of a live process, all its threads, ended ones too (Linux).
fn cpu_time_of_pid(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_time_of_stat(&stat)
}

/// `utime` + `stime` (the 14th and 15th fields) of a `/proc/PID/stat` line. The second field, the
/// command's name in parentheses, may hold spaces and parentheses: fields are counted after its
/// last `)`.
fn cpu_time_of_stat(stat: &str) -> Option<Duration> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name come the state (the third field) and the rest.
    let mut fields = after_name.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

/// A CloudTrail delivery notification for one object, as SNS hands it to the function.
fn sns_event(bucket: &str, key: &str) -> Value {
    let topic = "arn:aws:sns:us-east-1:123456789012:a4b-audit-cloudtrail";
    let subscription = format!("{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55");
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": {
            "Type": "Notification",
            "MessageId": "a4b5a3e1-0000-4000-8000-00000000bench",
            "TopicArn": topic,
            "Subject": null,
            "Message": json!({"s3Bucket": bucket, "s3ObjectKey": [key]}).to_string(),
            "Timestamp": "2023-07-10T13:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem",
            "UnsubscribeUrl": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}"),
            "MessageAttributes": {}
        }
    }]})
}

fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

fn wall_ratio(a: &Measured, b: &Measured) -> f64 {
    a.wall.as_secs_f64() / b.wall.as_secs_f64()
}

fn cpu_ratio(a: &Measured, b: &Measured) -> f64 {
    a.cpu.as_secs_f64() / b.cpu.as_secs_f64()
}

/// What the one-core CPU ratio is made of: the reader's inflation alone (zlib-rs through flate2,
/// with its CRC-32) and the rest of the dry run (UTF-8 check, scan, mapping, printing), each
/// against libdeflate-gunzip's CPU time. The dry run's ratio cannot fall below the first.
struct Floor {
    /// Inflation alone / libdeflate-gunzip, CPU time.
    inflation: f64,
    /// (Dry run - inflation alone) / libdeflate-gunzip, CPU time.
    rest: f64,
}

impl Floor {
    fn new(libdeflate: &Measured, inflate_only: &Measured, dry_run: &Measured) -> Self {
        let reference = libdeflate.cpu.as_secs_f64();
        let inflation = inflate_only.cpu.as_secs_f64();
        Self {
            inflation: inflation / reference,
            rest: (dry_run.cpu.as_secs_f64() - inflation).max(0.0) / reference,
        }
    }

    fn rows(&self, out: &mut String, inflate_only: &Measured) {
        command_row(
            out,
            "one core: the reader's inflation alone (`a4b-dev inflate`: zlib-rs, CRC-32, no scan)",
            inflate_only,
        );
        let _ = writeln!(
            out,
            "| inflation alone / libdeflate-gunzip, CPU time, one core: the floor of the dry run's ratio | {:.2}x | | |",
            self.inflation
        );
        let _ = writeln!(
            out,
            "| the rest of the dry run (UTF-8, scan, mapping, printing) / libdeflate-gunzip, CPU time, one core | {:.2}x | <= {:.2}x for 1.0x | |",
            self.rest,
            (1.0 - self.inflation).max(0.0)
        );
    }
}

/// One command's row: wall, CPU (user + system) and peak RSS.
fn command_row(out: &mut String, name: &str, measured: &Measured) {
    let _ = writeln!(
        out,
        "| {name}: wall / CPU (user + sys) / peak RSS | {} / {} / {} | | |",
        seconds(measured.wall),
        seconds(measured.cpu),
        mib(measured.peak_rss_kib)
    );
}

/// The dry run's peak memory on a file made to inflate it, against the function's 64 MiB.
fn memory_row(out: &mut String, what: &str, measured: Option<Measured>) {
    if let Some(measured) = measured {
        let _ = writeln!(
            out,
            "| dry run on {what}: wall / peak RSS | {} / {} | < 64 MiB | {} |",
            seconds(measured.wall),
            mib(measured.peak_rss_kib),
            verdict(measured.peak_rss_kib < 64 * 1024)
        );
    }
}

/// Runs everything and returns the Markdown report.
pub async fn run(plan: &BenchPlan) -> Result<String, BenchError> {
    let file_bytes = std::fs::metadata(&plan.file)
        .map_err(io_error(format!("read {}", plan.file.display())))?
        .len();
    let json_bytes = inflate(&plan.file)?;
    let template = std::fs::read_to_string(&plan.template)
        .map_err(io_error(format!("read {}", plan.template.display())))?;
    let memory_mb = default_memory_mb(&template)
        .ok_or_else(|| BenchError::NoMemorySize(plan.template.clone()))?;
    let libdeflate_command = vec!["libdeflate-gunzip".to_owned(), "-c".to_owned()];
    let commands = vec![
        libdeflate_command.clone(),
        vec!["gzip".to_owned(), "-dc".to_owned()],
        plan.dry_run.clone(),
    ];
    eprintln!("measuring the three commands, {} runs each...", plan.runs);
    let measured = measure_alternating(&commands, &plan.file, plan.runs)?;
    let [libdeflate, gzip, dry_run] = measured.as_slice() else {
        return Err(BenchError::NoRss("a command".to_owned()));
    };
    eprintln!(
        "measuring libdeflate-gunzip, the reader's inflation alone and the dry run on one core..."
    );
    let one_core = measure_alternating(
        &[
            on_one_core(&libdeflate_command),
            on_one_core(&plan.inflate_only),
            on_one_core(&plan.dry_run),
        ],
        &plan.file,
        plan.runs,
    )?;
    let [libdeflate_one_core, inflate_one_core, dry_run_one_core] = one_core.as_slice() else {
        return Err(BenchError::NoRss("a command on one core".to_owned()));
    };
    let double = match &plan.double_file {
        Some(double_file) => {
            eprintln!("measuring the dry run on the doubled file...");
            measure(&plan.dry_run, double_file, plan.runs)?
        }
        None => None,
    };
    let huge_record = match &plan.huge_record_file {
        Some(huge_record_file) => {
            eprintln!("measuring the dry run on one huge record...");
            measure(&plan.dry_run, huge_record_file, plan.runs)?
        }
        None => None,
    };
    let many_rooms = match &plan.many_rooms_file {
        Some(many_rooms_file) => {
            eprintln!("measuring the dry run on one record touching thousands of rooms...");
            measure(&plan.dry_run, many_rooms_file, plan.runs)?
        }
        None => None,
    };
    eprintln!("measuring the Lambda binary's cold start...");
    let cold = cold_start(&plan.lambda_binary, plan.runs).await?;
    let binary_bytes = std::fs::metadata(&plan.lambda_binary)
        .map_err(io_error(format!("read {}", plan.lambda_binary.display())))?
        .len();
    let handler = if plan.skip_handler {
        None
    } else {
        eprintln!("running the whole handler against moto (a few minutes: moto is slow)...");
        Some(handler_run(&plan.lambda_binary, &plan.file).await?)
    };

    let vs_libdeflate = wall_ratio(dry_run, libdeflate);
    let vs_gzip = wall_ratio(dry_run, gzip);
    let cpu_vs_libdeflate = cpu_ratio(dry_run, libdeflate);
    let one_core_vs_libdeflate = wall_ratio(dry_run_one_core, libdeflate_one_core);
    let one_core_cpu_vs_libdeflate = cpu_ratio(dry_run_one_core, libdeflate_one_core);
    let floor = Floor::new(libdeflate_one_core, inflate_one_core, dry_run_one_core);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "File: {} ({:.1} MB gzipped, {:.1} MB of JSON); median of {} runs; dry run: `{}`.\n",
        plan.file.display(),
        file_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6,
        plan.runs,
        plan.dry_run.join(" ")
    );
    let _ = writeln!(out, "| measure | value | target | met |");
    let _ = writeln!(out, "|---|---|---|---|");
    command_row(&mut out, "`libdeflate-gunzip -c`", libdeflate);
    command_row(&mut out, "`gzip -dc`", gzip);
    command_row(&mut out, "dry run", dry_run);
    let _ = writeln!(
        out,
        "| dry run / libdeflate-gunzip, CPU time | {cpu_vs_libdeflate:.2}x | <= 1.0x | {} |",
        verdict(cpu_vs_libdeflate <= 1.0)
    );
    let _ = writeln!(
        out,
        "| dry run / libdeflate-gunzip, wall, two cores | {vs_libdeflate:.2}x | <= 0.9x | {} |",
        verdict(vs_libdeflate <= 0.9)
    );
    let _ = writeln!(
        out,
        "| dry run / gzip -dc, wall | {vs_gzip:.2}x | <= 0.40x | {} |",
        verdict(vs_gzip <= 0.4)
    );
    command_row(
        &mut out,
        "one core (`taskset -c 0`): `libdeflate-gunzip -c`",
        libdeflate_one_core,
    );
    command_row(&mut out, "one core: dry run", dry_run_one_core);
    let _ = writeln!(
        out,
        "| dry run / libdeflate-gunzip, CPU time, one core (the layout on Lambda below 3,538 MB) | \
         {one_core_cpu_vs_libdeflate:.2}x | <= 1.0x | {} |",
        verdict(one_core_cpu_vs_libdeflate <= 1.0)
    );
    let _ = writeln!(
        out,
        "| dry run / libdeflate-gunzip, wall, one core | {one_core_vs_libdeflate:.2}x | <= 1.1x | {} |",
        verdict(one_core_vs_libdeflate <= 1.1)
    );
    floor.rows(&mut out, inflate_one_core);
    let cost = LambdaCost::new(
        memory_mb,
        cpu_of_layout(memory_mb, dry_run.cpu, dry_run_one_core.cpu),
        json_bytes,
    );
    let _ = writeln!(
        out,
        "| Lambda cost at the template's default {} MB: GB-seconds per GB of CloudTrail JSON | {:.2} GB-s (${:.3} per TB) | | |",
        cost.memory_mb,
        cost.gb_seconds_per_json_gb,
        cost.gb_seconds_per_json_gb * USD_PER_GB_SECOND * 1000.0
    );
    let _ = writeln!(
        out,
        "| dry run peak RSS | {} | <= 32 MiB | {} |",
        mib(dry_run.peak_rss_kib),
        verdict(dry_run.peak_rss_kib <= 32 * 1024)
    );
    if let Some(double) = double {
        let flat = double.peak_rss_kib as f64 <= dry_run.peak_rss_kib as f64 * 1.1 + 1024.0;
        let _ = writeln!(
            out,
            "| dry run on the doubled file: wall / peak RSS | {} / {} | RSS flat | {} |",
            seconds(double.wall),
            mib(double.peak_rss_kib),
            verdict(flat)
        );
    }
    memory_row(
        &mut out,
        "one record past `MAX_RECORD_BYTES` (`a4b-dev huge-record`)",
        huge_record,
    );
    memory_row(
        &mut out,
        "one record touching thousands of rooms (`a4b-dev many-rooms`)",
        many_rooms,
    );
    let _ = writeln!(
        out,
        "| cold start (spawn to first `GET /next`) | {:.1} ms | <= 30 ms | {} |",
        cold.as_secs_f64() * 1000.0,
        verdict(cold <= Duration::from_millis(30))
    );
    let _ = writeln!(
        out,
        "| stripped release Lambda binary | {:.2} MB | <= 10 MB | {} |",
        binary_bytes as f64 / 1e6,
        verdict(binary_bytes <= 10_000_000)
    );
    if let Some(handler) = handler {
        let counts = &handler.summary["counts"];
        let number = |name: &str| {
            counts[name]
                .as_u64()
                .or_else(|| handler.summary[name].as_u64())
                .unwrap_or_default()
        };
        let records = number("records_read");
        let items = number("items_written");
        let requests = number("write_requests");
        let seen = handler.seen_items;
        let expected = (items + seen).div_ceil(BATCH_LIMIT);
        let _ = writeln!(
            out,
            "| records per second (dry run) | {:.0} ({records} records, {} A4B) | | |",
            records as f64 / dry_run.wall.as_secs_f64(),
            number("a4b_records")
        );
        let _ = writeln!(
            out,
            "| handler against moto: BatchWriteItem calls | {requests} for {items} items + {seen} seen | ceil(N/25) = {expected} | {} |",
            verdict(requests == expected)
        );
        let _ = writeln!(
            out,
            "| handler against moto: wall | {} | | |",
            seconds(handler.duration)
        );
        match handler.cpu {
            Some(cpu) => {
                let handler_cost = LambdaCost::new(memory_mb, cpu, json_bytes);
                let _ = writeln!(
                    out,
                    "| handler against moto: CPU time of the function in the invocation (user + sys, after its start-up: S3 read, parse, DynamoDB writes over plain HTTP) | {} ({:.2}x the dry run's on one core) | | |",
                    seconds(cpu),
                    cpu.as_secs_f64() / dry_run_one_core.cpu.as_secs_f64()
                );
                let _ = writeln!(
                    out,
                    "| Lambda cost at {} MB from the handler's CPU time: GB-seconds per GB of CloudTrail JSON | {:.2} GB-s (${:.3} per TB) | | |",
                    handler_cost.memory_mb,
                    handler_cost.gb_seconds_per_json_gb,
                    handler_cost.gb_seconds_per_json_gb * USD_PER_GB_SECOND * 1000.0
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| handler against moto: CPU time of the function | not measured | | |"
                );
            }
        }
        match handler.peak_rss_kib {
            Some(kib) => {
                let _ = writeln!(
                    out,
                    "| handler against moto: peak RSS of the function | {} | < 64 MiB | {} |",
                    mib(kib),
                    verdict(kib < 64 * 1024)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| handler against moto: peak RSS of the function | not measured | < 64 MiB | |"
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\nCost: at {} MB Lambda gives {:.2} of a vCPU ({} / {MB_PER_VCPU} MB), so a CPU-bound \
         run lasts about its CPU time / {:.2}: the dry run's {} of CPU ({}) is about {:.2} s \
         there, billed {:.3} GB x that for {:.3} GB of JSON; price ${USD_PER_GB_SECOND} per GB-s \
         (arm64). The CPU time is this machine's: a Graviton core's differs.",
        cost.memory_mb,
        cost.vcpu_share,
        cost.memory_mb,
        cost.vcpu_share,
        seconds(cost.cpu),
        if reads_on_one_thread(cost.memory_mb) {
            "on one core: below two vCPUs' worth of memory the function reads on one thread"
        } else {
            "on two cores, as the function reads with two vCPUs' worth of memory or more"
        },
        cost.duration,
        f64::from(cost.memory_mb) / 1024.0,
        json_bytes as f64 / 1e9
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_memory_is_read_from_the_templates_memory_size_parameter() {
        let template =
            std::fs::read_to_string(crate::moto::workspace_root().join("template.yaml")).unwrap();
        let parameter = template
            .split("\n  MemorySize:\n")
            .nth(1)
            .and_then(|rest| {
                rest.lines()
                    .find_map(|line| line.trim().strip_prefix("Default:"))
            })
            .map(|value| value.trim().parse::<u32>().unwrap());
        assert_eq!(default_memory_mb(&template), parameter);
        assert!(parameter.is_some());
    }

    #[test]
    fn the_floor_splits_the_dry_runs_cpu_time_into_inflation_and_the_rest() {
        let measured = |cpu_ms| Measured {
            wall: Duration::from_millis(cpu_ms),
            cpu: Duration::from_millis(cpu_ms),
            peak_rss_kib: 1024,
        };
        let floor = Floor::new(&measured(200), &measured(130), &measured(280));
        assert!((floor.inflation - 0.65).abs() < 1e-9, "{}", floor.inflation);
        assert!((floor.rest - 0.75).abs() < 1e-9, "{}", floor.rest);
        let mut out = String::new();
        floor.rows(&mut out, &measured(130));
        assert!(out.contains("| 0.65x |"), "{out}");
        assert!(out.contains("| 0.75x | <= 0.35x for 1.0x |"), "{out}");
        // A dry run measured faster than inflation alone (noise) leaves nothing, not less.
        assert_eq!(
            Floor::new(&measured(200), &measured(130), &measured(120)).rest,
            0.0
        );
    }

    #[test]
    fn inflating_gives_the_text_of_every_gzip_member() {
        use std::io::Write as _;
        let member = |text: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text).unwrap();
            encoder.finish().unwrap()
        };
        let path = tempfile_path("inflate-test");
        let mut gz = member(&vec![b'a'; 300_000]);
        gz.extend(member(b"{\"Records\":[]}"));
        std::fs::write(&path, &gz).unwrap();
        let inflated = inflate(&path);
        // A damaged member fails: the CRC-32 is checked, as the reader checks it.
        let last = gz.len() - 5;
        gz[last] ^= 1;
        std::fs::write(&path, &gz).unwrap();
        let damaged = inflate(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(inflated.unwrap(), 300_000 + 14);
        assert!(damaged.is_err());
    }

    #[test]
    fn the_cpu_time_of_a_process_is_its_user_and_system_ticks() {
        // A name with spaces and a `)` in it, as a thread may name itself.
        let stat = "4242 (a4b) (audit x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 37 0 0 20 0 6 0 \
                    1000 100000000 3000 18446744073709551615";
        assert_eq!(cpu_time_of_stat(stat), Some(Duration::from_millis(2870)));
        assert_eq!(cpu_time_of_stat("4242 (a4b) S 1 4242"), None);
        // This process has used some CPU time by now, and its own figure is found.
        assert!(cpu_time_of_pid(std::process::id()).is_some());
    }

    #[test]
    fn a_memory_size_without_default_is_none() {
        let template =
            "Parameters:\n  MemorySize:\n    Type: Number\n  Timeout:\n    Default: 300\n";
        assert_eq!(default_memory_mb(template), None);
    }

    #[test]
    fn the_time_report_gives_user_plus_system_time_and_peak_rss() {
        let report = "Command exited with non-zero status 0\n0.25 0.05 12345\n";
        let (cpu, rss) = parse_time_report(report).unwrap();
        assert_eq!(cpu, Duration::from_millis(300));
        assert_eq!(rss, 12345);
        assert!(parse_time_report("12345\n").is_none());
    }

    #[test]
    fn the_cost_is_worked_out_from_the_cpu_time_of_the_layout_the_memory_gets() {
        let (two, one) = (Duration::from_millis(450), Duration::from_millis(330));
        assert_eq!(cpu_of_layout(512, two, one), one);
        assert_eq!(cpu_of_layout(3537, two, one), one);
        assert_eq!(cpu_of_layout(3538, two, one), two);
    }

    #[test]
    fn at_a_third_of_a_vcpu_a_second_of_cpu_is_billed_three_seconds_of_memory() {
        let memory_mb = 1769 / 3;
        let cost = LambdaCost::new(memory_mb, Duration::from_secs(1), 1_000_000_000);
        assert!((cost.duration - 3.0).abs() < 0.01, "{}", cost.duration);
        let expected = f64::from(memory_mb) / 1024.0 * cost.duration;
        assert!((cost.gb_seconds_per_json_gb - expected).abs() < 1e-9);
        // A full vCPU at most: more memory does not make a CPU-bound run shorter.
        assert_eq!(
            LambdaCost::new(4096, Duration::from_secs(1), 1).vcpu_share,
            1.0
        );
    }
}
