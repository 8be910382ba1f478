//! A [`Check`]: one read-back of one write, run by the wait engine; and the errors of settling.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::options::SettleOptions;
use super::schedule::{LearnedSchedule, Pacing, ScheduleKey};
use crate::errors::{THROTTLING_CODES, TRANSIENT_CODES};
use crate::wait::{Delays, PollError, WaitError, Waiter};

/// Runs the wait with these delays; `Ok` is how long it took.
type RunFn =
    Box<dyn FnOnce(Delays) -> Pin<Box<dyn Future<Output = Result<Duration, WaitError>> + Send>> + Send>;

/// The default bound of a check, like the 2-minute propagation timeouts of AWS's own tools.
pub(crate) const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(120);

/// One read-back of one write: which operation wrote what, what the read-back waits for, and the
/// [`Waiter`] and read call that poll it. Built by a [`Rule`](super::Rule) from the write's typed
/// input and output.
pub struct Check {
    pub(crate) operation: &'static str,
    pub(crate) resource: String,
    pub(crate) expected: String,
    /// The rule's own bound, used unless the enforcer or the call sets one.
    pub(crate) max_wait: Duration,
    /// The options of the enforcer that recorded it (the call's own override them).
    pub(crate) options: SettleOptions,
    /// The counters of the enforcer that recorded it.
    pub(crate) counter: Option<super::enforcer::Counter>,
    /// What its learned schedule is kept per (set by the recorder), and the learner of the
    /// enforcer that recorded it.
    pub(crate) key: Option<ScheduleKey>,
    pub(crate) learner: Option<LearnedSchedule>,
    /// When the write was recorded: time-to-visible counts from here.
    recorded_at: tokio::time::Instant,
    run: RunFn,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("operation", &self.operation)
            .field("resource", &self.resource)
            .field("expected", &self.expected)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl Check {
    /// A check that calls `read` until `waiter`'s acceptors say success.
    ///
    /// - `operation` is the write (`CopyObject`), `resource` what it wrote (`s3://b/k`) and
    ///   `expected` what the read-back waits for, in words; all three are in the error.
    /// - `waiter` gives the acceptors ([`Waiter::success_when`], [`Waiter::retry_on_error_code`],
    ///   …); its delays are replaced by the settle options when the check runs (start from
    ///   `Waiter::default()`). Throttling and transient error codes are retried as well.
    /// - "Last seen" in the error is the engine's bounded, redacted summary: an SDK error's code,
    ///   message and status, never the raw response.
    ///
    /// The check waits at most 2 minutes unless [`with_max_wait`](Self::with_max_wait), the
    /// enforcer or the call says otherwise.
    pub fn new<O, E, F, Fut>(
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
            Box::pin(async move { waiter.with_delays(delays).wait(&mut read).await.map(|s| s.elapsed) })
        });
        Check {
            operation,
            resource,
            expected,
            max_wait: DEFAULT_MAX_WAIT,
            options: SettleOptions::default(),
            counter: None,
            key: None,
            learner: None,
            recorded_at: tokio::time::Instant::now(),
            run,
        }
    }

    /// This check's own bound (e.g. longer for slow-propagating services); the enforcer's and the
    /// call's [`SettleOptions::with_max_wait`] override it.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The write's operation.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// What the write changed.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// What the read-back waits for.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// Runs the check with the call's options over the enforcer's over the rule's, paced by the
    /// enforcer's learned schedule unless the options say fixed.
    pub(crate) async fn run(self, call: &SettleOptions) -> Result<(), CheckFailed> {
        let options = call.or(&self.options);
        let fixed = options.delays(self.max_wait);
        let Check { operation, resource, expected, run, counter, key, learner, recorded_at, .. } = self;
        let learned = match (options.pacing(), learner, key) {
            (Pacing::Learned, Some(learner), Some(key)) => {
                Some(learner.start(key, recorded_at.elapsed(), fixed.clone()))
            }
            _ => None,
        };
        let delays = learned.as_ref().map_or(fixed, |wait| wait.delays());
        // Marked as a read-back, so telemetry reports it apart from the user's own calls.
        let result = crate::observe::read_back((run)(delays)).await;
        if let Some(wait) = learned {
            match &result {
                Ok(elapsed) => wait.finish(Some(*elapsed)),
                Err(WaitError::Timeout { .. }) => wait.finish(None),
                Err(_) => {}
            }
        }
        if let Some(counter) = counter {
            counter.count(result.is_ok());
        }
        result.map(|_| ()).map_err(|source| CheckFailed { operation, resource, expected, source })
    }
}

