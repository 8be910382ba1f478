//! `serve_lambda` through the real `lambda_runtime` crate, against a Lambda Runtime API served
//! by this test: `GET /2018-06-01/runtime/invocation/next` hands out CloudFormation payloads with
//! their `Lambda-Runtime-Aws-Request-Id` and `Lambda-Runtime-Deadline-Ms` headers, and
//! `POST .../{id}/response` captures the ProgressEvent. The handler runs in a child process (this
//! test binary, re-run as `lambda::lambda_process`): `lambda_runtime` reads its configuration
//! from the environment, which a test must not change in its own process.

use std::convert::Infallible;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

use super::secret::{SECRET_VALUE, runtime};
use super::{assert_no_secrets, child_process, handler_request};

/// One invocation the Runtime API hands out.
struct Invocation {
    request_id: String,
    /// The time it has, from when the handler takes it (so the child's start-up costs none).
    remaining: Duration,
    payload: Value,
}

/// What the handler posted back for an invocation: `Ok` a response, `Err` an error report.
type Posted = (String, Result<Value, String>);

/// The Runtime API: invocations queued by the test, posts captured for it. A `next` with no
/// invocation queued waits, as the real API does between invocations.
struct RuntimeApi {
    next: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    posted: mpsc::UnboundedSender<Posted>,
}

impl RuntimeApi {
    async fn answer(&self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        let reply = |status: StatusCode| Response::builder().status(status).body(Full::default()).unwrap();
        if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
            let Some(invocation) = self.next.lock().await.recv().await else {
                return Ok(reply(StatusCode::GONE));
            };
            let deadline_ms = now_ms() + invocation.remaining.as_millis() as u64;
            return Ok(Response::builder()
                .header("Lambda-Runtime-Aws-Request-Id", &invocation.request_id)
                .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
                .header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:secret-provider",
                )
                .body(Full::new(Bytes::from(invocation.payload.to_string())))
                .unwrap());
        }
        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let text = String::from_utf8_lossy(&body).to_string();
        let id = path.strip_prefix("/2018-06-01/runtime/invocation/").and_then(|rest| rest.split('/').next());
        let posted = match (method, id) {
            (Method::POST, Some(id)) if path.ends_with("/response") => {
                (id.to_string(), serde_json::from_str(&text).map_err(|e| format!("{e}: {text}")))
            }
            (Method::POST, Some(id)) if path.ends_with("/error") => (id.to_string(), Err(text)),
            (Method::POST, _) if path.ends_with("/init/error") => ("init".to_string(), Err(text)),
            _ => return Ok(reply(StatusCode::NOT_FOUND)),
        };
        self.posted.send(posted).ok();
        Ok(reply(StatusCode::ACCEPTED))
    }
}

/// Serves the Runtime API on a free loopback port: its address, the queue of invocations, and
/// the posts.
async fn runtime_api() -> (String, mpsc::UnboundedSender<Invocation>, mpsc::UnboundedReceiver<Posted>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (invocations, next) = mpsc::unbounded_channel();
    let (posted, posts) = mpsc::unbounded_channel();
    let api = Arc::new(RuntimeApi { next: Mutex::new(next), posted });
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let api = api.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let api = api.clone();
                    async move { api.answer(request).await }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                hyper::server::conn::http1::Builder::new().serve_connection(io, service).await.ok();
            });
        }
    });
    (addr, invocations, posts)
}

/// The handler process: `serve_lambda` with the secret provider until it is killed.
#[tokio::test]
#[ignore = "run by the serve_lambda test as a child process"]
async fn lambda_process() {
    let Ok(endpoint) = std::env::var("CFN_LAMBDA_ENDPOINT") else {
        return; // Run by hand (`--include-ignored`), not by the lambda test: nothing to serve.
    };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::DEBUG).init();
    let memos = std::env::var("CFN_LAMBDA_MEMO_DIR").unwrap();
    let result = cfn_provider::serve_lambda(runtime(memos.as_ref(), &endpoint)).await;
    panic!("serve_lambda returned: {result:?}");
}

