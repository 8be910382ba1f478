//! Helpers shared by the CLI tests: run `settle`, read what `settle proxy` prints when ready,
//! talk to its control endpoint, drive boto3 through it.
#![allow(dead_code)] // each test binary uses some of them

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// The `settle` binary of this build.
pub fn settle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_settle"))
}

/// A plain HTTP/1.1 GET on loopback with the control token; returns the whole response.
pub fn get(addr: &str, path: &str, token: &str) -> String {
    request("GET", addr, path, token)
}

/// A plain HTTP/1.1 request without a body on loopback with the control token; the whole response.
pub fn request(method: &str, addr: &str, path: &str, token: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nx-settle-token: {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// What `settle proxy` prints when ready.
pub struct Ready {
    /// `127.0.0.1:P`.
    pub addr: String,
    /// The control token.
    pub token: String,
    /// Where it forwards to.
    pub upstream: String,
    /// The `export AWS_ENDPOINT_URL=…` line.
    pub export: String,
}

/// Reads the ready line and the `export` line after it.
pub fn ready(child: &mut std::process::Child) -> Ready {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut ready, mut export) = (String::new(), String::new());
    stdout.read_line(&mut ready).unwrap();
    stdout.read_line(&mut export).unwrap();
    assert!(ready.starts_with("settle-proxy listening on http://127.0.0.1:"), "one ready line: {ready}");
    let addr = ready.split_whitespace().nth(3).unwrap().trim_start_matches("http://").to_string();
    let token = ready.trim_end().trim_end_matches(')').rsplit(' ').next().unwrap().to_string();
    let upstream = ready.split_whitespace().nth(5).unwrap().to_string();
    assert_eq!(export, format!("export AWS_ENDPOINT_URL=http://{addr}\n"), "a line to paste into a shell");
    Ready { addr, token, upstream, export }
}

/// The address and control token from the ready line.
pub fn ready_line(child: &mut std::process::Child) -> (String, String) {
    let Ready { addr, token, .. } = ready(child);
    (addr, token)
}

/// boto3 (from the moto venv), pointed at the proxy by the printed `export AWS_ENDPOINT_URL=…` line
/// alone, runs `script` and prints what it saw.
pub fn boto3(endpoint_line: &str, script: &str) -> String {
    let endpoint = endpoint_line.trim_end().strip_prefix("export AWS_ENDPOINT_URL=").unwrap();
    let python = settle_emulator::venv_dir().join("bin/python");
    let out = Command::new(python)
        .args(["-c", &format!("import boto3, botocore\nssm = boto3.client('ssm')\n{script}")])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", settle_emulator::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", settle_emulator::SECRET_ACCESS_KEY)
        .env("AWS_DEFAULT_REGION", settle_emulator::REGION)
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "boto3: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
