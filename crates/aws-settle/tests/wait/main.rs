//! Integration tests of the `wait` engine: the conformance table, delays in virtual time, the
//! JMESPath compliance suite, botocore models, and real waits against moto.

mod conformance;
mod delays;
mod dynamodb;
mod engine;
mod jmespath_compliance;
mod models;
mod s3;
mod ssm;

use std::path::PathBuf;

/// `tests/data/<rest>` of this crate.
pub fn data(rest: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rest)
}

/// An `SdkConfig` pointed at this process's moto server.
pub fn moto_config() -> aws_types::SdkConfig {
    settle_testbed::sdk_config(&settle_testbed::shared_moto().endpoint())
}
