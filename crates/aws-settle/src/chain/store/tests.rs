//! The stores' contract, run against the in-memory and file stores (the DynamoDB store runs it
//! through settle-proxy in `tests/chain.rs`).

use std::sync::Arc;

use super::*;

fn memo(value: &str) -> Memo {
    let mut memo = Memo::new();
    memo.set("who", value);
    memo
}

/// Save, load, version, conflict on a stale version, delete.
async fn versions_and_conflicts(store: &dyn MemoStore) {
    assert_eq!(store.load("tok-1").await.unwrap(), None);
    assert_eq!(store.save("tok-1", &memo("a"), 0).await.unwrap(), 1);
    assert_eq!(store.save("tok-1", &memo("b"), 1).await.unwrap(), 2);
    let stale = store.save("tok-1", &memo("stale"), 1).await.unwrap_err();
    assert!(matches!(&stale, MemoStoreError::Conflict { key, expected: 1, .. } if key == "tok-1"), "{stale}");
    let again = store.save("tok-1", &memo("again"), 0).await.unwrap_err();
    assert!(again.is_conflict(), "{again}");
    assert_eq!(store.load("tok-1").await.unwrap(), Some(Versioned { memo: memo("b"), version: 2 }));
    assert_eq!(store.load("tok-2").await.unwrap(), None, "keys are apart");
    store.delete("tok-1").await.unwrap();
    store.delete("tok-1").await.unwrap();
    assert_eq!(store.load("tok-1").await.unwrap(), None);
    let empty = store.load("").await.unwrap_err();
    assert!(matches!(empty, MemoStoreError::InvalidKey { reason: "empty", .. }), "{empty}");
}

/// `writers` tasks read version 1 and save at once: exactly one wins, the others get a conflict
/// and the stored memo is the winner's.
async fn racing_writers(store: Arc<dyn MemoStore>, writers: usize) {
    store.save("race", &memo("first"), 0).await.unwrap();
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { (i, store.save("race", &memo(&format!("w{i}")), 1).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (i, Ok(version)) => winners.push((i, version)),
            (_, Err(e)) => assert!(e.is_conflict(), "{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins: {winners:?}");
    let (winner, version) = winners[0];
    assert_eq!(version, 2);
    let stored = store.load("race").await.unwrap().unwrap();
    assert_eq!(stored, Versioned { memo: memo(&format!("w{winner}")), version: 2 });
}

#[tokio::test]
async fn the_in_memory_store_versions_and_refuses_a_stale_save() {
    versions_and_conflicts(&InMemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_racing_writers_on_the_in_memory_store_exactly_one_wins() {
    racing_writers(Arc::new(InMemoryStore::new()), 16).await;
}

#[tokio::test]
async fn the_file_store_versions_and_refuses_a_stale_save() {
    let dir = tempfile::tempdir().unwrap();
    versions_and_conflicts(&FileStore::new(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_racing_writers_on_the_file_store_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    racing_writers(Arc::new(FileStore::new(dir.path())), 16).await;
    // Two store values on one directory (as two processes would be) share the lock.
    let (a, b) = (FileStore::new(dir.path()), FileStore::new(dir.path()));
    let (ma, mb) = (memo("a"), memo("b"));
    let (ra, rb) = tokio::join!(a.save("pair", &ma, 0), b.save("pair", &mb, 0));
    assert_eq!(ra.is_ok() as u8 + rb.is_ok() as u8, 1, "{ra:?} {rb:?}");
}

#[tokio::test]
async fn the_file_store_keeps_one_file_per_key_inside_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("memos"));
    for key in ["../escape", "a/b", "arn:aws:secretsmanager:us-east-1:1:secret:x", "é"] {
        store.save(key, &memo(key), 0).await.unwrap();
        let path = store.path(key).unwrap();
        assert_eq!(path.parent(), Some(store.dir()), "{key} → {path:?}");
        assert_eq!(store.load(key).await.unwrap().map(|v| v.memo), Some(memo(key)));
    }
    let json: Vec<_> = std::fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    assert_eq!(json.len(), 4, "{json:?}");
    assert!(!dir.path().join("escape.json").exists());
    let long = "k".repeat(201);
    assert!(matches!(store.save(&long, &memo("x"), 0).await, Err(MemoStoreError::InvalidKey { .. })));
    let encoded_long = "/".repeat(100);
    assert!(matches!(store.load(&encoded_long).await, Err(MemoStoreError::InvalidKey { .. })));
}

#[tokio::test]
async fn a_torn_or_foreign_memo_file_is_a_corrupt_error_and_a_huge_memo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path());
    store.save("k", &memo("a"), 0).await.unwrap();
    std::fs::write(store.path("k").unwrap(), b"{\"version\": 1, \"memo\": {\"calls\"").unwrap();
    let err = store.load("k").await.unwrap_err();
    assert!(matches!(&err, MemoStoreError::Corrupt { key, .. } if key == "k"), "{err}");
    // A stray temporary file of a writer killed mid-save changes nothing.
    std::fs::write(dir.path().join(".k.1.ff.tmp"), b"half").unwrap();
    store.delete("k").await.unwrap();
    assert_eq!(store.load("k").await.unwrap(), None);
    let mut big = Memo::new();
    big.set("blob", "x".repeat(file::FILE_LIMIT));
    let err = store.save("big", &big, 0).await.unwrap_err();
    assert!(matches!(err, MemoStoreError::TooLarge { limit: file::FILE_LIMIT, .. }), "{err}");
    assert_eq!(store.load("big").await.unwrap(), None);
}

#[tokio::test]
async fn a_checkpoint_saves_on_top_of_its_own_version_and_a_second_opener_conflicts() {
    let store: Arc<dyn MemoStore> = Arc::new(InMemoryStore::new());
    let (first, mut memo_a) = Checkpoint::open(store.clone(), "token").await.unwrap();
    let (second, _) = Checkpoint::open(store.clone(), "token").await.unwrap();
    assert_eq!((first.version(), memo_a.calls.len()), (0, 0));
    memo_a.set("step", 1);
    first.save(&memo_a).await.unwrap();
    memo_a.set("step", 2);
    first.clone().save(&memo_a).await.unwrap();
    assert_eq!(first.version(), 2, "clones share the version");
    let err = second.save(&memo("late")).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    let (reopened, memo) = Checkpoint::open(store.clone(), "token").await.unwrap();
    assert_eq!((reopened.version(), memo.get("step")), (2, Some(&serde_json::json!(2))));
    reopened.clear().await.unwrap();
    assert_eq!(store.load("token").await.unwrap(), None);
}
