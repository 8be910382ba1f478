//! Errors in one vocabulary, shared by [`post`](crate::post) (which read-back errors to retry),
//! [`observe`](crate::observe) (which failed attempts were throttled or lost) and
//! [`chain`](crate::chain) (which errors to retry, which handler code to fail with):
//!
//! * [`ErrorClass`]: throttling, transient, not found, eventual-consistency propagation, other —
//!   from the lists below, which are data apart from every engine;
//! * [`ErrorSummary`]: a bounded, secret-free description of a failed call.
//!
//! `LimitExceededException` is **throttling**, as the AWS SDKs' standard retry classifier says
//! (Kinesis, Lambda, API Gateway, DynamoDB's control plane answer request rates with it): post
//! retries it, observe counts it, a chain retries it and fails with `Throttling` when its delays run
//! out. Quotas that waiting does not lift have codes of their own (`LimitExceeded` in IAM,
//! `ServiceQuotaExceededException`, `ParameterLimitExceeded`): a chain fails with
//! `ServiceLimitExceeded` at once.

use std::error::Error;
use std::fmt;

use crate::wait::PollError;

/// What kind of failure an error is, for deciding whether to wait and try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Too many requests: wait (back off) and try again ([`THROTTLING_CODES`], HTTP 429).
    Throttling,
    /// A fault of the service or the network that a retry usually gets past ([`TRANSIENT_CODES`],
    /// HTTP 500 / 502 / 503 / 504, no response at all).
    Transient,
    /// The resource does not exist ([`NOT_FOUND_CODES`]), or does not *yet*, right after a write:
    /// a read-back retries it, a chain fails with `NotFound`.
    NotFound,
    /// A consumer call that fails only until an earlier change has propagated (an IAM role not yet
    /// usable by Lambda, …): the [`propagate::signatures`](crate::propagate::signatures) table,
    /// matched by code *and* message ([`propagation`]).
    Propagation,
    /// Anything else: retrying will not help.
    Other,
}

impl ErrorClass {
    /// Whether waiting and calling again can succeed: throttling, transient and propagation errors.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttling | Self::Transient | Self::Propagation)
    }
}

/// Error codes AWS services use for throttling: the AWS SDKs' standard retry classifier list,
/// plus DynamoDB's and S3's own.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "ThrottlingError",
];

/// Error codes of transient faults: the SDKs' transient list (request timeouts) and the services'
/// internal-error and unavailable codes.
pub const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerErrorException",
    "InternalServiceError",
    "InternalServiceErrorException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// HTTP statuses of transient faults (as the SDKs' standard retry classifier has them).
pub const TRANSIENT_STATUSES: &[u16] = &[500, 502, 503, 504];

/// Error codes that say a resource does not exist.
pub const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchEntity",
    "ParameterNotFound",
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
];

/// One eventual-consistency propagation error: the [`propagate`](crate::propagate) table's
/// row type (consumer service and operation, error code, message fragment, what it waits for, budget).
#[deprecated(
    note = "the one propagation table is `aws_settle::propagate::signatures()`; use `propagate::Signature`"
)]
pub type Propagation = crate::propagate::Signature;

/// The propagation errors known: the [`propagate::signatures`](crate::propagate::signatures) table.
#[deprecated(note = "the one propagation table is `aws_settle::propagate::signatures()`")]
pub const PROPAGATION: &[crate::propagate::Signature] = crate::propagate::table::SIGNATURES;

/// Whether an attempt was throttled: a throttling code, or HTTP 429.
pub fn is_throttling(code: Option<&str>, status: Option<u16>) -> bool {
    code.is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429)
}

/// Whether an attempt failed on a transient fault: a transient code or status, or no response at
/// all (no status: a timeout or transport error).
pub fn is_transient(code: Option<&str>, status: Option<u16>) -> bool {
    code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
        || status.is_none_or(|s| TRANSIENT_STATUSES.contains(&s))
}

/// Whether a failed attempt is of a kind the SDK's standard retry strategy retries: throttling or
/// transient.
pub fn is_retryable(code: Option<&str>, status: Option<u16>) -> bool {
    is_throttling(code, status) || is_transient(code, status)
}

