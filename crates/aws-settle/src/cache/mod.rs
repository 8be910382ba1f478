//! A bounded, concurrency-safe cache of SDK clients keyed by their configuration.
//!
//! [`ClientCache`] feels like a map from a [`ClientCacheKey`] (service, region, endpoint,
//! credentials identity, retry, timeouts, behavior version, extras) to a client: ask for a key
//! with a builder, and the builder runs once per key, even when many tasks on many threads ask
//! at the same time; the others wait for that one build and share its client. It holds at most
//! `capacity` clients, evicting the least recently used ([`ClientCache::lru`]) or the least
//! frequently used ([`ClientCache::lfu`]).
//!
//! ```
//! use aws_settle::cache::{ClientCache, ClientCacheKey};
//! # #[derive(Clone)] struct Client(String);
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let cache: ClientCache<Client> = ClientCache::lru(64);
//! let key = ClientCacheKey::new("ssm").region("us-east-1").identity("role/deployer");
//! let ssm = cache.get_or_build(&key, || Client(key.to_string())).await; // builds
//! let again = cache.get_or_build(&key, || unreachable!()).await; // a hit: the builder does not run
//! assert_eq!((cache.builds(), cache.hits(), cache.misses()), (1, 1, 1));
//! # let _ = (ssm, again); });
//! ```
//!
//! With a real SDK client, `C` is e.g. `aws_sdk_ssm::Client` (a cheap `Arc` clone) built with
//! `aws_sdk_ssm::Client::new(&sdk_config)`, and the key is
//! [`ClientCacheKey::from_sdk_config("ssm", &sdk_config, "role/deployer")`](ClientCacheKey::from_sdk_config).
//!
//! # Why moka
//!
//! [moka](https://docs.rs/moka) already is the concurrent, bounded map this needs: LRU and
//! TinyLFU eviction, and `get_with` / `try_get_with`, which run one initializer per key while
//! concurrent callers of that key wait for its result (a failed initializer is not cached).
//! Its `future` cache is used, not `sync`: building a client often awaits (loading a config,
//! assuming a role), and a task waiting for another's build yields instead of blocking a
//! runtime thread.

mod key;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::future::Cache;
use moka::policy::EvictionPolicy;

pub use key::ClientCacheKey;

/// A bounded, concurrency-safe cache of clients `C` keyed by [`ClientCacheKey`]; one build per key.
///
/// Cloning a `ClientCache` gives another handle to the same cache.
pub struct ClientCache<C> {
    inner: Cache<ClientCacheKey, C>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    builds: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<C> Clone for ClientCache<C> {
    fn clone(&self) -> Self {
        ClientCache { inner: self.inner.clone(), counters: Arc::clone(&self.counters) }
    }
}

impl<C> std::fmt::Debug for ClientCache<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCache")
            .field("capacity", &self.capacity())
            .field("entries", &self.inner.entry_count())
            .field("builds", &self.builds())
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}

impl<C: Clone + Send + Sync + 'static> ClientCache<C> {
    /// A cache of at most `capacity` clients that evicts the least recently used one.
    pub fn lru(capacity: u64) -> Self {
        Self::with_policy(capacity, EvictionPolicy::lru())
    }

    /// A cache of at most `capacity` clients that keeps the most frequently used ones (TinyLFU:
    /// a new key is admitted over a full cache only if it is used more often than the one it
    /// would evict).
    pub fn lfu(capacity: u64) -> Self {
        Self::with_policy(capacity, EvictionPolicy::tiny_lfu())
    }

    fn with_policy(capacity: u64, policy: EvictionPolicy) -> Self {
        let inner = Cache::builder().max_capacity(capacity).eviction_policy(policy).build();
        ClientCache { inner, counters: Arc::default() }
    }

    /// The client for `key`, from the cache or else from `build`. Concurrent callers of one
    /// key run one `build` between them; the others wait for its client.
    pub async fn get_or_build<F>(&self, key: &ClientCacheKey, build: F) -> C
    where
        F: FnOnce() -> C,
    {
        if let Some(client) = self.lookup(key).await {
            return client;
        }
        let builds = &self.counters.builds;
        self.inner
            .get_with_by_ref(key, async {
                builds.fetch_add(1, Ordering::Relaxed);
                build()
            })
            .await
    }

    /// The client for `key`, from the cache or else from the fallible, async `build`. Concurrent
    /// callers of one key run one `build` between them and share its result; an error is
    /// returned to all of them and not cached, so the next call builds again.
    ///
    /// ```
    /// # use aws_settle::cache::{ClientCache, ClientCacheKey};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache: ClientCache<u32> = ClientCache::lfu(8);
    /// let key = ClientCacheKey::new("ssm").identity("role/missing");
    /// let failed = cache.get_or_try_build(&key, || async { Err::<u32, _>("AccessDenied") }).await;
    /// assert_eq!(*failed.unwrap_err(), "AccessDenied");
    /// assert_eq!(cache.get_or_try_build(&key, || async { Ok::<_, &str>(7) }).await, Ok(7));
    /// assert_eq!(cache.builds(), 2);
    /// # });
    /// ```
    pub async fn get_or_try_build<F, Fut, E>(&self, key: &ClientCacheKey, build: F) -> Result<C, Arc<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<C, E>>,
        E: Send + Sync + 'static,
    {
        if let Some(client) = self.lookup(key).await {
            return Ok(client);
        }
        let builds = &self.counters.builds;
        self.inner
            .try_get_with_by_ref(key, async {
                builds.fetch_add(1, Ordering::Relaxed);
                build().await
            })
            .await
    }

    /// The cached client for `key`, if any (never builds). Counts as a hit or a miss.
    pub async fn get(&self, key: &ClientCacheKey) -> Option<C> {
        self.lookup(key).await
    }

    async fn lookup(&self, key: &ClientCacheKey) -> Option<C> {
        let found = self.inner.get(key).await;
        let counter = if found.is_some() { &self.counters.hits } else { &self.counters.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Removes the client for `key`: the next `get_or_build` of it builds again.
    pub async fn invalidate(&self, key: &ClientCacheKey) {
        self.inner.invalidate(key).await;
    }

    /// Applies pending evictions and access records now (the cache otherwise does so in
    /// batches, as it is used).
    pub async fn run_pending_tasks(&self) {
        self.inner.run_pending_tasks().await;
    }

    /// The number of cached clients, after [`run_pending_tasks`](Self::run_pending_tasks).
    pub async fn len(&self) -> u64 {
        self.run_pending_tasks().await;
        self.inner.entry_count()
    }

    /// Whether no client is cached, after [`run_pending_tasks`](Self::run_pending_tasks).
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}

impl<C> ClientCache<C> {
    /// The most clients the cache holds.
    pub fn capacity(&self) -> u64 {
        self.inner.policy().max_capacity().unwrap_or(u64::MAX)
    }

    /// How many times a builder ran (successful or not).
    pub fn builds(&self) -> u64 {
        self.counters.builds.load(Ordering::Relaxed)
    }

    /// How many lookups found a cached client.
    pub fn hits(&self) -> u64 {
        self.counters.hits.load(Ordering::Relaxed)
    }

    /// How many lookups found none (whether this caller then built the client or waited for
    /// another caller's build).
    pub fn misses(&self) -> u64 {
        self.counters.misses.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests;
