//! [`InMemoryStore`]: memos in a map, for one process (and tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, FutureExt, ready};

use super::{Memo, MemoStore, MemoStoreError, Versioned, check_key};

/// Memos in a map shared by clones; lost with the process. The version check and the write
/// happen under one lock.
#[derive(Debug, Clone, Default)]
pub struct InMemoryStore {
    memos: Arc<Mutex<HashMap<String, Versioned>>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many memos it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Versioned>> {
        // A panic elsewhere while holding the lock leaves the map whole (each write is one insert).
        self.memos.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl MemoStore for InMemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, MemoStoreError>> {
        let result = check_key(key).map(|()| self.lock().get(key).cloned());
        ready(result).boxed()
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        memo: &'a Memo,
        expected: u64,
    ) -> BoxFuture<'a, Result<u64, MemoStoreError>> {
        let result = check_key(key).and_then(|()| {
            let mut memos = self.lock();
            let found = memos.get(key).map_or(0, |v| v.version);
            if found != expected {
                return Err(MemoStoreError::Conflict { key: key.to_string(), expected, found: Some(found) });
            }
            memos.insert(key.to_string(), Versioned { memo: memo.clone(), version: expected + 1 });
            Ok(expected + 1)
        });
        ready(result).boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), MemoStoreError>> {
        let result = check_key(key).map(|()| {
            self.lock().remove(key);
        });
        ready(result).boxed()
    }
}
