//! Stage 4, **share** (feature `fleet`): one budget for every process, on Valkey/Redis.
//!
//! Two ways to share, both measured by the `throttled_fleet` benchmark (see BENCHMARKS.md):
//!
//! * [`Sharing::Lease`] (the default): once a period (1 s) each member renews its lease on every
//!   key it used: an atomic script adds it to the key's live members, applies what it saw since
//!   the last renewal to the fleet's rate (the same adaptive rule as `rate.rs`, on the server's
//!   clock) and answers the rate and the member count. The member then paces itself locally at
//!   rate ÷ members. A request never waits on the server.
//! * [`Sharing::PerRequest`]: every request reserves its slot with a GCRA script on the server
//!   (one round trip each), at the fleet's rate learned by the same renewals. Exact even when
//!   members' traffic is uneven, at the cost of a round trip per request and a hard dependency
//!   on the server's latency.
//!
//! The retry budget is shared the same way: members report calls and retries, the server keeps
//! the decayed sums and each member gets its part of what is left until the next renewal.
//!
//! Fail-open: commands have a short timeout; a renewal that fails marks the backend offline
//! (one warning per outage, [`FALLBACKS_TOTAL`](super::FALLBACKS_TOTAL) + 1,
//! [`SHARED_ONLINE`](super::SHARED_ONLINE) = 0) and every key goes on with the local limiter at
//! the share it last had; the next renewal that succeeds brings the fleet back. Keys carry a hash
//! tag, so each script touches one slot of a cluster (ElastiCache cluster mode).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::rate::{Adapt, Pace, Seen};
use super::{Bucket, FALLBACKS_TOTAL, Governor, Inner, Limits, SHARED_ONLINE};

/// How members share a key's rate. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    /// Leased shares, renewed once a period; no round trip per request.
    #[default]
    Lease,
    /// A GCRA reservation on the server for every request.
    PerRequest,
}

/// How a fleet governor talks to its server. Defaults: [`Sharing::Lease`], renewals every second,
/// a member counts as gone 3 s after its last renewal, commands time out after 250 ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetOptions {
    sharing: Sharing,
    period: Duration,
    member_ttl: Duration,
    timeout: Duration,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            sharing: Sharing::Lease,
            period: Duration::from_secs(1),
            member_ttl: Duration::from_secs(3),
            timeout: Duration::from_millis(250),
        }
    }
}

impl FleetOptions {
    /// Shares with `sharing`.
    pub fn with_sharing(mut self, sharing: Sharing) -> Self {
        self.sharing = sharing;
        self
    }

    /// Renews every `period` (members count as gone after three periods).
    pub fn with_period(mut self, period: Duration) -> Self {
        self.period = period.max(Duration::from_millis(10));
        self.member_ttl = self.period * 3;
        self
    }

    /// Gives each command `timeout` before the member goes on alone.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How members share.
    pub fn sharing(&self) -> Sharing {
        self.sharing
    }

    /// The renewal period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// A fleet governor could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The server URL did not parse (the URL is not repeated: it may hold a password).
    #[error("fleet governor: the server URL is not a redis:// / rediss:// / valkey:// URL: {reason}")]
    Url {
        /// What the redis crate said, without the URL.
        reason: String,
    },
}

/// Registers the member, applies what it saw to the fleet's rate, answers `"<rate> <members>"`.
const LEASE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local members = redis.call('ZCARD', KEYS[2])
local ceiling = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'rate', 'cut', 'raise')
local rate = tonumber(s[1]) or ceiling
local cut = tonumber(s[2]) or 0
local raise = tonumber(s[3]) or now
if rate > ceiling then rate = ceiling end
if ARGV[10] == '1' then
  if tonumber(ARGV[4]) > 0 then
    if now - cut >= tonumber(ARGV[8]) then
      rate = math.max(rate * tonumber(ARGV[6]), math.min(tonumber(ARGV[9]), ceiling))
      cut = now
    end
    raise = now
  elseif tonumber(ARGV[5]) > 0 then
    rate = math.min(ceiling, rate + tonumber(ARGV[7]) * (now - raise) / 1000)
    raise = now
  end
end
redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'cut', cut, 'raise', raise)
redis.call('PEXPIRE', KEYS[1], ttl * 20)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
return tostring(rate) .. ' ' .. members
"#;

/// Adds a member's calls and retries to the fleet's decayed sums; answers `"<left> <members>"`.
const BUDGET: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[7])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local members = redis.call('ZCARD', KEYS[2])
local s = redis.call('HMGET', KEYS[1], 'calls', 'retries', 'at')
local at = tonumber(s[3]) or now
local k = math.pow(0.5, (now - at) / tonumber(ARGV[6]))
local calls = (tonumber(s[1]) or 0) * k + tonumber(ARGV[2])
local retries = (tonumber(s[2]) or 0) * k + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'calls', tostring(calls), 'retries', tostring(retries), 'at', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]) * 20)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
local left = tonumber(ARGV[4]) * calls + tonumber(ARGV[5]) - retries
if left < 0 then left = 0 end
return tostring(left) .. ' ' .. members
"#;

