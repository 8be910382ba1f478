//! The same scenario through boto3 (the venv's python): users of other SDKs use the proxy too.

#[test]
fn boto3_sees_the_same_pitfalls() {
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::held());
    let python = settle_testbed::ensure_moto_venv().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/boto3_lag.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(proxy.endpoint())
        .arg(proxy.control_token().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 scenario failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
