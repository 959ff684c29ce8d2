//! Every failure reaches a person (issue 17): each alarm's condition, read from template.yaml and
//! evaluated as CloudWatch does (the metric it watches, its dimensions and statistic, then M of N
//! datapoints against the threshold, missing data as the alarm says), with the figures that should
//! and should not fire it.

use a4b_audit::metrics::{FUNCTION_NAME_DIMENSION, NAMESPACE, invocation_metrics};
use serde_json::{Value, json};

use crate::cfn::{Stack, Template, as_number, get_att, if_branches, reference};

const FUNCTION: &str = "AuditFunction";
const QUEUE: &str = "FailureQueue";

/// What an alarm watches: one metric, by namespace, name, dimensions and statistic.
#[derive(Debug, PartialEq)]
struct Watched<'t> {
    namespace: &'t str,
    metric: &'t str,
    dimensions: Vec<(&'t str, &'t Value)>,
    statistic: &'t str,
    period: f64,
}

/// One alarm of the template in one deployment (its parameter values).
struct Alarm<'t> {
    template: &'t Template,
    properties: &'t Value,
    stack: Stack,
}

impl<'t> Alarm<'t> {
    fn new(template: &'t Template, logical_id: &str, stack: Stack) -> Alarm<'t> {
        let resource = template.resource(logical_id);
        assert_eq!(resource["Type"], "AWS::CloudWatch::Alarm", "{logical_id}");
        Alarm {
            template,
            properties: &resource["Properties"],
            stack,
        }
    }

    /// The metric the alarm reads: its own, or the one metric its math expression reads.
    fn watched(&self) -> Watched<'t> {
        let (metric, statistic, period) = match self.properties["Metrics"].as_array() {
            None => (
                self.properties,
                &self.properties["Statistic"],
                &self.properties["Period"],
            ),
            Some(queries) => {
                let stats: Vec<&Value> = queries
                    .iter()
                    .filter(|query| !query["MetricStat"].is_null())
                    .collect();
                assert_eq!(stats.len(), 1, "one metric per alarm: {queries:?}");
                let stat = &stats[0]["MetricStat"];
                (&stat["Metric"], &stat["Stat"], &stat["Period"])
            }
        };
        Watched {
            namespace: metric["Namespace"].as_str().unwrap(),
            metric: metric["MetricName"].as_str().unwrap(),
            dimensions: metric["Dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|dimension| (dimension["Name"].as_str().unwrap(), &dimension["Value"]))
                .collect(),
            statistic: statistic.as_str().unwrap(),
            period: as_number(period).unwrap(),
        }
    }

    fn number(&self, property: &str) -> Option<f64> {
        let value = &self.properties[property];
        if value.is_null() {
            return None;
        }
        as_number(&self.template.evaluate(value, &self.stack))
    }

    /// The value the alarm compares with its threshold for one datapoint of the watched metric: the
    /// datapoint itself, or the result of the alarm's math expression.
    fn compared_value(&self, datapoint: f64) -> f64 {
        let Some(queries) = self.properties["Metrics"].as_array() else {
            return datapoint;
        };
        let returned: Vec<&Value> = queries
            .iter()
            .filter(|query| query["ReturnData"] == true)
            .collect();
        assert_eq!(returned.len(), 1, "one returned series: {queries:?}");
        let stat_id = queries
            .iter()
            .find(|query| !query["MetricStat"].is_null())
            .unwrap()["Id"]
            .as_str()
            .unwrap();
        let expression = self
            .template
            .evaluate(&returned[0]["Expression"], &self.stack);
        arithmetic::evaluate(expression.as_str().unwrap(), &[(stat_id, datapoint)])
    }

    fn breaches(&self, datapoint: f64) -> bool {
        let value = self.compared_value(datapoint);
        let threshold = self.number("Threshold").unwrap();
        match self.properties["ComparisonOperator"].as_str().unwrap() {
            "GreaterThanOrEqualToThreshold" => value >= threshold,
            "GreaterThanThreshold" => value > threshold,
            "LessThanThreshold" => value < threshold,
            "LessThanOrEqualToThreshold" => value <= threshold,
            other => panic!("unknown comparison {other}"),
        }
    }

    /// Whether the alarm is in ALARM after the last `EvaluationPeriods` datapoints (oldest first;
    /// `None` is a period without data).
    fn fires(&self, datapoints: &[Option<f64>]) -> bool {
        let periods = self.number("EvaluationPeriods").unwrap() as usize;
        let needed = self
            .number("DatapointsToAlarm")
            .map_or(periods, |m| m as usize);
        assert_eq!(
            datapoints.len(),
            periods,
            "give one datapoint per evaluation period"
        );
        let missing_breaches = match self.properties["TreatMissingData"].as_str() {
            Some("breaching") => true,
            Some("notBreaching") => false,
            other => panic!("say how missing data counts, not {other:?}"),
        };
        let breaching = datapoints
            .iter()
            .filter(|datapoint| match datapoint {
                Some(value) => self.breaches(*value),
                None => missing_breaches,
            })
            .count();
        breaching >= needed
    }
}

/// A small evaluator of CloudWatch metric math: numbers, metric ids, + - * / and parentheses.
mod arithmetic {
    pub fn evaluate(expression: &str, ids: &[(&str, f64)]) -> f64 {
        let tokens = tokenize(expression);
        let mut position = 0;
        let value = binary(&tokens, &mut position, ids, 0);
        assert_eq!(position, tokens.len(), "unparsed rest in {expression}");
        value
    }