/// GCRA with a burst of one: reserves the next slot at `interval` µs after the last, answers
/// how many µs to wait for it.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - now
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.floor((wait + interval) / 1000) + 1000)
return tostring(wait)
"#;

/// The shared backend of a governor.
#[derive(Debug)]
pub(crate) struct Fleet {
    conn: ConnectionManager,
    member: String,
    /// The account label, the label of the fleet's metrics.
    account: String,
    options: FleetOptions,
    online: AtomicBool,
    /// Whether a renewal ever succeeded (the first failure warns whatever).
    ever: AtomicBool,
    lease: Script,
    budget: Script,
    gcra: Script,
}

impl Governor {
    /// A governor whose budget is shared, through the Valkey/Redis server at `url`
    /// (`redis://host:6379`, `rediss://…` with TLS, a password in the URL as the server wants),
    /// by every governor with the same limits and account label. Never waits for the server:
    /// until it answers, the governor paces alone.
    pub fn fleet(url: &str, limits: Limits, options: FleetOptions) -> Result<Governor, FleetError> {
        let client =
            redis::Client::open(url).map_err(|e| FleetError::Url { reason: format!("{:?}", e.kind()) })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_max_delay(options.period);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| FleetError::Url { reason: format!("{:?}", e.kind()) })?;
        let member = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        let fleet = Fleet {
            conn,
            member,
            account: limits.account.clone(),
            options,
            online: AtomicBool::new(false),
            ever: AtomicBool::new(false),
            lease: Script::new(LEASE),
            budget: Script::new(BUDGET),
            gcra: Script::new(GCRA),
        };
        let inner = Arc::new(Inner {
            limits,
            keys: Default::default(),
            budget: std::sync::Mutex::new(super::BudgetState::new()),
            fleet: Some(fleet),
        });
        tokio::spawn(renew_forever(Arc::downgrade(&inner)));
        Ok(Governor { inner })
    }

    /// Whether the shared backend answered the last renewal (`false` for a local governor).
    pub fn is_shared(&self) -> bool {
        self.inner.fleet.as_ref().is_some_and(|f| f.online.load(Ordering::Relaxed))
    }
}

/// Renews every period until the governor is dropped.
async fn renew_forever(inner: Weak<Inner>) {
    let period = match inner.upgrade() {
        Some(inner) => inner.fleet.as_ref().map(|f| f.options.period).unwrap_or(Duration::from_secs(1)),
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        renew(&inner).await;
    }
}

/// One renewal of every key used lately, and of the retry budget.
pub(crate) async fn renew(inner: &Inner) {
    let Some(fleet) = &inner.fleet else { return };
    let idle = fleet.options.member_ttl * 10;
    let buckets: Vec<Arc<Bucket>> = inner
        .keys
        .lock()
        .map(|k| k.values().filter(|b| b.lock().last_used.elapsed() < idle).cloned().collect())
        .unwrap_or_default();
    let mut ok = true;
    for bucket in &buckets {
        match fleet.lease(&inner.limits, bucket).await {
            Ok((rate, members)) => bucket.shared_answer(rate, members),
            Err(e) => {
                ok = false;
                fleet.went_offline(&e);
                break;
            }
        }
    }
    if ok && let Some(budget) = inner.limits.budget {
        let spent = {
            let mut b = inner.budget.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut b.unreported)
        };
        match fleet.budget(&inner.limits, budget, spent).await {
            Ok(allowance) => {
                inner.budget.lock().unwrap_or_else(|p| p.into_inner()).allowance = Some(allowance)
            }
            Err(e) => {
                ok = false;
                fleet.went_offline(&e);
            }
        }
    }
    if ok {
        fleet.came_back();
    } else {
        inner.budget.lock().unwrap_or_else(|p| p.into_inner()).allowance = None;
        for bucket in &buckets {
            bucket.lock().shared = false;
        }
    }
}

impl Fleet {
    /// `{...}` hash tag: every key of one script lands on one cluster slot.
    fn redis_key(key: &super::Key, what: &str) -> String {
        format!("settle:gov:{{{key}}}:{what}")
    }

