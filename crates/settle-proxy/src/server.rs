//! The proxy server: hyper http1 in, hyper-util legacy client out.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use crate::config::Config;
use crate::control::{Counters, WriteVisibility};
use crate::protocol::{self, InjectedError, ParsedRequest, Protocol, StoredResponse};
use crate::record::{RecordLine, Recorder};
use crate::rules::{self, Key, tagging};
use crate::throttle::TokenBucket;

/// Largest upstream response the proxy holds in memory.
const MAX_RESPONSE: usize = 512 * 1024 * 1024;
/// Most write-visibility records kept (oldest dropped first).
const MAX_WRITES: usize = 100_000;
/// Most Secrets Manager deletion marks kept.
const MAX_DELETIONS: usize = 100_000;
/// Most distinct names counted per map (and token buckets kept): service and operation
/// names come from the request, so past this many, new ones share [`OTHER`].
const MAX_NAMES: usize = 4096;
/// The shared entry for names past [`MAX_NAMES`].
const OTHER: &str = "(other)";
/// How often requests drop expired snapshots and windows (writes always do).
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Pages of GetResources read for a tagging-view snapshot.
const TAGGING_PAGES: usize = 10;

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No upstream was given, or it is not an `http://host:port` URL.
    #[error("invalid upstream `{0}`: expected http://HOST:PORT (TLS upstreams are not supported)")]
    Upstream(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source} (is the port already taken?)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The recording file could not be created.
    #[error("cannot create the recording {path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The background runtime could not start.
    #[error("cannot start the proxy's runtime: {0}")]
    Runtime(std::io::Error),
}

/// Entry point: `Proxy::builder()`.
#[derive(Debug)]
pub struct Proxy;

impl Proxy {
    /// A builder listening on `127.0.0.1:0` (a free port) with no faults.
    pub fn builder() -> ProxyBuilder {
        ProxyBuilder {
            upstream: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            config: Config::default(),
            seed: None,
            record: None,
        }
    }
}

/// Configures and starts a proxy.
#[derive(Debug, Clone)]
pub struct ProxyBuilder {
    upstream: Option<String>,
    listen: SocketAddr,
    config: Config,
    seed: Option<u64>,
    record: Option<PathBuf>,
}

impl ProxyBuilder {
    /// The endpoint to forward to, e.g. moto's `http://127.0.0.1:5000`.
    pub fn upstream(mut self, url: impl Into<String>) -> Self {
        self.upstream = Some(url.into());
        self
    }

    /// The address to listen on (default `127.0.0.1:0`: a free loopback port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The rules and faults.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The seed of every random draw (overrides the config's).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Streams the recording (JSON lines) to this file.
    pub fn record(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Binds and serves on the current tokio runtime.
    pub async fn start(self) -> Result<ProxyHandle, ProxyError> {
        let upstream = self.upstream.clone().unwrap_or_default();
        let base: Uri =
            upstream.trim_end_matches('/').parse().map_err(|_| ProxyError::Upstream(upstream.clone()))?;
        if base.scheme_str() != Some("http") || base.authority().is_none() {
            return Err(ProxyError::Upstream(upstream));
        }
        let recorder = match &self.record {
            Some(path) => {
                Recorder::to_file(path).map_err(|source| ProxyError::Record { path: path.clone(), source })?
            }
            None => Recorder::disabled(),
        };
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|source| ProxyError::Bind { addr: self.listen, source })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind { addr: self.listen, source })?;
        let mut config = self.config;
        if self.seed.is_some() {
            config.seed = self.seed;
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client =
            Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(config)),
            client,
            base: format!("http://{}", base.authority().map(|a| a.as_str()).unwrap_or("")),
            recorder,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(serve(listener, shared.clone(), stop_rx));
        Ok(ProxyHandle { shared, addr, stop: Arc::new(stop_tx) })
    }

    /// Starts the proxy on its own thread with its own tokio runtime, so it outlives
    /// the runtime of any one test. Returns once it listens.
    pub fn start_background(self) -> Result<ProxyHandle, ProxyError> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("settle-proxy-runtime".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("settle-proxy")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = tx.send(Err(ProxyError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let handle = match self.start().await {
                        Ok(handle) => handle,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    let mut stopped = handle.stop.subscribe();
                    let _ = tx.send(Ok(handle));
                    while !*stopped.borrow() {
                        if stopped.changed().await.is_err() {
                            break;
                        }
                    }
                });
            })
            .map_err(ProxyError::Runtime)?;
        rx.recv()
            .unwrap_or_else(|_| Err(ProxyError::Runtime(std::io::Error::other("the proxy thread exited"))))
    }
}

