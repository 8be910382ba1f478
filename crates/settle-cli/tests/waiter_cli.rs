//! `settle waiter test` and `settle waiter lint`, end to end through the binary.

use std::path::{Path, PathBuf};
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

// ---- settle wait -- COMMAND ----

/// A script that answers, call after call, with the next of `answers` (then the last one
/// forever): `ok:JSON` prints JSON and exits 0, `err:CODE` prints the AWS CLI's error line for
/// CODE and exits 255, `raw:TEXT` prints TEXT and exits 0. Its call count is in `<dir>/calls`.
fn script(name: &str, answers: &[&str]) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("settle-wait-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, answer) in answers.iter().enumerate() {
        std::fs::write(dir.join(format!("answer{}", i + 1)), answer).unwrap();
    }
    let last = answers.len();
    let body = format!(
        r#"#!/bin/sh
dir='{dir}'
n=$(cat "$dir/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$dir/calls"
[ $n -gt {last} ] && n={last}
a=$(cat "$dir/answer$n")
case "$a" in
  ok:*) printf '%s\n' "${{a#ok:}}" ;;
  raw:*) printf '%s\n' "${{a#raw:}}" ;;
  err:*) printf '\nAn error occurred (%s) when calling the DescribeTable operation: no\n' "${{a#err:}}" >&2; exit 255 ;;
esac
"#,
        dir = dir.display()
    );
    let path = dir.join("describe.sh");
    std::fs::write(&path, body).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    (path, dir.join("calls"))
}

fn calls(counter: &Path) -> u32 {
    std::fs::read_to_string(counter).unwrap().trim().parse().unwrap()
}

/// `settle wait --model MODEL --waiter WAITER OPTIONS... -- COMMAND...`.
fn settle_wait(model: &Path, waiter: &str, options: &[&str], command: &[&str]) -> Output {
    let mut args = vec!["wait", "--model", model.to_str().unwrap(), "--waiter", waiter];
    args.extend_from_slice(options);
    args.push("--");
    args.extend_from_slice(command);
    settle(&args)
}

/// `settle wait` with the DynamoDB model's TableExists/TableNotExists and no delay between calls.
fn wait_table(waiter: &str, script: &Path, extra: &[&str]) -> Output {
    let options: Vec<&str> = ["--delay", "0"].iter().chain(extra).copied().collect();
    settle_wait(&data("valid/dynamodb.waiters-2.json"), waiter, &options, &[script.to_str().unwrap()])
}

