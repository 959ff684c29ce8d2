//! The safety properties of template.yaml (issue 3): least privilege, nothing lost, the table as the
//! code expects it. Each test reads the template and fails when its property breaks.

mod alarms;
mod backfill;
mod cfn;
mod dependencies;
mod lint_gate;
mod logging;
mod operations;
mod parameters;
mod time_index;
mod triggers;

use std::collections::BTreeSet;

use a4b_audit::item::{PARTITION_KEY, SORT_KEY};
use cfn::{Template, as_list, as_number, get_att, if_branches, reference};
use serde_json::{Value, json};

const FUNCTION: &str = "AuditFunction";
const ROLE: &str = "FunctionRole";
const TABLE: &str = "AuditTable";
const QUEUE: &str = "FailureQueue";

/// SQS keeps a message at most 14 days.
const SQS_MAX_RETENTION_SECONDS: f64 = 1_209_600.0;

fn statements_with_action<'t>(template: &'t Template, service: &str) -> Vec<&'t Value> {
    template
        .role_statements(ROLE)
        .into_iter()
        .filter(|statement| {
            as_list(&statement["Action"])
                .iter()
                .any(|action| action.as_str().unwrap().starts_with(&format!("{service}:")))
        })
        .collect()
}

fn actions(statement: &Value) -> BTreeSet<&str> {
    as_list(&statement["Action"])
        .iter()
        .map(|action| action.as_str().unwrap())
        .collect()
}

fn the_only_statement<'t>(template: &'t Template, service: &str) -> &'t Value {
    let statements = statements_with_action(template, service);
    assert_eq!(
        statements.len(),
        1,
        "expected one {service} statement, found {statements:?}"
    );
    statements[0]
}

/// Whether a policy resource can match more than the one thing it names.
fn has_wildcard(resource: &Value) -> bool {
    resource.to_string().contains('*')
}

#[test]
fn function_runs_the_cargo_lambda_binary_on_arm64_al2023() {
    let template = Template::load();
    let function = template.resource(FUNCTION);
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        "a4b-audit-lambda"
    );
    let properties = &function["Properties"];
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(properties["Handler"], "bootstrap");
    assert_eq!(properties["Architectures"], json!(["arm64"]));
}

#[test]
fn function_memory_timeout_and_log_level_are_parameters_with_defaults() {
    let template = Template::load();
    let properties = template.properties(FUNCTION);
    for (property, parameter) in [("MemorySize", "MemorySize"), ("Timeout", "Timeout")] {
        assert_eq!(properties[property], reference(parameter));
        assert!(as_number(&template.parameter(parameter)["Default"]).is_some());
    }
    let (_, max_timeout) = template.number_range(&properties["Timeout"]);
    assert!(max_timeout <= 900.0, "Lambda's timeout cannot exceed 900 s");
    assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON");
    assert_eq!(
        properties["LoggingConfig"]["ApplicationLogLevel"],
        reference("LogLevel")
    );
    assert_eq!(template.parameter("LogLevel")["Default"], "INFO");
}

#[test]
fn function_environment_follows_the_spec() {
    let template = Template::load();
    let variables = &template.properties(FUNCTION)["Environment"]["Variables"];
    let names: BTreeSet<&str> = variables
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected = [
        "ALLOWED_BUCKETS",
        "EVENT_SOURCES",
        "MAX_OBJECT_BYTES",
        "RETENTION_DAYS",
        "TABLE_NAME",
    ];
    assert_eq!(names, expected.into_iter().collect());
    assert_eq!(variables["TABLE_NAME"], reference(TABLE));
    assert_eq!(
        template.parameter("EventSources")["Default"],
        "a4b.amazonaws.com"
    );
    assert_eq!(
        as_number(&template.parameter("MaxObjectBytes")["Default"]),
        Some(1_073_741_824.0)
    );
    // RETENTION_DAYS unset means "keep forever": it must be left out, not set to an empty string.
    assert_eq!(
        variables["RETENTION_DAYS"],
        json!({ "Fn::If": ["HasRetention", reference("RetentionDays"), reference("AWS::NoValue")] })
    );
    assert_eq!(template.parameter("RetentionDays")["Default"], "");
}

#[test]
fn function_reads_only_from_the_log_bucket_it_is_told_about() {
    let template = Template::load();
    let allowed = &template.properties(FUNCTION)["Environment"]["Variables"]["ALLOWED_BUCKETS"];
    let buckets = if_branches(allowed);
    assert_eq!(
        buckets,
        vec![&reference("TrailBucket"), &reference("LogBucketName")]
    );
}