/// A running proxy. Cloning shares it; [`ProxyHandle::shutdown`] stops it.
#[derive(Debug, Clone)]
pub struct ProxyHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Arc<watch::Sender<bool>>,
}

impl ProxyHandle {
    /// `http://127.0.0.1:PORT`, for an SDK endpoint override.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.shared.config()
    }

    /// Replaces the configuration (token buckets restart full; lags in progress go on).
    pub fn set_config(&self, config: Config) {
        self.shared.set_config(config);
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// Write-visibility records, optionally for one resource key and/or write operation.
    pub fn visibility(&self, resource: Option<&str>, operation: Option<&str>) -> Vec<WriteVisibility> {
        self.shared.visibility(resource, operation)
    }

    /// Drops snapshots, lags, conflicts, counters and visibility records.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops accepting connections (a background runtime exits too).
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

#[derive(Debug)]
struct Snapshot {
    response: StoredResponse,
    expires: Instant,
    writes: Vec<u64>,
}

#[derive(Debug)]
struct StatusWindow {
    status: &'static str,
    read: &'static str,
    blocks: &'static [&'static str],
    expires: Instant,
}

#[derive(Debug)]
struct TagWindow {
    lagging: tagging::Lagging,
    expires: Instant,
}

#[derive(Debug)]
pub(crate) struct State {
    config: Config,
    rng: StdRng,
    buckets: HashMap<String, TokenBucket>,
    snapshots: HashMap<(String, String), Snapshot>,
    status: HashMap<String, StatusWindow>,
    tag_view: Vec<TagWindow>,
    /// Secret name → `None`: scheduled for deletion; `Some(t)`: force-deleted, conflicts until `t`.
    deletions: HashMap<String, Option<Instant>>,
    writes: VecDeque<WriteVisibility>,
    next_write: u64,
    counters: Counters,
    epoch: (Instant, f64),
    /// When [`State::expire`] last ran.
    swept: Instant,
}

impl State {
    fn new(config: Config) -> Self {
        let rng = StdRng::seed_from_u64(config.seed.unwrap_or(0));
        let unix_ms =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        State {
            config,
            rng,
            buckets: HashMap::new(),
            snapshots: HashMap::new(),
            status: HashMap::new(),
            tag_view: Vec::new(),
            deletions: HashMap::new(),
            writes: VecDeque::new(),
            next_write: 0,
            counters: Counters::default(),
            epoch: (Instant::now(), unix_ms),
            swept: Instant::now(),
        }
    }

    fn unix_ms(&self, at: Instant) -> f64 {
        if at >= self.epoch.0 {
            self.epoch.1 + at.duration_since(self.epoch.0).as_secs_f64() * 1000.0
        } else {
            self.epoch.1 - self.epoch.0.duration_since(at).as_secs_f64() * 1000.0
        }
    }

    fn expire(&mut self, now: Instant) {
        self.swept = now;
        self.snapshots.retain(|_, s| s.expires > now);
        self.status.retain(|_, s| s.expires > now);
        self.tag_view.retain(|t| t.expires > now);
        if self.deletions.len() > MAX_DELETIONS {
            self.deletions.retain(|_, until| until.is_some_and(|t| t > now));
        }
    }

    /// [`State::expire`] at most every [`SWEEP_EVERY`], so expired snapshots free their
    /// memory even when no further write comes.
    fn sweep(&mut self, now: Instant) {
        if now.saturating_duration_since(self.swept) >= SWEEP_EVERY {
            self.expire(now);
        }
    }

    fn take_token(&mut self, key: &str, spec: crate::throttle::Throttle, now: Instant) -> bool {
        let key = if self.buckets.len() < MAX_NAMES || self.buckets.contains_key(key) { key } else { OTHER };
        self.buckets.entry(key.to_string()).or_insert_with(|| TokenBucket::new(spec)).try_take(now)
    }

