//! [`ProgressEvent`]: what a handler invocation returns, in CloudFormation's JSON shape.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::memo::Memo;
use super::status::{HandlerErrorCode, OperationStatus};

/// The result of one handler invocation, serialized with CloudFormation's keys: `status`,
/// `resourceModel`, `callbackContext`, `callbackDelaySeconds`, `message`, `errorCode`
/// (`resourceModel`, `message` and `errorCode` are left out when empty).
///
/// An in-progress event with a callback delay of 0 means "continue in this invocation"
/// ([`then`](Self::then) runs the next step); with a delay above 0 it asks to be invoked again
/// after that many seconds with its `callbackContext` (the [`Memo`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressEvent<M> {
    /// Where the operation stands.
    pub status: OperationStatus,
    /// The resource model.
    #[serde(rename = "resourceModel", default = "none", skip_serializing_if = "Option::is_none")]
    pub model: Option<M>,
    /// The memo to be handed back to the next invocation.
    #[serde(rename = "callbackContext", default)]
    pub memo: Memo,
    /// Seconds to wait before the next invocation (0: continue now).
    #[serde(default)]
    pub callback_delay_seconds: u32,
    /// A message (the reason, for a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The error code of a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<HandlerErrorCode>,
}

fn none<M>() -> Option<M> {
    None
}

impl<M> ProgressEvent<M> {
    /// Success, with the model.
    pub fn success(model: M) -> Self {
        Self {
            status: OperationStatus::Success,
            model: Some(model),
            memo: Memo::default(),
            callback_delay_seconds: 0,
            message: None,
            error_code: None,
        }
    }

    /// Failure with a code and a message.
    pub fn failed(code: HandlerErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: OperationStatus::Failed,
            model: None,
            memo: Memo::default(),
            callback_delay_seconds: 0,
            message: Some(message.into()),
            error_code: Some(code),
        }
    }

    /// In progress: continue now (`delay_seconds` 0) or call back after `delay_seconds` with `memo`.
    pub fn progress(model: M, memo: Memo, delay_seconds: u32) -> Self {
        Self {
            status: OperationStatus::InProgress,
            model: Some(model),
            memo,
            callback_delay_seconds: delay_seconds,
            message: None,
            error_code: None,
        }
    }

    /// The same event with this model.
    pub fn with_model(mut self, model: M) -> Self {
        self.model = Some(model);
        self
    }

    /// The same event with this message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// True for an in-progress event with no callback delay and a model: the next step may run now.
    pub fn can_continue(&self) -> bool {
        self.status == OperationStatus::InProgress && self.callback_delay_seconds == 0 && self.model.is_some()
    }

    /// Runs `next` with the model when this event [can continue](Self::can_continue); otherwise
    /// returns this event (a success, a failure, or a callback) unchanged.
    pub async fn then<F, Fut>(self, next: F) -> ProgressEvent<M>
    where
        F: FnOnce(M) -> Fut,
        Fut: Future<Output = ProgressEvent<M>>,
    {
        if !self.can_continue() {
            return self;
        }
        match self.model {
            Some(model) => next(model).await,
            None => unreachable!("can_continue checks the model"),
        }
    }
}
