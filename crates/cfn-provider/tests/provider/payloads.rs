//! Payloads and the ProgressEvent JSON, over a provider with no AWS calls.

use std::time::Duration;

use aws_settle::chain::{HandlerErrorCode, OperationStatus, ProgressEvent};
use cfn_provider::{
    Action, Context, Invocation, Listed, MAX_PAYLOAD_BYTES, Provider, Response, Runtime, Shape,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Thing {
    name: String,
    #[serde(default)]
    size: Option<u32>,
    #[serde(default)]
    password: Option<String>,
}

/// Answers what each test needs: CREATE succeeds with the model, READ misbehaves
/// (IN_PROGRESS), UPDATE panics, DELETE succeeds, LIST pages two models.
struct Fake;

impl Provider for Fake {
    type Model = Thing;
    const WRITE_ONLY: &'static [&'static str] = &["Password"];

    async fn create(&self, cx: &mut Context<Thing>) -> ProgressEvent<Thing> {
        match cx.desired_model() {
            Ok(model) => ProgressEvent::success(model),
            Err(event) => event,
        }
    }

    async fn read(&self, cx: &mut Context<Thing>) -> ProgressEvent<Thing> {
        let model = cx.desired_model().unwrap();
        ProgressEvent::progress(model, cx.memo.clone(), 5)
    }

    async fn update(&self, _cx: &mut Context<Thing>) -> ProgressEvent<Thing> {
        panic!("a bug in the handler")
    }

    async fn delete(&self, cx: &mut Context<Thing>) -> ProgressEvent<Thing> {
        ProgressEvent::success(cx.desired_model().unwrap())
    }

    async fn list(&self, cx: &mut Context<Thing>) -> Result<Listed<Thing>, ProgressEvent<Thing>> {
        let page = cx.invocation.next_token.clone();
        let thing = |name: &str| Thing { name: name.into(), size: None, password: Some("hunter2".into()) };
        Ok(match page.as_deref() {
            None => Listed { models: vec![thing("a")], next_token: Some("page-2".into()) },
            _ => Listed { models: vec![thing("b")], next_token: None },
        })
    }
}

fn runtime() -> Runtime<Fake> {
    Runtime::new(Fake).without_store()
}

async fn answer(payload: &Value) -> (Response, Value) {
    let response = runtime().handle(payload.to_string().as_bytes(), None).await;
    let json: Value = serde_json::from_str(&response.to_json()).unwrap();
    assert_no_credentials("the response", &response.to_json());
    (response, json)
}

#[test]
fn both_payload_shapes_read_into_one_invocation() {
    let request = handler_request("UPDATE", "tok-1", json!({"Name": "x"}), Some(json!({"calls": {}})));
    let mut request = request;
    request["requestData"]["previousResourceProperties"] = json!({"Name": "w"});
    request["nextToken"] = json!("n");
    let invocation = Invocation::from_value(&request).unwrap();
    assert_eq!(invocation.shape, Shape::HandlerRequest);
    assert_eq!(invocation.action, Action::Update);
    assert_eq!(invocation.client_request_token, "tok-1");
    assert_eq!(invocation.region, "us-east-1");
    assert_eq!(invocation.aws_account_id.as_deref(), Some("123456789012"));
    assert_eq!(invocation.resource_type.as_deref(), Some("Settle::SecretsManager::Secret"));
    assert_eq!(invocation.resource_type_version.as_deref(), Some("00000001"));
    assert_eq!(invocation.logical_resource_id.as_deref(), Some("MySecret"));
    assert_eq!(invocation.desired, Some(json!({"Name": "x"})));
    assert_eq!(invocation.previous, Some(json!({"Name": "w"})));
    assert_eq!(invocation.stack_tags.get("team").map(String::as_str), Some("settle"));
    assert!(invocation.system_tags.contains_key("aws:cloudformation:stack-name"));
    assert!(invocation.caller_credentials.is_some() && invocation.provider_credentials.is_some());
    assert_eq!(invocation.callback_context, Some(json!({"calls": {}})));
    assert_eq!(invocation.next_token.as_deref(), Some("n"));
    assert_no_credentials("an invocation's Debug", &format!("{invocation:?}"));

    let test = test_payload("CREATE", "tok-2", json!({"Name": "y"}), None);
    let invocation = Invocation::from_value(&test).unwrap();
    assert_eq!((invocation.shape, invocation.action), (Shape::TestEvent, Action::Create));
    assert_eq!(invocation.client_request_token, "tok-2");
    assert_eq!(invocation.logical_resource_id.as_deref(), Some("MySecret"));
    assert_eq!((invocation.desired, invocation.previous), (Some(json!({"Name": "y"})), None));

    // Hook-style credentials: an object as a JSON string.
    let mut request = handler_request("READ", "t", json!({"Name": "x"}), None);
    request["requestData"]["callerCredentials"] = json!(credentials().to_string());
    assert!(Invocation::from_value(&request).unwrap().caller_credentials.is_some());
}

