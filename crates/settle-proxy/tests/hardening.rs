//! The proxy under hostile input: slow and idle clients, too many connections, a silent
//! upstream, and a control plane that only its token opens.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use settle_proxy::{Limits, Proxy, ProxyHandle};

/// Limits short enough that a test sees them act; every wait below is bounded far above them.
fn short_limits() -> Limits {
    Limits {
        header_read: Duration::from_millis(300),
        idle: Duration::from_millis(300),
        body_read: Duration::from_millis(300),
        upstream: Duration::from_millis(300),
        max_connections: 1024,
    }
}

fn proxy_with(limits: Limits) -> ProxyHandle {
    Proxy::builder()
        .upstream(settle_emulator::shared_moto().endpoint())
        .limits(limits)
        .start_background()
        .unwrap()
}

fn connect(proxy: &ProxyHandle) -> TcpStream {
    let stream = TcpStream::connect(proxy.addr()).unwrap();
    // Far above every limit: a proxy that never closes fails the test instead of hanging it.
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Reads until the proxy closes the connection; what it sent.
fn until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let result = stream.read_to_end(&mut out);
    assert!(result.is_ok(), "the proxy did not close the connection: {result:?}");
    String::from_utf8_lossy(&out).into_owned()
}

fn request(proxy: &ProxyHandle, text: &str) -> String {
    let mut stream = connect(proxy);
    stream.write_all(text.as_bytes()).unwrap();
    until_closed(&mut stream)
}

#[test]
fn idle_and_slow_header_connections_are_closed_and_others_are_served_meanwhile() {
    let proxy = proxy_with(short_limits());
    let mut idle: Vec<TcpStream> = (0..200).map(|_| connect(&proxy)).collect();
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = connect(&proxy);
            s.write_all(b"GET /__settle/health HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    let health = request(&proxy, "GET /__settle/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    for stream in idle.iter_mut().chain(slow.iter_mut()) {
        until_closed(stream);
    }
    // A keep-alive connection is closed once idle after its request.
    let mut kept = connect(&proxy);
    kept.write_all(b"GET /__settle/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(until_closed(&mut kept).starts_with("HTTP/1.1 200"));
}

#[test]
fn connections_past_the_cap_are_refused_with_a_503_not_left_hanging() {
    let proxy = proxy_with(Limits { max_connections: 20, idle: Duration::from_secs(60), ..short_limits() });
    let held: Vec<TcpStream> = (0..20).map(|_| connect(&proxy)).collect();
    // Make sure all 20 are accepted before the one too many.
    for mut stream in held.iter().take(1).map(|s| s.try_clone().unwrap()) {
        stream.write_all(b"GET /__settle/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).unwrap();
    }
    let refused = request(&proxy, "GET /__settle/health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(refused.starts_with("HTTP/1.1 503") && refused.contains("too many connections"), "{refused}");
    assert!(proxy.counters().connections_refused >= 1);
    drop(held);
}

#[test]
fn a_body_that_never_arrives_is_a_408_and_a_silent_upstream_a_504() {
    let proxy = proxy_with(short_limits());
    let mut stream = connect(&proxy);
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonSSM.GetParameter\r\nContent-Length: 1000\r\n\r\n{")
        .unwrap();
    let answer = until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // An upstream that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = Proxy::builder()
        .upstream(format!("http://{}", silent.local_addr().unwrap()))
        .limits(short_limits())
        .start_background()
        .unwrap();
    let answer = request(&proxy, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 504") && answer.contains("did not answer within"), "{answer}");
    assert_eq!(proxy.counters().upstream_timeouts, 1);
    drop(silent);
}

#[test]
fn the_control_plane_needs_its_token_and_never_takes_an_aws_request() {
    let proxy = proxy_with(Limits::default());
    let token = proxy.control_token().unwrap().to_string();
    assert_eq!(token.len(), 32, "128 random bits");
    let wipe = "POST /__settle/reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n";
    let refused = request(&proxy, &format!("{wipe}\r\n"));
    assert!(refused.starts_with("HTTP/1.1 401") && refused.contains("x-settle-token"), "{refused}");
    // A page in a browser can POST text/plain cross-site, but cannot add the token header.
    let cross_site =
        request(&proxy, &format!("{wipe}Origin: http://evil.example\r\nContent-Type: text/plain\r\n\r\n"));
    assert!(cross_site.starts_with("HTTP/1.1 401"), "{cross_site}");
    let wrong = request(&proxy, &format!("{wipe}x-settle-token: {}\r\n\r\n", "0".repeat(32)));
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let ok = request(&proxy, &format!("{wipe}x-settle-token: {token}\r\n\r\n"));
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");

    // A signed S3 request for the key `__settle/config` (virtual-hosted style) goes to S3.
    let before = proxy.counters().requests;
    let s3 = request(
        &proxy,
        "PUT /__settle/config HTTP/1.1\r\nHost: bucket.localhost\r\nConnection: close\r\nContent-Length: 2\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, \
         Signature=ab\r\n\r\n{}",
    );
    assert!(!s3.contains("settle-proxy: control"), "{s3}");
    assert_eq!(proxy.counters().requests, before + 1, "it went through the pipeline as an AWS request");
    assert_eq!(proxy.config(), settle_proxy::Config::default(), "the configuration is untouched");

    let closed = Proxy::builder()
        .upstream(settle_emulator::shared_moto().endpoint())
        .without_control()
        .start_background()
        .unwrap();
    assert_eq!(closed.control_token(), None);
    let answer = request(&closed, &format!("{wipe}x-settle-token: {token}\r\n\r\n"));
    assert!(answer.starts_with("HTTP/1.1 404") && answer.contains("disabled"), "{answer}");
}
