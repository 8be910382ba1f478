//! The `wait` engine without any AWS service crate: the conformance table, delays in virtual
//! time, the JMESPath compliance suite, botocore models. Runs with no cargo feature
//! (`cargo test -p aws-settle`); the waits against moto are in `tests/wait` (`--features full`).

mod conformance;
mod delays;
mod hostile;
mod jmespath_compliance;
mod models;
mod poll;
mod props;

use std::path::PathBuf;

/// `tests/data/<rest>` of this crate.
pub fn data(rest: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rest)
}
