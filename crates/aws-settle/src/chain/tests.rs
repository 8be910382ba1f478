//! Unit tests of the chain over in-process fakes, in virtual time.

use std::collections::VecDeque;
use std::future::{Future, ready};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;
use crate::wait::{Delays, ErrorResponse, VirtualClock, Waiter};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Model {
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Req {
    name: String,
    password: Option<String>,
}

fn model() -> Model {
    Model { name: "orders".to_string() }
}

fn req(m: &Model) -> Req {
    Req { name: m.name.clone(), password: None }
}

/// A fake service call: counts calls, answers from a script, then succeeds with `arn:NAME`.
#[derive(Clone, Default)]
struct Fake {
    calls: Arc<AtomicU32>,
    script: Arc<Mutex<VecDeque<Result<String, ErrorResponse>>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn scripted(script: Vec<Result<String, ErrorResponse>>) -> Self {
        Self { script: Arc::new(Mutex::new(script.into())), ..Self::default() }
    }

    fn call(&self, req: Req) -> impl Future<Output = Result<String, ErrorResponse>> + use<> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(req.name.clone());
        let next = self.script.lock().unwrap().pop_front();
        ready(next.unwrap_or_else(|| Ok(format!("arn:{}", req.name))))
    }

    /// As a poll operation: the scripted states, then `ACTIVE`.
    fn poll(&self, req: &Req) -> impl Future<Output = Result<String, ErrorResponse>> + use<> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(req.name.clone());
        let next = self.script.lock().unwrap().pop_front();
        ready(next.unwrap_or_else(|| Ok("ACTIVE".to_string())))
    }

    fn count(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

fn throttled() -> Result<String, ErrorResponse> {
    Err(ErrorResponse::new("ThrottlingException", 400))
}

fn active_waiter(clock: &VirtualClock) -> Waiter<String> {
    Waiter::new(
        Delays::smithy(Duration::from_secs(1), Duration::from_secs(2)).max_wait(Duration::from_secs(10)),
    )
    .named("TableActive")
    .success_when(|s: &String| s == "ACTIVE")
    .seed(1)
    .clock(clock.clone())
}

#[test]
fn a_memo_round_trips_through_json() {
    let mut memo = Memo::new();
    memo.calls.insert(
        "create".to_string(),
        CallRecord {
            request: json!({"name": "t"}),
            called: true,
            response: Some(json!({"arn": "a"})),
            stabilized: true,
            attempts: 2,
            waited_ms: 0,
        },
    );
    memo.calls.insert(
        "tag".to_string(),
        CallRecord {
            request: json!("t"),
            called: false,
            response: None,
            stabilized: false,
            attempts: 1,
            waited_ms: 0,
        },
    );
    memo.set("generatedName", "t-123");
    let json = memo.to_json();
    assert_eq!(Memo::from_json(&json).unwrap(), memo);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value,
        json!({
            "calls": {
                "create": {"request": {"name": "t"}, "called": true, "response": {"arn": "a"}, "stabilized": true, "attempts": 2},
                "tag": {"request": "t", "called": false, "response": null, "stabilized": false, "attempts": 1}
            },
            "context": {"generatedName": "t-123"}
        })
    );
    assert!(memo.is_called("create") && memo.is_stabilized("create"));
    assert!(!memo.is_called("tag") && !memo.is_called("nothing"));
    assert_eq!(Memo::from_json("{}").unwrap(), Memo::new());
}

#[test]
fn a_progress_event_has_cloudformation_json_keys() {
    let mut memo = Memo::new();
    memo.set("k", 1);
    let event = ProgressEvent::progress(model(), memo.clone(), 30).with_message("waiting");
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        value,
        json!({
            "status": "IN_PROGRESS",
            "resourceModel": {"name": "orders"},
            "callbackContext": {"calls": {}, "context": {"k": 1}},
            "callbackDelaySeconds": 30,
            "message": "waiting"
        })
    );
    let back: ProgressEvent<Model> = serde_json::from_value(value).unwrap();
    assert_eq!(back, event);

    let failed = ProgressEvent::<Model>::failed(HandlerErrorCode::AlreadyExists, "exists");
    let value = serde_json::to_value(&failed).unwrap();
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["callbackContext", "callbackDelaySeconds", "errorCode", "message", "status"]);
    assert_eq!((&value["status"], &value["errorCode"]), (&json!("FAILED"), &json!("AlreadyExists")));
    assert_eq!(serde_json::to_value(ProgressEvent::success(model())).unwrap()["status"], json!("SUCCESS"));
    for (code, name) in [
        (HandlerErrorCode::NotStabilized, "NotStabilized"),
        (HandlerErrorCode::GeneralServiceException, "GeneralServiceException"),
        (HandlerErrorCode::HandlerInternalFailure, "HandlerInternalFailure"),
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(name));
        assert_eq!(code.to_string(), name);
    }
}

