//! Metrics that a log-level filter cannot drop (issue 17). Lambda's application log-level filter reads
//! a JSON line's `level` (a line without one counts as INFO) and sends only lines at the configured
//! level or above: a metrics line it dropped would blind every metric alarm. And the platform's own
//! START/REPORT lines (INFO) stay, since they are how an operator sizes memory.

use a4b_audit::metrics::{emf_level, emf_line};
use serde_json::Value;

use crate::cfn::{Template, reference};

const FUNCTION: &str = "AuditFunction";

/// Lambda's log levels, least severe first.
const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

fn severity(level: &str) -> usize {
    LEVELS
        .iter()
        .position(|known| known.eq_ignore_ascii_case(level))
        .unwrap_or_else(|| panic!("{level} is not one of Lambda's levels"))
}

/// Whether Lambda's filter at `configured` sends `line` on to CloudWatch Logs.
fn lambda_keeps(line: &str, configured: &str) -> bool {
    let document: Value = serde_json::from_str(line).unwrap();
    let level = document["level"]
        .as_str()
        .filter(|level| LEVELS.iter().any(|known| known.eq_ignore_ascii_case(level)))
        .unwrap_or("INFO");
    severity(level) >= severity(configured)
}

#[test]
fn every_log_level_the_template_allows_keeps_the_metrics_line() {
    let template = Template::load();
    let logging = &template.properties(FUNCTION)["LoggingConfig"];
    assert_eq!(logging["LogFormat"], "JSON");
    assert_eq!(logging["ApplicationLogLevel"], reference("LogLevel"));
    let allowed = template.parameter("LogLevel")["AllowedValues"]
        .as_array()
        .unwrap();
    assert!(!allowed.is_empty());
    for configured in allowed {
        let configured = configured.as_str().unwrap();
        let line = emf_line(&Default::default(), "f", 0, emf_level(Some(configured)));
        assert!(
            lambda_keeps(&line, configured),
            "at LogLevel {configured}, Lambda drops the metrics line {line}"
        );
    }
}

#[test]
fn a_metrics_line_without_a_level_would_be_dropped_at_warn() {
    // Why the line carries a level: the same document without one is INFO to Lambda.
    let line = emf_line(&Default::default(), "f", 0, emf_level(Some("WARN")));
    let mut document: Value = serde_json::from_str(&line).unwrap();
    document.as_object_mut().unwrap().remove("level");
    assert!(!lambda_keeps(&document.to_string(), "WARN"));
}

#[test]
fn platform_start_and_report_lines_are_kept() {
    let template = Template::load();
    let system_level = template.properties(FUNCTION)["LoggingConfig"]["SystemLogLevel"]
        .as_str()
        .unwrap();
    // Lambda writes START and REPORT at INFO.
    assert!(
        severity(system_level) <= severity("INFO"),
        "SystemLogLevel {system_level} drops the REPORT lines"
    );
}
