//! [`OperationStatus`] and [`HandlerErrorCode`]: CloudFormation's vocabulary for how a handler ended.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a handler invocation stands, serialized as CloudFormation does: `IN_PROGRESS`,
/// `SUCCESS`, `FAILED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    /// More work is left: continue now (callback delay 0) or be invoked again after the delay.
    InProgress,
    /// Done.
    Success,
    /// Failed; the event carries a [`HandlerErrorCode`] and a message.
    Failed,
}

/// CloudFormation's handler error codes, serialized by name (e.g. `"AlreadyExists"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandlerErrorCode {
    /// The property cannot be updated in place.
    NotUpdatable,
    /// The request is invalid (bad or missing parameters).
    InvalidRequest,
    /// Not authorized.
    AccessDenied,
    /// The credentials are invalid or expired.
    InvalidCredentials,
    /// The resource already exists.
    AlreadyExists,
    /// The resource does not exist.
    NotFound,
    /// Another operation on the resource is in the way.
    ResourceConflict,
    /// Throttled, and retries did not get through.
    Throttling,
    /// A service quota was reached.
    ServiceLimitExceeded,
    /// The resource did not reach its desired state in time.
    NotStabilized,
    /// The service returned an error not covered by another code.
    GeneralServiceException,
    /// The service failed (5xx).
    ServiceInternalError,
    /// The request did not get a response (connection, timeout).
    NetworkFailure,
    /// An unexpected failure of the handler's environment.
    InternalFailure,
    /// The type configuration is invalid.
    InvalidTypeConfiguration,
    /// The handler itself failed (e.g. a memo it cannot read).
    HandlerInternalFailure,
    /// A hook found the target non-compliant.
    NonCompliant,
    /// Unknown.
    Unknown,
    /// A hook does not support the target.
    UnsupportedTarget,
}

impl HandlerErrorCode {
    /// True for the codes a chain retries by default: [`Throttling`](Self::Throttling),
    /// [`ServiceInternalError`](Self::ServiceInternalError) and [`NetworkFailure`](Self::NetworkFailure).
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Throttling | Self::ServiceInternalError | Self::NetworkFailure)
    }
}

impl fmt::Display for HandlerErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
        })
    }
}
