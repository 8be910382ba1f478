//! A moto server process on a free loopback port.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::TestbedError;

const SERVER_SCRIPT: &str = include_str!("../python/moto_server.py");
const READY_PREFIX: &str = "SETTLE_MOTO_READY ";
/// How long moto may take to import and bind before we give up.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How many moto logs are kept in the log directory.
const LOGS_KEPT: usize = 20;

/// A running moto server. Stopped when dropped, and by itself when the process
/// that started it exits (even by `kill -9`): the server watches its parent.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl MotoServer {
    /// Installs moto if needed (see [`crate::ensure_moto_venv`]) and starts a
    /// server on a free port of 127.0.0.1.
    pub fn start() -> Result<Self, TestbedError> {
        let python = crate::ensure_moto_venv()?;
        let state = crate::state_dir();
        let logs = state.join("logs");
        fs::create_dir_all(&logs).map_err(|e| TestbedError::io("creating", &logs, e))?;
        prune_logs(&logs);
        let script = state.join("moto_server.py");
        write_if_changed(&script, SERVER_SCRIPT)?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let log = logs.join(format!("moto-{stamp}-{}.log", std::process::id()));

        let mut command = Command::new(&python);
        command
            .arg("-u")
            .arg(&script)
            .args(["127.0.0.1", "0"])
            .arg(&log)
            // AWS-managed IAM policies exist, as on AWS (AWSLambdaBasicExecutionRole, …).
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
        match spawn_until_ready(&mut command, "starting moto", READY_PREFIX, START_TIMEOUT)? {
            Some((child, port)) => Ok(MotoServer { child, port, log }),
            None => Err(TestbedError::MotoDidNotStart { log_tail: log_tail(&log, 30), log }),
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`, for an SDK endpoint override.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The file moto logs to (kept after the run; the newest 20 logs are kept).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns a server script whose first line on standard output is `ready_prefix PORT`: the
/// child and its port, or `None` (the child killed and reaped) when no such line came within
/// `timeout`.
pub(crate) fn spawn_until_ready(
    command: &mut Command,
    what: &'static str,
    ready_prefix: &'static str,
    timeout: Duration,
) -> Result<Option<(Child, u16)>, TestbedError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| TestbedError::Command { what, detail: e.to_string() })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let port =
        rx.recv_timeout(timeout).ok().and_then(|line| line.trim().strip_prefix(ready_prefix)?.parse().ok());
    match port {
        Some(port) => Ok(Some((child, port))),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Ok(None)
        }
    }
}

pub(crate) fn write_if_changed(path: &Path, text: &str) -> Result<(), TestbedError> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    // Write to a unique temporary name and rename, so concurrent starters never
    // run a half-written script.
    let tmp = path.with_extension(format!("py.{}", std::process::id()));
    fs::write(&tmp, text).map_err(|e| TestbedError::io("writing", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| TestbedError::io("renaming", path, e))
}

pub(crate) fn log_tail(log: &Path, lines: usize) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn prune_logs(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut logs: Vec<(SystemTime, PathBuf)> =
        entries.flatten().filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path()))).collect();
    logs.sort();
    let excess = logs.len().saturating_sub(LOGS_KEPT);
    for (_, path) in logs.into_iter().take(excess) {
        let _ = fs::remove_file(path);
    }
}
