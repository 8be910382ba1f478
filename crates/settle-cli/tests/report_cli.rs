//! `settle report` end to end: golden outputs (text, Markdown, JSON, the SVG plot) on a checked-in
//! recording, typed errors naming file and line, and a real throttled run of aws-sdk-ssm calls
//! through settle-proxy in front of moto, whose recording the report reads back.
//!
//! `UPDATE_GOLDEN=1 cargo test -p settle-cli --test report_cli` rewrites the golden files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn settle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settle")).args(args).output().unwrap()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("settle-report-cli-{}-{name}", std::process::id()))
}

/// Compares with (or, with UPDATE_GOLDEN set, rewrites) a golden file.
fn golden(name: &str, actual: &str) {
    let path = data(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(actual, expected, "differs from {}", path.display());
}

fn report(format: &str) -> String {
    let recording = data("throttled.jsonl");
    let out = settle(&["report", recording.to_str().unwrap(), "--format", format]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_text_report_is_the_golden_one_and_calls_out_the_storm() {
    let text = report("text");
    golden("throttled.report.txt", &text);
    assert!(
        text.contains("retry storm: GetParameter (ssm): 46% of attempts throttled at 14 req/s"),
        "{text}"
    );
}

#[test]
fn the_markdown_report_is_the_golden_one() {
    golden("throttled.report.md", &report("markdown"));
}

#[test]
fn the_json_report_is_the_golden_one() {
    let json = report("json");
    golden("throttled.report.json", &json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let get = &value["operations"][1];
    assert_eq!(
        (get["operation"].as_str(), get["calls"].as_u64(), get["throttled"].as_u64()),
        (Some("GetParameter"), Some(56), Some(26))
    );
}

#[test]
fn the_plot_is_the_golden_svg() {
    let recording = data("throttled.jsonl");
    let svg = temp("plot.svg");
    let out = settle(&["report", recording.to_str().unwrap(), "--plot", svg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&svg).unwrap();
    std::fs::remove_file(&svg).unwrap();
    golden("throttled.plot.svg", &text);
    for label in ["ssm GetParameter", "dynamodb DescribeTable", "throttled", "lag answers", "injected errors"]
    {
        assert!(text.contains(label), "the plot shows {label}");
    }
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = settle(&["report", "/nonexistent/recording.jsonl"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/recording.jsonl: No such file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_malformed_line_is_an_error_naming_file_and_line() {
    let bad = temp("bad.jsonl");
    let good = std::fs::read_to_string(data("throttled.jsonl")).unwrap();
    let mut lines: Vec<&str> = good.lines().take(3).collect();
    lines.push(r#"{"time":"2026-11-25T14:00:01.000Z","service":"ssm"}"#);
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = settle(&["report", bad.to_str().unwrap()]);
    std::fs::remove_file(&bad).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:4: not a settle-proxy recording line", bad.display())), "{stderr}");
    assert!(stderr.contains("missing field `operation`"), "{stderr}");
    assert!(out.stdout.is_empty(), "no partial report");
}

/// Real aws-sdk-ssm calls through settle-proxy in front of moto: a bucket of 5 that never refills
/// within the test (5 per hour), so every GetParameter after the first five is throttled
/// whatever the machine's speed; the SDK retries each (3 attempts). The report names the
/// operation and the share the recording itself shows, and never the SecureString value, the
/// session token or the secret key sent (recorded with `record_params` on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_ssm_run_through_the_proxy_is_named_with_its_share() {
    let recording = temp("ssm.jsonl");
    let moto = settle_emulator::shared_moto();
    let mut config = settle_proxy::Config { record_params: true, ..settle_proxy::Config::default() };
    config.services.entry("ssm".into()).or_default().operations.insert(
        "GetParameter".into(),
        settle_proxy::Config::from_toml("throttle = \"5/h:5\"").unwrap().faults,
    );
    let proxy = settle_proxy::Proxy::builder()
        .upstream(moto.endpoint())
        .config(config)
        .record(&recording)
        .start_background()
        .unwrap();
    // Temporary credentials and a SecureString: neither may reach the report.
    let ssm = aws_sdk_ssm::Client::new(&settle_emulator::sdk_config_with_session_token(&proxy.endpoint()));
    let name = settle_emulator::unique_name("/settle/report");
    let secret = settle_emulator::unique_name("report-secret-value");
    ssm.put_parameter()
        .name(&name)
        .value(&secret)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let mut failed = 0;
    for _ in 0..8 {
        if ssm.get_parameter().name(&name).send().await.is_err() {
            failed += 1;
        }
    }
    assert!(proxy.flush_recording());
    proxy.shutdown();

    let lines = std::fs::read_to_string(&recording).unwrap();
    let gets: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["operation"] == "GetParameter")
        .collect();
    let throttled = gets.iter().filter(|v| v["fault"] == "throttle").count();
    assert_eq!((failed, throttled), (3, 9), "5 answered, then 3 calls of 3 throttled attempts each");
    let share = throttled as f64 / gets.len() as f64;

    let out = settle(&["report", recording.to_str().unwrap(), "--format", "json"]);
    let text = settle(&["report", recording.to_str().unwrap()]);
    let markdown = settle(&["report", recording.to_str().unwrap(), "--format", "markdown"]);
    std::fs::remove_file(&recording).unwrap();
    for report in [&out, &text, &markdown] {
        let all = [&report.stdout[..], &report.stderr[..]].concat();
        let all = String::from_utf8_lossy(&all);
        for secret in [secret.as_str(), settle_emulator::SESSION_TOKEN, settle_emulator::SECRET_ACCESS_KEY] {
            assert!(!all.contains(secret), "the report never shows {secret}");
        }
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row =
        json["operations"].as_array().unwrap().iter().find(|r| r["operation"] == "GetParameter").unwrap();
    assert_eq!(row["calls"].as_u64(), Some(gets.len() as u64));
    assert_eq!(row["throttled"].as_u64(), Some(throttled as u64));
    assert_eq!(row["throttled_share"].as_f64(), Some((share * 1000.0).round() / 1000.0));
    let text = String::from_utf8(text.stdout).unwrap();
    let words = format!("GetParameter (ssm): {:.0}% of attempts throttled", share * 100.0);
    assert!(text.contains(&words), "{words} in:\n{text}");
}

#[test]
fn the_readme_shows_the_golden_report() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("### Reading a recording: `settle report`").unwrap()..];
    let shown = &section[section.find("```text\n").unwrap() + 8..];
    let shown = &shown[..shown.find("```").unwrap()];
    assert_eq!(shown, report("text"), "README's `settle report` output is what it prints");
}

/// The acceptance run: `settle proxy --moto --throttle 5/h:5 --record FILE` (one SSM bucket of 5
/// that does not refill within the test, so the outcome does not depend on the machine's speed),
/// boto3 (standard retry mode, `max_attempts` 3: botocore reads it as 3 retries) puts a parameter
/// and reads it 6 times through it, the proxy stops on SIGTERM with its recording flushed, and `settle report` names GetParameter and
/// its throttled share (4 reads answered, 2 failed after every attempt was throttled).
#[test]
fn a_throttled_boto3_run_through_settle_proxy_is_named_by_settle_report() {
    settle_emulator::ensure_moto_venv().unwrap();
    let recording = temp("boto3.jsonl");
    let mut proxy = common::settle()
        .args(["proxy", "--moto", "--throttle", "5/h:5", "--listen", "127.0.0.1:0", "--record"])
        .arg(&recording)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = common::ready(&mut proxy);
    let name = settle_emulator::unique_name("/settle/boto3-report");
    let failed = common::boto3(
        &ready.export,
        &format!(
            "import botocore.config\n\
             ssm = boto3.client('ssm', config=botocore.config.Config(retries={{'mode': 'standard', 'max_attempts': 3}}))\n\
             ssm.put_parameter(Name='{name}', Value='v', Type='String')\n\
             failed = []\n\
             for _ in range(6):\n\
             \x20   try:\n\
             \x20       ssm.get_parameter(Name='{name}')\n\
             \x20   except botocore.exceptions.ClientError as e:\n\
             \x20       failed.append(e.response['Error']['Code'])\n\
             print(' '.join(failed))"
        ),
    );
    let term = Command::new("kill").args(["-TERM", &proxy.id().to_string()]).status().unwrap();
    assert!(term.success() && proxy.wait().unwrap().success(), "the proxy stops cleanly on SIGTERM");
    assert_eq!(failed, "ThrottlingException ThrottlingException\n", "boto3 gave up on two reads");

    let json = settle(&["report", recording.to_str().unwrap(), "--format", "json"]);
    let text = settle(&["report", recording.to_str().unwrap()]);
    std::fs::remove_file(&recording).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = json["operations"].as_array().unwrap();
    let get = rows.iter().find(|r| r["operation"] == "GetParameter").unwrap();
    // The bucket let the PutParameter and 4 reads through; every later attempt (boto3 decides how
    // many retries) was throttled.
    let (calls, throttled) = (get["calls"].as_u64().unwrap(), get["throttled"].as_u64().unwrap());
    assert!(calls >= 10 && throttled == calls - 4, "{get}");
    let share = throttled as f64 / calls as f64;
    assert_eq!(get["throttled_share"].as_f64(), Some((share * 1000.0).round() / 1000.0));
    let text = String::from_utf8(text.stdout).unwrap();
    let words = format!("GetParameter (ssm): {:.0}% of attempts throttled at ", share * 100.0);
    assert!(text.contains(&words), "{words} in:\n{text}");
}

/// The library's own event log (`Telemetry::log_to_file`), checked in as `events.jsonl`: each
/// attempt is a row's call, read-backs are rows of their own, a transport failure is an error.
#[test]
fn the_library_event_log_report_is_the_golden_one() {
    let log = data("events.jsonl");
    let out = settle(&["report", log.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    golden("events.report.txt", &text);
    assert!(text.contains("GetParameter (read-back)"), "{text}");
    assert!(text.contains("GetParameter (ssm): 33% of attempts throttled"), "6 of 18 attempts: {text}");
}

/// What `Telemetry::log_to_file` writes is what `settle report` reads: the format's contract.
#[test]
fn an_event_log_written_by_the_library_is_read_by_settle_report() {
    use aws_settle::observe::{Event, EventKind, Telemetry};
    let log = temp("library-events.jsonl");
    let _ = std::fs::remove_file(&log);
    let telemetry = Telemetry::new();
    telemetry.log_to_file(&log).unwrap();
    let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_615_200_000);
    for (attempt, ok, code) in [(1, false, Some("ThrottlingException")), (2, true, None)] {
        telemetry.emit(Event {
            call_id: 1,
            service: "ssm".into(),
            operation: "GetParameter".into(),
            kind: EventKind::AttemptEnd { ok },
            attempt,
            at: at + std::time::Duration::from_millis(100 * u64::from(attempt)),
            duration: Some(std::time::Duration::from_millis(20)),
            status: Some(if ok { 200 } else { 400 }),
            error_code: code.map(str::to_string),
            read_back: false,
        });
    }
    let out = settle(&["report", log.to_str().unwrap(), "--format", "json"]);
    std::fs::remove_file(&log).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &json["operations"][0];
    assert_eq!(
        (row["operation"].as_str(), row["calls"].as_u64(), row["throttled"].as_u64()),
        (Some("GetParameter"), Some(2), Some(1))
    );
    assert_eq!(row["p50_ms"].as_f64().map(f64::round), Some(20.0), "the attempt's own duration: {row}");
}

/// `--plot out.png`: the same timeline as a PNG (bitmap backend, the built-in font), the golden
/// bytes checked in beside the SVG.
#[test]
fn the_plot_is_a_png_by_its_extension() {
    let recording = data("throttled.jsonl");
    let png = temp("plot.png");
    let out = settle(&["report", recording.to_str().unwrap(), "--plot", png.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    std::fs::remove_file(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (width, height) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((width, height), (960, 40 + 220 * 3), "one panel per operation");
    let path = data("throttled.plot.png");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    assert!(std::fs::read(&path).unwrap() == bytes, "differs from {}", path.display());

    let out = settle(&["report", recording.to_str().unwrap(), "--plot", "timeline.pdf"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timeline.pdf") && stderr.contains(".svg or .png"), "{stderr}");
}
