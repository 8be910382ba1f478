//! `settle proxy` end to end: the flags reach the proxy, it says when it is ready, and a taken
//! port is a clear error with a non-zero exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

fn settle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_settle"))
}

/// A plain HTTP/1.1 GET on loopback with the control token; returns the whole response.
fn get(addr: &str, path: &str, token: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nx-settle-token: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// The address and control token from the ready line.
fn ready_line(child: &mut std::process::Child) -> (String, String) {
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert!(ready.starts_with("settle-proxy listening on http://127.0.0.1:"), "one ready line: {ready}");
    let addr = ready.split_whitespace().nth(3).unwrap().trim_start_matches("http://").to_string();
    let token = ready.trim_end().trim_end_matches(')').rsplit(' ').next().unwrap().to_string();
    (addr, token)
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
    let (addr, token) = ready_line(&mut child);
    assert_eq!(token.len(), 32, "the ready line ends with the control token");

    let health = get(&addr, "/__settle/health", "");
    let config = get(&addr, "/__settle/config", &token);
    let refused = get(&addr, "/__settle/config", "wrong");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_file(&record);

    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
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

#[test]
fn sigterm_stops_it_like_ctrl_c_with_every_answered_request_recorded() {
    let record = std::env::temp_dir().join(format!("settle-proxy-term-{}.jsonl", std::process::id()));
    let mut child = settle()
        .args(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--record"])
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (addr, _) = ready_line(&mut child);
    // 300 requests on one keep-alive connection, each answered (502: nothing listens upstream).
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for i in 0..300 {
        stream.write_all(format!("GET /item-{i} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 502"), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&record).unwrap();
    let _ = std::fs::remove_file(&record);
    assert!(status.success(), "SIGTERM is a clean stop, not death by signal: {status:?}");
    assert_eq!(text.lines().count(), 300, "every answered request is in the recording");
}
