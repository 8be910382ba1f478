//! Settle overshoot: how long after a write becomes visible does `.settled()` return?
//!
//! `cargo bench -p aws-settle --features full --bench overshoot --profile dev [-- WRITES]`
//!
//! N PutParameter writes go through settle-proxy (lag drawn from `exp:1s`, seeded) to moto, ten
//! at a time, each with `.send().settled()`. Per write, overshoot = (time settled returned) −
//! (time the proxy made the write visible), from the proxy's visibility records; reads per write
//! from the proxy's counters. Beside it, from the same lag draws, what a fixed 15 s sleep and a
//! flat 5 s poller would have cost (computed: sleep 15 s; poll every 5 s until visible).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleExt, attach};

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let writes: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100);
    let lag = "exp:1s";
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::with_lag(lag.parse().unwrap()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_testbed::sdk_config(&proxy.endpoint())), &enforcer);
    let prefix = format!("/settle/bench/{}", settle_testbed::unique_name("overshoot"));

    // (name, time settled returned, Unix ms)
    let returned: Vec<(String, f64)> = runtime.block_on(async {
        let mut out = Vec::new();
        for chunk in (0..writes).collect::<Vec<_>>().chunks(10) {
            let mut tasks = tokio::task::JoinSet::new();
            for i in chunk {
                let (ssm, name) = (ssm.clone(), format!("{prefix}/{i}"));
                tasks.spawn(async move {
                    let put = ssm.put_parameter().name(&name).value("v").r#type(ParameterType::String);
                    put.send().settled().await.expect("settles");
                    (name, now_ms())
                });
            }
            while let Some(done) = tasks.join_next().await {
                out.push(done.unwrap());
            }
        }
        out
    });

    let visibility = proxy.visibility(None, Some("PutParameter"));
    let mut overshoot = Vec::new();
    let (mut fixed, mut flat) = (Vec::new(), Vec::new());
    for (name, at) in &returned {
        let v = visibility
            .iter()
            .find(|v| v.resource == format!("ssm-parameter:{name}"))
            .expect("visibility record");
        overshoot.push(at - v.visible_at_ms.unwrap_or(f64::NAN));
        let lag_ms = v.lag_ms.unwrap_or(f64::NAN);
        fixed.push((15_000.0 - lag_ms).max(0.0));
        flat.push((lag_ms / 5_000.0).ceil().max(1.0) * 5_000.0 - lag_ms);
    }
    for v in [&mut overshoot, &mut fixed, &mut flat] {
        v.sort_by(f64::total_cmp);
    }
    let counters = proxy.counters();
    let reads = counters.per_operation.get("ssm:GetParameter").copied().unwrap_or(0) as f64 / writes as f64;
    let lags: Vec<f64> = visibility.iter().filter_map(|v| v.lag_ms).collect();
    let mean_lag = lags.iter().sum::<f64>() / lags.len() as f64;

    println!(
        "settle overshoot: {writes} PutParameter writes, lag {lag} (mean drawn {mean_lag:.0} ms), 10 at a time"
    );
    println!(
        "{:<28} {:>12} {:>12} {:>12} {:>14}",
        "strategy", "median ms", "p90 ms", "max ms", "reads/write"
    );
    let row = |name: &str, v: &[f64], reads: &str| {
        println!(
            "{name:<28} {:>12.0} {:>12.0} {:>12.0} {reads:>14}",
            percentile(v, 0.5),
            percentile(v, 0.9),
            v[v.len() - 1]
        );
    };
    row("aws-settle .settled()", &overshoot, &format!("{reads:.2}"));
    row("fixed 15 s sleep (computed)", &fixed, "1.00");
    row("flat 5 s poller (computed)", &flat, "≥1");
    row("ideal", &vec![0.0; writes], "1.00");
    let stats = enforcer.stats();
    assert_eq!(stats.checks_passed as usize, writes, "{stats:?}");
    proxy.shutdown();
}
