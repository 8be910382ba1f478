//! Where the governor meets the SDK: an interceptor that names each attempt's key and keeps the
//! retry budget, and a wrapped HTTP connector that waits for the key's slot before sending.
//!
//! Why two pieces: interceptor hooks are synchronous, so they cannot wait for a slot; the
//! connector can, but only sees the HTTP request. The interceptor puts the key's bucket into the
//! request's extensions in `modify_before_transmit` (after signing, the last hook before the
//! connector), and reads each attempt's outcome in `read_after_attempt`. (Our "call" is smithy's
//! "execution"; an "attempt" is one HTTP request of it.)

use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::{Bucket, Governor};
use crate::errors::is_throttling;
use crate::observe::classify::error_code;

/// The interceptor's name; governing again replaces an interceptor of this name.
pub(crate) const GOVERNOR_NAME: &str = "aws-settle govern";

/// Whether `interceptor` is a governor's.
pub(crate) fn is_governor(interceptor: &SharedInterceptor) -> bool {
    interceptor.name() == GOVERNOR_NAME
}

/// The key's bucket of the attempt in flight: in the request's extensions for the connector, and
/// in the config bag for `read_after_attempt`.
#[derive(Debug, Clone)]
struct Ticket {
    governor: Governor,
    bucket: Arc<Bucket>,
}

impl Storable for Ticket {
    type Storer = StoreReplace<Self>;
}

/// The interceptor of a governed client.
#[derive(Debug)]
pub(crate) struct Governed {
    governor: Governor,
    service: &'static str,
}

impl Governed {
    pub(crate) fn new(governor: &Governor, service: &'static str) -> Self {
        Governed { governor: governor.clone(), service }
    }
}

/// The budget refused a retry.
#[derive(Debug, thiserror::Error)]
#[error(
    "aws-settle governor: retry budget spent (retries may be {share:.0}% of calls); \
     not retrying {operation} after a {last}"
)]
pub struct RetryBudgetSpent {
    share: f64,
    operation: String,
    last: &'static str,
}

impl Intercept for Governed {
    fn name(&self) -> &'static str {
        GOVERNOR_NAME
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default();
        let region =
            cfg.load::<aws_types::region::Region>().map(|r| r.as_ref().to_string()).unwrap_or_default();
        let attempt = cfg.load::<RequestAttempts>().map(|a| a.attempts()).unwrap_or(1);
        let bucket = self.governor.bucket(&region, self.service, &operation);
        if attempt <= 1 {
            self.governor.count_call();
        } else if !self.governor.take_retry() {
            let share = self.governor.limits().retry_budget().map(|b| b.share * 100.0).unwrap_or(0.0);
            let last = cfg.load::<LastOutcome>().map(|l| l.0).unwrap_or("failure");
            return Err(Box::new(RetryBudgetSpent { share, operation, last }));
        }
        let ticket = Ticket { governor: self.governor.clone(), bucket };
        context.request_mut().add_extension(ticket.clone());
        cfg.interceptor_state().store_put(ticket);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(ticket) = cfg.load::<Ticket>().cloned() else { return Ok(()) };
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        let throttled = match (ok, context.response()) {
            (false, Some(r)) => {
                let status = r.status().as_u16();
                let code = error_code(status, r.headers().get("x-amzn-errortype"), r.body().bytes());
                is_throttling(code.as_deref(), Some(status))
            }
            _ => false,
        };
        // Only answers count: a lost connection says nothing about the rate.
        if context.response().is_some() {
            ticket.governor.observe(&ticket.bucket, throttled);
        }
        let last = if ok {
            "success"
        } else if throttled {
            "throttle"
        } else {
            "failure"
        };
        cfg.interceptor_state().store_put(LastOutcome(last));
        Ok(())
    }
}

/// How the last attempt ended, for the budget's error.
#[derive(Debug, Clone, Copy)]
struct LastOutcome(&'static str);

impl Storable for LastOutcome {
    type Storer = StoreReplace<Self>;
}

/// The client's HTTP client, whose connectors wait for the attempt's slot before sending.
#[derive(Debug, Clone)]
pub(crate) struct PacedClient {
    inner: SharedHttpClient,
}

impl PacedClient {
    pub(crate) fn wrap(inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(PacedClient { inner })
    }
}

impl HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector { inner: self.inner.http_connector(settings, components) })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let Some(ticket) = request.extension::<Ticket>().cloned() else { return self.inner.call(request) };
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            ticket.governor.wait(&ticket.bucket).await;
            inner.call(request).await
        })
    }
}