#[test]
fn the_error_code_table_maps_common_aws_codes() {
    use HandlerErrorCode::*;
    let cases: &[(Option<&str>, Option<u16>, HandlerErrorCode)] = &[
        (Some("ResourceNotFoundException"), Some(400), NotFound),
        (Some("NoSuchEntity"), Some(404), NotFound),
        (Some("ParameterNotFound"), Some(400), NotFound),
        (Some("NotFound"), Some(404), NotFound),
        (Some("ResourceExistsException"), Some(400), AlreadyExists),
        (Some("EntityAlreadyExists"), Some(409), AlreadyExists),
        (Some("ResourceInUseException"), Some(400), AlreadyExists),
        (Some("ParameterAlreadyExists"), Some(400), AlreadyExists),
        (Some("ThrottlingException"), Some(400), Throttling),
        (Some("Throttling"), Some(400), Throttling),
        (Some("ProvisionedThroughputExceededException"), Some(400), Throttling),
        (Some("SlowDown"), Some(503), Throttling),
        (Some("AccessDeniedException"), Some(400), AccessDenied),
        (Some("AccessDenied"), Some(403), AccessDenied),
        (Some("ValidationException"), Some(400), InvalidRequest),
        (Some("InvalidParameterValue"), Some(400), InvalidRequest),
        (Some("InvalidParameterException"), Some(400), InvalidRequest),
        (Some("LimitExceededException"), Some(400), Throttling),
        (Some("LimitExceeded"), Some(409), ServiceLimitExceeded),
        (Some("ServiceQuotaExceededException"), Some(402), ServiceLimitExceeded),
        (Some("InternalFailure"), Some(500), ServiceInternalError),
        (Some("RequestTimeout"), Some(400), ServiceInternalError),
        (Some("ServiceUnavailableException"), Some(503), ServiceInternalError),
        (Some("InternalServerError"), Some(500), ServiceInternalError),
        (Some("SomethingNew"), Some(503), ServiceInternalError),
        (None, Some(500), ServiceInternalError),
        (Some("SomethingNew"), Some(400), GeneralServiceException),
        (None, Some(429), Throttling),
        (None, None, NetworkFailure),
    ];
    for (code, status, expected) in cases {
        assert_eq!(classify(*code, *status), *expected, "{code:?} {status:?}");
    }
    let mut names: Vec<&str> = ERROR_CODES.iter().map(|(c, _)| *c).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ERROR_CODES.len(), "each code is listed once");

    assert_eq!(default_action(&ErrorResponse::new("ThrottlingException", 400)), ErrorAction::Retry);
    assert_eq!(default_action(&ErrorResponse::new("InternalFailure", 500)), ErrorAction::Retry);
    // One vocabulary with post and observe (`crate::errors`): LimitExceededException is throttling.
    assert_eq!(default_action(&ErrorResponse::new("LimitExceededException", 400)), ErrorAction::Retry);
    assert_eq!(
        crate::errors::classify(Some("LimitExceededException"), Some(400), None),
        crate::errors::ErrorClass::Throttling
    );
    assert!(crate::observe::is_throttling(Some("LimitExceededException"), Some(400)));
    assert_eq!(
        default_action(&ErrorResponse::new("LimitExceeded", 409)),
        ErrorAction::Fail(ServiceLimitExceeded)
    );
    assert_eq!(
        default_action(&ErrorResponse::new("ResourceNotFoundException", 400)),
        ErrorAction::Fail(NotFound)
    );
    assert_eq!(
        default_action(&ErrorResponse::new("ValidationException", 400)),
        ErrorAction::Fail(InvalidRequest)
    );
}

