//! Malformed and hostile payloads handed to a handler process on stdin, as the example runs
//! off Lambda: each is answered FAILED / InvalidRequest on the last stdout line, the process
//! exits without a panic, and no line it logged (DEBUG and up) holds a credential.

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::secret::{SECRET_VALUE, runtime};
use super::*;

/// The handler process: one payload from stdin, its response as the last stdout line, every
/// log line on stderr.
#[tokio::test]
#[ignore = "run by the hostile payload test as a child process"]
async fn stdin_process() {
    let Ok(memos) = std::env::var("CFN_STDIN_MEMO_DIR") else {
        return; // Run by hand (`--include-ignored`), not by the hostile payload test.
    };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::DEBUG).init();
    // Nothing listens there: no payload below may get as far as an AWS call.
    let rt = runtime(memos.as_ref(), "http://127.0.0.1:9");
    let response = rt.handle_reader(std::io::stdin(), Some(Duration::from_secs(30))).await;
    println!("{}", response.to_json());
}

/// Runs the handler process on `payload`: its exit success, last stdout line, and stderr.
fn run_on_stdin(memos: &std::path::Path, payload: &[u8]) -> (bool, String, String) {
    let mut child = child_process("hostile::stdin_process")
        .env("CFN_STDIN_MEMO_DIR", memos)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let payload = payload.to_vec();
    // The child may stop reading at its limit: a broken pipe then is expected.
    let writer = std::thread::spawn(move || {
        stdin.write_all(&payload).ok();
    });
    let mut stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).ok();
        text
    });
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap();
    // The test harness prints `test NAME ... ` without a newline before the child's output.
    let last = stdout.lines().rev().find_map(|l| l.find("{\"status\"").map(|at| &l[at..]));
    let last = last.unwrap_or_default().to_string();
    (status.success(), last, logs.join().unwrap())
}

#[test]
fn hostile_payloads_on_stdin_are_invalid_request_and_log_no_credential() {
    let valid =
        handler_request("CREATE", "tok-hostile", json!({"Name": "x", "SecretString": SECRET_VALUE}), None);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut payload = valid.clone();
        edit(&mut payload);
        payload.to_string().into_bytes()
    };
    let mut big = valid.clone();
    big["padding"] = json!("x".repeat(10 * 1024 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a 10 MB body", big.to_string().into_bytes()),
        ("an unknown action", with(&|p| p["action"] = json!("EXPLODE"))),
        ("no bearer token", with(&|p| p["bearerToken"] = Value::Null)),
        (
            "a number as the secret key",
            with(&|p| p["requestData"]["callerCredentials"]["secretAccessKey"] = json!(7)),
        ),
        (
            "the secret key as the properties",
            with(&|p| p["requestData"]["resourceProperties"] = json!(SECRET_ACCESS_KEY)),
        ),
        (
            "a wrong-typed secret value",
            with(&|p| p["requestData"]["resourceProperties"]["SecretString"] = json!([SECRET_VALUE])),
        ),
        (
            "an unknown property",
            with(&|p| p["requestData"]["resourceProperties"]["Password"] = json!(SESSION_TOKEN)),
        ),
        ("a forged callback context", with(&|p| p["callbackContext"] = json!({"calls": SESSION_TOKEN}))),
        ("truncated JSON", valid.to_string().as_bytes()[..200].to_vec()),
        ("not UTF-8", [&valid.to_string().as_bytes()[..100], &[0xff, 0xfe][..]].concat()),
        ("deep nesting", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
        ("nothing", Vec::new()),
    ];
    let memos = tempfile::tempdir().unwrap();
    for (what, payload) in cases {
        let (exited, response, logs) = run_on_stdin(memos.path(), &payload);
        assert!(exited && !logs.contains("panicked"), "{what}: the process failed: {logs}");
        let json: Value =
            serde_json::from_str(&response).unwrap_or_else(|e| panic!("{what}: {e}: {response}"));
        assert_eq!(
            (&json["status"], &json["errorCode"]),
            (&json!("FAILED"), &json!("InvalidRequest")),
            "{what}: {json}"
        );
        assert!(
            logs.contains("invalid handler payload") || logs.contains("handler answered"),
            "{what}: {logs}"
        );
        for (text, of) in [(&response, "response"), (&logs, "log")] {
            assert_no_credentials(&format!("the {of} of {what}"), text);
            assert!(!text.contains(SECRET_VALUE), "the {of} of {what} holds the secret value: {text}");
        }
    }
}
