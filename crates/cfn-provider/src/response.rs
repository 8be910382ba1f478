//! [`Response`]: the ProgressEvent JSON a handler invocation answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use aws_settle::chain::{HandlerErrorCode, OperationStatus};

/// What an invocation answers, with CloudFormation's keys: `status`, `errorCode`, `message`,
/// `callbackContext`, `callbackDelaySeconds`, `resourceModel`, `resourceModels`, `nextToken`.
/// Absent values are left out (the Java runtime drops nulls, and the contract tests expect it),
/// and so are null properties inside the models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// Where the operation stands.
    pub status: OperationStatus,
    /// The error code of a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<HandlerErrorCode>,
    /// A message (the reason, for a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The context to hand back on the callback (IN_PROGRESS only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_context: Option<Value>,
    /// Seconds before the callback (0 unless IN_PROGRESS).
    #[serde(default)]
    pub callback_delay_seconds: u32,
    /// The resource model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_model: Option<Value>,
    /// The models of a LIST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_models: Option<Vec<Value>>,
    /// The next LIST page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl Response {
    /// A success with no model (the handler fills in what it answers).
    pub fn success() -> Self {
        Self {
            status: OperationStatus::Success,
            error_code: None,
            message: None,
            ..Self::failed(HandlerErrorCode::Unknown, "")
        }
    }

    /// A failure.
    pub fn failed(code: HandlerErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: OperationStatus::Failed,
            error_code: Some(code),
            message: Some(message.into()),
            callback_context: None,
            callback_delay_seconds: 0,
            resource_model: None,
            resource_models: None,
            next_token: None,
        }
    }

    /// The response as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"status":"FAILED","errorCode":"InternalFailure","message":"the response cannot be serialized"}"#
                .to_string()
        })
    }
}

/// Removes null object properties at any depth.
pub(crate) fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}
