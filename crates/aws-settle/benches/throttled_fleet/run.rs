//! The `throttled_fleet` benchmark's runs, shared by its binary (`main.rs`) and the CI smoke test
//! (`tests/govern.rs`, `--quick`).
//!
//! One proxy per variant limits SSM GetParameter to R requests per second (burst R, as a fresh
//! AWS bucket). P members × T tasks each call GetParameter in a loop for S seconds. A member is
//! what a process has of its own: its tokio runtime, HTTP client, SDK retry partition (so the
//! SDK's token bucket and adaptive rate limiter are per member, as they are per process) and
//! governor.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use aws_settle::govern::{FleetOptions, Governor, Limits, Sharing, govern};
use aws_smithy_async::rt::sleep::{AsyncSleep, Sleep, TokioSleep};
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_smithy_types::retry::RetryConfig;
use serde::Serialize;
use settle_emulator::{ValkeyServer, proxy_in_front_of_moto, sdk_config, unique_name};

/// The run's shape.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Shape {
    /// The proxy's limit, requests per second.
    pub rate: f64,
    /// Members (processes).
    pub members: usize,
    /// Tasks per member.
    pub tasks: usize,
    /// Seconds per variant.
    pub seconds: f64,
}

impl Shape {
    /// The shape: R = 50, 4 × 16, 60 s.
    pub fn full() -> Shape {
        Shape { rate: 50.0, members: 4, tasks: 16, seconds: 60.0 }
    }

    /// A smoke run (about 20 s in all).
    pub fn quick() -> Shape {
        Shape { rate: 50.0, members: 2, tasks: 4, seconds: 3.0 }
    }
}

/// What a variant uses to stay within the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Variant {
    /// The SDK's standard retry (3 attempts, token bucket per member).
    SdkStandard,
    /// The SDK's adaptive retry (a client-side rate limiter per member).
    SdkAdaptive,
    /// The governor in each member alone, each configured with the whole rate.
    LocalGovernor,
    /// The governor shared on Valkey, leased shares.
    SharedLease,
    /// The governor shared on Valkey, a GCRA reservation per request.
    SharedPerRequest,
    /// [`Variant::SharedLease`] with the Valkey server killed at 1/3 of the run and restarted at 2/3.
    SharedLeaseRedisKilled,
}

impl Variant {
    /// Every variant, in the table's order.
    pub const ALL: [Variant; 6] = [
        Variant::SdkStandard,
        Variant::SdkAdaptive,
        Variant::LocalGovernor,
        Variant::SharedLease,
        Variant::SharedPerRequest,
        Variant::SharedLeaseRedisKilled,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::SdkStandard => "SDK standard retry",
            Variant::SdkAdaptive => "SDK adaptive retry",
            Variant::LocalGovernor => "local governor",
            Variant::SharedLease => "shared governor (lease)",
            Variant::SharedPerRequest => "shared governor (per request)",
            Variant::SharedLeaseRedisKilled => "shared (lease), Valkey killed + restarted",
        }
    }
}

/// One variant's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// The variant.
    pub variant: &'static str,
    /// Successful calls per second ÷ R.
    pub goodput_over_rate: f64,
    /// Throttled attempts ÷ attempts, at the proxy.
    pub throttled_share: f64,
    /// Attempts the proxy saw.
    pub attempts: u64,
    /// Calls that returned an error to the caller.
    pub failed_calls: u64,
    /// Successful calls.
    pub ok_calls: u64,
    /// Call latency, 50th percentile, ms.
    pub p50_ms: f64,
    /// Call latency, 99th percentile, ms.
    pub p99_ms: f64,
    /// Seconds all members' SDK clients slept in retry backoff (and adaptive pacing).
    pub backoff_sleep_s: f64,
    /// Fault run: seconds from the server's restart until a one-second window reached 0.9·R
    /// (`None` for other variants).
    pub recovered_after_s: Option<f64>,
}

/// Counts every second the SDK sleeps (its retry backoff and adaptive rate limiting).
#[derive(Debug, Clone)]
struct CountingSleep(Arc<AtomicU64>);

impl AsyncSleep for CountingSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        // Counted when it ends: the SDK's timeout sleeps are dropped unfinished and never count.
        let (total, inner) = (self.0.clone(), TokioSleep::new().sleep(duration));
        Sleep::new(async move {
            inner.await;
            total.fetch_add(duration.as_micros() as u64, Ordering::Relaxed);
        })
    }
}