#[test]
fn redaction_replaces_named_fields_at_any_depth_and_secure_string_values() {
    let mut v = json!({
        "Name": "db",
        "SecretString": "hunter2",
        "nested": [{"secret_binary": "AAAA", "keep": 1}],
        "Parameter": {"Name": "/p", "Type": "SecureString", "Value": "s3cret"},
        "Plain": {"Name": "/q", "Type": "String", "Value": "visible"}
    });
    redact_secrets(&mut v);
    assert_eq!(
        v,
        json!({
            "Name": "db",
            "SecretString": REDACTED,
            "nested": [{"secret_binary": REDACTED, "keep": 1}],
            "Parameter": {"Name": "/p", "Type": "SecureString", "Value": REDACTED},
            "Plain": {"Name": "/q", "Type": "String", "Value": "visible"}
        })
    );
    let mut v = json!({"user": "u", "Token": {"a": 1}});
    redact(&mut v, &["token"]);
    assert_eq!(v, json!({"user": "u", "Token": REDACTED}));
}

#[tokio::test]
async fn a_step_records_request_and_response_and_a_resumed_chain_does_not_call_again() {
    let service = Fake::default();
    let status = Fake::scripted(vec![Ok("CREATING".to_string())]);
    let clock = VirtualClock::new();

    // First run "crashes" during stabilization: its future is dropped while polling hangs.
    let mut memo = Memo::new();
    let hang = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .record(|arn: &String| Some(json!({ "arn": arn })))
        .stabilize(active_waiter(&clock), |_r: &Req| std::future::pending::<Result<String, ErrorResponse>>())
        .done(|m, _| ProgressEvent::success(m));
    assert!(tokio::time::timeout(Duration::from_millis(50), hang).await.is_err(), "still stabilizing");
    assert_eq!(service.count(), 1);
    let record = memo.call("create").unwrap().clone();
    assert_eq!(record.request, json!({"name": "orders", "password": null}));
    assert_eq!(record.response, Some(json!({"arn": "arn:orders"})));
    assert_eq!((record.stabilized, record.attempts), (false, 1));

    // The resumed run (memo through JSON) does not call again; it stabilizes and hands `done` the recorded view.
    let mut memo = Memo::from_json(&memo.to_json()).unwrap();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .record(|arn: &String| Some(json!({ "arn": arn })))
        .stabilize(active_waiter(&clock), |r: &Req| status.poll(r))
        .done(|m, resp| ProgressEvent::success(m).with_message(resp.unwrap()["arn"].to_string()))
        .await;
    assert_eq!(event.status, OperationStatus::Success, "{event:?}");
    assert_eq!(event.message.as_deref(), Some("\"arn:orders\""));
    assert_eq!(event.model, Some(model()));
    assert_eq!((service.count(), status.count()), (1, 2), "no second call; CREATING then ACTIVE");
    assert!(memo.is_stabilized("create"));

    // Once stabilized, neither the call nor the stabilization runs again.
    let mut memo2 = memo.clone();
    let event = Chain::new(&mut memo2)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .stabilize(active_waiter(&clock), |r: &Req| status.poll(r))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.status, OperationStatus::Success, "{event:?}");
    assert_eq!((service.count(), status.count()), (1, 2));
}

#[tokio::test]
async fn throttling_is_retried_with_the_steps_delays_then_succeeds() {
    let service = Fake::scripted(vec![throttled(), throttled(), throttled()]);
    let clock = VirtualClock::new();
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .delay(Delays::smithy(Duration::from_secs(1), Duration::from_secs(8)).max_attempts(5))
        .clock(clock.clone())
        .seed(3)
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.status, OperationStatus::Success, "{event:?}");
    assert_eq!(service.count(), 4);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 3);
    assert_eq!(sleeps[0], Duration::from_secs(1));
    assert!(
        sleeps.iter().all(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_secs(8)),
        "{sleeps:?}"
    );
    assert_eq!(memo.call("create").unwrap().attempts, 4);
    assert!(memo.is_stabilized("create"), "no stabilizer: done once called");
}

#[tokio::test]
async fn throttling_beyond_the_delays_fails_with_throttling_naming_the_step() {
    let service = Fake::scripted(vec![throttled(); 10]);
    let clock = VirtualClock::new();
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .delay(Delays::smithy(Duration::from_secs(1), Duration::from_secs(8)).max_attempts(3))
        .clock(clock.clone())
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(
        (event.status, event.error_code),
        (OperationStatus::Failed, Some(HandlerErrorCode::Throttling))
    );
    let message = event.message.unwrap();
    assert!(message.contains("chain step create") && message.contains("ThrottlingException"), "{message}");
    assert!(message.contains("3 attempt(s)"), "{message}");
    assert_eq!(service.count(), 3);
    assert_eq!(clock.sleeps().len(), 2);
    assert!(!memo.is_called("create"), "a failed call is not recorded as made");
    assert_eq!(event.memo, memo, "a failure carries the memo");
}

