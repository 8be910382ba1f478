//! [`ClientCacheKey`]: what makes two SDK clients different, as a plain value.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use aws_smithy_types::retry::{RetryConfig, RetryMode};
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::SdkConfig;

/// An explicit, deterministic key for one SDK client configuration.
///
/// Two keys are equal exactly when every part set on them is equal: service, region, endpoint
/// URL, credentials *identity*, retry and timeout settings, behavior version marker, the layers
/// on the client (an [attached](Self::attached) enforcer, an [instrumenting](Self::instrumented)
/// telemetry), S3's [path style](Self::force_path_style) and the free-form extras (kept sorted,
/// so the order they were set in does not matter).
///
/// A key describes what its builder builds: key a client with an enforcer attached
/// `.attached(..)` and an instrumented one `.instrumented(..)`, so that the plain client of the
/// same configuration is another entry and never comes back where one of them was asked for.
///
/// The identity is a name the caller chooses for the credentials (a profile, a role, an access
/// key id), never the secret key or session token: a key holds no secret, and its `Display`
/// (a stable canonical string) and `Debug` print only what was set on it.
///
/// ```
/// use aws_settle::cache::ClientCacheKey;
///
/// let a = ClientCacheKey::new("ssm").region("us-east-1").identity("role/deployer").with("app", "x").with("env", "prod");
/// let b = ClientCacheKey::new("ssm").with("env", "prod").identity("role/deployer").with("app", "x").region("us-east-1");
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), r#"service="ssm" region="us-east-1" identity="role/deployer" +"app"="x" +"env"="prod""#);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientCacheKey {
    service: String,
    region: Option<String>,
    endpoint: Option<String>,
    identity: Option<String>,
    retry: Option<RetryKey>,
    timeouts: Option<TimeoutKey>,
    behavior_version: Option<String>,
    attached: Option<String>,
    instrumented: Option<String>,
    force_path_style: Option<bool>,
    extra: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct RetryKey {
    mode: &'static str,
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct TimeoutKey {
    connect: Option<Duration>,
    read: Option<Duration>,
    operation: Option<Duration>,
    operation_attempt: Option<Duration>,
}

impl ClientCacheKey {
    /// A key for a client of `service` (e.g. `"ssm"`), with nothing else set yet.
    pub fn new(service: impl Into<String>) -> Self {
        ClientCacheKey {
            service: service.into(),
            region: None,
            endpoint: None,
            identity: None,
            retry: None,
            timeouts: None,
            behavior_version: None,
            attached: None,
            instrumented: None,
            force_path_style: None,
            extra: BTreeMap::new(),
        }
    }

    /// The key of a `service` client built from `config`, for the credentials named `identity`.
    ///
    /// Reads the region, endpoint URL, retry config, timeout config and behavior version of
    /// `config`; never its credentials (`identity` names them instead).
    ///
    /// ```
    /// # use aws_settle::cache::ClientCacheKey;
    /// use aws_types::{SdkConfig, region::Region};
    ///
    /// let config = SdkConfig::builder().region(Region::new("eu-west-1")).build();
    /// let key = ClientCacheKey::from_sdk_config("ssm", &config, "profile/dev");
    /// assert_eq!(key, ClientCacheKey::new("ssm").region("eu-west-1").identity("profile/dev"));
    /// ```
    pub fn from_sdk_config(service: impl Into<String>, config: &SdkConfig, identity: &str) -> Self {
        let mut key = ClientCacheKey::new(service).identity(identity);
        if let Some(region) = config.region() {
            key = key.region(region.as_ref());
        }
        if let Some(endpoint) = config.endpoint_url() {
            key = key.endpoint(endpoint);
        }
        if let Some(retry) = config.retry_config() {
            key = key.retry_config(retry);
        }
        if let Some(timeouts) = config.timeout_config() {
            key = key.timeout_config(timeouts);
        }
        if let Some(version) = config.behavior_version() {
            // `BehaviorVersion(V2025_08_07)`: the inner name is the only public view of it.
            let debug = format!("{version:?}");
            let marker = debug.strip_prefix("BehaviorVersion(").and_then(|s| s.strip_suffix(')'));
            key = key.behavior_version(marker.unwrap_or(&debug));
        }
        key
    }

    /// Sets the region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the endpoint URL override.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Names the credentials: a profile or role name, or an access key id. Never a secret.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }

    /// Sets the retry settings: mode, max attempts, initial and max backoff.
    pub fn retry_config(mut self, retry: &RetryConfig) -> Self {
        let mode = match retry.mode() {
            RetryMode::Standard => "standard",
            RetryMode::Adaptive => "adaptive",
            _ => "other",
        };
        self.retry = Some(RetryKey {
            mode,
            max_attempts: retry.max_attempts(),
            initial_backoff: retry.initial_backoff(),
            max_backoff: retry.max_backoff(),
        });
        self
    }

    /// Sets the timeouts: connect, read, operation and operation attempt.
    pub fn timeout_config(mut self, timeouts: &TimeoutConfig) -> Self {
        self.timeouts = Some(TimeoutKey {
            connect: timeouts.connect_timeout(),
            read: timeouts.read_timeout(),
            operation: timeouts.operation_timeout(),
            operation_attempt: timeouts.operation_attempt_timeout(),
        });
        self
    }

    /// Sets the behavior version marker (e.g. `"V2025_08_07"`, or any name of the caller's).
    pub fn behavior_version(mut self, marker: impl Into<String>) -> Self {
        self.behavior_version = Some(marker.into());
        self
    }

    /// Says the client has an enforcer attached ([`post::attach`](crate::post::attach)), named
    /// `enforcer` (a name of the caller's for that enforcer: one per program is typical).
    ///
    /// ```
    /// # use aws_settle::cache::ClientCacheKey;
    /// let plain = ClientCacheKey::new("ssm").region("us-east-1");
    /// assert_ne!(plain, plain.clone().attached("default"));
    /// assert_ne!(plain, plain.clone().instrumented("jobs"));
    /// assert_ne!(plain, plain.clone().force_path_style(true));
    /// ```
    pub fn attached(mut self, enforcer: impl Into<String>) -> Self {
        self.attached = Some(enforcer.into());
        self
    }

    /// Says the client is instrumented ([`observe::instrument`](crate::observe::instrument)),
    /// reporting to the telemetry named `telemetry` (a name of the caller's).
    pub fn instrumented(mut self, telemetry: impl Into<String>) -> Self {
        self.instrumented = Some(telemetry.into());
        self
    }

    /// Sets S3's `force_path_style` (`bucket` in the path rather than the host name): two S3
    /// clients that differ only in it address buckets differently.
    pub fn force_path_style(mut self, force: bool) -> Self {
        self.force_path_style = Some(force);
        self
    }

    /// Adds a free-form part `k = v` (an app name, a custom interceptor set...). Setting `k`
    /// again replaces its value.
    pub fn with(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.extra.insert(k.into(), v.into());
        self
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }
}

fn duration(d: &Option<Duration>) -> String {
    d.map_or_else(|| "none".to_owned(), |d| format!("{d:?}"))
}

/// The canonical string: fixed field order, only the parts set, string values quoted and escaped,
/// extras sorted and prefixed with `+`. Equal keys print equal strings and different keys
/// different ones.
impl fmt::Display for ClientCacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service={:?}", self.service)?;
        for (name, value) in
            [("region", &self.region), ("endpoint", &self.endpoint), ("identity", &self.identity)]
        {
            if let Some(value) = value {
                write!(f, " {name}={value:?}")?;
            }
        }
        if let Some(r) = &self.retry {
            write!(f, " retry={},{},{:?},{:?}", r.mode, r.max_attempts, r.initial_backoff, r.max_backoff)?;
        }
        if let Some(t) = &self.timeouts {
            write!(
                f,
                " timeouts=connect:{},read:{},operation:{},attempt:{}",
                duration(&t.connect),
                duration(&t.read),
                duration(&t.operation),
                duration(&t.operation_attempt)
            )?;
        }
        if let Some(version) = &self.behavior_version {
            write!(f, " behavior={version:?}")?;
        }
        if let Some(enforcer) = &self.attached {
            write!(f, " attached={enforcer:?}")?;
        }
        if let Some(telemetry) = &self.instrumented {
            write!(f, " instrumented={telemetry:?}")?;
        }
        if let Some(force) = self.force_path_style {
            write!(f, " force_path_style={force}")?;
        }
        for (k, v) in &self.extra {
            write!(f, " +{k:?}={v:?}")?;
        }
        Ok(())
    }
}

