//! A TLS front for tests of HTTPS interception: ends TLS with a certificate for the given host
//! names, signed by a CA made for it, and pipes the bytes to a plain upstream (moto). Nothing
//! here reaches the internet: an intercepting proxy is pointed at [`TlsFront::addr`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::TestbedError;

/// A running TLS front; it stops with the process.
#[derive(Debug)]
pub struct TlsFront {
    addr: SocketAddr,
    ca_pem: PathBuf,
}

impl TlsFront {
    /// Listens on a free loopback port, presenting one certificate for every name in `hosts`,
    /// and forwards each connection's bytes to `upstream` (`HOST:PORT`). The CA's PEM is written
    /// into `dir`.
    pub fn start(upstream: SocketAddr, hosts: &[&str], dir: &Path) -> Result<TlsFront, TestbedError> {
        let failed = |detail: String| TestbedError::Command { what: "the TLS front", detail };
        let ca_key = KeyPair::generate().map_err(|e| failed(e.to_string()))?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name.push(DnType::CommonName, "settle test upstream CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| failed(e.to_string()))?;
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().map_err(|e| failed(e.to_string()))?;
        let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let leaf = CertificateParams::new(names)
            .and_then(|p| p.signed_by(&leaf_key, &issuer))
            .map_err(|e| failed(e.to_string()))?;
        std::fs::create_dir_all(dir).map_err(|e| TestbedError::io("creating", dir, e))?;
        let ca_pem = dir.join("upstream-ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).map_err(|e| TestbedError::io("writing", &ca_pem, e))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
        // ring, as settle-proxy's interception (deprecated there only for post-quantum key exchange).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| failed(e.to_string()))?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| failed(e.to_string()))?;
        let addr = listener.local_addr().map_err(|e| failed(e.to_string()))?;
        listener.set_nonblocking(true).map_err(|e| failed(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| failed(e.to_string()))?;
        std::thread::Builder::new()
            .name("settle-tls-front".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    while let Ok((stream, _)) = listener.accept().await {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            let Ok(mut tls) = acceptor.accept(stream).await else { return };
                            let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                                return;
                            };
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                        });
                    }
                })
            })
            .map_err(|e| failed(e.to_string()))?;
        Ok(TlsFront { addr, ca_pem })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the CA its certificate chains to (trust it upstream, e.g. `--mitm-upstream-ca`).
    pub fn ca_pem(&self) -> &Path {
        &self.ca_pem
    }
}
