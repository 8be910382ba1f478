//! The table-driven pitfall test: for each rule, the naive sequence fails under lag and the
//! settled one succeeds.

use std::future::Future;
use std::pin::Pin;

use aws_settle::post::{Attach, SettleExt};

use crate::{LAG, Lagged};

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

/// Runs every scenario concurrently through a lagging proxy: on resource A the naive sequence
/// (plain write, immediate read) must not see the change; on resource B the settled write must
/// be readable at once. Fails listing every scenario that did not behave.
pub async fn run<C>(new: fn(&aws_types::SdkConfig) -> C, name: fn() -> String, scenarios: Vec<Scenario<C>>)
where
    C: Attach + Clone + Send + Sync + 'static,
{
    let env = Lagged::new(LAG);
    let (plain, settled) = env.clients(new);
    let runs = scenarios.iter().map(|s| {
        let (plain, settled, naive_name, settled_name) = (plain.clone(), settled.clone(), name(), name());
        async move {
            (s.setup)(settled.clone(), naive_name.clone()).await;
            (s.setup)(settled.clone(), settled_name.clone()).await;
            let mut failures = Vec::new();
            (s.write)(plain.clone(), naive_name.clone(), false).await;
            if (s.visible)(plain.clone(), naive_name).await {
                failures.push(format!("{}: the naive sequence saw the change at once (no pitfall)", s.rule));
            }
            (s.write)(settled, settled_name.clone(), true).await;
            if !(s.visible)(plain, settled_name).await {
                failures.push(format!("{}: the settled write was not visible afterwards", s.rule));
            }
            failures
        }
    });
    let failures: Vec<String> = futures_util::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{} scenario(s) misbehaved:\n{}", failures.len(), failures.join("\n"));
    let stats = env.enforcer.stats();
    assert_eq!((stats.checks_failed, stats.pending), (0, 0), "{stats:?}");
    assert!(stats.unchecked.is_empty(), "every write of the scenarios has a rule: {stats:?}");
    assert!(stats.checks_passed as usize >= scenarios.len(), "{stats:?}");
    assert!(env.proxy.counters().served_from_snapshot > 0, "the proxy's lag was exercised");
}
