//! [`WaitError`]: why a wait ended without success.

use std::time::Duration;

/// Why a wait ended without success. Every variant names the waiter and carries the attempt
/// count, the elapsed time and (`Debug` of) the last output or error seen.
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
        "waiter {waiter}: acceptor {acceptor} cannot be evaluated after {attempts} attempt(s): {message}"
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
}

impl WaitError {
    /// Calls made before the wait ended.
    pub fn attempts(&self) -> u32 {
        match self {
            WaitError::Timeout { attempts, .. }
            | WaitError::FailureState { attempts, .. }
            | WaitError::UnexpectedError { attempts, .. }
            | WaitError::Unsupported { attempts, .. } => *attempts,
        }
    }

    /// Time since the first call started.
    pub fn elapsed(&self) -> Duration {
        match self {
            WaitError::Timeout { elapsed, .. }
            | WaitError::FailureState { elapsed, .. }
            | WaitError::UnexpectedError { elapsed, .. }
            | WaitError::Unsupported { elapsed, .. } => *elapsed,
        }
    }

    /// `Debug` of the last output or error seen.
    pub fn last(&self) -> Option<&str> {
        match self {
            WaitError::Timeout { last, .. }
            | WaitError::FailureState { last, .. }
            | WaitError::UnexpectedError { last, .. }
            | WaitError::Unsupported { last, .. } => last.as_deref(),
        }
    }

    /// True for [`WaitError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::Timeout { .. })
    }
}