#[test]
fn function_is_triggered_by_the_trail_topic() {
    // By default (Trigger SNS); the other triggers are checked in `triggers`.
    let template = Template::load();
    let subscription = template.properties("TrailSubscription");
    assert_eq!(subscription["Protocol"], "lambda");
    let topics = if_branches(&subscription["TopicArn"]);
    assert_eq!(
        topics,
        vec![&reference("TrailTopic"), &reference("ExistingTopicArn")]
    );
}

#[test]
fn full_stack_is_off_by_default() {
    let template = Template::load();
    assert_eq!(template.parameter("CreateTrail")["Default"], "false");
    for created in [
        "Trail",
        "TrailBucket",
        "TrailBucketPolicy",
        "TrailTopic",
        "TrailTopicPolicy",
    ] {
        assert_eq!(
            template.resource(created)["Condition"],
            "CreateFullStack",
            "{created}"
        );
    }
}

#[test]
fn function_permissions_are_all_written_in_the_template() {
    let template = Template::load();
    let properties = template.properties(FUNCTION);
    assert_eq!(properties["Role"], get_att(ROLE, "Arn"));
    // With an explicit Role, SAM ignores Policies: any there would mislead the reader.
    assert!(properties["Policies"].is_null());
    let role = template.properties(ROLE);
    assert!(
        role["ManagedPolicyArns"].is_null(),
        "managed policies grant wildcard log writes"
    );
    assert!(role["PermissionsBoundary"].is_null());
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({ "Service": "lambda.amazonaws.com" })
    );
}

#[test]
fn function_policies_allow_only_the_agreed_actions() {
    let template = Template::load();
    let granted: BTreeSet<&str> = template
        .role_statements(ROLE)
        .into_iter()
        .inspect(|statement| assert_eq!(statement["Effect"], "Allow"))
        .flat_map(actions)
        .collect();
    let agreed = [
        "dynamodb:BatchWriteItem",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:ListBucket",
        // With Trigger SQS only (the triggers' conditional policy on the role).
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
    ];
    assert_eq!(granted, agreed.into_iter().collect());
}

#[test]
fn function_policies_hold_no_wildcard_resource_on_write_actions() {
    let template = Template::load();
    for statement in template.role_statements(ROLE) {
        assert!(statement["NotResource"].is_null() && statement["NotAction"].is_null());
        let reads_only = actions(statement)
            .iter()
            .all(|action| ["s3:GetObject", "s3:ListBucket", "kms:Decrypt"].contains(action));
        for resource in as_list(&statement["Resource"]) {
            assert_ne!(resource, &json!("*"), "{statement}");
            if reads_only {
                continue;
            }
            assert!(
                !has_wildcard(resource),
                "write action on a wildcard resource: {statement}"
            );
            // A write goes to a resource this stack owns, named by reference rather than by text.
            let logical_id = resource["Fn::GetAtt"][0]
                .as_str()
                .or(resource["Ref"].as_str());
            let logical_id = logical_id
                .unwrap_or_else(|| panic!("write resource is not a reference: {statement}"));
            assert!(
                template.has_resource(logical_id),
                "{logical_id} is not in the template"
            );
        }
    }
}

#[test]
fn function_writes_only_to_its_table_and_never_reads_or_deletes() {
    let template = Template::load();
    let statement = the_only_statement(&template, "dynamodb");
    let expected = ["dynamodb:BatchWriteItem"];
    assert_eq!(actions(statement), expected.into_iter().collect());
    assert_eq!(statement["Resource"], get_att(TABLE, "Arn"));
    assert!(statement["Condition"].is_null());
}

#[test]
fn function_reads_only_log_files_in_the_log_bucket() {
    let template = Template::load();
    let reads: Vec<&Value> = statements_with_action(&template, "s3")
        .into_iter()
        .filter(|statement| actions(statement).contains("s3:GetObject"))
        .collect();
    assert_eq!(reads.len(), 1, "{reads:?}");
    let statement = reads[0];
    assert_eq!(actions(statement), ["s3:GetObject"].into_iter().collect());
    let resource = &statement["Resource"]["Fn::Sub"];
    let pattern = resource[0].as_str().unwrap();
    assert_eq!(
        pattern,
        "arn:${AWS::Partition}:s3:::${Bucket}/${Prefix}AWSLogs/*"
    );
    let bucket = if_branches(&resource[1]["Bucket"]);
    assert_eq!(
        bucket,
        vec![&reference("TrailBucket"), &reference("LogBucketName")]
    );
}

