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

/// Services whose awsJson errors are query-compatible: the query protocol's code travels in
/// `x-amzn-query-error: Code;Sender`, which the SDKs read before `__type`.
const QUERY_COMPATIBLE: &[(&str, &str)] = &[("sqs", "com.amazonaws.sqs#")];

pub(super) fn render_error(
    service: &str,
    status: http::StatusCode,
    code: &str,
    message: &str,
) -> StoredResponse {
    let query_compatible = QUERY_COMPATIBLE.iter().find(|(s, _)| *s == service);
    let shape = match query_compatible {
        // `AWS.SimpleQueueService.QueueDeletedRecently` is the shape `QueueDeletedRecently`.
        Some((_, namespace)) => format!("{namespace}{}", code.rsplit('.').next().unwrap_or(code)),
        None if service == "dynamodb" => format!("com.amazonaws.dynamodb.v20120810#{code}"),
        None => code.into(),
    };
    let body = serde_json::json!({ "__type": shape, "message": message });
    let mut response = StoredResponse::new(status, content_type(service), body.to_string());
    if query_compatible.is_some() {
        let fault = if status.is_server_error() { "Receiver" } else { "Sender" };
        if let Ok(value) = http::HeaderValue::from_str(&format!("{code};{fault}")) {
            response.headers.insert("x-amzn-query-error", value);
        }
    }
    response
}
