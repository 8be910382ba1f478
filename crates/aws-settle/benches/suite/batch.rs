//! Batch: N writes settled together in one scope vs the same writes each `.settled()` in turn.
//!
//! Through settle-proxy with a seeded lag (`exp`, mean 200 ms) to moto: PutParameter writes,
//! one task. Wall time from the first write to the last confirmation; reads per write from the
//! proxy's counters; "after last visible" is how long after the last write became visible (the
//! proxy's visibility records) the step returned. Each variant has a fresh enforcer (so the
//! learned schedule starts from the fixed one and learns during the batch).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleExt, attach};
use settle_proxy::ProxyHandle;

use super::report::{Table, num, text};

pub const LAG: &str = "exp:200ms";

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0
}

struct Run {
    wall: Duration,
    reads: u64,
    after_last_visible_ms: f64,
}

async fn run(proxy: &ProxyHandle, n: usize, scope: bool) -> Run {
    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&settle_emulator::sdk_config(&proxy.endpoint())), &enforcer);
    let prefix = format!("/settle/bench/{}", settle_emulator::unique_name("batch"));
    let reads_before = proxy.counters().per_operation.get("ssm:GetParameter").copied().unwrap_or(0);
    let started = Instant::now();
    let put =
        |i: usize| ssm.put_parameter().name(format!("{prefix}/{i}")).value("v").r#type(ParameterType::String);
    if scope {
        enforcer
            .scope(async {
                for i in 0..n {
                    put(i).send().await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
            .await
            .expect("the batch settles");
    } else {
        for i in 0..n {
            put(i).send().settled().await.expect("the write settles");
        }
    }
    let wall = started.elapsed();
    let returned_ms = now_ms();
    let reads = proxy.counters().per_operation.get("ssm:GetParameter").copied().unwrap_or(0) - reads_before;
    let last_visible = proxy
        .visibility(None, Some("PutParameter"))
        .iter()
        .filter(|v| v.resource.starts_with(&format!("ssm-parameter:{prefix}/")))
        .filter_map(|v| v.visible_at_ms)
        .fold(f64::MIN, f64::max);
    assert_eq!(enforcer.stats().checks_passed as usize, n);
    Run { wall, reads, after_last_visible_ms: returned_ms - last_visible }
}

/// The batch table for each N in `sizes`; serial runs only up to `serial_max` writes.
pub fn table(proxy: &ProxyHandle, sizes: &[usize], serial_max: usize) -> Table {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut table = Table::new(
        "batch",
        format!("Batch: N PutParameter writes, lag {LAG} through settle-proxy to moto, one task"),
        &["N", "how", "wall s", "writes/s", "reads/write", "returned after last visible ms"],
    );
    // moto builds its SSM backend on the first call: not part of any row.
    runtime.block_on(run(proxy, 1, false));
    for &n in sizes {
        for scope in [true, false] {
            if !scope && n > serial_max {
                table.row(vec![
                    serde_json::Value::from(n),
                    text("serial .settled(): not run (N × the serial time per write)"),
                    text(""),
                    text(""),
                    text(""),
                    text(""),
                ]);
                continue;
            }
            let r = runtime.block_on(run(proxy, n, scope));
            table.row(vec![
                serde_json::Value::from(n),
                text(if scope { "one scope" } else { "serial .settled()" }),
                num(r.wall.as_secs_f64()),
                num(n as f64 / r.wall.as_secs_f64()),
                num(r.reads as f64 / n as f64),
                num(r.after_last_visible_ms),
            ]);
        }
    }
    table.note = "A scope records every write, then reads them all back concurrently: its wall time is the \
        writes themselves plus about the longest lag, where serial pays each lag in turn."
        .to_string();
    table
}