    fn tokenize(expression: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        let mut chars = expression.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                let mut token = String::new();
                while let Some(&c) = chars
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || **c == '.' || **c == '_')
                {
                    token.push(c);
                    chars.next();
                }
                tokens.push(token);
            } else {
                tokens.push(c.to_string());
                chars.next();
            }
        }
        tokens
    }

    /// Operators by precedence, loosest first.
    const OPERATORS: [[&str; 2]; 2] = [["+", "-"], ["*", "/"]];

    fn binary(tokens: &[String], position: &mut usize, ids: &[(&str, f64)], level: usize) -> f64 {
        let operand = |position: &mut usize| match level + 1 < OPERATORS.len() {
            true => binary(tokens, position, ids, level + 1),
            false => atom(tokens, position, ids),
        };
        let mut value = operand(position);
        while let Some(operator) = tokens
            .get(*position)
            .filter(|token| OPERATORS[level].contains(&token.as_str()))
        {
            *position += 1;
            let right = operand(position);
            value = match operator.as_str() {
                "+" => value + right,
                "-" => value - right,
                "*" => value * right,
                _ => value / right,
            };
        }
        value
    }

    fn atom(tokens: &[String], position: &mut usize, ids: &[(&str, f64)]) -> f64 {
        let token = &tokens[*position];
        *position += 1;
        if token == "(" {
            let value = binary(tokens, position, ids, 0);
            assert_eq!(tokens[*position], ")");
            *position += 1;
            return value;
        }
        if let Ok(number) = token.parse() {
            return number;
        }
        ids.iter()
            .find(|(id, _)| id == token)
            .unwrap_or_else(|| panic!("unknown id {token}"))
            .1
    }
}

fn default_stack() -> Stack {
    Stack::new(&[])
}

fn alarm_ids(template: &Template) -> Vec<&str> {
    template.resources_of_type("AWS::CloudWatch::Alarm")
}

fn assert_watches(
    alarm: &Alarm,
    (namespace, metric, statistic): (&str, &str, &str),
    dimension: (&str, Value),
) {
    let watched = alarm.watched();
    assert_eq!(watched.namespace, namespace, "{metric}");
    assert_eq!(watched.metric, metric);
    assert_eq!(watched.statistic, statistic, "{metric}");
    assert_eq!(
        watched.dimensions,
        vec![(dimension.0, &dimension.1)],
        "{metric}"
    );
}

fn watches_the_function(alarm: &Alarm, namespace: &str, metric: &str, statistic: &str) {
    let dimension = (FUNCTION_NAME_DIMENSION, reference(FUNCTION));
    assert_watches(alarm, (namespace, metric, statistic), dimension);
}

fn watches_the_failure_queue(alarm: &Alarm, metric: &str, statistic: &str) {
    let dimension = ("QueueName", get_att(QUEUE, "QueueName"));
    assert_watches(alarm, ("AWS/SQS", metric, statistic), dimension);
}

