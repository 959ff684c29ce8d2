//! template.yaml as JSON, with CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`, …)
//! written out in their long form, so that the tests see one shape whichever form the template uses.

use std::collections::BTreeMap;

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

    /// Every statement of the role's inline policies and of the `AWS::IAM::RolePolicy` resources
    /// attached to it; a statement inside `Fn::If`, or in a policy resource with a `Condition`, counts
    /// with each of its branches (a conditional grant is still a grant).
    pub fn role_statements(&self, role_id: &str) -> Vec<&Value> {
        let role = self.resource(role_id);
        assert_eq!(
            role["Type"], "AWS::IAM::Role",
            "{role_id} is not an IAM role"
        );
        let mut documents: Vec<&Value> = role["Properties"]["Policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|policy| &policy["PolicyDocument"])
            .collect();
        for policy_id in self.resources_of_type("AWS::IAM::RolePolicy") {
            let policy = self.properties(policy_id);
            if policy["RoleName"] == reference(role_id) {
                documents.push(&policy["PolicyDocument"]);
            }
        }
        let mut statements = Vec::new();
        for document in documents {
            for statement in as_list(&document["Statement"]) {
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

/// One deployment of the template: its parameter values (the others take their defaults) and the
/// pseudo parameters CloudFormation gives it. [`Template::evaluate`] resolves values with it.
pub struct Stack {
    pub parameters: BTreeMap<String, String>,
    pub stack_name: String,
}

/// A stack id as CloudFormation makes it: `arn:…:stack/<name>/<uuid>`.
const STACK_UUID: &str = "1c2fa620-982a-11e3-aff7-50e2416294e0";

impl Stack {
    pub fn new(parameters: &[(&str, &str)]) -> Stack {
        Stack {
            parameters: parameters
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            stack_name: "a4b-audit".to_owned(),
        }
    }

    pub fn named(mut self, stack_name: &str) -> Stack {
        self.stack_name = stack_name.to_owned();
        self
    }

    fn pseudo(&self, name: &str) -> Option<String> {
        let value = match name {
            "AWS::Partition" => "aws".to_owned(),
            "AWS::Region" => "us-east-1".to_owned(),
            "AWS::AccountId" => "123456789012".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/{STACK_UUID}",
                self.stack_name
            ),
            _ => return None,
        };
        Some(value)
    }
}

impl Template {
    /// The value a parameter takes in `stack`: given there, else its default.
    pub fn parameter_value(&self, name: &str, stack: &Stack) -> String {
        if let Some(value) = stack.parameters.get(name) {
            return value.clone();
        }
        match &self.parameter(name)["Default"] {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            other => panic!("parameter {name} has no usable default: {other}"),
        }
    }

    /// Whether a condition of the template holds in `stack`.
    pub fn condition_holds(&self, name: &str, stack: &Stack) -> bool {
        let condition = &self.root["Conditions"][name];
        assert!(
            !condition.is_null(),
            "template.yaml has no condition {name}"
        );
        self.truth(condition, stack)
    }

    fn truth(&self, value: &Value, stack: &Stack) -> bool {
        let (function, arguments) = single_entry(value);
        let arguments = arguments.as_array();
        let argument = |index: usize| &arguments.unwrap()[index];
        match function {
            "Fn::Equals" => self.evaluate(argument(0), stack) == self.evaluate(argument(1), stack),
            "Fn::Not" => !self.truth(argument(0), stack),
            "Fn::And" => arguments.unwrap().iter().all(|a| self.truth(a, stack)),
            "Fn::Or" => arguments.unwrap().iter().any(|a| self.truth(a, stack)),
            "Condition" => self.condition_holds(value["Condition"].as_str().unwrap(), stack),
            other => panic!("not a condition function: {other}"),
        }
    }

    /// `value` as CloudFormation resolves it in `stack`: parameters, pseudo parameters, `Fn::Sub`,
    /// `Fn::Select`, `Fn::Split`, `Fn::Join` and `Fn::If`. Parameter values are text, as
    /// CloudFormation hands them to intrinsic functions. A reference to a resource panics: its value
    /// is known only once deployed.
    pub fn evaluate(&self, value: &Value, stack: &Stack) -> Value {
        let Value::Object(object) = value else {
            return match value {
                Value::Array(items) => items.iter().map(|v| self.evaluate(v, stack)).collect(),
                Value::Number(number) => Value::String(number.to_string()),
                other => other.clone(),
            };
        };
        if object.len() != 1 {
            let evaluated = object
                .iter()
                .map(|(key, v)| (key.clone(), self.evaluate(v, stack)))
                .collect();
            return Value::Object(evaluated);
        }
        let (function, arguments) = single_entry(value);
        match function {
            "Ref" if arguments == "AWS::NoValue" => Value::Null,
            "Ref" => Value::String(self.reference_value(arguments.as_str().unwrap(), stack)),
            "Fn::Sub" => {
                let (text, variables) = match arguments {
                    Value::String(text) => (text.as_str(), None),
                    Value::Array(pair) => (pair[0].as_str().unwrap(), Some(&pair[1])),
                    other => panic!("Fn::Sub of {other}"),
                };
                Value::String(self.substitute(text, variables, stack))
            }
            "Fn::Select" => {
                let index: usize = text_of(&self.evaluate(&arguments[0], stack))
                    .parse()
                    .unwrap();
                let list = self.evaluate(&arguments[1], stack);
                list[index].clone()
            }
            "Fn::Split" => {
                let separator = arguments[0].as_str().unwrap();
                let text = text_of(&self.evaluate(&arguments[1], stack));
                text.split(separator).map(Value::from).collect()
            }
            "Fn::Join" => {
                let separator = arguments[0].as_str().unwrap();
                let parts = self.evaluate(&arguments[1], stack);
                let parts: Vec<String> = parts.as_array().unwrap().iter().map(text_of).collect();
                Value::String(parts.join(separator))
            }
            "Fn::If" => {
                let condition = arguments[0].as_str().unwrap();
                let branch = if self.condition_holds(condition, stack) {
                    1
                } else {
                    2
                };
                self.evaluate(&arguments[branch], stack)
            }
            _ => {
                let evaluated = object
                    .iter()
                    .map(|(key, v)| (key.clone(), self.evaluate(v, stack)))
                    .collect();
                Value::Object(evaluated)
            }
        }
    }

    fn reference_value(&self, name: &str, stack: &Stack) -> String {
        if let Some(value) = stack.pseudo(name) {
            return value;
        }
        assert!(
            !self.has_resource(name),
            "{name} is a resource: its value is known only once deployed"
        );
        self.parameter_value(name, stack)
    }

    fn substitute(&self, text: &str, variables: Option<&Value>, stack: &Stack) -> String {
        let mut result = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            result.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let name = &rest[start + 2..end];
            let value = match variables.map(|variables| &variables[name]) {
                Some(value) if !value.is_null() => text_of(&self.evaluate(value, stack)),
                _ => self.reference_value(name, stack),
            };
            result.push_str(&value);
            rest = &rest[end + 1..];
        }
        result.push_str(rest);
        result
    }
}

fn single_entry(value: &Value) -> (&str, &Value) {
    let object = value.as_object().unwrap();
    assert_eq!(object.len(), 1, "not an intrinsic function: {value}");
    let (name, arguments) = object.iter().next().unwrap();
    (name.as_str(), arguments)
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
