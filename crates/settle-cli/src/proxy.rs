//! `settle proxy`: the fault-injection and recording proxy in front of an AWS endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `settle proxy`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  settle proxy --moto --lag 500ms..3s --throttle 5/s --record requests.jsonl
  settle proxy --moto --lag hold         # writes invisible until POST /__settle/release
  settle proxy --moto --lag 1s --flap 6@0.5  # then 6 reads that may still see the old state
  settle proxy --moto --throttle 10/s --record requests.jsonl   # then: settle report requests.jsonl
  settle proxy --upstream http://127.0.0.1:5000 --config rules.toml --listen 127.0.0.1:4599
  settle proxy --mitm --throttle 5/s --record real.jsonl   # real AWS endpoints, intercepted:
    export HTTPS_PROXY=http://127.0.0.1:4599 AWS_CA_BUNDLE=~/.config/settle/ca.pem

With --mitm the proxy is an HTTPS proxy: it answers CONNECT, ends TLS with a certificate for the
target host signed by its local CA (made once, in --ca-dir; the key is readable by its owner only),
applies the same lag, throttling, faults and recording to each request, and forwards it over TLS
to the real host. Any SDK with HTTPS_PROXY and AWS_CA_BUNDLE set keeps its endpoint unchanged.")]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["upstream", "moto", "mitm"])))]
pub struct Args {
    /// The endpoint to forward to, e.g. moto's http://127.0.0.1:5000.
    #[arg(long, conflicts_with = "moto")]
    upstream: Option<String>,
    /// Intercept HTTPS: act as an HTTPS_PROXY (CONNECT) for real AWS endpoints, ending TLS with
    /// certificates of a local CA (see --ca-dir). Combines with --upstream/--moto for plain requests.
    #[arg(long)]
    mitm: bool,
    /// The local CA's folder for --mitm (ca.pem, ca-key.pem; made on first use). Default: the user's
    /// config dir, e.g. ~/.config/settle.
    #[arg(long, value_name = "DIR", requires = "mitm")]
    ca_dir: Option<PathBuf>,
    /// With --mitm: connect every tunnel to this address instead of its target host (which still
    /// names the TLS server): a local TLS endpoint in tests.
    #[arg(long, value_name = "HOST:PORT", requires = "mitm")]
    mitm_upstream: Option<SocketAddr>,
    /// With --mitm: also trust these PEM roots upstream, beside the web's (repeatable).
    #[arg(long, value_name = "PEM", requires = "mitm")]
    mitm_upstream_ca: Vec<PathBuf>,
    /// Start the pinned moto (the AWS emulator) on a free loopback port and forward to it; it stops
    /// with the proxy. The first run installs it into the user's cache directory (about 300 MB).
    #[arg(long)]
    moto: bool,
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
    /// Share of requests answered with the service's own throttling error (0..1), whatever the rate.
    #[arg(long, value_name = "SHARE")]
    throttle_share: Option<f64>,
    /// Added latency per request: `20ms`, `20ms..80ms`, `exp:30ms`.
    #[arg(long)]
    latency: Option<String>,
    /// After each lag, the next READS reads still see the old state, each with chance CHANCE
    /// (`6@0.5`), as AWS endpoints that have not all seen a change do.
    #[arg(long, value_name = "READS@CHANCE")]
    flap: Option<String>,
    /// Record one JSON line per request (secrets redacted) to this file.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Seed for every random draw.
    #[arg(long)]
    seed: Option<u64>,
    /// TOML file with per-service and per-operation rules (flags override its global values).
    #[arg(long)]
    config: Option<PathBuf>,
    /// No control endpoint (`/__settle/` answers 404): nothing can change the rules at run time.
    #[arg(long)]
    no_control: bool,
    /// Most open client connections (more are answered 503 and closed).
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Close a keep-alive connection with no request in progress after this long.
    #[arg(long, default_value = "60s", value_parser = duration)]
    idle_timeout: Duration,
    /// A request's headers must arrive within this.
    #[arg(long, default_value = "10s", value_parser = duration)]
    header_timeout: Duration,
    /// A request's body must arrive within this (408 otherwise).
    #[arg(long, default_value = "30s", value_parser = duration)]
    body_timeout: Duration,
    /// Upstream must answer within this (504 otherwise).
    #[arg(long, default_value = "60s", value_parser = duration)]
    upstream_timeout: Duration,
}