/// `ClientCacheKey(<the canonical string>)`.
impl fmt::Debug for ClientCacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientCacheKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_types::region::Region;

    #[test]
    fn the_order_options_are_set_in_does_not_matter() {
        let a = ClientCacheKey::new("ssm").with("b", "2").region("us-east-1").with("a", "1");
        let b = ClientCacheKey::new("ssm").with("a", "1").with("b", "2").region("us-east-1");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(a.to_string(), r#"service="ssm" region="us-east-1" +"a"="1" +"b"="2""#);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
    }

    #[test]
    fn each_part_makes_a_different_key() {
        let base = ClientCacheKey::new("ssm").region("us-east-1").endpoint("http://a").identity("role/a");
        let variants = [
            ClientCacheKey::new("s3").region("us-east-1").endpoint("http://a").identity("role/a"),
            base.clone().region("eu-west-1"),
            base.clone().endpoint("http://b"),
            ClientCacheKey::new("ssm").region("us-east-1").identity("role/a"),
            base.clone().identity("role/b"),
            base.clone().retry_config(&RetryConfig::standard().with_max_attempts(5)),
            base.clone()
                .timeout_config(&TimeoutConfig::builder().connect_timeout(Duration::from_secs(1)).build()),
            base.clone().behavior_version("V2025_08_07"),
            base.clone().attached("default"),
            base.clone().attached("other"),
            base.clone().instrumented("default"),
            base.clone().force_path_style(true),
            base.clone().force_path_style(false),
            base.clone().with("app", "x"),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(&base, v, "variant {i}");
            assert_ne!(base.to_string(), v.to_string(), "variant {i}");
            for (j, w) in variants.iter().enumerate().skip(i + 1) {
                assert_ne!(v, w, "variants {i} and {j}");
                assert_ne!(v.to_string(), w.to_string(), "variants {i} and {j}");
            }
        }
    }

    #[test]
    fn display_is_unambiguous_when_values_hold_separators() {
        let a = ClientCacheKey::new("ssm").with("a", "1\" +\"b\"=\"2");
        let b = ClientCacheKey::new("ssm").with("a", "1").with("b", "2");
        assert_ne!(a.to_string(), b.to_string());
        let c = ClientCacheKey::new("ssm").with("region", "us-east-1");
        assert_ne!(c.to_string(), ClientCacheKey::new("ssm").region("us-east-1").to_string());
    }

    #[test]
    fn from_sdk_config_equals_the_builder_form() {
        let retry = RetryConfig::adaptive().with_max_attempts(7);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(3100))
            .operation_timeout(Duration::from_secs(30))
            .build();
        let config = SdkConfig::builder()
            .region(Region::new("eu-central-1"))
            .endpoint_url("http://127.0.0.1:4566")
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
            .build();
        let from_config = ClientCacheKey::from_sdk_config("ssm", &config, "role/deployer");
        let built = ClientCacheKey::new("ssm")
            .identity("role/deployer")
            .behavior_version(from_config.behavior_version.clone().expect("a behavior version"))
            .timeout_config(&timeouts)
            .retry_config(&retry)
            .endpoint("http://127.0.0.1:4566")
            .region("eu-central-1");
        assert_eq!(from_config, built);
        assert_eq!(from_config.to_string(), built.to_string());
        let marker = from_config.behavior_version.as_deref().unwrap();
        assert!(marker.starts_with('V') && !marker.contains('('), "{marker}");
        // The same config read twice gives the same key.
        assert_eq!(from_config, ClientCacheKey::from_sdk_config("ssm", &config, "role/deployer"));
    }

    #[test]
    fn a_key_from_a_config_with_credentials_prints_no_secret() {
        let config = settle_emulator::sdk_config("http://127.0.0.1:1");
        let key = ClientCacheKey::from_sdk_config("ssm", &config, settle_emulator::ACCESS_KEY_ID);
        for printed in [key.to_string(), format!("{key:?}"), format!("{key:#?}")] {
            assert!(!printed.contains(settle_emulator::SECRET_ACCESS_KEY), "{printed}");
            assert!(printed.contains(settle_emulator::ACCESS_KEY_ID), "{printed}");
            assert!(printed.contains("http://127.0.0.1:1"), "{printed}");
        }
    }
}