#[test]
fn function_decrypts_only_with_the_given_key_through_s3() {
    let template = Template::load();
    let statement = the_only_statement(&template, "kms");
    assert_eq!(actions(statement), ["kms:Decrypt"].into_iter().collect());
    assert_eq!(statement["Resource"], reference("KmsKeyArn"));
    assert_eq!(
        statement["Condition"]["StringEquals"]["kms:ViaService"],
        json!({ "Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}" })
    );
    // Without a key there is no grant at all: the statement sits in the HasKmsKey branch alone.
    let conditional_grant =
        json!({ "Fn::If": ["HasKmsKey", statement, reference("AWS::NoValue")] });
    let policies = template.properties(ROLE)["Policies"].as_array().unwrap();
    let raw_statements: Vec<&Value> = policies
        .iter()
        .flat_map(|policy| as_list(&policy["PolicyDocument"]["Statement"]))
        .collect();
    assert!(
        raw_statements.contains(&&conditional_grant),
        "kms:Decrypt is granted without a key"
    );
    assert_eq!(template.parameter("KmsKeyArn")["Default"], "");
}

#[test]
fn function_sends_only_to_its_failure_queue() {
    let template = Template::load();
    let sends: Vec<&Value> = statements_with_action(&template, "sqs")
        .into_iter()
        .filter(|statement| actions(statement).contains("sqs:SendMessage"))
        .collect();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(actions(sends[0]), ["sqs:SendMessage"].into_iter().collect());
    assert_eq!(sends[0]["Resource"], get_att(QUEUE, "Arn"));
}

#[test]
fn failed_events_go_to_the_failure_queue() {
    let template = Template::load();
    let on_failure =
        &template.properties(FUNCTION)["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"], "SQS");
    assert_eq!(on_failure["Destination"], get_att(QUEUE, "Arn"));
    assert_eq!(template.resource(QUEUE)["Type"], "AWS::SQS::Queue");
}

#[test]
fn notifications_sns_cannot_deliver_go_to_the_failure_queue() {
    let template = Template::load();
    assert_eq!(
        template.properties("TrailSubscription")["RedrivePolicy"]["deadLetterTargetArn"],
        get_att(QUEUE, "Arn")
    );
    let queue_policy = template.properties("FailureQueuePolicy");
    assert_eq!(queue_policy["Queues"], json!([reference(QUEUE)]));
    let sns_statement = as_list(&queue_policy["PolicyDocument"]["Statement"])
        .into_iter()
        .find(|statement| statement["Principal"] == json!({ "Service": "sns.amazonaws.com" }))
        .unwrap();
    assert_eq!(sns_statement["Action"], "sqs:SendMessage");
    let source = if_branches(&sns_statement["Condition"]["ArnEquals"]["aws:SourceArn"]);
    assert_eq!(
        source,
        vec![&reference("TrailTopic"), &reference("ExistingTopicArn")]
    );
}

#[test]
fn retries_and_event_age_are_bounded() {
    let template = Template::load();
    let invoke_config = &template.properties(FUNCTION)["EventInvokeConfig"];
    let (min_retries, max_retries) = template.number_range(&invoke_config["MaximumRetryAttempts"]);
    assert!(
        min_retries >= 0.0 && max_retries <= 2.0,
        "retries {min_retries}..{max_retries}"
    );
    let (min_age, max_age) = template.number_range(&invoke_config["MaximumEventAgeInSeconds"]);
    assert!(
        min_age >= 60.0 && max_age <= 21_600.0,
        "event age {min_age}..{max_age}"
    );
}

#[test]
fn failure_queue_is_encrypted_and_keeps_messages_fourteen_days() {
    let template = Template::load();
    let queue = template.properties(QUEUE);
    let sse_sqs = queue["SqsManagedSseEnabled"] == true;
    let sse_kms = !queue["KmsMasterKeyId"].is_null();
    assert!(sse_sqs || sse_kms, "the failure queue must be encrypted");
    assert_eq!(
        as_number(&queue["MessageRetentionPeriod"]),
        Some(SQS_MAX_RETENTION_SECONDS)
    );
}

#[test]
fn table_keys_match_the_code() {
    let template = Template::load();
    let table = template.properties(TABLE);
    assert_eq!(
        table["KeySchema"],
        json!([
            { "AttributeName": PARTITION_KEY, "KeyType": "HASH" },
            { "AttributeName": SORT_KEY, "KeyType": "RANGE" },
        ])
    );
    assert_eq!(
        table["AttributeDefinitions"],
        json!([
            { "AttributeName": PARTITION_KEY, "AttributeType": "S" },
            { "AttributeName": SORT_KEY, "AttributeType": "S" },
            { "AttributeName": a4b_audit::time_index::DAY_ATTRIBUTE, "AttributeType": "S" },
        ])
    );
}

