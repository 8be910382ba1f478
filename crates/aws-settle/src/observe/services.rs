//! [`Instrument`] for each service client behind its feature: the client's config is rebuilt with
//! the observer interceptor (replacing an earlier one) and its sleep wrapped in the backoff probe.

use super::Telemetry;
#[allow(unused_imports)]
use super::backoff::probe;
#[allow(unused_imports)]
use super::interceptor::{Observer, is_observer};

/// A service client that can report its calls to a [`Telemetry`].
pub trait Instrument: Sized {
    /// The same client (same config, credentials, endpoint, retry settings), reporting every call,
    /// attempt, throttle, retry with its exact backoff, and give-up to `telemetry`. Instrumenting
    /// an instrumented client moves it to the new telemetry instead of reporting twice.
    fn instrument(self, telemetry: &Telemetry) -> Self;
}

/// `client`, reporting to `telemetry`: see [`Instrument::instrument`].
///
/// ```no_run
/// # async fn f(sdk_config: aws_types::SdkConfig) {
/// use aws_settle::observe::{Telemetry, instrument};
/// let telemetry = Telemetry::new();
/// # #[cfg(feature = "ssm")] {
/// let ssm = instrument(aws_sdk_ssm::Client::new(&sdk_config), &telemetry);
/// telemetry.on("ssm:*:retry", |e| eprintln!("retry after {:?}", e.backoff())).unwrap();
/// # let _ = ssm; }
/// println!("{}", telemetry.report());
/// # }
/// ```
pub fn instrument<C: Instrument>(client: C, telemetry: &Telemetry) -> C {
    client.instrument(telemetry)
}

/// One [`Instrument`] impl per supported client ([`crate::clients`]).
macro_rules! instrumented {
    ($(($module:ident, $feature:literal, $sdk:ident)),* $(,)?) => {
        $(
            #[cfg(feature = $feature)]
            impl Instrument for $sdk::Client {
                fn instrument(self, telemetry: &Telemetry) -> Self {
                    let config = self.config();
                    let mut builder = config.to_builder();
                    builder.set_interceptors(config.interceptors().filter(|i| !is_observer(i)));
                    builder.set_sleep_impl(probe(config.sleep_impl()));
                    Self::from_conf(builder.interceptor(Observer::new(telemetry, $feature)).build())
                }
            }
        )*
    };
}
crate::clients::for_each_client!(instrumented);
