//! A [`Check`]: one read-back of one write, run by the wait engine; and the errors of settling.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::options::SettleOptions;
use crate::errors::{THROTTLING_CODES, TRANSIENT_CODES};
use crate::wait::{Delays, PollError, WaitError, Waiter};

type RunFn = Box<dyn FnOnce(Delays) -> Pin<Box<dyn Future<Output = Result<(), WaitError>> + Send>> + Send>;

/// The default bound of a check, like the 2-minute propagation timeouts of AWS's own tools.
pub(crate) const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(120);

/// "Last seen" in a [`CheckFailed`] is cut to this many characters.
const LAST_SEEN_LIMIT: usize = 300;

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
    /// - Read errors are kept as code, HTTP status and message, never as the raw response.
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
        E: PollError + ProvideErrorMetadata + fmt::Display + Send + 'static,
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let resource = resource.into();
        let expected = expected.into();
        let name = format!("{operation} {resource}: {expected}");
        let retried = THROTTLING_CODES.iter().chain(TRANSIENT_CODES);
        let waiter = retried.fold(waiter.named(name), |w, code| w.retry_on_error_code(*code));
        let run: RunFn = Box::new(move |delays| {
            Box::pin(async move {
                let poll = || {
                    let call = read();
                    async move { call.await.map_err(|e| ReadError::of(&e)) }
                };
                waiter.with_delays(delays).wait(poll).await.map(|_| ())
            })
        });
        Check {
            operation,
            resource,
            expected,
            max_wait: DEFAULT_MAX_WAIT,
            options: SettleOptions::default(),
            counter: None,
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

    /// Runs the check with the call's options over the enforcer's over the rule's.
    pub(crate) async fn run(self, call: &SettleOptions) -> Result<(), CheckFailed> {
        let options = call.or(&self.options);
        let delays = options.delays(self.max_wait);
        let Check { operation, resource, expected, run, counter, .. } = self;
        let result = (run)(delays).await;
        if let Some(counter) = counter {
            counter.count(result.is_ok());
        }
        result.map_err(|source| CheckFailed { operation, resource, expected, source: bounded(source) })
    }
}

/// A read error as a check keeps it: code, status and message, bounded.
#[derive(Clone)]
struct ReadError {
    code: Option<String>,
    status: Option<u16>,
    message: String,
}

impl ReadError {
    fn of<E: PollError + ProvideErrorMetadata + fmt::Display>(error: &E) -> Self {
        let message = ProvideErrorMetadata::message(error).map_or_else(|| error.to_string(), str::to_string);
        ReadError {
            code: PollError::code(error).map(str::to_string),
            status: error.status(),
            message: cut(&message, LAST_SEEN_LIMIT / 2),
        }
    }
}

impl fmt::Debug for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_deref().unwrap_or("error"))?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.message.is_empty() && Some(self.message.as_str()) != self.code.as_deref() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl PollError for ReadError {
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    fn status(&self) -> Option<u16> {
        self.status
    }
}

/// `text`, cut to `limit` characters with a note of how much was left out.
fn cut(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… ({} more bytes)", &text[..at], text.len() - at),
    }
}

/// The wait error with its "last seen" bounded (outputs are the SDK's `Debug`, which redacts
/// sensitive members; errors are already a [`ReadError`]).
fn bounded(mut error: WaitError) -> WaitError {
    match &mut error {
        WaitError::Timeout { last, .. }
        | WaitError::FailureState { last, .. }
        | WaitError::UnexpectedError { last, .. }
        | WaitError::Unsupported { last, .. } => {
            if let Some(text) = last {
                *text = cut(text, LAST_SEEN_LIMIT);
            }
        }
        _ => {}
    }
    error
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_text_and_says_how_much_it_left_out() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abcdef", 3), "abc… (3 more bytes)");
        assert_eq!(cut("ééé", 1), "é… (4 more bytes)", "cuts on a char boundary");
    }
}
