//! A deterministic generator of realistic Alexa for Business CloudTrail records.
//!
//! Records are built from the botocore API model (`a4b-service-2.json`): `requestParameters` follow
//! the operation's input shape, `responseElements` its output shape (only for calls that change
//! something, as real trails log `null` for reads), and ARN-valued members get ARNs of the right
//! kind. Each record comes with what a correct auditor must find in it: its user key and the room
//! ARNs it touches. The same `(operation, caller, seed)` always gives the same record.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::{Map, Value, json};

/// The account that owns the generated resources.
pub const ACCOUNT_ID: &str = "123456789012";
/// Another account, for callers from outside.
pub const OTHER_ACCOUNT_ID: &str = "111122223333";
/// Alexa for Business only ever ran in this region.
pub const REGION: &str = "us-east-1";
/// CloudTrail's `eventSource` for Alexa for Business.
pub const EVENT_SOURCE: &str = "a4b.amazonaws.com";

const EVENT_VERSIONS: [&str; 7] = ["1.05", "1.06", "1.07", "1.08", "1.09", "1.10", "1.11"];
/// How deep the generator follows nested shapes; deeper optional members are left out.
const MAX_SHAPE_DEPTH: usize = 6;

/// Why the API model could not be loaded.
#[derive(Debug)]
pub enum ModelError {
    Read(std::io::Error),
    Json(serde_json::Error),
    /// The JSON is no botocore service model: says what is missing.
    Shape(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Read(e) => write!(f, "cannot read the API model: {e}"),
            ModelError::Json(e) => write!(f, "the API model is not valid JSON: {e}"),
            ModelError::Shape(what) => write!(f, "the API model is not a botocore model: {what}"),
        }
    }
}

impl std::error::Error for ModelError {}

/// The operations and shapes of a botocore `service-2.json` model.
#[derive(Debug, Clone)]
pub struct ApiModel {
    operations: BTreeMap<String, Value>,
    shapes: Map<String, Value>,
}

impl ApiModel {
    /// Loads the model from a `service-2.json` file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(ModelError::Read)?;
        Self::from_json(&text)
    }

    /// The model in this repository (`tests/fixtures/reference/a4b-service-2.json`).
    pub fn reference() -> Result<Self, ModelError> {
        Self::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/reference/a4b-service-2.json"),
        )
    }

    /// Parses the model text.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let mut model: Value = serde_json::from_str(text).map_err(ModelError::Json)?;
        let Some(Value::Object(operations)) = model.get_mut("operations").map(Value::take) else {
            return Err(ModelError::Shape("no `operations` object".into()));
        };
        let Some(Value::Object(shapes)) = model.get_mut("shapes").map(Value::take) else {
            return Err(ModelError::Shape("no `shapes` object".into()));
        };
        Ok(ApiModel {
            operations: operations.into_iter().collect(),
            shapes,
        })
    }

    /// The operation names, sorted.
    pub fn operations(&self) -> Vec<String> {
        self.operations.keys().cloned().collect()
    }

    fn shape(&self, name: &str) -> Option<&Value> {
        self.shapes.get(name)
    }

    fn operation_shape(&self, operation: &str, direction: &str) -> Option<&str> {
        self.operations
            .get(operation)?
            .get(direction)?
            .get("shape")?
            .as_str()
    }

    fn operation_errors(&self, operation: &str) -> Vec<&str> {
        self.operations
            .get(operation)
            .and_then(|op| op.get("errors"))
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("shape").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Who made the call: CloudTrail's `userIdentity` types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// `IAMUser` with long-term keys.
    IamUser,
    /// `IAMUser` signed in to the console (has a `sessionContext`).
    ConsoleIamUser,
    /// `AssumedRole` with a `sessionIssuer` (role session).
    AssumedRole,
    /// `AssumedRole` used by a service on the customer's behalf (also has `invokedBy`).
    ServiceAssumedRole,
    /// `Root`, the account's root user.
    Root,
    /// `FederatedUser` from `GetFederationToken`.
    FederatedUser,
    /// `AWSService`: only `invokedBy`.
    AwsService,
    /// `AWSAccount`: another account, `principalId` and `accountId` only.
    AwsAccount,
    /// `WebIdentityUser`: web identity federation, no ARN.
    WebIdentityUser,
    /// `IdentityCenterUser`: IAM Identity Center, no ARN nor principal.
    IdentityCenterUser,
    /// `Unknown`, with empty strings where the identity could not be resolved.
    Unknown,
    /// No `userIdentity` at all.
    NoIdentity,
}