#[tokio::test]
async fn malformed_payloads_are_invalid_request_naming_the_field_never_a_value() {
    let valid = handler_request("CREATE", "tok", json!({"Name": "x"}), None);
    let with = |path: &[&str], value: Value| {
        let mut payload = valid.clone();
        let mut at = &mut payload;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        payload
    };
    let cases = [
        (json!("a string"), "the payload must be an object, found a string"),
        (json!({"hello": 1}), "neither a handler request"),
        (with(&["action"], json!("EXPLODE")), "action \"EXPLODE\" is none of CREATE"),
        (with(&["action"], json!(7)), "action must be a string, found a number"),
        (with(&["action"], Value::Null), "action is missing"),
        (with(&["bearerToken"], Value::Null), "bearerToken is missing"),
        (with(&["region"], json!(["us-east-1"])), "region must be a string, found an array"),
        (with(&["requestData"], json!(SECRET_ACCESS_KEY)), "requestData must be an object, found a string"),
        (
            with(&["requestData", "resourceProperties"], json!(SECRET_ACCESS_KEY)),
            "requestData.resourceProperties must be an object, found a string",
        ),
        (
            with(&["requestData", "callerCredentials"], json!(SECRET_ACCESS_KEY)),
            "requestData.callerCredentials must be an object (or an object as a JSON string), found a string",
        ),
        (
            with(&["requestData", "callerCredentials", "secretAccessKey"], json!(12)),
            "requestData.callerCredentials.secretAccessKey must be a string, found a number",
        ),
        (
            with(&["requestData", "callerCredentials"], Value::Null),
            "requestData.callerCredentials is missing",
        ),
        (
            with(&["requestData", "stackTags", "team"], json!(SESSION_TOKEN.len())),
            "requestData.stackTags.team must be a string, found a number",
        ),
        (
            with(&["requestData", "resourceProperties", "Size"], json!(SECRET_ACCESS_KEY)),
            "requestData.resourceProperties does not match the resource model: a property has the wrong type or value (expected u32)",
        ),
        (with(&["requestData", "resourceProperties"], json!({"Size": 1})), "missing field `Name`"),
        (
            with(&["callbackContext"], json!({"calls": SESSION_TOKEN})),
            "callbackContext is not a memo this runtime wrote",
        ),
        (json!({"credentials": credentials(), "action": "READ"}), "request is missing"),
    ];
    for (payload, message) in cases {
        let (response, json) = answer(&payload).await;
        assert_eq!(
            (response.status, response.error_code),
            (OperationStatus::Failed, Some(HandlerErrorCode::InvalidRequest)),
            "{payload}"
        );
        let text = response.message.unwrap_or_default();
        assert!(text.contains(message), "{message:?} not in {text:?}");
        assert_eq!(json["status"], "FAILED");
        assert!(json.get("resourceModel").is_none() && json.get("callbackContext").is_none(), "{json}");
    }

    let not_json = runtime().handle(b"{\"action\": \"CREATE\", ", None).await;
    assert!(not_json.message.unwrap_or_default().starts_with("the payload is not JSON"));
    let huge = vec![b' '; 10 * 1024 * 1024];
    let too_large = runtime().handle(&huge, None).await;
    assert_eq!(too_large.error_code, Some(HandlerErrorCode::InvalidRequest));
    assert!(
        too_large.message.unwrap_or_default().contains(&format!("above the limit of {MAX_PAYLOAD_BYTES}"))
    );
    let read = runtime().handle_reader(std::io::Cursor::new(huge), None).await;
    assert_eq!(read.error_code, Some(HandlerErrorCode::InvalidRequest));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        runtime().handle(deep.as_bytes(), None).await.error_code,
        Some(HandlerErrorCode::InvalidRequest)
    );
}

