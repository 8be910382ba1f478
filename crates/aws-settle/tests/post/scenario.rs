//! The table-driven pitfall test: for each rule, the naive sequence fails under lag and the
//! settled one succeeds.

use std::future::Future;
use std::pin::Pin;

use aws_settle::post::{Attach, SettleExt};

use aws_settle::post::Enforcer;

use crate::Held;

/// A boxed future: scenario steps are plain `fn` pointers, so a table can hold them.
pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Boxes a step's future (lets a non-capturing closure coerce to the step's `fn` type).
pub fn bx<T>(future: impl Future<Output = T> + Send + 'static) -> BoxFut<T> {
    Box::pin(future)
}

/// One rule's scenario over resources named by the service's name function.
pub struct Scenario<C> {
    /// The rule, as in the README's coverage table.
    pub rule: &'static str,
    /// Makes the resource the write needs (with the attached client, settled).
    pub setup: fn(C, String) -> BoxFut<()>,
    /// The write under test; `true` means `.settled()`.
    pub write: fn(C, String, bool) -> BoxFut<()>,
    /// The dependent read, on a plain client: whether the write's change is visible (the value
    /// read back is what it must be).
    pub visible: fn(C, String) -> BoxFut<bool>,
}

/// No setup.
pub fn nothing<C>(_: C, _: String) -> BoxFut<()> {
    bx(async {})
}

/// Awaits an SDK call, settled or not, and panics with its error.
pub async fn send<T, E: std::fmt::Debug>(call: impl Future<Output = Result<T, E>>, settle: bool) -> T {
    if settle { call.settled().await.unwrap() } else { call.await.unwrap() }
}

/// Runs every scenario, one after the other, through a proxy that holds writes invisible until
/// released, with setups made straight on moto:
/// - on resource A the naive sequence (plain write, then read) must not see the change: held, it
///   cannot;
/// - on resource B the settled write must not return before the proxy releases it, which the
///   test does only after two read-backs were answered from the pre-write state; once it returns
///   the change must be readable.
///
/// Fails listing every scenario that did not behave. No assertion depends on time.
pub async fn run<C>(new: fn(&aws_types::SdkConfig) -> C, name: fn() -> String, scenarios: Vec<Scenario<C>>)
where
    C: Attach + Clone + Send + Sync + 'static,
{
    run_in(Held::new(), new, name, scenarios).await
}

/// As [`run`], in `env` (e.g. one whose enforcer polls faster, for rules that need several
/// matching reads in a row).
pub async fn run_in<C>(
    env: Held,
    new: fn(&aws_types::SdkConfig) -> C,
    name: fn() -> String,
    scenarios: Vec<Scenario<C>>,
) where
    C: Attach + Clone + Send + Sync + 'static,
{
    let plain = new(&env.config);
    let settled = aws_settle::post::attach(plain.clone(), &env.enforcer);
    // Setups settle with the scenario enforcer's options (fast polls stay fast).
    let setup_enforcer = Enforcer::builder().with_options(env.enforcer.options().clone()).build();
    let direct = aws_settle::post::attach(new(&settle_emulator::moto_sdk_config()), &setup_enforcer);
    let mut failures = Vec::new();
    for s in &scenarios {
        let (naive_name, settled_name) = (name(), name());
        (s.setup)(direct.clone(), naive_name.clone()).await;
        (s.setup)(direct.clone(), settled_name.clone()).await;
        (s.write)(plain.clone(), naive_name.clone(), false).await;
        if (s.visible)(plain.clone(), naive_name).await {
            failures.push(format!("{}: the naive sequence saw a held change (no pitfall)", s.rule));
        }
        let release = env.release_after_blocked_reads(2);
        (s.write)(settled.clone(), settled_name.clone(), true).await;
        if !release.is_finished() {
            failures.push(format!("{}: the settled write returned while its change was held", s.rule));
        }
        release.abort();
        env.proxy.release_all();
        if !(s.visible)(plain.clone(), settled_name).await {
            failures.push(format!("{}: the settled write was not visible afterwards", s.rule));
        }
    }
    assert!(failures.is_empty(), "{} scenario(s) misbehaved:\n{}", failures.len(), failures.join("\n"));
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_failed, stats.pending), (0, 0), "{stats:?}");
    assert!(stats.unchecked.is_empty(), "every write of the scenarios has a rule: {stats:?}");
    assert!(stats.checks_passed as usize >= scenarios.len(), "{stats:?}");
}
