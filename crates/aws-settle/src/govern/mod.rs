//! A client-side rate governor: every attached client paces its requests per
//! account / region / service / operation, learns the rate AWS allows from the throttles it
//! sees, and keeps its retries within a share of its calls; with the `fleet` feature the
//! budget is shared by every process on one Valkey/Redis server.
//!
//! ```no_run
//! # async fn f(sdk_config: aws_types::SdkConfig) {
//! use aws_settle::govern::{Governor, Limits, govern};
//!
//! // SSM documents 40 GetParameter/s per account and region; everything else here gets 20/s.
//! let governor = Governor::local(Limits::new(20.0).with_operation("ssm", "GetParameter", 40.0));
//! # #[cfg(feature = "ssm")] {
//! let ssm = govern(aws_sdk_ssm::Client::new(&sdk_config), &governor); // the one changed line
//! # let _ = ssm; }
//! # }
//! ```
//!
//! How a request goes through, in order:
//!
//! 1. **pace** (`rate.rs`): before it is sent, each attempt takes a slot of its key's GCRA
//!    limiter (the `governor` crate), sleeping until one is free. The wait happens in the
//!    client's HTTP connector, wrapped, because interceptor hooks cannot wait; an interceptor
//!    hands the connector the key (`layer.rs`).
//! 2. **adapt** (`rate.rs`): a throttled attempt cuts the key's rate (×0.7, once per second at
//!    most), throttle-free seconds raise it again (+5% of the ceiling per second), never above the
//!    configured rate. The learned rate is the gauge [`RATE`].
//! 3. **retry budget** (`budget.rs`): a retry is sent only while retries stay within a share of
//!    calls (default 10% plus 10); otherwise the call fails at once with the last error's story
//!    instead of joining a retry storm.
//! 4. **share** (`shared.rs`, feature `fleet`): members lease a share of each key's fleet rate
//!    (rate ÷ live members) from a Valkey/Redis server once a second, and report what they saw;
//!    an atomic server-side script applies the same adaptive rule to the fleet's rate, so a
//!    throttle seen by one member slows every member. A request never waits on the server. If
//!    the server cannot be reached, each member goes on alone at its last share (one warning,
//!    the gauge [`SHARED_ONLINE`] at 0, the counter [`FALLBACKS_TOTAL`]) and rejoins when it
//!    answers: no call fails because the coordinator is down.
//!
//! The governor never sees credentials: its keys hold the account label you give it (default
//! `default`), the region, the service and the operation name.

mod budget;
mod layer;
mod rate;
mod services;
#[cfg(feature = "fleet")]
mod shared;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

pub use budget::RetryBudget;
pub use rate::Adapt;
pub use services::{Govern, govern};
#[cfg(feature = "fleet")]
pub use shared::{FleetError, FleetOptions, Sharing};

use budget::Spent;
use rate::{Pace, Seen, adapt};

/// Gauge: the learned rate of a key (the fleet's, with a shared backend), requests per second.
pub const RATE: &str = "aws_settle_govern_rate";
/// Gauge: this process's share of a key's rate, requests per second.
pub const SHARE: &str = "aws_settle_govern_share";
/// Histogram: how long a request that had to wait for a slot waited, in seconds.
pub const WAIT_SECONDS: &str = "aws_settle_govern_wait_seconds";
/// Counter: throttled attempts seen by the governor.
pub const THROTTLED_TOTAL: &str = "aws_settle_govern_throttled_total";
/// Counter: retries refused by the retry budget.
pub const RETRIES_REFUSED_TOTAL: &str = "aws_settle_govern_retries_refused_total";
/// Counter: times the shared backend could not be reached and members went on alone.
pub const FALLBACKS_TOTAL: &str = "aws_settle_govern_fallbacks_total";
/// Gauge: 1 while the shared backend answers, 0 while members go on alone.
pub const SHARED_ONLINE: &str = "aws_settle_govern_shared_online";

/// What a governor limits. Defaults: the adaptive rule of [`Adapt::for_ceiling`], the
/// [`RetryBudget`] defaults, account label `default`.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    rate: f64,
    operations: BTreeMap<(String, String), f64>,
    account: String,
    adapt: bool,
    budget: Option<RetryBudget>,
}