impl Caller {
    /// Every caller kind.
    pub const ALL: [Caller; 12] = [
        Caller::IamUser,
        Caller::ConsoleIamUser,
        Caller::AssumedRole,
        Caller::ServiceAssumedRole,
        Caller::Root,
        Caller::FederatedUser,
        Caller::AwsService,
        Caller::AwsAccount,
        Caller::WebIdentityUser,
        Caller::IdentityCenterUser,
        Caller::Unknown,
        Caller::NoIdentity,
    ];
}

/// A generated record and what an auditor must find in it.
#[derive(Debug, Clone)]
pub struct GeneratedRecord {
    pub record: Value,
    /// The rooms the record touches (in `requestParameters`, `responseElements`, `resources`),
    /// deduplicated. Their order is the generator's, not the record's key order: compare as sets.
    pub room_arns: Vec<String>,
    /// The other Alexa for Business resources the record touches (devices, profiles, skill groups,
    /// users, …; not the ACM PCA certificate authorities), found and ordered as `room_arns`.
    pub resource_arns: Vec<String>,
    /// `userIdentity.arn`, else `invokedBy`, `principalId`, `accountId`; `unknown` if none.
    pub user_key: String,
}

/// A small deterministic generator (splitmix64): no dependency, same stream for the same seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True about once in `n` times.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // Callers pass non-empty constant slices.
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        (0..len)
            .map(|_| DIGITS[self.below(16) as usize] as char)
            .collect()
    }

    pub fn upper_alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize] as char)
            .collect()
    }

    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(4),
            self.hex(4),
            self.hex(12)
        )
    }
}

/// The kinds of Alexa for Business resources and the ARN path segment of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourceKind {
    Room,
    Profile,
    Device,
    SkillGroup,
    User,
    AddressBook,
    Contact,
    ConferenceProvider,
    Gateway,
    GatewayGroup,
    NetworkProfile,
    BusinessReportSchedule,
    Announcement,
    /// A private certificate authority (ACM PCA), not an A4B resource.
    CertificateAuthority,
}

impl ResourceKind {
    fn path(self) -> &'static str {
        match self {
            ResourceKind::Room => "room",
            ResourceKind::Profile => "profile",
            ResourceKind::Device => "device",
            ResourceKind::SkillGroup => "skill-group",
            ResourceKind::User => "user",
            ResourceKind::AddressBook => "address-book",
            ResourceKind::Contact => "contact",
            ResourceKind::ConferenceProvider => "conference-provider",
            ResourceKind::Gateway => "gateway",
            ResourceKind::GatewayGroup => "gateway-group",
            ResourceKind::NetworkProfile => "network-profile",
            ResourceKind::BusinessReportSchedule => "business-report-schedule",
            ResourceKind::Announcement => "announcement",
            ResourceKind::CertificateAuthority => "certificate-authority",
        }
    }

    /// CloudTrail's `resources[].type`.
    fn resource_type(self) -> &'static str {
        match self {
            ResourceKind::Room => "AWS::A4B::Room",
            ResourceKind::Profile => "AWS::A4B::Profile",
            ResourceKind::Device => "AWS::A4B::Device",
            ResourceKind::SkillGroup => "AWS::A4B::SkillGroup",
            ResourceKind::User => "AWS::A4B::User",
            ResourceKind::AddressBook => "AWS::A4B::AddressBook",
            ResourceKind::Contact => "AWS::A4B::Contact",
            ResourceKind::ConferenceProvider => "AWS::A4B::ConferenceProvider",
            ResourceKind::Gateway => "AWS::A4B::Gateway",
            ResourceKind::GatewayGroup => "AWS::A4B::GatewayGroup",
            ResourceKind::NetworkProfile => "AWS::A4B::NetworkProfile",
            ResourceKind::BusinessReportSchedule => "AWS::A4B::BusinessReportSchedule",
            ResourceKind::Announcement => "AWS::A4B::Announcement",
            ResourceKind::CertificateAuthority => "AWS::ACMPCA::CertificateAuthority",
        }
    }

    /// The kind an ARN-valued member names, from the member name (`RoomArn`, `UserArn`, ...).
    fn of_member(member: &str) -> Option<ResourceKind> {
        let kind = match member.strip_suffix("Arn")? {
            "Room" => ResourceKind::Room,
            "Profile" => ResourceKind::Profile,
            "Device" => ResourceKind::Device,
            "SkillGroup" => ResourceKind::SkillGroup,
            "User" => ResourceKind::User,
            "AddressBook" => ResourceKind::AddressBook,
            "Contact" => ResourceKind::Contact,
            "ConferenceProvider" | "DefaultConferenceProvider" => ResourceKind::ConferenceProvider,
            "Gateway" => ResourceKind::Gateway,
            "GatewayGroup" => ResourceKind::GatewayGroup,
            "NetworkProfile" => ResourceKind::NetworkProfile,
            "Schedule" => ResourceKind::BusinessReportSchedule,
            "Announcement" => ResourceKind::Announcement,
            "Certificate" | "CertificateAuthority" => ResourceKind::CertificateAuthority,
            _ => return None,
        };
        Some(kind)
    }
}

