//! The live trigger (issue 12): one parameter chooses SNS, an SQS queue or an EventBridge rule;
//! exactly one of them invokes the function, each with what it needs and no more.

use serde_json::{Value, json};

use crate::cfn::{Template, as_list, get_att, if_branches, reference};

const FUNCTION: &str = "AuditFunction";
const QUEUE: &str = "NotificationQueue";
const DEAD_LETTER_QUEUE: &str = "NotificationDeadLetterQueue";

/// The resources each trigger adds, under its condition.
const SNS_RESOURCES: [&str; 2] = ["TrailSubscription", "TrailTopicInvokesFunction"];
const QUEUE_RESOURCES: [&str; 6] = [
    DEAD_LETTER_QUEUE,
    QUEUE,
    "NotificationQueuePolicy",
    "NotificationQueueSubscription",
    "NotificationQueueConsumer",
    "NotificationQueueMapping",
];
const EVENTBRIDGE_RESOURCES: [&str; 2] =
    ["LogBucketObjectCreatedRule", "LogBucketRuleInvokesFunction"];

fn condition(template: &Template, name: &str) -> Value {
    template.root["Conditions"][name].clone()
}

#[test]
fn one_parameter_chooses_the_trigger_and_sns_stays_the_default() {
    let template = Template::load();
    let trigger = template.parameter("Trigger");
    assert_eq!(trigger["Default"], "SNS");
    assert_eq!(
        trigger["AllowedValues"],
        json!(["SNS", "SQS", "EventBridge"])
    );
    for (name, value) in [
        ("TriggerIsSns", "SNS"),
        ("TriggerIsQueue", "SQS"),
        ("TriggerIsEventBridge", "EventBridge"),
    ] {
        assert_eq!(
            condition(&template, name),
            json!({"Fn::Equals": [reference("Trigger"), value]})
        );
    }
}

#[test]
fn each_trigger_s_resources_exist_only_under_its_condition() {
    let template = Template::load();
    for (condition_name, resources) in [
        ("TriggerIsSns", &SNS_RESOURCES[..]),
        ("TriggerIsQueue", &QUEUE_RESOURCES[..]),
        ("TriggerIsEventBridge", &EVENTBRIDGE_RESOURCES[..]),
    ] {
        for logical_id in resources {
            assert_eq!(
                template.resource(logical_id)["Condition"],
                condition_name,
                "{logical_id}"
            );
        }
    }
    // The function has no SAM event of its own, which could not be made conditional.
    assert!(template.properties(FUNCTION)["Events"].is_null());
}

#[test]
fn only_the_chosen_source_may_invoke_the_function() {
    let template = Template::load();
    let permissions = template.resources_of_type("AWS::Lambda::Permission");
    let sources: Vec<(&str, &Value, &Value)> = permissions
        .iter()
        .map(|logical_id| {
            let properties = template.properties(logical_id);
            assert_eq!(properties["FunctionName"], reference(FUNCTION));
            assert_eq!(properties["Action"], "lambda:InvokeFunction");
            (
                *logical_id,
                &properties["Principal"],
                &properties["SourceArn"],
            )
        })
        .collect();
    let topic = json!({"Fn::If": ["CreateFullStack", reference("TrailTopic"), reference("ExistingTopicArn")]});
    assert!(sources.contains(&(
        "TrailTopicInvokesFunction",
        &json!("sns.amazonaws.com"),
        &json!({"Fn::Join": ["", [topic]]})
    )));
    assert!(sources.contains(&(
        "LogBucketRuleInvokesFunction",
        &json!("events.amazonaws.com"),
        &get_att("LogBucketObjectCreatedRule", "Arn")
    )));
    assert_eq!(sources.len(), 2, "no other principal invokes the function");
}

#[test]
fn the_sns_subscription_keeps_what_it_cannot_deliver_in_the_failure_queue() {
    let template = Template::load();
    let subscription = template.properties("TrailSubscription");
    assert_eq!(subscription["Protocol"], "lambda");
    assert_eq!(subscription["Endpoint"], get_att(FUNCTION, "Arn"));
    assert_eq!(
        subscription["RedrivePolicy"]["deadLetterTargetArn"],
        get_att("FailureQueue", "Arn")
    );
}

#[test]
fn the_queue_reports_partial_batch_failures_with_a_batch_size_and_maximum_concurrency() {
    let template = Template::load();
    let mapping = template.properties("NotificationQueueMapping");
    assert_eq!(mapping["EventSourceArn"], get_att(QUEUE, "Arn"));
    assert_eq!(mapping["FunctionName"], reference(FUNCTION));
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(mapping["BatchSize"], reference("QueueBatchSize"));
    assert_eq!(
        mapping["ScalingConfig"]["MaximumConcurrency"],
        reference("QueueMaximumConcurrency")
    );
    // Without a batching window SQS takes at most 10 messages; Lambda's concurrency cap is 2..1000.
    assert_eq!(
        template.number_range(&reference("QueueBatchSize")),
        (1.0, 10.0)
    );
    assert_eq!(
        template.number_range(&reference("QueueMaximumConcurrency")),
        (2.0, 1000.0)
    );
}

