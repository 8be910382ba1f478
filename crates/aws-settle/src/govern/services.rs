//! [`Govern`] for each service client behind its feature ([`crate::clients`]): the client's config
//! is rebuilt with the governor's interceptor (replacing an earlier one) and its HTTP client
//! wrapped so that each attempt waits for its slot.

use std::sync::Once;

use super::Governor;
#[allow(unused_imports)]
use super::layer::{Governed, PacedClient, is_governor};

/// A service client whose requests a [`Governor`] can pace.
pub trait Govern: Sized {
    /// The same client (same config, credentials, endpoint, retry settings), paced by `governor`.
    /// Governing a governed client moves it to the new governor. The client's config must carry
    /// an HTTP client (an `SdkConfig` from `aws_config` or the test bed does); without one the
    /// governor still counts throttles and keeps the retry budget, but cannot pace, and says so
    /// once in a warning.
    fn govern(self, governor: &Governor) -> Self;
}

/// `client`, paced by `governor`: see [`Govern::govern`].
pub fn govern<C: Govern>(client: C, governor: &Governor) -> C {
    client.govern(governor)
}

/// Warns once that a client could not be paced.
#[allow(dead_code)]
pub(crate) fn warn_no_http_client(service: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            target: "aws_settle::govern",
            service,
            "client config has no HTTP client: the governor cannot pace its requests (set one, e.g. from aws_config)"
        )
    });
}

/// One [`Govern`] impl per supported client.
macro_rules! governed {
    ($(($module:ident, $feature:literal, $sdk:ident)),* $(,)?) => {
        $(
            #[cfg(feature = $feature)]
            impl Govern for $sdk::Client {
                fn govern(self, governor: &Governor) -> Self {
                    let config = self.config();
                    let mut builder = config.to_builder();
                    builder.set_interceptors(config.interceptors().filter(|i| !is_governor(i)));
                    match config.http_client() {
                        Some(http) => {
                            builder.set_http_client(Some(PacedClient::wrap(http)));
                        }
                        None => warn_no_http_client($feature),
                    }
                    Self::from_conf(builder.interceptor(Governed::new(governor, $feature)).build())
                }
            }
        )*
    };
}
crate::clients::for_each_client!(governed);
