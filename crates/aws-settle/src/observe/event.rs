//! What an instrumented client reports: one [`Event`] per call start and end, attempt start and
//! end, throttled attempt, retry decision (with its exact backoff) and give-up.

use std::fmt;
use std::time::{Duration, SystemTime};

/// One observation of one call. Carries no request or response content: only names, numbers, the
/// HTTP status and the error code.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique per call within a process (all events of one `send()` share it).
    pub call_id: u64,
    /// The service, as its cargo feature spells it: `ssm`, `secretsmanager`, `s3`, `iam`, `dynamodb`.
    pub service: String,
    /// The operation, as the API spells it: `PutParameter`.
    pub operation: String,
    /// What happened.
    pub kind: EventKind,
    /// The attempt this event is about, from 1. `CallStart` has 0; `Retry` names the attempt that
    /// failed (the next one is `attempt + 1`); `GiveUp` and `CallEnd` name the last attempt made.
    pub attempt: u32,
    /// When it happened (wall clock).
    pub at: SystemTime,
    /// The attempt's duration (`AttemptEnd`, `Throttled`) or the call's (`CallEnd`, `GiveUp`).
    pub duration: Option<Duration>,
    /// The HTTP status of the attempt's response, when there was one.
    pub status: Option<u16>,
    /// The error code of a failed attempt (`ThrottlingException`), when the response named one.
    pub error_code: Option<String>,
    /// The call was made inside [`read_back`](super::read_back): a post-condition's read-back or a
    /// chain's stabilization poll, not the program's own call.
    pub read_back: bool,
}

/// What an [`Event`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `send()` began.
    CallStart,
    /// An attempt is about to be sent.
    AttemptStart,
    /// An attempt finished; `ok` is false for an error response or a transport failure.
    AttemptEnd {
        /// Whether the attempt succeeded.
        ok: bool,
    },
    /// The attempt was answered with a throttling error (also reported as a failed `AttemptEnd`).
    Throttled,
    /// The retry strategy decided to retry the failed attempt after `backoff` (its exact sleep).
    Retry {
        /// How long the SDK sleeps before the next attempt.
        backoff: Duration,
    },
    /// The call failed on a retryable error (throttling, 5xx, timeout, transport) and the retry
    /// strategy made no further attempt: attempts or retry quota exhausted.
    GiveUp,
    /// `send()` returned.
    CallEnd {
        /// Whether the call succeeded.
        ok: bool,
    },
}

/// The kind names patterns match, in the order calls produce them.
pub const KIND_NAMES: [&str; 7] =
    ["call_start", "attempt_start", "attempt_end", "throttled", "retry", "give_up", "call_end"];

impl EventKind {
    /// The name patterns match: `call_start`, `attempt_start`, `attempt_end`, `throttled`, `retry`,
    /// `give_up` or `call_end`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CallStart => KIND_NAMES[0],
            EventKind::AttemptStart => KIND_NAMES[1],
            EventKind::AttemptEnd { .. } => KIND_NAMES[2],
            EventKind::Throttled => KIND_NAMES[3],
            EventKind::Retry { .. } => KIND_NAMES[4],
            EventKind::GiveUp => KIND_NAMES[5],
            EventKind::CallEnd { .. } => KIND_NAMES[6],
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Event {
    /// The `service:Operation:kind` string patterns are matched against, e.g. `ssm:PutParameter:retry`.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.service, self.operation, self.kind.name())
    }

    /// The backoff of a `Retry` event.
    pub fn backoff(&self) -> Option<Duration> {
        match self.kind {
            EventKind::Retry { backoff } => Some(backoff),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_names() {
        let event = Event {
            call_id: 1,
            service: "ssm".into(),
            operation: "PutParameter".into(),
            kind: EventKind::Retry { backoff: Duration::from_millis(30) },
            attempt: 1,
            at: SystemTime::now(),
            duration: None,
            status: Some(400),
            error_code: Some("ThrottlingException".into()),
            read_back: false,
        };
        assert_eq!(event.key(), "ssm:PutParameter:retry");
        assert_eq!(event.backoff(), Some(Duration::from_millis(30)));
        assert_eq!(EventKind::AttemptEnd { ok: true }.to_string(), "attempt_end");
        assert_eq!(EventKind::GiveUp.name(), "give_up");
    }
}
