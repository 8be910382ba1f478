//! Throttling and transient errors, seen by the SDK's standard retry as what they are;
//! secrets never reach the recording.

use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use settle_emulator::{proxy_in_front_of_moto, sdk_config, unique_name};
use settle_proxy::{Config, Faults};

/// Three attempts, 10 ms initial backoff: the SDK retries only what it classifies as retryable.
fn retry() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(10))
}

fn throttled(rate: &str) -> Config {
    Config {
        faults: Faults { throttle: Some(rate.parse().unwrap()), ..Faults::default() },
        ..Config::default()
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_for_every_protocol_family() {
    // One token, never refilled in the test's time: the first call passes, the next is throttled.
    let proxy = proxy_in_front_of_moto(throttled("1/h:1"));
    let config = sdk_config(&proxy.endpoint());

    // awsJson 1.1
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&config).retry_config(retry()).build(),
    );
    let name = unique_name("/settle/thr");
    let _ = ssm.get_parameter().name(&name).send().await;
    let err = ssm.get_parameter().name(&name).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    // awsJson 1.0 (DynamoDB)
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config).retry_config(retry()).build(),
    );
    let _ = ddb.list_tables().send().await;
    let err = ddb.list_tables().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ProvisionedThroughputExceededException"));
    // query (IAM)
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&config).retry_config(retry()).build(),
    );
    let _ = iam.list_roles().send().await;
    let err = iam.list_roles().send().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"));
    // restXml (S3)
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config).retry_config(retry()).build(),
    );
    let _ = s3.list_buckets().send().await;
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("SlowDown"));

    // Each throttled call was attempted 3 times: the standard retry classified it as retryable
    // (a non-retryable 400 would have been attempted once).
    let counters = proxy.counters();
    for op in ["ssm:GetParameter", "dynamodb:ListTables", "iam:ListRoles", "s3:ListBuckets"] {
        assert_eq!(counters.throttled_per_operation.get(op), Some(&3), "{op}: {counters:?}");
        assert_eq!(counters.per_operation.get(op), Some(&4), "{op}");
    }
}

#[tokio::test]
async fn per_operation_throttle_leaves_other_operations_alone() {
    let mut config = Config::default();
    config.services.entry("ssm".into()).or_default().operations.insert(
        "PutParameter".into(),
        Faults { throttle: Some("1/h:1".parse().unwrap()), ..Faults::default() },
    );
    let proxy = proxy_in_front_of_moto(config);
    let sdk = sdk_config(&proxy.endpoint());
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&sdk).retry_config(RetryConfig::disabled()).build(),
    );
    let name = unique_name("/settle/opthr");
    ssm.put_parameter()
        .name(&name)
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ssm.put_parameter().name(&name).value("w").overwrite(true).send().await.unwrap_err().code(),
        Some("ThrottlingException")
    );
    for _ in 0..5 {
        ssm.get_parameter().name(&name).send().await.unwrap();
    }
}

#[tokio::test]
async fn injected_5xx_are_transient_for_the_sdk() {
    let config = Config {
        faults: Faults { errors: Some(1.0), ..Faults::default() },
        seed: Some(1),
        ..Config::default()
    };
    let proxy = proxy_in_front_of_moto(config);
    let sdk = sdk_config(&proxy.endpoint());
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&sdk).retry_config(retry()).build(),
    );
    let err = ssm.describe_parameters().send().await.unwrap_err();
    assert!(matches!(err.code(), Some("InternalFailure" | "ServiceUnavailable")), "{err:?}");
    assert_eq!(proxy.counters().errors_injected, 3, "retried as transient");
}

