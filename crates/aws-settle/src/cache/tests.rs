use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::Store;
use super::*;

/// A stand-in for an SDK client: cheap to clone, and says which build made it.
#[derive(Clone, Debug, PartialEq)]
struct Fake(u64);

fn key(name: &str) -> ClientCacheKey {
    ClientCacheKey::new("ssm").region("us-east-1").identity(name)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_hit_returns_the_cached_client_without_building() {
    runtime().block_on(async {
        let cache = ClientCache::lru(4);
        assert_eq!(cache.get_or_build(&key("a"), || Fake(1)).await, Fake(1));
        assert_eq!(cache.get_or_build(&key("a"), || Fake(2)).await, Fake(1));
        assert_eq!(cache.get(&key("a")).await, Some(Fake(1)));
        assert_eq!(cache.get(&key("b")).await, None);
        assert_eq!((cache.builds(), cache.hits(), cache.misses()), (1, 2, 2));
        assert_eq!(cache.len().await, 1);
        assert_eq!(cache.capacity(), 4);
    });
}

/// Inserts `names` in order, then reads `reads` in order, applying pending tasks after each
/// step so the policy sees every access in order; returns the names still cached.
async fn survivors(cache: &ClientCache<Fake>, steps: &[&str]) -> Vec<String> {
    for (i, name) in steps.iter().enumerate() {
        cache.get_or_build(&key(name), || Fake(i as u64)).await;
        cache.run_pending_tasks().await;
    }
    let mut kept = Vec::new();
    for name in ["a", "b", "c", "d", "e", "f"] {
        let present = match &cache.store {
            Store::Lru(recent) => recent.contains(&key(name)),
            Store::Lfu(inner) => inner.contains_key(&key(name)),
        };
        if present {
            kept.push(name.to_owned());
        }
    }
    kept
}

/// The sequence of issue 16: an LRU of 3 evicts the least recently used key, k1, not k0 (moka
/// applied the buffered read of k0 before the pending inserts and evicted k0).
#[test]
fn lru_evicts_the_least_recently_used_in_a_plain_sequence() {
    runtime().block_on(async {
        let cache = ClientCache::lru(3);
        let k = |i: u64| key(&format!("k{i}"));
        for i in 0..3 {
            cache.get_or_build(&k(i), || Fake(i)).await;
        }
        assert_eq!(cache.get(&k(0)).await, Some(Fake(0)));
        cache.get_or_build(&k(3), || Fake(3)).await;
        cache.run_pending_tasks().await;
        assert_eq!(cache.get(&k(1)).await, None, "k1 is the least recently used");
        for i in [0, 2, 3] {
            assert_eq!(cache.get(&k(i)).await, Some(Fake(i)), "k{i} stays");
        }
        assert_eq!(cache.len().await, 3);
        // Without run_pending_tasks too: eviction happens as the insert returns.
        cache.get_or_build(&k(4), || Fake(4)).await;
        assert_eq!(cache.get(&k(0)).await, None, "k0 was now the least recently used");
    });
}

#[test]
fn lru_evicts_the_least_recently_used_at_capacity() {
    runtime().block_on(async {
        let cache = ClientCache::lru(2);
        // a, b; a used again (b is now the least recent); c arrives and evicts b.
        assert_eq!(survivors(&cache, &["a", "b", "a", "c"]).await, ["a", "c"]);
        assert_eq!(cache.len().await, 2);
        // d arrives: a is now the least recent.
        assert_eq!(survivors(&cache, &["d"]).await, ["c", "d"]);
    });
}

#[test]
fn lfu_keeps_the_frequently_used_key_where_lru_drops_it() {
    // a is used many times, then a stream of one-off keys passes through.
    let mut steps = vec!["a"; 20];
    steps.extend(["b", "c", "d", "e", "f"]);
    runtime().block_on(async {
        let lfu = ClientCache::lfu(2);
        let kept = survivors(&lfu, &steps).await;
        assert!(kept.contains(&"a".to_owned()), "LFU kept {kept:?}");
        assert_eq!(lfu.len().await, 2);

        let lru = ClientCache::lru(2);
        assert_eq!(survivors(&lru, &steps).await, ["e", "f"]);
    });
}

/// 2 threads × 32 tasks ask for one cold key at once; the builder sleeps to widen the race.
fn contended(
    cache: ClientCache<Fake>,
    build: impl Fn(&ClientCache<Fake>, Arc<AtomicUsize>) -> tokio::task::JoinHandle<Fake> + Send + Sync + 'static,
) {
    let ran = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(2));
    let build = Arc::new(build);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (cache, ran, start, build) = (cache.clone(), ran.clone(), start.clone(), build.clone());
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let tasks: Vec<_> = (0..32).map(|_| build(&cache, ran.clone())).collect();
                    start.wait();
                    let mut got = Vec::new();
                    for task in tasks {
                        got.push(task.await.unwrap());
                    }
                    got
                })
            })
        })
        .collect();
    let got: Vec<Fake> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(got.len(), 64);
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the builder ran once");
    assert_eq!(cache.builds(), 1);
    assert!(got.iter().all(|c| *c == got[0]), "every caller got the one client");
    assert_eq!(cache.hits() + cache.misses(), 64);
}

