//! moto: a JSON-model waiter polling GetSecretValue never shows the secret it read.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_settle::wait::{CaptureBody, Model, VirtualClock, WaitError};

/// Waits for a version stage that never comes, so the wait times out holding the last output.
const MODEL: &str = r#"{"version": 2, "waiters": {"SecretStaged": {"delay": 1, "maxAttempts": 2,
    "operation": "GetSecretValue", "acceptors": [
    {"state": "success", "matcher": "pathAny", "argument": "VersionStages", "expected": "NEVER"},
    {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"}]}}}"#;

async fn timed_out_on(client: &Client, id: &str, capture: &CaptureBody) -> WaitError {
    let model = Model::from_json_str(MODEL).unwrap();
    model
        .waiter("SecretStaged")
        .unwrap()
        .typed::<GetSecretValueOutput>()
        .clock(VirtualClock::new())
        .capture(capture)
        .wait(|| client.get_secret_value().secret_id(id).customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err()
}

/// A client and a new secret with a real, unique value: (client, name, value).
async fn with_secret(prefix: &str) -> (Client, String, String) {
    let client = Client::new(&settle_testbed::moto_sdk_config());
    let secret = format!("pw-{}", settle_testbed::unique_name("hunter2"));
    let name = settle_testbed::unique_name(prefix);
    client.create_secret().name(&name).secret_string(&secret).send().await.expect("CreateSecret");
    (client, name, secret)
}

#[tokio::test]
async fn the_last_seen_output_of_get_secret_value_has_no_secret() {
    let (client, name, secret) = with_secret("settle-wait-secret").await;
    let capture = CaptureBody::new();
    let err = timed_out_on(&client, &name, &capture).await;
    assert!(err.is_timeout() && err.attempts() == 2, "{err}");
    let last = err.last().unwrap();
    // The wire body did hold it: the redaction is what keeps it out.
    let body = String::from_utf8(capture.response_body().unwrap()).unwrap();
    assert!(body.contains(&secret), "moto returned the secret");
    assert!(last.contains("\"SecretString\":\"<redacted>\"") && last.contains(&name), "{last}");
    for shown in [err.to_string(), format!("{err:?}"), format!("{capture:?}")] {
        assert!(!shown.contains(&secret), "{shown}");
    }
}

#[tokio::test]
async fn a_binary_secret_is_redacted_too() {
    let client = Client::new(&settle_testbed::moto_sdk_config());
    let payload = format!("bin-{}", settle_testbed::unique_name("hunter2"));
    let bytes = payload.clone().into_bytes();
    let name = settle_testbed::unique_name("settle-wait-secret-bin");
    client
        .create_secret()
        .name(&name)
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .expect("CreateSecret");
    let capture = CaptureBody::new();
    let err = timed_out_on(&client, &name, &capture).await;
    let body = String::from_utf8(capture.response_body().unwrap()).unwrap();
    let wire: serde_json::Value = serde_json::from_str(&body).unwrap();
    let encoded = wire["SecretBinary"].as_str().expect("SecretBinary on the wire").to_string();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(&encoded) && !shown.contains(&payload), "{shown}");
    }
    assert!(err.last().unwrap().contains("\"SecretBinary\":\"<redacted>\""), "{err}");
}

#[tokio::test]
async fn a_json_waiter_over_the_raw_body_does_not_show_the_secret() {
    // `WaiterModel::json` polls a JSON value: here the raw GetSecretValue body, secret and all.
    let (client, name, secret) = with_secret("settle-wait-secret-json").await;
    let model = Model::from_json_str(MODEL).unwrap();
    let capture = CaptureBody::new();
    let err = model
        .waiter("SecretStaged")
        .unwrap()
        .json()
        .clock(VirtualClock::new())
        .wait(|| async {
            client
                .get_secret_value()
                .secret_id(&name)
                .customize()
                .interceptor(capture.clone())
                .send()
                .await?;
            Ok::<_, aws_sdk_secretsmanager::error::SdkError<_, _>>(
                capture.response_json().expect("a JSON body"),
            )
        })
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(&secret), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
