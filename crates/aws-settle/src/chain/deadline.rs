//! [`Deadline`]: how long the invocation has left, so a step hands back a callback instead of
//! being killed mid-call.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::wait::{Clock, Sleep, TokioClock};

/// When the invocation ends (Lambda's deadline, or a given remaining time), on a [`Clock`].
///
/// A chain with a deadline ([`Chain::deadline`](super::Chain::deadline)) stops a step at the
/// deadline minus the margin — before a call, instead of a retry sleep, during a call, or during
/// stabilization — saves the memo, and returns IN_PROGRESS with a callback delay: the next
/// invocation continues from the memo. Defaults: a margin of 5 s (time to save the memo and
/// answer), a callback delay of 5 s.
#[derive(Clone)]
pub struct Deadline {
    clock: Arc<dyn Clock>,
    at: Duration,
    margin: Duration,
    callback: Duration,
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadline")
            .field("remaining", &self.remaining())
            .field("margin", &self.margin)
            .field("callback", &self.callback)
            .finish()
    }
}

impl Deadline {
    /// The invocation ends `remaining` from now on the tokio clock (which follows tokio's paused
    /// test time).
    pub fn after(remaining: Duration) -> Self {
        Self::after_on(TokioClock, remaining)
    }

    /// The invocation ends `remaining` from now on `clock` (e.g. a
    /// [`VirtualClock`](crate::wait::VirtualClock)).
    pub fn after_on(clock: impl Clock, remaining: Duration) -> Self {
        let at = clock.now().saturating_add(remaining);
        Self { clock: Arc::new(clock), at, margin: Duration::from_secs(5), callback: Duration::from_secs(5) }
    }

    /// The invocation ends at this Unix time in milliseconds: the `deadline` of a Lambda
    /// invocation's context (`lambda_runtime::Context::deadline`). A deadline in the past leaves
    /// no time.
    pub fn at_epoch_millis(deadline_ms: u64) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self::after(Duration::from_millis(deadline_ms).saturating_sub(now))
    }

    /// Stop this long before the deadline (default 5 s).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The callback delay of the IN_PROGRESS event a stopped step returns (default 5 s).
    pub fn with_callback(mut self, delay: Duration) -> Self {
        self.callback = delay;
        self
    }

    /// The time left until the deadline.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_sub(self.clock.now())
    }

    /// The time left for work: until the deadline minus the margin.
    pub fn usable(&self) -> Duration {
        self.remaining().saturating_sub(self.margin)
    }

    /// The margin.
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// The callback delay.
    pub fn callback(&self) -> Duration {
        self.callback
    }

    /// True when no usable time is left.
    pub fn is_up(&self) -> bool {
        self.usable().is_zero()
    }

    /// A future that completes at the deadline minus the margin.
    pub(super) fn stop(&self) -> Sleep {
        self.clock.deadline(self.at.saturating_sub(self.margin))
    }
}

/// Whole seconds, rounded up, as CloudFormation's `callbackDelaySeconds`.
pub(super) fn delay_seconds(delay: Duration) -> u32 {
    let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    u32::try_from(seconds).unwrap_or(u32::MAX)
}
