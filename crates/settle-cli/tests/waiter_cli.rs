//! `settle waiter test` and `settle waiter lint`, end to end through the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn data(rest: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../aws-settle/tests/data/waiters").join(rest)
}

fn settle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settle")).args(args).output().expect("run settle")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a response document to a temporary file.
fn response(name: &str, value: &Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-waiter-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

fn test_json(model: &str, waiter: &str, extra: &[&str]) -> Value {
    let model = data(model);
    let mut args =
        vec!["waiter", "test", "--model", model.to_str().unwrap(), "--waiter", waiter, "--format", "json"];
    args.extend_from_slice(extra);
    let output = settle(&args);
    let got: Value = serde_json::from_str(stdout(&output).trim()).expect("one JSON object");
    // The exit status says the decision: 0 success, 1 failure, 2 retry.
    let want = match got["state"].as_str() {
        Some("success") => 0,
        Some("failure") => 1,
        Some("retry") => 2,
        other => panic!("no decision: {other:?}"),
    };
    assert_eq!(output.status.code(), Some(want), "{got} {}", stderr(&output));
    got
}

#[test]
fn test_prints_the_matching_acceptor_and_decision_as_json() {
    let ecs = "valid/ecs.waiters-2.json";
    let stable = response(
        "stable.json",
        &json!({"services": [{"status": "ACTIVE", "deployments": [{}], "runningCount": 2, "desiredCount": 2}], "failures": []}),
    );
    let got = test_json(ecs, "ServicesStable", &["--response", stable.to_str().unwrap()]);
    assert_eq!(got["state"], "success");
    assert_eq!(got["acceptor"], 3);
    assert!(got["reason"].as_str().unwrap().contains("acceptor 3"), "{got}");

    let draining = response(
        "draining.json",
        &json!({"services": [{"status": "DRAINING", "deployments": [{}], "runningCount": 1, "desiredCount": 2}]}),
    );
    let got = test_json(ecs, "ServicesStable", &["--response", draining.to_str().unwrap()]);
    assert_eq!((got["state"].as_str(), got["acceptor"].as_u64()), (Some("failure"), Some(1)));

    let rolling = response(
        "rolling.json",
        &json!({"services": [{"status": "ACTIVE", "deployments": [{}, {}], "runningCount": 1, "desiredCount": 2}]}),
    );
    let got = test_json(ecs, "ServicesStable", &["--response", rolling.to_str().unwrap()]);
    assert_eq!(got, json!({"state": "retry", "acceptor": null, "reason": "no acceptor matched"}));
}

#[test]
fn test_evaluates_error_codes_with_a_status() {
    let ddb = "valid/dynamodb.waiters-2.json";
    // TableExists retries on ResourceNotFoundException; TableNotExists succeeds on it.
    let got = test_json(ddb, "TableExists", &["--error", "ResourceNotFoundException", "--status", "400"]);
    assert_eq!((got["state"].as_str(), got["acceptor"].as_u64()), (Some("retry"), Some(1)));
    let got = test_json(ddb, "TableNotExists", &["--error", "ResourceNotFoundException"]);
    assert_eq!((got["state"].as_str(), got["acceptor"].as_u64()), (Some("success"), Some(0)));
    // An error no acceptor expects: failure, with no acceptor.
    let got = test_json(ddb, "TableExists", &["--error", "AccessDeniedException", "--status", "403"]);
    assert_eq!(got["state"], "failure");
    assert_eq!(got["acceptor"], Value::Null);
    assert!(got["reason"].as_str().unwrap().contains("unexpected error AccessDeniedException"), "{got}");
    // --error wins over a --response document: path matchers never match an error.
    let active = response("active-too.json", &json!({"Table": {"TableStatus": "ACTIVE"}}));
    let got = test_json(
        ddb,
        "TableExists",
        &["--response", active.to_str().unwrap(), "--error", "ResourceNotFoundException", "--status", "400"],
    );
    assert_eq!((got["state"].as_str(), got["acceptor"].as_u64()), (Some("retry"), Some(1)));
    // A status matcher (S3 BucketExists: 404 → retry).
    let got = test_json("valid/s3.waiters-2.json", "BucketExists", &["--error", "404", "--status", "404"]);
    assert_eq!(got["state"], "retry");
}

#[test]
fn test_prints_text_by_default() {
    let model = data("valid/dynamodb.waiters-2.json");
    let active = response("active.json", &json!({"Table": {"TableStatus": "ACTIVE"}}));
    let output = settle(&[
        "waiter",
        "test",
        "--model",
        model.to_str().unwrap(),
        "--waiter",
        "TableExists",
        "--response",
        active.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("decision: success"), "{text}");
    assert!(text.contains("acceptor: 0: success on path \"Table.TableStatus\" == \"ACTIVE\""), "{text}");
}

#[test]
fn test_names_an_unknown_waiter_and_needs_a_response() {
    let model = data("valid/dynamodb.waiters-2.json");
    let output =
        settle(&["waiter", "test", "--model", model.to_str().unwrap(), "--waiter", "Nope", "--error", "X"]);
    assert_eq!(output.status.code(), Some(3), "cannot evaluate");
    let err = stderr(&output);
    assert!(err.contains("no such waiter; the model has: "), "{err}");
    assert_eq!(err.matches(model.to_str().unwrap()).count(), 1, "the model named once: {err}");
    let output = settle(&["waiter", "test", "--model", model.to_str().unwrap(), "--waiter", "TableExists"]);
    assert!(!output.status.success(), "neither --response nor --error");
}

#[test]
fn lint_passes_every_real_botocore_model() {
    let output = settle(&["waiter", "lint", data("valid").to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("0 errors"), "{text}");
    assert!(text.lines().filter(|l| l.starts_with("ok ")).count() >= 15, "{text}");
}

#[test]
fn lint_reports_a_precise_error_on_each_broken_model() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data("invalid/EXPECTED.json")).unwrap()).unwrap();
    for (file, want) in expected.as_object().unwrap() {
        let path = data(&format!("invalid/{file}"));
        let output = settle(&[
            "waiter",
            "lint",
            data("valid/ssm.waiters-2.json").to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert!(!output.status.success(), "{file} passed lint");
        let err = stderr(&output);
        assert!(err.contains(&path.display().to_string()), "{file}: {err}");
        if let Some(waiter) = want["waiter"].as_str() {
            assert!(err.contains(&format!("waiter `{waiter}`")), "{file}: {err}");
        }
        if let Some(index) = want["acceptor"].as_u64() {
            assert!(err.contains(&format!("acceptor {index}")), "{file}: {err}");
        }
        if let Some(field) = want["field"].as_str() {
            assert!(err.contains(&format!("field `{field}`")), "{file}: {err}");
        }
        assert!(err.contains(want["message"].as_str().unwrap()), "{file}: {err}");
        assert!(stdout(&output).contains("ok "), "the valid file before it was checked");
    }
}

#[test]
fn lint_reports_every_bad_model_goes_on_and_skips_json_that_is_no_model() {
    let output =
        settle(&["waiter", "lint", data("invalid").to_str().unwrap(), data("valid").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let (out, err) = (stdout(&output), stderr(&output));
    let bad = std::fs::read_dir(data("invalid"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".waiters-2.json"))
        .count();
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: ")).count(),
        bad,
        "each bad model reported: {err}"
    );
    assert!(err.contains("skipped") && err.contains("EXPECTED.json"), "not a waiter model: {err}");
    let valid = std::fs::read_dir(data("valid"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".waiters-2.json"))
        .count();
    assert_eq!(out.matches("ok ").count(), valid, "the valid models after the bad ones are checked: {out}");
    assert!(out.contains(&format!("{} model(s), {bad} errors", bad + valid)), "{out}");
}

/// Runs `settle` with a hang guard: the old walker blocked forever opening a FIFO, and a hang
/// must fail the test rather than stall CI. The 120 s bound is not a speed target (the run
/// takes milliseconds); nothing else can tell a hang from a slow machine.
fn settle_or_hang(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run settle");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(output) => output.expect("settle output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("settle {args:?} hung");
        }
    }
}

#[test]
fn lint_of_a_directory_follows_no_symlink_and_skips_a_fifo() {
    let base = std::env::temp_dir().join(format!("settle-lint-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (root, outside) = (base.join("models"), base.join("outside"));
    std::fs::create_dir_all(root.join("nested")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(data("valid/ssm.waiters-2.json"), root.join("nested/ssm.waiters-2.json")).unwrap();
    std::fs::copy(data("invalid/not-json.waiters-2.json"), outside.join("bad.waiters-2.json")).unwrap();
    let link =
        |target: &std::path::Path, name: &str| std::os::unix::fs::symlink(target, root.join(name)).unwrap();
    link(&root, "loop"); // a loop back to the directory itself
    link(&outside, "out"); // a way out of it, to a broken model
    link(&outside.join("bad.waiters-2.json"), "bad-link.json"); // a file outside it
    let fifo = root.join("x.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo (coreutils)").success());

    let output = settle_or_hang(&["waiter", "lint", root.to_str().unwrap()]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "{out}\n{err}");
    assert!(out.contains("ssm.waiters-2.json") && out.contains("1 model(s), 0 errors"), "{out}");
    assert!(err.contains("bad-link.json: a symbolic link"), "{err}");
    assert!(err.contains("x.json: not a regular file"), "{err}");
    assert!(!out.contains("bad.waiters-2.json") && !err.contains("loop/"), "{out}\n{err}");

    // Named explicitly, a FIFO is an error, not a hang.
    let output = settle_or_hang(&["waiter", "lint", fifo.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not a regular file"), "{}", stderr(&output));
    std::fs::remove_dir_all(&base).unwrap();
}
