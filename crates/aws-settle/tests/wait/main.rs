//! Real waits against moto through the AWS SDK (features `ssm`, `dynamodb`, `s3`, `secretsmanager`). The engine's
//! own tests, which need no service crate, are in `tests/engine`.

mod botocore_models;
mod dynamodb;
mod s3;
mod secretsmanager;
mod ssm;

use std::path::PathBuf;

/// `tests/data/<rest>` of this crate.
pub fn data(rest: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rest)
}
