//! `a4b-audit backfill`: find a bucket's log files day by day and process them, a few at a time.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};

use super::args::BackfillArgs;
use super::discover::{
    BucketListing, CountingListing, DiscoveredObject, Discovery, DiscoveryFilter, S3Listing,
    discover_log_files,
};
use super::error::CliError;
use super::plan::PlanInput;
use super::progress::Progress;
use super::{Outcome, clients, report};
use crate::ledger::Journal;
use crate::notification::ObjectRef;
use crate::object::{ObjectOutcome, Pipeline, PipelineOptions};
use crate::sink::DynamoDbSink;
use crate::source::S3Source;
use crate::summary::InvocationSummary;

pub async fn run(args: BackfillArgs) -> Result<Outcome, CliError> {
    let filter = discovery_filter(&args)?;
    if args.plan {
        return plan(&args, &filter).await;
    }
    if args.on_aws {
        return on_aws(&args, &filter).await;
    }
    let table_name = clients::table_name(&args.table)?;
    let config = clients::pipeline_config(&table_name)?;
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
    let discovery = discover(&args, &listing, &filter).await?;
    let mut files = discovery.log_files;
    let mut already_done = 0;
    if args.resume && !files.is_empty() {
        let done = Journal::files_done(&args.journal, &table_name)?;
        let before = files.len();
        files = skip_done(files, &bucket, &done);
        already_done = (before - files.len()) as u64;
    }
    note!(
        "{} log file(s) to process in {} account/region folder(s){}",
        files.len(),
        discovery.trail_locations,
        if already_done > 0 {
            format!(", {already_done} already done")
        } else {
            String::new()
        }
    );

    // Every file done goes into the local journal, whether or not this run resumes, so that the
    // next run can: the table holds no per-file record (it would cost a write per empty file).
    let journal = Journal::open(&args.journal, &table_name)?;
    let write_client = crate::aws::dynamodb_client(&sdk_config);
    let pipeline = Pipeline::new(
        S3Source::new(s3_client),
        DynamoDbSink::new(write_client, &table_name),
        config,
        PipelineOptions::default(),
    )
    .with_ledger(journal);

    let mut summary = InvocationSummary::default();
    for (key, reason) in discovery.skipped {
        summary.add_skipped(s3_uri(&bucket, &key), reason.to_owned());
    }
    let bytes_total = files.iter().map(|file| file.size).sum();
    let mut progress = Progress::new(files.len() as u64, bytes_total);
    let mut outcomes = stream::iter(files)
        .map(|file| {
            let pipeline = &pipeline;
            let location = ObjectRef {
                bucket: bucket.clone(),
                key: file.key,
            };
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
        outcome.add_to(&mut summary, &location);
    }
    progress.finish();

    report::write_summary(&mut std::io::stderr().lock(), &summary, already_done, false)?;
    if !discovery.archived.is_empty() {
        note!(
            "{} log file(s) left unread in an archive storage class: restore them, then run again",
            discovery.archived.len()
        );
    }
    Ok(
        if summary.objects_failed > 0 || !discovery.archived.is_empty() {
            Outcome::FilesFailed
        } else {
            Outcome::Success
        },
    )
}

/// The filters of the command line, checked.
fn discovery_filter(args: &BackfillArgs) -> Result<DiscoveryFilter, CliError> {
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
    Ok(filter)
}

/// Lists the log files as every backfill does, saying what it found.
async fn discover(
    args: &BackfillArgs,
    listing: &impl BucketListing,
    filter: &DiscoveryFilter,
) -> Result<Discovery, CliError> {
    note!("listing the log files under {} …", args.location);
    let discovery = discover_log_files(listing, &args.location.prefix, filter).await?;
    if discovery.trail_locations == 0 {
        return Err(CliError::NoLogFiles {
            location: location_with_slash(&args.location.to_string()),
        });
    }
    describe_trail_prefixes(&args.location.bucket, &discovery.trail_prefixes);
    report_archived(&args.location.bucket, &discovery.archived);
    Ok(discovery)
}

/// `--plan`: the listing, then the requests and costs, on stdout; nothing written.
async fn plan(args: &BackfillArgs, filter: &DiscoveryFilter) -> Result<Outcome, CliError> {
    let sdk_config = clients::sdk_config().await?;
    let listing = CountingListing::new(S3Listing {
        client: crate::aws::s3_client(&sdk_config),
        bucket: args.location.bucket.clone(),
        region: clients::region_name(&sdk_config),
    });
    let discovery = discover(args, &listing, filter).await?;
    let input = PlanInput {
        files: discovery.log_files.len() as u64,
        bytes: discovery.log_files.iter().map(|file| file.size).sum(),
        list_requests: listing.requests(),
        batch_size: args.batch_size,
        lambda_memory_mb: args.lambda_memory_mb,
        lambda_ms_per_file: args.lambda_ms_per_file,
    };
    let text = super::plan::render(
        &input,
        discovery.trail_prefixes.len(),
        discovery.archived.len() as u64,
    );
    std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(Outcome::Success)
}

/// `--on-aws`: the same discovery, then the run on the stack's Distributed Map.
async fn on_aws(args: &BackfillArgs, filter: &DiscoveryFilter) -> Result<Outcome, CliError> {
    let sdk_config = clients::sdk_config().await?;
    let listing = S3Listing {
        client: crate::aws::s3_client(&sdk_config),
        bucket: args.location.bucket.clone(),
        region: clients::region_name(&sdk_config),
    };
    let discovery = discover(args, &listing, filter).await?;
    let outcome = super::on_aws::run(args, &sdk_config, discovery.log_files).await?;
    if !discovery.archived.is_empty() {
        note!(
            "{} log file(s) left unread in an archive storage class: restore them, then run again",
            discovery.archived.len()
        );
        return Ok(Outcome::FilesFailed);
    }
    Ok(outcome)
}

fn s3_uri(bucket: &str, key: &str) -> String {
    ObjectRef {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    }
    .to_string()
}

/// Names the trail prefixes found, when there is more than the usual one.
pub(super) fn describe_trail_prefixes(bucket: &str, trail_prefixes: &[String]) {
    if trail_prefixes.len() > 1 || trail_prefixes.iter().any(|prefix| !prefix.is_empty()) {
        let names: Vec<String> = trail_prefixes
            .iter()
            .map(|prefix| format!("s3://{bucket}/{prefix}AWSLogs/"))
            .collect();
        note!(
            "{} trail prefix(es): {}",
            trail_prefixes.len(),
            names.join(", ")
        );
    }
}

/// Log files in GLACIER or DEEP_ARCHIVE cannot be read before a restore: says so, naming a few.
pub(super) fn report_archived(bucket: &str, archived: &[DiscoveredObject]) {
    if archived.is_empty() {
        return;
    }
    let bytes: u64 = archived.iter().map(|file| file.size).sum();
    note!(
        "{} log file(s) ({bytes} bytes) are in an archive storage class (GLACIER or DEEP_ARCHIVE): \
         S3 refuses to read them (InvalidObjectState) until they are restored. They are left out of \
         this run. Restore them first (S3 RestoreObject, or an S3 Batch Operations restore job for \
         many; Bulk retrieval is the cheapest), then run the backfill again. The first ones:",
        archived.len()
    );
    for file in archived.iter().take(ARCHIVED_NAMED) {
        note!(
            "  {} ({})",
            s3_uri(bucket, &file.key),
            file.storage_class.as_deref().unwrap_or_default()
        );
    }
}

/// How many archived files the report names.
const ARCHIVED_NAMED: usize = 10;

fn location_with_slash(location: &str) -> String {
    if location.ends_with('/') {
        location.to_owned()
    } else {
        format!("{location}/")
    }
}

/// The files the journal does not list as done.
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
    fn resume_skips_exactly_the_files_in_the_journal() {
        let file = |key: &str| DiscoveredObject {
            key: key.to_owned(),
            size: 1,
            storage_class: None,
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