#[tokio::test]
async fn the_progress_event_json_follows_the_handler_contract() {
    // CREATE: the model without its write-only property, nulls dropped, no callback context.
    let properties = json!({"Name": "x", "Password": "hunter2", "Size": null});
    let (response, json) = answer(&handler_request("CREATE", "t", properties, None)).await;
    assert_eq!(response.status, OperationStatus::Success);
    assert_eq!(json, json!({"status": "SUCCESS", "callbackDelaySeconds": 0, "resourceModel": {"Name": "x"}}));

    // READ answering IN_PROGRESS is an InternalFailure.
    let (response, _) = answer(&handler_request("READ", "t", json!({"Name": "x"}), None)).await;
    assert_eq!(
        (response.status, response.error_code),
        (OperationStatus::Failed, Some(HandlerErrorCode::InternalFailure))
    );
    assert!(response.message.unwrap_or_default().contains("READ must finish in one invocation"));

    // A panicking handler is an InternalFailure, not a crash.
    let (response, _) = answer(&test_payload("UPDATE", "t", json!({"Name": "x"}), None)).await;
    assert_eq!(
        (response.status, response.error_code),
        (OperationStatus::Failed, Some(HandlerErrorCode::InternalFailure))
    );
    assert_eq!(response.message.as_deref(), Some("the UPDATE handler panicked"));

    // DELETE answers no model.
    let (_, json) = answer(&handler_request("DELETE", "t", json!({"Name": "x"}), None)).await;
    assert_eq!(json, json!({"status": "SUCCESS", "callbackDelaySeconds": 0}));

    // LIST: models and the next page, write-only properties removed.
    let (_, json) = answer(&handler_request("LIST", "t", json!({"Name": "x"}), None)).await;
    assert_eq!(
        json,
        json!({"status": "SUCCESS", "callbackDelaySeconds": 0, "resourceModels": [{"Name": "a"}], "nextToken": "page-2"})
    );
    let mut second = handler_request("LIST", "t", json!({"Name": "x"}), None);
    second["nextToken"] = json!("page-2");
    let (_, json) = answer(&second).await;
    assert_eq!(json["resourceModels"], json!([{"Name": "b"}]));
    assert!(json.get("nextToken").is_none());
}

#[tokio::test]
async fn a_deadline_is_handed_to_the_handler() {
    struct Remaining;
    impl Provider for Remaining {
        type Model = Thing;
        async fn create(&self, cx: &mut Context<Thing>) -> ProgressEvent<Thing> {
            let remaining = cx.deadline().map(|d| d.remaining()).unwrap_or_default();
            let mut model = cx.desired_model().unwrap();
            model.size = Some(remaining.as_secs() as u32);
            ProgressEvent::success(model)
        }
        async fn read(&self, _: &mut Context<Thing>) -> ProgressEvent<Thing> {
            unreachable!()
        }
        async fn update(&self, _: &mut Context<Thing>) -> ProgressEvent<Thing> {
            unreachable!()
        }
        async fn delete(&self, _: &mut Context<Thing>) -> ProgressEvent<Thing> {
            unreachable!()
        }
        async fn list(&self, _: &mut Context<Thing>) -> Result<Listed<Thing>, ProgressEvent<Thing>> {
            unreachable!()
        }
    }
    let payload = handler_request("CREATE", "t", json!({"Name": "x"}), None).to_string();
    let response = Runtime::new(Remaining)
        .without_store()
        .handle(payload.as_bytes(), Some(Duration::from_secs(900)))
        .await;
    let size = response.resource_model.unwrap()["Size"].as_u64().unwrap();
    assert!((890..=900).contains(&size), "{size}");
}

/// JSON values built from the payload's own field names, so that many reach deep into parsing.
fn payload_values() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "action",
        "bearerToken",
        "region",
        "requestData",
        "resourceProperties",
        "callerCredentials",
        "providerCredentials",
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "credentials",
        "request",
        "clientRequestToken",
        "desiredResourceState",
        "callbackContext",
        "nextToken",
        "stackTags",
        "calls",
        "Name",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec!["CREATE", "READ", "LIST", "DELETE", "UPDATE", "x", ""])
            .prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever arrives, the runtime answers: FAILED InvalidRequest unless the payload reads as an
    /// invocation, and never a panic.
    #[test]
    fn any_payload_gets_an_answer_and_a_bad_one_is_invalid_request(value in payload_values(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for payload in [value.to_string().into_bytes(), bytes] {
            let response = rt.block_on(runtime().handle(&payload, None));
            if Invocation::from_slice(&payload).is_err() {
                prop_assert_eq!(response.status, OperationStatus::Failed);
                prop_assert_eq!(response.error_code, Some(HandlerErrorCode::InvalidRequest));
            }
            prop_assert!(serde_json::from_str::<Value>(&response.to_json()).is_ok());
        }
    }
}