/// The [`ErrorClass`] of an error with this code, status and message (the message only matters
/// for [`propagation`]). Throttling first (S3's `SlowDown` comes with a 503), then propagation,
/// not found and transient.
///
/// ```
/// use aws_settle::errors::{ErrorClass, classify};
/// assert_eq!(classify(Some("LimitExceededException"), Some(400), None), ErrorClass::Throttling);
/// assert_eq!(classify(Some("SlowDown"), Some(503), None), ErrorClass::Throttling);
/// assert_eq!(classify(Some("ParameterNotFound"), Some(400), None), ErrorClass::NotFound);
/// assert_eq!(classify(None, None, None), ErrorClass::Transient, "no response");
/// let role = "The role defined for the function cannot be assumed by Lambda.";
/// assert_eq!(classify(Some("InvalidParameterValueException"), Some(400), Some(role)), ErrorClass::Propagation);
/// assert_eq!(classify(Some("InvalidParameterValueException"), Some(400), Some("bad runtime")), ErrorClass::Other);
/// ```
pub fn classify(code: Option<&str>, status: Option<u16>, message: Option<&str>) -> ErrorClass {
    if is_throttling(code, status) {
        ErrorClass::Throttling
    } else if propagation(code, message).is_some() {
        ErrorClass::Propagation
    } else if code.is_some_and(|c| NOT_FOUND_CODES.contains(&c)) {
        ErrorClass::NotFound
    } else if is_transient(code, status) {
        ErrorClass::Transient
    } else {
        ErrorClass::Other
    }
}

/// The first row of the [`propagate::signatures`](crate::propagate::signatures) table an error
/// with this code and message matches: the code exactly, the row's message fragment without case.
///
/// Without the consumer service and operation (which the attached retry of
/// [`propagate::attach`](crate::propagate::attach) knows), a row that matches any message of its
/// code (an empty fragment: KMS's `MalformedPolicyDocumentException`, SNS's `InvalidParameter` on
/// SetTopicAttributes) would call every such error propagation, so only rows with a fragment count.
pub fn propagation(
    code: Option<&str>,
    message: Option<&str>,
) -> Option<&'static crate::propagate::Signature> {
    let (code, message) = (code?, message?.to_lowercase());
    crate::propagate::signatures()
        .iter()
        .find(|s| s.code == code && !s.message.is_empty() && message.contains(&s.message.to_lowercase()))
}

/// At most this many characters of an error message are kept in a [`ErrorSummary`].
pub const MESSAGE_LIMIT: usize = 256;

/// What may be shown of a failed call: its error code, HTTP status and the service's message
/// (at most [`MESSAGE_LIMIT`] characters, on one line), and nothing else.
///
/// Never the `Debug` of an SDK error: that holds the raw HTTP response, whose headers and body may
/// carry what the caller must not log (e.g. the item a DynamoDB conditional write returns with
/// `ReturnValuesOnConditionCheckFailure`).
///
/// ```
/// use aws_settle::errors::ErrorSummary;
/// let summary = ErrorSummary::new(Some("ValidationException"), Some(400), Some("bad name\n\"x\""));
/// assert_eq!(summary.to_string(), "ValidationException (HTTP 400): bad name \"x\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorSummary {
    /// The error code, e.g. `ResourceNotFoundException`.
    pub code: Option<String>,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The service's message, bounded.
    pub message: Option<String>,
}

impl ErrorSummary {
    /// A summary of these parts; the message is cut to [`MESSAGE_LIMIT`] characters and put on
    /// one line.
    pub fn new(code: Option<&str>, status: Option<u16>, message: Option<&str>) -> Self {
        let message = message.map(bounded).filter(|m| !m.is_empty());
        Self { code: code.map(str::to_string), status, message }
    }

    /// The summary of a failed call: code and status from [`PollError`], the message from the
    /// innermost error of its `source()` chain (for the SDK's `SdkError`, the modeled error, whose
    /// `Display` is `Code: message`), without the code repeated.
    pub fn of<E: PollError + Error>(error: &E) -> Self {
        let mut innermost: &dyn Error = error;
        while let Some(source) = innermost.source() {
            innermost = source;
        }
        let text = innermost.to_string();
        let code = error.code();
        let message = match code {
            Some(code) => {
                text.strip_prefix(code).map(|rest| rest.trim_start_matches([':', ' '])).unwrap_or(&text)
            }
            None => &text,
        };
        // An error whose `Display` is only its code and status (e.g. `ErrorResponse`) has no message.
        let message = Some(message).filter(|m| !m.is_empty() && !m.starts_with("(status "));
        Self::new(code, error.status(), message)
    }
}

impl ErrorSummary {
    /// The [`ErrorClass`] of the summarized error (see [`classify`]).
    pub fn class(&self) -> ErrorClass {
        classify(self.code.as_deref(), self.status, self.message.as_deref())
    }
}

