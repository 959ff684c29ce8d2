//! `a4b-audit backfill --plan`: what a backfill would request of each AWS service and what that
//! costs at published us-east-1 prices. Pure arithmetic: the figures in, the lines out.
//!
//! Prices (USD, us-east-1, on-demand, as published on the AWS pricing pages; free tiers ignored):
//! - S3 Standard (<https://aws.amazon.com/s3/pricing/>): GET $0.0004 per 1,000 requests; LIST and PUT
//!   $0.005 per 1,000 requests.
//! - Lambda (<https://aws.amazon.com/lambda/pricing/>): $0.20 per million requests; duration
//!   $0.0000133334 per GB-second on arm64 (the template's architecture), $0.0000166667 on x86.
//! - Step Functions (<https://aws.amazon.com/step-functions/pricing/>): Standard workflows $0.025 per
//!   1,000 state transitions (a Distributed Map bills the parent one transition per child execution
//!   it starts); Express workflows $1.00 per million requests and $0.00001667 per GB-second of
//!   duration (first 1,000 GB-hours a month), duration rounded up to 100 ms and memory to 64 MB.
//! - DynamoDB on-demand (<https://aws.amazon.com/dynamodb/pricing/on-demand/>): $0.625 per million
//!   write request units, one unit per started KB of item.

/// One service's requests and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub service: &'static str,
    /// What is counted: "GET requests", "GB-seconds", …
    pub unit: &'static str,
    pub quantity: f64,
    pub usd: f64,
}

/// What a run would do, as the listing found it, and the assumptions of the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInput {
    pub files: u64,
    pub bytes: u64,
    /// ListObjectsV2 requests the discovery made (pages).
    pub list_requests: u64,
    /// Files per Lambda invocation (the map's `MaxItemsPerBatch`).
    pub batch_size: u64,
    pub lambda_memory_mb: u64,
    /// Assumed billed Lambda time per file (ms).
    pub lambda_ms_per_file: u64,
}

/// Published us-east-1 prices, USD (see the module comment for the sources).
pub mod price {
    pub const S3_GET_PER_REQUEST: f64 = 0.0004 / 1_000.0;
    pub const S3_LIST_PER_REQUEST: f64 = 0.005 / 1_000.0;
    pub const S3_PUT_PER_REQUEST: f64 = 0.005 / 1_000.0;
    pub const LAMBDA_PER_REQUEST: f64 = 0.20 / 1_000_000.0;
    pub const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
    pub const SFN_STANDARD_PER_TRANSITION: f64 = 0.025 / 1_000.0;
    pub const SFN_EXPRESS_PER_REQUEST: f64 = 1.00 / 1_000_000.0;
    pub const SFN_EXPRESS_PER_GB_SECOND: f64 = 0.000_016_67;
    pub const DYNAMODB_PER_WRITE_UNIT: f64 = 0.625 / 1_000_000.0;
}

/// The smallest memory an Express execution is billed for (its unit, 64 MB).
const EXPRESS_BILLED_GB: f64 = 64.0 / 1024.0;
/// Express duration is billed in 100 ms steps.
const EXPRESS_BILLING_STEP_MS: u64 = 100;
/// State transitions of the parent workflow besides one per child: entering the Map state and the
/// final state.
const PARENT_FIXED_TRANSITIONS: u64 = 2;
/// Objects the run writes to S3: the manifest, then ResultWriter's manifest.json and its
/// SUCCEEDED/FAILED/PENDING files (at least one of each kind that has results).
const RUN_PUTS: u64 = 4;
/// GETs besides the log files: the map reads the manifest, the CLI reads the results back.
const RUN_GETS: u64 = 3;
/// Items an A4B event writes (its user item and, typically, one room or resource item) and write
/// units each (the item holds the original record, typically 1 to 2 KB).
const ITEMS_PER_EVENT: u64 = 2;
const WRITE_UNITS_PER_ITEM: u64 = 2;