impl Limits {
    /// At most `rate` requests per second per account, region, service and operation.
    pub fn new(rate: f64) -> Limits {
        Limits {
            rate: sane(rate),
            operations: BTreeMap::new(),
            account: "default".into(),
            adapt: true,
            budget: Some(RetryBudget::default()),
        }
    }

    /// A rate of its own for one operation (`service` as its cargo feature spells it: `ssm`,
    /// `s3`, ...; `operation` as the SDK names it: `GetParameter`).
    pub fn with_operation(mut self, service: &str, operation: &str, rate: f64) -> Limits {
        self.operations.insert((service.into(), operation.into()), sane(rate));
        self
    }

    /// The account label in keys (quotas are per account): an account id or alias, never a
    /// credential.
    pub fn with_account(mut self, account: &str) -> Limits {
        self.account = account.into();
        self
    }

    /// Keeps each key at its configured rate whatever the throttles say.
    pub fn without_adapt(mut self) -> Limits {
        self.adapt = false;
        self
    }

    /// Retries within `budget`.
    pub fn with_retry_budget(mut self, budget: RetryBudget) -> Limits {
        self.budget = Some(budget);
        self
    }

    /// Lets the SDK's retry strategy alone decide retries.
    pub fn without_retry_budget(mut self) -> Limits {
        self.budget = None;
        self
    }

    /// The configured rate of `service`/`operation`.
    pub fn rate_of(&self, service: &str, operation: &str) -> f64 {
        self.operations.get(&(service.to_string(), operation.to_string())).copied().unwrap_or(self.rate)
    }

    /// The account label.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The retry budget, if any.
    pub fn retry_budget(&self) -> Option<RetryBudget> {
        self.budget
    }
}

/// A rate must be positive and finite; anything else is read as the smallest rate, 0.1/s (a
/// governor never stops traffic outright).
fn sane(rate: f64) -> f64 {
    if rate.is_finite() && rate >= 0.1 { rate } else { 0.1 }
}

/// What a governor paces: one AWS API of one account in one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The account label ([`Limits::with_account`]).
    pub account: String,
    /// The region (`us-east-1`), empty if the client has none.
    pub region: String,
    /// The service, as its cargo feature spells it (`ssm`).
    pub service: String,
    /// The operation (`GetParameter`).
    pub operation: String,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{}", self.account, self.region, self.service, self.operation)
    }
}

/// A key's state as the governor sees it now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// The learned rate (the fleet's, with a shared backend), requests per second.
    pub rate: f64,
    /// This process's share of it.
    pub share: f64,
    /// Live members sharing the key (1 without a shared backend; the last count seen while it is
    /// unreachable).
    pub members: u32,
    /// Whether the shared backend answered the last renewal (`false` without one).
    pub shared: bool,
}

/// Paces the clients attached to it; cheap to clone (clones share everything).
#[derive(Debug, Clone)]
pub struct Governor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limits: Limits,
    keys: Mutex<HashMap<Key, Arc<Bucket>>>,
    budget: Mutex<BudgetState>,
    #[cfg(feature = "fleet")]
    fleet: Option<shared::Fleet>,
}

/// The retry budget's local state: decayed sums, and the fleet's allowance while shared.
#[derive(Debug)]
struct BudgetState {
    spent: Spent,
    at: Instant,
    /// Calls and retries not yet reported to the fleet.
    unreported: Spent,
    /// Retries this member may still make until the next renewal (shared only).
    allowance: Option<f64>,
}

/// One key's limiter and adaptive state.
#[derive(Debug)]
pub(crate) struct Bucket {
    key: Key,
    ceiling: f64,
    state: Mutex<BucketState>,
    /// Waiters for a slot, in arrival order (tokio's mutex is fair): without it every waiter
    /// sleeps until the next slot and they race for it, so one request can lose many times in a
    /// row (a 13 s p99 at 16 tasks on 12.5/s) and, waiting in the connector with its body unread
    /// for more than the SDK's stalled-stream grace period (5 s), fail as a stalled upload.
    queue: tokio::sync::Mutex<()>,
    /// Set once the key's first lease was asked for (shared only).
    #[cfg(feature = "fleet")]
    joined: tokio::sync::OnceCell<()>,
}

