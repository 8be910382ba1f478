//! `settle proxy`: the fault-injection and recording proxy in front of an AWS endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `settle proxy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The endpoint to forward to, e.g. moto's http://127.0.0.1:5000.
    #[arg(long)]
    upstream: String,
    /// Where to listen (loopback by default).
    #[arg(long, default_value = "127.0.0.1:4599")]
    listen: SocketAddr,
    /// Eventual-consistency lag after each known write: `2s`, `500ms..3s`, `exp:1s`, or `hold`
    /// (invisible until released with `POST /__settle/release`: for deterministic tests).
    #[arg(long)]
    lag: Option<String>,
    /// Token bucket per service: `5/s`, `300/min`, `5/s:10` (burst 10).
    #[arg(long)]
    throttle: Option<String>,
    /// Share of requests answered with a transient 500/503 (0..1).
    #[arg(long)]
    errors: Option<f64>,
    /// Added latency per request: `20ms`, `20ms..80ms`, `exp:30ms`.
    #[arg(long)]
    latency: Option<String>,
    /// Record one JSON line per request (secrets redacted) to this file.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Seed for every random draw.
    #[arg(long)]
    seed: Option<u64>,
    /// TOML file with per-service and per-operation rules (flags override its global values).
    #[arg(long)]
    config: Option<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let base = match &args.config {
        Some(path) => settle_proxy::Config::from_file(path)?,
        None => settle_proxy::Config::default(),
    };
    let flags = settle_proxy::Flags {
        lag: args.lag.clone(),
        throttle: args.throttle.clone(),
        errors: args.errors,
        latency: args.latency.clone(),
        seed: args.seed,
    };
    let config = base.with_flags(&flags)?;
    let mut builder =
        settle_proxy::Proxy::builder().upstream(&args.upstream).listen(args.listen).config(config);
    if let Some(path) = &args.record {
        builder = builder.record(path);
    }
    let proxy = builder.start().await?;
    println!(
        "settle-proxy listening on {} -> {} (control: {}/__settle/config, /counters, /visibility)",
        proxy.endpoint(),
        args.upstream,
        proxy.endpoint()
    );
    tokio::signal::ctrl_c().await?;
    proxy.shutdown();
    Ok(())
}
