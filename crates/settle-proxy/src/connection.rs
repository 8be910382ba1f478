//! Connections: accepting them within a cap, closing idle and slow ones, reading each request
//! within its time limits, routing control requests, and recording every AWS request.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, watch};

use crate::pipeline::{self, Outcome};
use crate::protocol::{self, StoredResponse};
use crate::record::RecordLine;
use crate::rules;
use crate::server::Shared;

/// The header that carries the control token on `/__settle/` requests.
pub const TOKEN_HEADER: &str = "x-settle-token";
/// Largest control request body (a configuration), whatever `max_body_bytes` says.
const MAX_CONTROL_BODY: usize = 1024 * 1024;

/// Time limits and the connection cap. Defaults: headers within 10 s, an idle keep-alive
/// connection closed after 60 s, a body within 30 s, upstream answering within 60 s, at most
/// 1,024 open connections (more are answered 503 and closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// A request's headers must arrive within this (slow-header clients are closed).
    pub header_read: Duration,
    /// A keep-alive connection with no request in progress is closed after this.
    pub idle: Duration,
    /// A request's body must arrive within this (answered 408 otherwise).
    pub body_read: Duration,
    /// Upstream must answer within this (answered 504 otherwise).
    pub upstream: Duration,
    /// Most open client connections.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            body_read: Duration::from_secs(30),
            upstream: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Accepts connections until `stop` says so.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections.max(1)));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((mut stream, _)) = accepted else {
            // Out of file descriptors, most likely: let some close.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            shared.lock().counters.connections_refused += 1;
            tokio::spawn(async move {
                let refusal = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
                    Content-Type: text/plain\r\nContent-Length: 48\r\n\r\nsettle-proxy: too many connections, retry later\n";
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(refusal)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let shared = shared.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            connection(stream, shared, stop, None).await;
            drop(slot);
        });
    }
}

/// Serves one connection (a client's, or the decrypted inside of a `CONNECT` tunnel to
/// `target`): hyper closes slow headers; an idle watchdog closes it once no request has been in
/// progress for the idle limit, or the proxy stops.
pub(crate) async fn connection<I>(
    stream: I,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    target: Option<crate::mitm::Target>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let limits = shared.limits;
    let activity = Arc::new(Activity::new());
    let service = {
        let (shared, activity, stop) = (shared.clone(), activity.clone(), stop.clone());
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let (shared, activity, stop, target) =
                (shared.clone(), activity.clone(), stop.clone(), target.clone());
            async move {
                if req.method() == Method::CONNECT && target.is_none() {
                    return Ok(crate::mitm::tunnel::connect(shared, req, stop));
                }
                activity.begin();
                let response = match target {
                    Some(target) => crate::mitm::TARGET.scope(target, handle(&shared, req)).await,
                    None => handle(&shared, req).await,
                };
                activity.end();
                Ok::<_, Infallible>(response)
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true)
        .half_close(true)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    loop {
        let idle_for = activity.idle_for();
        let wait = limits.idle.saturating_sub(idle_for.unwrap_or_default());
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(wait) => {
                if activity.idle_for().is_some_and(|idle| idle >= limits.idle) {
                    break;
                }
            }
            _ = stop.changed() => break,
        }
    }
    conn.as_mut().graceful_shutdown();
    // A request in progress finishes (bounded by its own limits); an idle connection closes now.
    let _ = tokio::time::timeout(limits.body_read + limits.upstream, conn).await;
}

/// Requests in progress on a connection, and when the last one ended.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicU64,
    /// Nanoseconds after `opened` when the last request ended (0: none yet).
    last_end_ns: AtomicU64,
    opened: Instant,
}

impl Activity {
    fn new() -> Self {
        Activity { in_flight: AtomicU64::new(0), last_end_ns: AtomicU64::new(0), opened: Instant::now() }
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    fn end(&self) {
        let ns = u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1);
        self.last_end_ns.store(ns, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// How long the connection has had no request in progress; `None` while one is.
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let since = self.opened + Duration::from_nanos(self.last_end_ns.load(Ordering::SeqCst));
        Some(since.elapsed())
    }
}

fn to_response(stored: StoredResponse, method: &Method) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(stored.body));
    *response.status_mut() = stored.status;
    let mut headers = stored.headers;
    if *method != Method::HEAD {
        headers.remove(http::header::CONTENT_LENGTH);
    }
    *response.headers_mut() = headers;
    response
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyError {
    /// Declared or streamed beyond the limit.
    TooLarge,
    /// The client hung up or sent a malformed body.
    Unreadable,
    /// The body did not arrive within [`Limits::body_read`].
    TooSlow,
}