/// The lines of a run on AWS before its A4B events (see [`per_a4b_event`]) (Distributed Map, Express child workflows), in the order printed.
pub fn on_aws(input: &PlanInput) -> Vec<Line> {
    let batches = input.files.div_ceil(input.batch_size.max(1));
    let lambda_seconds = (input.files * input.lambda_ms_per_file) as f64 / 1000.0;
    let lambda_gb_seconds = lambda_seconds * input.lambda_memory_mb as f64 / 1024.0;
    // Each child runs as long as its invocation: a full batch's files one after the other.
    let full_batches = input.files / input.batch_size.max(1);
    let last_batch = input.files % input.batch_size.max(1);
    let billed_ms = |files: u64| {
        (files * input.lambda_ms_per_file).div_ceil(EXPRESS_BILLING_STEP_MS)
            * EXPRESS_BILLING_STEP_MS
    };
    let mut express_ms = full_batches * billed_ms(input.batch_size);
    if last_batch > 0 {
        express_ms += billed_ms(last_batch);
    }
    let express_gb_seconds = express_ms as f64 / 1000.0 * EXPRESS_BILLED_GB;
    let transitions = batches + PARENT_FIXED_TRANSITIONS;
    vec![
        line(
            "S3",
            "GET requests",
            input.files + RUN_GETS,
            price::S3_GET_PER_REQUEST,
        ),
        line(
            "S3",
            "LIST requests",
            input.list_requests,
            price::S3_LIST_PER_REQUEST,
        ),
        line("S3", "PUT requests", RUN_PUTS, price::S3_PUT_PER_REQUEST),
        line("Lambda", "requests", batches, price::LAMBDA_PER_REQUEST),
        Line {
            service: "Lambda",
            unit: "GB-seconds",
            quantity: lambda_gb_seconds,
            usd: lambda_gb_seconds * price::LAMBDA_ARM64_PER_GB_SECOND,
        },
        line(
            "Step Functions",
            "standard state transitions",
            transitions,
            price::SFN_STANDARD_PER_TRANSITION,
        ),
        line(
            "Step Functions",
            "express requests",
            batches,
            price::SFN_EXPRESS_PER_REQUEST,
        ),
        Line {
            service: "Step Functions",
            unit: "express GB-seconds",
            quantity: express_gb_seconds,
            usd: express_gb_seconds * price::SFN_EXPRESS_PER_GB_SECOND,
        },
    ]
}

/// The lines of a run on this machine: S3 and DynamoDB only (plus data transfer out of AWS when the
/// machine is outside it, not counted here).
pub fn local(input: &PlanInput) -> Vec<Line> {
    vec![
        line("S3", "GET requests", input.files, price::S3_GET_PER_REQUEST),
        line(
            "S3",
            "LIST requests",
            input.list_requests,
            price::S3_LIST_PER_REQUEST,
        ),
    ]
}

/// What the A4B events of a run add, on either path: DynamoDB writes (nothing for a file without
/// an A4B record).
pub fn per_a4b_event() -> Line {
    line(
        "DynamoDB",
        "write request units",
        ITEMS_PER_EVENT * WRITE_UNITS_PER_ITEM,
        price::DYNAMODB_PER_WRITE_UNIT,
    )
}

pub fn total(lines: &[Line]) -> f64 {
    lines.iter().map(|line| line.usd).sum()
}

fn line(service: &'static str, unit: &'static str, quantity: u64, unit_price: f64) -> Line {
    Line {
        service,
        unit,
        quantity: quantity as f64,
        usd: quantity as f64 * unit_price,
    }
}

