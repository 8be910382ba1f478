//! Errors in one vocabulary: a bounded, secret-free [`ErrorSummary`] of a failed call.

use std::error::Error;
use std::fmt;

use crate::wait::PollError;

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