    /// Opens the lag window of a successful write answered at `now`: stores the snapshots it
    /// took, extends windows already open on its keys (an earlier write still lagging), and
    /// records when it becomes visible. A snapshot of the same read that is still live was
    /// taken before an earlier, concurrent write: it is kept, as the older state. Returns
    /// when the window closes.
    fn lag_write(
        &mut self,
        now: Instant,
        lag: Duration,
        info: &protocol::RequestInfo,
        keys: &[Key],
        taken: Vec<(Key, String, StoredResponse)>,
    ) -> Instant {
        self.expire(now);
        let expires = now + lag;
        let id = self.next_write;
        self.next_write += 1;
        self.counters.writes_lagged += 1;
        for (key, read_id, response) in taken {
            self.snapshots.entry((key.id(), read_id)).or_insert(Snapshot {
                response,
                expires,
                writes: vec![id],
            });
        }
        let ids: Vec<String> = keys.iter().map(Key::id).collect();
        let mut extended: Vec<(u64, String)> = Vec::new();
        for ((key_id, _), snapshot) in self.snapshots.iter_mut() {
            if ids.contains(key_id) && !snapshot.writes.contains(&id) {
                if snapshot.expires < expires {
                    snapshot.expires = expires;
                    extended.extend(snapshot.writes.iter().map(|w| (*w, key_id.clone())));
                }
                snapshot.writes.push(id);
            }
        }
        let expires_ms = self.unix_ms(expires);
        for (w, key_id) in extended {
            self.extend_write(w, &key_id, expires_ms);
        }
        let written_at_ms = self.unix_ms(now);
        for key_id in ids {
            // Visible once every snapshot of the key has expired.
            let visible_at = self
                .snapshots
                .iter()
                .filter(|((k, _), _)| *k == key_id)
                .map(|(_, s)| s.expires)
                .fold(expires, Instant::max);
            if self.writes.len() >= MAX_WRITES {
                self.writes.pop_front();
            }
            self.writes.push_back(WriteVisibility {
                id,
                service: info.service.clone(),
                operation: info.operation.clone(),
                resource: key_id,
                lag_ms: lag.as_secs_f64() * 1000.0,
                written_at_ms,
                visible_at_ms: self.unix_ms(visible_at),
                visible: false,
            });
        }
        expires
    }

