//! template.yaml as JSON, with CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`, …)
//! written out in their long form, so that the tests see one shape whichever form the template uses.

use serde_json::{Map, Value, json};

/// The parsed template and lookups into it. Lookups panic with a message naming what is missing:
/// a missing piece is a failed check.
pub struct Template {
    pub root: Value,
}

impl Template {
    pub fn load() -> Template {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        Template {
            root: to_json(yaml),
        }
    }

    pub fn resource(&self, logical_id: &str) -> &Value {
        let resource = &self.root["Resources"][logical_id];
        assert!(
            resource.is_object(),
            "template.yaml has no resource {logical_id}"
        );
        resource
    }

    pub fn has_resource(&self, logical_id: &str) -> bool {
        self.root["Resources"][logical_id].is_object()
    }

    pub fn properties(&self, logical_id: &str) -> &Value {
        &self.resource(logical_id)["Properties"]
    }

    /// Logical ids of the resources of one type, in template order.
    pub fn resources_of_type(&self, resource_type: &str) -> Vec<&str> {
        let resources = self.root["Resources"].as_object().unwrap();
        resources
            .iter()
            .filter(|(_, resource)| resource["Type"] == resource_type)
            .map(|(logical_id, _)| logical_id.as_str())
            .collect()
    }

    pub fn parameter(&self, name: &str) -> &Value {
        let parameter = &self.root["Parameters"][name];
        assert!(
            parameter.is_object(),
            "template.yaml has no parameter {name}"
        );
        parameter
    }

    /// The range a number setting can take: a literal is its own range, a `Ref` to a parameter
    /// takes the parameter's MinValue/MaxValue (or its AllowedValues).
    pub fn number_range(&self, value: &Value) -> (f64, f64) {
        if let Some(number) = as_number(value) {
            return (number, number);
        }
        let name = value["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{value} is neither a number nor a Ref"));
        let parameter = self.parameter(name);
        if let Some(allowed) = parameter["AllowedValues"].as_array() {
            let numbers: Vec<f64> = allowed.iter().map(|v| as_number(v).unwrap()).collect();
            let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
            let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            return (min, max);
        }
        let min = as_number(&parameter["MinValue"])
            .unwrap_or_else(|| panic!("parameter {name} has no MinValue"));
        let max = as_number(&parameter["MaxValue"])
            .unwrap_or_else(|| panic!("parameter {name} has no MaxValue"));
        (min, max)
    }

    /// Every statement of the role's inline policies; a statement inside `Fn::If` counts with each
    /// of its branches (a conditional grant is still a grant).
    pub fn role_statements(&self, role_id: &str) -> Vec<&Value> {
        let role = self.resource(role_id);
        assert_eq!(
            role["Type"], "AWS::IAM::Role",
            "{role_id} is not an IAM role"
        );
        let policies = role["Properties"]["Policies"].as_array().unwrap();
        let mut statements = Vec::new();
        for policy in policies {
            for statement in as_list(&policy["PolicyDocument"]["Statement"]) {
                statements.extend(if_branches(statement));
            }
        }
        statements
    }
}

/// The values a property can take: both branches of an `Fn::If`, less `AWS::NoValue`.
pub fn if_branches(value: &Value) -> Vec<&Value> {
    match value.get("Fn::If").and_then(Value::as_array) {
        Some(arguments) if arguments.len() == 3 => {
            arguments[1..].iter().flat_map(if_branches).collect()
        }
        _ if value["Ref"] == "AWS::NoValue" => Vec::new(),
        _ => vec![value],
    }
}

/// A value or a list of values, as IAM's `Action` and `Resource` take them.
pub fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(values) => values.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

/// A number written as a number or as numeric text (CloudFormation accepts both).
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

pub fn get_att(logical_id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [logical_id, attribute] })
}

pub fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

fn to_json(yaml: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => {
            if let Some(int) = number.as_i64() {
                json!(int)
            } else if let Some(uint) = number.as_u64() {
                json!(uint)
            } else {
                json!(number.as_f64())
            }
        }
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(values) => Value::Array(values.into_iter().map(to_json).collect()),
        Yaml::Mapping(entries) => {
            let mut object = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(text) => text,
                    other => panic!("template.yaml has a non-string key: {other:?}"),
                };
                object.insert(key, to_json(value));
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = to_json(tagged.value);
            match name {
                "Ref" | "Condition" => json!({ name: value }),
                // `!GetAtt Resource.Attribute` is the short form of `[Resource, Attribute]`.
                "GetAtt" => match value {
                    Value::String(text) => {
                        let (logical_id, attribute) = text.split_once('.').unwrap();
                        json!({ "Fn::GetAtt": [logical_id, attribute] })
                    }
                    list => json!({ "Fn::GetAtt": list }),
                },
                _ => json!({ format!("Fn::{name}"): value }),
            }
        }
    }
}
