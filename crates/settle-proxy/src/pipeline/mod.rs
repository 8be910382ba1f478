//! What the proxy does to one AWS request, as named stages run in this order:
//!
//! 1. [`faults`]: **throttle** (token buckets) → **inject** (transient 500/503) → **latency**,
//!    and the write's lag drawn, all decided under one lock;
//! 2. [`guards`]: requests refused while a resource is not ready (a create during a name-reuse
//!    conflict, an item operation on a CREATING table);
//! 3. [`propagation`]: consumer calls naming an IAM principal still new to other services
//!    (a role Lambda cannot assume yet, an instance profile EC2 does not know) refused with the
//!    consumer's own error;
//! 4. [`read`]: **snapshot read**: reads of a lagging resource answered from its pre-write
//!    state, with a status rewrite where the service shows one;
//! 5. [`views`]: the Resource Groups Tagging API view, patched to the old tags;
//!    [`items`]: DynamoDB item reads answered from, or rewritten to, the items' pre-write state,
//!    and item writes that hold it;
//! 6. [`write`]: **lag write**: a retried idempotent write answered as the first time
//!    ([`idempotent`]), else snapshot reads issued, the write forwarded, its windows opened;
//! 7. **forward**: everything else goes upstream untouched.
//!
//! Each stage either answers the request or passes it on. Per-service knowledge (which
//! writes, which reads, conflicts, status rewrites) lives in [`crate::rules`].

pub(crate) mod absent;
pub(crate) mod faults;
pub(crate) mod guards;
pub(crate) mod idempotent;
pub(crate) mod items;
pub(crate) mod propagation;
pub(crate) mod read;
pub(crate) mod views;
pub(crate) mod write;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;

use crate::protocol::{self, ParsedRequest, StoredResponse};
use crate::server::Shared;
use crate::upstream::UpstreamError;

/// The outcome of one request, for the recording.
pub(crate) struct Outcome {
    pub(crate) response: StoredResponse,
    pub(crate) fault: Option<&'static str>,
    pub(crate) upstream: Duration,
}

impl Outcome {
    /// An answer made by the proxy itself, as a fault of this kind.
    pub(crate) fn local(response: StoredResponse, fault: &'static str) -> Self {
        Outcome { response, fault: Some(fault), upstream: Duration::ZERO }
    }
}

/// One request on its way through the stages.
pub(crate) struct Request<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) parts: &'a http::request::Parts,
    pub(crate) parsed: &'a ParsedRequest,
    pub(crate) body: Bytes,
}

impl Request<'_> {
    /// The final stage: sends the request upstream as it came.
    pub(crate) async fn forward(self) -> Outcome {
        forward(self.shared, self.parts, self.body).await
    }
}

/// Runs the stages in order.
pub(crate) async fn process(request: Request<'_>) -> Outcome {
    let hold = match faults::decide(&request).await {
        faults::Decision::PassThrough => return request.forward().await,
        faults::Decision::Answer(outcome) => return outcome,
        faults::Decision::Go(hold) => hold,
    };
    if let Some(outcome) = guards::refuse_if_not_ready(&request) {
        return outcome;
    }
    if let Some(outcome) = propagation::refuse_if_propagating(&request) {
        return outcome;
    }
    let request = match read::from_snapshot(request).await {
        Ok(outcome) => return outcome,
        Err(request) => request,
    };
    let request = match views::tagging(request).await {
        Ok(outcome) => return outcome,
        Err(request) => request,
    };
    let request = match items::dynamodb(request, hold).await {
        Ok(outcome) => return outcome,
        Err(request) => request,
    };
    let shared = request.shared;
    let parsed = request.parsed;
    // Only a write with a client token looks at the remembered answers (and takes the lock).
    let token = crate::rules::idempotency_key(parsed);
    if let Some(key) = &token
        && let Some(outcome) = idempotent::replay(&shared.lock().tokens, key, parsed)
    {
        return outcome;
    }
    let outcome = write::lagged(request, hold).await;
    if let Some(token) = token {
        idempotent::remember(&mut shared.lock().tokens, token, parsed, &outcome);
    }
    outcome
}

/// Sends a request upstream and wraps the answer (a 502 if upstream cannot be reached).
pub(crate) async fn forward(shared: &Shared, parts: &http::request::Parts, body: Bytes) -> Outcome {
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let started = Instant::now();
    let result = shared.send(parts.method.clone(), path, &parts.headers, body).await;
    let upstream = started.elapsed();
    let mut state = shared.lock();
    match result {
        Ok(response) => {
            state.counters.forwarded += 1;
            Outcome { response, fault: None, upstream }
        }
        Err(UpstreamError::Unreachable(e)) => {
            state.counters.upstream_failures += 1;
            Outcome { response: StoredResponse::plain(StatusCode::BAD_GATEWAY, &e), fault: None, upstream }
        }
        Err(UpstreamError::TimedOut(e)) => {
            state.counters.upstream_timeouts += 1;
            Outcome {
                response: StoredResponse::plain(StatusCode::GATEWAY_TIMEOUT, &e),
                fault: None,
                upstream,
            }
        }
    }
}

/// A 400 with AWS's error `code` and `message`, answered by the proxy as a `fault`.
pub(crate) fn refuse(
    info: &protocol::RequestInfo,
    code: &str,
    message: &str,
    fault: &'static str,
) -> Outcome {
    Outcome::local(protocol::render_error(info, StatusCode::BAD_REQUEST, code, message), fault)
}
