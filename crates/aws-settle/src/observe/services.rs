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

#[cfg(feature = "ssm")]
impl Instrument for aws_sdk_ssm::Client {
    fn instrument(self, telemetry: &Telemetry) -> Self {
        let config = self.config();
        let mut builder = config.to_builder();
        builder.set_interceptors(config.interceptors().filter(|i| !is_observer(i)));
        builder.set_sleep_impl(probe(config.sleep_impl()));
        Self::from_conf(builder.interceptor(Observer::new(telemetry, "ssm")).build())
    }
}

#[cfg(feature = "secretsmanager")]
impl Instrument for aws_sdk_secretsmanager::Client {
    fn instrument(self, telemetry: &Telemetry) -> Self {
        let config = self.config();
        let mut builder = config.to_builder();
        builder.set_interceptors(config.interceptors().filter(|i| !is_observer(i)));
        builder.set_sleep_impl(probe(config.sleep_impl()));
        Self::from_conf(builder.interceptor(Observer::new(telemetry, "secretsmanager")).build())
    }
}

#[cfg(feature = "s3")]
impl Instrument for aws_sdk_s3::Client {
    fn instrument(self, telemetry: &Telemetry) -> Self {
        let config = self.config();
        let mut builder = config.to_builder();
        builder.set_interceptors(config.interceptors().filter(|i| !is_observer(i)));
        builder.set_sleep_impl(probe(config.sleep_impl()));
        Self::from_conf(builder.interceptor(Observer::new(telemetry, "s3")).build())
    }
}

#[cfg(feature = "iam")]
impl Instrument for aws_sdk_iam::Client {
    fn instrument(self, telemetry: &Telemetry) -> Self {
        let config = self.config();
        let mut builder = config.to_builder();
        builder.set_interceptors(config.interceptors().filter(|i| !is_observer(i)));
        builder.set_sleep_impl(probe(config.sleep_impl()));
        Self::from_conf(builder.interceptor(Observer::new(telemetry, "iam")).build())
    }
}

#[cfg(feature = "dynamodb")]
impl Instrument for aws_sdk_dynamodb::Client {
    fn instrument(self, telemetry: &Telemetry) -> Self {
        let config = self.config();
        let mut builder = config.to_builder();
        builder.set_interceptors(config.interceptors().filter(|i| !is_observer(i)));
        builder.set_sleep_impl(probe(config.sleep_impl()));
        Self::from_conf(builder.interceptor(Observer::new(telemetry, "dynamodb")).build())
    }
}