fn duration(text: &str) -> Result<Duration, String> {
    settle_proxy::lag::parse_duration(text).map_err(|e| e.to_string())
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    // Kept until the proxy stops: dropping it stops moto.
    let moto = match args.moto {
        true => Some(tokio::task::spawn_blocking(settle_emulator::MotoServer::start).await??),
        false => None,
    };
    let upstream = moto.as_ref().map(|m| m.endpoint()).or(args.upstream.clone());
    if upstream.is_none() && !args.mitm {
        anyhow::bail!("settle proxy needs --upstream URL, --moto or --mitm");
    }
    let base = match &args.config {
        Some(path) => settle_proxy::Config::from_file(path)?,
        None => settle_proxy::Config::default(),
    };
    let flags = settle_proxy::Flags {
        lag: args.lag.clone(),
        throttle: args.throttle.clone(),
        errors: args.errors,
        throttle_share: args.throttle_share,
        latency: args.latency.clone(),
        seed: args.seed,
        flap: args.flap.clone(),
    };
    let config = base.with_flags(&flags)?;
    let limits = settle_proxy::Limits {
        header_read: args.header_timeout,
        idle: args.idle_timeout,
        body_read: args.body_timeout,
        upstream: args.upstream_timeout,
        max_connections: args.max_connections,
    };
    let mut builder = settle_proxy::Proxy::builder().listen(args.listen).config(config).limits(limits);
    if let Some(upstream) = &upstream {
        builder = builder.upstream(upstream);
    }
    if args.mitm {
        builder = builder.mitm(mitm_config(&args)?);
    }
    if let Some(path) = &args.record {
        builder = builder.record(path);
    }
    if args.no_control {
        builder = builder.without_control();
    }
    let proxy = builder.start().await?;
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "WARNING: settle-proxy listens on {}, beyond loopback: other hosts can send it requests and, \
             with the token below, change its rules. Use --listen 127.0.0.1:PORT unless you mean it.",
            args.listen
        );
    }
    let control = match proxy.control_token() {
        Some(token) => format!(
            "control: {}/__settle/ with header {}: {token}",
            proxy.endpoint(),
            settle_proxy::TOKEN_HEADER
        ),
        None => "control endpoint disabled".to_string(),
    };
    let to = match (&upstream, args.mitm) {
        (Some(upstream), false) => upstream.clone(),
        (Some(upstream), true) => format!("{upstream}, and HTTPS CONNECT targets"),
        (None, _) => "HTTPS CONNECT targets".to_string(),
    };
    println!("settle-proxy listening on {} -> {to} ({control})", proxy.endpoint());
    // For boto3, the AWS CLI and every SDK that reads them (`eval` the line, or copy it).
    if upstream.is_some() {
        println!("export AWS_ENDPOINT_URL={}", proxy.endpoint());
    }
    if let Some(ca) = proxy.ca_cert() {
        println!("local CA: {} (trust it only where you intercept)", ca.display());
        println!("export HTTPS_PROXY={} AWS_CA_BUNDLE={}", proxy.endpoint(), ca.display());
    }
    stopped().await?;
    // Stop taking connections, then make sure every answered request is in the recording.
    proxy.shutdown();
    if !proxy.flush_recording() {
        eprintln!("settle-proxy: the recording could not be flushed within 10 s");
    }
    drop(moto);
    Ok(())
}

/// The interception settings: the CA folder (default: `<config dir>/settle`), the test overrides.
fn mitm_config(args: &Args) -> anyhow::Result<settle_proxy::MitmConfig> {
    let ca_dir = match &args.ca_dir {
        Some(dir) => dir.clone(),
        None => dirs::config_dir().map(|d| d.join("settle")).ok_or_else(|| {
            anyhow::anyhow!("no config directory is known for this user: give --ca-dir DIR")
        })?,
    };
    let mut mitm = settle_proxy::MitmConfig::new(ca_dir);
    mitm.upstream_roots = args.mitm_upstream_ca.clone();
    mitm.upstream_override = args.mitm_upstream;
    Ok(mitm)
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM (what `kill`, systemd and container runtimes send).
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