#[test]
fn table_bills_on_demand() {
    let template = Template::load();
    assert_eq!(template.properties(TABLE)["BillingMode"], "PAY_PER_REQUEST");
}

#[test]
fn table_has_point_in_time_recovery() {
    let template = Template::load();
    let pitr = &template.properties(TABLE)["PointInTimeRecoverySpecification"];
    assert_eq!(pitr["PointInTimeRecoveryEnabled"], true);
}

#[test]
fn table_is_encrypted_at_rest() {
    let template = Template::load();
    assert_eq!(
        template.properties(TABLE)["SSESpecification"]["SSEEnabled"],
        true
    );
}

#[test]
fn table_expires_items_on_expires_at() {
    let template = Template::load();
    let ttl = &template.properties(TABLE)["TimeToLiveSpecification"];
    assert_eq!(
        ttl,
        &json!({ "AttributeName": "expires_at", "Enabled": true })
    );
}

#[test]
fn table_has_deletion_protection() {
    let template = Template::load();
    assert_eq!(
        template.properties(TABLE)["DeletionProtectionEnabled"],
        true
    );
}

#[test]
fn stateful_resources_are_retained_on_delete_and_replace() {
    let template = Template::load();
    for logical_id in [TABLE, QUEUE, "TrailBucket"] {
        let resource = template.resource(logical_id);
        assert_eq!(resource["DeletionPolicy"], "Retain", "{logical_id}");
        assert_eq!(resource["UpdateReplacePolicy"], "Retain", "{logical_id}");
    }
}

#[test]
fn created_log_bucket_is_private_encrypted_tls_only_and_expires_logs() {
    let template = Template::load();
    let bucket = template.properties("TrailBucket");
    let block = &bucket["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting], true, "{setting}");
    }
    let encryption = &bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert!(!encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"].is_null());
    let rules = bucket["LifecycleConfiguration"]["Rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|rule| rule["Status"] == "Enabled" && !rule["ExpirationInDays"].is_null())
    );
    let policy = template.properties("TrailBucketPolicy");
    let statements = as_list(&policy["PolicyDocument"]["Statement"]);
    assert!(
        statements
            .iter()
            .any(|statement| statement["Effect"] == "Deny"
                && statement["Principal"] == "*"
                && statement["Condition"]["Bool"]["aws:SecureTransport"] == "false")
    );
}

#[test]
fn created_log_bucket_and_topic_accept_only_this_trail() {
    let template = Template::load();
    let stack_uuid =
        json!({ "Fn::Select": [2, { "Fn::Split": ["/", reference("AWS::StackId")] }] });
    let trail_arn = json!({ "Fn::Sub": [
        "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/a4b-audit-${StackUuid}",
        { "StackUuid": stack_uuid }
    ]});
    assert_eq!(
        template.properties("Trail")["TrailName"],
        json!({ "Fn::Sub": ["a4b-audit-${StackUuid}", { "StackUuid": stack_uuid }] })
    );
    for policy in ["TrailBucketPolicy", "TrailTopicPolicy"] {
        let statements = as_list(&template.properties(policy)["PolicyDocument"]["Statement"]);
        let service_grants: Vec<&&Value> = statements
            .iter()
            .filter(|statement| statement["Principal"]["Service"] == "cloudtrail.amazonaws.com")
            .collect();
        assert!(!service_grants.is_empty(), "{policy}");
        for grant in service_grants {
            assert_eq!(
                grant["Condition"]["StringEquals"]["aws:SourceArn"], trail_arn,
                "{policy}: {grant}"
            );
        }
    }
}

#[test]
fn created_trail_is_multi_region_and_notifies_the_topic() {
    let template = Template::load();
    let trail = template.properties("Trail");
    assert_eq!(trail["IsMultiRegionTrail"], true);
    assert_eq!(trail["IsLogging"], true);
    assert_eq!(trail["EnableLogFileValidation"], true);
    assert_eq!(trail["S3BucketName"], reference("TrailBucket"));
    assert_eq!(trail["SnsTopicName"], reference("TrailTopic"));
}

#[test]
fn outputs_name_the_table_function_queue_and_topic() {
    let template = Template::load();
    let outputs = &template.root["Outputs"];
    assert_eq!(outputs["TableName"]["Value"], reference(TABLE));
    assert_eq!(outputs["FunctionArn"]["Value"], get_att(FUNCTION, "Arn"));
    assert_eq!(outputs["FailureQueueUrl"]["Value"], reference(QUEUE));
    let topics = if_branches(&outputs["TopicArn"]["Value"]);
    assert_eq!(
        topics,
        vec![&reference("TrailTopic"), &reference("ExistingTopicArn")]
    );
}
