//! Per-service post-condition tables: which operations mutate, and how each is read back.
//!
//! One file per service feature. Each holds a `table()` of rows `rule(operation, what it checks,
//! build)`, where `build` turns the write's typed input and output into read-back checks, and the
//! [`Attach`](super::Attach) impl for that service's client.

use std::sync::Arc;

use super::Enforcer;
use super::recorder::Recorder;
use super::rule::Table;
use crate::wait::{Delays, Waiter};

#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "iam")]
pub mod iam;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "secretsmanager")]
pub mod secretsmanager;
#[cfg(feature = "ssm")]
pub mod ssm;
// Which tag changes are constructed depends on the service features enabled.
#[cfg(feature = "tagging")]
#[allow(dead_code)]
pub(crate) mod tagging;

/// The interceptor to add to a client's config: records into `enforcer`, reads back with `client`.
#[allow(dead_code)]
pub(crate) fn recorder<C: Clone>(client: &C, table: Table<C>, enforcer: &Enforcer) -> Recorder<C> {
    Recorder { reader: client.clone(), table: Arc::new(table), enforcer: enforcer.clone() }
}

/// A waiter for a read-back; its delays are set when the check runs.
#[allow(dead_code)]
pub(crate) fn waiter<O>() -> Waiter<O> {
    Waiter::new(Delays::default())
}

/// Whether every `(key, value)` of `wanted` is among `present`.
#[allow(dead_code)]
pub(crate) fn has_tags<'a>(
    present: impl IntoIterator<Item = (&'a str, &'a str)>,
    wanted: &[(String, String)],
) -> bool {
    let present: Vec<(&str, &str)> = present.into_iter().collect();
    wanted.iter().all(|(k, v)| present.contains(&(k.as_str(), v.as_str())))
}

/// Whether none of `keys` is among `present`.
#[allow(dead_code)]
pub(crate) fn lacks_keys<'a>(present: impl IntoIterator<Item = &'a str>, keys: &[String]) -> bool {
    let present: Vec<&str> = present.into_iter().collect();
    keys.iter().all(|k| !present.contains(&k.as_str()))
}

/// `k=v, k=v` for messages.
#[allow(dead_code)]
pub(crate) fn show_tags(tags: &[(String, String)]) -> String {
    tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}
