//! One `tracing` event per [`Event`], target `aws_settle::observe`: retries and throttles at INFO,
//! give-ups at WARN, the rest at DEBUG.

use super::event::{Event, EventKind};

/// Emits `event` as a tracing event with fields call_id, service, operation, kind, attempt,
/// backoff_ms, duration_ms, status, code and read_back (absent fields are left out).
pub(crate) fn record(event: &Event) {
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(
                target: "aws_settle::observe",
                $level,
                call_id = event.call_id,
                service = %event.service,
                operation = %event.operation,
                kind = %event.kind,
                attempt = event.attempt,
                backoff_ms = event.backoff().map(|d| d.as_secs_f64() * 1000.0),
                duration_ms = event.duration.map(|d| d.as_secs_f64() * 1000.0),
                status = event.status,
                code = event.error_code.as_deref().map(tracing::field::display),
                read_back = event.read_back,
                "{}",
                event.key()
            )
        };
    }
    match event.kind {
        EventKind::Retry { .. } | EventKind::Throttled => emit!(tracing::Level::INFO),
        EventKind::GiveUp => emit!(tracing::Level::WARN),
        _ => emit!(tracing::Level::DEBUG),
    }
}
