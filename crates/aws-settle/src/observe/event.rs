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

    /// The event as one line of JSON (no newline): the event log [`Telemetry::log_to_file`]
    /// writes and `settle report` reads. Fields: `time` (RFC 3339), `event` (the kind's name),
    /// `call_id`, `service`, `operation`, `attempt`, `read_back`, and when known `duration_ms`,
    /// `status`, `error_code`, `ok` (`attempt_end`, `call_end`), `backoff_ms` (`retry`).
    ///
    /// [`Telemetry::log_to_file`]: super::Telemetry::log_to_file
    pub fn to_json_line(&self) -> String {
        let time = aws_smithy_types::DateTime::from(self.at)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default();
        let mut line = serde_json::json!({
            "time": time,
            "event": self.kind.name(),
            "call_id": self.call_id,
            "service": self.service,
            "operation": self.operation,
            "attempt": self.attempt,
            "read_back": self.read_back,
        });
        let ms = |d: Duration| serde_json::json!(d.as_secs_f64() * 1000.0);
        if let Some(d) = self.duration {
            line["duration_ms"] = ms(d);
        }
        if let Some(status) = self.status {
            line["status"] = status.into();
        }
        if let Some(code) = &self.error_code {
            line["error_code"] = code.as_str().into();
        }
        match self.kind {
            EventKind::AttemptEnd { ok } | EventKind::CallEnd { ok } => line["ok"] = ok.into(),
            EventKind::Retry { backoff } => line["backoff_ms"] = ms(backoff),
            _ => {}
        }
        line.to_string()
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
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_615_200_250);
        let line: serde_json::Value = serde_json::from_str(&Event { at, ..event }.to_json_line()).unwrap();
        assert_eq!(
            line,
            serde_json::json!({"time": "2026-11-25T14:00:00.25Z", "event": "retry", "call_id": 1, "service": "ssm",
                "operation": "PutParameter", "attempt": 1, "read_back": false, "status": 400,
                "error_code": "ThrottlingException", "backoff_ms": 30.0})
        );
    }
}
