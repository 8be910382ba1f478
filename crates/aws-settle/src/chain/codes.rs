//! The default error table: AWS error codes → [`HandlerErrorCode`], and what a chain does with
//! an error it is not told how to handle ([`default_action`]).

use super::status::HandlerErrorCode::{self, *};
use crate::errors::{ErrorClass, ErrorSummary};
use crate::wait::PollError;

/// AWS error codes (exact, case-sensitive) and the handler error code each maps to, for what
/// [`crate::errors`]' classes do not say. Codes not listed go by their [`ErrorClass`]:
/// throttling ([`THROTTLING_CODES`](crate::errors::THROTTLING_CODES), HTTP 429) → [`Throttling`],
/// not found ([`NOT_FOUND_CODES`](crate::errors::NOT_FOUND_CODES)) → [`NotFound`], transient
/// ([`TRANSIENT_CODES`](crate::errors::TRANSIENT_CODES), HTTP 500/502/503/504) →
/// [`ServiceInternalError`], no code and no status (no response) → [`NetworkFailure`]; then
/// `InvalidParameter*` → [`InvalidRequest`], other HTTP 5xx → [`ServiceInternalError`], anything
/// else → [`GeneralServiceException`].
pub const ERROR_CODES: &[(&str, HandlerErrorCode)] = &[
    // Already exists.
    ("ResourceExistsException", AlreadyExists),
    ("EntityAlreadyExists", AlreadyExists),
    ("ResourceInUseException", AlreadyExists),
    ("ParameterAlreadyExists", AlreadyExists),
    ("TableAlreadyExistsException", AlreadyExists),
    ("BucketAlreadyExists", AlreadyExists),
    ("BucketAlreadyOwnedByYou", AlreadyExists),
    // Access and credentials.
    ("AccessDenied", AccessDenied),
    ("AccessDeniedException", AccessDenied),
    ("UnauthorizedOperation", AccessDenied),
    ("UnrecognizedClientException", InvalidCredentials),
    ("InvalidClientTokenId", InvalidCredentials),
    ("InvalidSignatureException", InvalidCredentials),
    ("SignatureDoesNotMatch", InvalidCredentials),
    ("ExpiredToken", InvalidCredentials),
    ("ExpiredTokenException", InvalidCredentials),
    ("AuthFailure", InvalidCredentials),
    // Invalid requests (and `InvalidParameter*`, by prefix).
    ("ValidationException", InvalidRequest),
    ("ValidationError", InvalidRequest),
    ("InvalidRequest", InvalidRequest),
    ("InvalidRequestException", InvalidRequest),
    ("InvalidInput", InvalidRequest),
    ("MalformedPolicyDocument", InvalidRequest),
    ("SerializationException", InvalidRequest),
    // Quotas (`LimitExceededException` is throttling: see `crate::errors`).
    ("LimitExceeded", ServiceLimitExceeded),
    ("ServiceQuotaExceededException", ServiceLimitExceeded),
    ("ParameterLimitExceeded", ServiceLimitExceeded),
    // Conflicts.
    ("ConflictException", ResourceConflict),
    ("ResourceConflictException", ResourceConflict),
    ("ConcurrentModificationException", ResourceConflict),
    ("ConcurrentModification", ResourceConflict),
    ("OperationAborted", ResourceConflict),
    ("OperationAbortedException", ResourceConflict),
];

/// The handler error code of an AWS error code and HTTP status (see [`ERROR_CODES`]).
pub fn classify(code: Option<&str>, status: Option<u16>) -> HandlerErrorCode {
    if let Some((_, mapped)) = code.and_then(|code| ERROR_CODES.iter().find(|(c, _)| *c == code)) {
        return *mapped;
    }
    match crate::errors::classify(code, status, None) {
        ErrorClass::Throttling => Throttling,
        ErrorClass::NotFound => NotFound,
        ErrorClass::Transient if code.is_none() && status.is_none() => NetworkFailure,
        ErrorClass::Transient => ServiceInternalError,
        ErrorClass::Propagation | ErrorClass::Other => match (code, status) {
            (Some(code), _) if code.starts_with("InvalidParameter") => InvalidRequest,
            (_, Some(500..=599)) => ServiceInternalError,
            _ => GeneralServiceException,
        },
    }
}

/// The handler error code of an error (its code and status, see [`classify`]).
pub fn classify_error<E: PollError + ?Sized>(error: &E) -> HandlerErrorCode {
    classify(error.code(), error.status())
}

/// What a chain does with a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// Call again after the step's delay, while its delays allow (then fail with the error's code).
    Retry,
    /// Fail the handler with this code.
    Fail(HandlerErrorCode),
    /// Treat the call as done without a response (e.g. `AlreadyExists` for an idempotent create):
    /// the memo records it as made, stabilization still runs.
    Ignore,
}

/// The default of [`Step::handle_error`](super::Step::handle_error): retry what waiting can get
/// past — throttling, transient faults (5xx, no response: [`HandlerErrorCode::is_transient`]) and
/// eventual-consistency [propagation](crate::propagate::signatures) errors, told by code and
/// message —, fail with the mapped code otherwise.
pub fn default_action<E: PollError + std::error::Error>(error: &E) -> ErrorAction {
    let code = classify_error(error);
    if code.is_transient() || ErrorSummary::of(error).class() == ErrorClass::Propagation {
        ErrorAction::Retry
    } else {
        ErrorAction::Fail(code)
    }
}