    async fn lease(&self, limits: &Limits, bucket: &Bucket) -> redis::RedisResult<(f64, u32)> {
        let seen = std::mem::take(&mut bucket.lock().unreported);
        let rule = Adapt::for_ceiling(bucket.ceiling);
        let reply: String = self
            .lease
            .key(Self::redis_key(bucket.key(), "state"))
            .key(Self::redis_key(bucket.key(), "members"))
            .arg(&self.member)
            .arg(self.options.member_ttl.as_millis() as u64)
            .arg(bucket.ceiling)
            .arg(seen.throttles)
            .arg(seen.successes)
            .arg(rule.decrease)
            .arg(rule.increase_per_sec)
            .arg(rule.cooldown.as_millis() as u64)
            .arg(rule.floor)
            .arg(if limits.adapt { "1" } else { "0" })
            .invoke_async(&mut self.conn.clone())
            .await
            .inspect_err(|_| restore(bucket, seen))?;
        pair(&reply)
    }

    async fn budget(
        &self,
        limits: &Limits,
        budget: super::RetryBudget,
        spent: super::Spent,
    ) -> redis::RedisResult<f64> {
        let account = &limits.account;
        let reply: String = self
            .budget
            .key(format!("settle:gov:{{{account}}}:budget"))
            .key(format!("settle:gov:{{{account}}}:budget-members"))
            .arg(&self.member)
            .arg(spent.calls)
            .arg(spent.retries)
            .arg(budget.share)
            .arg(budget.headroom)
            .arg(budget.half_life.as_millis().max(1) as u64)
            .arg(self.options.member_ttl.as_millis() as u64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let (left, members) = pair(&reply)?;
        Ok(left / f64::from(members.max(1)))
    }

    /// The key's first lease, asked for before its first request; on failure the member goes
    /// on alone (the renewals keep trying).
    pub(crate) async fn join(&self, limits: &Limits, bucket: &Bucket) {
        match self.lease(limits, bucket).await {
            Ok((rate, members)) => {
                bucket.shared_answer(rate, members);
                self.came_back();
            }
            Err(e) => self.went_offline(&e),
        }
    }

    /// Reserves a slot on the server; `None` when not sharing per request or offline (the
    /// caller paces locally).
    pub(crate) async fn wait_per_request(&self, bucket: &Bucket) -> Option<Duration> {
        if self.options.sharing != Sharing::PerRequest || !self.online.load(Ordering::Relaxed) {
            return None;
        }
        let rate = bucket.lock().rate.max(1e-3);
        let interval_us = (1e6 / rate).round() as u64;
        let reply: redis::RedisResult<String> = self
            .gcra
            .key(Self::redis_key(bucket.key(), "gcra"))
            .arg(interval_us)
            .invoke_async(&mut self.conn.clone())
            .await;
        match reply.ok().and_then(|w| w.parse::<f64>().ok()) {
            Some(wait_us) => {
                let wait = Duration::from_micros(wait_us.max(0.0) as u64);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Some(wait)
            }
            None => None,
        }
    }

    fn went_offline(&self, error: &redis::RedisError) {
        if self.online.swap(false, Ordering::Relaxed) || !self.ever.swap(true, Ordering::Relaxed) {
            // The error's kind and category only: its text may quote the URL.
            tracing::warn!(
                target: "aws_settle::govern",
                kind = ?error.kind(),
                "fleet governor: the shared server did not answer; each member goes on alone at its last share"
            );
            metrics::counter!(FALLBACKS_TOTAL, "account" => self.account.clone()).increment(1);
            metrics::gauge!(SHARED_ONLINE, "account" => self.account.clone()).set(0.0);
        }
    }

    fn came_back(&self) {
        let was_down = self.ever.swap(true, Ordering::Relaxed) && !self.online.load(Ordering::Relaxed);
        if !self.online.swap(true, Ordering::Relaxed) {
            if was_down {
                tracing::info!(target: "aws_settle::govern", "fleet governor: the shared server answers again");
            }
            metrics::gauge!(SHARED_ONLINE, "account" => self.account.clone()).set(1.0);
        }
    }
}

/// Puts back what a failed renewal did not report.
fn restore(bucket: &Bucket, seen: Seen) {
    let mut s = bucket.lock();
    s.unreported.throttles += seen.throttles;
    s.unreported.successes += seen.successes;
}

/// `"<float> <count>"` from a script.
fn pair(reply: &str) -> redis::RedisResult<(f64, u32)> {
    let bad = || redis::RedisError::from((redis::ErrorKind::Parse, "unexpected script reply"));
    let (first, second) = reply.split_once(' ').ok_or_else(bad)?;
    let members: u32 = second.trim().parse().map_err(|_| bad())?;
    Ok((first.trim().parse().map_err(|_| bad())?, members.max(1)))
}

impl Bucket {
    /// Applies a renewal's answer: the fleet's rate and member count.
    fn shared_answer(&self, rate: f64, members: u32) {
        let mut s = self.lock();
        s.shared = true;
        s.rate = rate;
        s.members = members.max(1);
        let share = rate / f64::from(s.members);
        if (share - s.pace.rate()).abs() > s.pace.rate() * 0.005 {
            s.pace = Pace::replacing(share);
        }
        self.publish(&s);
    }
}