/// One write whose change a read-back did not see: which operation, on what, what was expected,
/// and (in `source`) how long was waited and what was last seen (bounded, redacted).
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {resource} was not confirmed: expected {expected}: {source}")]
pub struct CheckFailed {
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

/// A write that succeeded but that no rule can read back, so nothing confirms it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{service}:{operation} has no read-back rule{}: nothing confirms it. Add a rule \
     (`EnforcerBuilder::with_rule`), or opt out for this call or enforcer \
     (`SettleOptions::new().with_lenient(true)`)",
    if *.has_rule { " for this input" } else { "" }
)]
pub struct UncheckedWrite {
    /// The service, as in `Stats::unchecked` keys (`s3`).
    pub service: &'static str,
    /// The operation (`CopyObject`).
    pub operation: String,
    /// A rule exists but checks nothing for this input (e.g. tags on a resource type it does
    /// not read).
    pub has_rule: bool,
}

/// Some writes of a settle step were not confirmed: read-backs that failed, and writes that no
/// rule checks.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} write(s) not confirmed ({} check(s) passed):{}{}",
    failed.len() + unchecked.len(),
    passed,
    list(failed),
    list(unchecked)
)]
pub struct ReadBackError {
    /// The checks that passed.
    pub passed: usize,
    /// Every check that failed.
    pub failed: Vec<CheckFailed>,
    /// Every write without a rule (not in lenient mode).
    pub unchecked: Vec<UncheckedWrite>,
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(|f| format!("\n  - {f}")).collect()
}

/// `.settled()` was called on a call that no enforcer recorded: its client is not attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`.settled()` on {call}, which no enforcer recorded: nothing confirms it. Attach the client \
     (`aws_settle::post::attach(client, &enforcer)`), or opt out for this call \
     (`.settled_with(SettleOptions::new().with_lenient(true))`)"
)]
pub struct NotRecorded {
    /// The call, as far as its output type tells (`ssm PutParameter`).
    pub call: String,
}

/// The error of [`SettleExt::settled`](super::SettleExt::settled).
#[derive(Debug)]
#[non_exhaustive]
pub enum SettleError<E> {
    /// The call failed; no read-back was made.
    Call(E),
    /// The call succeeded but no enforcer recorded it (a client that was never attached).
    NotRecorded(NotRecorded),
    /// The call succeeded but its change was not confirmed: a read-back failed or timed out, or
    /// the write has no rule.
    ReadBack(ReadBackError),
}

impl<E> From<ReadBackError> for SettleError<E> {
    fn from(error: ReadBackError) -> Self {
        SettleError::ReadBack(error)
    }
}

impl<E> SettleError<E> {
    /// The call's own error, if that is what failed.
    pub fn call_error(&self) -> Option<&E> {
        match self {
            SettleError::Call(e) => Some(e),
            _ => None,
        }
    }

    /// The read-back failures and unchecked writes, if that is what failed.
    pub fn read_back(&self) -> Option<&ReadBackError> {
        match self {
            SettleError::ReadBack(e) => Some(e),
            _ => None,
        }
    }
}

/// Shows a failed call's error code and message (the SDK's own `Display` says only "service
/// error").
impl<E: ProvideErrorMetadata + fmt::Display> fmt::Display for SettleError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettleError::Call(e) => match (e.code(), e.message()) {
                (Some(code), Some(message)) => write!(f, "the call failed: {code}: {message}"),
                (Some(code), None) => write!(f, "the call failed: {code} ({e})"),
                _ => write!(f, "the call failed: {e}"),
            },
            SettleError::NotRecorded(e) => e.fmt(f),
            SettleError::ReadBack(e) => e.fmt(f),
        }
    }
}

impl<E> std::error::Error for SettleError<E>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SettleError::Call(e) => Some(e),
            SettleError::NotRecorded(e) => Some(e),
            SettleError::ReadBack(e) => Some(e),
        }
    }
}
