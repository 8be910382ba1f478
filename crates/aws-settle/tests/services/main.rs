//! Real round-trips through the real `aws-sdk-*` clients against moto.
//!
//! One module per service feature; every test talks HTTP to the shared moto
//! server of this process (see `settle-testbed`).

mod secretsmanager;
mod ssm;

/// An `SdkConfig` pointed at this process's moto server.
pub fn moto_config() -> aws_types::SdkConfig {
    settle_testbed::sdk_config(&settle_testbed::shared_moto().endpoint())
}