/// The plan as printed: the files, the assumptions, one line per service and unit, the totals.
pub fn render(input: &PlanInput, trail_prefixes: usize, archived: u64) -> String {
    let mut text = format!(
        "plan: {} log file(s), {} bytes, in {trail_prefixes} trail prefix(es); {archived} archived file(s) left out\n",
        input.files, input.bytes
    );
    text.push_str(&format!(
        "assumed: {} files per batch (one Lambda invocation and one Express child workflow each), \
         {} ms of Lambda time per file at {} MB (arm64)\n",
        input.batch_size, input.lambda_ms_per_file, input.lambda_memory_mb,
    ));
    text.push_str(
        "on AWS (a Step Functions Distributed Map run), at published us-east-1 prices:\n",
    );
    let aws = on_aws(input);
    for line in &aws {
        text.push_str(&format!(
            "  {:<15} {:>16.1} {:<27} ${:.4}\n",
            line.service, line.quantity, line.unit, line.usd
        ));
    }
    text.push_str(&format!("  {:<60} ${:.4}\n", "total", total(&aws)));
    if input.files > 0 {
        text.push_str(&format!(
            "  {:<60} ${:.4}\n",
            "per million files",
            total(&aws) / input.files as f64 * 1_000_000.0
        ));
    }
    text.push_str(&format!(
        "on this machine: ${:.4} (S3 requests; outside AWS, S3 also bills data transfer out per GB)\n",
        total(&local(input))
    ));
    let event = per_a4b_event();
    text.push_str(&format!(
        "either way, DynamoDB: nothing for a file without an A4B record; each A4B event writes about {} items of {} KB: {} write units, ${:.7}\n",
        ITEMS_PER_EVENT, WRITE_UNITS_PER_ITEM, event.quantity, event.usd
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn million_empty_files() -> PlanInput {
        PlanInput {
            files: 1_000_000,
            bytes: 20_000_000_000,
            list_requests: 7_000,
            batch_size: 500,
            lambda_memory_mb: 512,
            lambda_ms_per_file: 30,
        }
    }

    fn usd(lines: &[Line], unit: &str) -> f64 {
        lines
            .iter()
            .find(|line| line.unit == unit)
            .map(|line| line.usd)
            .unwrap()
    }

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "{actual} is not {expected}"
        );
    }

    // Hand-computed for 1,000,000 files, 500 per batch (2,000 batches), 30 ms per file, 512 MB:
    //   S3 GET      1,000,003 × $0.0004/1k                       = $0.4000012
    //   S3 LIST         7,000 × $0.005/1k                        = $0.035
    //   S3 PUT              4 × $0.005/1k                        = $0.00002
    //   Lambda req      2,000 × $0.20/M                          = $0.0004
    //   Lambda GB-s  1,000,000 × 0.030 s × 0.5 GB = 15,000 GB-s × $0.0000133334 = $0.200001
    //   SFN std         2,002 transitions × $0.025/1k            = $0.05005
    //   SFN express req 2,000 × $1.00/M                          = $0.002
    //   SFN express GB-s 2,000 × 15 s × 0.0625 GB = 1,875 GB-s × $0.00001667 = $0.03125625
    //   DynamoDB        0 (no A4B record)
    //   total                                                    = $0.71872845
    #[test]
    fn a_million_files_without_a4b_records_cost_what_the_hand_computation_says() {
        let lines = on_aws(&million_empty_files());
        close(usd(&lines, "GET requests"), 0.400_001_2);
        close(usd(&lines, "LIST requests"), 0.035);
        close(usd(&lines, "PUT requests"), 0.000_02);
        close(usd(&lines, "requests"), 0.000_4);
        close(usd(&lines, "GB-seconds"), 0.200_001);
        close(usd(&lines, "standard state transitions"), 0.050_05);
        close(usd(&lines, "express requests"), 0.002);
        close(usd(&lines, "express GB-seconds"), 0.031_256_25);
        close(total(&lines), 0.718_728_45);
    }

    #[test]
    fn a_million_files_without_a4b_records_cost_at_most_one_dollar_on_aws() {
        assert!(total(&on_aws(&million_empty_files())) <= 1.0);
    }

    // 1,001 files, 500 per batch: 3 batches (500, 500, 1); 30 ms per file: 15 s, 15 s and 30 ms,
    // billed 15.0 + 15.0 + 0.1 = 30.1 s of Express time.
    #[test]
    fn the_last_partial_batch_is_one_more_child_billed_in_100_ms_steps() {
        let input = PlanInput {
            files: 1_001,
            ..million_empty_files()
        };
        let lines = on_aws(&input);
        let express = lines
            .iter()
            .find(|line| line.unit == "express GB-seconds")
            .unwrap();
        close(express.quantity, 30.1 * 0.0625);
        let requests = lines.iter().find(|line| line.unit == "requests").unwrap();
        close(requests.quantity, 3.0);
    }

    // An A4B event: 2 items × 2 WRU each = 4 WRU × $0.625/M = $0.0000025.
    #[test]
    fn an_a4b_event_costs_its_write_units() {
        let event = per_a4b_event();
        close(event.quantity, 4.0);
        close(event.usd, 0.000_002_5);
    }

    #[test]
    fn a_local_run_costs_its_gets_and_lists() {
        let lines = local(&million_empty_files());
        close(total(&lines), 0.4 + 0.035);
    }

    #[test]
    fn the_rendered_plan_names_every_service_and_the_per_million_figure() {
        let text = render(&million_empty_files(), 1, 0);
        for expected in [
            "plan: 1000000 log file(s), 20000000000 bytes",
            "S3",
            "Lambda",
            "Step Functions",
            "DynamoDB",
            "per million files",
            "$0.7187",
            "30 ms of Lambda time per file at 512 MB",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
    }
}
