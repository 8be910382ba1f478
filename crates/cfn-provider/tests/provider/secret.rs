//! `Settle::SecretsManager::Secret` through settle-proxy in front of moto: the contract
//! sequence, and CREATE answering IN_PROGRESS while the new secret is held invisible.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_settle::chain::{FileStore, HandlerErrorCode, OperationStatus};
use cfn_provider::{Response, Runtime};
use serde_json::{Value, json};

use super::example::SecretProvider;
use super::*;

/// A secret value: tests prove it never reaches a response, a memo or a log line.
pub const SECRET_VALUE: &str = "cfn-SECRETVALUE-hunter2-correct-horse";

pub fn runtime(memos: &Path, endpoint: &str) -> Runtime<SecretProvider> {
    Runtime::new(SecretProvider)
        .with_store(Arc::new(FileStore::new(memos)))
        .with_endpoint_url(endpoint)
        .with_margin(Duration::from_millis(300))
        .with_callback_delay(Duration::from_secs(1))
        .with_retry_config(patient_retries())
}

/// Invokes until the answer is not IN_PROGRESS (at most 10 times), handing back the callback context.
async fn settle(runtime: &Runtime<SecretProvider>, mut payload: Value) -> (Response, u32) {
    for invocation in 1..=10 {
        let response = runtime.handle(payload.to_string().as_bytes(), Some(Duration::from_secs(60))).await;
        let text = response.to_json();
        assert_no_credentials("a response", &text);
        assert!(!text.contains(SECRET_VALUE), "a response holds the secret value: {text}");
        if response.status != OperationStatus::InProgress {
            return (response, invocation);
        }
        payload["callbackContext"] =
            response.callback_context.clone().expect("IN_PROGRESS carries a context");
    }
    panic!("still IN_PROGRESS after 10 invocations");
}

