//! No parameter can break start-up (issue 17): every value CloudFormation accepts for a parameter
//! the function reads is one `Config` accepts too. Each parameter's edge values go through both the
//! template's constraints (AllowedPattern, MinLength/MaxLength, MinValue/MaxValue, AllowedValues,
//! evaluated here as CloudFormation does) and `Config::from_lookup` with the environment the template
//! gives the function, so that the two cannot drift apart.

use std::collections::BTreeMap;

use a4b_audit::config::{Config, ConfigError};
use regex::Regex;
use serde_json::Value;

use crate::cfn::{Stack, Template, as_number};

const FUNCTION: &str = "AuditFunction";

/// A parameter's constraints, as CloudFormation checks a value against them.
struct Constraints<'t> {
    name: &'t str,
    parameter: &'t Value,
    pattern: Option<Regex>,
}

impl<'t> Constraints<'t> {
    fn of(template: &'t Template, name: &'t str) -> Constraints<'t> {
        let parameter = template.parameter(name);
        // CloudFormation matches the whole value against the pattern.
        let pattern = parameter["AllowedPattern"]
            .as_str()
            .map(|pattern| Regex::new(&format!("^(?:{pattern})$")).unwrap());
        Constraints {
            name,
            parameter,
            pattern,
        }
    }

    fn accept(&self, value: &str) -> bool {
        let parameter = self.parameter;
        let length = value.chars().count() as f64;
        if as_number(&parameter["MinLength"]).is_some_and(|min| length < min)
            || as_number(&parameter["MaxLength"]).is_some_and(|max| length > max)
        {
            return false;
        }
        if let Some(allowed) = parameter["AllowedValues"].as_array()
            && !allowed.iter().any(|allowed| text(allowed) == value)
        {
            return false;
        }
        match parameter["Type"].as_str().unwrap() {
            "String" => self
                .pattern
                .as_ref()
                .is_none_or(|pattern| pattern.is_match(value)),
            "Number" => value.trim().parse::<f64>().is_ok_and(|number| {
                as_number(&parameter["MinValue"]).is_none_or(|min| number >= min)
                    && as_number(&parameter["MaxValue"]).is_none_or(|max| number <= max)
            }),
            other => panic!("parameter {} has type {other}", self.name),
        }
    }
}