/// The ARNs of one record, reused so that a record may name the same resource twice (as real
/// `CreateRoom` events do in `responseElements` and `resources`).
#[derive(Debug, Default)]
struct ArnPool {
    by_kind: Vec<(ResourceKind, Vec<String>)>,
}

impl ArnPool {
    fn arn(&mut self, kind: ResourceKind, rng: &mut Rng) -> String {
        let index = match self.by_kind.iter().position(|(k, _)| *k == kind) {
            Some(index) => index,
            None => {
                self.by_kind.push((kind, Vec::new()));
                self.by_kind.len() - 1
            }
        };
        let arns = &mut self.by_kind[index].1;
        // Two of three times a fresh resource, else one the record already named.
        if arns.is_empty() || !rng.one_in(3) {
            arns.push(new_arn(kind, rng));
        }
        rng.pick(arns).clone()
    }
}

fn new_arn(kind: ResourceKind, rng: &mut Rng) -> String {
    match kind {
        ResourceKind::CertificateAuthority => format!(
            "arn:aws:acm-pca:{REGION}:{ACCOUNT_ID}:certificate-authority/{}",
            rng.uuid()
        ),
        ResourceKind::User => format!(
            "arn:aws:a4b:{REGION}:{ACCOUNT_ID}:user/{}/{}",
            rng.hex(32),
            rng.upper_alnum(12)
        ),
        _ => format!(
            "arn:aws:a4b:{REGION}:{ACCOUNT_ID}:{}/{}/{}",
            kind.path(),
            rng.hex(32),
            rng.hex(32)
        ),
    }
}

/// A room ARN of this generator's account.
pub fn room_arn(seed: u64) -> String {
    new_arn(ResourceKind::Room, &mut Rng::new(seed))
}

