//! Post-conditions through the real `aws-sdk-*` clients against moto (through settle-proxy with
//! lag where a test says so).

mod plumbing;

/// An `SdkConfig` pointed at this process's moto server, straight (no proxy).
pub fn moto_config() -> aws_types::SdkConfig {
    settle_testbed::sdk_config(&settle_testbed::shared_moto().endpoint())
}