fn files_in(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_secret_provider_passes_the_contract_sequence_and_logs_no_credential() {
    let logs = settle_emulator::LogCapture::default();
    // The process-wide subscriber (the only test of this binary that captures logs): a scoped one
    // loses events to callsites that tests on other threads, with no subscriber, cached as "never".
    // Every other test's log lines land here too, and none may hold a secret either.
    tracing::subscriber::set_global_default(logs.subscriber(tracing::Level::DEBUG))
        .expect("no other test of this binary sets a subscriber");
    let proxy = settle_emulator::proxy_in_front_of_moto(aws_like());
    let memos = tempfile::tempdir().unwrap();
    let rt = runtime(memos.path(), &proxy.endpoint());
    let name = settle_emulator::unique_name("cfn-secret");
    let properties = json!({
        "Name": name, "Description": "first", "SecretString": SECRET_VALUE,
        "Tags": [{"Key": "team", "Value": "settle"}, {"Key": "tier", "Value": "1"}],
    });

    // CREATE: SUCCESS with the ARN as Id, without the secret value.
    let (created, _) = settle(&rt, handler_request("CREATE", "tok-create", properties.clone(), None)).await;
    assert_eq!(created.status, OperationStatus::Success, "{created:?}");
    let model = created.resource_model.clone().unwrap();
    let id = model["Id"].as_str().unwrap().to_string();
    assert!(id.starts_with("arn:aws:secretsmanager:") && id.contains(&name), "{id}");
    assert!(model.get("SecretString").is_none(), "{model}");

    // READ: the same properties, no write-only one.
    let read = |token: &str, id: &str| handler_request("READ", token, json!({"Id": id}), None);
    let (response, _) = settle(&rt, read("tok-read-1", &id)).await;
    assert_eq!(response.status, OperationStatus::Success, "{response:?}");
    assert_eq!(
        response.resource_model.unwrap(),
        json!({"Id": id, "Name": name, "Description": "first", "Tags": [{"Key": "team", "Value": "settle"}, {"Key": "tier", "Value": "1"}]})
    );

    // UPDATE: description, value, one tag changed, one removed, one added.
    let mut update = handler_request(
        "UPDATE",
        "tok-update",
        json!({"Id": id, "Name": name, "Description": "second", "SecretString": "cfn-SECRETVALUE-2",
               "Tags": [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "test"}]}),
        None,
    );
    update["requestData"]["previousResourceProperties"] = properties.clone();
    let (response, _) = settle(&rt, update).await;
    assert_eq!(response.status, OperationStatus::Success, "{response:?}");
    let (response, _) = settle(&rt, read("tok-read-2", &id)).await;
    let model = response.resource_model.unwrap();
    assert_eq!(model["Description"], "second");
    let mut tags: Vec<(String, String)> = model["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["Key"].as_str().unwrap().into(), t["Value"].as_str().unwrap().into()))
        .collect();
    tags.sort();
    assert_eq!(tags, [("env".into(), "test".into()), ("team".into(), "core".into())]);

    // Name is create-only.
    let renamed = handler_request("UPDATE", "tok-rename", json!({"Id": id, "Name": "other"}), None);
    let (response, _) = settle(&rt, renamed).await;
    assert_eq!(response.error_code, Some(HandlerErrorCode::NotUpdatable));

    // LIST: the secret, by Id and Name only.
    let (response, _) = settle(&rt, handler_request("LIST", "tok-list", json!({}), None)).await;
    let models = response.resource_models.unwrap();
    assert!(models.contains(&json!({"Id": id, "Name": name})), "{models:?}");

    // DELETE, then READ, UPDATE and DELETE are NotFound.
    let (response, _) = settle(&rt, handler_request("DELETE", "tok-delete", json!({"Id": id}), None)).await;
    assert_eq!(response.status, OperationStatus::Success, "{response:?}");
    assert!(response.resource_model.is_none());
    for action in ["READ", "UPDATE", "DELETE"] {
        let payload = handler_request(
            action,
            &format!("tok-after-{action}"),
            json!({"Id": id, "Description": "x"}),
            None,
        );
        let (response, _) = settle(&rt, payload).await;
        assert_eq!(
            (response.status, response.error_code),
            (OperationStatus::Failed, Some(HandlerErrorCode::NotFound)),
            "{action}"
        );
    }
    let counters = proxy.counters();
    assert_eq!(forwarded(&proxy, "secretsmanager:CreateSecret"), 1, "{counters:?}");
    assert_eq!(forwarded(&proxy, "secretsmanager:DeleteSecret"), 1, "{counters:?}");
    assert!(counters.throttled > 0 && counters.writes_lagged > 0, "AWS-like: {counters:?}");

    // Finished requests leave no memo; no log line and no memo holds a credential or the value.
    let text = logs.text();
    assert!(text.contains("handler invoked") && text.contains("action=CREATE"), "{text}");
    // The SDK's own DEBUG lines show the access key id (an identifier, not a secret: the SDK
    // redacts the secret key and the token); the runtime's lines show none of them.
    assert_no_secrets("the logs", &text);
    let ours: Vec<&str> = text.lines().filter(|line| line.contains("cfn_provider")).collect();
    assert!(ours.len() >= 2 * 10, "the runtime logs each invocation: {ours:?}");
    assert_no_credentials("the runtime's log lines", &ours.join("\n"));
    assert!(!text.contains(SECRET_VALUE) && !text.contains("cfn-SECRETVALUE-2"));
    let memo_text = files_in(memos.path());
    assert!(!memo_text.contains("create-secret"), "finished memos are removed: {memo_text}");
}

#[tokio::test]
async fn create_is_in_progress_while_the_secret_is_held_invisible_and_succeeds_after_release() {
    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::held());
    let memos = tempfile::tempdir().unwrap();
    let rt = runtime(memos.path(), &proxy.endpoint());
    let name = settle_emulator::unique_name("cfn-held");
    let payload =
        handler_request("CREATE", "tok-held", json!({"Name": name, "SecretString": SECRET_VALUE}), None);

    // 10 s left, 0.3 s margin: the handler creates the secret, polls DescribeSecret (not found:
    // held) until 9.7 s, then saves the memo and answers IN_PROGRESS. What it sees is decided by
    // the hold; the 10 s only need to outlast one CreateSecret round trip on a loaded machine
    // (with 3 s, CI once saw the deadline come before moto answered the create).
    let first = rt.handle(payload.to_string().as_bytes(), Some(Duration::from_secs(10))).await;
    assert_eq!((first.status, first.callback_delay_seconds), (OperationStatus::InProgress, 1), "{first:?}");
    let context = first.callback_context.clone().unwrap();
    assert_eq!(context["calls"]["create-secret"]["called"], true, "{context}");
    assert_eq!(context["calls"]["create-secret"]["stabilized"], false, "{context}");
    assert!(!context.to_string().contains(SECRET_VALUE));
    let stored = files_in(memos.path());
    assert!(stored.contains("create-secret") && !stored.contains(SECRET_VALUE), "{stored}");
    assert!(proxy.held() >= 1);

    proxy.release_all();
    let mut again = payload.clone();
    again["callbackContext"] = context;
    let second = rt.handle(again.to_string().as_bytes(), Some(Duration::from_secs(60))).await;
    assert_eq!(second.status, OperationStatus::Success, "{second:?}");
    assert!(second.resource_model.unwrap()["Id"].as_str().unwrap().contains(&name));
    assert_eq!(proxy.counters().per_operation.get("secretsmanager:CreateSecret"), Some(&1));
}
