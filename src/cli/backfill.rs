//! `a4b-audit backfill`: find a bucket's log files day by day and process them, a few at a time.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};

use super::args::BackfillArgs;
use super::discover::{DiscoveredObject, DiscoveryFilter, S3Listing, discover_log_files};
use super::error::CliError;
use super::process::add_outcome;
use super::progress::Progress;
use super::{Outcome, clients, report};
use crate::ledger::{DynamoDbLedger, FileMarkerLookup, ProcessedBy};
use crate::notification::ObjectRef;
use crate::object::{ObjectOutcome, Pipeline, PipelineOptions};
use crate::sink::DynamoDbSink;
use crate::source::{ObjectLocation, S3Source};
use crate::summary::InvocationSummary;

pub async fn run(args: BackfillArgs) -> Result<Outcome, CliError> {
    let table_name = clients::table_name(&args.table)?;
    let config = clients::pipeline_config(&table_name)?;
    let filter = DiscoveryFilter {
        from: args.from.map(|bound| bound.first_day()),
        to: args.to.map(|bound| bound.first_day()),
        accounts: args.account.clone(),
        regions: args.region.clone(),
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        return Err(CliError::Usage(format!("--from {from} is after --to {to}")));
    }
    let sdk_config = clients::sdk_config().await?;
    let region = clients::region_name(&sdk_config);
    let read_client = crate::aws::dynamodb_read_client(&sdk_config);
    clients::check_table(&read_client, &table_name, &region).await?;
    let s3_client = crate::aws::s3_client(&sdk_config);
    let bucket = args.location.bucket.clone();
    let listing = S3Listing {
        client: s3_client.clone(),
        bucket: bucket.clone(),
        region: region.clone(),
    };

    eprintln!("listing the log files under {} …", args.location);
    let discovery = discover_log_files(&listing, &args.location.prefix, &filter).await?;
    if discovery.trail_locations == 0 {
        return Err(CliError::NoLogFiles {
            location: location_with_slash(&args.location.to_string()),
        });
    }
    let mut files = discovery.log_files;
    let mut already_done = 0;
    if args.resume && !files.is_empty() {
        let uris: Vec<String> = files
            .iter()
            .map(|file| s3_uri(&bucket, &file.key))
            .collect();
        let done = DynamoDbLedger::new(read_client, &table_name)
            .processed_files(&uris)
            .await
            .map_err(|error| CliError::Aws(format!("cannot read the file markers: {error}")))?;
        let before = files.len();
        files = skip_done(files, &bucket, &done);
        already_done = (before - files.len()) as u64;
    }
    eprintln!(
        "{} log file(s) to process in {} account/region folder(s){}",
        files.len(),
        discovery.trail_locations,
        if already_done > 0 {
            format!(", {already_done} already done")
        } else {
            String::new()
        }
    );

    let options = PipelineOptions {
        processed_by: ProcessedBy::Cli,
        ..PipelineOptions::default()
    };
    let write_client = crate::aws::dynamodb_client(&sdk_config);
    let pipeline = Pipeline::new(
        S3Source::new(s3_client),
        DynamoDbSink::new(write_client.clone(), &table_name),
        config,
        options,
    )
    .with_ledger(DynamoDbLedger::new(write_client, &table_name));

    let mut summary = InvocationSummary::default();
    for (key, reason) in discovery.skipped {
        summary.add_skipped(s3_uri(&bucket, &key), reason.to_owned());
    }
    let bytes_total = files.iter().map(|file| file.size).sum();
    let mut progress = Progress::new(files.len() as u64, bytes_total);
    let mut outcomes = stream::iter(files)
        .map(|file| {
            let pipeline = &pipeline;
            let location = ObjectLocation::S3(ObjectRef {
                bucket: bucket.clone(),
                key: file.key,
            });
            async move {
                let outcome = pipeline.process_object(&location, None).await;
                (location, file.size, outcome)
            }
        })
        .buffer_unordered(usize::from(args.concurrency));
    while let Some((location, size, outcome)) = outcomes.next().await {
        let counts = match &outcome {
            ObjectOutcome::Processed(counts) => Some(*counts),
            ObjectOutcome::Failed(failure) => Some(failure.counts),
            ObjectOutcome::Skipped(_) => None,
        };
        progress.file_done(size, counts.as_ref());
        add_outcome(&mut summary, &location, outcome);
    }
    progress.finish();

    report::write_summary(&mut std::io::stderr().lock(), &summary, already_done, false)?;
    Ok(if summary.objects_failed > 0 {
        Outcome::FilesFailed
    } else {
        Outcome::Success
    })
}

fn s3_uri(bucket: &str, key: &str) -> String {
    ObjectRef {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    }
    .to_string()
}

fn location_with_slash(location: &str) -> String {
    if location.ends_with('/') {
        location.to_owned()
    } else {
        format!("{location}/")
    }
}

/// The files without a marker.
fn skip_done(
    files: Vec<DiscoveredObject>,
    bucket: &str,
    done: &BTreeSet<String>,
) -> Vec<DiscoveredObject> {
    files
        .into_iter()
        .filter(|file| !done.contains(&s3_uri(bucket, &file.key)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_skips_exactly_the_files_with_a_marker() {
        let file = |key: &str| DiscoveredObject {
            key: key.to_owned(),
            size: 1,
        };
        let done = BTreeSet::from(["s3://b/AWSLogs/x/2.json.gz".to_owned()]);
        let left = skip_done(
            vec![file("AWSLogs/x/1.json.gz"), file("AWSLogs/x/2.json.gz")],
            "b",
            &done,
        );
        assert_eq!(left, vec![file("AWSLogs/x/1.json.gz")]);
    }
}