#[tokio::test]
async fn a_non_retryable_error_goes_through_handle_error() {
    // Default: ValidationException fails at once with InvalidRequest.
    let service = Fake::scripted(vec![Err(ErrorResponse::new("ValidationException", 400))]);
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .clock(VirtualClock::new())
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::InvalidRequest));
    assert_eq!(service.count(), 1);

    // A custom handler: an existing resource is fine (Ignore), seen with the model.
    let service = Fake::scripted(vec![Err(ErrorResponse::new("ResourceInUseException", 400))]);
    let seen_model = Arc::new(Mutex::new(None));
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .record(|arn: &String| Some(arn.clone()))
        .handle_error(|e, m: &Model| {
            *seen_model.lock().unwrap() = Some(m.clone());
            match classify_error(e) {
                HandlerErrorCode::AlreadyExists => ErrorAction::Ignore,
                code => ErrorAction::Fail(code),
            }
        })
        .done(|m, resp| {
            assert_eq!(resp, None, "an ignored error has no response");
            ProgressEvent::success(m)
        })
        .await;
    assert_eq!(event.status, OperationStatus::Success, "{event:?}");
    assert_eq!(service.count(), 1);
    assert_eq!(seen_model.lock().unwrap().clone(), Some(model()));
    let record = memo.call("create").unwrap();
    assert!(record.called && record.response.is_none());

    // A custom handler mapping to another code.
    let service = Fake::scripted(vec![Err(ErrorResponse::new("ResourceInUseException", 400))]);
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .handle_error(|_, _| ErrorAction::Fail(HandlerErrorCode::ResourceConflict))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::ResourceConflict));
}

#[tokio::test]
async fn a_stabilization_timeout_is_not_stabilized_with_the_last_state() {
    let service = Fake::default();
    let status = Fake::scripted(vec![Ok("CREATING".to_string()); 100]);
    let clock = VirtualClock::new();
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .stabilize(active_waiter(&clock), |r: &Req| status.poll(r))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(
        (event.status, event.error_code),
        (OperationStatus::Failed, Some(HandlerErrorCode::NotStabilized))
    );
    let message = event.message.unwrap();
    assert!(message.contains("chain step create") && message.contains("TableActive"), "{message}");
    assert!(message.contains("last seen: \"CREATING\""), "{message}");
    assert!(clock.now_for_test() <= Duration::from_secs(10), "bounded by the waiter's max wait");
    assert!(memo.is_called("create") && !memo.is_stabilized("create"));

    // An error the waiter does not expect is mapped by the table.
    let status = Fake::scripted(vec![Err(ErrorResponse::new("AccessDeniedException", 400))]);
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .stabilize(active_waiter(&clock), |r: &Req| status.poll(r))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::AccessDenied), "{event:?}");
}

#[tokio::test]
async fn a_callback_returns_in_progress_and_the_next_invocation_stabilizes_with_the_recorded_request() {
    let service = Fake::default();
    let status = Fake::default();
    let clock = VirtualClock::new();
    // The request holds a generated name: a second translation would differ.
    let generated = AtomicU32::new(0);
    let translate = |m: &Model| Req {
        name: format!("{}-{}", m.name, generated.fetch_add(1, Ordering::SeqCst)),
        password: None,
    };
    let mut memo = Memo::new();
    let first = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(translate)
        .call(|r| service.call(r))
        .callback_in(Duration::from_secs(5))
        .stabilize(active_waiter(&clock), |r: &Req| status.poll(r))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!((first.status, first.callback_delay_seconds), (OperationStatus::InProgress, 5));
    assert_eq!(first.model, Some(model()));
    assert_eq!(first.memo, memo);
    assert_eq!((service.count(), status.count()), (1, 0));

    let mut memo: Memo = Memo::from_json(&serde_json::to_string(&first.memo).unwrap()).unwrap();
    let second = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(translate)
        .call(|r| service.call(r))
        .callback_in(Duration::from_secs(5))
        .stabilize(active_waiter(&clock), |r: &Req| status.poll(r))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(second.status, OperationStatus::Success, "{second:?}");
    assert_eq!((service.count(), status.count()), (1, 1));
    assert_eq!(*status.seen.lock().unwrap(), ["orders-0"], "stabilized the recorded request");
}

