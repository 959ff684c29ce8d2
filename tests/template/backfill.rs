//! The backfill engine (issue 13): a Step Functions Distributed Map, its definition read from the
//! template as the Amazon States Language it is, and its role.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::cfn::{Template, as_list, as_number, get_att, reference};

const STATE_MACHINE: &str = "BackfillStateMachine";
const ROLE: &str = "BackfillStateMachineRole";
const BUCKET: &str = "BackfillBucket";
const CONDITION: &str = "CreateBackfillEngine";

/// The Distributed Map state of the definition.
fn map_state(template: &Template) -> Value {
    let definition = &template.properties(STATE_MACHINE)["Definition"];
    let start = definition["StartAt"].as_str().unwrap();
    let state = definition["States"][start].clone();
    assert_eq!(
        state["Type"], "Map",
        "the state machine starts with its map"
    );
    state
}

/// The task the map's child workflow runs.
fn batch_task(template: &Template) -> Value {
    let processor = map_state(template)["ItemProcessor"].clone();
    let start = processor["StartAt"].as_str().unwrap();
    let task = processor["States"][start].clone();
    assert_eq!(task["Type"], "Task");
    assert_eq!(task["End"], true, "the child workflow is the one task");
    task
}

#[test]
fn backfill_engine_is_off_by_default_and_all_of_it_hangs_on_one_condition() {
    let template = Template::load();
    assert_eq!(template.parameter("BackfillEngine")["Default"], "false");
    for logical_id in [STATE_MACHINE, ROLE, BUCKET, "BackfillBucketPolicy"] {
        assert_eq!(
            template.resource(logical_id)["Condition"],
            CONDITION,
            "{logical_id}"
        );
    }
    for output in ["BackfillStateMachineArn", "BackfillBucketName"] {
        assert_eq!(template.root["Outputs"][output]["Condition"], CONDITION);
    }
}

#[test]
fn state_machine_is_standard_and_named_after_the_stack() {
    let template = Template::load();
    let properties = template.properties(STATE_MACHINE);
    assert_eq!(properties["StateMachineType"], "STANDARD");
    // `backfill --on-aws --stack NAME` finds it by this name.
    assert_eq!(
        properties["StateMachineName"],
        json!({ "Fn::Sub": "${AWS::StackName}-backfill" })
    );
    assert_eq!(properties["RoleArn"], get_att(ROLE, "Arn"));
}

#[test]
fn map_reads_the_csv_manifest_with_its_key_header_from_the_execution_input() {
    let template = Template::load();
    let reader = &map_state(&template)["ItemReader"];
    assert_eq!(reader["Resource"], "arn:aws:states:::s3:getObject");
    assert_eq!(reader["ReaderConfig"]["InputType"], "CSV");
    assert_eq!(reader["ReaderConfig"]["CSVHeaderLocation"], "FIRST_ROW");
    assert_eq!(reader["Parameters"]["Bucket.$"], "$.manifest_bucket");
    assert_eq!(reader["Parameters"]["Key.$"], "$.manifest_key");
}

#[test]
fn map_hands_the_function_batches_with_the_log_bucket() {
    let template = Template::load();
    let batcher = &map_state(&template)["ItemBatcher"];
    assert_eq!(batcher["MaxItemsPerBatchPath"], "$.batch_size");
    // Step Functions' own ceiling for a batch's input: 256 KiB.
    assert_eq!(
        as_number(&batcher["MaxInputBytesPerBatch"]),
        Some(262_144.0)
    );
    assert_eq!(batcher["BatchInput"], json!({ "Bucket.$": "$.log_bucket" }));
    let task = batch_task(&template);
    assert_eq!(task["Resource"], "arn:aws:states:::lambda:invoke");
    assert_eq!(task["Parameters"]["FunctionName"], "${FunctionArn}");
    // The batch ({"Items":[…],"BatchInput":{…}}) is the payload as it is: SPEC 1b.
    assert_eq!(task["Parameters"]["Payload.$"], "$");
    assert_eq!(task["OutputPath"], "$.Payload");
    let substitutions = &template.properties(STATE_MACHINE)["DefinitionSubstitutions"];
    assert_eq!(
        substitutions["FunctionArn"],
        get_att("AuditFunction", "Arn")
    );
}