/// Runs `variant`.
pub fn run(variant: Variant, shape: Shape) -> Figures {
    let proxy = proxy_in_front_of_moto(
        settle_proxy::Config::from_toml(&format!(
            "[services.ssm.operations.GetParameter]\nthrottle = \"{}/s\"",
            shape.rate
        ))
        .expect("a valid quota"),
    );
    let endpoint = proxy.endpoint();
    let name = format!("/settle/{}", unique_name("fleet-bench"));
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let ssm = aws_sdk_ssm::Client::new(&sdk_config(&endpoint));
                ssm.put_parameter()
                    .name(&name)
                    .value("v")
                    .r#type(ParameterType::String)
                    .send()
                    .await
                    .unwrap();
            })
        });
    });
    let shared =
        matches!(variant, Variant::SharedLease | Variant::SharedPerRequest | Variant::SharedLeaseRedisKilled);
    let valkey = shared.then(|| Arc::new(Mutex::new(ValkeyServer::start().expect("valkey starts"))));
    let url = valkey.as_ref().map(|v| v.lock().unwrap().url());
    let account = unique_name("bench");
    let before = proxy.counters();
    let op = "ssm:GetParameter";

    let slept = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(hdrhistogram::Histogram::<u64>::new(3).unwrap()));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(shape.seconds);
    // Successful calls per second of the run, for the fault run's recovery.
    let bins = Arc::new(Mutex::new(vec![0u64; shape.seconds.ceil() as usize + 1]));

    std::thread::scope(|s| {
        for member in 0..shape.members {
            let (endpoint, name, url, account) =
                (endpoint.clone(), name.clone(), url.clone(), account.clone());
            let (slept, latencies, ok, failed, bins) =
                (slept.clone(), latencies.clone(), ok.clone(), failed.clone(), bins.clone());
            s.spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let retry = match variant {
                        Variant::SdkAdaptive => RetryConfig::adaptive(),
                        _ => RetryConfig::standard(),
                    };
                    let config = aws_sdk_ssm::config::Builder::from(&sdk_config(&endpoint))
                        .retry_config(retry)
                        .retry_partition(RetryPartition::new(format!("member-{member}")))
                        .sleep_impl(CountingSleep(slept))
                        .build();
                    let plain = aws_sdk_ssm::Client::from_conf(config);
                    let limits = Limits::new(shape.rate).with_account(&account);
                    let options = FleetOptions::default();
                    let client = match variant {
                        Variant::SdkStandard | Variant::SdkAdaptive => plain,
                        Variant::LocalGovernor => govern(plain, &Governor::local(limits)),
                        Variant::SharedLease | Variant::SharedLeaseRedisKilled => {
                            govern(plain, &Governor::fleet(url.as_deref().unwrap(), limits, options).unwrap())
                        }
                        Variant::SharedPerRequest => govern(
                            plain,
                            &Governor::fleet(
                                url.as_deref().unwrap(),
                                limits,
                                options.with_sharing(Sharing::PerRequest),
                            )
                            .unwrap(),
                        ),
                    };
                    let mut tasks = Vec::new();
                    for _ in 0..shape.tasks {
                        let (client, name) = (client.clone(), name.clone());
                        let (latencies, ok, failed, bins) =
                            (latencies.clone(), ok.clone(), failed.clone(), bins.clone());
                        tasks.push(tokio::spawn(async move {
                            while Instant::now() < deadline {
                                let t0 = Instant::now();
                                let result = client.get_parameter().name(&name).send().await;
                                let took = t0.elapsed();
                                let _ = latencies.lock().unwrap().record(took.as_micros() as u64);
                                if result.is_ok() {
                                    ok.fetch_add(1, Ordering::Relaxed);
                                    let bin = started.elapsed().as_secs() as usize;
                                    if let Some(b) = bins.lock().unwrap().get_mut(bin) {
                                        *b += 1;
                                    }
                                } else {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }));
                    }
                    for task in tasks {
                        let _ = task.await;
                    }
                })
            });
        }
        if variant == Variant::SharedLeaseRedisKilled
            && let Some(valkey) = &valkey
        {
            let third = Duration::from_secs_f64(shape.seconds / 3.0);
            std::thread::sleep(third); // the fault's schedule, in real time: the benchmark measures it
            valkey.lock().unwrap().stop();
            std::thread::sleep(third);
            valkey.lock().unwrap().restart().expect("valkey restarts");
        }
    });

    let after = proxy.counters();
    let get = |c: &settle_proxy::Counters,
               m: fn(&settle_proxy::Counters) -> &std::collections::BTreeMap<String, u64>| {
        m(c).get(op).copied().unwrap_or(0)
    };
    let attempts = get(&after, |c| &c.per_operation) - get(&before, |c| &c.per_operation);
    let throttled =
        get(&after, |c| &c.throttled_per_operation) - get(&before, |c| &c.throttled_per_operation);
    let ok_calls = ok.load(Ordering::Relaxed);
    let hist = latencies.lock().unwrap();
    let recovered_after_s = (variant == Variant::SharedLeaseRedisKilled).then(|| {
        let restart = (2.0 * shape.seconds / 3.0).ceil() as usize;
        let bins = bins.lock().unwrap();
        let full = bins.len().saturating_sub(1);
        bins.iter()
            .enumerate()
            .skip(restart)
            .take(full.saturating_sub(restart))
            .find(|(_, n)| **n as f64 >= 0.9 * shape.rate)
            .map(|(i, _)| (i + 1) as f64 - 2.0 * shape.seconds / 3.0)
            .unwrap_or(f64::INFINITY)
    });
    Figures {
        variant: variant.name(),
        goodput_over_rate: ok_calls as f64 / shape.seconds / shape.rate,
        throttled_share: if attempts == 0 { 0.0 } else { throttled as f64 / attempts as f64 },
        attempts,
        failed_calls: failed.load(Ordering::Relaxed),
        ok_calls,
        p50_ms: hist.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
        backoff_sleep_s: slept.load(Ordering::Relaxed) as f64 / 1e6,
        recovered_after_s,
    }
}

/// The figures as a markdown table.
pub fn table(shape: Shape, rows: &[Figures]) -> String {
    let mut out = format!(
        "R = {}/s (SSM GetParameter at the proxy), {} members × {} tasks, {} s per variant\n\n\
         | variant | goodput/R | throttled attempts | attempts | failed calls | p50 ms | p99 ms | SDK backoff sleep s | recovered after s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        shape.rate, shape.members, shape.tasks, shape.seconds
    );
    for r in rows {
        let recovered = r.recovered_after_s.map_or("".to_string(), |s| format!("{s:.0}"));
        out += &format!(
            "| {} | {:.2} | {:.1}% | {} | {} | {:.0} | {:.0} | {:.1} | {} |\n",
            r.variant,
            r.goodput_over_rate,
            r.throttled_share * 100.0,
            r.attempts,
            r.failed_calls,
            r.p50_ms,
            r.p99_ms,
            r.backoff_sleep_s,
            recovered
        );
    }
    out
}
