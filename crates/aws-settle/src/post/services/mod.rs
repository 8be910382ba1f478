//! Per-service post-condition tables: which operations mutate, and how each is read back.
//!
//! One file per service feature. Each holds a `table()`: the operations that only read, and rows
//! `rule(operation, what it checks, build)`, where `build` turns the write's typed input and
//! output into read-back checks; and the [`Attach`](super::Attach) impl for that service's client
//! (generated from the client list, `crate::clients`).

use std::sync::Arc;

use super::Enforcer;
use super::check::Check;
use super::recorder::Recorder;
#[allow(unused_imports)]
pub(crate) use super::recorder::is_recorder;
use super::rule::{Coverage, Rule, Table};
use crate::wait::{Delays, Waiter};

// Which tag changes are constructed depends on the service features enabled.
#[cfg(feature = "tagging")]
#[allow(dead_code)]
pub(crate) mod tagging;

/// Attaches `enforcer` to a client given as its config `builder` (already stripped of earlier
/// recorders, so attaching again moves the client to the new enforcer instead of recording twice):
/// the reader client is built from the builder as it is, the returned client adds the recorder.
#[allow(dead_code)]
pub(crate) fn attach_to<C: Send + Sync + 'static, B: Clone>(
    builder: B,
    build: impl Fn(B) -> C,
    add: impl FnOnce(B, Recorder<C>) -> B,
    table: Table<C>,
    enforcer: &Enforcer,
) -> C {
    let reader = build(builder.clone());
    let recorder = Recorder { reader, table: Arc::new(table), enforcer: enforcer.clone() };
    build(add(builder, recorder))
}

/// Per supported client ([`crate::clients`]): its table module, its [`Attach`](super::Attach)
/// impl and its rows in [`coverage`].
macro_rules! services {
    ($(($module:ident, $feature:literal, $sdk:ident)),* $(,)?) => {
        $(
            #[cfg(feature = $feature)]
            pub(crate) mod $module;

            #[cfg(feature = $feature)]
            impl super::Attach for $sdk::Client {
                fn attach(self, enforcer: &Enforcer) -> Self {
                    let mut builder = self.config().to_builder();
                    builder.set_interceptors(self.config().interceptors().filter(|i| !is_recorder(i)));
                    let build = |b: $sdk::config::Builder| $sdk::Client::from_conf(b.build());
                    attach_to(builder, build, |b, recorder| b.interceptor(recorder), $module::table(), enforcer)
                }
            }
        )*

        /// Every operation the enabled service features cover.
        pub fn coverage() -> Vec<Coverage> {
            #[allow(unused_mut)]
            let mut all = Vec::new();
            $(
                #[cfg(feature = $feature)]
                all.extend($module::table().coverage());
            )*
            all
        }
    };
}
crate::clients::for_each_client!(services);

/// A built-in table row (see [`Rule::new`]).
#[allow(dead_code)]
pub(crate) fn rule<C: 'static, I, O>(
    operation: &'static str,
    checks: &'static str,
    build: fn(&C, &I, &O) -> Vec<Check>,
) -> Arc<Rule<C>>
where
    I: Clone + std::fmt::Debug + Send + Sync + 'static,
    O: std::fmt::Debug + Send + Sync + 'static,
{
    Arc::new(Rule::new(operation, checks, build))
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

/// Policies compare as JSON when both parse (services may re-serialize them), else as text.
#[allow(dead_code)]
pub(crate) fn same_json(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
