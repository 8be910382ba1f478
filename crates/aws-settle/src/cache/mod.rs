//! A bounded, concurrency-safe cache of SDK clients keyed by their configuration.
//!
//! [`ClientCache`] feels like a map from a [`ClientCacheKey`] (service, region, endpoint,
//! credentials identity, retry, timeouts, behavior version, the layers put on the client — an
//! enforcer, a telemetry —, S3 path style, extras) to a client: ask for a key with a builder, and
//! the builder runs once per key, even when many tasks on many threads ask at the same time; the
//! others wait for that one build and share its client. It holds at most `capacity` clients.
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
//! A key says what its builder builds: a client with an enforcer attached is keyed
//! [`attached`](ClientCacheKey::attached), an instrumented one
//! [`instrumented`](ClientCacheKey::instrumented), so a plain client never comes back where one
//! of those was asked for.
//!
//! # Eviction: which policy for which workload
//!
//! * [`ClientCache::lru`] — least recently used, exactly: every hit moves its key to the front at
//!   once, and inserting into a full cache evicts the key used longest ago, before the insert
//!   returns. For a working set of clients that shifts over time (the roles or regions of the
//!   current job). A `Mutex` around an [`lru::LruCache`], held only to look up or insert (never
//!   while a client is built); builds are single-flight per key through a
//!   [`tokio::sync::OnceCell`].
//! * [`ClientCache::lfu`] — moka's TinyLFU: a key's frequency is estimated from recent accesses
//!   (a count-min sketch), and a new key is *admitted* into a full cache only if it is estimated
//!   to be used more often than the key it would evict; otherwise the new client is returned but
//!   not kept. For many one-off keys beside a few hot ones (a one-off never displaces a hot
//!   client). Not least-frequently-used in the textbook sense: frequencies age, and moka applies
//!   reads and evictions in batches, so [`len`](ClientCache::len) runs pending work first and the
//!   count in `Debug` may lag.

mod key;
mod recent;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::future::Cache;
use moka::policy::EvictionPolicy;

pub use key::ClientCacheKey;
use recent::Recent;

/// A bounded, concurrency-safe cache of clients `C` keyed by [`ClientCacheKey`]; one build per key.
///
/// Cloning a `ClientCache` gives another handle to the same cache.
pub struct ClientCache<C> {
    store: Store<C>,
    counters: Arc<Counters>,
}

enum Store<C> {
    Lru(Arc<Recent<C>>),
    Lfu(Cache<ClientCacheKey, C>),
}

#[derive(Default)]
pub(crate) struct Counters {
    builds: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Counters {
    fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn built(&self) {
        self.builds.fetch_add(1, Ordering::Relaxed);
    }
}

impl<C> Clone for ClientCache<C> {
    fn clone(&self) -> Self {
        let store = match &self.store {
            Store::Lru(recent) => Store::Lru(Arc::clone(recent)),
            Store::Lfu(cache) => Store::Lfu(cache.clone()),
        };
        ClientCache { store, counters: Arc::clone(&self.counters) }
    }
}

impl<C> std::fmt::Debug for ClientCache<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (policy, entries) = match &self.store {
            Store::Lru(recent) => ("lru", recent.len() as u64),
            Store::Lfu(cache) => ("tiny-lfu (entries approximate)", cache.entry_count()),
        };
        f.debug_struct("ClientCache")
            .field("policy", &policy)
            .field("capacity", &self.capacity())
            .field("entries", &entries)
            .field("builds", &self.builds())
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}