impl fmt::Display for ErrorSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_deref().unwrap_or("error without code"))?;
        match self.status {
            Some(status) => write!(f, " (HTTP {status})")?,
            None => f.write_str(" (no response)")?,
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl Error for ErrorSummary {}

/// The summary keeps the error's code and status, so a waiter's error acceptors match it as they
/// match the error itself.
impl PollError for ErrorSummary {
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    fn status(&self) -> Option<u16> {
        self.status
    }
}

/// `text` on one line (control characters become spaces), cut to [`MESSAGE_LIMIT`] characters
/// (with `…` when cut).
fn bounded(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MESSAGE_LIMIT).collect();
    if text.chars().nth(MESSAGE_LIMIT).is_some() {
        out.push('…');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::ErrorResponse;

    #[test]
    fn each_code_has_one_class() {
        let lists = [THROTTLING_CODES, TRANSIENT_CODES, NOT_FOUND_CODES];
        let mut all: Vec<&str> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), total, "a code is in one list only");
        for code in THROTTLING_CODES {
            assert_eq!(classify(Some(code), Some(400), None), ErrorClass::Throttling, "{code}");
        }
        for code in TRANSIENT_CODES {
            assert_eq!(classify(Some(code), Some(400), None), ErrorClass::Transient, "{code}");
        }
        for code in NOT_FOUND_CODES {
            assert_eq!(classify(Some(code), Some(404), None), ErrorClass::NotFound, "{code}");
        }
        let with_fragment = crate::propagate::signatures().iter().filter(|s| !s.message.is_empty());
        for p in with_fragment {
            let message = format!("Some words. {} more words", p.message.to_uppercase());
            let class = classify(Some(p.code), Some(400), Some(&message));
            let expected = if THROTTLING_CODES.contains(&p.code) {
                ErrorClass::Throttling
            } else {
                ErrorClass::Propagation
            };
            assert_eq!(class, expected, "{p:?}");
            let other =
                if NOT_FOUND_CODES.contains(&p.code) { ErrorClass::NotFound } else { ErrorClass::Other };
            assert_eq!(classify(Some(p.code), Some(400), Some("unrelated")), other, "{p:?}");
        }
        // A row that matches any message of its code needs the service to tell: not classified.
        let kms = "MalformedPolicyDocumentException";
        assert_eq!(classify(Some(kms), Some(400), Some("The policy is malformed")), ErrorClass::Other);
        let lambda = "The role defined for the function cannot be assumed by Lambda.";
        let found = propagation(Some("InvalidParameterValueException"), Some(lambda)).unwrap();
        assert_eq!(
            (found.service, found.operation, found.waits_for),
            ("lambda", "CreateFunction", "IAM role")
        );
        assert_eq!(classify(None, Some(429), None), ErrorClass::Throttling);
        assert_eq!(classify(Some("Whatever"), Some(502), None), ErrorClass::Transient);
        assert_eq!(classify(Some("ValidationException"), Some(400), None), ErrorClass::Other);
        assert_eq!(classify(Some("LimitExceeded"), Some(409), None), ErrorClass::Other, "IAM's quota");
        assert!(ErrorClass::Propagation.is_retryable() && !ErrorClass::NotFound.is_retryable());
        assert!(is_retryable(None, None) && !is_retryable(Some("ValidationException"), Some(400)));
    }

    #[test]
    fn summaries_are_bounded_and_on_one_line() {
        let long = "x".repeat(10_000);
        let summary = ErrorSummary::new(Some("C"), None, Some(&long));
        assert_eq!(summary.message.as_ref().unwrap().chars().count(), MESSAGE_LIMIT + 1);
        assert!(summary.to_string().starts_with("C (no response): xxx"));
        let summary = ErrorSummary::new(None, Some(500), Some("a\r\nb"));
        assert_eq!(summary.to_string(), "error without code (HTTP 500): a  b");
    }

    #[test]
    fn an_error_response_is_its_code_and_status() {
        let summary = ErrorSummary::of(&ErrorResponse::new("ThrottlingException", 400));
        assert_eq!(summary.to_string(), "ThrottlingException (HTTP 400)");
    }

    #[test]
    fn the_message_is_the_innermost_source_without_the_code() {
        #[derive(Debug)]
        struct Outer(Inner);
        #[derive(Debug)]
        struct Inner;
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("service error")
            }
        }
        impl fmt::Display for Inner {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("ConditionalCheckFailedException: The conditional request failed")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        impl Error for Inner {}
        impl PollError for Outer {
            fn code(&self) -> Option<&str> {
                Some("ConditionalCheckFailedException")
            }
            fn status(&self) -> Option<u16> {
                Some(400)
            }
        }
        assert_eq!(
            ErrorSummary::of(&Outer(Inner)).to_string(),
            "ConditionalCheckFailedException (HTTP 400): The conditional request failed"
        );
    }
}
