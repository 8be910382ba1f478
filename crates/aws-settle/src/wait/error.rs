//! [`WaitError`]: why a wait ended without success.

use std::time::Duration;

/// Why a wait ended without success. Every variant names the waiter and carries the attempt
/// count, the elapsed time and (except [`WaitError::WrongOperation`]) the last output or error
/// seen: a summary of at most [`MAX_LAST_SEEN`](super::MAX_LAST_SEEN) characters with secret
/// fields redacted (the JSON view when there is one, else `Debug`; an SDK error's code, message
/// and status, never its raw HTTP response).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The max wait time (or max attempts) was reached while acceptors said retry, or the max
    /// wait time was reached during a call (then `last` also says so).
    #[error("waiter {waiter} timed out after {attempts} attempt(s) in {elapsed:?}; last seen: {}", last.as_deref().unwrap_or("nothing"))]
    Timeout {
        /// The waiter's name.
        waiter: String,
        /// Calls made.
        attempts: u32,
        /// Time since the first call started.
        elapsed: Duration,
        /// The last output or error seen.
        last: Option<String>,
    },
    /// A failure acceptor matched.
    #[error("waiter {waiter} reached a failure state (acceptor {acceptor}: {description}) after {attempts} attempt(s) in {elapsed:?}; last seen: {}", last.as_deref().unwrap_or("nothing"))]
    FailureState {
        /// The waiter's name.
        waiter: String,
        /// The index of the failure acceptor.
        acceptor: usize,
        /// The acceptor, in words.
        description: String,
        /// Calls made.
        attempts: u32,
        /// Time since the first call started.
        elapsed: Duration,
        /// The last output or error seen.
        last: Option<String>,
    },
    /// The call failed with an error that no acceptor expects: the wait fails at once.
    #[error("waiter {waiter} got an unexpected error (code {}, status {}) after {attempts} attempt(s) in {elapsed:?}: {}", code.as_deref().unwrap_or("none"), status.map_or("none".to_string(), |s| s.to_string()), last.as_deref().unwrap_or("nothing"))]
    UnexpectedError {
        /// The waiter's name.
        waiter: String,
        /// The error code, if the error had one.
        code: Option<String>,
        /// The HTTP status, if known.
        status: Option<u16>,
        /// Calls made.
        attempts: u32,
        /// Time since the first call started.
        elapsed: Duration,
        /// The error.
        last: Option<String>,
    },
    /// An acceptor could not be evaluated, e.g. a JMESPath acceptor over an XML-protocol
    /// response (not supported: use closure matchers there) or without a captured body.
    #[error(
        "waiter {waiter}: acceptor {acceptor} cannot be evaluated after {attempts} attempt(s) in {elapsed:?}: {message}; last seen: {}",
        last.as_deref().unwrap_or("nothing")
    )]
    Unsupported {
        /// The waiter's name.
        waiter: String,
        /// The index of the acceptor.
        acceptor: usize,
        /// What is not supported.
        message: String,
        /// Calls made.
        attempts: u32,
        /// Time since the first call started.
        elapsed: Duration,
        /// The last output or error seen.
        last: Option<String>,
    },
    /// The call was not the operation the waiter polls (its model's `operation`), or the
    /// waiter's [`CaptureBody`](super::CaptureBody) saw no call: the wait fails at once.
    #[error(
        "waiter {waiter} polls {expected}, but {} (attempt {attempts})",
        match polled { Some(p) => format!("the call was {p}"), None => "its CaptureBody saw no call: attach it to the polled operation (`.customize().interceptor(capture.clone())`)".to_string() }
    )]
    WrongOperation {
        /// The waiter's name.
        waiter: String,
        /// The operation the waiter polls.
        expected: String,
        /// The operation called, when the capture saw one.
        polled: Option<String>,
        /// Calls made.
        attempts: u32,
        /// Time since the first call started.
        elapsed: Duration,
    },
}

impl WaitError {
    /// The fields every variant has: attempts, elapsed time, last output or error seen.
    fn common(&self) -> (u32, Duration, Option<&str>) {
        match self {
            WaitError::Timeout { attempts, elapsed, last, .. }
            | WaitError::FailureState { attempts, elapsed, last, .. }
            | WaitError::UnexpectedError { attempts, elapsed, last, .. }
            | WaitError::Unsupported { attempts, elapsed, last, .. } => {
                (*attempts, *elapsed, last.as_deref())
            }
            WaitError::WrongOperation { attempts, elapsed, .. } => (*attempts, *elapsed, None),
        }
    }

    /// Calls made before the wait ended.
    pub fn attempts(&self) -> u32 {
        self.common().0
    }

    /// Time since the first call started.
    pub fn elapsed(&self) -> Duration {
        self.common().1
    }

    /// The last output or error seen, bounded and redacted.
    pub fn last(&self) -> Option<&str> {
        self.common().2
    }

    /// True for [`WaitError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::Timeout { .. })
    }
}
