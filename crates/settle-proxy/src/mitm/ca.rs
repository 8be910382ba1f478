//! The local certificate authority: made once with `rcgen`, kept as two PEM files (the key
//! readable by its owner only), and a leaf certificate per intercepted host, signed by it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::MitmError;

/// The CA certificate's file name in the CA folder (give it to clients: `AWS_CA_BUNDLE`).
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA key's file name in the CA folder (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Most hosts whose leaf certificates are kept; past it the cache starts over.
const MAX_LEAVES: usize = 1024;
/// The CA's name: leaves name it as their issuer, so it never changes.
const CA_NAME: &str = "settle-proxy local CA (HTTPS interception)";

/// The CA, and the leaves it has issued in this run.
pub(crate) struct LocalCa {
    cert_path: PathBuf,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// One key for every leaf of this run.
    leaf_key: KeyPair,
    leaves: Mutex<HashMap<String, Arc<ServerConfig>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").field("cert", &self.cert_path).finish_non_exhaustive()
    }
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    name.push(DnType::OrganizationName, "settle-proxy");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> MitmError {
    MitmError::Io { action, path: path.to_path_buf(), source }
}

impl LocalCa {
    /// Loads the CA from `dir`, or makes one there (the folder too) if it holds none.
    pub(crate) fn load_or_create(
        dir: &Path,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<LocalCa, MitmError> {
        let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
        let key = if cert_path.exists() && key_path.exists() {
            let text = std::fs::read_to_string(&key_path).map_err(|e| io_error("reading", &key_path, e))?;
            KeyPair::from_pem(&text)
                .map_err(|e| MitmError::Ca { path: key_path.clone(), detail: e.to_string() })?
        } else {
            let key = KeyPair::generate()
                .map_err(|e| MitmError::Ca { path: key_path.clone(), detail: e.to_string() })?;
            let mut params = ca_params();
            let now = time::OffsetDateTime::now_utc();
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(3650);
            params.serial_number = Some(rand::random::<u64>().into());
            let cert = params
                .self_signed(&key)
                .map_err(|e| MitmError::Ca { path: cert_path.clone(), detail: e.to_string() })?;
            std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
            write_private(&key_path, key.serialize_pem().as_bytes())?;
            std::fs::write(&cert_path, cert.pem()).map_err(|e| io_error("writing", &cert_path, e))?;
            key
        };
        let cert_der = CertificateDer::from_pem_file(&cert_path)
            .map_err(|e| MitmError::Ca { path: cert_path.clone(), detail: e.to_string() })?;
        let leaf_key = KeyPair::generate()
            .map_err(|e| MitmError::Ca { path: cert_path.clone(), detail: e.to_string() })?;
        Ok(LocalCa {
            cert_path,
            cert_der,
            issuer: Issuer::new(ca_params(), key),
            leaf_key,
            leaves: Mutex::new(HashMap::new()),
            provider,
        })
    }

    /// The CA certificate's file.
    pub(crate) fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The TLS server configuration for `host`: a leaf made for it on first use.
    pub(crate) fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, MitmError> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = leaves.get(host) {
            return Ok(config.clone());
        }
        let failed = |detail: String| MitmError::Leaf { host: host.to_string(), detail };
        let mut params = CertificateParams::default();
        let san = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(host.try_into().map_err(|e: rcgen::Error| failed(e.to_string()))?),
        };
        params.subject_alt_names = vec![san];
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, host);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        params.serial_number = Some(rand::random::<u64>().into());
        let leaf = params.signed_by(&self.leaf_key, &self.issuer).map_err(|e| failed(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| failed(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), self.cert_der.clone()], key)
            .map_err(|e| failed(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        if leaves.len() >= MAX_LEAVES {
            leaves.clear();
        }
        leaves.insert(host.to_string(), config.clone());
        Ok(config)
    }
}

/// Writes a file only its owner may read (0600 on Unix), replacing any.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), MitmError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| io_error("creating", path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error("restricting", path, e))?;
    }
    file.write_all(bytes).map_err(|e| io_error("writing", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        crate::mitm::provider()
    }

    #[test]
    fn the_ca_is_made_once_with_a_private_key_and_issues_a_leaf_per_host() {
        let dir = std::env::temp_dir().join(format!("settle-ca-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = LocalCa::load_or_create(&dir, provider()).unwrap();
        let first = std::fs::read_to_string(dir.join(CA_CERT_FILE)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CA_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the CA key is its owner's only");
        }
        let a = ca.server_config("ssm.us-east-1.amazonaws.com").unwrap();
        assert!(Arc::ptr_eq(&a, &ca.server_config("ssm.us-east-1.amazonaws.com").unwrap()), "cached");
        ca.server_config("127.0.0.1").unwrap();
        assert!(matches!(ca.server_config("bücher.example"), Err(MitmError::Leaf { .. })));
        // Loaded again, not made again: clients keep trusting the same file.
        let again = LocalCa::load_or_create(&dir, provider()).unwrap();
        assert_eq!(std::fs::read_to_string(again.cert_path()).unwrap(), first);
        std::fs::write(dir.join(CA_KEY_FILE), "not a key").unwrap();
        let err = LocalCa::load_or_create(&dir, provider()).unwrap_err();
        assert!(err.to_string().contains(CA_KEY_FILE), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
