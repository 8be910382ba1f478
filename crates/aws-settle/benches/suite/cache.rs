//! Client cache: hit latency and build count under 2-thread contention; memory per cached client.
//!
//! Every number has its baseline from the same run: a `HashMap` behind a `Mutex` (a hit is lock,
//! get, clone; a miss is check, build without the lock, insert). Clients are real
//! `aws_sdk_ssm::Client`s built from `settle_emulator::sdk_config` (no network is used).
//! Latency is the median over batches of the mean ns/op in a batch. Memory comes from a counting
//! global allocator: bytes still allocated after building N clients and caching them, over N.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_settle::cache::{ClientCache, ClientCacheKey};

use super::report::{Table, num, text};

pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

const BATCHES: usize = 31;
const OPS: usize = 20_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

type Baseline = Arc<Mutex<HashMap<ClientCacheKey, Client>>>;

/// Median ns per hit on `threads` threads at once, all on one key.
fn hit_ns(
    threads: usize,
    batches: usize,
    cache: Option<&ClientCache<Client>>,
    baseline: &Baseline,
    key: &ClientCacheKey,
) -> f64 {
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (cache, baseline, key, start) =
                (cache.cloned(), baseline.clone(), key.clone(), start.clone());
            std::thread::spawn(move || {
                let rt = runtime();
                start.wait();
                let mut per_batch = Vec::new();
                for _ in 0..batches {
                    let t = Instant::now();
                    match &cache {
                        Some(cache) => rt.block_on(async {
                            for _ in 0..OPS {
                                black_box(cache.get_or_build(&key, || unreachable!()).await);
                            }
                        }),
                        None => {
                            for _ in 0..OPS {
                                black_box(baseline.lock().unwrap().get(&key).cloned());
                            }
                        }
                    }
                    per_batch.push(t.elapsed().as_nanos() as f64 / OPS as f64);
                }
                median(per_batch)
            })
        })
        .collect();
    median(handles.into_iter().map(|h| h.join().unwrap()).collect())
}

/// How many builds 2 threads × 50 tasks make of one cold key; each build takes 20 ms (as if
/// loading a config) and makes a real client.
fn contended_builds(config: &aws_types::SdkConfig, with_cache: bool) -> usize {
    let cache: ClientCache<Client> = ClientCache::lru(16);
    let baseline: Baseline = Arc::default();
    let builds = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(2));
    let key = ClientCacheKey::from_sdk_config("ssm", config, "contended");
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (cache, baseline, builds, start) =
                (cache.clone(), baseline.clone(), builds.clone(), start.clone());
            let (key, config) = (key.clone(), config.clone());
            std::thread::spawn(move || {
                let rt = runtime();
                start.wait();
                rt.block_on(async {
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..50 {
                        let (cache, baseline, builds) = (cache.clone(), baseline.clone(), builds.clone());
                        let (key, config) = (key.clone(), config.clone());
                        let build = async move {
                            builds.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, std::convert::Infallible>(Client::new(&config))
                        };
                        tasks.spawn(async move {
                            if with_cache {
                                cache.get_or_try_build(&key, || build).await.unwrap()
                            } else {
                                if let Some(c) = baseline.lock().unwrap().get(&key).cloned() {
                                    return c;
                                }
                                let c = build.await.unwrap();
                                baseline.lock().unwrap().entry(key).or_insert(c).clone()
                            }
                        });
                    }
                    tasks.join_all().await;
                });
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    builds.load(Ordering::SeqCst)
}

/// (bytes still allocated, bytes allocated) per client, building `n` clients and keeping them
/// in `keep`.
fn memory_per_client(n: usize, mut keep: impl FnMut(ClientCacheKey, Client)) -> (f64, f64) {
    let config = settle_emulator::sdk_config("http://127.0.0.1:1");
    let keys: Vec<_> =
        (0..n).map(|i| ClientCacheKey::from_sdk_config("ssm", &config, &format!("role/r{i}"))).collect();
    let (live, allocated) = (LIVE.load(Ordering::SeqCst), ALLOCATED.load(Ordering::SeqCst));
    for key in keys {
        keep(key, Client::new(&config));
    }
    let live = (LIVE.load(Ordering::SeqCst) - live) as f64 / n as f64;
    let allocated = (ALLOCATED.load(Ordering::SeqCst) - allocated) as f64 / n as f64;
    (live, allocated)
}

/// The cache table (`quick`: fewer batches).
pub fn table(quick: bool) -> Table {
    let batches = if quick { 5 } else { BATCHES };
    let config = settle_emulator::sdk_config("http://127.0.0.1:1");
    let key = ClientCacheKey::from_sdk_config("ssm", &config, "role/deployer");
    let client = Client::new(&config);
    let baseline: Baseline = Arc::default();
    baseline.lock().unwrap().insert(key.clone(), client.clone());
    let lru = ClientCache::lru(64);
    let lfu = ClientCache::lfu(64);
    runtime().block_on(async {
        for cache in [&lru, &lfu] {
            cache.get_or_build(&key, || client.clone()).await;
        }
    });

    let mut table = Table::new(
        "cache",
        "Client cache: aws_sdk_ssm::Client values; baseline Mutex<HashMap<ClientCacheKey, Client>>",
        &["scenario", "unit", "ClientCache", "baseline", "ratio"],
    );
    let mut row = |name: &str, ours: f64, base: f64, unit: &str| {
        let ratio = if base == 0.0 { f64::NAN } else { ours / base };
        table.row(vec![text(name), text(unit), num(ours), num(base), num(ratio)]);
    };
    for threads in [1, 2] {
        let base = hit_ns(threads, batches, None, &baseline, &key);
        row(
            &format!("hit latency, LRU, {threads} thread(s)"),
            hit_ns(threads, batches, Some(&lru), &baseline, &key),
            base,
            "ns",
        );
        row(
            &format!("hit latency, LFU, {threads} thread(s)"),
            hit_ns(threads, batches, Some(&lfu), &baseline, &key),
            base,
            "ns",
        );
    }
    let ours = contended_builds(&config, true);
    let base = contended_builds(&config, false);
    row("builds of 1 key, 2 threads x 50 tasks, 20ms", ours as f64, base as f64, "");

    let n = 500;
    let (bare_live, bare_alloc) = {
        let mut kept = Vec::new();
        let m = memory_per_client(n, |k, c| kept.push((k, c)));
        drop(kept);
        m
    };
    let cache: ClientCache<Client> = ClientCache::lru(n as u64 * 2);
    let rt = runtime();
    let (cache_live, cache_alloc) = memory_per_client(n, |k, c| {
        rt.block_on(async {
            cache.get_or_build(&k, || c).await;
        })
    });
    let mut map = HashMap::new();
    let (map_live, map_alloc) = memory_per_client(n, |k, c| {
        map.insert(k, c);
    });
    row(&format!("bytes retained per cached client (N={n})"), cache_live, map_live, "B");
    row(&format!("bytes allocated per cached client (N={n})"), cache_alloc, map_alloc, "B");
    rt.block_on(async { black_box(cache.len().await) });
    table.note = format!(
        "Hit latency: median over {batches} batches of the mean ns per hit in a batch of {OPS}. Builds: 2 threads \
         x 50 tasks ask for one cold key, each build takes 20 ms. Memory from a counting global allocator. \
         A client and its key alone, kept in a Vec: {bare_live:.0} B retained, {bare_alloc:.0} B allocated; \
         clients from one SdkConfig share its HTTP client and credentials provider."
    );
    table
}
