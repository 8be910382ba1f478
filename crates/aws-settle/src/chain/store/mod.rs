//! Durable memos: a [`MemoStore`] keeps each handler's [`Memo`] under a key (a resource or
//! request token), with a version for optimistic concurrency, so that a re-invoked handler —
//! another process, another Lambda instance — resumes where any other left off.
//!
//! Stores: [`InMemoryStore`] (one process), [`FileStore`] (the default: one file per key,
//! written atomically), and `DynamoDbStore` (feature `dynamodb`: a fleet). Every store gives the
//! same guarantee: a [`save`](MemoStore::save) names the version it read; when the stored
//! version moved on meanwhile the save fails with [`MemoStoreError::Conflict`] and changes
//! nothing, so of two writers racing on one memo exactly one wins and no update is lost.
//!
//! A chain saves through a [`Checkpoint`] ([`Chain::checkpoint`](super::Chain::checkpoint)):
//! before each call (its request, e.g. a generated name or idempotency token, is then fixed)
//! and after it (the call is then not made again), so a handler killed between steps resumes.

#[cfg(feature = "dynamodb")]
mod dynamodb;
mod file;
mod memory;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;

use super::memo::Memo;

#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbStore, ITEM_LIMIT};
pub use file::{FILE_LIMIT, FileStore};
pub use memory::InMemoryStore;

/// A memo as stored, with its version (1 after the first save; 0 means "not stored").
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The memo.
    pub memo: Memo,
    /// The version: the number of saves so far.
    pub version: u64,
}

/// Why a memo store could not load or save.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemoStoreError {
    /// Another writer saved the memo since it was read: this save changed nothing.
    #[error("memo {key}: version {expected} was expected, the store holds {}", found.map_or_else(|| "another".to_string(), |v| v.to_string()))]
    Conflict {
        /// The memo's key.
        key: String,
        /// The version the writer read (0: none).
        expected: u64,
        /// The stored version, when the store says it.
        found: Option<u64>,
    },
    /// The memo is larger than the store takes.
    #[error("memo {key}: {bytes} bytes, above the store's limit of {limit}")]
    TooLarge {
        /// The memo's key.
        key: String,
        /// The size of the memo as stored.
        bytes: usize,
        /// The store's limit.
        limit: usize,
    },
    /// The key cannot name a memo in this store (empty, or too long).
    #[error("memo key {key:?}: {reason}")]
    InvalidKey {
        /// The key (bounded).
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The stored memo cannot be read back.
    #[error("memo {key}: the stored memo cannot be read: {reason}")]
    Corrupt {
        /// The memo's key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The store's backend failed (a file system error, a service error's code and message).
    #[error("memo {key}: {what}: {reason}")]
    Backend {
        /// The memo's key.
        key: String,
        /// What was being done.
        what: &'static str,
        /// The error (an [`ErrorSummary`](crate::errors::ErrorSummary) for a service).
        reason: String,
    },
}

impl MemoStoreError {
    /// True for [`Conflict`](Self::Conflict).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// Where memos are kept between invocations. Methods return boxed futures so that a handler
/// can hold any store as `Arc<dyn MemoStore>`.
pub trait MemoStore: fmt::Debug + Send + Sync {
    /// The memo stored under `key`, or `None`.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, MemoStoreError>>;

    /// Stores `memo` under `key` if the stored version is still `expected` (0: nothing stored),
    /// and returns the new version (`expected + 1`); [`MemoStoreError::Conflict`] otherwise.
    fn save<'a>(
        &'a self,
        key: &'a str,
        memo: &'a Memo,
        expected: u64,
    ) -> BoxFuture<'a, Result<u64, MemoStoreError>>;

    /// Removes the memo under `key` (nothing when there is none), e.g. once the handler is done.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), MemoStoreError>>;
}

/// The longest key a store takes, in bytes.
pub const MAX_KEY_BYTES: usize = 200;

fn check_key(key: &str) -> Result<(), MemoStoreError> {
    let reason = if key.is_empty() {
        "empty"
    } else if key.len() > MAX_KEY_BYTES {
        "longer than 200 bytes"
    } else if key.chars().any(char::is_control) {
        "holds a control character"
    } else {
        return Ok(());
    };
    Err(MemoStoreError::InvalidKey { key: key.chars().take(64).collect(), reason })
}

/// A handler's place in a store: its key and the version it last read or wrote. Clones share
/// the version, so every step of a chain (and the runtime saving the final memo) writes on top
/// of the one before.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    store: Arc<dyn MemoStore>,
    key: String,
    version: Arc<AtomicU64>,
}

impl Checkpoint {
    /// Loads the memo under `key` (an empty memo when there is none) and the checkpoint that
    /// saves it.
    pub async fn open(
        store: Arc<dyn MemoStore>,
        key: impl Into<String>,
    ) -> Result<(Self, Memo), MemoStoreError> {
        let key = key.into();
        check_key(&key)?;
        let (memo, version) = match store.load(&key).await? {
            Some(stored) => (stored.memo, stored.version),
            None => (Memo::new(), 0),
        };
        Ok((Self { store, key, version: Arc::new(AtomicU64::new(version)) }, memo))
    }

    /// Saves `memo` on top of the version this checkpoint holds.
    pub async fn save(&self, memo: &Memo) -> Result<(), MemoStoreError> {
        let expected = self.version.load(Ordering::SeqCst);
        let version = self.store.save(&self.key, memo, expected).await?;
        self.version.store(version, Ordering::SeqCst);
        Ok(())
    }

    /// Removes the stored memo (the handler is done).
    pub async fn clear(&self) -> Result<(), MemoStoreError> {
        self.store.delete(&self.key).await?;
        self.version.store(0, Ordering::SeqCst);
        Ok(())
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The version last read or written (0: nothing stored).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests;
