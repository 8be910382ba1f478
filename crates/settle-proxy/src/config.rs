//! Configuration: global settings (what the `settle proxy` flags set), overridden per
//! service and per operation. Loaded from TOML (or JSON over the control endpoint).
//!
//! ```toml
//! seed = 42
//! lag = "500ms..3s"          # every built-in write rule of every service
//! throttle = "50/s"          # one bucket per service
//! errors = 0.01              # share of requests answered 500/503
//! throttle_share = 0.2       # share of requests answered with the service's throttling error
//! latency = "20ms..80ms"
//! flap = "6@0.5"             # after a lag, the next 6 reads each see the old state at 50%
//!
//! [services.ssm]
//! lag = "exp:1s"
//! throttle = "10/s:20"
//!
//! [services.ssm.operations.PutParameter]
//! throttle = "3/s"           # an extra bucket for this operation
//! lag = "2s"
//!
//! [services.ssm.operations.GetParameter]
//! throttle = "40/s"          # AWS quotas are per API: GetParameter and PutParameter apart
//!
//! [services.s3]
//! prefix_reads = "5500/s"    # one bucket per bucket + key prefix for GET/HEAD ...
//! prefix_writes = "3500/s"   # ... and one for PUT/POST/DELETE, answered 503 SlowDown
//!
//! [services.dynamodb]
//! enabled = false            # pass DynamoDB through untouched
//! ```
//!
//! S3's request rates are per key prefix (everything up to the key's last `/`), so spreading
//! keys over prefixes helps on the proxy as it does on AWS.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lag::{Dist, Lag};
use crate::throttle::Throttle;
use crate::visibility::Flap;

/// The default limit on request bodies: 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;
/// The smallest `max_body_bytes` accepted.
pub const MIN_BODY: usize = 1024;

/// The keys of a [`Faults`] table.
const FAULT_KEYS: &[&str] = &[
    "lag",
    "throttle",
    "throttle_share",
    "errors",
    "latency",
    "flap",
    "enabled",
    "prefix_reads",
    "prefix_writes",
];
/// The keys of the top level besides [`FAULT_KEYS`].
const TOP_KEYS: &[&str] = &["seed", "services", "max_body_bytes", "record_params"];

