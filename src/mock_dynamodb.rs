//! A DynamoDB client answered by aws-smithy-mocks rules, for unit tests.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client};

/// The region of [`mocked_client`].
pub const REGION: &str = "eu-west-1";

/// A client whose calls are answered by `rules` in order, with the SDK's retries off as in the
/// Lambda (the crate's own loops are the only retry layer).
pub fn mocked_client(rules: &[&Rule]) -> Client {
    let interceptor = rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::Sequential),
        |interceptor, rule| interceptor.with_rule(rule),
    );
    client_with(interceptor)
}

/// A client whose every call is answered by `rule` (for a rule that answers by the request).
pub fn mocked_client_answering_every_call(rule: &Rule) -> Client {
    client_with(
        MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(rule),
    )
}

fn client_with(interceptor: MockResponseInterceptor) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

/// The metadata the SDK gives a modeled error it parses from a response: a mock's error built
/// without it would carry no error code, which no real answer does.
pub fn coded(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).build()
}
