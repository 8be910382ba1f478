//! The `throttled_fleet` benchmark's runs, shared by its binary (`main.rs`) and the CI smoke test
//! (`tests/govern.rs`, `--quick`).
//!
//! One proxy per variant limits SSM GetParameter to R requests per second (burst R, as a fresh
//! AWS bucket). P members × T tasks each call GetParameter in a loop for S seconds. Each member
//! is an OS process: the running binary executed again with [`MEMBER_ENV`] set to its
//! [`MemberSpec`], so the SDK's retry token bucket and adaptive rate limiter (static per process)
//! and the governor are each member's own, as in a fleet. A member says `fleet-member ready` on
//! stdout once its client is built, starts at the time the parent writes to its stdin (the same
//! for all), and ends with its [`MemberReport`] as one JSON line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;
use aws_settle::govern::{FleetOptions, Governor, Limits, Sharing, govern};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::RetryConfig;
use serde::{Deserialize, Serialize};
use settle_emulator::{ValkeyServer, proxy_in_front_of_moto, sdk_config, unique_name};

/// The environment variable that makes the binary a fleet member; its value is a [`MemberSpec`]
/// as JSON.
pub const MEMBER_ENV: &str = "SETTLE_FLEET_MEMBER";
/// The prefix of a member's lines on stdout (a test binary prints its own lines too).
const LINE: &str = "fleet-member ";

/// The run's shape.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
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

    /// A smoke run (about 30 s in all).
    pub fn quick() -> Shape {
        Shape { rate: 50.0, members: 2, tasks: 4, seconds: 3.0 }
    }
}

/// What a variant uses to stay within the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// The SDK's standard retry (3 attempts, token bucket per process).
    SdkStandard,
    /// The SDK's adaptive retry (a client-side rate limiter per process).
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

    fn shared(self) -> bool {
        matches!(self, Variant::SharedLease | Variant::SharedPerRequest | Variant::SharedLeaseRedisKilled)
    }
}

/// How to start a member: this binary again, with these arguments (a test binary needs its
/// test's name), and [`MEMBER_ENV`] set.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The executable.
    pub exe: std::path::PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

impl Launcher {
    /// The running executable with `args`.
    pub fn this_binary(args: &[&str]) -> Launcher {
        Launcher {
            exe: std::env::current_exe().expect("the running executable's path"),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }
}

/// What a member is told (the value of [`MEMBER_ENV`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberSpec {
    variant: Variant,
    shape: Shape,
    endpoint: String,
    parameter: String,
    valkey: Option<String>,
    account: String,
}

/// What a member reports, one JSON line at its end.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct MemberReport {
    ok: u64,
    failed: u64,
    /// Every call's latency, µs.
    latencies_us: Vec<u64>,
    /// When each successful call returned, ms after the common start.
    ok_at_ms: Vec<u64>,
    /// Retry backoff: from the end of an attempt to the start of the next one of the same call.
    backoff_us: u64,
    /// Adaptive pacing: from the start of the retry loop to the call's first attempt.
    pacing_us: u64,
    /// Attempts after the first.
    retries: u64,
    /// Failed calls by what they said (the error's story, cut short).
    errors: BTreeMap<String, u64>,
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
    /// Seconds all members' SDK retry strategies slept between attempts of a call (backoff).
    pub backoff_sleep_s: f64,
    /// Seconds all members' SDK retry strategies held calls before their first attempt (the
    /// adaptive mode's client-side rate limiter).
    pub pacing_sleep_s: f64,
    /// The fault run's phases (`None` for other variants).
    pub fault: Option<Fault>,
    /// Failed calls by what they said, most frequent first.
    pub errors: Vec<(String, u64)>,
}

/// The fault run: Valkey killed at 1/3 of the run, restarted at 2/3.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    /// Goodput ÷ R before the kill, while the server was down, and after its restart.
    pub goodput_over_rate: [f64; 3],
    /// Throttled share of attempts in the same three phases.
    pub throttled_share: [f64; 3],
    /// Seconds from the restart to the end of the first 1-second window starting at or after it
    /// with ≥ 0.9·R successes (∞ if none).
    pub recovered_after_s: f64,
}

/// When the previous attempt of a call ended, or the retry loop started.
#[derive(Debug, Clone, Copy)]
enum Mark {
    LoopStarted(Instant),
    AttemptEnded(Instant),
}

impl Storable for Mark {
    type Storer = StoreReplace<Self>;
}

