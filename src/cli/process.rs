//! `a4b-audit process`: the given files through the Lambda's pipeline, into the table or stdout.

use super::args::ProcessArgs;
use super::dry_run::DryRunSink;
use super::error::CliError;
use super::source::{CliObject, CliSource};
use super::{Outcome, clients, inputs, report};
use crate::ledger::{FileLedger, SeenItems};
use crate::object::{Pipeline, PipelineOptions};
use crate::sink::{DynamoDbSink, ItemSink};
use crate::source::{ObjectSource, S3Source};
use crate::summary::InvocationSummary;

/// The table name of a dry run without `--table`: only shown in logs, never written to.
const DRY_RUN_TABLE: &str = "(dry run)";

pub async fn run(args: ProcessArgs) -> Result<Outcome, CliError> {
    let inputs = inputs::expand(&args.inputs)?;
    let reads_s3 = inputs
        .objects
        .iter()
        .any(|object| matches!(object, CliObject::S3(_)));
    let sdk_config = if reads_s3 || !args.dry_run {
        Some(clients::sdk_config().await?)
    } else {
        None
    };
    let source = CliSource {
        s3: sdk_config
            .as_ref()
            .filter(|_| reads_s3)
            .map(|sdk_config| S3Source::new(crate::aws::s3_client(sdk_config))),
    };
    // The operator chose every object: files are read whatever their names (folders were
    // filtered by name when they were expanded).
    let mut options = PipelineOptions {
        classify_keys: false,
        ..PipelineOptions::default()
    };
    let mut summary = InvocationSummary::default();
    for (object, reason) in &inputs.skipped {
        summary.add_skipped(object.clone(), (*reason).to_owned());
    }

    if args.dry_run {
        let table_name = args.table.table.as_deref().unwrap_or(DRY_RUN_TABLE);
        let config = clients::pipeline_config(table_name)?;
        // One batch at a time, printed by the task that gathers them: the items come out in
        // record order.
        options.writer.max_in_flight = 1;
        options.writer.write_in_place = true;
        let (sink, stdout) = DryRunSink::stdout();
        let pipeline = Pipeline::new(source, sink, config, options);
        for object in &inputs.objects {
            if stdout.is_closed() {
                break;
            }
            let outcome = pipeline.process_object(object, None).await;
            outcome.add_to(&mut summary, object);
        }
        stdout.flush()?;
        // The reader has seen enough (`| head`): stop without a summary, as `cat` would.
        if stdout.is_closed() {
            return Ok(Outcome::OutputClosed);
        }
    } else {
        let sdk_config = match sdk_config {
            Some(sdk_config) => sdk_config,
            None => clients::sdk_config().await?,
        };
        let table_name = clients::table_name(&args.table)?;
        let config = clients::pipeline_config(&table_name)?;
        let region = clients::region_name(&sdk_config);
        let read_client = crate::aws::dynamodb_read_client(&sdk_config);
        clients::check_table(&read_client, &table_name, &region).await?;
        let client = crate::aws::dynamodb_client(&sdk_config);
        let sink = DynamoDbSink::new(client, &table_name);
        let pipeline = Pipeline::new(source, sink, config, options).with_ledger(SeenItems);
        process_in_order(&pipeline, &inputs.objects, &mut summary).await;
    }

    report::write_summary(&mut std::io::stderr().lock(), &summary, 0, args.dry_run)?;
    Ok(if summary.objects_failed > 0 {
        Outcome::FilesFailed
    } else {
        Outcome::Success
    })
}

/// Processes the objects one after the other, adding each outcome to `summary`.
pub async fn process_in_order<S: ObjectSource, K: ItemSink, L: FileLedger>(
    pipeline: &Pipeline<S, K, L>,
    objects: &[S::Location],
    summary: &mut InvocationSummary,
) {
    for object in objects {
        let outcome = pipeline.process_object(object, None).await;
        outcome.add_to(summary, object);
    }
}
