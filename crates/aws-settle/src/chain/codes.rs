//! The default error table: AWS error codes → [`HandlerErrorCode`], and what a chain does with
//! an error it is not told how to handle ([`default_action`]).

use super::status::HandlerErrorCode::{self, *};
use crate::observe::is_throttling;
use crate::wait::PollError;

/// AWS error codes (exact, case-sensitive) and the handler error code each maps to. Codes not
/// listed: the throttling codes ([`THROTTLING_CODES`](crate::observe::THROTTLING_CODES)) →
/// [`Throttling`], `InvalidParameter*` → [`InvalidRequest`], HTTP 5xx → [`ServiceInternalError`],
/// HTTP 429 → [`Throttling`], no code and no status (no response) → [`NetworkFailure`], anything else
/// → [`GeneralServiceException`].
pub const ERROR_CODES: &[(&str, HandlerErrorCode)] = &[
    // Not found.
    ("ResourceNotFoundException", NotFound),
    ("NoSuchEntity", NotFound),
    ("ParameterNotFound", NotFound),
    ("NotFound", NotFound),
    ("NoSuchBucket", NotFound),
    ("NoSuchKey", NotFound),
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
    // Quotas.
    ("LimitExceededException", ServiceLimitExceeded),
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
    // Service failures.
    ("InternalFailure", ServiceInternalError),
    ("InternalError", ServiceInternalError),
    ("InternalServerError", ServiceInternalError),
    ("InternalServerErrorException", ServiceInternalError),
    ("InternalServiceError", ServiceInternalError),
    ("InternalServiceErrorException", ServiceInternalError),
    ("ServiceUnavailable", ServiceInternalError),
    ("ServiceUnavailableException", ServiceInternalError),
];

/// The handler error code of an AWS error code and HTTP status (see [`ERROR_CODES`]).
pub fn classify(code: Option<&str>, status: Option<u16>) -> HandlerErrorCode {
    if let Some(code) = code {
        if let Some((_, mapped)) = ERROR_CODES.iter().find(|(c, _)| *c == code) {
            return *mapped;
        }
        if is_throttling(Some(code), None) {
            return Throttling;
        }
        if code.starts_with("InvalidParameter") {
            return InvalidRequest;
        }
    }
    match status {
        Some(500..=599) => ServiceInternalError,
        Some(429) => Throttling,
        None if code.is_none() => NetworkFailure,
        _ => GeneralServiceException,
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

/// The default of [`Step::handle_error`](super::Step::handle_error): retry transient errors
/// (throttling, 5xx, no response: [`HandlerErrorCode::is_transient`]), fail with the mapped
/// code otherwise.
pub fn default_action<E: PollError + ?Sized>(error: &E) -> ErrorAction {
    let code = classify_error(error);
    if code.is_transient() { ErrorAction::Retry } else { ErrorAction::Fail(code) }
}