#[test]
fn the_queue_hides_a_message_longer_than_the_function_can_run() {
    let template = Template::load();
    let (_, longest_timeout) = template.number_range(&template.properties(FUNCTION)["Timeout"]);
    let visibility = template.number_range(&template.properties(QUEUE)["VisibilityTimeout"]);
    // AWS requires at least the timeout and recommends six times it.
    assert!(visibility.0 >= 6.0 * longest_timeout, "{visibility:?}");
    assert!(visibility.1 <= 43_200.0, "SQS's maximum is 12 hours");
}

#[test]
fn the_queue_moves_a_message_failing_again_and_again_to_its_own_dead_letter_queue() {
    let template = Template::load();
    let redrive = &template.properties(QUEUE)["RedrivePolicy"];
    assert_eq!(
        redrive["deadLetterTargetArn"],
        get_att(DEAD_LETTER_QUEUE, "Arn")
    );
    assert_eq!(
        redrive["maxReceiveCount"],
        reference("QueueMaxReceiveCount")
    );
    let dead_letters = template.resource(DEAD_LETTER_QUEUE);
    assert_eq!(dead_letters["DeletionPolicy"], "Retain");
    assert_eq!(
        dead_letters["Properties"]["MessageRetentionPeriod"],
        1_209_600
    );
    for queue in [QUEUE, DEAD_LETTER_QUEUE] {
        assert_eq!(template.properties(queue)["SqsManagedSseEnabled"], true);
    }
}

#[test]
fn only_the_trail_topic_sends_to_the_queue() {
    let template = Template::load();
    let subscription = template.properties("NotificationQueueSubscription");
    assert_eq!(subscription["Protocol"], "sqs");
    assert_eq!(subscription["Endpoint"], get_att(QUEUE, "Arn"));
    let statements =
        template.properties("NotificationQueuePolicy")["PolicyDocument"]["Statement"].clone();
    let allows: Vec<&Value> = as_list(&statements)
        .into_iter()
        .filter(|statement| statement["Effect"] == "Allow")
        .collect();
    assert_eq!(allows.len(), 1);
    assert_eq!(
        allows[0]["Principal"],
        json!({"Service": "sns.amazonaws.com"})
    );
    assert_eq!(allows[0]["Action"], "sqs:SendMessage");
    assert_eq!(
        if_branches(&allows[0]["Condition"]["ArnEquals"]["aws:SourceArn"]),
        vec![&reference("TrailTopic"), &reference("ExistingTopicArn")]
    );
}

#[test]
fn the_function_may_only_consume_its_notification_queue() {
    let template = Template::load();
    let consumer = template.properties("NotificationQueueConsumer");
    assert_eq!(consumer["RoleName"], reference("FunctionRole"));
    let statements = as_list(&consumer["PolicyDocument"]["Statement"]);
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(
        statements[0]["Action"],
        json!([
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes"
        ])
    );
    assert_eq!(statements[0]["Resource"], get_att(QUEUE, "Arn"));
    // The mapping starts polling only once the role may.
    assert_eq!(
        template.resource("NotificationQueueMapping")["DependsOn"],
        "NotificationQueueConsumer"
    );
}

#[test]
fn the_eventbridge_rule_matches_only_new_log_files_of_the_log_bucket() {
    let template = Template::load();
    let rule = template.properties("LogBucketObjectCreatedRule");
    let pattern = &rule["EventPattern"];
    assert_eq!(pattern["source"], json!(["aws.s3"]));
    assert_eq!(pattern["detail-type"], json!(["Object Created"]));
    let buckets = as_list(&pattern["detail"]["bucket"]["name"]);
    assert_eq!(
        if_branches(buckets[0]),
        vec![&reference("TrailBucket"), &reference("LogBucketName")]
    );
    let prefix = &as_list(&pattern["detail"]["object"]["key"])[0]["prefix"];
    assert!(
        if_branches(prefix).contains(&&json!("AWSLogs/")),
        "{prefix}"
    );
    let targets = as_list(&rule["Targets"]);
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["Arn"], get_att(FUNCTION, "Arn"));
    // A created log bucket sends its events to EventBridge when this trigger is chosen.
    let notifications = &template.properties("TrailBucket")["NotificationConfiguration"];
    assert_eq!(
        notifications["Fn::If"][0],
        "CreatedBucketSendsToEventBridge"
    );
    assert_eq!(
        notifications["Fn::If"][1],
        json!({"EventBridgeConfiguration": {"EventBridgeEnabled": true}})
    );
}