#[test]
fn one_build_under_contention() {
    contended(ClientCache::lru(16), build_once);
    contended(ClientCache::lfu(16), build_once);
}

fn build_once(cache: &ClientCache<Fake>, ran: Arc<AtomicUsize>) -> tokio::task::JoinHandle<Fake> {
    {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_build(&key("shared"), || {
                    let n = ran.fetch_add(1, Ordering::SeqCst);
                    // A slow build widens the overlap; the assertion (one build) holds at any speed.
                    std::thread::sleep(Duration::from_millis(50));
                    Fake(n as u64)
                })
                .await
        })
    }
}

#[test]
fn one_try_build_under_contention() {
    contended(ClientCache::lru(16), try_build_once);
    contended(ClientCache::lfu(16), try_build_once);
}

fn try_build_once(cache: &ClientCache<Fake>, ran: Arc<AtomicUsize>) -> tokio::task::JoinHandle<Fake> {
    {
        let cache = cache.clone();
        tokio::spawn(async move {
            let shared = key("shared");
            let built = cache.get_or_try_build(&shared, || async move {
                let n = ran.fetch_add(1, Ordering::SeqCst);
                // A slow build widens the overlap; the assertion (one build) holds at any speed.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, std::io::Error>(Fake(n as u64))
            });
            built.await.unwrap()
        })
    }
}

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("build failed: {0}")]
struct BuildError(&'static str);

#[test]
fn a_failed_try_build_is_returned_and_not_cached() {
    runtime().block_on(async {
        let cache = ClientCache::lru(4);
        let failed = cache.get_or_try_build(&key("a"), || async { Err(BuildError("AccessDenied")) }).await;
        assert_eq!(*failed.unwrap_err(), BuildError("AccessDenied"));
        assert_eq!(cache.get(&key("a")).await, None);
        assert_eq!(cache.len().await, 0);
        let built = cache.get_or_try_build(&key("a"), || async { Ok::<_, BuildError>(Fake(2)) }).await;
        assert_eq!(built.unwrap(), Fake(2));
        assert_eq!(cache.builds(), 2);
        let hit = cache.get_or_try_build(&key("a"), || async { Err(BuildError("not run")) }).await;
        assert_eq!(hit.unwrap(), Fake(2));
        assert_eq!(cache.builds(), 2);
    });
}

#[test]
fn invalidate_forces_a_rebuild() {
    runtime().block_on(async {
        let cache = ClientCache::lfu(4);
        cache.get_or_build(&key("a"), || Fake(1)).await;
        cache.get_or_build(&key("b"), || Fake(1)).await;
        cache.invalidate(&key("a")).await;
        assert_eq!(cache.get(&key("a")).await, None);
        assert_eq!(cache.get_or_build(&key("a"), || Fake(2)).await, Fake(2));
        assert_eq!(cache.get_or_build(&key("b"), || Fake(2)).await, Fake(1));
        assert_eq!(cache.builds(), 3);
    });
}

#[test]
fn equal_configurations_share_one_client() {
    runtime().block_on(async {
        let cache = ClientCache::lru(4);
        let a = ClientCacheKey::new("ssm").with("app", "x").with("env", "prod").region("us-east-1");
        let b = ClientCacheKey::new("ssm").region("us-east-1").with("env", "prod").with("app", "x");
        cache.get_or_build(&a, || Fake(1)).await;
        assert_eq!(cache.get_or_build(&b, || Fake(2)).await, Fake(1));
        assert_eq!(
            cache.get_or_build(&b.clone().endpoint("http://localhost:4566"), || Fake(3)).await,
            Fake(3)
        );
        assert_eq!(cache.builds(), 2);
    });
}

#[cfg(feature = "ssm")]
#[test]
fn caches_a_real_ssm_client() {
    runtime().block_on(async {
        let config = settle_testbed::sdk_config("http://127.0.0.1:1");
        let key = ClientCacheKey::from_sdk_config("ssm", &config, "testbed");
        let cache: ClientCache<aws_sdk_ssm::Client> = ClientCache::lru(8);
        let first = cache.get_or_build(&key, || aws_sdk_ssm::Client::new(&config)).await;
        let again = cache.get_or_build(&key, || unreachable!("a hit")).await;
        assert_eq!(cache.builds(), 1);
        assert_eq!(again.config().region().map(|r| r.as_ref()), Some(settle_testbed::REGION));
        assert_eq!(first.config().region(), again.config().region());
        let other = ClientCacheKey::from_sdk_config("ssm", &config, "other-role");
        cache.get_or_build(&other, || aws_sdk_ssm::Client::new(&config)).await;
        assert_eq!((cache.builds(), cache.len().await), (2, 2));
    });
}

/// A plain client is cached first; asking for the attached, the instrumented, and the attached
/// and instrumented client of the same configuration builds each of them (the recorder and the
/// observer are in its interceptors), never returning the plain one.
#[cfg(feature = "ssm")]
#[test]
fn a_plain_client_never_comes_back_for_an_attached_or_instrumented_key() {
    use crate::observe::{Telemetry, instrument};
    use crate::post::{Enforcer, attach};
    fn layers(client: &aws_sdk_ssm::Client) -> (bool, bool) {
        use aws_smithy_runtime_api::client::interceptors::Intercept;
        let names: Vec<&str> = client.config().interceptors().map(|i| i.name()).collect();
        (names.contains(&"aws-settle post-condition recorder"), names.contains(&"aws-settle observe"))
    }
    runtime().block_on(async {
        let config = settle_testbed::sdk_config("http://127.0.0.1:1");
        let (enforcer, telemetry) = (Enforcer::new(), Telemetry::new());
        let plain_key = ClientCacheKey::from_sdk_config("ssm", &config, "testbed");
        let cache: ClientCache<aws_sdk_ssm::Client> = ClientCache::lru(8);
        let plain = cache.get_or_build(&plain_key, || aws_sdk_ssm::Client::new(&config)).await;
        assert_eq!(layers(&plain), (false, false));
        let attached_key = plain_key.clone().attached("default");
        let attached =
            cache.get_or_build(&attached_key, || attach(aws_sdk_ssm::Client::new(&config), &enforcer));
        assert_eq!(layers(&attached.await), (true, false));
        let instrumented_key = plain_key.clone().instrumented("jobs");
        let build = || instrument(aws_sdk_ssm::Client::new(&config), &telemetry);
        assert_eq!(layers(&cache.get_or_build(&instrumented_key, build).await), (false, true));
        let both_key = attached_key.clone().instrumented("jobs");
        let build = || attach(instrument(aws_sdk_ssm::Client::new(&config), &telemetry), &enforcer);
        assert_eq!(layers(&cache.get_or_build(&both_key, build).await), (true, true));
        assert_eq!((cache.builds(), cache.len().await), (4, 4));
        let again = cache.get_or_build(&attached_key, || unreachable!("a hit")).await;
        assert_eq!(layers(&again), (true, false));
    });
}

/// Two callers of one key whose build fails: one build, and both get its error.
#[test]
fn a_failed_build_is_shared_by_the_callers_waiting_for_it() {
    runtime().block_on(async {
        for cache in [ClientCache::lru(4), ClientCache::lfu(4)] {
            let failing = || async {
                tokio::task::yield_now().await;
                Err::<Fake, _>(BuildError("AccessDenied"))
            };
            let (ka, kb) = (key("a"), key("a"));
            let (a, b) =
                tokio::join!(cache.get_or_try_build(&ka, failing), cache.get_or_try_build(&kb, failing));
            assert_eq!((a.unwrap_err().0, b.unwrap_err().0), ("AccessDenied", "AccessDenied"));
            assert_eq!((cache.builds(), cache.len().await), (1, 0), "{cache:?}");
        }
    });
}
