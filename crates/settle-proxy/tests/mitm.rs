//! HTTPS interception: boto3 with only HTTPS_PROXY and AWS_CA_BUNDLE set, its endpoint the real
//! AWS one, reaches moto through the proxy and a local TLS front (never the internet), and sees
//! held visibility and throttling.

use settle_emulator::TlsFront;
use settle_proxy::{Config, Faults, MitmConfig, Proxy};

#[test]
fn boto3_through_the_intercepting_proxy_sees_lag_and_throttling_at_the_real_endpoint() {
    let moto = settle_emulator::shared_moto();
    let dir = std::env::temp_dir().join(settle_emulator::unique_name("settle-mitm"));
    let front = TlsFront::start(([127, 0, 0, 1], moto.port()).into(), &["ssm.us-east-1.amazonaws.com"], &dir)
        .unwrap();
    let mitm = MitmConfig::new(dir.join("ca")).upstream_root(front.ca_pem()).upstream_override(front.addr());
    let recording = dir.join("requests.jsonl");
    let held = Proxy::builder()
        .mitm(mitm.clone())
        .config(Config::held())
        .record(&recording)
        .start_background()
        .unwrap();
    let throttle = Faults { throttle: Some("1/h:1".parse().unwrap()), ..Faults::default() };
    let throttling = Proxy::builder()
        .mitm(mitm)
        .config(Config { faults: throttle, ..Config::default() })
        .start_background()
        .unwrap();
    let ca = held.ca_cert().unwrap().to_path_buf();
    assert_eq!(throttling.ca_cert(), Some(ca.as_path()), "one CA, made once");

    let python = settle_emulator::ensure_moto_venv().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/boto3_mitm.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args([held.endpoint(), held.control_token().unwrap().to_string()])
        .arg(&ca)
        .arg(throttling.endpoint())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 through --mitm failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let counters = held.counters();
    assert_eq!(counters.per_operation.get("ssm:PutParameter"), Some(&1), "{counters:?}");
    assert_eq!(counters.per_operation.get("ssm:GetParameter"), Some(&2), "{counters:?}");
    let counters = throttling.counters();
    assert_eq!(counters.throttled_per_operation.get("ssm:GetParameter"), Some(&3), "{counters:?}");
    // The decrypted requests are recorded like plain ones, without their signature.
    assert!(held.flush_recording());
    let text = std::fs::read_to_string(&recording).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains("\"operation\":\"GetParameter\"")).count(), 2, "{text}");
    assert!(!text.contains("mitm-secret") && !text.contains("Signature="), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends one raw HTTP/1.1 request and reads the status line.
fn status_of(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{BufRead, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stream).read_line(&mut line).unwrap();
    line
}

#[test]
fn connect_needs_mitm_and_plain_requests_need_an_upstream() {
    let dir = std::env::temp_dir().join(settle_emulator::unique_name("settle-mitm-plain"));
    let plain = Proxy::builder().upstream("http://127.0.0.1:9").start_background().unwrap();
    let connect =
        "CONNECT ssm.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: ssm.us-east-1.amazonaws.com:443\r\n\r\n";
    assert!(status_of(plain.addr(), connect).starts_with("HTTP/1.1 405"), "CONNECT without --mitm");
    assert_eq!(plain.ca_cert(), None);
    let mitm = Proxy::builder().mitm(MitmConfig::new(dir.join("ca"))).start_background().unwrap();
    assert!(status_of(mitm.addr(), connect).starts_with("HTTP/1.1 200"), "the tunnel opens");
    let get = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert!(status_of(mitm.addr(), get).starts_with("HTTP/1.1 502"), "no upstream for plain requests");
    let bad_root = dir.join("empty.pem");
    std::fs::write(&bad_root, "").unwrap();
    let err =
        Proxy::builder().mitm(MitmConfig::new(dir.join("ca")).upstream_root(&bad_root)).start_background();
    assert!(err.unwrap_err().to_string().contains("empty.pem"), "a bad upstream root names its file");
    let _ = std::fs::remove_dir_all(&dir);
}
