//! The credentials an invocation brings, and the SDK configuration built from them.

use std::fmt;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use aws_types::region::Region;

/// Temporary credentials from an invocation. Neither `Debug` nor any error shows them: the
/// runtime hands them to the SDK and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(access_key_id: String, secret_access_key: String, session_token: Option<String>) -> Self {
        Self { access_key_id, secret_access_key, session_token }
    }

    /// As the SDK's credentials.
    pub fn to_sdk(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "cloudformation-invocation",
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials { <redacted> }")
    }
}

/// An `SdkConfig` for `region` signed with `credentials`, with `http_client` (a plain-HTTP client
/// when `None`: enough for a loopback endpoint, not for AWS itself) and `endpoint_url` (when
/// `None`, `AWS_ENDPOINT_URL` if set, as every SDK client honours it).
pub fn sdk_config(
    region: &str,
    credentials: &Credentials,
    http_client: Option<SharedHttpClient>,
    endpoint_url: Option<&str>,
) -> SdkConfig {
    let http_client = http_client.unwrap_or_else(|| aws_smithy_http_client::Builder::new().build_http());
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(SharedCredentialsProvider::new(credentials.to_sdk()))
        .http_client(http_client);
    let from_env = || std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.is_empty());
    if let Some(endpoint) = endpoint_url.map(str::to_string).or_else(from_env) {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}
