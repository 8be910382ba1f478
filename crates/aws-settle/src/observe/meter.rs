//! Metrics through the `metrics` facade (whatever recorder the program installed), labelled
//! `service`, `operation` and `origin` (`call`, or `read_back` for a [read-back](super::read_back)):
//!
//! | name | type | per |
//! |---|---|---|
//! | `aws_settle_attempts_total` | counter | attempt sent |
//! | `aws_settle_retries_total` | counter | retry decided |
//! | `aws_settle_throttles_total` | counter | throttled attempt |
//! | `aws_settle_give_ups_total` | counter | call that gave up on a retryable error |
//! | `aws_settle_backoff_seconds` | histogram | backoff sleep before a retry |
//! | `aws_settle_call_duration_seconds` | histogram | call, labelled also `outcome` = `ok` / `error` |

use super::event::{Event, EventKind};

/// Counter: attempts sent.
pub const ATTEMPTS_TOTAL: &str = "aws_settle_attempts_total";
/// Counter: retries decided.
pub const RETRIES_TOTAL: &str = "aws_settle_retries_total";
/// Counter: throttled attempts.
pub const THROTTLES_TOTAL: &str = "aws_settle_throttles_total";
/// Counter: calls that gave up on a retryable error.
pub const GIVE_UPS_TOTAL: &str = "aws_settle_give_ups_total";
/// Histogram: backoff sleep before each retry, in seconds.
pub const BACKOFF_SECONDS: &str = "aws_settle_backoff_seconds";
/// Histogram: call duration, in seconds.
pub const CALL_DURATION_SECONDS: &str = "aws_settle_call_duration_seconds";

/// Records `event` with the current recorder.
pub(crate) fn record(event: &Event) {
    let origin = if event.read_back { "read_back" } else { "call" };
    let labels = [
        ("service", event.service.clone()),
        ("operation", event.operation.clone()),
        ("origin", origin.to_string()),
    ];
    match event.kind {
        EventKind::AttemptStart => metrics::counter!(ATTEMPTS_TOTAL, &labels).increment(1),
        EventKind::Throttled => metrics::counter!(THROTTLES_TOTAL, &labels).increment(1),
        EventKind::GiveUp => metrics::counter!(GIVE_UPS_TOTAL, &labels).increment(1),
        EventKind::Retry { backoff } => {
            metrics::counter!(RETRIES_TOTAL, &labels).increment(1);
            metrics::histogram!(BACKOFF_SECONDS, &labels).record(backoff.as_secs_f64());
        }
        EventKind::CallEnd { ok } => {
            let [service, operation, origin] = labels;
            let outcome = ("outcome", if ok { "ok" } else { "error" }.to_string());
            let labels = [service, operation, origin, outcome];
            let seconds = event.duration.unwrap_or_default().as_secs_f64();
            metrics::histogram!(CALL_DURATION_SECONDS, &labels).record(seconds);
        }
        EventKind::CallStart | EventKind::AttemptEnd { .. } => {}
    }
}
