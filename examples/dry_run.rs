//! The measured path of `a4b-audit process --dry-run FILE`, until the CLI lands: one local log
//! file through the same [`Pipeline`] (reader, mapping, batching writer) into a sink that prints
//! each item as a JSON line on a buffered stdout.
//!
//! `cargo run --release --example dry_run -- FILE > /dev/null`

use std::collections::BTreeMap;
use std::io::{BufWriter, Stdout, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use a4b_audit::config::Config;
use a4b_audit::item::{AttrValue, Item};
use a4b_audit::notification::ObjectRef;
use a4b_audit::pipeline::{ObjectOutcome, Pipeline, PipelineOptions};
use a4b_audit::sink::{FailureKind, ItemSink, SinkError};
use a4b_audit::source::{ObjectBody, ObjectSource, SourceError};

/// Opens the one local file, whatever object is asked for.
struct LocalFile(PathBuf);

impl ObjectSource for LocalFile {
    async fn open(&self, _object: &ObjectRef) -> Result<ObjectBody, SourceError> {
        let file = tokio::fs::File::open(&self.0)
            .await
            .map_err(|error| SourceError::Other(format!("{}: {error}", self.0.display())))?;
        Ok(ObjectBody {
            reader: Box::pin(file),
            stored_bytes: None,
        })
    }
}

/// Prints items as JSON lines, keys first.
struct PrintingSink(Mutex<BufWriter<Stdout>>);

impl ItemSink for PrintingSink {
    async fn put_batch(&self, items: Vec<Item>) -> Result<Vec<Item>, SinkError> {
        let mut out = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for item in &items {
            let mut line: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
            line.insert("pk", item.key.pk.as_str().into());
            line.insert("sk", item.key.sk.as_str().into());
            for (name, value) in &item.attributes {
                let value = match value {
                    AttrValue::S(text) => text.as_str().into(),
                    AttrValue::N(number) => number.as_str().into(),
                    AttrValue::Bool(flag) => (*flag).into(),
                    AttrValue::StringList(values) => values.clone().into(),
                };
                line.insert(name, value);
            }
            serde_json::to_writer(&mut *out, &line)
                .map_err(std::io::Error::other)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|error| SinkError {
                    kind: FailureKind::Permanent,
                    message: format!("cannot print to stdout: {error}"),
                })?;
        }
        Ok(Vec::new())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: dry_run FILE");
        return ExitCode::FAILURE;
    };
    let config = match Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "dry-run".into()))
    {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dry_run: {error}");
            return ExitCode::FAILURE;
        }
    };
    let sink = PrintingSink(Mutex::new(BufWriter::with_capacity(
        1 << 16,
        std::io::stdout(),
    )));
    let pipeline = Pipeline::new(LocalFile(path), sink, config, PipelineOptions::default());
    // A name the key classifier accepts: the file itself is named on the command line.
    let object = ObjectRef {
        bucket: "local".into(),
        key: "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1200Z_benchmark0000000.json.gz".into(),
    };
    let outcome = pipeline.process_object(&object, None).await;
    drop(pipeline);
    match outcome {
        ObjectOutcome::Processed(counts) => {
            eprintln!("{}", serde_json::to_string(&counts).unwrap_or_default());
            ExitCode::SUCCESS
        }
        ObjectOutcome::Skipped(reason) => {
            eprintln!("dry_run: skipped: {reason}");
            ExitCode::FAILURE
        }
        ObjectOutcome::Failed(failure) => {
            eprintln!("dry_run: {failure}");
            ExitCode::FAILURE
        }
    }
}