    /// Moves the visibility of write `id` on `resource` to `visible_at_ms`, if later.
    fn extend_write(&mut self, id: u64, resource: &str, visible_at_ms: f64) {
        // Records are in write order; a write on several keys has one record per key.
        let start = self.writes.partition_point(|w| w.id < id);
        for w in self.writes.range_mut(start..).take_while(|w| w.id == id) {
            if w.resource == resource && w.visible_at_ms < visible_at_ms {
                w.visible_at_ms = visible_at_ms;
            }
        }
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    recorder: Recorder,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("upstream", &self.base).finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn config(&self) -> Config {
        self.lock().config.clone()
    }

    pub(crate) fn set_config(&self, config: Config) {
        let mut state = self.lock();
        if config.seed != state.config.seed {
            state.rng = StdRng::seed_from_u64(config.seed.unwrap_or(0));
        }
        state.config = config;
        state.buckets.clear();
    }

    pub(crate) fn counters(&self) -> Counters {
        let mut counters = self.lock().counters.clone();
        counters.recording_dropped = self.recorder.dropped();
        counters
    }

    pub(crate) fn visibility(&self, resource: Option<&str>, operation: Option<&str>) -> Vec<WriteVisibility> {
        let state = self.lock();
        let now = state.unix_ms(Instant::now());
        state
            .writes
            .iter()
            .filter(|w| {
                resource.is_none_or(|r| w.resource == r) && operation.is_none_or(|o| w.operation == o)
            })
            .map(|w| WriteVisibility { visible: w.visible_at_ms <= now, ..w.clone() })
            .collect()
    }

    pub(crate) fn reset(&self) {
        let mut state = self.lock();
        let config = state.config.clone();
        *state = State::new(config);
    }

    /// Sends a request upstream and reads the whole answer.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<StoredResponse, String> {
        let uri = format!("{}{}", self.base, path_and_query);
        let mut builder = Request::builder().method(method).uri(&uri);
        for (name, value) in headers {
            if !is_hop_by_hop(name.as_str()) && name != http::header::CONTENT_LENGTH {
                builder = builder.header(name, value);
            }
        }
        builder = builder.header(http::header::CONTENT_LENGTH, body.len());
        let request = builder.body(Full::new(body)).map_err(|e| e.to_string())?;
        let response =
            self.client.request(request).await.map_err(|e| format!("upstream {uri}: {}", error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| format!("upstream {uri}: reading the response: {}", error_chain(e.as_ref())))?
            .to_bytes();
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        Ok(StoredResponse { status: parts.status, headers, body })
    }

    /// Issues one snapshot read with the write's credentials.
    async fn snapshot(
        &self,
        read: &rules::SnapshotRead,
        write_headers: &HeaderMap,
        service: &str,
    ) -> Option<StoredResponse> {
        let mut headers = HeaderMap::new();
        for name in ["host", "authorization", "x-amz-date", "x-amz-security-token", "user-agent"] {
            if let Some(v) = write_headers.get(name) {
                headers.insert(http::HeaderName::from_static(name), v.clone());
            }
        }
        retarget_scope(&mut headers, service);
        if let Some(target) = &read.target
            && let Ok(v) = HeaderValue::from_str(target)
        {
            headers.insert("x-amz-target", v);
        }
        if let Some(ct) = read.content_type {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if read.target.is_none() && read.content_type.is_none() {
            headers.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        }
        self.lock().counters.snapshot_reads += 1;
        let response =
            self.send(read.method.clone(), &read.path, &headers, Bytes::from(read.body.clone())).await;
        if response.is_err() {
            // The write goes on unlagged for this read; say so in the counters.
            self.lock().counters.snapshot_failures += 1;
        }
        response.ok()
    }

    /// The pre-write GetResources view of a service's resources, a few pages deep.
    async fn tagging_pages(&self, service: &str, write_headers: &HeaderMap) -> Vec<serde_json::Value> {
        let Some(filter) = tagging::type_filter(service) else { return Vec::new() };
        let mut pages = Vec::new();
        let mut token = String::new();
        for _ in 0..TAGGING_PAGES {
            let mut body = serde_json::json!({"ResourceTypeFilters": [filter], "ResourcesPerPage": 100});
            if !token.is_empty() {
                body["PaginationToken"] = token.clone().into();
            }
            let read = rules::SnapshotRead {
                read_id: "GetResources".into(),
                method: Method::POST,
                path: "/".into(),
                target: Some("ResourceGroupsTaggingAPI_20170126.GetResources".into()),
                content_type: Some("application/x-amz-json-1.1"),
                body: body.to_string(),
            };
            let Some(resp) = self.snapshot(&read, write_headers, "tagging").await else { break };
            let Ok(page) = serde_json::from_slice::<serde_json::Value>(&resp.body) else { break };
            token = page.get("PaginationToken").and_then(|t| t.as_str()).unwrap_or("").to_string();
            pages.push(page);
            if token.is_empty() {
                break;
            }
        }
        pages
    }
}

/// An error and its sources, `outer: inner: ...` (hyper's own messages name only the kind).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let names: Vec<_> = headers.keys().filter(|n| is_hop_by_hop(n.as_str())).cloned().collect();
    for name in names {
        headers.remove(name);
    }
}

/// Points a SigV4 `Authorization` header's credential scope at another service
/// (moto routes by it; it does not check signatures).
fn retarget_scope(headers: &mut HeaderMap, service: &str) {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return };
    let Some((head, rest)) = auth.split_once("Credential=") else { return };
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    let mut parts: Vec<&str> = rest[..end].split('/').collect();
    if parts.len() < 5 {
        return;
    }
    let n = parts.len();
    parts[n - 2] = service;
    let new = format!("{head}Credential={}{}", parts.join("/"), &rest[end..]);
    if let Ok(v) = HeaderValue::from_str(&new) {
        headers.insert("authorization", v);
    }
}