/// Whether CloudFormation accepts `value` for the parameter `name`.
fn template_accepts(template: &Template, name: &str, value: &str) -> bool {
    Constraints::of(template, name).accept(value)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The function's `Config` when the stack is deployed with `name` = `value`: the environment the
/// template builds from the parameter (a variable left out when it resolves to `AWS::NoValue`).
fn config_deployed_with(
    template: &Template,
    name: &str,
    value: &str,
) -> Result<Config, ConfigError> {
    let stack = Stack::new(&[(name, value)]);
    let variables = template.properties(FUNCTION)["Environment"]["Variables"]
        .as_object()
        .unwrap();
    let mut environment = BTreeMap::new();
    environment.insert("TABLE_NAME".to_owned(), "audit".to_owned());
    for (variable, definition) in variables {
        if !definition.to_string().contains(&format!("\"{name}\"")) {
            continue;
        }
        match template.evaluate(definition, &stack) {
            Value::Null => {}
            resolved => {
                environment.insert(variable.clone(), text(&resolved));
            }
        }
    }
    Config::from_lookup(|variable| environment.get(variable).cloned())
}

/// The parameter's edge values: CloudFormation must refuse each that `Config` refuses, and each
/// accepted one must start the function.
fn assert_template_and_config_agree(name: &str, accepted: &[&str], refused: &[&str]) {
    let template = Template::load();
    for value in accepted {
        assert!(
            template_accepts(&template, name, value),
            "{name}={value:?} should deploy"
        );
        if let Err(error) = config_deployed_with(&template, name, value) {
            panic!("{name}={value:?} deploys, then every invocation fails: {error}");
        }
    }
    for value in refused {
        assert!(
            !template_accepts(&template, name, value),
            "{name}={value:?} deploys, yet {}",
            match config_deployed_with(&template, name, value) {
                Err(error) => format!("the function refuses it: {error}"),
                Ok(_) => "it should be refused".to_owned(),
            }
        );
    }
}

/// Over a whole range of values: whatever CloudFormation accepts, `Config` accepts.
fn assert_no_deployable_value_fails_start_up(name: &str, values: impl Iterator<Item = String>) {
    let template = Template::load();
    let constraints = Constraints::of(&template, name);
    for value in values {
        if constraints.accept(&value)
            && let Err(error) = config_deployed_with(&template, name, &value)
        {
            panic!("{name}={value:?} deploys, then every invocation fails: {error}");
        }
    }
}

#[test]
fn retention_days_range_is_configs_range() {
    assert_template_and_config_agree(
        "RetentionDays",
        &[
            "", "1", "9", "365", "9999", "10000", "29999", "35999", "36499", "36500",
        ],
        &[
            "0", "36501", "37000", "99999", "100000", "-1", "1.5", "01", " 7", "seven",
        ],
    );
    let template = Template::load();
    let constraints = Constraints::of(&template, "RetentionDays");
    for days in 0..=100_000_u32 {
        let value = days.to_string();
        let config = config_deployed_with(&template, "RetentionDays", &value);
        assert_eq!(
            constraints.accept(&value),
            config.is_ok(),
            "RetentionDays={days}: the template and Config disagree"
        );
        if let Ok(config) = config {
            assert_eq!(config.retention_days, Some(days));
        }
    }
    assert_eq!(
        config_deployed_with(&template, "RetentionDays", "")
            .unwrap()
            .retention_days,
        None,
        "empty keeps items forever"
    );
}

#[test]
fn event_sources_refuse_empty_entries() {
    assert_template_and_config_agree(
        "EventSources",
        &[
            "a4b.amazonaws.com",
            "a4b.amazonaws.com,s3.amazonaws.com",
            "a4b.amazonaws.com, s3.amazonaws.com",
        ],
        &[
            "",
            ",",
            ",,",
            " , ",
            " ",
            "a4b.amazonaws.com,",
            ",a4b.amazonaws.com",
            "a,,b",
        ],
    );
    let template = Template::load();
    let config = config_deployed_with(
        &template,
        "EventSources",
        "a4b.amazonaws.com, s3.amazonaws.com",
    )
    .unwrap();
    assert_eq!(
        config.event_sources,
        ["a4b.amazonaws.com", "s3.amazonaws.com"]
    );
}

#[test]
fn max_object_bytes_is_a_whole_number_of_bytes() {
    assert_template_and_config_agree(
        "MaxObjectBytes",
        &["1", "1073741824", "9999999999999999999"],
        &[
            "0",
            "1.5",
            "1.0",
            "-1",
            "1e9",
            "",
            "01",
            "1 GiB",
            "18446744073709551616",
        ],
    );
    let template = Template::load();
    let edges = [1_u64, 1 << 30, u64::MAX / 2, u64::MAX];
    assert_no_deployable_value_fails_start_up("MaxObjectBytes", edges.iter().map(u64::to_string));
    let config = config_deployed_with(&template, "MaxObjectBytes", "1073741824").unwrap();
    assert_eq!(config.max_object_bytes, 1 << 30);
}

#[test]
fn log_key_prefix_refuses_what_iam_reads_as_a_wildcard_or_a_variable() {
    let template = Template::load();
    let accepts = |value: &str| template_accepts(&template, "LogKeyPrefix", value);
    for value in ["", "org", "org/logs", "o", "a-b_c.d", &"p".repeat(200)] {
        assert!(accepts(value), "{value:?}");
    }
    for value in [
        "org*",
        "*",
        "or?g",
        "${aws:username}",
        "$",
        "/org",
        "org/",
        "/",
        &"p".repeat(201),
    ] {
        assert!(!accepts(value), "{value:?}");
    }
}

#[test]
fn created_log_bucket_keeps_logs_longer_than_the_failure_queue_keeps_messages() {
    let template = Template::load();
    let queue_days = as_number(&template.properties("FailureQueue")["MessageRetentionPeriod"])
        .unwrap()
        / 86_400.0;
    let accepts = |days: &str| template_accepts(&template, "LogBucketExpirationDays", days);
    assert!(!accepts(&queue_days.to_string()));
    assert!(!accepts("1"));
    assert!(accepts(&(queue_days + 1.0).to_string()));
    assert!(accepts(
        &template.parameter_value("LogBucketExpirationDays", &Stack::new(&[]))
    ));
}

#[test]
fn trail_name_fits_cloudtrails_limit_with_the_longest_stack_name() {
    let template = Template::load();
    let name_rule = Regex::new("^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$").unwrap();
    for stack_name in ["a", "a4b-audit", &"s".repeat(128)] {
        let stack = Stack::new(&[("CreateTrail", "true")]).named(stack_name);
        let trail_name =
            text(&template.evaluate(&template.properties("Trail")["TrailName"], &stack));
        assert!(
            name_rule.is_match(&trail_name),
            "stack {stack_name}: trail name {trail_name:?} ({} characters)",
            trail_name.len()
        );
        // The bucket and topic policies name that same trail.
        let trail_arn = format!("arn:aws:cloudtrail:us-east-1:123456789012:trail/{trail_name}");
        for policy in ["TrailBucketPolicy", "TrailTopicPolicy"] {
            let statements = &template.properties(policy)["PolicyDocument"]["Statement"];
            for statement in statements.as_array().unwrap() {
                let source = &statement["Condition"]["StringEquals"]["aws:SourceArn"];
                if !source.is_null() {
                    assert_eq!(
                        text(&template.evaluate(source, &stack)),
                        trail_arn,
                        "{policy}"
                    );
                }
            }
        }
    }
}
