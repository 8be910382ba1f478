//! awsJson 1.0 / 1.1: `X-Amz-Target: Prefix.Operation` and a JSON body.

use super::{ParsedRequest, Protocol, StoredResponse};

/// Service signing names for well-known target prefixes, for unsigned requests.
const PREFIXES: &[(&str, &str)] = &[
    ("AmazonSSM", "ssm"),
    ("secretsmanager", "secretsmanager"),
    ("DynamoDB_20120810", "dynamodb"),
    ("ResourceGroupsTaggingAPI_20170126", "tagging"),
    ("AmazonSQS", "sqs"),
    ("AWSEvents", "events"),
    ("Logs_20140328", "logs"),
    ("Kinesis_20131202", "kinesis"),
    ("TrentService", "kms"),
    ("AWSStepFunctions", "states"),
];

pub(super) fn parse(parsed: &mut ParsedRequest, target: &str, body: &[u8]) {
    let Some((prefix, operation)) = target.rsplit_once('.') else { return };
    if operation.is_empty() {
        return;
    }
    if parsed.info.service.is_empty()
        && let Some((_, service)) = PREFIXES.iter().find(|(p, _)| *p == prefix)
    {
        parsed.info.service = (*service).to_string();
    }
    if parsed.info.service.is_empty() {
        return;
    }
    parsed.info.protocol = Protocol::AwsJson;
    parsed.info.operation = operation.to_string();
    parsed.target_prefix = Some(prefix.to_string());
    parsed.json = serde_json::from_slice(body).ok();
}

/// The content type the service speaks: DynamoDB is awsJson 1.0, most others 1.1.
pub(crate) fn content_type(service: &str) -> &'static str {
    match service {
        "dynamodb" | "sqs" | "states" => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

pub(super) fn render_error(service: &str, code: &str, message: &str) -> StoredResponse {
    let code =
        if service == "dynamodb" { format!("com.amazonaws.dynamodb.v20120810#{code}") } else { code.into() };
    let body = serde_json::json!({ "__type": code, "message": message });
    StoredResponse::new(http::StatusCode::BAD_REQUEST, content_type(service), body.to_string())
}