/// Builds one record of `operation` made by `caller`. Unknown operations give a record with no
/// parameters (CloudTrail logs what it gets).
pub fn record(model: &ApiModel, operation: &str, caller: Caller, seed: u64) -> GeneratedRecord {
    let mut rng = Rng::new(seed ^ fnv1a(operation.as_bytes()) ^ ((caller as u64) << 56));
    let mut pool = ArnPool::default();
    let mut touched = Touched::default();
    let version_index = rng.below(EVENT_VERSIONS.len() as u64) as usize;
    let event_version = EVENT_VERSIONS[version_index];
    let (user_identity, user_key) = user_identity(caller, &mut rng);
    let is_read = is_read_only(operation);
    let failed = rng.one_in(8);

    let mut generator = ValueGenerator {
        model,
        rng: &mut rng,
        pool: &mut pool,
        touched: &mut touched,
        scalar_arns: Vec::new(),
    };
    let request_parameters = match model.operation_shape(operation, "input") {
        Some(shape) => generator.structure_or_null(shape),
        None => Value::Null,
    };
    let response_elements = match model.operation_shape(operation, "output") {
        // Reads are logged without their response, and failed calls have none.
        Some(shape) if !is_read && !failed => generator.structure_or_null(shape),
        _ => Value::Null,
    };
    let scalar_arns = std::mem::take(&mut generator.scalar_arns);

    let mut record = Map::new();
    record.insert("eventVersion".into(), event_version.into());
    if let Some(identity) = user_identity {
        record.insert("userIdentity".into(), identity);
    }
    record.insert("eventTime".into(), event_time(&mut rng).into());
    record.insert("eventSource".into(), EVENT_SOURCE.into());
    record.insert("eventName".into(), operation.into());
    record.insert("awsRegion".into(), REGION.into());
    let (source_ip, user_agent) = source_and_agent(caller, operation, &mut rng);
    record.insert("sourceIPAddress".into(), source_ip.into());
    record.insert("userAgent".into(), user_agent.into());
    if failed {
        let errors = model.operation_errors(operation);
        let code = if errors.is_empty() || rng.one_in(4) {
            "AccessDenied"
        } else {
            *rng.pick(&errors)
        };
        record.insert("errorCode".into(), code.into());
        // A room named only in the message must not count as touched.
        let message = if code == "AccessDenied" {
            format!(
                "User is not authorized to perform: a4b:{operation} on resource: {}",
                room_arn(rng.next_u64())
            )
        } else {
            format!(
                "The resource {} could not be processed ({code})",
                room_arn(rng.next_u64())
            )
        };
        record.insert("errorMessage".into(), message.into());
    }
    record.insert("requestParameters".into(), request_parameters);
    record.insert("responseElements".into(), response_elements);
    record.insert("requestID".into(), rng.uuid().into());
    record.insert("eventID".into(), rng.uuid().into());
    match rng.below(4) {
        0 => {
            record.insert("readOnly".into(), is_read.into());
        }
        1 => {
            record.insert("readOnly".into(), is_read.to_string().into());
        }
        // Older trails leave it out.
        2 if version_index < 2 => {}
        _ => {
            record.insert("readOnly".into(), is_read.into());
        }
    }
    if !scalar_arns.is_empty() && rng.below(3) != 0 {
        let resources: Vec<Value> = scalar_arns
            .into_iter()
            .map(|(kind, arn)| {
                touched.note(kind, &arn);
                json!({"accountId": ACCOUNT_ID, "type": kind.resource_type(), "ARN": arn})
            })
            .collect();
        record.insert("resources".into(), Value::Array(resources));
    } else if rng.one_in(4) {
        record.insert("resources".into(), Value::Array(Vec::new()));
    }
    record.insert("eventType".into(), "AwsApiCall".into());
    if version_index >= 1 {
        record.insert("managementEvent".into(), true.into());
    }
    if !rng.one_in(5) {
        record.insert("recipientAccountId".into(), ACCOUNT_ID.into());
    }
    if version_index >= 2 {
        record.insert("eventCategory".into(), "Management".into());
    }
    if version_index >= 3 && caller != Caller::AwsService {
        record.insert(
            "tlsDetails".into(),
            json!({
                "tlsVersion": "TLSv1.2",
                "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256",
                "clientProvidedHostHeader": format!("a4b.{REGION}.amazonaws.com"),
            }),
        );
    }
    if caller == Caller::ConsoleIamUser && version_index >= 3 {
        record.insert("sessionCredentialFromConsole".into(), "true".into());
    }

    GeneratedRecord {
        record: Value::Object(record),
        room_arns: touched.rooms,
        resource_arns: touched.resources,
        user_key,
    }
}

/// A record of another service (S3, EC2, STS, IAM), which an A4B auditor must ignore. Some name
/// strings that look like A4B rooms, to show that the event source decides, not the content.
pub fn other_service_record(seed: u64) -> Value {
    let mut rng = Rng::new(seed ^ 0x07E4_5E41_11CE);
    let (user_identity, _) = user_identity(Caller::AssumedRole, &mut rng);
    let (source, name, request) = match rng.below(4) {
        0 => (
            "s3.amazonaws.com",
            "GetObject",
            json!({"bucketName": "audit-exports", "key": room_arn(rng.next_u64()), "Host": "audit-exports.s3.amazonaws.com"}),
        ),
        1 => (
            "ec2.amazonaws.com",
            "DescribeInstances",
            json!({"instancesSet": {"items": [{"instanceId": format!("i-{}", rng.hex(17))}]}, "filterSet": {}}),
        ),
        2 => (
            "sts.amazonaws.com",
            "AssumeRole",
            json!({"roleArn": format!("arn:aws:iam::{ACCOUNT_ID}:role/A4BAdmin"), "roleSessionName": "a4b-admin", "durationSeconds": 3600}),
        ),
        _ => (
            "iam.amazonaws.com",
            "GetRole",
            json!({"roleName": "AWSServiceRoleForAlexaForBusiness"}),
        ),
    };
    let mut record = json!({
        "eventVersion": "1.08",
        "eventTime": event_time(&mut rng),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.13.5 Python/3.11.4 Linux/6.1 exe/x86_64.amzn.2023",
        "requestParameters": request,
        "responseElements": null,
        "requestID": rng.uuid(),
        "eventID": rng.uuid(),
        "readOnly": name != "AssumeRole",
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT_ID,
        "eventCategory": "Management",
    });
    if let (Some(identity), Value::Object(fields)) = (user_identity, &mut record) {
        fields.insert("userIdentity".into(), identity);
    }
    record
}