impl<C: Clone + Send + Sync + 'static> ClientCache<C> {
    /// A cache of at most `capacity` clients that evicts the least recently used one, at once
    /// (see [the module docs](self)).
    ///
    /// ```
    /// # use aws_settle::cache::{ClientCache, ClientCacheKey};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache: ClientCache<u32> = ClientCache::lru(3);
    /// let k = |i: u32| ClientCacheKey::new("ssm").with("n", i.to_string());
    /// for i in 0..3 { cache.get_or_build(&k(i), || i).await; }
    /// cache.get(&k(0)).await;                       // k0 is now the most recently used
    /// cache.get_or_build(&k(3), || 3).await;        // full: k1, used longest ago, goes
    /// assert!(cache.get(&k(1)).await.is_none() && cache.get(&k(0)).await.is_some());
    /// # });
    /// ```
    pub fn lru(capacity: u64) -> Self {
        ClientCache { store: Store::Lru(Arc::new(Recent::new(capacity))), counters: Arc::default() }
    }

    /// A cache of at most `capacity` clients under moka's TinyLFU policy: a new key is admitted
    /// into a full cache only if its estimated frequency of use beats the key it would evict
    /// (see [the module docs](self)).
    pub fn lfu(capacity: u64) -> Self {
        let cache =
            Cache::builder().max_capacity(capacity).eviction_policy(EvictionPolicy::tiny_lfu()).build();
        ClientCache { store: Store::Lfu(cache), counters: Arc::default() }
    }

    /// The client for `key`, from the cache or else from `build`. Concurrent callers of one
    /// key run one `build` between them; the others wait for its client.
    pub async fn get_or_build<F>(&self, key: &ClientCacheKey, build: F) -> C
    where
        F: FnOnce() -> C,
    {
        let counters = &self.counters;
        match &self.store {
            Store::Lru(recent) => {
                let built = recent
                    .get_or_try_build(key, counters, || async { Ok::<_, std::convert::Infallible>(build()) })
                    .await;
                match built {
                    Ok(client) => client,
                    Err(never) => match *never {},
                }
            }
            Store::Lfu(cache) => {
                if let Some(client) = self.lfu_lookup(cache, key).await {
                    return client;
                }
                cache
                    .get_with_by_ref(key, async {
                        counters.built();
                        build()
                    })
                    .await
            }
        }
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
        let counters = &self.counters;
        match &self.store {
            Store::Lru(recent) => recent.get_or_try_build(key, counters, build).await,
            Store::Lfu(cache) => {
                if let Some(client) = self.lfu_lookup(cache, key).await {
                    return Ok(client);
                }
                cache
                    .try_get_with_by_ref(key, async {
                        counters.built();
                        build().await
                    })
                    .await
            }
        }
    }

    /// The cached client for `key`, if any (never builds; a build in flight is not waited for).
    /// Counts as a hit or a miss; for [`lru`](Self::lru), a hit makes `key` the most recently used.
    pub async fn get(&self, key: &ClientCacheKey) -> Option<C> {
        match &self.store {
            Store::Lru(recent) => {
                let found = recent.get(key);
                self.counters.count(found.is_some());
                found
            }
            Store::Lfu(cache) => self.lfu_lookup(cache, key).await,
        }
    }

    async fn lfu_lookup(&self, cache: &Cache<ClientCacheKey, C>, key: &ClientCacheKey) -> Option<C> {
        let found = cache.get(key).await;
        self.counters.count(found.is_some());
        found
    }

    /// Removes the client for `key`: the next `get_or_build` of it builds again.
    pub async fn invalidate(&self, key: &ClientCacheKey) {
        match &self.store {
            Store::Lru(recent) => recent.remove(key),
            Store::Lfu(cache) => cache.invalidate(key).await,
        }
    }

    /// Applies moka's pending evictions and access records now (an [`lfu`](Self::lfu) cache
    /// otherwise does so in batches, as it is used). An [`lru`](Self::lru) cache has none.
    pub async fn run_pending_tasks(&self) {
        if let Store::Lfu(cache) = &self.store {
            cache.run_pending_tasks().await;
        }
    }

    /// The number of cached clients (builds in flight included), after
    /// [`run_pending_tasks`](Self::run_pending_tasks).
    pub async fn len(&self) -> u64 {
        self.run_pending_tasks().await;
        match &self.store {
            Store::Lru(recent) => recent.len() as u64,
            Store::Lfu(cache) => cache.entry_count(),
        }
    }

    /// Whether no client is cached, after [`run_pending_tasks`](Self::run_pending_tasks).
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}

impl<C> ClientCache<C> {
    /// The most clients the cache holds.
    pub fn capacity(&self) -> u64 {
        match &self.store {
            Store::Lru(recent) => recent.capacity(),
            Store::Lfu(cache) => cache.policy().max_capacity().unwrap_or(u64::MAX),
        }
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
