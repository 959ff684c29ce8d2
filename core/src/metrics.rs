//! An invocation's figures as one CloudWatch Embedded Metric Format (EMF) line (pure).
//!
//! Lambda sends every stdout line to CloudWatch Logs, which turns a line in this format into metrics
//! without any API call. `Unreconciled` is 1 when counts do not add up: an object's (records read =
//! A4B + other + rejected, failed objects included, as they count what was read before the
//! failure; items written = items built for an object otherwise processed), or the invocation's
//! records. An alarm on it catches a silent drop, which no error would show.
//!
//! The line carries a `level` ([`emf_level`]): Lambda's application log-level filter reads a JSON
//! line without one as INFO, so at WARN or above it would drop the metrics and blind every alarm.

use serde_json::{Map, Value, json};

use crate::summary::InvocationSummary;

/// The CloudWatch namespace of the metrics.
pub const NAMESPACE: &str = "A4bAudit";
/// The dimension the metrics are split by.
pub const FUNCTION_NAME_DIMENSION: &str = "FunctionName";

/// The metrics of one invocation, by name, in the order they are declared.
pub fn invocation_metrics(summary: &InvocationSummary) -> Vec<(&'static str, u64)> {
    let counts = &summary.counts;
    vec![
        ("RecordsRead", counts.records_read),
        ("A4bRecords", counts.a4b_records),
        ("OtherRecords", counts.other_records),
        ("RecordsRejected", counts.records_rejected),
        ("RecordsExpired", counts.records_expired),
        ("ItemsBuilt", counts.items_built),
        ("ItemsWritten", counts.items_written),
        ("WriteRequests", counts.write_requests),
        ("ObjectsProcessed", summary.objects_processed),
        ("ObjectsSkipped", summary.objects_skipped),
        ("ObjectsFailed", summary.objects_failed),
        ("Unreconciled", u64::from(is_unreconciled(summary))),
        ("ObjectsUnreconciled", summary.objects_unreconciled),
    ]
}

/// Whether some counts of the invocation do not add up.
///
/// Records reconcile for every object, failed ones included (they count what was read before the
/// failure); items only where nothing failed, as a failed object's items are not all written.
pub fn is_unreconciled(summary: &InvocationSummary) -> bool {
    summary.objects_unreconciled > 0
        || !summary.counts.records_reconcile()
        || (summary.objects_failed == 0 && !summary.counts.items_reconcile())
}

/// The `level` the metrics line is written at, given Lambda's application log level
/// (`AWS_LAMBDA_LOG_LEVEL`, TRACE to FATAL; unset when Lambda does not filter): INFO, or the
/// configured level when that is more severe, so that the filter always sends the line on.
pub fn emf_level(application_log_level: Option<&str>) -> &'static str {
    match application_log_level.map(|level| level.trim().to_ascii_uppercase()) {
        Some(level) if level == "WARN" => "WARN",
        Some(level) if level == "ERROR" => "ERROR",
        Some(level) if level == "FATAL" => "FATAL",
        _ => "INFO",
    }
}

