//! A [`Check`]: one read-back of one write, run by the wait engine, and the errors of settling.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::errors::{THROTTLING_CODES, TRANSIENT_CODES};
use crate::wait::{Delays, PollError, WaitError, Waiter};

type RunFn = Box<dyn FnOnce(Delays) -> Pin<Box<dyn Future<Output = Result<(), WaitError>> + Send>> + Send>;

/// The delays between read-backs: fast first polls (most changes become visible within a second
/// or two), growing to a few seconds.
pub(crate) const MIN_DELAY: Duration = Duration::from_millis(200);
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(4);
/// The default bound of a check, like the 2-minute propagation timeouts of AWS's own tools.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// One pending read-back: built by a service rule from a write's input and output.
pub struct Check {
    pub(crate) operation: &'static str,
    pub(crate) resource: String,
    pub(crate) expected: String,
    pub(crate) timeout: Duration,
    /// The counters of the enforcer that recorded it.
    pub(crate) counter: Option<super::enforcer::Counter>,
    run: RunFn,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("operation", &self.operation)
            .field("resource", &self.resource)
            .field("expected", &self.expected)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Check {
    /// A check that polls `read` with `waiter`'s acceptors until success.
    ///
    /// The waiter gets the check's name and the delays of the settle call; throttling and
    /// transient error codes are retried.
    pub(crate) fn new<O, E, F, Fut>(
        operation: &'static str,
        resource: impl Into<String>,
        expected: impl Into<String>,
        waiter: Waiter<O>,
        mut read: F,
    ) -> Self
    where
        O: fmt::Debug + Send + Sync + 'static,
        E: PollError + Send + 'static,
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let resource = resource.into();
        let expected = expected.into();
        let name = format!("{operation} {resource}: {expected}");
        let retried = THROTTLING_CODES.iter().chain(TRANSIENT_CODES);
        let waiter = retried.fold(waiter.named(name), |w, code| w.retry_on_error_code(*code));
        let run: RunFn = Box::new(move |delays| {
            Box::pin(async move { waiter.with_delays(delays).wait(&mut read).await.map(|_| ()) })
        });
        Check { operation, resource, expected, timeout: DEFAULT_TIMEOUT, counter: None, run }
    }

    /// Overrides the rule's default bound (for slow-propagating services).
    #[allow(dead_code)]
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the check within `timeout` (or its own default).
    pub(crate) async fn run(self, timeout: Option<Duration>) -> Result<(), NotSettled> {
        let timeout = timeout.unwrap_or(self.timeout);
        let delays = Delays::smithy(MIN_DELAY, MAX_DELAY).max_wait(timeout);
        let Check { operation, resource, expected, run, counter, .. } = self;
        let result = (run)(delays).await;
        if let Some(counter) = counter {
            counter.count(result.is_ok());
        }
        result.map_err(|source| NotSettled { operation, resource, expected, source })
    }
}

/// Runs `checks` concurrently on this task; returns every one that did not settle.
pub(crate) async fn settle_all(checks: Vec<Check>, timeout: Option<Duration>) -> Result<usize, Unsettled> {
    let total = checks.len();
    let results = futures_util::future::join_all(checks.into_iter().map(|c| c.run(timeout))).await;
    let failures: Vec<NotSettled> = results.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() { Ok(total) } else { Err(Unsettled { settled: total - failures.len(), failures }) }
}

/// One write whose change did not become visible: which operation, on what, what was expected,
/// and (in `source`) how long was waited and what was last seen.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {resource} did not settle: expected {expected}: {source}")]
pub struct NotSettled {
    /// The write's operation, e.g. `PutParameter`.
    pub operation: &'static str,
    /// The resource it wrote, e.g. the parameter name or the secret ARN.
    pub resource: String,
    /// What the read-back waited for.
    pub expected: String,
    /// Why the wait ended: timeout (with the last state seen), failure state, unexpected error.
    #[source]
    pub source: WaitError,
}

/// Some writes of a settle did not settle.
#[derive(Debug, thiserror::Error)]
#[error("{} write(s) did not settle ({} did):{}", failures.len(), settled, list(failures))]
pub struct Unsettled {
    /// The writes that settled.
    pub settled: usize,
    /// Every write that did not.
    pub failures: Vec<NotSettled>,
}

fn list(failures: &[NotSettled]) -> String {
    failures.iter().map(|f| format!("\n  - {f}")).collect()
}

/// The error of [`Settle::settled`](super::Settle::settled): the call itself failed (nothing to
/// settle), or it succeeded and its change did not become visible in time.
#[derive(Debug, thiserror::Error)]
pub enum SettleError<E> {
    /// The call failed; no read-back was made.
    #[error("the call failed: {0}")]
    Call(#[source] E),
    /// The call succeeded but its change was not visible in time.
    #[error(transparent)]
    Unsettled(#[from] Unsettled),
}

impl<E> SettleError<E> {
    /// The call's own error, if that is what failed.
    pub fn call_error(&self) -> Option<&E> {
        match self {
            SettleError::Call(e) => Some(e),
            SettleError::Unsettled(_) => None,
        }
    }

    /// The writes that did not settle, if that is what failed.
    pub fn unsettled(&self) -> Option<&Unsettled> {
        match self {
            SettleError::Call(_) => None,
            SettleError::Unsettled(u) => Some(u),
        }
    }
}
