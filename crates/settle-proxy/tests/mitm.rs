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