#[derive(Debug)]
struct BucketState {
    pace: Pace,
    /// The learned rate (the fleet's while shared).
    rate: f64,
    members: u32,
    shared: bool,
    /// What attempts saw since the last local adaptation.
    seen: Seen,
    /// What attempts saw since the last renewal (shared only).
    unreported: Seen,
    last_cut: Instant,
    last_raise: Instant,
    last_used: Instant,
}

impl Governor {
    /// A governor in this process only.
    pub fn local(limits: Limits) -> Governor {
        Governor {
            inner: Arc::new(Inner {
                limits,
                keys: Mutex::default(),
                budget: Mutex::new(BudgetState::new()),
                #[cfg(feature = "fleet")]
                fleet: None,
            }),
        }
    }

    /// The limits it was made with.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The state of `key`, if a request of it was seen.
    pub fn status(&self, key: &Key) -> Option<Status> {
        let bucket = self.inner.keys.lock().ok()?.get(key).cloned()?;
        let s = bucket.lock();
        Some(Status { rate: s.rate, share: s.pace.rate(), members: s.members, shared: s.shared })
    }

    /// Every key seen so far, sorted.
    pub fn keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> =
            self.inner.keys.lock().map(|k| k.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        keys
    }

    /// The bucket of `key`, made on first use.
    pub(crate) fn bucket(&self, region: &str, service: &str, operation: &str) -> Arc<Bucket> {
        let key = Key {
            account: self.inner.limits.account.clone(),
            region: region.into(),
            service: service.into(),
            operation: operation.into(),
        };
        let mut keys = self.inner.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.entry(key.clone())
            .or_insert_with(|| {
                let ceiling = self.inner.limits.rate_of(service, operation);
                // Until its first renewal, a shared key starts at the share it last had (none: the
                // whole rate, cut at once by the first throttle).
                Arc::new(Bucket::new(key, ceiling))
            })
            .clone()
    }

    /// Records a call (first attempt) for the retry budget.
    pub(crate) fn count_call(&self) {
        if self.inner.limits.budget.is_none() {
            return;
        }
        let mut b = self.inner.budget.lock().unwrap_or_else(|p| p.into_inner());
        let budget = self.inner.limits.budget.unwrap_or_default();
        b.age(&budget);
        b.spent.calls += 1.0;
        b.unreported.calls += 1.0;
    }

    /// Whether a retry may be sent; counts it if so.
    pub(crate) fn take_retry(&self) -> bool {
        let Some(budget) = self.inner.limits.budget else { return true };
        let mut b = self.inner.budget.lock().unwrap_or_else(|p| p.into_inner());
        b.age(&budget);
        let allowed = match b.allowance {
            Some(left) if left >= 1.0 => {
                b.allowance = Some(left - 1.0);
                true
            }
            Some(_) => false,
            None => budget.allows(b.spent),
        };
        if allowed {
            b.spent.retries += 1.0;
            b.unreported.retries += 1.0;
        } else {
            metrics::counter!(RETRIES_REFUSED_TOTAL).increment(1);
        }
        allowed
    }

    /// Waits for a slot of `bucket`.
    pub(crate) async fn wait(&self, bucket: &Bucket) {
        #[cfg(feature = "fleet")]
        if let Some(fleet) = &self.inner.fleet {
            // A key's first request joins the fleet first (one round trip per key and process),
            // so a new member starts at its share, not at the whole rate.
            bucket.joined.get_or_init(|| fleet.join(&self.inner.limits, bucket)).await;
            if let Some(waited) = fleet.wait_per_request(bucket).await {
                record_wait(bucket, waited);
                return;
            }
        }
        let mut waited = Duration::ZERO;
        let started = Instant::now();
        // One waiter at a time takes the key's slots, first come first served.
        let _turn = bucket.queue.lock().await;
        if started.elapsed() >= Duration::from_millis(1) {
            waited += started.elapsed();
        }
        loop {
            let next = bucket.lock().pace.take();
            match next {
                None => break,
                Some(wait) => {
                    waited += wait;
                    tokio::time::sleep(wait).await;
                }
            }
        }
        record_wait(bucket, waited);
    }

