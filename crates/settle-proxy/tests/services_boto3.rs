//! The SQS, KMS, CloudWatch Logs and SNS pitfalls and throttling codes through boto3 (the venv's
//! python): botocore parses what the proxy renders as the Rust SDK does.

mod services_support;

use services_support::{held, throttled, throttled_attempts};

#[test]
fn boto3_sees_the_new_services_pitfalls_and_throttling() {
    let ((proxy, _), (throttling, _)) = (held(), throttled());
    let python = settle_testbed::ensure_moto_venv().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/boto3_services.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(proxy.endpoint())
        .arg(proxy.control_token().unwrap())
        .arg(throttling.endpoint())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 scenario failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Each throttled call was attempted 3 times: botocore classified it as throttling.
    for op in ["sqs:ListQueues", "kms:ListKeys", "logs:DescribeLogGroups", "sns:ListTopics"] {
        assert_eq!(throttled_attempts(&throttling, op), Some(3), "{op}: {:?}", throttling.counters());
    }
    assert_eq!(proxy.counters().served_from_snapshot, 4, "one stale read per service");
    assert_eq!(proxy.counters().conflicts, 1, "QueueDeletedRecently");
}
