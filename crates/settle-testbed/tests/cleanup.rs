//! A test run killed midway (even by SIGKILL) leaves no moto server behind.
//!
//! The test re-runs this test binary as a child that starts moto and then blocks;
//! the parent kills the child with SIGKILL and watches the moto process go away.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "SETTLE_TESTBED_CLEANUP_CHILD";

/// Runs only as the child: starts moto, prints its pid, then waits to be killed.
#[test]
#[ignore = "run by killed_test_process_leaves_no_moto_behind as its child"]
fn child_starts_moto_and_blocks() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let moto = settle_testbed::MotoServer::start().expect("moto starts");
    println!("MOTO_PID {} PORT {}", moto.pid(), moto.port());
    // Stays alive until the parent test kills it (real time: it is another process).
    std::thread::sleep(Duration::from_secs(120));
}

fn alive(pid: u32) -> bool {
    // A zombie has exited; only a live process counts.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn killed_test_process_leaves_no_moto_behind() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_starts_moto_and_blocks", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("re-run this test binary as a child");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let line = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.find("MOTO_PID ").map(|at| l[at..].to_string()))
        .expect("the child reports moto's pid");
    // libtest may print "test NAME ... " before it on the same line.
    let mut words = line.split_whitespace().skip(1);
    let pid: u32 = words.next().unwrap().parse().unwrap();
    let port: u16 = words.nth(1).unwrap().parse().unwrap();
    assert!(alive(pid), "moto {pid} runs while its test process lives");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(), "moto listens on {port}");

    child.kill().expect("SIGKILL the child test process");
    child.wait().unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        // Polls another process's exit (real time); the bound only ends a failing test.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(pid), "moto {pid} still runs 10 s after its test process was killed");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} is free again after the killed run"
    );
}