/// The EMF JSON line (no trailing newline) for one invocation of `function_name` at
/// `timestamp_ms` (epoch milliseconds), marked with the log `level` (see [`emf_level`]).
pub fn emf_line(
    summary: &InvocationSummary,
    function_name: &str,
    timestamp_ms: i64,
    level: &str,
) -> String {
    let metrics = invocation_metrics(summary);
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut document = Map::new();
    document.insert("level".to_owned(), Value::from(level));
    document.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[FUNCTION_NAME_DIMENSION]],
                "Metrics": definitions,
            }],
        }),
    );
    document.insert(
        FUNCTION_NAME_DIMENSION.to_owned(),
        Value::from(function_name),
    );
    for (name, value) in metrics {
        document.insert(name.to_owned(), Value::from(value));
    }
    Value::Object(document).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::ObjectCounts;

    fn reconciled_summary() -> InvocationSummary {
        InvocationSummary {
            messages: 1,
            objects_processed: 2,
            objects_skipped: 1,
            counts: ObjectCounts {
                records_read: 10,
                a4b_records: 4,
                other_records: 5,
                records_rejected: 1,
                records_expired: 0,
                items_built: 7,
                items_written: 7,
                write_requests: 1,
            },
            ..InvocationSummary::default()
        }
    }

    fn parse(line: &str) -> Value {
        assert!(!line.contains('\n'), "an EMF document must be one line");
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn the_line_declares_every_metric_in_the_a4b_audit_namespace_by_function_name() {
        let line = emf_line(
            &reconciled_summary(),
            "a4b-audit-prod",
            1_700_000_000_123,
            "INFO",
        );
        let document = parse(&line);
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(document["_aws"]["Timestamp"], 1_700_000_000_123_i64);
        assert_eq!(directive["Namespace"], "A4bAudit");
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(document["FunctionName"], "a4b-audit-prod");
        let declared: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|metric| {
                assert_eq!(metric["Unit"], "Count");
                metric["Name"].as_str().unwrap()
            })
            .collect();
        // Every declared metric has its value at the top level, as EMF requires.
        for name in &declared {
            assert!(document[name].is_u64(), "{name} has no value in {line}");
        }
        for name in [
            "RecordsRead",
            "A4bRecords",
            "OtherRecords",
            "RecordsRejected",
            "ItemsBuilt",
            "ItemsWritten",
            "ObjectsProcessed",
            "ObjectsSkipped",
            "ObjectsFailed",
            "Unreconciled",
        ] {
            assert!(declared.contains(&name), "{name} is not declared");
        }
    }

    #[test]
    fn the_values_are_the_summary_counts() {
        let document = parse(&emf_line(&reconciled_summary(), "f", 0, "INFO"));
        assert_eq!(document["RecordsRead"], 10);
        assert_eq!(document["A4bRecords"], 4);
        assert_eq!(document["OtherRecords"], 5);
        assert_eq!(document["RecordsRejected"], 1);
        assert_eq!(document["ItemsBuilt"], 7);
        assert_eq!(document["ItemsWritten"], 7);
        assert_eq!(document["ObjectsProcessed"], 2);
        assert_eq!(document["ObjectsSkipped"], 1);
        assert_eq!(document["ObjectsFailed"], 0);
        assert_eq!(document["Unreconciled"], 0);
    }

    #[test]
    fn unreconciled_is_one_when_a_record_is_unaccounted_for() {
        let mut summary = reconciled_summary();
        summary.counts.other_records -= 1;
        assert_eq!(
            parse(&emf_line(&summary, "f", 0, "INFO"))["Unreconciled"],
            1
        );
    }

    #[test]
    fn unreconciled_is_one_when_an_item_built_was_not_written() {
        let mut summary = reconciled_summary();
        summary.counts.items_written -= 1;
        assert_eq!(
            parse(&emf_line(&summary, "f", 0, "INFO"))["Unreconciled"],
            1
        );
    }

    #[test]
    fn a_failed_object_whose_items_were_not_all_written_is_failed_not_unreconciled() {
        let mut summary = reconciled_summary();
        summary.objects_failed = 1;
        summary.counts.items_written -= 1;
        let document = parse(&emf_line(&summary, "f", 0, "INFO"));
        assert_eq!(document["ObjectsFailed"], 1);
        assert_eq!(document["Unreconciled"], 0);
    }

    #[test]
    fn unreconciled_is_one_when_a_failed_object_does_not_add_up() {
        let mut summary = reconciled_summary();
        summary.add_failed(
            "s3://b/k".into(),
            "counts do not reconcile".into(),
            &ObjectCounts::default(),
            true,
        );
        let document = parse(&emf_line(&summary, "f", 0, "INFO"));
        assert_eq!(document["ObjectsFailed"], 1);
        assert_eq!(document["ObjectsUnreconciled"], 1);
        assert_eq!(document["Unreconciled"], 1);
    }

    #[test]
    fn unreconciled_is_one_when_a_failed_objects_records_do_not_add_up() {
        let mut summary = reconciled_summary();
        let counts = ObjectCounts {
            records_read: 0,
            a4b_records: 2,
            ..ObjectCounts::default()
        };
        summary.add_failed("s3://b/k".into(), "read failed".into(), &counts, false);
        assert_eq!(
            parse(&emf_line(&summary, "f", 0, "INFO"))["Unreconciled"],
            1
        );
    }

    #[test]
    fn the_line_is_at_info_or_at_the_more_severe_level_lambda_filters_at() {
        for (configured, level) in [
            (None, "INFO"),
            (Some("TRACE"), "INFO"),
            (Some("DEBUG"), "INFO"),
            (Some("INFO"), "INFO"),
            (Some("WARN"), "WARN"),
            (Some("warn"), "WARN"),
            (Some("ERROR"), "ERROR"),
            (Some("FATAL"), "FATAL"),
        ] {
            assert_eq!(emf_level(configured), level, "{configured:?}");
        }
        let document = parse(&emf_line(&reconciled_summary(), "f", 0, "WARN"));
        assert_eq!(document["level"], "WARN");
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "A4bAudit"
        );
    }

    #[test]
    fn a_function_name_with_quotes_stays_valid_json() {
        let document = parse(&emf_line(&reconciled_summary(), "we\"ird\nname", 0, "INFO"));
        assert_eq!(document["FunctionName"], "we\"ird\nname");
    }
}