/// The function's own metric: namespace, name and dimension as core/src/metrics.rs writes them.
fn assert_is_an_emitted_metric(watched: &Watched) {
    assert_eq!(watched.namespace, NAMESPACE);
    let emitted: Vec<&str> = invocation_metrics(&Default::default())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        emitted.contains(&watched.metric),
        "the function emits no metric {}",
        watched.metric
    );
}

#[test]
fn every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_is_ok_again() {
    let template = Template::load();
    let alarms = alarm_ids(&template);
    assert!(alarms.len() >= 11, "{alarms:?}");
    for logical_id in alarms {
        let properties = template.properties(logical_id);
        for actions in ["AlarmActions", "OKActions"] {
            assert_eq!(
                if_branches(&properties[actions]),
                vec![&json!([reference("AlarmTopicArn")])],
                "{logical_id} {actions}"
            );
        }
        assert!(
            properties["AlarmDescription"]
                .as_str()
                .is_some_and(|d| d.len() > 40),
            "{logical_id} says what happened and what to do"
        );
    }
}

#[test]
fn unreconciled_alarm_fires_on_one_invocation_whose_counts_do_not_add_up() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "UnreconciledAlarm", default_stack());
    watches_the_function(&alarm, NAMESPACE, "Unreconciled", "Maximum");
    assert_is_an_emitted_metric(&alarm.watched());
    assert!(alarm.fires(&[Some(1.0)]));
    assert!(!alarm.fires(&[Some(0.0)]));
    assert!(!alarm.fires(&[None]));
}

#[test]
fn objects_failed_alarm_fires_when_failures_outlast_the_retries() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "ObjectsFailedAlarm", default_stack());
    watches_the_function(&alarm, NAMESPACE, "ObjectsFailed", "Sum");
    assert_is_an_emitted_metric(&alarm.watched());
    // Failures in two of three 5-minute periods: the retries did not fix them.
    assert!(alarm.fires(&[Some(1.0), Some(0.0), Some(2.0)]));
    // One failed attempt that a retry fixed stays quiet.
    assert!(!alarm.fires(&[None, Some(0.0), Some(1.0)]));
}

#[test]
fn function_errors_alarm_needs_several_datapoints_not_one_transient_error() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "FunctionErrorsAlarm", default_stack());
    watches_the_function(&alarm, "AWS/Lambda", "Errors", "Sum");
    assert!(alarm.fires(&[Some(1.0), Some(3.0), Some(1.0)]));
    assert!(!alarm.fires(&[Some(0.0), Some(0.0), Some(1.0)]));
    assert!(!alarm.fires(&[None, None, Some(5.0)]));
}

#[test]
fn throttles_alarm_fires_when_throttling_lasts() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "ThrottlesAlarm", default_stack());
    watches_the_function(&alarm, "AWS/Lambda", "Throttles", "Sum");
    assert!(alarm.fires(&[Some(2.0), Some(1.0), Some(4.0)]));
    assert!(!alarm.fires(&[None, None, Some(4.0)]));
}

#[test]
fn event_age_alarm_fires_on_a_backlog_long_before_events_expire() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "EventAgeAlarm", default_stack());
    watches_the_function(&alarm, "AWS/Lambda", "AsyncEventAge", "Maximum");
    let minutes = |m: f64| Some(m * 60_000.0); // AsyncEventAge is in milliseconds
    assert!(alarm.fires(&[minutes(30.0)]));
    assert!(!alarm.fires(&[minutes(29.0)]));
    assert!(!alarm.fires(&[None]));
    // At the default MaxEventAgeSeconds, events still have most of their time left.
    let max_age_ms = template
        .parameter_value("MaxEventAgeSeconds", &default_stack())
        .parse::<f64>()
        .unwrap()
        * 1000.0;
    assert!(alarm.number("Threshold").unwrap() <= max_age_ms / 4.0);
}

#[test]
fn duration_alarm_fires_when_invocations_near_the_timeout_whatever_the_timeout() {
    let template = Template::load();
    for timeout in ["60", "300", "900"] {
        let alarm = Alarm::new(
            &template,
            "DurationNearTimeoutAlarm",
            Stack::new(&[("Timeout", timeout)]),
        );
        watches_the_function(&alarm, "AWS/Lambda", "Duration", "Maximum");
        let timeout_ms = timeout.parse::<f64>().unwrap() * 1000.0;
        let share = |fraction: f64| Some(timeout_ms * fraction); // Duration is in milliseconds
        assert!(alarm.fires(&[share(0.85), None, share(0.81)]), "{timeout}");
        assert!(
            !alarm.fires(&[share(0.79), share(0.79), share(0.79)]),
            "{timeout}"
        );
        assert!(!alarm.fires(&[None, None, share(0.95)]), "{timeout}");
    }
    // The expression reads the Timeout parameter itself, not a copy of its default.
    let expression = &template.properties("DurationNearTimeoutAlarm")["Metrics"];
    assert!(
        expression.to_string().contains("${Timeout}"),
        "{expression}"
    );
}

