//! The interceptor: one per instrumented client. It opens a call in `read_before_serialization`,
//! reports each attempt from `read_before_attempt` and `read_after_attempt` (status and error code,
//! never a body or a header value beyond the error type), arms the backoff probe after a failed
//! attempt, and closes the call in `read_after_execution`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::backoff;
use super::classify::error_code;
use super::event::{Event, EventKind};
use super::origin::is_read_back;
use super::telemetry::Telemetry;
use crate::errors::{is_retryable, is_throttling};

/// The interceptor's name; attaching again replaces an interceptor of this name.
pub(crate) const OBSERVER_NAME: &str = "aws-settle observe";

/// Whether `interceptor` is an observer of some telemetry.
pub(crate) fn is_observer(interceptor: &SharedInterceptor) -> bool {
    interceptor.name() == OBSERVER_NAME
}

/// Call ids, unique in the process.
static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

#[derive(Debug)]
pub(crate) struct Observer {
    telemetry: Telemetry,
    /// The service as its cargo feature spells it.
    service: &'static str,
}

impl Observer {
    pub(crate) fn new(telemetry: &Telemetry, service: &'static str) -> Observer {
        Observer { telemetry: telemetry.clone(), service }
    }
}

/// One call in flight, kept in the call's config bag.
#[derive(Debug)]
struct Call {
    id: u64,
    service: String,
    operation: String,
    read_back: bool,
    started: Instant,
    state: Mutex<CallState>,
}

#[derive(Debug, Default)]
struct CallState {
    attempt_started: Option<Instant>,
    /// The probe reported the backoff before the coming attempt.
    retry_reported: bool,
    /// Status and code of the last failed attempt.
    last_failure: Option<(Option<u16>, Option<String>)>,
}

#[derive(Debug, Clone)]
struct CallSlot(Arc<Call>);

impl Storable for CallSlot {
    type Storer = StoreReplace<Self>;
}

impl Call {
    fn event(&self, kind: EventKind, attempt: u32) -> Event {
        Event {
            call_id: self.id,
            service: self.service.clone(),
            operation: self.operation.clone(),
            kind,
            attempt,
            at: SystemTime::now(),
            duration: None,
            status: None,
            error_code: None,
            read_back: self.read_back,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn attempts(cfg: &ConfigBag) -> u32 {
    cfg.load::<RequestAttempts>().map(|a| a.attempts()).unwrap_or(0)
}

fn call(cfg: &ConfigBag) -> Option<Arc<Call>> {
    cfg.load::<CallSlot>().map(|slot| slot.0.clone())
}

fn failed(event: Event, failure: &Option<(Option<u16>, Option<String>)>) -> Event {
    let (status, error_code) = failure.clone().unwrap_or_default();
    Event { status, error_code, ..event }
}

impl Intercept for Observer {
    fn name(&self) -> &'static str {
        OBSERVER_NAME
    }

    // Not `read_before_execution`: for a client-level interceptor it runs before the operation's
    // runtime plugins have put `Metadata` in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default();
        let call = Arc::new(Call {
            id: NEXT_CALL.fetch_add(1, Ordering::Relaxed),
            service: self.service.to_string(),
            operation,
            read_back: is_read_back(),
            started: Instant::now(),
            state: Mutex::default(),
        });
        self.telemetry.emit(call.event(EventKind::CallStart, 0));
        cfg.interceptor_state().store_put(CallSlot(call));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        backoff::disarm();
        let Some(call) = call(cfg) else { return Ok(()) };
        let attempt = attempts(cfg).max(1);
        let unreported_retry = {
            let mut state = call.state();
            let unreported = attempt > 1 && !state.retry_reported;
            state.retry_reported = false;
            state.attempt_started = Some(Instant::now());
            unreported.then(|| state.last_failure.clone())
        };
        if let Some(failure) = unreported_retry {
            // A retry without a sleep (`ShouldAttempt::Yes`).
            let retry = call.event(EventKind::Retry { backoff: Duration::ZERO }, attempt - 1);
            self.telemetry.emit(failed(retry, &failure));
        }
        self.telemetry.emit(call.event(EventKind::AttemptStart, attempt));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(call) = call(cfg) else { return Ok(()) };
        let attempt = attempts(cfg).max(1);
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        let response = context.response();
        let status = response.map(|r| r.status().as_u16());
        let code = match (ok, response) {
            (false, Some(r)) => {
                error_code(r.status().as_u16(), r.headers().get("x-amzn-errortype"), r.body().bytes())
            }
            _ => None,
        };
        let duration = call.state().attempt_started.map(|s| s.elapsed());
        let end = Event { duration, status, ..call.event(EventKind::AttemptEnd { ok }, attempt) };
        if ok {
            self.telemetry.emit(end);
            return Ok(());
        }
        let end = Event { error_code: code.clone(), ..end };
        let throttled = is_throttling(code.as_deref(), status);
        self.telemetry.emit(end.clone());
        if throttled {
            self.telemetry.emit(Event { kind: EventKind::Throttled, ..end });
        }
        let failure = (status, code);
        call.state().last_failure = Some(failure.clone());
        // The retry strategy decides next; if it sleeps, the probe reports the exact backoff.
        let (telemetry, on) = (self.telemetry.clone(), call.clone());
        backoff::arm(move |backoff| {
            on.state().retry_reported = true;
            let retry = on.event(EventKind::Retry { backoff }, attempt);
            telemetry.emit(failed(retry, &Some(failure)));
        });
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        backoff::disarm();
        let Some(call) = call(cfg) else { return Ok(()) };
        let attempt = attempts(cfg);
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        let duration = Some(call.started.elapsed());
        let last_failure = call.state().last_failure.clone();
        let end = Event { duration, ..call.event(EventKind::CallEnd { ok }, attempt) };
        if ok {
            self.telemetry.emit(end);
            return Ok(());
        }
        let end = failed(end, &last_failure);
        let retryable = last_failure.as_ref().is_some_and(|(s, c)| is_retryable(c.as_deref(), *s));
        if attempt > 0 && retryable {
            self.telemetry.emit(Event { kind: EventKind::GiveUp, ..end.clone() });
        }
        self.telemetry.emit(end);
        Ok(())
    }
}