/// Names the first key no level of the configuration knows (serde's `deny_unknown_fields`
/// does not work through `flatten`).
fn check_keys(value: &serde_json::Value) -> Result<(), ConfigError> {
    let unknown = |key: &str, at: &str, known: &[&[&str]]| {
        let known: Vec<&str> = known.iter().flat_map(|k| k.iter().copied()).collect();
        ConfigError::Invalid(format!("unknown key `{key}`{at}; known keys: {}", known.join(", ")))
    };
    let Some(top) = value.as_object() else { return Ok(()) };
    for (key, value) in top {
        if !FAULT_KEYS.contains(&key.as_str()) && !TOP_KEYS.contains(&key.as_str()) {
            return Err(unknown(key, "", &[FAULT_KEYS, TOP_KEYS]));
        }
        if key != "services" {
            continue;
        }
        for (service, table) in value.as_object().into_iter().flatten() {
            for (key, value) in table.as_object().into_iter().flatten() {
                if key != "operations" && !FAULT_KEYS.contains(&key.as_str()) {
                    return Err(unknown(
                        key,
                        &format!(" in services.{service}"),
                        &[FAULT_KEYS, &["operations"]],
                    ));
                }
                for (op, table) in value.as_object().into_iter().flatten().filter(|_| key == "operations") {
                    if let Some(key) = table
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| k)
                        .find(|k| !FAULT_KEYS.contains(&k.as_str()))
                    {
                        return Err(unknown(
                            key,
                            &format!(" in services.{service}.operations.{op}"),
                            &[FAULT_KEYS],
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value did not parse.
    #[error("{0}")]
    Invalid(String),
    /// The TOML file did not parse.
    #[error("config: {0}")]
    Toml(#[from] toml::de::Error),
    /// The JSON did not parse.
    #[error("config: {0}")]
    Json(#[from] serde_json::Error),
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Faults that apply to a scope (everything, a service, or one operation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Eventual-consistency lag after each write a built-in rule knows (`hold`: until released).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<Lag>,
    /// Token bucket (per service at global/service level, per operation at operation level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// Probability (0..=1) of answering a transient 500 or 503 instead of forwarding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<f64>,
    /// Probability (0..=1) of answering the service's own throttling error (SSM
    /// `ThrottlingException`, S3 `SlowDown`, EC2 `RequestLimitExceeded`…) instead of forwarding,
    /// whatever the rate: "20% of requests throttled".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_share: Option<f64>,
    /// Added latency before forwarding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dist>,
    /// After a lag ends, reads still flap between the old and the new state for this many
    /// reads (see [`Flap`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flap: Option<Flap>,
    /// `false` passes the scope through untouched (still recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// S3: a bucket per bucket and key prefix for reads (GET, HEAD); AWS: 5,500/s per prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_reads: Option<Throttle>,
    /// S3: a bucket per bucket and key prefix for writes (PUT, POST, DELETE); AWS: 3,500/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_writes: Option<Throttle>,
}

/// Per-service settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceConfig {
    /// The service's faults.
    #[serde(flatten)]
    pub faults: Faults,
    /// Per-operation overrides, by operation name (e.g. `PutParameter`, `HeadBucket`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, Faults>,
}

/// The whole proxy configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Seed for every random draw (lag, errors, latency). `None`: 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Global faults.
    #[serde(flatten)]
    pub faults: Faults,
    /// Per-service settings, by SigV4 signing name (`ssm`, `s3`, `dynamodb`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ServiceConfig>,
    /// Largest accepted request body; larger ones are answered 413.
    pub max_body_bytes: usize,
    /// Also record each request's parameters (secrets redacted) in the recording.
    pub record_params: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: None,
            faults: Faults::default(),
            services: BTreeMap::new(),
            max_body_bytes: DEFAULT_MAX_BODY,
            record_params: false,
        }
    }
}

/// The settings in force for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effective {
    /// Whether faults apply at all.
    pub enabled: bool,
    /// Lag for writes.
    pub lag: Option<Lag>,
    /// Transient error probability.
    pub errors: f64,
    /// Throttling error probability.
    pub throttle_share: f64,
    /// Added latency.
    pub latency: Option<Dist>,
    /// The service-level bucket spec.
    pub service_throttle: Option<Throttle>,
    /// The operation-level bucket spec.
    pub operation_throttle: Option<Throttle>,
    /// The per-prefix bucket spec of reads (S3).
    pub prefix_reads: Option<Throttle>,
    /// The per-prefix bucket spec of writes (S3).
    pub prefix_writes: Option<Throttle>,
    /// Flapping reads after the write's lag.
    pub flap: Option<Flap>,
}

impl Config {
    /// Parses TOML. Unknown keys, at any level, are errors that name them.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_value(toml::from_str(text)?)
    }

    /// Checks the keys of a parsed document, then reads and validates it.
    fn from_value(value: serde_json::Value) -> Result<Self, ConfigError> {
        check_keys(&value)?;
        let config: Config = serde_json::from_value(value)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work: an error share outside 0..=1, a body limit
    /// too small for any AWS request.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let scopes =
            std::iter::once(("", &self.faults)).chain(self.services.iter().flat_map(|(name, svc)| {
                std::iter::once((name.as_str(), &svc.faults))
                    .chain(svc.operations.iter().map(|(op, f)| (op.as_str(), f)))
            }));
        for (scope, faults) in scopes {
            for (name, share) in [("errors", faults.errors), ("throttle_share", faults.throttle_share)] {
                if let Some(share) = share
                    && !(0.0..=1.0).contains(&share)
                {
                    let at = if scope.is_empty() { String::new() } else { format!(" (in {scope})") };
                    return Err(ConfigError::Invalid(format!(
                        "{name} = {share}{at}: must be between 0 and 1"
                    )));
                }
            }
        }
        if self.max_body_bytes < MIN_BODY {
            return Err(ConfigError::Invalid(format!(
                "max_body_bytes = {}: must be at least {MIN_BODY}",
                self.max_body_bytes
            )));
        }
        Ok(())
    }

    /// Reads a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.display().to_string(), source })?;
        Self::from_toml(&text)
    }

    /// Parses JSON or TOML (whichever parses), for the control endpoint.
    pub fn from_text(text: &str) -> Result<Self, ConfigError> {
        if text.trim_start().starts_with('{') {
            Self::from_value(serde_json::from_str(text)?)
        } else {
            Self::from_toml(text)
        }
    }

    /// Applies the `settle proxy` flags on top of this configuration.
    pub fn with_flags(mut self, flags: &Flags) -> Result<Self, ConfigError> {
        if let Some(lag) = &flags.lag {
            self.faults.lag = Some(lag.parse()?);
        }
        if let Some(throttle) = &flags.throttle {
            self.faults.throttle = Some(throttle.parse()?);
        }
        if let Some(errors) = flags.errors {
            if !(0.0..=1.0).contains(&errors) {
                return Err(ConfigError::Invalid(format!("--errors {errors}: must be between 0 and 1")));
            }
            self.faults.errors = Some(errors);
        }
        if let Some(share) = flags.throttle_share {
            if !(0.0..=1.0).contains(&share) {
                return Err(ConfigError::Invalid(format!(
                    "--throttle-share {share}: must be between 0 and 1"
                )));
            }
            self.faults.throttle_share = Some(share);
        }
        if let Some(latency) = &flags.latency {
            self.faults.latency = Some(latency.parse()?);
        }
        if let Some(flap) = &flags.flap {
            self.faults.flap = Some(flap.parse()?);
        }
        if flags.seed.is_some() {
            self.seed = flags.seed;
        }
        self.validate()?;
        Ok(self)
    }

    /// A configuration with only a global lag (handy in tests).
    pub fn with_lag(lag: Lag) -> Self {
        Config { faults: Faults { lag: Some(lag), ..Faults::default() }, ..Config::default() }
    }

    /// Every lag rule holds its writes invisible until released: deterministic tests of what
    /// happens before a change is visible, whatever the machine's speed.
    pub fn held() -> Self {
        Self::with_lag(Lag::Hold)
    }

    /// This configuration, with reads flapping after every lag (see [`Flap`]).
    pub fn flapping(mut self, flap: Flap) -> Self {
        self.faults.flap = Some(flap);
        self
    }

    /// The settings for one service and operation: operation over service over global.
    pub fn effective(&self, service: &str, operation: &str) -> Effective {
        let svc = self.services.get(service);
        let op = svc.and_then(|s| s.operations.get(operation));
        let layers: [Option<&Faults>; 3] = [op, svc.map(|s| &s.faults), Some(&self.faults)];
        let pick = |f: fn(&Faults) -> Option<Dist>| layers.iter().flatten().find_map(|l| f(l));
        let lag = layers.iter().flatten().find_map(|l| l.lag);
        Effective {
            enabled: layers.iter().flatten().find_map(|l| l.enabled).unwrap_or(true),
            lag,
            latency: pick(|f| f.latency),
            errors: layers.iter().flatten().find_map(|l| l.errors).unwrap_or(0.0).clamp(0.0, 1.0),
            throttle_share: layers
                .iter()
                .flatten()
                .find_map(|l| l.throttle_share)
                .unwrap_or(0.0)
                .clamp(0.0, 1.0),
            service_throttle: svc.and_then(|s| s.faults.throttle).or(self.faults.throttle),
            operation_throttle: op.and_then(|o| o.throttle),
            prefix_reads: layers.iter().flatten().find_map(|l| l.prefix_reads),
            prefix_writes: layers.iter().flatten().find_map(|l| l.prefix_writes),
            flap: layers.iter().flatten().find_map(|l| l.flap),
        }
    }
}

/// The `settle proxy` flags in text form, parsed by [`Config::with_flags`].
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--lag 2s | 500ms..3s | exp:1s | hold`
    pub lag: Option<String>,
    /// `--throttle 5/s`
    pub throttle: Option<String>,
    /// `--errors 0.01`
    pub errors: Option<f64>,
    /// `--throttle-share 0.2`
    pub throttle_share: Option<f64>,
    /// `--latency 20ms..80ms`
    pub latency: Option<String>,
    /// `--seed N`
    pub seed: Option<u64>,
    /// `--flap 6@0.5`
    pub flap: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn flags_build_a_global_config() {
        let flags = Flags {
            lag: Some("500ms..3s".into()),
            throttle: Some("5/s".into()),
            errors: Some(0.01),
            throttle_share: None,
            latency: Some("20ms..80ms".into()),
            seed: Some(9),
            flap: Some("6@0.25".into()),
        };
        let config = Config::default().with_flags(&flags).unwrap();
        assert_eq!(
            config.faults.lag,
            Some(Dist::Uniform(Duration::from_millis(500), Duration::from_secs(3)).into())
        );
        assert_eq!(config.faults.throttle, Some(Throttle { rate: 5.0, burst: 5.0 }));
        assert_eq!(config.seed, Some(9));
        assert_eq!(config.faults.flap, Some(Flap { reads: 6, old: 0.25 }));
        assert!(
            Config::default().with_flags(&Flags { flap: Some("6@2".into()), ..Flags::default() }).is_err()
        );
        let exp = Config::default().with_flags(&Flags { lag: Some("exp:1s".into()), ..Flags::default() });
        assert_eq!(exp.unwrap().faults.lag, Some(Dist::Exponential(Duration::from_secs(1)).into()));
        let held = Config::default().with_flags(&Flags { lag: Some("hold".into()), ..Flags::default() });
        assert_eq!(held.unwrap().faults.lag, Some(Lag::Hold));
        assert_eq!(Config::from_toml("lag = \"hold\"").unwrap(), Config::held());
        assert!(Config::default().with_flags(&Flags { errors: Some(2.0), ..Flags::default() }).is_err());
        let share = Flags { throttle_share: Some(0.2), ..Flags::default() };
        assert_eq!(
            Config::default().with_flags(&share).unwrap().effective("ssm", "GetParameter").throttle_share,
            0.2
        );
        let share = Flags { throttle_share: Some(1.5), ..Flags::default() };
        assert!(
            Config::default().with_flags(&share).unwrap_err().to_string().contains("--throttle-share 1.5")
        );
        assert!(
            Config::default()
                .with_flags(&Flags { throttle: Some("fast".into()), ..Flags::default() })
                .is_err()
        );
    }

    #[test]
    fn toml_overrides_per_service_and_operation() {
        let config = Config::from_toml(
            r#"
            seed = 42
            lag = "1s"
            throttle = "50/s"
            [services.ssm]
            lag = "exp:2s"
            errors = 0.5
            [services.ssm.operations.PutParameter]
            throttle = "3/s"
            lag = "250ms"
            [services.s3]
            enabled = false
            [services.sqs]
            flap = "6"
            "#,
        )
        .unwrap();
        let put = config.effective("ssm", "PutParameter");
        assert_eq!(put.lag, Some(Dist::Fixed(Duration::from_millis(250)).into()));
        assert_eq!(put.operation_throttle, Some(Throttle { rate: 3.0, burst: 3.0 }));
        assert_eq!(put.service_throttle, Some(Throttle { rate: 50.0, burst: 50.0 }));
        assert_eq!(put.errors, 0.5);
        assert_eq!(
            config.effective("ssm", "DeleteParameter").lag,
            Some(Dist::Exponential(Duration::from_secs(2)).into())
        );
        assert_eq!(
            config.effective("iam", "CreateRole").lag,
            Some(Dist::Fixed(Duration::from_secs(1)).into())
        );
        assert!(!config.effective("s3", "PutObject").enabled);
        assert_eq!(config.effective("sqs", "SetQueueAttributes").flap, Some(Flap { reads: 6, old: 0.5 }));
        assert_eq!(config.effective("ssm", "PutParameter").flap, None);
        // JSON round trip, as the control endpoint serves it.
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(Config::from_text(&json).unwrap(), config);
        assert!(Config::from_toml("lag = 3").is_err());
    }

    #[test]
    fn unknown_keys_and_values_that_cannot_work_are_errors_in_toml_and_json() {
        let err = |text: &str| Config::from_text(text).unwrap_err().to_string();
        assert!(err("lagg = \"1s\"").contains("unknown key `lagg`"), "{}", err("lagg = \"1s\""));
        assert!(err("[services.ssm]\nlagg = \"1s\"").contains("`lagg` in services.ssm"));
        let op = "[services.ssm.operations.PutParameter]\nlagg = \"1s\"";
        assert!(err(op).contains("`lagg` in services.ssm.operations.PutParameter"), "{}", err(op));
        assert!(err(r#"{"services": {"s3": {"enable": false}}}"#).contains("`enable` in services.s3"));
        assert!(err(r#"{"errors": 2}"#).contains("errors = 2: must be between 0 and 1"));
        assert!(err("[services.ssm]\nerrors = -1.0").contains("(in ssm)"));
        assert!(err("throttle_share = 1.2").contains("throttle_share = 1.2: must be between 0 and 1"));
        assert!(err("max_body_bytes = 0").contains("at least 1024"));
        assert!(
            err("flap = \"6@1.5\"").contains("CHANCE must be between 0 and 1"),
            "{}",
            err("flap = \"6@1.5\"")
        );
        assert!(err("flap = \"2000\"").contains("READS must be at most 1000"));
        assert!(err("flap = \"many\"").contains("expected READS@CHANCE"));
        assert!(
            Config::from_text(
                r#"{"lag": "hold", "services": {"ssm": {"operations": {"PutParameter": {"lag": "1s"}}}}}"#
            )
            .is_ok()
        );
    }
}
