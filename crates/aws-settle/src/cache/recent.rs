//! The store of [`ClientCache::lru`](super::ClientCache::lru): exact least-recently-used order in
//! an [`lru::LruCache`] behind a `Mutex` (held only to look up, insert or remove, never across an
//! await), and one build per key through a [`OnceCell`] per key.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;
use tokio::sync::OnceCell;

use super::Counters;
use super::key::ClientCacheKey;

/// A failed build's error, shared by every caller that waited for that build.
type SharedError = Arc<dyn Any + Send + Sync>;

/// One key's client, or the build that will make it. Concurrent callers of the key share it: the
/// first to reach the cell builds, the others wait; if that build is dropped, the next waiter
/// builds instead.
struct Flight<C> {
    result: OnceCell<Result<C, SharedError>>,
}

pub(super) struct Recent<C> {
    capacity: u64,
    /// Unbounded as a structure (its bound would be preallocated), bounded by `capacity` here.
    entries: Mutex<LruCache<ClientCacheKey, Arc<Flight<C>>>>,
}

impl<C> Recent<C> {
    pub(super) fn new(capacity: u64) -> Self {
        Recent { capacity, entries: Mutex::new(LruCache::unbounded()) }
    }

    fn entries(&self) -> MutexGuard<'_, LruCache<ClientCacheKey, Arc<Flight<C>>>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops `flight` (a failed build) from the cache, unless a newer flight took its place.
    fn forget(&self, key: &ClientCacheKey, flight: &Arc<Flight<C>>) {
        let mut entries = self.entries();
        if entries.peek(key).is_some_and(|current| Arc::ptr_eq(current, flight)) {
            entries.pop(key);
        }
    }

    pub(super) fn remove(&self, key: &ClientCacheKey) {
        self.entries().pop(key);
    }

    /// Whether `key` is cached (or being built), without making it more recently used.
    #[cfg(test)]
    pub(super) fn contains(&self, key: &ClientCacheKey) -> bool {
        self.entries().contains(key)
    }

    pub(super) fn len(&self) -> usize {
        self.entries().len()
    }

    pub(super) fn capacity(&self) -> u64 {
        self.capacity
    }
}

impl<C: Clone + Send + Sync + 'static> Recent<C> {
    /// The flight of `key`, now the most recently used; a new one (evicting the least recently
    /// used keys beyond capacity) if there is none.
    fn flight(&self, key: &ClientCacheKey) -> Arc<Flight<C>> {
        let mut entries = self.entries();
        if let Some(flight) = entries.get(key) {
            return Arc::clone(flight);
        }
        let flight = Arc::new(Flight { result: OnceCell::new() });
        if self.capacity > 0 {
            entries.push(key.clone(), Arc::clone(&flight));
            while entries.len() as u64 > self.capacity {
                entries.pop_lru();
            }
        }
        flight
    }

    pub(super) async fn get_or_try_build<F, Fut, E>(
        &self,
        key: &ClientCacheKey,
        counters: &Counters,
        build: F,
    ) -> Result<C, Arc<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<C, E>>,
        E: Send + Sync + 'static,
    {
        let flight = self.flight(key);
        if let Some(Ok(client)) = flight.result.get() {
            counters.count(true);
            return Ok(client.clone());
        }
        counters.count(false);
        let mut build = Some(build);
        let result = flight
            .result
            .get_or_init(|| async {
                counters.built();
                let build = build.take().expect("the cell runs one initializer");
                build().await.map_err(|e| Arc::new(e) as SharedError)
            })
            .await;
        let error = match result {
            Ok(client) => return Ok(client.clone()),
            Err(error) => Arc::clone(error),
        };
        self.forget(key, &flight);
        match (error.downcast::<E>(), build) {
            (Ok(error), _) => Err(error),
            // The build this call waited for failed with another error type (another call site
            // of the same key): build with this call's own builder, uncached.
            (Err(_), Some(build)) => {
                counters.built();
                build().await.map_err(Arc::new)
            }
            (Err(_), None) => unreachable!("a call whose builder ran gets its own error type"),
        }
    }

    /// The cached client of `key`, now the most recently used.
    pub(super) fn get(&self, key: &ClientCacheKey) -> Option<C> {
        let flight = self.entries().get(key).map(Arc::clone)?;
        match flight.result.get() {
            Some(Ok(client)) => Some(client.clone()),
            _ => None,
        }
    }
}
