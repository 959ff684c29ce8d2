//! The smaller operational points of issue 17: listing the log prefix on request, KMS through S3 in
//! every partition.

use serde_json::{Value, json};

use crate::cfn::{Stack, Template, as_list, reference};

const ROLE: &str = "FunctionRole";

fn list_statements(template: &Template) -> Vec<&Value> {
    template
        .role_statements(ROLE)
        .into_iter()
        .filter(|statement| as_list(&statement["Action"]).contains(&&json!("s3:ListBucket")))
        .collect()
}

#[test]
fn function_may_list_the_log_prefix_only_when_asked() {
    let template = Template::load();
    assert_eq!(template.parameter("AllowListLogPrefix")["Default"], "false");
    let statements = list_statements(&template);
    assert_eq!(statements.len(), 1, "{statements:?}");
    let policies = template.resources_of_type("AWS::IAM::RolePolicy");
    let policy = policies
        .iter()
        .find(|id| {
            template.properties(id)["PolicyDocument"]
                .to_string()
                .contains("s3:ListBucket")
        })
        .unwrap();
    assert_eq!(template.resource(policy)["Condition"], "AllowsListing");
    assert!(!template.condition_holds("AllowsListing", &Stack::new(&[])));
    assert!(template.condition_holds(
        "AllowsListing",
        &Stack::new(&[("AllowListLogPrefix", "true")])
    ));
}

#[test]
fn function_lists_only_under_the_prefix_it_may_read() {
    let template = Template::load();
    let statement = list_statements(&template)[0];
    for (prefix, listed) in [("", "AWSLogs/*"), ("org/trail", "org/trail/AWSLogs/*")] {
        let stack = Stack::new(&[
            ("LogBucketName", "org-trail-logs"),
            ("LogKeyPrefix", prefix),
        ]);
        assert_eq!(
            template.evaluate(&statement["Resource"], &stack),
            json!("arn:aws:s3:::org-trail-logs")
        );
        assert_eq!(
            template.evaluate(&statement["Condition"]["StringLike"]["s3:prefix"], &stack),
            json!(listed)
        );
    }
}

#[test]
fn kms_is_used_through_s3_in_the_stacks_region_in_any_partition() {
    let template = Template::load();
    let statement = template
        .role_statements(ROLE)
        .into_iter()
        .find(|statement| statement["Action"] == "kms:Decrypt")
        .unwrap();
    assert_eq!(
        statement["Condition"]["StringEquals"]["kms:ViaService"],
        json!({ "Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}" })
    );
    assert_eq!(statement["Resource"], reference("KmsKeyArn"));
}
