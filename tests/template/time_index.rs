//! The time index (SPEC section 7): declared as the CLI reads it, and the function still reads
//! nothing.

use a4b_audit::item::SORT_KEY;
use a4b_audit::time_index::{DAY_ATTRIBUTE, PROJECTED_ATTRIBUTES, TIME_INDEX};
use serde_json::json;

use super::cfn::{Template, as_list};
use super::{ROLE, TABLE};

#[test]
fn the_time_index_is_day_then_sort_key_as_the_cli_queries_it() {
    let template = Template::load();
    let indexes = as_list(&template.properties(TABLE)["GlobalSecondaryIndexes"]);
    let index = indexes
        .iter()
        .find(|index| index["IndexName"] == TIME_INDEX)
        .unwrap_or_else(|| panic!("no {TIME_INDEX} in {indexes:?}"));
    assert_eq!(
        index["KeySchema"],
        json!([
            { "AttributeName": DAY_ATTRIBUTE, "KeyType": "HASH" },
            { "AttributeName": SORT_KEY, "KeyType": "RANGE" },
        ])
    );
}

#[test]
fn the_time_index_holds_what_query_prints_but_not_the_record() {
    let template = Template::load();
    let indexes = as_list(&template.properties(TABLE)["GlobalSecondaryIndexes"]);
    let projection = &indexes[0]["Projection"];
    assert_eq!(projection["ProjectionType"], "INCLUDE");
    assert_eq!(projection["NonKeyAttributes"], json!(PROJECTED_ATTRIBUTES));
    assert!(!PROJECTED_ATTRIBUTES.contains(&"record"));
}

#[test]
fn the_function_may_not_read_the_table_or_its_index() {
    let template = Template::load();
    for statement in template.role_statements(ROLE) {
        for action in as_list(&statement["Action"]) {
            let action = action.as_str().unwrap();
            assert!(
                !matches!(
                    action,
                    "dynamodb:Query"
                        | "dynamodb:Scan"
                        | "dynamodb:GetItem"
                        | "dynamodb:BatchGetItem"
                ) && !action.ends_with('*'),
                "the function's role reads: {action}"
            );
        }
    }
}
