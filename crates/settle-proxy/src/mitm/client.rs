//! The intercepting side's state: the CA, and the TLS client that forwards to tunnel targets.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::ca::LocalCa;
use super::{MitmConfig, MitmError, Target};

/// What every tunnel shares.
pub(crate) struct Mitm {
    pub(crate) ca: LocalCa,
    pub(crate) client: Client<HttpsConnector<HttpConnector<Resolve>>, Full<Bytes>>,
    /// Open tunnels, within the proxy's connection cap.
    pub(crate) tunnels: Arc<tokio::sync::Semaphore>,
    upstream_override: Option<SocketAddr>,
}

impl std::fmt::Debug for Mitm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mitm")
            .field("ca", &self.ca)
            .field("upstream_override", &self.upstream_override)
            .finish()
    }
}

impl Mitm {
    /// Loads or makes the CA and builds the upstream TLS client.
    pub(crate) fn new(config: &MitmConfig, max_tunnels: usize) -> Result<Mitm, MitmError> {
        let provider = super::provider();
        let ca = LocalCa::load_or_create(&config.ca_dir, provider.clone())?;
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        for path in &config.upstream_roots {
            let failed = |detail: String| MitmError::UpstreamRoot { path: path.clone(), detail };
            let certs: Vec<_> = CertificateDer::pem_file_iter(path)
                .map_err(|e| failed(e.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|e| failed(e.to_string()))?;
            if certs.is_empty() {
                return Err(failed("no certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| failed(e.to_string()))?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| MitmError::Leaf { host: "(upstream)".into(), detail: e.to_string() })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new_with_resolver(Resolve { fixed: config.upstream_override });
        http.set_nodelay(true);
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .wrap_connector(http);
        let client =
            Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(https);
        Ok(Mitm {
            ca,
            client,
            tunnels: Arc::new(tokio::sync::Semaphore::new(max_tunnels.max(1))),
            upstream_override: config.upstream_override,
        })
    }

    /// The URL of `path_and_query` at `target` (its port left out when the override gives it).
    pub(crate) fn url(&self, target: &Target, path_and_query: &str) -> String {
        let host = if target.host.contains(':') { format!("[{}]", target.host) } else { target.host.clone() };
        if target.port == 443 || self.upstream_override.is_some() {
            format!("https://{host}{path_and_query}")
        } else {
            format!("https://{host}:{}{path_and_query}", target.port)
        }
    }
}

/// Resolves tunnel targets with the system's resolver, or to the one override address.
#[derive(Debug, Clone)]
pub(crate) struct Resolve {
    fixed: Option<SocketAddr>,
}

impl tower_service::Service<Name> for Resolve {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let fixed = self.fixed;
        Box::pin(async move {
            if let Some(addr) = fixed {
                return Ok(vec![addr].into_iter());
            }
            // Port 0: the connector puts the URL's in.
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(addrs.into_iter())
        })
    }
}
