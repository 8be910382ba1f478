//! The same scenarios through boto3 (the venv's python): users of other SDKs use the proxy too,
//! and botocore parses what the proxy renders as the Rust SDK does.

use settle_emulator::proxy_in_front_of_moto;
use settle_proxy::{Config, Faults};

/// Runs `tests/python/SCRIPT ARGS…` with the venv's python; fails with its output if it fails.
fn run(script: &str, args: &[String]) {
    let python = settle_emulator::ensure_moto_venv().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = std::process::Command::new(python).arg(script).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "boto3 scenario failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn boto3_sees_the_same_pitfalls() {
    let proxy = proxy_in_front_of_moto(Config::held());
    run("boto3_lag.py", &[proxy.endpoint(), proxy.control_token().unwrap().to_string()]);
}

#[test]
fn boto3_sees_the_sqs_kms_logs_sns_ec2_and_route53_pitfalls_and_throttling() {
    let proxy = proxy_in_front_of_moto(Config::held());
    // One token, never refilled in the test's time: every call after a service's first is throttled.
    let throttle = Faults { throttle: Some("1/h:1".parse().unwrap()), ..Faults::default() };
    let throttling = proxy_in_front_of_moto(Config { faults: throttle, ..Config::default() });
    run(
        "boto3_services.py",
        &[proxy.endpoint(), proxy.control_token().unwrap().to_string(), throttling.endpoint()],
    );
    // Each throttled call was attempted 3 times: botocore's standard retry classified it as throttling.
    let counters = throttling.counters();
    for op in [
        "sqs:ListQueues",
        "kms:ListKeys",
        "logs:DescribeLogGroups",
        "sns:ListTopics",
        "ec2:DescribeVpcs",
        "route53:ListHostedZones",
    ] {
        assert_eq!(counters.throttled_per_operation.get(op), Some(&3), "{op}: {counters:?}");
    }
    let counters = proxy.counters();
    // One stale read per service, KMS's new key NotFound, EC2's new instance to Describe and CreateTags.
    assert_eq!(counters.served_from_snapshot, 7);
    // The instance read pending once; Route 53: 2 write answers and 3 GetChange reads PENDING.
    assert_eq!(counters.status_rewrites, 6, "{counters:?}");
    assert_eq!(counters.tagging_view_rewrites, 2, "the view while 4, then 1, tag writes were held");
    assert_eq!(counters.conflicts, 1, "QueueDeletedRecently");
}

#[test]
fn boto3_sees_lambda_states_and_propagation_errors() {
    let proxy = proxy_in_front_of_moto(Config::held());
    run("boto3_lambda.py", &[proxy.endpoint(), proxy.control_token().unwrap().to_string()]);
    let counters = proxy.counters();
    assert_eq!((counters.propagation_refusals, counters.blocked), (2, 1), "{counters:?}");
}

/// Each propagation rule not covered above: the same code, message and status through botocore.
#[test]
fn boto3_parses_every_propagation_refusal() {
    let proxy = proxy_in_front_of_moto(Config::held());
    run("boto3_propagation.py", &[proxy.endpoint(), proxy.control_token().unwrap().to_string()]);
    // Lambda, EC2, KMS ×2, SNS ×2, SQS ×2, STS: one refusal each.
    assert_eq!(proxy.counters().propagation_refusals, 9, "{:?}", proxy.counters());
}

#[test]
fn boto3_sees_dynamodb_items_lag_for_eventually_consistent_reads_only() {
    let proxy = proxy_in_front_of_moto(Config::held());
    run("boto3_dynamodb.py", &[proxy.endpoint(), proxy.control_token().unwrap().to_string()]);
    let counters = proxy.counters();
    // GetItem and Query after the put; GetItem, Query, Scan and the index Query after the update.
    assert_eq!(counters.served_from_snapshot, 6, "each stale read answered by the proxy: {counters:?}");
}