#[test]
fn wait_retries_on_the_error_line_and_on_output_until_success() {
    let (describe, counter) = script(
        "success",
        &[
            "err:ResourceNotFoundException",
            "err:ResourceNotFoundException",
            r#"ok:{"Table": {"TableStatus": "CREATING"}}"#,
            r#"ok:{"Table": {"TableStatus": "ACTIVE", "TableName": "t"}}"#,
        ],
    );
    let output = wait_table("TableExists", &describe, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(calls(&counter), 4);
    // The last output goes to standard output; each attempt is one line on standard error
    // (not a terminal here), with what it saw.
    let last: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(last["Table"]["TableStatus"], "ACTIVE");
    let err = stderr(&output);
    let attempts: Vec<&str> = err.lines().filter(|l| l.contains(": attempt ")).collect();
    assert_eq!(attempts.len(), 4, "{err}");
    assert!(
        attempts[0].contains("error ResourceNotFoundException")
            || attempts[0].contains("ResourceNotFoundException"),
        "{err}"
    );
    assert!(attempts[3].contains("success"), "{err}");
    assert!(err.contains("success after 4 attempt(s)"), "{err}");
}

#[test]
fn wait_exit_status_says_failure_timeout_or_unexpected() {
    // TableNotExists: success on ResourceNotFoundException; an output means retry.
    let (describe, counter) = script("timeout", &[r#"ok:{"Table": {"TableStatus": "ACTIVE"}}"#]);
    let output = wait_table("TableNotExists", &describe, &["--max-attempts", "3"]);
    assert_eq!(output.status.code(), Some(2), "timeout: {}", stderr(&output));
    assert_eq!(calls(&counter), 3);
    assert!(stderr(&output).contains("timed out after 3 attempt(s)"), "{}", stderr(&output));
    assert!(stderr(&output).contains("ACTIVE"), "the error carries the last state: {}", stderr(&output));

    // An error code no acceptor expects ends the wait at once.
    let (describe, counter) = script("unexpected", &["err:AccessDeniedException"]);
    let output = wait_table("TableExists", &describe, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(calls(&counter), 1);
    assert!(stderr(&output).contains("AccessDeniedException"), "{}", stderr(&output));

    // Output that is not JSON cannot be evaluated.
    let (describe, _) = script("not-json", &["raw:Table t is ACTIVE"]);
    let output = wait_table("TableExists", &describe, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("not JSON"), "{}", stderr(&output));

    // A failure acceptor: a model of our own whose FAILED status is a failure state.
    let model = response(
        "failing.waiters-2.json",
        &json!({"version": 2, "waiters": {"Ready": {"delay": 1, "maxAttempts": 5, "operation": "Describe",
            "acceptors": [
                {"state": "success", "matcher": "path", "argument": "Status", "expected": "READY"},
                {"state": "failure", "matcher": "path", "argument": "Status", "expected": "FAILED"}]}}}),
    );
    let (describe, counter) =
        script("failure", &[r#"ok:{"Status": "PENDING"}"#, r#"ok:{"Status": "FAILED"}"#]);
    let output = settle_wait(&model, "Ready", &["--delay", "0"], &[describe.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(calls(&counter), 2);
    assert!(stderr(&output).contains("failure state"), "{}", stderr(&output));
}

#[test]
fn wait_finds_botocore_models_by_service_and_reports_bad_input() {
    let python = settle_emulator::ensure_moto_venv().expect("the project's venv (it holds botocore)");
    let (describe, counter) = script("botocore", &[r#"ok:{"Table": {"TableStatus": "ACTIVE"}}"#]);
    // botocore is found through the Python given in SETTLE_PYTHON (the project's venv).
    let output = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["wait", "--service", "dynamodb", "--waiter", "TableExists", "--delay", "0", "--"])
        .arg(&describe)
        .env("SETTLE_PYTHON", &python)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(calls(&counter), 1);

    for (args, says) in [
        (vec!["--service", "no-such-service"], "no service"),
        (vec!["--service", "../etc"], "not a service name"),
        (vec!["--service", "dynamodb", "--waiter", "NoSuchWaiter"], "NoSuchWaiter"),
    ] {
        let mut all = vec!["wait"];
        all.extend_from_slice(&args);
        if !args.contains(&"--waiter") {
            all.extend_from_slice(&["--waiter", "TableExists"]);
        }
        all.extend_from_slice(&["--", "true"]);
        let output = Command::new(env!("CARGO_BIN_EXE_settle"))
            .args(&all)
            .env("SETTLE_PYTHON", &python)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
    }
    // A command that cannot start is an unexpected error, never a hang.
    let model = data("valid/dynamodb.waiters-2.json");
    let output = settle_wait(&model, "TableExists", &[], &["/no/such/command"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot run /no/such/command"), "{}", stderr(&output));
}

/// A command that hangs is cut off at the max wait (and killed), never waited for.
#[test]
fn wait_cuts_off_a_hanging_command_at_the_max_wait() {
    let dir = std::env::temp_dir().join(format!("settle-wait-cli-{}-hang", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let model = data("valid/dynamodb.waiters-2.json");
    let script = format!("echo $$ > '{}'; exec sleep 300", pid_file.display());
    let output = settle_wait(&model, "TableExists", &["--max-wait", "1s"], &["sh", "-c", &script]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("timed out after 1 attempt(s)"), "{}", stderr(&output));
    // The command was killed when the wait ended: its pid is gone (reaped by settle).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let alive = Command::new("kill")
        .args(["-0", pid.trim()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!alive, "the hanging command {pid} is still running");
}

/// `lint` reports every error in a file, not the first: each bad acceptor (by its index in the
/// file) and each bad waiter, with the good parts left unreported.
#[test]
fn lint_reports_every_error_in_one_file() {
    let ok = json!({"expected": "ok", "matcher": "path", "argument": "Status", "state": "success"});
    let model = json!({"version": 2, "waiters": {
        "A": {"operation": "Describe", "delay": 5, "maxAttempts": 10, "acceptors": [
            {"expected": "x", "matcher": "nope", "state": "success"},
            ok,
            {"expected": "y", "matcher": "path", "argument": "Status", "state": "maybe"}]},
        "B": {"operation": "Describe", "delay": 5, "maxAttempts": 10, "acceptors": [ok]},
        "C": {"operation": "Describe", "delay": 5, "maxAttempts": 10, "bogus": 1, "acceptors": [ok]}
    }});
    let path = response("many.waiters-2.json", &model);
    let output = settle(&["waiter", "lint", path.to_str().unwrap()]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 3, "{err}");
    assert!(errors[0].contains("waiter `A`") && errors[0].contains("acceptor 0"), "{err}");
    assert!(errors[1].contains("waiter `A`") && errors[1].contains("acceptor 2"), "{err}");
    assert!(errors[2].contains("waiter `C`") && errors[2].contains("bogus"), "{err}");
    assert!(stdout(&output).contains("1 model(s), 3 errors"), "{}", stdout(&output));
}

/// The acceptance run: `settle wait` over the real AWS CLI (`aws ssm get-parameter`, PyPI awscli
/// in the project's venv) through settle-proxy in front of moto, the parameter's creation held
/// invisible. Held, the wait times out (exit 2); released while a wait is polling, it exits 0.
/// Nothing depends on timing: the release happens once the proxy has counted the wait's reads.
#[test]
fn wait_over_the_aws_cli_exits_0_once_the_lagged_parameter_is_visible_and_2_on_timeout() {
    let aws = settle_emulator::ensure_awscli().expect("the AWS CLI in the project's venv");
    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::held());
    let name = settle_emulator::unique_name("/settle/wait-cli");
    let model = response(
        "ssm.waiters-2.json",
        &json!({"version": 2, "waiters": {"ParameterVisible": {"delay": 1, "maxAttempts": 60,
            "operation": "GetParameter", "acceptors": [
                {"state": "success", "matcher": "path", "argument": "Parameter.Value", "expected": "v1"},
                {"state": "retry", "matcher": "error", "expected": "ParameterNotFound"}]}}}),
    );
    let cli = |args: &[&str]| {
        let mut command = Command::new(&aws);
        command
            .args(args)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("AWS_ACCESS_KEY_ID", settle_emulator::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", settle_emulator::SECRET_ACCESS_KEY)
            .env("AWS_DEFAULT_REGION", settle_emulator::REGION)
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE");
        command
    };
    let put = cli(&["ssm", "put-parameter", "--name", &name, "--value", "v1", "--type", "String"])
        .output()
        .unwrap();
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let wait = |max_attempts: &str| {
        let mut command = cli(&[]);
        command.args(["ssm", "get-parameter", "--name", &name]).env("AWS_ENDPOINT_URL", proxy.endpoint());
        let mut settle = Command::new(env!("CARGO_BIN_EXE_settle"));
        settle
            .args([
                "wait",
                "--model",
                model.to_str().unwrap(),
                "--waiter",
                "ParameterVisible",
                "--delay",
                "0",
            ])
            .args(["--max-attempts", max_attempts, "--"])
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => settle.env(key, value),
                None => settle.env_remove(key),
            };
        }
        settle
    };
    let reads = || proxy.counters().per_operation.get("ssm:GetParameter").copied().unwrap_or(0);

    let held = wait("2").output().unwrap();
    assert_eq!(held.status.code(), Some(2), "timeout while held: {}", stderr(&held));
    assert_eq!(reads(), 2, "each attempt ran the CLI once");

    let polling =
        wait("60").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Released once the wait has seen the parameter missing twice (bounded: 60 s).
    let started = std::time::Instant::now();
    while reads() < 4 && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(reads() >= 4, "the wait polled");
    assert_eq!(proxy.release_resource(&format!("ssm-parameter:{name}")), 1);
    let done = polling.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(0), "visible once released: {}", stderr(&done));
    assert!(reads() >= 5, "it read again after the release");
}
