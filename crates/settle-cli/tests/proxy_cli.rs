//! `settle proxy` end to end: the flags reach the proxy, it says when it is ready, and a taken
//! port is a clear error with a non-zero exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

fn settle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_settle"))
}

/// A plain HTTP/1.1 GET on loopback; returns the whole response.
fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_flags_configure_the_proxy_and_it_reports_when_ready() {
    let record = std::env::temp_dir().join(format!("settle-proxy-cli-{}.jsonl", std::process::id()));
    let mut child = settle()
        .args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0"])
        .args(["--lag", "500ms..3s", "--throttle", "5/s", "--errors", "0.01", "--latency", "20ms..80ms"])
        .args(["--seed", "7", "--record"])
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert!(ready.starts_with("settle-proxy listening on http://127.0.0.1:"), "one ready line: {ready}");
    let addr = ready.split_whitespace().nth(3).unwrap().trim_start_matches("http://").to_string();

    let health = get(&addr, "/__settle/health");
    let config = get(&addr, "/__settle/config");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_file(&record);

    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    for expected in ["500ms..3s", "20ms..80ms", "0.01", "\"seed\":7"] {
        assert!(config.contains(expected), "the config has {expected}: {config}");
    }
}

#[test]
fn a_taken_port_is_a_clear_error_and_a_non_zero_exit() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out =
        settle().args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", &addr]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exits non-zero");
    assert!(stderr.contains(&addr) && stderr.contains("in use"), "says which port and why: {stderr}");
}

#[test]
fn a_bad_flag_value_names_the_flag_form() {
    let out = settle().args(["proxy", "--upstream", "http://127.0.0.1:9", "--lag", "soon"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("soon"), "names the bad value: {stderr}");
}
