//! HTTPS interception (`settle proxy --mitm`): the proxy answers `CONNECT host:443` itself,
//! ends TLS with a certificate for `host` signed by a local CA ([`MitmConfig::ca_dir`]), runs
//! each decrypted request through the same pipeline as a plain one (lag, throttling, faults,
//! recording), and forwards it over TLS to `host`. Any SDK given `HTTPS_PROXY` and the CA
//! (`AWS_CA_BUNDLE`) gets the proxy's behaviour against real AWS endpoints, unchanged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), settle_proxy::ProxyError> {
//! let mitm = settle_proxy::MitmConfig::new("/home/me/.config/settle");
//! let proxy = settle_proxy::Proxy::builder().mitm(mitm).start().await?;
//! println!("HTTPS_PROXY={} AWS_CA_BUNDLE={}", proxy.endpoint(), proxy.ca_cert().unwrap().display());
//! # Ok(()) }
//! ```

pub(crate) mod ca;
mod client;
pub(crate) mod tunnel;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use ca::{CA_CERT_FILE, CA_KEY_FILE};
pub(crate) use client::Mitm;

/// How `--mitm` intercepts: where its CA lives, and whom it trusts upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MitmConfig {
    /// The folder of the CA's two files ([`CA_CERT_FILE`], [`CA_KEY_FILE`]); made on first use.
    pub ca_dir: PathBuf,
    /// PEM files of extra roots trusted upstream, beside the web's (webpki-roots): a test's CA.
    pub upstream_roots: Vec<PathBuf>,
    /// Connect to this address instead of the `CONNECT` target (which still names the TLS server
    /// and the `Host`): a local TLS front in tests.
    pub upstream_override: Option<SocketAddr>,
}

impl MitmConfig {
    /// Intercepts with the CA in `ca_dir`, forwarding to the real hosts with the web's roots.
    pub fn new(ca_dir: impl Into<PathBuf>) -> Self {
        MitmConfig { ca_dir: ca_dir.into(), upstream_roots: Vec::new(), upstream_override: None }
    }

    /// Also trusts the roots in this PEM file upstream.
    pub fn upstream_root(mut self, pem: impl Into<PathBuf>) -> Self {
        self.upstream_roots.push(pem.into());
        self
    }

    /// Connects every tunnel to `addr` instead of its target.
    pub fn upstream_override(mut self, addr: SocketAddr) -> Self {
        self.upstream_override = Some(addr);
        self
    }
}

/// Why interception could not be set up or a tunnel not served.
#[derive(Debug, thiserror::Error)]
pub enum MitmError {
    /// A CA file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A CA file holds no usable key or certificate.
    #[error(
        "the local CA file {path} is unusable ({detail}); remove the CA folder's two files to make a new CA"
    )]
    Ca {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An upstream root file holds no certificate.
    #[error("upstream root {path}: {detail}")]
    UpstreamRoot {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// No certificate could be made for a host.
    #[error("cannot make a certificate for `{host}`: {detail}")]
    Leaf {
        /// The `CONNECT` host.
        host: String,
        /// What is wrong.
        detail: String,
    },
}

/// The `CONNECT` target of the tunnel a request came through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
}

tokio::task_local! {
    /// Set while a request from a tunnel is served: upstream calls go to its target over TLS.
    pub(crate) static TARGET: Target;
}

/// The tunnel target of the request being served, if it came through one.
pub(crate) fn current_target() -> Option<Target> {
    TARGET.try_with(Target::clone).ok()
}

/// The crypto provider of every TLS connection and certificate: ring, a pure build with no C
/// toolchain beyond `cc` (rustls marks it deprecated for lacking post-quantum key exchange, which
/// a local test proxy does not need; aws-lc-rs would add a second, heavy crypto stack).
#[allow(deprecated)]
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
