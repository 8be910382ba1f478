//! The resource-provider runtime: payloads (both shapes, malformed and hostile ones), the
//! ProgressEvent JSON, the handler contract, and the `Settle::SecretsManager::Secret` example
//! end to end through settle-proxy in front of moto, including crash-resume of a SIGKILLed
//! handler process.

#[path = "../../examples/secret_provider/secret.rs"]
#[allow(dead_code)]
mod example;

mod crash;
mod hostile;
mod lambda;
mod payloads;
mod secret;

use serde_json::{Value, json};

/// Real-looking credentials: tests prove none of them reaches a response or a log line.
pub const ACCESS_KEY_ID: &str = "ASIAQCFNTESTKEY7EXMP";
pub const SECRET_ACCESS_KEY: &str = "cfn-SECRET-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const SESSION_TOKEN: &str = "cfn-SESSION-FwoGZXIvYXdzEJr//////////wEaDH7ExampleToken";

pub fn credentials() -> Value {
    json!({"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": SECRET_ACCESS_KEY, "sessionToken": SESSION_TOKEN})
}

/// The proxy as the acceptance wants it, AWS-like: every write visible after 1–3 s, 20% of
/// requests answered with the service's throttling error; seeded.
pub fn aws_like() -> settle_proxy::Config {
    let faults = settle_proxy::Faults {
        lag: Some("1s..3s".parse().unwrap()),
        throttle_share: Some(0.2),
        ..settle_proxy::Faults::default()
    };
    settle_proxy::Config { seed: Some(13), faults, ..settle_proxy::Config::default() }
}

/// The SDK's standard retries with enough attempts that 20% throttling does not get through
/// (0.2^10 per call), as a handler in a busy account would configure them.
pub fn patient_retries() -> aws_types::sdk_config::RetryConfig {
    aws_types::sdk_config::RetryConfig::standard().with_max_attempts(10)
}

/// Requests of `operation` (e.g. `secretsmanager:CreateSecret`) the proxy forwarded to moto:
/// those it received less those it answered with a throttling error.
pub fn forwarded(proxy: &settle_proxy::ProxyHandle, operation: &str) -> u64 {
    let counters = proxy.counters();
    let of = |map: &std::collections::BTreeMap<String, u64>| map.get(operation).copied().unwrap_or(0);
    of(&counters.per_operation) - of(&counters.throttled_per_operation)
}

/// This test binary, re-run as a child process that runs only the ignored test `test` (its
/// output uncaptured, one test thread, no stdin unless the caller pipes one).
pub fn child_process(test: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--ignored", "--exact", test, "--nocapture", "--test-threads=1"])
        .stdin(std::process::Stdio::null());
    command
}

/// CloudFormation's handler request.
pub fn handler_request(action: &str, token: &str, properties: Value, context: Option<Value>) -> Value {
    let mut request = json!({
        "action": action,
        "awsAccountId": "123456789012",
        "bearerToken": token,
        "region": "us-east-1",
        "resourceType": "Settle::SecretsManager::Secret",
        "resourceTypeVersion": "00000001",
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "requestData": {
            "resourceProperties": properties,
            "logicalResourceId": "MySecret",
            "stackTags": {"team": "settle"},
            "systemTags": {"aws:cloudformation:stack-name": "s"},
            "callerCredentials": credentials(),
            "providerCredentials": credentials(),
        },
    });
    if let Some(context) = context {
        request["callbackContext"] = context;
    }
    request
}

/// The CloudFormation CLI's local test payload.
pub fn test_payload(action: &str, token: &str, desired: Value, previous: Option<Value>) -> Value {
    json!({
        "credentials": credentials(),
        "action": action,
        "region": "us-east-1",
        "request": {
            "clientRequestToken": token,
            "desiredResourceState": desired,
            "previousResourceState": previous,
            "logicalResourceIdentifier": "MySecret",
        },
        "callbackContext": null,
    })
}

/// Fails if `text` holds any part of the credentials.
pub fn assert_no_credentials(what: &str, text: &str) {
    assert_no_secrets(what, text);
    assert!(!text.contains(ACCESS_KEY_ID), "{what} holds the access key id: {text}");
}

/// Fails if `text` holds the secret key or the session token.
pub fn assert_no_secrets(what: &str, text: &str) {
    for secret in [SECRET_ACCESS_KEY, SESSION_TOKEN, "wJalrXUtnFEMI", "FwoGZXIvYXdzEJr"] {
        assert!(!text.contains(secret), "{what} holds a credential ({secret}): {text}");
    }
}
