//! What the `services_*` tests share: a proxy in front of moto, held or throttled, and an SDK
//! config pointed at it.
//!
//! Each `services_*` binary uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use aws_smithy_types::retry::RetryConfig;
use settle_emulator::{proxy_in_front_of_moto, sdk_config};
use settle_proxy::{Config, Faults, ProxyHandle};

/// Every lagged write held invisible until released.
pub fn held() -> (ProxyHandle, aws_types::SdkConfig) {
    let proxy = proxy_in_front_of_moto(Config::held());
    let config = sdk_config(&proxy.endpoint());
    (proxy, config)
}

/// One token, never refilled in a test's time: the first call passes, the next is throttled;
/// the SDK's standard retry makes 3 attempts, 10 ms apart at first.
pub fn throttled() -> (ProxyHandle, aws_types::SdkConfig) {
    let throttle = Faults { throttle: Some("1/h:1".parse().unwrap()), ..Faults::default() };
    let proxy = proxy_in_front_of_moto(Config { faults: throttle, ..Config::default() });
    let retry = RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(10));
    let config = sdk_config(&proxy.endpoint()).to_builder().retry_config(retry).build();
    (proxy, config)
}

/// How many times the proxy throttled `service:Operation`: 3 when the SDK classified the
/// answer as throttling and retried it (a non-retryable 400 is attempted once).
pub fn throttled_attempts(proxy: &ProxyHandle, operation: &str) -> Option<u64> {
    proxy.counters().throttled_per_operation.get(operation).copied()
}