/// Reads, as CloudTrail flags them (`readOnly`): their responses are not logged.
fn is_read_only(operation: &str) -> bool {
    ["Get", "List", "Search", "Describe", "Resolve"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
}

struct ValueGenerator<'a> {
    model: &'a ApiModel,
    rng: &'a mut Rng,
    pool: &'a mut ArnPool,
    touched: &'a mut Touched,
    /// ARNs of top-level members, candidates for `resources`.
    scalar_arns: Vec<(ResourceKind, String)>,
}

impl ValueGenerator<'_> {
    /// A top-level structure; `null` when the shape has no members (CloudTrail logs nothing).
    fn structure_or_null(&mut self, shape_name: &str) -> Value {
        match self.value(shape_name, None, 0) {
            Value::Object(fields) if !fields.is_empty() => Value::Object(fields),
            _ => Value::Null,
        }
    }

    fn value(&mut self, shape_name: &str, member: Option<&str>, depth: usize) -> Value {
        let Some(shape) = self.model.shape(shape_name) else {
            return Value::Null;
        };
        if shape.get("sensitive").and_then(Value::as_bool) == Some(true) {
            return "HIDDEN_DUE_TO_SECURITY_REASONS".into();
        }
        match shape.get("type").and_then(Value::as_str).unwrap_or("") {
            "structure" => self.structure(shape, depth),
            "list" => {
                let element = shape
                    .get("member")
                    .and_then(|m| m.get("shape"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let count = if depth >= MAX_SHAPE_DEPTH {
                    0
                } else {
                    1 + self.rng.below(3)
                };
                // List elements are named like the list (`RoomArns` holds room ARNs).
                let element_member = member.map(|m| m.strip_suffix('s').unwrap_or(m));
                Value::Array(
                    (0..count)
                        .map(|_| self.value(element, element_member, depth + 1))
                        .collect(),
                )
            }
            "map" => {
                let value_shape = shape
                    .get("value")
                    .and_then(|m| m.get("shape"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let mut map = Map::new();
                for _ in 0..1 + self.rng.below(2) {
                    let key = format!("key-{}", self.rng.hex(4));
                    let value = self.value(value_shape, None, depth + 1);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            "boolean" => self.rng.one_in(2).into(),
            "integer" => (1 + self.rng.below(50)).into(),
            // Longs may exceed 2^53; JSON parsers that go through f64 lose them.
            "long" => {
                if self.rng.one_in(4) {
                    (9_007_199_254_740_993u64 + self.rng.below(1000)).into()
                } else {
                    (1 + self.rng.below(10_000)).into()
                }
            }
            // JSON-protocol services log timestamps as float epoch seconds.
            "timestamp" => {
                let seconds = 1_510_000_000.0 + self.rng.below(100_000_000) as f64;
                json!(seconds + 0.5)
            }
            _ => self.string(shape_name, shape, member, depth),
        }
    }

    fn structure(&mut self, shape: &Value, depth: usize) -> Value {
        let required: Vec<&str> = shape
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = Map::new();
        let Some(members) = shape.get("members").and_then(Value::as_object) else {
            return Value::Object(fields);
        };
        for (name, member) in members {
            let is_required = required.contains(&name.as_str());
            let is_arn = name.ends_with("Arn") || name == "Arn";
            // ARNs are what the audit is about: keep them more often than other optional members.
            let keep = is_required
                || (depth < MAX_SHAPE_DEPTH
                    && if is_arn {
                        !self.rng.one_in(4)
                    } else {
                        self.rng.below(5) < 3
                    });
            if !keep {
                continue;
            }
            let member_shape = member.get("shape").and_then(Value::as_str).unwrap_or("");
            let value = self.value(member_shape, Some(name), depth + 1);
            if depth == 0
                && is_arn
                && let Value::String(arn) = &value
                && let Some(kind) = self.arn_kind(name, arn)
            {
                self.scalar_arns.push((kind, arn.clone()));
            }
            fields.insert(lower_camel(name), value);
        }
        Value::Object(fields)
    }

    fn arn_kind(&self, member: &str, arn: &str) -> Option<ResourceKind> {
        ResourceKind::of_member(member).or_else(|| {
            let path = arn.split(':').nth(5)?.split('/').next()?;
            [
                ResourceKind::Room,
                ResourceKind::Device,
                ResourceKind::SkillGroup,
                ResourceKind::Profile,
            ]
            .into_iter()
            .find(|kind| kind.path() == path)
        })
    }

    fn string(
        &mut self,
        shape_name: &str,
        shape: &Value,
        member: Option<&str>,
        depth: usize,
    ) -> Value {
        if let Some(values) = shape.get("enum").and_then(Value::as_array)
            && !values.is_empty()
        {
            return self.rng.pick(values).clone();
        }
        let member = member.unwrap_or("");
        if shape_name == "Arn" || member.ends_with("Arn") {
            let kind = ResourceKind::of_member(member).unwrap_or_else(|| {
                // A generic `Arn` (TagResource, ListTags): rooms, devices, skill groups, profiles.
                *self.rng.pick(&[
                    ResourceKind::Room,
                    ResourceKind::Device,
                    ResourceKind::SkillGroup,
                    ResourceKind::Profile,
                ])
            });
            let arn = self.pool.arn(kind, self.rng);
            self.touched.note(kind, &arn);
            return arn.into();
        }
        let text = match shape_name {
            "Email" => format!("user{}@example.com", self.rng.below(1000)),
            "ClientRequestToken" | "NextToken" => self.rng.hex(32),
            "SkillId" => format!("amzn1.ask.skill.{}", self.rng.uuid()),
            "UserId" => format!("amzn1.account.{}", self.rng.upper_alnum(28)),
            "user_UserId" => format!("user{}", self.rng.below(1000)),
            "DeviceSerialNumber" | "DeviceSerialNumberForAVS" => self.rng.upper_alnum(16),
            "CountryCode" => "1".into(),
            "OutboundPhoneNumber" => format!("206555{:04}", self.rng.below(10_000)),
            "Date" => format!("2019-0{}-1{}", 1 + self.rng.below(9), self.rng.below(10)),
            "AmazonId" => self.rng.upper_alnum(14),
            "ProductId" => format!("product_{}", self.rng.hex(6)),
            "CustomerS3BucketName" => "a4b-business-reports".into(),
            "S3KeyPrefix" => "reports/".into(),
            "AudioLocation" => format!(
                "https://a4b-audio.s3.amazonaws.com/announcements/{}.mp3",
                self.rng.hex(8)
            ),
            _ => self.text(member, depth),
        };
        text.into()
    }

    /// Free text (names, descriptions): sometimes Unicode, sometimes text that looks like a room
    /// ARN without being one (an auditor must not take it for a room).
    fn text(&mut self, member: &str, _depth: usize) -> String {
        let label = if member.is_empty() { "value" } else { member };
        match self.rng.below(8) {
            0 => format!("Salle de réunion {} – 東京 🎧", self.rng.below(100)),
            1 => format!("moved from {}", new_arn(ResourceKind::Room, self.rng)),
            2 => format!("arn:aws:a4b:{REGION}:{ACCOUNT_ID}:room/"),
            3 => format!("Quote \"{}\"\\ and\nnew line", self.rng.below(100)),
            _ => format!("{label}-{}", self.rng.hex(6)),
        }
    }
}

/// The A4B rooms and other resources a record names, each once.
#[derive(Debug, Default)]
struct Touched {
    rooms: Vec<String>,
    resources: Vec<String>,
}

impl Touched {
    fn note(&mut self, kind: ResourceKind, arn: &str) {
        let list = match kind {
            ResourceKind::Room => &mut self.rooms,
            // Not an A4B ARN (`arn:aws:acm-pca:…`).
            ResourceKind::CertificateAuthority => return,
            _ => &mut self.resources,
        };
        if !list.iter().any(|known| known == arn) {
            list.push(arn.to_owned());
        }
    }
}

/// `RoomArn` -> `roomArn`, as CloudTrail logs member names.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

fn event_time(rng: &mut Rng) -> String {
    format!(
        "20{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        18 + rng.below(6),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn source_and_agent(caller: Caller, operation: &str, rng: &mut Rng) -> (String, String) {
    if matches!(caller, Caller::AwsService | Caller::ServiceAssumedRole) {
        return (
            "cloudformation.amazonaws.com".into(),
            "cloudformation.amazonaws.com".into(),
        );
    }
    let ip = match rng.below(4) {
        0 => format!("2001:db8:{}::{}", rng.hex(4), rng.hex(2)),
        1 => "AWS Internal".into(),
        _ => format!("203.0.113.{}", rng.below(255)),
    };
    let agent = match rng.below(4) {
        0 => format!(
            "aws-cli/2.13.5 Python/3.11.4 Linux/6.1.0 exe/x86_64.amzn.2023 prompt/off command/alexaforbusiness.{}",
            kebab(operation)
        ),
        1 => "console.amazonaws.com".into(),
        2 => {
            "aws-sdk-java/1.11.226 Linux/4.9.62 OpenJDK_64-Bit_Server_VM/25.141-b16 java/1.8.0_141"
                .into()
        }
        _ => "Boto3/1.26.0 Python/3.9.16 Linux/5.10 Botocore/1.29.0".into(),
    };
    (ip, agent)
}

fn kebab(operation: &str) -> String {
    let mut out = String::with_capacity(operation.len() + 4);
    for (i, c) in operation.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The `userIdentity` of a caller (None: no element) and the user key it gives.
fn user_identity(caller: Caller, rng: &mut Rng) -> (Option<Value>, String) {
    let creation_date = event_time(rng);
    let names = ["Alice", "Bob", "Chidi", "Dagný", "Emeka", "Françoise"];
    let user = *rng.pick(&names);
    let role = *rng.pick(&["A4BAdmin", "RoomManager", "Admin"]);
    let session = format!("{}-session", user.to_lowercase());
    let key_id = |rng: &mut Rng, prefix: &str| format!("{prefix}{}", rng.upper_alnum(16));
    let user_arn = format!("arn:aws:iam::{ACCOUNT_ID}:user/{user}");
    let role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/{role}");
    let role_id = key_id(rng, "AROA");
    let user_id = key_id(rng, "AIDA");
    let attributes = json!({"creationDate": creation_date, "mfaAuthenticated": "false"});
    let identity = match caller {
        Caller::IamUser => json!({
            "type": "IAMUser", "principalId": user_id, "arn": user_arn,
            "accountId": ACCOUNT_ID, "accessKeyId": key_id(rng, "AKIA"), "userName": user,
        }),
        Caller::ConsoleIamUser => json!({
            "type": "IAMUser", "principalId": user_id, "arn": user_arn,
            "accountId": ACCOUNT_ID, "accessKeyId": key_id(rng, "ASIA"), "userName": user,
            "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {}, "attributes": attributes},
        }),
        Caller::AssumedRole | Caller::ServiceAssumedRole => {
            let mut identity = json!({
                "type": "AssumedRole",
                "principalId": format!("{role_id}:{session}"),
                "arn": format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/{session}"),
                "accountId": ACCOUNT_ID,
                "accessKeyId": key_id(rng, "ASIA"),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role", "principalId": role_id, "arn": role_arn,
                        "accountId": ACCOUNT_ID, "userName": role,
                    },
                    "webIdFederationData": {},
                    "attributes": attributes,
                },
            });
            if caller == Caller::ServiceAssumedRole
                && let Value::Object(fields) = &mut identity
            {
                fields.insert("invokedBy".into(), "cloudformation.amazonaws.com".into());
            }
            identity
        }
        Caller::Root => json!({
            "type": "Root", "principalId": ACCOUNT_ID,
            "arn": format!("arn:aws:iam::{ACCOUNT_ID}:root"),
            "accountId": ACCOUNT_ID, "accessKeyId": key_id(rng, "ASIA"),
            "sessionContext": {"attributes": attributes},
        }),
        Caller::FederatedUser => json!({
            "type": "FederatedUser",
            "principalId": format!("{ACCOUNT_ID}:{user}"),
            "arn": format!("arn:aws:sts::{ACCOUNT_ID}:federated-user/{user}"),
            "accountId": ACCOUNT_ID,
            "accessKeyId": key_id(rng, "ASIA"),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "IAMUser", "principalId": user_id, "arn": user_arn,
                    "accountId": ACCOUNT_ID, "userName": user,
                },
                "attributes": attributes,
            },
        }),
        Caller::AwsService => json!({
            "type": "AWSService", "invokedBy": "cloudformation.amazonaws.com",
        }),
        Caller::AwsAccount => json!({
            "type": "AWSAccount", "principalId": key_id(rng, "AIDA"), "accountId": OTHER_ACCOUNT_ID,
        }),
        Caller::WebIdentityUser => json!({
            "type": "WebIdentityUser",
            "principalId": format!("cognito-identity.amazonaws.com:{REGION}:{}:{}", rng.uuid(), rng.uuid()),
            "userName": format!("{REGION}:{}", rng.uuid()),
            "identityProvider": "cognito-identity.amazonaws.com",
        }),
        Caller::IdentityCenterUser => json!({
            "type": "IdentityCenterUser", "accountId": ACCOUNT_ID,
            "onBehalfOf": {
                "userId": rng.uuid(),
                "identityStoreArn": format!("arn:aws:identitystore::{ACCOUNT_ID}:identitystore/d-{}", rng.hex(10)),
            },
            "credentialId": rng.uuid(),
        }),
        // Unresolved identities carry empty strings, which never make a user key.
        Caller::Unknown => json!({
            "type": "Unknown", "principalId": "", "arn": "", "accountId": ACCOUNT_ID, "accessKeyId": "",
        }),
        Caller::NoIdentity => return (None, "unknown".into()),
    };
    let user_key = ["arn", "invokedBy", "principalId", "accountId"]
        .iter()
        .filter_map(|field| identity.get(field).and_then(Value::as_str))
        .find(|value| !value.is_empty())
        .unwrap_or("unknown")
        .to_owned();
    (Some(identity), user_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ApiModel {
        ApiModel::reference().unwrap()
    }

    #[test]
    fn the_reference_model_has_93_operations() {
        assert_eq!(model().operations().len(), 93);
    }

    #[test]
    fn the_same_seed_gives_the_same_record() {
        let model = model();
        let a = record(&model, "CreateRoom", Caller::AssumedRole, 7);
        let b = record(&model, "CreateRoom", Caller::AssumedRole, 7);
        let c = record(&model, "CreateRoom", Caller::AssumedRole, 8);
        assert_eq!(a.record, b.record);
        assert_ne!(a.record, c.record);
    }

    #[test]
    fn member_names_are_lower_camel_case_and_room_arns_are_expected() {
        let model = model();
        let generated = (0..50)
            .map(|seed| record(&model, "UpdateRoom", Caller::IamUser, seed))
            .find(|g| g.record["requestParameters"].get("roomArn").is_some())
            .unwrap();
        let arn = generated.record["requestParameters"]["roomArn"]
            .as_str()
            .unwrap();
        assert!(arn.starts_with("arn:aws:a4b:us-east-1:123456789012:room/"));
        assert_eq!(
            arn.len(),
            "arn:aws:a4b:us-east-1:123456789012:room/".len() + 65
        );
        assert!(generated.room_arns.contains(&arn.to_owned()));
    }

    #[test]
    fn reads_log_no_response() {
        let model = model();
        for seed in 0..20 {
            let generated = record(&model, "GetRoom", Caller::Root, seed);
            assert!(generated.record["responseElements"].is_null());
        }
    }

    #[test]
    fn create_room_responses_name_the_new_room() {
        let model = model();
        let found = (0..50)
            .map(|seed| record(&model, "CreateRoom", Caller::IamUser, seed))
            .any(|g| {
                g.record["responseElements"]["roomArn"]
                    .as_str()
                    .is_some_and(|arn| g.room_arns.iter().any(|room| room == arn))
            });
        assert!(found);
    }

    #[test]
    fn user_keys_follow_the_identity_fields_in_order() {
        let model = model();
        let key = |caller| record(&model, "GetRoom", caller, 1).user_key;
        assert!(key(Caller::IamUser).starts_with("arn:aws:iam::123456789012:user/"));
        assert_eq!(key(Caller::AwsService), "cloudformation.amazonaws.com");
        assert!(key(Caller::ServiceAssumedRole).starts_with("arn:aws:sts::"));
        assert!(key(Caller::AwsAccount).starts_with("AIDA"));
        assert_eq!(key(Caller::IdentityCenterUser), ACCOUNT_ID);
        assert_eq!(key(Caller::Unknown), ACCOUNT_ID);
        assert_eq!(key(Caller::NoIdentity), "unknown");
    }

    #[test]
    fn every_operation_and_caller_gives_an_a4b_record() {
        let model = model();
        for operation in model.operations() {
            for caller in Caller::ALL {
                let generated = record(&model, &operation, caller, 3);
                assert_eq!(generated.record["eventSource"], EVENT_SOURCE);
                assert_eq!(generated.record["eventName"], operation.as_str());
                assert!(generated.record["eventID"].is_string());
            }
        }
    }

    #[test]
    fn other_services_are_not_a4b() {
        for seed in 0..8 {
            assert_ne!(other_service_record(seed)["eventSource"], EVENT_SOURCE);
        }
    }
}
