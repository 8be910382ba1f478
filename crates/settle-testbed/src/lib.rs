//! The test bed: a real AWS emulator (moto in server mode) on a free loopback
//! port, installed into a project-local virtualenv on first use, plus helpers to
//! point real `aws-sdk-*` clients at it.
//!
//! ```no_run
//! let moto = settle_testbed::shared_moto();
//! let config = settle_testbed::sdk_config(&moto.endpoint());
//! // let ssm = aws_sdk_ssm::Client::new(&config);
//! ```
//!
//! Nothing here needs anything installed by hand but Python 3 with `venv` and `pip`.

mod moto;
mod proxy;
mod venv;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub use moto::MotoServer;
pub use proxy::proxy_in_front_of_moto;
pub use venv::{MOTO_VERSION, ensure_moto_venv, venv_dir};

/// What went wrong while preparing or starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    /// No usable Python was found to create the virtualenv.
    #[error(
        "aws-settle's test bed needs Python 3.9+ with the venv and pip modules to install moto; \
         none was found as `python3` or `python` (or $SETTLE_PYTHON). Install it, e.g. on \
         Debian/Ubuntu: `apt-get install python3 python3-venv python3-pip`"
    )]
    PythonMissing,
    /// A file-system step failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An external command failed.
    #[error("{what} failed: {detail}")]
    Command {
        /// The command.
        what: &'static str,
        /// Its exit status and the tail of its output.
        detail: String,
    },
    /// moto was started but never reported that it was ready.
    #[error("moto did not start; its log is {log}:\n{log_tail}")]
    MotoDidNotStart {
        /// The log file, kept for inspection.
        log: PathBuf,
        /// Its last lines.
        log_tail: String,
    },
}

impl TestbedError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        TestbedError::Io { action, path: path.to_path_buf(), source }
    }
}

/// The directory for the venv, the server script and logs:
/// `$SETTLE_STATE_DIR`, else `<workspace>/.settle` (git-ignored).
///
/// The workspace is found at run time, from the `CARGO_MANIFEST_DIR` cargo sets for tests and
/// `cargo run` (or the current directory) upwards to the first directory with a `Cargo.lock`: a
/// build cached from another checkout of the project must not write into that checkout.
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SETTLE_STATE_DIR") {
        return PathBuf::from(dir);
    }
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    workspace_root(&start)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .join(".settle")
}

/// The nearest directory at or above `from` that holds a `Cargo.lock`.
fn workspace_root(from: &Path) -> Option<PathBuf> {
    from.ancestors().find(|dir| dir.join("Cargo.lock").is_file()).map(Path::to_path_buf)
}

/// One moto server shared by every test of this process, started on first use.
///
/// Panics with the reason (and the moto log's tail) if it cannot start, which is
/// what a test wants. The server exits when this process does.
pub fn shared_moto() -> &'static MotoServer {
    static MOTO: OnceLock<MotoServer> = OnceLock::new();
    let moto = MOTO.get_or_init(|| MotoServer::start().unwrap_or_else(|e| panic!("{e}")));
    // Shown only for failing tests, whose output the test harness prints.
    eprintln!("moto {MOTO_VERSION} at {} (log: {})", moto.endpoint(), moto.log_path().display());
    moto
}

/// Dummy credentials: moto accepts any, and they are recognisable in recordings.
pub const ACCESS_KEY_ID: &str = "AKIDSETTLETESTBED";
/// The secret half of [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "settle-testbed-secret-key";
/// A session token for [`sdk_config_with_session_token`]: recognisable, so a test can prove it
/// never reaches a recording, a log or an error.
pub const SESSION_TOKEN: &str = "settle-testbed-SESSION-token-6b1f0e";
/// The region every test bed client uses.
pub const REGION: &str = "us-east-1";

/// An `SdkConfig` for a loopback endpoint: static dummy credentials, region
/// `us-east-1`, a plain-HTTP client (no TLS needed on loopback), and the
/// endpoint override. Build any `aws-sdk-*` client from it with `Client::new`.
pub fn sdk_config(endpoint: &str) -> aws_types::SdkConfig {
    config_with(endpoint, None)
}

/// [`sdk_config`] with temporary credentials: [`SESSION_TOKEN`] is sent with every request
/// (as `X-Amz-Security-Token`), as it is with credentials from STS or an instance role.
pub fn sdk_config_with_session_token(endpoint: &str) -> aws_types::SdkConfig {
    config_with(endpoint, Some(SESSION_TOKEN.to_string()))
}

fn config_with(endpoint: &str, session_token: Option<String>) -> aws_types::SdkConfig {
    let credentials = aws_credential_types::Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        session_token,
        None,
        "settle-testbed",
    );
    aws_types::SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build()
}

/// A resource name unique to this process and call, e.g. `/settle/test-4242-7`.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_dir_is_under_the_workspace_this_test_runs_in() {
        let workspace = workspace_root(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(workspace.join("crates/settle-testbed").is_dir(), "{}", workspace.display());
        if std::env::var_os("SETTLE_STATE_DIR").is_none() {
            assert_eq!(state_dir(), workspace.join(".settle"));
        }
    }
}
