//! The proxy: its builder, its handle, and the state every request shares.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;

use crate::config::Config;
use crate::connection::Limits;
use crate::control::{Counters, WriteVisibility};
use crate::record::Recorder;
use crate::throttle::TokenBucket;
use crate::visibility::{Book, Release};

/// Most distinct names counted per map (and token buckets kept): service and operation
/// names come from the request, so past this many, new ones share [`OTHER`].
const MAX_NAMES: usize = 4096;
/// The shared entry for names past [`MAX_NAMES`].
const OTHER: &str = "(other)";
/// The longest [`ProxyHandle::flush_recording`] waits.
const FLUSH_BOUND: Duration = Duration::from_secs(10);

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No upstream was given, or it is not an `http://host:port` URL.
    #[error(
        "invalid upstream `{0}`: expected http://HOST:PORT (for HTTPS endpoints, intercept with --mitm instead)"
    )]
    Upstream(String),
    /// The local CA for HTTPS interception could not be loaded or made.
    #[error("HTTPS interception: {0}")]
    Mitm(#[from] crate::mitm::MitmError),
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
            limits: Limits::default(),
            control_token: ControlToken::Generated,
            mitm: None,
        }
    }
}

/// Who may use the control endpoint.
#[derive(Debug, Clone)]
enum ControlToken {
    /// A random token made at start ([`ProxyHandle::control_token`]).
    Generated,
    /// This token.
    Given(String),
    /// Nobody: the control endpoint answers 404.
    Disabled,
}

/// Configures and starts a proxy.
#[derive(Debug, Clone)]
pub struct ProxyBuilder {
    upstream: Option<String>,
    listen: SocketAddr,
    config: Config,
    seed: Option<u64>,
    record: Option<PathBuf>,
    limits: Limits,
    control_token: ControlToken,
    mitm: Option<crate::mitm::MitmConfig>,
}

impl ProxyBuilder {
    /// Also intercepts HTTPS: answers `CONNECT` with TLS ended by a leaf of the local CA (see
    /// [`crate::mitm`]). The upstream becomes optional: tunnels go to their own targets.
    pub fn mitm(mut self, mitm: crate::mitm::MitmConfig) -> Self {
        self.mitm = Some(mitm);
        self
    }

