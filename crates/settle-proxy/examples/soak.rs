//! A slow-client soak: many idle and slow-header connections against one proxy with short
//! limits, while a well-behaved client keeps asking for health. Prints how many connections the
//! proxy closed, the health latency meanwhile, and this process's RSS before, at the peak and after.
//!
//! `cargo run -p settle-proxy --release --example soak [IDLE SLOW]` (defaults 5000 and 2000; the
//! open-file limit must allow them).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn health(addr: std::net::SocketAddr, token: &str) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /__settle/counters HTTP/1.1\r\nHost: x\r\nx-settle-token: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    started.elapsed()
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (idle, slow) = (args.first().copied().unwrap_or(5000), args.get(1).copied().unwrap_or(2000));
    let limits = settle_proxy::Limits {
        header_read: Duration::from_secs(2),
        idle: Duration::from_secs(2),
        max_connections: idle + slow + 100,
        ..settle_proxy::Limits::default()
    };
    let proxy = settle_proxy::Proxy::builder()
        .upstream("http://127.0.0.1:9")
        .limits(limits)
        .start_background()
        .unwrap();
    let token = proxy.control_token().unwrap().to_string();
    let before = rss_mb();
    let started = Instant::now();
    let mut sockets: Vec<TcpStream> = Vec::new();
    for _ in 0..idle {
        sockets.push(TcpStream::connect(proxy.addr()).unwrap());
    }
    for _ in 0..slow {
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        sockets.push(s);
    }
    let peak = rss_mb();
    let mut latencies: Vec<Duration> = (0..20).map(|_| health(proxy.addr(), &token)).collect();
    let mut closed = 0;
    for s in &mut sockets {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = Vec::new();
        if s.read_to_end(&mut buf).is_ok() {
            closed += 1;
        }
    }
    let all_closed = started.elapsed();
    drop(sockets);
    latencies.sort();
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "{idle} idle + {slow} slow-header connections: {closed} closed by the proxy within {all_closed:.1?} \
         (limits 2 s); health p50 {:.1?}, max {:.1?} meanwhile; RSS {before:.1} MB before, {peak:.1} MB at the \
         peak, {:.1} MB after",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        rss_mb()
    );
}