impl BodyError {
    fn response(self, max: usize, limit: Duration) -> StoredResponse {
        match self {
            BodyError::TooLarge => StoredResponse::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body exceeds the proxy's limit of {max} bytes (config max_body_bytes)"),
            ),
            BodyError::Unreadable => {
                StoredResponse::plain(StatusCode::BAD_REQUEST, "could not read the request body (truncated?)")
            }
            BodyError::TooSlow => StoredResponse::plain(
                StatusCode::REQUEST_TIMEOUT,
                &format!("the request body did not arrive within {limit:?}"),
            ),
        }
    }

    fn fault(self) -> &'static str {
        match self {
            BodyError::TooLarge => "too-large",
            BodyError::Unreadable => "unreadable",
            BodyError::TooSlow => "too-slow",
        }
    }
}

/// Reads a whole request body of at most `max` bytes within `limit`.
async fn read_body(
    headers: &HeaderMap,
    body: Incoming,
    max: usize,
    limit: Duration,
) -> Result<Bytes, BodyError> {
    let declared = protocol::header_str(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    match tokio::time::timeout(limit, Limited::new(body, max).collect()).await {
        Err(_) => Err(BodyError::TooSlow),
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge)
        }
        Ok(Err(_)) => Err(BodyError::Unreadable),
    }
}

/// Whether a request is signed for AWS (SigV4 or SigV2, header or query): such a request is
/// never a control request, whatever its path (an S3 key may be `__settle/config`).
fn signed_for_aws(parts: &http::request::Parts) -> bool {
    parts.headers.contains_key(http::header::AUTHORIZATION)
        || parts.uri.query().is_some_and(|q| {
            protocol::query::parse_form(q.as_bytes())
                .iter()
                .any(|(k, _)| k == "X-Amz-Signature" || k == "Signature")
        })
}

/// Answers a control request: the token must match (health excepted), the body is small.
async fn control(shared: &Shared, parts: &http::request::Parts, body: Incoming) -> StoredResponse {
    let path = parts.uri.path();
    let Some(token) = &shared.control_token else {
        return StoredResponse::plain(
            StatusCode::NOT_FOUND,
            "the control endpoint is disabled (--no-control)",
        );
    };
    let sent = protocol::header_str(&parts.headers, TOKEN_HEADER);
    if path.trim_end_matches('/') != "/__settle/health" && sent != Some(token.as_str()) {
        return StoredResponse::plain(
            StatusCode::UNAUTHORIZED,
            &format!(
                "control requests need the header `{TOKEN_HEADER}: TOKEN` with the token the proxy printed at start"
            ),
        );
    }
    match read_body(&parts.headers, body, MAX_CONTROL_BODY, shared.limits.body_read).await {
        Ok(body) => crate::control::handle(shared, &parts.method, path, parts.uri.query(), &body),
        Err(e) => e.response(MAX_CONTROL_BODY, shared.limits.body_read),
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let arrived_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    if parts.uri.path().starts_with("/__settle/") && !signed_for_aws(&parts) {
        return to_response(control(shared, &parts, body).await, &method);
    }
    let (max, limit) = (shared.lock().config.max_body_bytes, shared.limits.body_read);
    let (parsed, outcome) = match read_body(&parts.headers, body, max, limit).await {
        Ok(body) => {
            let mut parsed = protocol::parse(&parts.method, &parts.uri, &parts.headers, &body);
            parsed.info.resource = rules::resource_of(&parsed);
            let request = pipeline::Request { shared, parts: &parts, parsed: &parsed, body };
            let outcome = pipeline::process(request).await;
            (parsed, outcome)
        }
        Err(e) => {
            let mut state = shared.lock();
            state.counters.requests += 1;
            if e == BodyError::TooLarge {
                state.counters.too_large += 1;
            }
            drop(state);
            // Recorded like any other request, from what the headers tell.
            let mut parsed = protocol::parse(&parts.method, &parts.uri, &parts.headers, &[]);
            parsed.info.resource = rules::resource_of(&parsed);
            (parsed, Outcome::local(e.response(max, limit), e.fault()))
        }
    };
    record(shared, &parsed, &outcome, &method, arrived_ms, started);
    to_response(outcome.response, &method)
}

/// Queues the recording line of one AWS request.
fn record(
    shared: &Shared,
    parsed: &protocol::ParsedRequest,
    outcome: &Outcome,
    method: &Method,
    arrived_ms: u128,
    started: Instant,
) {
    let record_params = shared.lock().config.record_params;
    let response = &outcome.response;
    let error_code = protocol::error_code(response.status, &response.headers, &response.body);
    let params = record_params.then(|| match &parsed.json {
        Some(json) => {
            let mut json = json.clone();
            crate::record::redact_json(&mut json);
            json
        }
        None => crate::record::redact_params(&parsed.params),
    });
    shared.recorder.record(&RecordLine {
        time: crate::record::rfc3339(arrived_ms),
        service: parsed.info.service.clone(),
        operation: parsed.info.operation.clone(),
        resource: parsed.info.resource.clone(),
        method: method.to_string(),
        status: response.status.as_u16(),
        error_code,
        fault: outcome.fault,
        upstream_ms: outcome.upstream.as_secs_f64() * 1000.0,
        total_ms: started.elapsed().as_secs_f64() * 1000.0,
        params,
    });
}
