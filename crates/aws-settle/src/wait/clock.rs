//! Injectable time: a [`Clock`] tells the time and sleeps. [`TokioClock`] is the real one;
//! [`VirtualClock`] advances instantly and records every sleep, so tests run in virtual time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A boxed, `Send` sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The time source and sleeper of a [`Waiter`](super::Waiter).
///
/// `now` is a monotonic reading; only differences between readings matter.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current monotonic time, as a duration since an arbitrary fixed origin.
    fn now(&self) -> Duration;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
    /// A future that completes once [`now`](Self::now) reaches `deadline`: the waiter races each
    /// call against it, so a call that hangs ends the wait at its max wait time. Unlike
    /// [`sleep`](Self::sleep) it is no pause of the waiter's own (a virtual clock does not record it).
    fn deadline(&self, deadline: Duration) -> Sleep {
        self.sleep(deadline.saturating_sub(self.now()))
    }
}

/// The real clock: `tokio::time` (so it also follows tokio's paused test time).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

fn origin() -> tokio::time::Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    tokio::time::Instant::from_std(*ORIGIN.get_or_init(std::time::Instant::now))
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(origin())
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A virtual clock for tests: sleeping advances the time at once and is recorded.
///
/// Clones share the same time and record. A [`deadline`](Clock::deadline) completes when a sleep
/// or [`advance`](Self::advance) (e.g. by a call that models its own duration) reaches it.
///
/// ```
/// use aws_settle::wait::{Clock, VirtualClock};
/// use std::time::Duration;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let clock = VirtualClock::new();
/// clock.sleep(Duration::from_secs(5)).await;
/// assert_eq!(clock.now(), Duration::from_secs(5));
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(5)]);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    inner: Arc<Mutex<VirtualState>>,
}

#[derive(Debug, Default)]
struct VirtualState {
    now: Duration,
    sleeps: Vec<Duration>,
    deadlines: Vec<Waker>,
}

impl VirtualState {
    /// Moves the time forward and wakes the pending deadlines, which check it again.
    fn advance(&mut self, duration: Duration) {
        self.now += duration;
        self.deadlines.drain(..).for_each(Waker::wake);
    }
}

impl VirtualClock {
    /// A virtual clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the time forward without recording a sleep (e.g. to model a slow request).
    pub fn advance(&self, duration: Duration) {
        self.inner.lock().expect("virtual clock").advance(duration);
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.lock().expect("virtual clock").sleeps.clone()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        self.inner.lock().expect("virtual clock").now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut state = self.inner.lock().expect("virtual clock");
        state.advance(duration);
        state.sleeps.push(duration);
        Box::pin(std::future::ready(()))
    }

    fn deadline(&self, deadline: Duration) -> Sleep {
        let inner = self.inner.clone();
        Box::pin(std::future::poll_fn(move |cx: &mut Context<'_>| {
            let mut state = inner.lock().expect("virtual clock");
            if state.now >= deadline {
                return Poll::Ready(());
            }
            if !state.deadlines.iter().any(|w| w.will_wake(cx.waker())) {
                state.deadlines.push(cx.waker().clone());
            }
            Poll::Pending
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_virtual_deadline_completes_when_the_time_is_advanced_to_it_and_is_no_sleep() {
        let clock = VirtualClock::new();
        let deadline = tokio::spawn(clock.deadline(Duration::from_secs(5)));
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(4));
        tokio::task::yield_now().await;
        assert!(!deadline.is_finished(), "4 s is before the deadline");
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), deadline).await.expect("woken").unwrap();
        assert!(clock.sleeps().is_empty());
    }
}