#[test]
fn map_runs_express_child_workflows_at_the_concurrency_of_the_run() {
    let template = Template::load();
    let map = map_state(&template);
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"],
        json!({ "Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS" })
    );
    assert_eq!(map["MaxConcurrencyPath"], "$.max_concurrency");
}

#[test]
fn batches_are_retried_on_throttling_service_errors_and_transient_failures_with_backoff() {
    let template = Template::load();
    let task = batch_task(&template);
    let retriers = task["Retry"].as_array().unwrap();
    let retried: BTreeSet<&str> = retriers
        .iter()
        .flat_map(|retrier| retrier["ErrorEquals"].as_array().unwrap())
        .map(|error| error.as_str().unwrap())
        .collect();
    for error in [
        "Lambda.TooManyRequestsException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "TransientObjectFailure",
    ] {
        assert!(retried.contains(error), "{error} is not retried");
    }
    assert!(
        !retried.contains("States.ALL"),
        "a permanent failure must not be retried"
    );
    for retrier in retriers {
        assert!(
            as_number(&retrier["BackoffRate"]).unwrap() > 1.0,
            "{retrier}"
        );
        assert!(
            as_number(&retrier["MaxAttempts"]).unwrap() >= 2.0,
            "{retrier}"
        );
        assert!(
            as_number(&retrier["IntervalSeconds"]).unwrap() >= 1.0,
            "{retrier}"
        );
        assert!(
            as_number(&retrier["MaxDelaySeconds"]).is_some(),
            "{retrier}"
        );
        assert_eq!(retrier["JitterStrategy"], "FULL", "{retrier}");
    }
}

#[test]
fn failed_batches_are_tolerated_up_to_a_share_and_results_go_to_the_backfill_bucket() {
    let template = Template::load();
    let map = map_state(&template);
    let tolerated = as_number(&map["ToleratedFailurePercentage"]).unwrap();
    assert!((0.0..100.0).contains(&tolerated) && tolerated > 0.0);
    let writer = &map["ResultWriter"];
    assert_eq!(writer["Resource"], "arn:aws:states:::s3:putObject");
    assert_eq!(writer["Parameters"]["Bucket"], "${ResultsBucket}");
    assert_eq!(writer["Parameters"]["Prefix"], "results");
    let substitutions = &template.properties(STATE_MACHINE)["DefinitionSubstitutions"];
    assert_eq!(substitutions["ResultsBucket"], reference(BUCKET));
}

#[test]
fn state_machine_role_allows_only_what_the_map_does() {
    let template = Template::load();
    let statements = template.role_statements(ROLE);
    let mut granted = BTreeSet::new();
    for statement in &statements {
        assert_eq!(statement["Effect"], "Allow");
        for resource in as_list(&statement["Resource"]) {
            assert_ne!(resource, &json!("*"), "{statement}");
        }
        for action in as_list(&statement["Action"]) {
            granted.insert(action.as_str().unwrap());
        }
    }
    let agreed: BTreeSet<&str> = [
        "lambda:InvokeFunction",
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
        "states:DescribeExecution",
        "states:StartExecution",
        "states:StopExecution",
    ]
    .into_iter()
    .collect();
    assert_eq!(granted, agreed);
    let writes = statements
        .iter()
        .find(|statement| as_list(&statement["Action"]).contains(&&json!("s3:PutObject")))
        .unwrap();
    assert_eq!(
        writes["Resource"],
        json!({ "Fn::Sub": "${BackfillBucket.Arn}/results/*" })
    );
    let role = template.properties(ROLE);
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({ "Service": "states.amazonaws.com" })
    );
}

#[test]
fn backfill_bucket_is_private_encrypted_tls_only_and_expires_what_it_keeps() {
    let template = Template::load();
    let bucket = template.properties(BUCKET);
    assert_eq!(
        bucket["PublicAccessBlockConfiguration"],
        json!({
            "BlockPublicAcls": true,
            "BlockPublicPolicy": true,
            "IgnorePublicAcls": true,
            "RestrictPublicBuckets": true
        })
    );
    assert!(!bucket["BucketEncryption"].is_null());
    assert_eq!(
        bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"],
        reference("BackfillResultsExpirationDays")
    );
    let policy = template.properties("BackfillBucketPolicy");
    let statement = &policy["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
}