#[tokio::test]
async fn progress_then_runs_the_next_step_and_stops_at_a_failure() {
    let create = Fake::default();
    let tag = Fake::default();
    let mut memo = Memo::new();
    let memo_ref = &mut memo;
    let event = Chain::new(memo_ref)
        .initiate("create", model())
        .translate(req)
        .call(|r| create.call(r))
        .progress()
        .await;
    assert!(event.can_continue());
    let event = event
        .then(|m| {
            Chain::new(&mut memo)
                .initiate("tag", m)
                .translate(req)
                .call(|r| tag.call(r))
                .done(|m, _| ProgressEvent::success(m))
        })
        .await;
    assert_eq!(event.status, OperationStatus::Success);
    assert_eq!((create.count(), tag.count()), (1, 1));
    assert!(memo.is_called("create") && memo.is_called("tag"));

    // A failed first step: the next one does not run.
    let failing = Fake::scripted(vec![Err(ErrorResponse::new("AccessDeniedException", 400))]);
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| failing.call(r))
        .progress()
        .await
        .then(|m| async move { panic!("not run for {m:?}") })
        .await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::AccessDenied));
}

#[tokio::test]
async fn redacted_fields_never_enter_the_memo() {
    let service = Fake::default();
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(|m| Req { name: m.name.clone(), password: Some("hunter2".to_string()) })
        .call(|r| service.call(r))
        .record(|arn: &String| Some(json!({ "arn": arn, "SecretString": "s3cret" })))
        .redact(&["password"])
        .redact_secrets()
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.status, OperationStatus::Success);
    let json = memo.to_json();
    assert!(!json.contains("hunter2") && !json.contains("s3cret"), "{json}");
    assert_eq!(memo.call("create").unwrap().request["password"], json!(REDACTED));
}

#[tokio::test]
async fn a_call_that_hangs_is_cut_off_at_the_delays_max_wait() {
    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|_r| std::future::pending::<Result<String, ErrorResponse>>())
        .delay(
            Delays::smithy(Duration::from_millis(10), Duration::from_millis(20))
                .max_wait(Duration::from_millis(100)),
        )
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::NetworkFailure));
    assert!(event.message.unwrap().contains("got no response within 100ms"));
    assert_eq!(memo.call("create").unwrap().attempts, 1);
}

#[tokio::test]
async fn a_corrupt_memo_fails_with_handler_internal_failure_naming_the_step() {
    let service = Fake::default();
    let mut memo = Memo::new();
    memo.calls.insert(
        "create".to_string(),
        CallRecord {
            request: json!(42),
            called: true,
            response: None,
            stabilized: false,
            attempts: 1,
            waited_ms: 0,
        },
    );
    let event = Chain::new(&mut memo)
        .initiate("create", model())
        .translate(req)
        .call(|r| service.call(r))
        .done(|m, _| ProgressEvent::success(m))
        .await;
    assert_eq!(event.error_code, Some(HandlerErrorCode::HandlerInternalFailure));
    assert!(event.message.unwrap().contains("chain step create: the recorded request cannot be read"));
    assert_eq!(service.count(), 0);
}

trait NowForTest {
    fn now_for_test(&self) -> Duration;
}

impl NowForTest for VirtualClock {
    fn now_for_test(&self) -> Duration {
        crate::wait::Clock::now(self)
    }
}

/// A consumer error that only says an earlier change has not propagated yet (Lambda and a new
/// role) is retried by default; the same code with another message fails.
#[test]
fn propagation_errors_are_retried_by_their_code_and_message() {
    #[derive(Debug)]
    struct Lambda(&'static str);
    impl std::fmt::Display for Lambda {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "InvalidParameterValueException: {}", self.0)
        }
    }
    impl std::error::Error for Lambda {}
    impl crate::wait::PollError for Lambda {
        fn code(&self) -> Option<&str> {
            Some("InvalidParameterValueException")
        }
        fn status(&self) -> Option<u16> {
            Some(400)
        }
    }
    let role = Lambda("The role defined for the function cannot be assumed by Lambda.");
    assert_eq!(default_action(&role), ErrorAction::Retry);
    let runtime = Lambda("Value nodejs4 at 'runtime' failed to satisfy constraint");
    assert_eq!(default_action(&runtime), ErrorAction::Fail(HandlerErrorCode::InvalidRequest));
}
