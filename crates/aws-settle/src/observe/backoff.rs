//! The backoff probe: learns the exact duration of each retry backoff sleep.
//!
//! The retry decision lives in the client's `RetryStrategy`, which a client-wide runtime plugin
//! would have to wrap, but the generated config builders keep `runtime_plugin` crate-private. The
//! orchestrator (aws-smithy-runtime 1.16) however calls the client's `AsyncSleep` with the
//! strategy's exact `YesAfterDelay` duration, synchronously after `read_after_attempt` and with no
//! `.await` in between. So the interceptor *arms* this thread after a failed attempt, and the
//! first sleep created on the thread while armed is that attempt's backoff: the probe wrapping the
//! client's sleep reports it and disarms. The interceptor disarms at the next attempt and at the end
//! of the call (also without an `.await` since the decision), so an arm never outlives its call's
//! synchronous stretch and no other task's sleep (a timeout's) can be taken for a backoff.

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, Sleep, default_async_sleep};

type OnBackoff = Box<dyn FnOnce(Duration)>;

thread_local! {
    static ARMED: RefCell<Option<OnBackoff>> = const { RefCell::new(None) };
}

/// The next sleep created on this thread calls `on_backoff` with its duration.
pub(crate) fn arm(on_backoff: impl FnOnce(Duration) + 'static) {
    ARMED.with(|armed| *armed.borrow_mut() = Some(Box::new(on_backoff)));
}

/// Forgets an armed callback on this thread.
pub(crate) fn disarm() {
    ARMED.with(|armed| armed.borrow_mut().take());
}

/// An `AsyncSleep` that reports armed sleeps and delegates every sleep to the client's own.
#[derive(Clone)]
pub(crate) struct BackoffProbe {
    inner: SharedAsyncSleep,
}

const PROBE_DEBUG: &str = "aws_settle::observe::BackoffProbe";

impl fmt::Debug for BackoffProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PROBE_DEBUG}({:?})", self.inner)
    }
}

impl AsyncSleep for BackoffProbe {
    fn sleep(&self, duration: Duration) -> Sleep {
        // Take the callback before calling it: it may emit events that run subscribers.
        let armed = ARMED.with(|armed| armed.borrow_mut().take());
        if let Some(on_backoff) = armed {
            on_backoff(duration);
        }
        self.inner.sleep(duration)
    }
}

/// The client's sleep wrapped in a probe (the default tokio sleep when the client has none yet);
/// a sleep that already is a probe is kept as it is.
pub(crate) fn probe(current: Option<SharedAsyncSleep>) -> Option<SharedAsyncSleep> {
    match current {
        Some(sleep) if format!("{sleep:?}").contains(PROBE_DEBUG) => Some(sleep),
        Some(sleep) => Some(SharedAsyncSleep::new(BackoffProbe { inner: sleep })),
        None => default_async_sleep().map(|inner| SharedAsyncSleep::new(BackoffProbe { inner })),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn armed_sleep_is_reported_once() {
        let sleep = probe(None).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        sleep.sleep(Duration::from_millis(1)).await; // not armed
        let s = seen.clone();
        arm(move |d| s.lock().unwrap().push(d));
        let first = sleep.sleep(Duration::from_millis(2));
        let _second = sleep.sleep(Duration::from_millis(3));
        first.await;
        assert_eq!(*seen.lock().unwrap(), vec![Duration::from_millis(2)]);
        let s = seen.clone();
        arm(move |d| s.lock().unwrap().push(d));
        disarm();
        sleep.sleep(Duration::from_millis(4)).await;
        assert_eq!(seen.lock().unwrap().len(), 1);
        let again = probe(Some(sleep.clone())).unwrap();
        assert_eq!(format!("{again:?}"), format!("{sleep:?}"), "a probe is not wrapped twice");
    }
}
