//! [`FileStore`]: one file per memo, replaced atomically (write, sync, rename) under an
//! advisory lock, so writers in other processes see the version check and the write as one.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::{Memo, MemoStore, MemoStoreError, Versioned, check_key};

/// Key characters kept as they are in a file name; every other byte is percent-encoded (so no
/// key names a path outside the directory).
const KEPT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// The largest memo file read or written: 4 MiB.
pub const FILE_LIMIT: usize = 4 * 1024 * 1024;

/// How long a save waits for another writer's lock (held only while one file is written).
const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_RETRY: Duration = Duration::from_millis(5);

/// Memos as JSON files in a directory: `<key>.json` (`{"version": N, "memo": {…}}`) beside a
/// `<key>.lock` file that writers lock while they check the version and rename the new file
/// into place. A reader never sees a half-written memo; a writer killed mid-save leaves the old
/// memo and, at worst, a stray `.tmp` file. The lock is the OS's advisory file lock, released
/// when its holder dies, so a crash leaves no stale lock. Keys are percent-encoded into file
/// names (at most 240 bytes encoded). Defaults: [`FileStore::default_dir`], files up to
/// [`FILE_LIMIT`], a save waits at most 10 s for another writer's lock.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u64,
    memo: Memo,
}

impl FileStore {
    /// A store in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `$SETTLE_MEMO_DIR`, else `aws-settle-memos` in the system's temporary directory.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("SETTLE_MEMO_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("aws-settle-memos"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The memo file of `key`.
    pub fn path(&self, key: &str) -> Result<PathBuf, MemoStoreError> {
        Ok(self.dir.join(format!("{}.json", encode(key)?)))
    }

    fn lock_path(&self, key: &str) -> Result<PathBuf, MemoStoreError> {
        Ok(self.dir.join(format!("{}.lock", encode(key)?)))
    }
}

impl Default for FileStore {
    fn default() -> Self {
        Self::new(Self::default_dir())
    }
}

fn encode(key: &str) -> Result<String, MemoStoreError> {
    check_key(key)?;
    let encoded = utf8_percent_encode(key, KEPT).to_string();
    if encoded.len() > 240 {
        return Err(MemoStoreError::InvalidKey {
            key: key.chars().take(64).collect(),
            reason: "longer than 240 bytes as a file name",
        });
    }
    Ok(encoded)
}

fn backend(key: &str, what: &'static str, error: std::io::Error) -> MemoStoreError {
    MemoStoreError::Backend { key: key.to_string(), what, reason: error.to_string() }
}

fn read(key: &str, path: &Path) -> Result<Option<Versioned>, MemoStoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(backend(key, "opening the memo file", e)),
    };
    let mut bytes = Vec::new();
    file.take(FILE_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| backend(key, "reading the memo file", e))?;
    if bytes.len() > FILE_LIMIT {
        return Err(MemoStoreError::TooLarge { key: key.to_string(), bytes: bytes.len(), limit: FILE_LIMIT });
    }
    let stored: Stored = serde_json::from_slice(&bytes)
        .map_err(|e| MemoStoreError::Corrupt { key: key.to_string(), reason: e.to_string() })?;
    Ok(Some(Versioned { memo: stored.memo, version: stored.version }))
}

/// One attempt at a save: `Ok(None)` when another writer holds the lock.
fn try_save(store: &FileStore, key: &str, memo: &Memo, expected: u64) -> Result<Option<u64>, MemoStoreError> {
    let path = store.path(key)?;
    let json = serde_json::to_vec(&Stored { version: expected + 1, memo: memo.clone() })
        .map_err(|e| MemoStoreError::Corrupt { key: key.to_string(), reason: e.to_string() })?;
    if json.len() > FILE_LIMIT {
        return Err(MemoStoreError::TooLarge { key: key.to_string(), bytes: json.len(), limit: FILE_LIMIT });
    }
    fs::create_dir_all(&store.dir).map_err(|e| backend(key, "creating the memo directory", e))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(store.lock_path(key)?)
        .map_err(|e| backend(key, "opening the lock file", e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(e)) => return Err(backend(key, "locking the memo", e)),
    }
    // The lock is released when `lock` is dropped, on every path below.
    let found = read(key, &path)?.map_or(0, |v| v.version);
    if found != expected {
        return Err(MemoStoreError::Conflict { key: key.to_string(), expected, found: Some(found) });
    }
    let tmp =
        store.dir.join(format!(".{}.{}.{:x}.tmp", encode(key)?, std::process::id(), rand::random::<u64>()));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(backend(key, "writing the memo file", e));
    }
    // The rename is durable once the directory is synced (best effort: not every platform can).
    if let Ok(dir) = File::open(&store.dir) {
        let _ = dir.sync_all();
    }
    Ok(Some(expected + 1))
}

fn remove(store: &FileStore, key: &str) -> Result<(), MemoStoreError> {
    match fs::remove_file(store.path(key)?) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(backend(key, "removing the memo file", e)),
    }
    // The lock file stays: removing it could let two writers lock two different files.
    Ok(())
}

async fn blocking<T: Send + 'static>(
    key: &str,
    work: impl FnOnce() -> Result<T, MemoStoreError> + Send + 'static,
) -> Result<T, MemoStoreError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| MemoStoreError::Backend {
        key: key.to_string(),
        what: "running the file operation",
        reason: e.to_string(),
    })?
}

impl MemoStore for FileStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, MemoStoreError>> {
        async move {
            let path = self.path(key)?;
            let owned = key.to_string();
            blocking(key, move || read(&owned, &path)).await
        }
        .boxed()
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        memo: &'a Memo,
        expected: u64,
    ) -> BoxFuture<'a, Result<u64, MemoStoreError>> {
        async move {
            let start = tokio::time::Instant::now();
            loop {
                let (store, owned, memo) = (self.clone(), key.to_string(), memo.clone());
                if let Some(version) =
                    blocking(key, move || try_save(&store, &owned, &memo, expected)).await?
                {
                    return Ok(version);
                }
                if start.elapsed() >= LOCK_WAIT {
                    return Err(MemoStoreError::Backend {
                        key: key.to_string(),
                        what: "locking the memo",
                        reason: format!("another writer held the lock for {LOCK_WAIT:?}"),
                    });
                }
                tokio::time::sleep(LOCK_RETRY).await;
            }
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), MemoStoreError>> {
        async move {
            let (store, owned) = (self.clone(), key.to_string());
            blocking(key, move || remove(&store, &owned)).await
        }
        .boxed()
    }
}
