//! The dependency rules the layout rests on, checked on the resolved graph rather than by
//! convention: the core crate stays pure (no AWS, no Lambda runtime, no async runtime, no CLI), and
//! the Lambda is built without the CLI's dependencies.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

/// Crates the core must never depend on, by name or name prefix (`aws` covers aws-sdk-*,
/// aws-config, aws-smithy-* and aws_lambda_events).
const NOT_IN_THE_CORE: [&str; 7] = [
    "aws",
    "lambda_runtime",
    "lambda_http",
    "tokio",
    "clap",
    "indicatif",
    "terminal_size",
];

/// The CLI's own dependencies, which the Lambda must not be built with.
const CLI_ONLY: [&str; 5] = [
    "clap",
    "indicatif",
    "terminal_size",
    "walkdir",
    "aws-sdk-sfn",
];

fn cargo(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The names of every crate `package` depends on at run time (normal edges only, transitively).
fn normal_dependencies(package: &str, extra: &[&str]) -> BTreeSet<String> {
    let mut args = vec![
        "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}",
    ];
    args.extend_from_slice(extra);
    cargo(&args)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_owned)
        .collect()
}

fn package<'m>(metadata: &'m Value, name: &str) -> &'m Value {
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|package| package["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in the workspace"))
}

#[test]
fn the_core_depends_on_nothing_of_aws_the_lambda_runtime_tokio_or_the_cli() {
    let dependencies = normal_dependencies("a4b-audit-core", &[]);
    assert!(dependencies.contains("flate2"), "{dependencies:?}");
    let forbidden: Vec<&String> = dependencies
        .iter()
        .filter(|name| {
            NOT_IN_THE_CORE.iter().any(|banned| {
                name.replace('_', "-")
                    .starts_with(&banned.replace('_', "-"))
            })
        })
        .collect();
    assert!(
        forbidden.is_empty(),
        "a4b-audit-core depends on {forbidden:?}: move the code that needs them to the root package"
    );
}

#[test]
fn the_lambda_is_built_without_the_cli_dependencies() {
    let metadata: Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--locked",
        "--no-deps",
        "--format-version",
        "1",
    ]))
    .unwrap();
    let root = package(&metadata, "a4b-audit");
    // cargo-lambda (what `sam build` runs) reads this: the Lambda builds without default features.
    assert_eq!(
        root["metadata"]["lambda"]["build"]["no_default_features"], true,
        "Cargo.toml: [package.metadata.lambda.build] no_default_features = true"
    );
    let cli_bin = root["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|target| target["name"] == "a4b-audit")
        .unwrap();
    assert_eq!(cli_bin["required-features"], serde_json::json!(["cli"]));

    let lambda = normal_dependencies("a4b-audit", &["--no-default-features"]);
    assert!(lambda.contains("lambda_runtime"), "{lambda:?}");
    let cli_only: Vec<&str> = CLI_ONLY
        .into_iter()
        .filter(|name| lambda.contains(*name))
        .collect();
    assert!(
        cli_only.is_empty(),
        "without the `cli` feature a4b-audit still depends on {cli_only:?}: make them optional"
    );
    let with_cli = normal_dependencies("a4b-audit", &[]);
    assert!(CLI_ONLY.iter().all(|name| with_cli.contains(*name)));
}
