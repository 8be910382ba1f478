//! The [`Enforcer`]: where recorded writes go, and the awaited steps that settle them.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::check::{Check, SettleError, Unsettled, settle_all};

/// At most this many writes wait in the enforcer outside any settle step; older ones are
/// dropped (and counted in [`Stats::dropped`]).
const PENDING_LIMIT: usize = 10_000;

tokio::task_local! {
    /// The collector of the innermost `settled()` or `scope()` around the current task.
    static COLLECTOR: Collector;
}

/// Checks recorded during one `settled()` or `scope()`.
#[derive(Clone, Default)]
struct Collector {
    checks: Arc<Mutex<Vec<Check>>>,
}

impl Collector {
    fn take(&self) -> Vec<Check> {
        std::mem::take(&mut *lock(&self.checks))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What an enforcer has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Writes whose read-back succeeded.
    pub settled: u64,
    /// Writes whose read-back failed or timed out.
    pub not_settled: u64,
    /// Mutating operations without a rule (or with inputs no rule checks), by
    /// `service:Operation`: they passed through untouched and were *not* settled.
    pub unchecked: BTreeMap<String, u64>,
    /// Writes recorded outside any settle step, waiting for [`Enforcer::settle_pending`].
    pub pending: usize,
    /// Pending writes dropped because more than 10,000 were waiting.
    pub dropped: u64,
}

/// The counters a check updates when it ends. Checks hold this, not the enforcer, so pending
/// checks kept in the enforcer form no reference cycle with it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<Mutex<Stats>>);

impl Counter {
    /// Counts the outcome of one check.
    pub(crate) fn count(&self, settled: bool) {
        let mut stats = lock(&self.0);
        if settled {
            stats.settled += 1;
        } else {
            stats.not_settled += 1;
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    timeout: Option<Duration>,
    #[cfg(feature = "tagging")]
    view: Option<super::rule::ViewClient>,
    stats: Counter,
    pending: Mutex<VecDeque<Check>>,
}

/// Records the writes of every client it is [attached](super::attach) to and settles them.
///
/// Cheap to clone (an `Arc`); one per program is typical.
#[derive(Debug, Clone, Default)]
pub struct Enforcer {
    inner: Arc<Inner>,
}

impl Enforcer {
    /// An enforcer whose checks use each rule's default bound (2 minutes for most).
    pub fn new() -> Self {
        Self::default()
    }

    /// An enforcer whose checks all wait at most `timeout` (unless a call says otherwise with
    /// [`Settle::settled_within`]).
    pub fn with_timeout(timeout: Duration) -> Self {
        Enforcer { inner: Arc::new(Inner { timeout: Some(timeout), ..Inner::default() }) }
    }

    /// This enforcer, also waiting for each tag write to show in the Resource Groups Tagging API
    /// (`GetResources`), read with `client`. Call it when building the enforcer: the counters
    /// start afresh.
    ///
    /// ```no_run
    /// # fn demo(sdk_config: &aws_types::SdkConfig) {
    /// let view = aws_sdk_resourcegroupstagging::Client::new(sdk_config);
    /// let enforcer = aws_settle::post::Enforcer::new().with_tagging_view(view);
    /// # }
    /// ```
    #[cfg(feature = "tagging")]
    pub fn with_tagging_view(self, client: aws_sdk_resourcegroupstagging::Client) -> Self {
        let inner = Inner { timeout: self.inner.timeout, view: Some(client), ..Inner::default() };
        Enforcer { inner: Arc::new(inner) }
    }

    #[cfg(feature = "tagging")]
    pub(crate) fn tagging_view(&self) -> Option<&super::rule::ViewClient> {
        self.inner.view.as_ref()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut stats = lock(&self.inner.stats.0).clone();
        stats.pending = lock(&self.inner.pending).len();
        stats
    }

    /// Runs `body`, recording the writes it makes (on this task), then settles them all
    /// concurrently. Returns `body`'s output, or [`Unsettled`] listing every write that did not
    /// settle. Writes already settled inside (with [`Settle::settled`]) are not settled twice.
    pub async fn scope<F: Future>(&self, body: F) -> Result<F::Output, Unsettled> {
        let collector = Collector::default();
        let output = COLLECTOR.scope(collector.clone(), body).await;
        settle_all(collector.take(), None).await?;
        Ok(output)
    }

    /// Settles every write recorded outside a settle step so far.
    pub async fn settle_pending(&self) -> Result<(), Unsettled> {
        let checks: Vec<Check> = lock(&self.inner.pending).drain(..).collect();
        settle_all(checks, None).await.map(|_| ())
    }

    /// Called by the recorder for each check a write produced: into the innermost settle step
    /// of this task, else into the pending queue.
    pub(crate) fn record(&self, mut check: Check) {
        if let Some(timeout) = self.inner.timeout {
            check.timeout = timeout;
        }
        check.counter = Some(self.inner.stats.clone());
        let mut slot = Some(check);
        let _ = COLLECTOR.try_with(|c| lock(&c.checks).extend(slot.take()));
        if let Some(check) = slot {
            let mut pending = lock(&self.inner.pending);
            if pending.len() >= PENDING_LIMIT {
                pending.pop_front();
                lock(&self.inner.stats.0).dropped += 1;
            }
            pending.push_back(check);
        }
    }

    /// Called by the recorder for a mutating call no rule checks.
    pub(crate) fn count_unchecked(&self, service: &str, operation: &str) {
        *lock(&self.inner.stats.0).unchecked.entry(format!("{service}:{operation}")).or_default() += 1;
    }
}

/// `.settled()` on any SDK call's `send()` future: the serial form.
///
/// ```no_run
/// # #[cfg(feature = "ssm")]
/// # async fn demo(ssm: aws_sdk_ssm::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use aws_settle::post::Settle;
/// use std::time::Duration;
///
/// ssm.delete_parameter().name("/app/a").send().settled().await?;
/// ssm.put_parameter().name("/app/b").value("2").send().settled_within(Duration::from_secs(30)).await?;
/// # Ok(()) }
/// ```
pub trait Settle<T, E>: Future<Output = Result<T, E>> + Sized {
    /// Awaits the call, then reads back each change it made (on a client with an attached
    /// [`Enforcer`]) until visible. Calls without a rule return at once.
    fn settled(self) -> impl Future<Output = Result<T, SettleError<E>>> {
        settle_call(self, None)
    }

    /// As [`settled`](Self::settled), waiting at most `timeout` for each change.
    fn settled_within(self, timeout: Duration) -> impl Future<Output = Result<T, SettleError<E>>> {
        settle_call(self, Some(timeout))
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> Settle<T, E> for F {}

async fn settle_call<T, E, F>(call: F, timeout: Option<Duration>) -> Result<T, SettleError<E>>
where
    F: Future<Output = Result<T, E>>,
{
    let collector = Collector::default();
    let output = COLLECTOR.scope(collector.clone(), call).await.map_err(SettleError::Call)?;
    settle_all(collector.take(), timeout).await?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::{Delays, ErrorResponse, Waiter};

    fn check() -> Check {
        let waiter = Waiter::<u32>::new(Delays::default()).success_when(|_| true);
        Check::new("PutThing", "thing-1", "it reads back", waiter, || async { Ok::<u32, ErrorResponse>(1) })
    }

    #[test]
    fn pending_checks_do_not_keep_their_enforcer_alive() {
        let enforcer = Enforcer::new();
        enforcer.record(check());
        assert_eq!(enforcer.stats().pending, 1);
        assert_eq!(Arc::strong_count(&enforcer.inner), 1, "a pending check holds no enforcer");
    }

    #[tokio::test]
    async fn a_settled_pending_check_counts_on_its_enforcer() {
        let enforcer = Enforcer::with_timeout(Duration::from_secs(5));
        enforcer.record(check());
        enforcer.settle_pending().await.unwrap();
        let stats = enforcer.stats();
        assert_eq!((stats.settled, stats.not_settled, stats.pending), (1, 0, 0));
    }

    #[test]
    fn the_pending_queue_is_bounded() {
        let enforcer = Enforcer::new();
        for _ in 0..PENDING_LIMIT + 3 {
            enforcer.record(check());
        }
        let stats = enforcer.stats();
        assert_eq!((stats.pending, stats.dropped), (PENDING_LIMIT, 3));
    }
}