    /// Time limits and the connection cap (see [`Limits`] for the defaults).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The token control requests must carry in the `x-settle-token` header (default: a random
    /// one made at start, see [`ProxyHandle::control_token`]).
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.control_token = ControlToken::Given(token.into());
        self
    }

    /// No control endpoint: `/__settle/` requests are answered 404 (the handle still works).
    pub fn without_control(mut self) -> Self {
        self.control_token = ControlToken::Disabled;
        self
    }

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
        let upstream = match (&self.upstream, &self.mitm) {
            (Some(upstream), _) => upstream.clone(),
            // Plain requests have nowhere to go: answered 502 saying so.
            (None, Some(_)) => "http://no-upstream.invalid".to_string(),
            (None, None) => String::new(),
        };
        let base: Uri =
            upstream.trim_end_matches('/').parse().map_err(|_| ProxyError::Upstream(upstream.clone()))?;
        if base.scheme_str() != Some("http") || base.authority().is_none() {
            return Err(ProxyError::Upstream(upstream));
        }
        let mitm = match &self.mitm {
            Some(config) => Some(Arc::new(crate::mitm::Mitm::new(config, self.limits.max_connections)?)),
            None => None,
        };
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
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "settle-proxy listens beyond loopback: other hosts can reach it and its control endpoint (guarded by its token)");
        }
        let control_token = match self.control_token {
            ControlToken::Generated => Some(random_token()),
            ControlToken::Given(token) => Some(token),
            ControlToken::Disabled => None,
        };
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
            limits: self.limits,
            control_token,
            mitm,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(crate::connection::serve(listener, shared.clone(), stop_rx));
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

    /// The local CA's certificate when intercepting HTTPS ([`ProxyBuilder::mitm`]): what
    /// clients trust (`AWS_CA_BUNDLE`).
    pub fn ca_cert(&self) -> Option<&std::path::Path> {
        self.shared.mitm.as_ref().map(|m| m.ca.cert_path())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token control requests must send in the `x-settle-token` header; `None` when the
    /// control endpoint is disabled.
    pub fn control_token(&self) -> Option<&str> {
        self.shared.control_token.as_deref()
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

    /// Makes the held writes `which` names visible now (see [`Config::held`]); returns how many
    /// `(write, resource)` pairs were released. A resource stays invisible while another held
    /// write still covers it.
    pub fn release(&self, which: &Release) -> usize {
        self.shared.release(which)
    }

    /// Releases every held write.
    pub fn release_all(&self) -> usize {
        self.release(&Release::All)
    }

    /// Releases the held writes on one resource key, e.g. `ssm-parameter:/app/db`
    /// (the keys are in [`ProxyHandle::visibility`] and `GET /__settle/rules`).
    pub fn release_resource(&self, key: &str) -> usize {
        self.release(&Release::Resource(key.to_string()))
    }

    /// Releases the held writes of one write operation, e.g. `PutParameter`.
    pub fn release_operation(&self, operation: &str) -> usize {
        self.release(&Release::Operation(operation.to_string()))
    }

    /// How many `(write, resource)` pairs are held.
    pub fn held(&self) -> usize {
        self.shared.held()
    }

    /// Waits until every request answered so far is written to the recording (at most 10 s);
    /// whether it was. Read the recording after this instead of sleeping.
    pub fn flush_recording(&self) -> bool {
        self.shared.flush_recording()
    }

    /// Stops accepting connections (a background runtime exits too).
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

/// Everything the proxy keeps between requests, under one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) rng: StdRng,
    buckets: HashMap<String, TokenBucket>,
    pub(crate) book: Book,
    pub(crate) counters: Counters,
    /// Answers of idempotent writes, per client token.
    pub(crate) tokens: crate::pipeline::idempotent::Tokens,
}

impl State {
    fn new(config: Config) -> Self {
        let rng = StdRng::seed_from_u64(config.seed.unwrap_or(0));
        let (book, counters, tokens) = (Book::default(), Counters::default(), Default::default());
        State { config, rng, buckets: HashMap::new(), book, counters, tokens }
    }

    /// Takes a token from `key`'s bucket; whether there was one.
    pub(crate) fn take_token(&mut self, key: &str, spec: crate::throttle::Throttle, now: Instant) -> bool {
        let key = if self.buckets.len() < MAX_NAMES || self.buckets.contains_key(key) { key } else { OTHER };
        self.buckets.entry(key.to_string()).or_insert_with(|| TokenBucket::new(spec)).try_take(now)
    }

    /// Counts a request of `service:operation`.
    pub(crate) fn count_request(&mut self, op_key: &str) {
        count(&mut self.counters.per_operation, op_key);
    }

    /// Counts a throttled request of `service:operation`.
    pub(crate) fn count_throttled(&mut self, op_key: &str) {
        self.counters.throttled += 1;
        count(&mut self.counters.throttled_per_operation, op_key);
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) client: Client<HttpConnector, Full<Bytes>>,
    pub(crate) base: String,
    pub(crate) recorder: Recorder,
    pub(crate) limits: Limits,
    pub(crate) control_token: Option<String>,
    /// HTTPS interception, when on.
    pub(crate) mitm: Option<Arc<crate::mitm::Mitm>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("upstream", &self.base).finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
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
        self.lock().book.records(resource, operation)
    }

    pub(crate) fn release(&self, which: &Release) -> usize {
        self.lock().book.release(which, Instant::now())
    }

    pub(crate) fn held(&self) -> usize {
        self.lock().book.held_count()
    }

    pub(crate) fn flush_recording(&self) -> bool {
        self.recorder.flush(FLUSH_BOUND)
    }

    pub(crate) fn reset(&self) {
        let mut state = self.lock();
        let config = state.config.clone();
        *state = State::new(config);
    }
}

/// 128 random bits in hex, from the operating system's generator.
fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds one to `key`'s count; past [`MAX_NAMES`] distinct keys, new ones count under [`OTHER`].
fn count(counts: &mut std::collections::BTreeMap<String, u64>, key: &str) {
    let key = if counts.len() < MAX_NAMES || counts.contains_key(key) { key } else { OTHER };
    *counts.entry(key.to_string()).or_default() += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_requests_cannot_grow_the_counters_or_buckets_without_bound() {
        let mut state = State::new(Config::default());
        let (spec, now) = ("1/s".parse().unwrap(), Instant::now());
        for i in 0..2 * MAX_NAMES {
            let name = format!("svc{i}:Op{i}");
            state.count_request(&name);
            state.take_token(&name, spec, now);
        }
        state.count_request("svc0:Op0");
        assert_eq!(state.counters.per_operation.len(), MAX_NAMES + 1);
        assert_eq!(state.counters.per_operation["svc0:Op0"], 2, "known names keep counting");
        assert_eq!(state.counters.per_operation[OTHER], MAX_NAMES as u64);
        assert!(state.buckets.len() <= MAX_NAMES + 1);
    }
}