/// Kills the child when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The next post, within a generous bound (the handler answers within its deadline).
async fn posted(posts: &mut mpsc::UnboundedReceiver<Posted>, logs: &std::path::Path) -> Posted {
    match tokio::time::timeout(Duration::from_secs(120), posts.recv()).await {
        Ok(Some(post)) => post,
        _ => panic!(
            "the handler posted nothing; its log:\n{}",
            std::fs::read_to_string(logs).unwrap_or_default()
        ),
    }
}

#[tokio::test]
async fn serve_lambda_answers_with_the_deadline_of_the_runtime_api() {
    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::held());
    let (addr, invocations, mut posts) = runtime_api().await;
    let memos = tempfile::tempdir().unwrap();
    let logs = memos.path().join("handler.log");
    let child = child_process("lambda::lambda_process")
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "secret-provider")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("CFN_LAMBDA_ENDPOINT", proxy.endpoint())
        .env("CFN_LAMBDA_MEMO_DIR", memos.path().join("memos"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&logs).unwrap())
        .spawn()
        .unwrap();
    let _child = KillOnDrop(child);

    // 10 s left by the deadline header (enough for one CreateSecret round trip on a loaded
    // machine): the new secret is held invisible, so the chain can only
    // stop at its deadline (less the 0.3 s margin) and answer IN_PROGRESS. Without the header's
    // deadline it would poll for the waiter's 2 minutes, past the 120 s this test waits.
    let name = settle_emulator::unique_name("cfn-lambda");
    let mut payload =
        handler_request("CREATE", "tok-lambda", json!({"Name": name, "SecretString": SECRET_VALUE}), None);
    let remaining = Duration::from_secs(10);
    invocations.send(Invocation { request_id: "req-1".into(), remaining, payload: payload.clone() }).unwrap();
    let (id, first) = posted(&mut posts, &logs).await;
    let first = first.unwrap_or_else(|e| panic!("req-1 failed: {e}"));
    assert_eq!(id, "req-1");
    assert_eq!(
        (&first["status"], &first["callbackDelaySeconds"]),
        (&json!("IN_PROGRESS"), &json!(1)),
        "{first}"
    );
    let context = first["callbackContext"].clone();
    assert_eq!(context["calls"]["create-secret"]["called"], true, "{context}");
    assert!(proxy.held() >= 1);

    // Released, the callback with the context and a long deadline succeeds; CreateSecret once.
    proxy.release_all();
    payload["callbackContext"] = context;
    let remaining = Duration::from_secs(600);
    invocations.send(Invocation { request_id: "req-2".into(), remaining, payload }).unwrap();
    let (id, second) = posted(&mut posts, &logs).await;
    let second = second.unwrap_or_else(|e| panic!("req-2 failed: {e}"));
    assert_eq!((id.as_str(), &second["status"]), ("req-2", &json!("SUCCESS")), "{second}");
    assert!(second["resourceModel"]["Id"].as_str().unwrap().contains(&name), "{second}");
    assert_eq!(proxy.counters().per_operation.get("secretsmanager:CreateSecret"), Some(&1));

    // A payload that is no handler request is FAILED / InvalidRequest, answered (not an error).
    invocations.send(Invocation { request_id: "req-3".into(), remaining, payload: json!([1]) }).unwrap();
    let (_, third) = posted(&mut posts, &logs).await;
    let third = third.unwrap_or_else(|e| panic!("req-3 failed: {e}"));
    assert_eq!((&third["status"], &third["errorCode"]), (&json!("FAILED"), &json!("InvalidRequest")));

    let text = std::fs::read_to_string(&logs).unwrap();
    assert!(text.contains("handler invoked"), "{text}");
    assert_no_secrets("the Lambda handler's log", &text);
    assert!(!text.contains(SECRET_VALUE), "the Lambda handler's log holds the secret value");
    for text in [&first, &second, &third].map(Value::to_string) {
        assert_no_secrets("a Lambda response", &text);
    }
}