async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .half_close(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
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

/// The outcome of one request, for the recording.
struct Outcome {
    response: StoredResponse,
    fault: Option<&'static str>,
    upstream: Duration,
}

impl Outcome {
    fn local(response: StoredResponse, fault: &'static str) -> Self {
        Outcome { response, fault: Some(fault), upstream: Duration::ZERO }
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyError {
    /// Declared or streamed beyond `max_body_bytes`.
    TooLarge,
    /// The client hung up or sent a malformed body.
    Unreadable,
}

impl BodyError {
    fn response(self, max: usize) -> StoredResponse {
        match self {
            BodyError::TooLarge => StoredResponse::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body exceeds the proxy's limit of {max} bytes (config max_body_bytes)"),
            ),
            BodyError::Unreadable => {
                StoredResponse::plain(StatusCode::BAD_REQUEST, "could not read the request body (truncated?)")
            }
        }
    }
}

/// Reads a whole request body of at most `max` bytes.
async fn read_body(headers: &HeaderMap, body: Incoming, max: usize) -> Result<Bytes, BodyError> {
    let declared = protocol::header_str(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, max).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let arrived_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let max = shared.lock().config.max_body_bytes;
    let body = read_body(&parts.headers, body, max).await;

    if parts.uri.path().starts_with("/__settle/") {
        let resp = match body {
            Ok(body) => crate::control::handle(shared, &method, parts.uri.path(), parts.uri.query(), &body),
            Err(e) => e.response(max),
        };
        return to_response(resp, &method);
    }

    let (parsed, outcome) = match body {
        Ok(body) => {
            let mut parsed = protocol::parse(&parts.method, &parts.uri, &parts.headers, &body);
            parsed.info.resource = rules::resource_of(&parsed);
            let outcome = process(shared, &parts, &parsed, body).await;
            (parsed, outcome)
        }
        Err(e) => {
            let mut state = shared.lock();
            state.counters.requests += 1;
            let fault = match e {
                BodyError::TooLarge => {
                    state.counters.too_large += 1;
                    "too-large"
                }
                BodyError::Unreadable => "unreadable",
            };
            drop(state);
            // Recorded like any other request, from what the headers tell.
            let mut parsed = protocol::parse(&parts.method, &parts.uri, &parts.headers, &[]);
            parsed.info.resource = rules::resource_of(&parsed);
            (parsed, Outcome::local(e.response(max), fault))
        }
    };

    let record_params = shared.lock().config.record_params;
    let error_code =
        protocol::error_code(outcome.response.status, &outcome.response.headers, &outcome.response.body);
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
        status: outcome.response.status.as_u16(),
        error_code,
        fault: outcome.fault,
        upstream_ms: outcome.upstream.as_secs_f64() * 1000.0,
        total_ms: started.elapsed().as_secs_f64() * 1000.0,
        params,
    });
    to_response(outcome.response, &method)
}

async fn forward(shared: &Shared, parts: &http::request::Parts, body: Bytes) -> Outcome {
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
        Err(e) => {
            state.counters.upstream_failures += 1;
            Outcome { response: StoredResponse::plain(StatusCode::BAD_GATEWAY, &e), fault: None, upstream }
        }
    }
}