#[tokio::test]
async fn recording_never_contains_secret_values() {
    let path = std::env::temp_dir().join(format!("settle-proxy-record-{}.jsonl", std::process::id()));
    let mut config = Config::held();
    config.record_params = true;
    let proxy = settle_proxy::Proxy::builder()
        .upstream(settle_emulator::shared_moto().endpoint())
        .config(config)
        .record(&path)
        .start()
        .await
        .unwrap();
    // Temporary credentials, as from STS: the session token travels with every request.
    let sdk = settle_emulator::sdk_config_with_session_token(&proxy.endpoint());
    let (secret, secure, binary) = ("SECRET-string-4f1d9", "SECURE-param-8c2e7", "BINARY-secret-77aa1");
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let sname = unique_name("settle-redact");
    let pname = unique_name("/settle/redact");
    sm.create_secret().name(&sname).secret_string(secret).send().await.unwrap();
    ssm.put_parameter()
        .name(&pname)
        .value(secure)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.release_all(), 2);
    sm.get_secret_value().secret_id(&sname).send().await.unwrap();
    sm.put_secret_value()
        .secret_id(&sname)
        .secret_binary(aws_smithy_types::Blob::new(binary.as_bytes()))
        .send()
        .await
        .unwrap();
    ssm.get_parameter().name(&pname).with_decryption(true).send().await.unwrap();
    assert!(proxy.flush_recording());
    proxy.shutdown();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.contains("\"operation\":\"CreateSecret\"") && text.contains(&pname));
    let b64 = aws_smithy_types::base64::encode(binary.as_bytes());
    let secrets = [secret, secure, binary, b64.as_str()];
    let credentials =
        [settle_emulator::SECRET_ACCESS_KEY, settle_emulator::SESSION_TOKEN, settle_emulator::ACCESS_KEY_ID];
    for needle in secrets.into_iter().chain(credentials) {
        assert!(!text.contains(needle), "the recording contains {needle}:\n{text}");
    }
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn s3_prefix_buckets_answer_slow_down_per_prefix() {
    // One write per hour per bucket + prefix; reads unlimited.
    let config = Config::from_toml("[services.s3]\nprefix_writes = \"1/h:1\"\n").unwrap();
    let proxy = proxy_in_front_of_moto(config);
    let sdk = sdk_config(&proxy.endpoint());
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let bucket = unique_name("settle-prefix").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap(); // bucket-level: no prefix bucket
    let put = |key: &'static str| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move { s3.put_object().bucket(bucket).key(key).body(b"v".to_vec().into()).send().await }
    };
    put("logs/a").await.unwrap();
    let err = put("logs/b").await.unwrap_err();
    assert_eq!(err.code(), Some("SlowDown"), "the prefix logs/ has spent its write");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    put("data/a").await.expect("another prefix has a bucket of its own");
    put("top").await.expect("the empty prefix too");
    put("logs/deeper/c").await.expect("logs/deeper/ is a prefix of its own");
    s3.get_object()
        .bucket(&bucket)
        .key("logs/a")
        .send()
        .await
        .expect("reads have their own bucket (none here)");
    assert_eq!(proxy.counters().throttled_per_operation.get("s3:PutObject"), Some(&1));
}

#[tokio::test]
async fn a_share_of_requests_gets_the_services_throttling_error_whatever_the_rate() {
    let config = Config {
        faults: Faults { throttle_share: Some(0.2), ..Faults::default() },
        seed: Some(3),
        ..Config::default()
    };
    let proxy = proxy_in_front_of_moto(config);
    let sdk = sdk_config(&proxy.endpoint());
    // Enough attempts that no call runs out of them: 0.2^5 per call.
    let patient = RetryConfig::standard().with_max_attempts(5).with_initial_backoff(Duration::from_millis(1));
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&sdk).retry_config(patient).build(),
    );
    for _ in 0..40 {
        ssm.describe_parameters().send().await.expect("every call succeeds after its retries");
    }
    let counters = proxy.counters();
    let throttled = counters.throttled_per_operation.get("ssm:DescribeParameters").copied().unwrap_or(0);
    let attempts = counters.per_operation["ssm:DescribeParameters"];
    assert_eq!(attempts, 40 + throttled, "each throttled attempt was retried once more: {counters:?}");
    assert!(throttled > 0 && throttled < attempts / 2, "about a fifth throttled: {throttled} of {attempts}");

    // Always throttled: the SDK sees SSM's own throttling code, never a 5xx.
    let always =
        Config { faults: Faults { throttle_share: Some(1.0), ..Faults::default() }, ..Config::default() };
    let proxy = proxy_in_front_of_moto(always);
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&sdk_config(&proxy.endpoint())).retry_config(retry()).build(),
    );
    let err = ssm.describe_parameters().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    assert_eq!(proxy.counters().throttled, 3);
}