/// Measures the SDK retry strategy's sleeps from the orchestrator's hooks: aws-smithy-runtime
/// (`orchestrator.rs`, `try_op`) sleeps the adaptive limiter's delay between
/// `modify_before_retry_loop` and the first `read_before_attempt`, and a retry's backoff (plus
/// the adaptive send token of a retry) between `read_after_attempt` and the next
/// `read_before_attempt`. Nothing else sleeps there, so other sleeps (the governor's slot wait
/// happens inside the attempt, in the connector) are not counted.
#[derive(Debug, Default)]
struct RetrySleeps {
    backoff_us: AtomicU64,
    pacing_us: AtomicU64,
    retries: AtomicU64,
}

#[derive(Debug, Clone)]
struct SleepClock(Arc<RetrySleeps>);

impl Intercept for SleepClock {
    fn name(&self) -> &'static str {
        "throttled_fleet retry sleeps"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Mark::LoopStarted(Instant::now()));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<Mark>().copied() {
            Some(Mark::LoopStarted(at)) => {
                self.0.pacing_us.fetch_add(at.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
            Some(Mark::AttemptEnded(at)) => {
                self.0.backoff_us.fetch_add(at.elapsed().as_micros() as u64, Ordering::Relaxed);
                self.0.retries.fetch_add(1, Ordering::Relaxed);
            }
            None => {}
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Mark::AttemptEnded(Instant::now()));
        Ok(())
    }
}

/// If this process was started as a member ([`MEMBER_ENV`] set), runs it and returns `true`.
pub fn member_main_if_asked() -> bool {
    let Ok(spec) = std::env::var(MEMBER_ENV) else { return false };
    let spec: MemberSpec = serde_json::from_str(&spec).expect("the member's spec is the parent's JSON");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let report = rt.block_on(member(spec));
    println!("{LINE}{}", serde_json::to_string(&report).expect("the report serialises"));
    true
}

async fn member(spec: MemberSpec) -> MemberReport {
    let retry = match spec.variant {
        Variant::SdkAdaptive => RetryConfig::adaptive(),
        _ => RetryConfig::standard(),
    };
    let sleeps = Arc::new(RetrySleeps::default());
    let config = aws_sdk_ssm::config::Builder::from(&sdk_config(&spec.endpoint))
        .retry_config(retry)
        .interceptor(SleepClock(sleeps.clone()))
        .build();
    let plain = aws_sdk_ssm::Client::from_conf(config);
    let limits = Limits::new(spec.shape.rate).with_account(&spec.account);
    let fleet = |sharing| {
        let url = spec.valkey.as_deref().expect("a shared variant has a server");
        Governor::fleet(url, limits.clone(), FleetOptions::default().with_sharing(sharing))
            .expect("the fleet governor starts")
    };
    let client = match spec.variant {
        Variant::SdkStandard | Variant::SdkAdaptive => plain,
        Variant::LocalGovernor => govern(plain, &Governor::local(limits.clone())),
        Variant::SharedLease | Variant::SharedLeaseRedisKilled => govern(plain, &fleet(Sharing::Lease)),
        Variant::SharedPerRequest => govern(plain, &fleet(Sharing::PerRequest)),
    };

    println!("{LINE}ready");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).expect("the parent says when to start");
    let start_ms: u64 = go.trim().parse().expect("the start time, ms since the epoch");
    let wait = Duration::from_millis(start_ms).saturating_sub(since_epoch());
    tokio::time::sleep(wait).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(spec.shape.seconds);

    let mut tasks = Vec::new();
    for _ in 0..spec.shape.tasks {
        let (client, name) = (client.clone(), spec.parameter.clone());
        tasks.push(tokio::spawn(async move {
            let mut report = MemberReport::default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let result = client.get_parameter().name(&name).send().await;
                report.latencies_us.push(t0.elapsed().as_micros() as u64);
                match result {
                    Ok(_) => {
                        report.ok += 1;
                        report.ok_at_ms.push(started.elapsed().as_millis() as u64);
                    }
                    Err(e) => {
                        report.failed += 1;
                        // The service's error code, or the first words of what else happened.
                        let what = e.code().map(str::to_string).unwrap_or_else(|| {
                            let story =
                                format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&e));
                            story.chars().take(120).collect()
                        });
                        *report.errors.entry(what).or_default() += 1;
                    }
                }
            }
            report
        }));
    }
    let mut all = MemberReport::default();
    for task in tasks {
        let r = task.await.expect("a member task does not panic");
        all.ok += r.ok;
        all.failed += r.failed;
        all.latencies_us.extend(r.latencies_us);
        all.ok_at_ms.extend(r.ok_at_ms);
        for (story, n) in r.errors {
            *all.errors.entry(story).or_default() += n;
        }
    }
    all.backoff_us = sleeps.backoff_us.load(Ordering::Relaxed);
    all.pacing_us = sleeps.pacing_us.load(Ordering::Relaxed);
    all.retries = sleeps.retries.load(Ordering::Relaxed);
    all
}

fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970")
}

/// A started member and its stdout.
struct Running {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Running {
    /// The next line of ours on its stdout (after the prefix).
    fn next_line(&mut self) -> String {
        for line in self.lines.by_ref() {
            let line = line.expect("a member's stdout reads");
            // Anywhere in the line: a test binary starts its line `test NAME ... ` before ours.
            if let Some(at) = line.find(LINE) {
                return line[at + LINE.len()..].to_string();
            }
        }
        let status = self.child.wait();
        panic!("a fleet member ended without its report: {status:?}");
    }
}

fn spawn(launcher: &Launcher, spec: &MemberSpec) -> Running {
    let mut child = Command::new(&launcher.exe)
        .args(&launcher.args)
        .env(MEMBER_ENV, serde_json::to_string(spec).unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("a fleet member starts");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    Running { child, lines }
}

/// Runs `variant`, its members started by `launcher`.
pub fn run(variant: Variant, shape: Shape, launcher: &Launcher) -> Figures {
    let proxy = proxy_in_front_of_moto(
        settle_proxy::Config::from_toml(&format!(
            "[services.ssm.operations.GetParameter]\nthrottle = \"{}/s\"",
            shape.rate
        ))
        .expect("a valid quota"),
    );
    let endpoint = proxy.endpoint();
    let parameter = format!("/settle/{}", unique_name("fleet-bench"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let ssm = aws_sdk_ssm::Client::new(&sdk_config(&endpoint));
        ssm.put_parameter().name(&parameter).value("v").r#type(ParameterType::String).send().await.unwrap();
    });
    let mut valkey = variant.shared().then(|| ValkeyServer::start().expect("valkey starts"));
    let spec = MemberSpec {
        variant,
        shape,
        endpoint,
        parameter,
        valkey: valkey.as_ref().map(|v| v.url()),
        account: unique_name("bench"),
    };
    let mut members: Vec<Running> = (0..shape.members).map(|_| spawn(launcher, &spec)).collect();
    for m in &mut members {
        assert_eq!(m.next_line(), "ready", "a member says it is ready first");
    }
    // A common start, a moment ahead so that every member has it before it comes.
    let start = since_epoch() + Duration::from_millis(200);
    for m in &mut members {
        let mut stdin = m.child.stdin.take().unwrap();
        writeln!(stdin, "{}", start.as_millis()).expect("a member reads its start");
    }
    std::thread::sleep(start.saturating_sub(since_epoch()));
    let op = "ssm:GetParameter";
    let count = |c: &settle_proxy::Counters| {
        (
            c.per_operation.get(op).copied().unwrap_or(0),
            c.throttled_per_operation.get(op).copied().unwrap_or(0),
        )
    };
    let mut marks = vec![count(&proxy.counters())];
    let mut phase_ends_ms = Vec::new();
    if variant == Variant::SharedLeaseRedisKilled
        && let Some(valkey) = &mut valkey
    {
        let third = shape.seconds / 3.0;
        // The fault's schedule, in real time: the benchmark measures it.
        std::thread::sleep((start + Duration::from_secs_f64(third)).saturating_sub(since_epoch()));
        valkey.stop();
        marks.push(count(&proxy.counters()));
        phase_ends_ms.push((since_epoch() - start).as_millis() as u64);
        std::thread::sleep((start + Duration::from_secs_f64(2.0 * third)).saturating_sub(since_epoch()));
        valkey.restart().expect("valkey restarts");
        marks.push(count(&proxy.counters()));
        phase_ends_ms.push((since_epoch() - start).as_millis() as u64);
    }
    let reports: Vec<MemberReport> = members
        .iter_mut()
        .map(|m| {
            let report = serde_json::from_str(&m.next_line()).expect("a member's report is JSON");
            let _ = m.child.wait();
            report
        })
        .collect();
    marks.push(count(&proxy.counters()));

    let (first, last) = (marks[0], marks[marks.len() - 1]);
    let (attempts, throttled) = (last.0 - first.0, last.1 - first.1);
    let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    let mut ok_at: Vec<u64> = Vec::new();
    for r in &reports {
        for l in &r.latencies_us {
            hist.record(*l).unwrap();
        }
        ok_at.extend(&r.ok_at_ms);
    }
    ok_at.sort_unstable();
    let sum = |f: fn(&MemberReport) -> u64| reports.iter().map(f).sum::<u64>();
    let fault = (variant == Variant::SharedLeaseRedisKilled).then(|| {
        let run_ms = (shape.seconds * 1000.0) as u64;
        let bounds = [0, phase_ends_ms[0], phase_ends_ms[1], run_ms];
        let in_window =
            |from: u64, to: u64| ok_at.partition_point(|t| *t < to) - ok_at.partition_point(|t| *t < from);
        let goodput = std::array::from_fn(|i| {
            in_window(bounds[i], bounds[i + 1]) as f64
                / ((bounds[i + 1] - bounds[i]) as f64 / 1000.0)
                / shape.rate
        });
        let throttled_share = std::array::from_fn(|i| {
            let (a, t) = (marks[i + 1].0 - marks[i].0, marks[i + 1].1 - marks[i].1);
            if a == 0 { 0.0 } else { t as f64 / a as f64 }
        });
        let restart = bounds[2];
        let recovered_after_s = (restart..=run_ms.saturating_sub(1000))
            .step_by(50)
            .find(|from| in_window(*from, from + 1000) as f64 >= 0.9 * shape.rate)
            .map_or(f64::INFINITY, |from| (from + 1000 - restart) as f64 / 1000.0);
        Fault { goodput_over_rate: goodput, throttled_share, recovered_after_s }
    });
    proxy.shutdown();
    let ok_calls = sum(|r| r.ok);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for (story, n) in reports.iter().flat_map(|r| &r.errors) {
        *errors.entry(story.clone()).or_default() += n;
    }
    let mut errors: Vec<(String, u64)> = errors.into_iter().collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    Figures {
        variant: variant.name(),
        goodput_over_rate: ok_calls as f64 / shape.seconds / shape.rate,
        throttled_share: if attempts == 0 { 0.0 } else { throttled as f64 / attempts as f64 },
        attempts,
        failed_calls: sum(|r| r.failed),
        ok_calls,
        p50_ms: hist.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
        backoff_sleep_s: sum(|r| r.backoff_us) as f64 / 1e6,
        pacing_sleep_s: sum(|r| r.pacing_us) as f64 / 1e6,
        fault,
        errors,
    }
}

/// The machine's state: cores and load average (1, 5, 15 minutes), for the table's heading.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    format!("{cores} cores, load average {load}")
}

/// The figures as a markdown table.
pub fn table(shape: Shape, rows: &[Figures]) -> String {
    let mut out = format!(
        "R = {}/s (SSM GetParameter at the proxy), {} member processes × {} tasks, {} s per variant\n\n\
         | variant | goodput/R | throttled attempts | attempts | failed calls | p50 ms | p99 ms | SDK retry backoff s | SDK adaptive pacing s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        shape.rate, shape.members, shape.tasks, shape.seconds
    );
    for r in rows {
        out += &format!(
            "| {} | {:.2} | {:.1}% | {} | {} | {:.0} | {:.0} | {:.1} | {:.1} |\n",
            r.variant,
            r.goodput_over_rate,
            r.throttled_share * 100.0,
            r.attempts,
            r.failed_calls,
            r.p50_ms,
            r.p99_ms,
            r.backoff_sleep_s,
            r.pacing_sleep_s,
        );
    }
    for r in rows {
        if let Some((story, n)) = r.errors.first() {
            out += &format!("\n{}: {n} of {} failed calls ended with {story}.\n", r.variant, r.failed_calls);
        }
    }
    for r in rows {
        if let Some(f) = &r.fault {
            let pct = |s: f64| format!("{:.1}%", s * 100.0);
            out += &format!(
                "\n{}: goodput/R before the kill {:.2}, while Valkey was down {:.2}, after its restart {:.2}; \
                 throttled {} / {} / {}; goodput back to ≥ 0.9·R in a 1 s window {:.2} s after the restart.\n",
                r.variant,
                f.goodput_over_rate[0],
                f.goodput_over_rate[1],
                f.goodput_over_rate[2],
                pct(f.throttled_share[0]),
                pct(f.throttled_share[1]),
                pct(f.throttled_share[2]),
                f.recovered_after_s
            );
        }
    }
    out
}