    /// Records what an attempt of `bucket` saw, and adapts.
    pub(crate) fn observe(&self, bucket: &Bucket, throttled: bool) {
        let mut s = bucket.lock();
        let now = Instant::now();
        s.last_used = now;
        let one =
            if throttled { Seen { throttles: 1, successes: 0 } } else { Seen { throttles: 0, successes: 1 } };
        s.seen.throttles += one.throttles;
        s.seen.successes += one.successes;
        s.unreported.throttles += one.throttles;
        s.unreported.successes += one.successes;
        if throttled {
            metrics::counter!(THROTTLED_TOTAL, &bucket.labels()).increment(1);
        }
        if !self.inner.limits.adapt {
            s.seen = Seen::default();
            return;
        }
        let since_raise = now - s.last_raise;
        if !throttled && since_raise < Duration::from_secs(1) {
            return; // raises are applied once a second
        }
        // The local rule works on this process's share; while shared, the server adapts the
        // fleet's rate and this only reacts at once to a throttle until the next renewal.
        let ceiling = if s.shared { s.pace.rate() } else { s.ceiling_alone(bucket.ceiling) };
        let adapt_rule = Adapt::for_ceiling(bucket.ceiling);
        let (share, cut) = adapt(s.pace.rate(), ceiling, &adapt_rule, s.seen, now - s.last_cut, since_raise);
        if cut {
            s.last_cut = now;
        }
        s.last_raise = now;
        s.seen = Seen::default();
        if (share - s.pace.rate()).abs() > 1e-9 {
            s.pace = Pace::replacing(share);
            if !s.shared {
                s.rate = share * f64::from(s.members);
            }
            bucket.publish(&s);
        }
    }
}

fn record_wait(bucket: &Bucket, waited: Duration) {
    if !waited.is_zero() {
        metrics::histogram!(WAIT_SECONDS, &bucket.labels()).record(waited.as_secs_f64());
    }
}

impl BudgetState {
    fn new() -> Self {
        BudgetState {
            spent: Spent::default(),
            at: Instant::now(),
            unreported: Spent::default(),
            allowance: None,
        }
    }

    fn age(&mut self, budget: &RetryBudget) {
        let now = Instant::now();
        self.spent = budget.decay(self.spent, now - self.at);
        self.at = now;
    }
}

impl Bucket {
    fn new(key: Key, ceiling: f64) -> Bucket {
        let now = Instant::now();
        let state = BucketState {
            pace: Pace::new(ceiling),
            rate: ceiling,
            members: 1,
            shared: false,
            seen: Seen::default(),
            unreported: Seen::default(),
            last_cut: now - Duration::from_secs(3600),
            last_raise: now,
            last_used: now,
        };
        let bucket = Bucket {
            key,
            ceiling,
            state: Mutex::new(state),
            queue: tokio::sync::Mutex::new(()),
            #[cfg(feature = "fleet")]
            joined: tokio::sync::OnceCell::new(),
        };
        bucket.publish(&bucket.lock());
        bucket
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BucketState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key.
    pub(crate) fn key(&self) -> &Key {
        &self.key
    }

    fn labels(&self) -> [(&'static str, String); 4] {
        [
            ("account", self.key.account.clone()),
            ("region", self.key.region.clone()),
            ("service", self.key.service.clone()),
            ("operation", self.key.operation.clone()),
        ]
    }

    /// Sets the rate gauges.
    fn publish(&self, s: &BucketState) {
        metrics::gauge!(RATE, &self.labels()).set(s.rate);
        metrics::gauge!(SHARE, &self.labels()).set(s.pace.rate());
    }
}

impl BucketState {
    /// The most this process may take alone: its whole ceiling when it never shared, else the
    /// share it last had (a member that lost the server does not grab the fleet's whole rate).
    fn ceiling_alone(&self, ceiling: f64) -> f64 {
        if self.members > 1 { (self.rate / f64::from(self.members)).min(ceiling) } else { ceiling }
    }
}
