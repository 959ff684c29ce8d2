//! The template gate (`scripts/lint-template`, run by `scripts/test`) checks what CloudFormation
//! deploys: the resources the SAM transform generates, not only the `AWS::Serverless::*` shorthand.
//! Each test lints a copy of template.yaml with one deliberate mistake and expects the gate to fail
//! on the expanded template, naming the mistake (the template as written passes the same gate in
//! `scripts/test`).

use std::path::{Path, PathBuf};
use std::process::Command;

struct GateRun {
    passed: bool,
    output: String,
}

fn lint(template: &Path) -> GateRun {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(root.join("scripts/lint-template"))
        .arg(template)
        .output()
        .unwrap();
    GateRun {
        passed: output.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// A copy of template.yaml, in its own directory, with `line` replaced by `mutated`.
fn mutated_template(dir: &tempfile::TempDir, line: &str, mutated: &str) -> PathBuf {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(line).count(),
        1,
        "template.yaml should hold `{line}` once"
    );
    let copy = dir.path().join("template.yaml");
    std::fs::write(&copy, text.replace(line, mutated)).unwrap();
    copy
}

/// The gate fails on the mutated template, and it is the expanded template that fails.
fn assert_gate_fails_on_expansion(line: &str, mutated: &str, finding: &str) {
    let dir = tempfile::tempdir().unwrap();
    let run = lint(&mutated_template(&dir, line, mutated));
    assert!(!run.passed, "the gate passed `{mutated}`:\n{}", run.output);
    assert!(
        run.output.contains(finding) && run.output.contains(".expanded.json"),
        "the expanded template's lint should report {finding}:\n{}",
        run.output
    );
}

#[test]
fn the_gate_fails_on_a_runtime_lambda_does_not_have() {
    assert_gate_fails_on_expansion(
        "Runtime: provided.al2023",
        "Runtime: provided.al2099",
        "provided.al2099",
    );
}

#[test]
fn the_gate_fails_on_more_retries_than_lambda_allows() {
    assert_gate_fails_on_expansion(
        "MaximumRetryAttempts: !Ref MaxRetryAttempts",
        "MaximumRetryAttempts: 7",
        "7 is greater than the maximum of 2",
    );
}