#[test]
fn heartbeat_alarm_fires_after_two_hours_without_an_invocation() {
    let template = Template::load();
    assert_eq!(
        template.parameter_value("HeartbeatHours", &default_stack()),
        "2"
    );
    assert_eq!(
        template.resource("HeartbeatAlarm")["Condition"],
        "HasHeartbeat"
    );
    let alarm = Alarm::new(&template, "HeartbeatAlarm", default_stack());
    watches_the_function(&alarm, "AWS/Lambda", "Invocations", "Sum");
    assert_eq!(alarm.watched().period, 3600.0);
    // No invocation publishes no datapoint at all: missing data must breach.
    assert!(alarm.fires(&[None, None]));
    assert!(alarm.fires(&[Some(0.0), None]));
    assert!(!alarm.fires(&[None, Some(1.0)]));
    assert!(!alarm.fires(&[Some(12.0), Some(12.0)]));
}

#[test]
fn heartbeat_alarm_is_a_parameter_for_deployments_without_a_live_trail() {
    let template = Template::load();
    assert!(template.condition_holds("HasHeartbeat", &default_stack()));
    assert!(!template.condition_holds("HasHeartbeat", &Stack::new(&[("HeartbeatHours", "0")])));
    let alarm = Alarm::new(
        &template,
        "HeartbeatAlarm",
        Stack::new(&[("HeartbeatHours", "6")]),
    );
    assert!(alarm.fires(&[None; 6]));
    assert!(!alarm.fires(&[None, None, None, None, None, Some(1.0)]));
}

#[test]
fn failure_queue_alarm_fires_while_messages_wait_and_is_ok_when_the_queue_is_empty() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "FailureQueueAlarm", default_stack());
    watches_the_failure_queue(&alarm, "ApproximateNumberOfMessagesVisible", "Maximum");
    assert!(alarm.fires(&[Some(1.0)]));
    assert!(!alarm.fires(&[Some(0.0)]));
}

#[test]
fn failure_queue_new_message_alarm_fires_again_for_each_new_message() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "FailureQueueNewMessageAlarm", default_stack());
    watches_the_failure_queue(&alarm, "NumberOfMessagesSent", "Sum");
    assert_eq!(alarm.watched().period, 60.0);
    // A message, a quiet minute, a second message while the first still waits: ALARM, OK, ALARM.
    let states: Vec<bool> = [Some(1.0), Some(0.0), Some(1.0)]
        .into_iter()
        .map(|sent| alarm.fires(&[sent]))
        .collect();
    assert_eq!(states, [true, false, true]);
    assert!(!alarm.fires(&[None]));
}

#[test]
fn failure_queue_age_alarm_fires_well_before_the_queue_deletes_a_message() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "FailureQueueAgeAlarm", default_stack());
    watches_the_failure_queue(&alarm, "ApproximateAgeOfOldestMessage", "Maximum");
    let retention = as_number(&template.properties(QUEUE)["MessageRetentionPeriod"]).unwrap();
    let days = |d: f64| Some(d * 86_400.0);
    assert!(alarm.fires(&[days(7.0)]));
    assert!(!alarm.fires(&[days(6.5)]));
    // At least a week left to replay it.
    assert!(alarm.number("Threshold").unwrap() <= retention - 7.0 * 86_400.0);
}

#[test]
fn destination_failures_alarm_fires_on_one_lost_event() {
    let template = Template::load();
    let alarm = Alarm::new(&template, "DestinationFailuresAlarm", default_stack());
    watches_the_function(&alarm, "AWS/Lambda", "DestinationDeliveryFailures", "Sum");
    assert!(alarm.fires(&[Some(1.0)]));
    assert!(!alarm.fires(&[Some(0.0)]));
}
