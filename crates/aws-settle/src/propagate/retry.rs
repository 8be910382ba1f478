//! The SDK hooks of an attached client: a retry classifier that marks a propagation error
//! retryable, and an interceptor that, after each attempt, decides whether the SDK's retry loop
//! may go on and after what delay.
//!
//! The SDK's standard retry strategy reads the call's `RetryConfig` from the config bag before
//! each retry, so the interceptor (which runs after each attempt, before that decision) puts
//! there one more attempt and the wait engine's next delay while a row matches and its budget
//! lasts, no further attempt once it is spent, and the client's own `RetryConfig` otherwise
//! (with its attempts counted after the propagation retries).
//!
//! The standard strategy also takes a permit from the call's `TokenBucket` (the client's retry
//! partition: 500 tokens, 5 a retry) before each retry, and refuses the retry when there is none.
//! A propagation retry is not a fault the quota protects against, so for it the hook puts an
//! unlimited bucket of the call's own in the config bag (it shadows the partition's), and puts the
//! partition's back for every other decision: propagation retries neither spend the client's
//! quota nor are refused by it, and the SDK's own retries keep it. The retry count recorded is
//! the retries made (a retry decided but not made, after the last attempt, is not counted).

use std::fmt;

use aws_smithy_runtime::client::retries::TokenBucket;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::RetryConfig;
use tokio::time::Instant;

use super::{Propagation, Signature, Waited};

const NAME: &str = "aws-settle-propagation";

/// Whether an interceptor or classifier is one of ours (attaching again replaces it).
pub(super) fn is_ours(name: &str) -> bool {
    name == NAME
}

/// The hooks for a client of `service`.
pub(super) fn parts(service: &'static str, propagation: &Propagation) -> (Hook, Classifier) {
    let classifier = Classifier { service, propagation: propagation.clone() };
    (Hook { service, propagation: propagation.clone() }, classifier)
}

/// The code and body text of an error answer.
fn error_of(response: &HttpResponse) -> Option<(String, String)> {
    let status = response.status().as_u16();
    let body = response.body().bytes();
    let header = response.headers().get("x-amzn-errortype");
    let code = crate::observe::classify::error_code(status, header, body)?;
    let text = body.map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    Some((code, text))
}

fn matches(signature: &Signature, code: &str, text: &str) -> bool {
    signature.code == code && text.contains(signature.message)
}

/// Marks an error that matches a row of its client's service retryable (the interceptor then
/// bounds it per operation and budget); leaves every other answer as earlier classifiers saw it.
#[derive(Clone)]
pub(crate) struct Classifier {
    service: &'static str,
    propagation: Propagation,
}

impl fmt::Debug for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classifier").field("service", &self.service).finish()
    }
}

impl ClassifyRetry for Classifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        self.classify_retry_v2(ctx, &RetryAction::NoActionIndicated)
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        let Some((code, text)) = ctx.response().and_then(error_of) else { return previous.clone() };
        let ours = self
            .propagation
            .signatures()
            .iter()
            .any(|s| s.service == self.service && matches(s, &code, &text));
        // Throttling-kind: the standard strategy then takes its backoff from the RetryConfig the
        // interceptor put (the non-throttling one may come from the client's retry spec instead).
        if ours { RetryAction::throttling_error() } else { previous.clone() }
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// One call's propagation retries so far, in its config bag.
#[derive(Debug, Clone)]
struct CallState {
    started: Instant,
    /// The client's own retry config.
    base: RetryConfig,
    /// Propagation retries decided (the last one not made yet while `pending`).
    retries: u32,
    pending: bool,
    waits_for: Option<&'static str>,
    /// The client's retry-partition bucket, put back for every retry that is not ours.
    partition: Option<TokenBucket>,
}

impl Storable for CallState {
    type Storer = StoreReplace<Self>;
}

/// Decides, after each attempt, whether the SDK may retry and after what delay.
#[derive(Clone)]
pub(crate) struct Hook {
    service: &'static str,
    propagation: Propagation,
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook").field("service", &self.service).finish()
    }
}

impl Intercept for Hook {
    fn name(&self) -> &'static str {
        NAME
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let base = cfg.load::<RetryConfig>().cloned().unwrap_or_else(RetryConfig::standard);
        let state = CallState {
            started: Instant::now(),
            base,
            retries: 0,
            pending: false,
            waits_for: None,
            partition: None,
        };
        cfg.interceptor_state().store_put(state);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(mut state) = cfg.load::<CallState>().cloned() else { return Ok(()) };
        // The retry decided after the previous attempt was this attempt.
        state.pending = false;
        if state.partition.is_none() {
            // Before the hook ever shadows it: the bucket the SDK put in for the client's partition.
            state.partition = cfg.load::<TokenBucket>().cloned();
        }
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default();
        let attempts = cfg.load::<RequestAttempts>().map(|a| a.attempts()).unwrap_or(1);
        let error = context.response().and_then(error_of);
        let service_row = error.as_ref().is_some_and(|(code, text)| {
            self.propagation.signatures().iter().any(|s| s.service == self.service && matches(s, code, text))
        });
        let row = error.as_ref().and_then(|(code, text)| {
            self.propagation
                .signatures()
                .iter()
                .find(|s| s.service == self.service && s.operation == operation && matches(s, code, text))
                .copied()
        });
        let delay = row.and_then(|row| {
            let delays = self.propagation.delays.clone().max_wait(row.budget);
            delays.next_delay(state.retries + 1, state.started.elapsed(), &mut rand::rng())
        });
        let ours = row.is_some() && delay.is_some();
        if let (false, Some(partition)) = (ours, &state.partition) {
            cfg.interceptor_state().store_put(partition.clone());
        }
        let config = match (row, delay) {
            (Some(row), Some(delay)) => {
                state.retries += 1;
                state.pending = true;
                cfg.interceptor_state().store_put(TokenBucket::unlimited());
                state.waits_for = Some(row.waits_for);
                tracing::debug!(
                    target: "aws_settle::propagate",
                    service = self.service, operation = %operation, retry = state.retries, delay_ms = delay.as_millis() as u64,
                    "{} not yet visible to {}:{operation}: retrying", row.waits_for, self.service
                );
                // The SDK's standard strategy sleeps a jittered share of `delay`; the next delay is
                // drawn against the call's real elapsed time, so the budget holds either way.
                RetryConfig::standard()
                    .with_max_attempts(attempts + 1)
                    .with_initial_backoff(delay)
                    .with_max_backoff(delay)
            }
            // A row's error past its budget, or another operation's: no retry of ours, nor the SDK's.
            _ if service_row => state.base.clone().with_max_attempts(attempts),
            // Anything else: the client's own policy, its attempts counted after ours.
            _ => state.base.clone().with_max_attempts(state.base.max_attempts() + state.retries),
        };
        cfg.interceptor_state().store_put(config);
        cfg.interceptor_state().store_put(state);
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(state) = cfg.load::<CallState>() else { return Ok(()) };
        let Some(waits_for) = state.waits_for else { return Ok(()) };
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default();
        let succeeded = context.output_or_error().is_some_and(|o| o.is_ok());
        let waited = Waited {
            service: self.service,
            operation,
            waits_for,
            retries: state.retries - u32::from(state.pending),
            waited: state.started.elapsed(),
            succeeded,
        };
        tracing::info!(target: "aws_settle::propagate", retries = waited.retries, "{waited}");
        self.propagation.record(waited);
        Ok(())
    }
}