async fn process(
    shared: &Shared,
    parts: &http::request::Parts,
    parsed: &ParsedRequest,
    body: Bytes,
) -> Outcome {
    let info = &parsed.info;
    let op_key = format!("{}:{}", info.service, info.operation);
    let now = Instant::now();
    // Faults decided under one lock.
    enum Decision {
        PassThrough,
        Answer(Outcome),
        Go(Duration, Duration),
    }
    let decision = {
        let mut state = shared.lock();
        state.sweep(now);
        state.counters.requests += 1;
        count(&mut state.counters.per_operation, &op_key);
        let eff = state.config.effective(&info.service, &info.operation);
        if info.protocol == Protocol::Unknown || !eff.enabled {
            Decision::PassThrough
        } else {
            let mut throttled = false;
            if let Some(spec) = eff.service_throttle {
                throttled |= !state.take_token(&info.service, spec, now);
            }
            if let Some(spec) = eff.operation_throttle
                && !throttled
            {
                throttled |= !state.take_token(&op_key, spec, now);
            }
            if throttled {
                state.counters.throttled += 1;
                count(&mut state.counters.throttled_per_operation, &op_key);
                Decision::Answer(Outcome::local(
                    protocol::render_injected(info, InjectedError::Throttle),
                    "throttle",
                ))
            } else if eff.errors > 0.0 && state.rng.random_bool(eff.errors) {
                state.counters.errors_injected += 1;
                let kind = if state.rng.random_bool(0.5) {
                    InjectedError::Internal
                } else {
                    InjectedError::Unavailable
                };
                Decision::Answer(Outcome::local(protocol::render_injected(info, kind), "error"))
            } else {
                let latency = eff.latency.map(|d| d.sample(&mut state.rng)).unwrap_or_default();
                let lag = eff.lag.map(|d| d.sample(&mut state.rng)).unwrap_or_default();
                Decision::Go(latency, lag)
            }
        }
    };
    let (latency, lag) = match decision {
        Decision::PassThrough => return forward(shared, parts, body).await,
        Decision::Answer(outcome) => return outcome,
        Decision::Go(latency, lag) => (latency, lag),
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    // Secrets Manager: re-creating a name scheduled for deletion, or force-deleted moments ago.
    if info.service == "secretsmanager"
        && info.operation == "CreateSecret"
        && let Some(name) = parsed.json_str("Name").map(rules::secret_name)
    {
        let mut state = shared.lock();
        let conflict = match state.deletions.get(name) {
            Some(None) => true,
            Some(Some(until)) => *until > Instant::now(),
            None => false,
        };
        if conflict {
            state.counters.conflicts += 1;
            return refuse(info, "InvalidRequestException", rules::SCHEDULED_FOR_DELETION, "conflict");
        }
    }

    // DynamoDB: item operations on a table that is still CREATING.
    if let Some(table) = rules::dynamodb_data_plane_table(parsed) {
        let mut state = shared.lock();
        let key = format!("dynamodb-table:{table}");
        let blocked = state
            .status
            .get(&key)
            .is_some_and(|w| w.expires > Instant::now() && w.blocks.contains(&info.operation.as_str()));
        if blocked {
            state.counters.blocked += 1;
            return refuse(info, "ResourceNotFoundException", "Requested resource not found", "blocked");
        }
    }

    // Reads of a lagging resource.
    if let Some(read) = rules::read_rule(parsed) {
        let read_id = rules::read_id(read, parsed);
        let keys = rules::keys(read.key, read.class, parsed);
        if let Some(key) = keys.first() {
            let id = key.id();
            let (snapshot, status) = {
                let mut state = shared.lock();
                let now = Instant::now();
                let snapshot = state
                    .snapshots
                    .get(&(id.clone(), read_id.clone()))
                    .filter(|s| s.expires > now)
                    .map(|s| s.response.clone());
                let status =
                    state.status.get(&id).filter(|w| w.expires > now && w.read == read.op).map(|w| w.status);
                if snapshot.is_some() {
                    state.counters.served_from_snapshot += 1;
                }
                (snapshot, status)
            };
            let mut outcome = match snapshot {
                Some(response) => Outcome::local(response, "lag"),
                None => forward(shared, parts, body).await,
            };
            if let Some(status) = status {
                show_status(shared, &mut outcome, status);
            }
            return outcome;
        }
    }

    // The tagging API view.
    if info.service == "tagging" && info.operation == "GetResources" {
        let lagging: Vec<tagging::Lagging> = {
            let state = shared.lock();
            let now = Instant::now();
            state.tag_view.iter().filter(|t| t.expires > now).map(|t| t.lagging.clone()).collect()
        };
        let mut outcome = forward(shared, parts, body).await;
        if !lagging.is_empty()
            && outcome.response.status.is_success()
            && let Some(patched) = tagging::patch(&outcome.response.body, parsed.json.as_ref(), &lagging)
        {
            outcome.response.body = Bytes::from(patched);
            shared.lock().counters.tagging_view_rewrites += 1;
            outcome.fault = Some("lag");
        }
        return outcome;
    }

    // Writes.
    let Some(write) = rules::write_rule(parsed) else { return forward(shared, parts, body).await };
    let Some(service_rules) = rules::for_service(&info.service) else {
        return forward(shared, parts, body).await;
    };
    let keys = rules::keys(write.key, write.class, parsed);
    if lag.is_zero() || keys.is_empty() {
        let outcome = forward(shared, parts, body).await;
        after_secret_write(shared, parsed, &outcome, Duration::ZERO, &keys);
        return outcome;
    }
    // Snapshot the reads first (those not already frozen by an earlier write still lagging).
    let mut taken: Vec<(Key, String, StoredResponse)> = Vec::new();
    let mut tag_olds: Vec<tagging::Lagging> = Vec::new();
    for key in &keys {
        for read in rules::snapshot_reads(service_rules, write, key, parsed) {
            let frozen = {
                let state = shared.lock();
                state
                    .snapshots
                    .get(&(key.id(), read.read_id.clone()))
                    .is_some_and(|s| s.expires > Instant::now())
            };
            if frozen {
                continue;
            }
            if let Some(resp) = shared.snapshot(&read, &parts.headers, &info.service).await {
                taken.push((key.clone(), read.read_id.clone(), resp));
            }
        }
    }
    if write.tagging {
        let pages = shared.tagging_pages(&info.service, &parts.headers).await;
        for key in &keys {
            tag_olds.push(tagging::Lagging { key: key.clone(), old: tagging::find_entry(&pages, key) });
        }
    }
    let mut outcome = forward(shared, parts, body).await;
    if !outcome.response.status.is_success() {
        return outcome;
    }
    after_secret_write(shared, parsed, &outcome, lag, &keys);
    if let Some(status) = write.status {
        show_status(shared, &mut outcome, status.status);
    }
    let mut state = shared.lock();
    let now = Instant::now();
    let expires = state.lag_write(now, lag, info, &keys, taken);
    if let Some(status) = write.status {
        for key in &keys {
            state.status.insert(
                key.id(),
                StatusWindow { status: status.status, read: status.read, blocks: status.blocks, expires },
            );
        }
    }
    for lagging in tag_olds {
        state.tag_view.push(TagWindow { lagging, expires });
    }
    outcome
}

/// A 400 with AWS's error `code` and `message`, answered by the proxy as a `fault`.
fn refuse(info: &protocol::RequestInfo, code: &str, message: &str, fault: &'static str) -> Outcome {
    Outcome::local(protocol::render_error(info, StatusCode::BAD_REQUEST, code, message), fault)
}

/// Marks Secrets Manager names deleted (scheduled, or force-deleted for `lag`) or restored.
fn after_secret_write(
    shared: &Shared,
    parsed: &ParsedRequest,
    outcome: &Outcome,
    lag: Duration,
    keys: &[Key],
) {
    if parsed.info.service != "secretsmanager" || !outcome.response.status.is_success() {
        return;
    }
    let mut state = shared.lock();
    for key in keys {
        match parsed.info.operation.as_str() {
            "DeleteSecret" => {
                let force = parsed
                    .json
                    .as_ref()
                    .and_then(|j| j.get("ForceDeleteWithoutRecovery"))
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                if force {
                    if lag.is_zero() {
                        state.deletions.remove(&key.name);
                    } else {
                        state.deletions.insert(key.name.clone(), Some(Instant::now() + lag));
                    }
                } else {
                    state.deletions.insert(key.name.clone(), None);
                }
            }
            "RestoreSecret" | "CreateSecret" => {
                state.deletions.remove(&key.name);
            }
            _ => {}
        }
    }
}

/// Adds one to `key`'s count; past [`MAX_NAMES`] distinct keys, new ones count under [`OTHER`].
fn count(counts: &mut std::collections::BTreeMap<String, u64>, key: &str) {
    let key = if counts.len() < MAX_NAMES || counts.contains_key(key) { key } else { OTHER };
    *counts.entry(key.to_string()).or_default() += 1;
}

/// Shows a DynamoDB table status in `outcome` (a fault of kind `status`), and counts it.
fn show_status(shared: &Shared, outcome: &mut Outcome, status: &str) {
    if rewrite_table_status(&mut outcome.response, status) {
        shared.lock().counters.status_rewrites += 1;
        outcome.fault = Some("status");
    }
}

/// Rewrites a DynamoDB table status in a JSON answer; fixes `x-amz-crc32`.
fn rewrite_table_status(response: &mut StoredResponse, status: &str) -> bool {
    if !response.status.is_success() && response.status != StatusCode::BAD_REQUEST {
        return false;
    }
    let Some(body) = rules::dynamodb_rewrite_status(&response.body, status) else { return false };
    if response.headers.contains_key("x-amz-crc32") {
        response.headers.insert("x-amz-crc32", HeaderValue::from(crc32(&body)));
    }
    response.body = Bytes::from(body);
    true
}

/// CRC-32 (IEEE), as DynamoDB's `x-amz-crc32` header carries it.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        Key { class: "ssm-parameter", name: name.into(), reference: vec![name.into()] }
    }

    fn write(state: &mut State, at: Instant, operation: &str, names: &[&str], body: &str) {
        let info = protocol::RequestInfo {
            service: "ssm".into(),
            operation: operation.into(),
            resource: None,
            protocol: Protocol::AwsJson,
        };
        let keys: Vec<Key> = names.iter().map(|n| key(n)).collect();
        let taken = keys
            .iter()
            .map(|k| (k.clone(), "GetParameter".to_string(), StoredResponse::plain(StatusCode::OK, body)))
            .collect();
        state.lag_write(at, Duration::from_secs(1), &info, &keys, taken);
    }

    fn visible_at(state: &State, id: u64, resource: &str) -> f64 {
        let record = state.writes.iter().find(|w| w.id == id && w.resource == resource);
        record.map(|w| w.visible_at_ms).unwrap_or(f64::NAN)
    }

    #[test]
    fn an_overlapping_write_extends_the_right_record_after_a_multi_key_write() {
        let mut state = State::new(Config::default());
        let t0 = Instant::now();
        write(&mut state, t0, "DeleteParameters", &["a", "b"], "ab-before");
        write(&mut state, t0, "PutParameter", &["c"], "c-before");
        let later = t0 + Duration::from_millis(500);
        write(&mut state, later, "PutParameter", &["c"], "c-after-the-first-put");
        let (one_s, one_and_half) =
            (state.unix_ms(t0 + Duration::from_secs(1)), state.unix_ms(later + Duration::from_secs(1)));
        assert_eq!(visible_at(&state, 0, "ssm-parameter:a"), one_s);
        assert_eq!(visible_at(&state, 0, "ssm-parameter:b"), one_s, "not the record of another write");
        assert_eq!(visible_at(&state, 1, "ssm-parameter:c"), one_and_half, "extended by the overlapping put");
        assert_eq!(visible_at(&state, 2, "ssm-parameter:c"), one_and_half);
    }

    #[test]
    fn a_concurrent_write_keeps_the_older_snapshot() {
        let mut state = State::new(Config::default());
        let t0 = Instant::now();
        write(&mut state, t0, "PutParameter", &["c"], "v0");
        // A second write whose snapshot read ran after the first write reached upstream.
        write(&mut state, t0 + Duration::from_millis(10), "PutParameter", &["c"], "v1");
        let snapshot = &state.snapshots[&("ssm-parameter:c".to_string(), "GetParameter".to_string())];
        assert_eq!(snapshot.response.body, "settle-proxy: v0\n", "reads keep showing the pre-write state");
        assert_eq!(snapshot.writes, vec![0, 1]);
        assert_eq!(snapshot.expires, t0 + Duration::from_millis(1010));
    }

    #[test]
    fn names_from_requests_cannot_grow_the_counters_or_buckets_without_bound() {
        let mut state = State::new(Config::default());
        let (spec, now) = ("1/s".parse().unwrap(), Instant::now());
        for i in 0..2 * MAX_NAMES {
            let name = format!("svc{i}:Op{i}");
            count(&mut state.counters.per_operation, &name);
            state.take_token(&name, spec, now);
        }
        count(&mut state.counters.per_operation, "svc0:Op0");
        assert_eq!(state.counters.per_operation.len(), MAX_NAMES + 1);
        assert_eq!(state.counters.per_operation["svc0:Op0"], 2, "known names keep counting");
        assert_eq!(state.counters.per_operation[OTHER], MAX_NAMES as u64);
        assert!(state.buckets.len() <= MAX_NAMES + 1);
    }

    #[test]
    fn requests_sweep_expired_snapshots_without_a_further_write() {
        let mut state = State::new(Config::default());
        let t0 = Instant::now();
        write(&mut state, t0, "PutParameter", &["a"], "old");
        assert_eq!(state.snapshots.len(), 1);
        state.sweep(t0 + Duration::from_millis(500));
        assert_eq!(state.snapshots.len(), 1, "still lagging");
        state.sweep(t0 + Duration::from_secs(2));
        assert!(state.snapshots.is_empty());
    }

    #[test]
    fn crc32_matches_the_reference() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn retargets_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=ab",
            ),
        );
        retarget_scope(&mut headers, "tagging");
        let auth = headers.get("authorization").unwrap().to_str().unwrap();
        assert!(auth.contains("/us-east-1/tagging/aws4_request, SignedHeaders"), "{auth}");
    }
}
