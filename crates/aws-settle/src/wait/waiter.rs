//! [`Waiter`]: the poll loop.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::future::{Either, select};
use rand::SeedableRng;
use serde_json::Value;

use super::acceptor::{Acceptor, Matcher, Observation, State, evaluate};
use super::capture::CaptureBody;
use super::clock::{Clock, TokioClock};
use super::delay::Delays;
use super::error::WaitError;
use super::seen;

/// What a poll error exposes to error and status matchers.
///
/// Implemented for the SDK's `SdkError<E, HttpResponse>` (code from the error metadata, status
/// from the raw response), for [`ErrorResponse`] and for `Infallible`.
pub trait PollError: fmt::Debug {
    /// The error code (e.g. `ResourceNotFoundException`), if any.
    fn code(&self) -> Option<&str>;
    /// The HTTP status of the error response, if there was one.
    fn status(&self) -> Option<u16> {
        None
    }

    /// What a [`WaitError`] shows of this error as "last seen" (bounded and redacted there);
    /// `Debug` unless the type knows better.
    fn summary(&self) -> String {
        format!("{self:?}")
    }
}

impl<E: ProvideErrorMetadata + fmt::Debug> PollError for SdkError<E, HttpResponse> {
    fn code(&self) -> Option<&str> {
        ProvideErrorMetadata::code(self)
    }

    /// Code, message and status: never the raw HTTP response (headers, body).
    fn summary(&self) -> String {
        let status = PollError::status(self).map_or("none".to_string(), |s| s.to_string());
        match (ProvideErrorMetadata::code(self), ProvideErrorMetadata::message(self)) {
            (Some(code), Some(message)) => format!("error {code}: {message} (status {status})"),
            (Some(code), None) => format!("error {code} (status {status})"),
            (None, _) => {
                let kind = match self {
                    SdkError::ConstructionFailure(_) => "the request could not be built",
                    SdkError::TimeoutError(_) => "the call timed out",
                    SdkError::DispatchFailure(_) => "the request could not be sent",
                    SdkError::ResponseError(_) => "the response could not be read",
                    _ => "error without code",
                };
                format!("{kind} (status {status})")
            }
        }
    }

    fn status(&self) -> Option<u16> {
        self.raw_response().map(|r| r.status().as_u16())
    }
}

impl PollError for std::convert::Infallible {
    fn code(&self) -> Option<&str> {
        match *self {}
    }
}

/// A plain error with a code and a status: for tests, the CLI and non-SDK poll operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} (status {})", code.as_deref().unwrap_or("error without code"), status.map_or("none".to_string(), |s| s.to_string()))]
pub struct ErrorResponse {
    /// The error code.
    pub code: Option<String>,
    /// The HTTP status.
    pub status: Option<u16>,
}

impl ErrorResponse {
    /// An error with this code and status.
    pub fn new(code: impl Into<String>, status: u16) -> Self {
        Self { code: Some(code.into()), status: Some(status) }
    }
}

impl PollError for ErrorResponse {
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    fn status(&self) -> Option<u16> {
        self.status
    }
}

/// One attempt, as reported to [`Waiter::on_attempt`] (and as a `tracing` debug event).
#[derive(Debug, Clone)]
pub struct AttemptReport {
    /// The waiter's name.
    pub waiter: String,
    /// 1 for the first call.
    pub attempt: u32,
    /// Time since the first call started, at the end of this one.
    pub elapsed: Duration,
    /// The matching acceptor, if any.
    pub acceptor: Option<usize>,
    /// The decision.
    pub state: State,
    /// Why, in words.
    pub reason: String,
    /// What the call returned, in short: `output` or `error CODE (status N)`.
    pub observed: String,
    /// The sleep before the next attempt; `None` when the wait ends here.
    pub next_delay: Option<Duration>,
}

/// A successful wait.
#[derive(Debug, Clone)]
pub struct Success<O> {
    /// The last output, when success was decided on an output (not on an error).
    pub output: Option<O>,
    /// The index of the success acceptor.
    pub acceptor: usize,
    /// Calls made.
    pub attempts: u32,
    /// Time since the first call started.
    pub elapsed: Duration,
}

type JsonFn<O> = Arc<dyn Fn(&O) -> Option<Value> + Send + Sync>;
type ReportFn = Arc<dyn Fn(&AttemptReport) + Send + Sync>;

/// Polls an operation until an acceptor decides.
///
/// Acceptors are tried in order and the first that matches decides: success ends the wait with
/// [`Success`], failure with [`WaitError::FailureState`]. When none matches, an output means retry
/// and an error fails at once ([`WaitError::UnexpectedError`]). Between attempts the waiter sleeps
/// as its [`Delays`] say; when they say stop, it ends with [`WaitError::Timeout`]. A call still
/// running at the max wait time is dropped and the wait times out then. Dropping the future
/// returned by [`wait`](Self::wait) stops polling.
///
/// ```
/// use aws_settle::wait::{Delays, ErrorResponse, VirtualClock, Waiter};
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let mut calls = 0;
/// let settled = Waiter::new(Delays::smithy(Duration::from_secs(2), Duration::from_secs(120)))
///     .named("VersionAtLeast3")
///     .success_when(|version: &u32| *version >= 3)
///     .retry_on_error_code("ParameterNotFound")
///     .clock(VirtualClock::new())
///     .wait(|| {
///         calls += 1;
///         let result = if calls == 1 { Err(ErrorResponse::new("ParameterNotFound", 400)) } else { Ok(calls) };
///         async move { result }
///     })
///     .await
///     .unwrap();
/// assert_eq!((settled.output, settled.attempts), (Some(3), 3));
/// # });
/// ```
pub struct Waiter<O> {
    name: String,
    delays: Delays,
    acceptors: Vec<Acceptor<O>>,
    clock: Arc<dyn Clock>,
    seed: Option<u64>,
    on_attempt: Option<ReportFn>,
    capture: Option<CaptureBody>,
    json_view: Option<JsonFn<O>>,
    input: Option<Value>,
    operation: Option<String>,
    /// Success needs this many consecutive attempts that decide success (1: the first).
    in_a_row: u32,
}

impl<O> Clone for Waiter<O> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            delays: self.delays.clone(),
            acceptors: self.acceptors.clone(),
            clock: self.clock.clone(),
            seed: self.seed,
            on_attempt: self.on_attempt.clone(),
            capture: self.capture.clone(),
            json_view: self.json_view.clone(),
            input: self.input.clone(),
            operation: self.operation.clone(),
            in_a_row: self.in_a_row,
        }
    }
}

impl<O> Default for Waiter<O> {
    /// A waiter with Smithy's default delays (min 2 s, max 120 s, max wait 300 s).
    fn default() -> Self {
        Self::new(Delays::default())
    }
}

impl<O> fmt::Debug for Waiter<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("name", &self.name)
            .field("delays", &self.delays)
            .field("acceptors", &self.acceptors)
            .field("clock", &self.clock)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl<O> Waiter<O> {
    /// A waiter with these delays, no acceptors, the tokio clock and a random seed.
    pub fn new(delays: Delays) -> Self {
        Self {
            name: "waiter".to_string(),
            delays,
            acceptors: Vec::new(),
            clock: Arc::new(TokioClock),
            seed: None,
            on_attempt: None,
            capture: None,
            json_view: None,
            input: None,
            operation: None,
            in_a_row: 1,
        }
    }

    /// Success only once `n` consecutive attempts decide success (at least 1, the default): for
    /// reads served by several endpoints that do not all see a change at once, as Terraform's
    /// AWS provider asks of SQS attributes (6 in a row) and KMS keys (5). An attempt that does not
    /// decide success starts the count again.
    pub fn successes_in_a_row(mut self, n: u32) -> Self {
        self.in_a_row = n.max(1);
        self
    }

    /// Names the waiter (in events, reports and errors).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The waiter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The delays.
    pub fn delays(&self) -> &Delays {
        &self.delays
    }

    /// Replaces the delays.
    pub fn with_delays(mut self, delays: Delays) -> Self {
        self.delays = delays;
        self
    }

    /// The acceptors, in order.
    pub fn acceptors(&self) -> &[Acceptor<O>] {
        &self.acceptors
    }

    /// Appends an acceptor (acceptors are tried in the order they were added).
    pub fn acceptor(mut self, acceptor: Acceptor<O>) -> Self {
        self.acceptors.push(acceptor);
        self
    }

    /// Success when the closure returns true for the output.
    pub fn success_when(self, predicate: impl Fn(&O) -> bool + Send + Sync + 'static) -> Self {
        self.acceptor(Acceptor::output(State::Success, predicate))
    }

    /// Retry when the closure returns true for the output (outputs that no acceptor matches are
    /// retried anyway; this is for order: it stops later acceptors from matching).
    pub fn retry_when(self, predicate: impl Fn(&O) -> bool + Send + Sync + 'static) -> Self {
        self.acceptor(Acceptor::output(State::Retry, predicate))
    }

    /// Failure when the closure returns true for the output.
    pub fn failure_when(self, predicate: impl Fn(&O) -> bool + Send + Sync + 'static) -> Self {
        self.acceptor(Acceptor::output(State::Failure, predicate))
    }

    /// Success on an error with this code (e.g. a delete is settled at `NotFound`).
    pub fn success_on_error_code(self, code: impl Into<String>) -> Self {
        self.acceptor(Acceptor::error_code(State::Success, code))
    }

    /// Retry on an error with this code (e.g. a create is not visible yet).
    pub fn retry_on_error_code(self, code: impl Into<String>) -> Self {
        self.acceptor(Acceptor::error_code(State::Retry, code))
    }

    /// Failure on an error with this code.
    pub fn failure_on_error_code(self, code: impl Into<String>) -> Self {
        self.acceptor(Acceptor::error_code(State::Failure, code))
    }

    /// Retry on any error with a code (instead of failing at once).
    pub fn retry_on_any_error(self) -> Self {
        self.acceptor(Acceptor::error(State::Retry, true))
    }

    /// Uses this clock (e.g. a [`VirtualClock`](super::VirtualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Uses a shared clock.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds the jitter of the delays (a random seed otherwise).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Calls `callback` after every attempt.
    pub fn on_attempt(mut self, callback: impl Fn(&AttemptReport) + Send + Sync + 'static) -> Self {
        self.on_attempt = Some(Arc::new(callback));
        self
    }

    /// Reads the JSON view of outputs (and inputs, and the status) from this capture, which
    /// must be attached to the polled operation. Cleared before each attempt.
    pub fn capture(mut self, capture: &CaptureBody) -> Self {
        self.capture = Some(capture.clone());
        self
    }

    /// Computes the JSON view of an output with a function (e.g. `|v: &Value| Some(v.clone())`
    /// when the output already is JSON).
    pub fn json_view(mut self, view: impl Fn(&O) -> Option<Value> + Send + Sync + 'static) -> Self {
        self.json_view = Some(Arc::new(view));
        self
    }

    /// The input seen by `inputOutput` paths (otherwise the captured request body, if JSON).
    pub fn input(mut self, input: Value) -> Self {
        self.input = Some(input);
        self
    }

    /// The operation this waiter polls (e.g. `HeadBucket`; a model's waiters set it). With a
    /// [`CaptureBody`], a call of another operation, or a capture that saw no call, ends the
    /// wait at once with [`WaitError::WrongOperation`].
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// The operation this waiter polls, if it was set.
    pub fn polled_operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// Checks, through the capture, that the call was the operation this waiter polls.
    fn check_operation<E>(
        &self,
        result: &Result<O, E>,
        attempt: u32,
        elapsed: Duration,
    ) -> Result<(), WaitError> {
        let (Some(expected), Some(capture)) = (&self.operation, &self.capture) else {
            return Ok(());
        };
        let polled = capture.operation();
        // An error before the request was sent captures nothing: the error matchers decide.
        let wrong = match &polled {
            Some(polled) => polled != expected,
            None => result.is_ok(),
        };
        if !wrong {
            return Ok(());
        }
        Err(WaitError::WrongOperation {
            waiter: self.name.clone(),
            expected: expected.clone(),
            polled,
            attempts: attempt,
            elapsed,
        })
    }

    fn needs_json(&self) -> bool {
        self.acceptors.iter().any(|a| matches!(a.matcher, Matcher::Path { .. }))
    }

    /// The JSON view of an output, for JMESPath acceptors; `Err` says why there is none.
    fn json_of(&self, output: &O) -> Result<Value, String> {
        match (&self.json_view, &self.capture) {
            (Some(view), _) => {
                view(output).ok_or_else(|| "the json_view function gave no JSON for this output".to_string())
            }
            (None, Some(capture)) => capture.response_json(),
            (None, None) => Err("this waiter has JMESPath acceptors but no JSON view of the output: \
                                 give it a CaptureBody (`.capture(..)`) or a `.json_view(..)`"
                .to_string()),
        }
    }

    /// Polls `operation` until an acceptor decides, the delays say stop, or the future is dropped.
    pub async fn wait<F, Fut, E>(&self, mut operation: F) -> Result<Success<O>, WaitError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<O, E>>,
        O: fmt::Debug,
        E: PollError,
    {
        let mut rng = match self.seed {
            Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
            None => rand::rngs::StdRng::from_rng(&mut rand::rng()),
        };
        let needs_json = self.needs_json();
        let start = self.clock.now();
        let deadline = start.saturating_add(self.delays.max_wait_time());
        let mut attempt: u32 = 0;
        let mut previous: Option<String> = None;
        let mut streak: u32 = 0;
        if let Some(first) = self.delays.first_delay() {
            self.clock.sleep(first).await;
        }
        loop {
            attempt += 1;
            if let Some(capture) = &self.capture {
                capture.clear();
            }
            // The call itself is bounded by the max wait: one that hangs ends the wait there.
            let result = match select(pin!(operation()), self.clock.deadline(deadline)).await {
                Either::Left((result, _)) => result,
                Either::Right(_) => {
                    let elapsed = self.clock.now().saturating_sub(start);
                    return Err(self.cut_off(attempt, elapsed, previous));
                }
            };
            let elapsed = self.clock.now().saturating_sub(start);
            self.check_operation(&result, attempt, elapsed)?;

            // The JSON view: for path acceptors, and to show a redacted "last seen".
            let (json, json_unavailable) = match &result {
                Ok(output) if needs_json || self.json_view.is_some() || self.capture.is_some() => {
                    match self.json_of(output) {
                        Ok(json) => (Some(json), None),
                        Err(why) => (None, Some(why)),
                    }
                }
                _ => (None, None),
            };
            let seen = match &result {
                Ok(output) => seen::output(output, json.as_ref()),
                Err(error) => seen::error(error.summary()),
            };
            let captured_input = match (&self.input, &self.capture) {
                (None, Some(capture)) => capture.request_json(),
                _ => None,
            };
            let input = self.input.as_ref().or(captured_input.as_ref());
            let captured_status = self.capture.as_ref().and_then(CaptureBody::status);
            let observation = match &result {
                Ok(output) => Observation {
                    output: Some(output),
                    json: json.as_ref(),
                    json_unavailable,
                    input,
                    is_error: false,
                    error_code: None,
                    status: captured_status.or(Some(200)),
                },
                Err(error) => {
                    Observation::error(error.code(), error.status().or(captured_status)).with_input(input)
                }
            };
            let last = || Some(seen.clone());
            let mut decision = match evaluate(&self.acceptors, &observation) {
                Ok(decision) => decision,
                Err(e) => {
                    tracing::debug!(waiter = %self.name, attempt, elapsed_ms = elapsed.as_millis() as u64,
                        acceptor = e.acceptor, error = %e.message, "waiter attempt: acceptor cannot be evaluated");
                    return Err(WaitError::Unsupported {
                        waiter: self.name.clone(),
                        acceptor: e.acceptor,
                        message: e.message,
                        attempts: attempt,
                        elapsed,
                        last: last(),
                    });
                }
            };
            streak = if decision.state == State::Success { streak + 1 } else { 0 };
            if decision.state == State::Success && streak < self.in_a_row {
                decision.state = State::Retry;
                decision.reason = format!("{} ({streak} of {} in a row)", decision.reason, self.in_a_row);
            }
            let next_delay = match decision.state {
                State::Retry => self.delays.next_delay(attempt, elapsed, &mut rng),
                _ => None,
            };
            tracing::debug!(
                waiter = %self.name,
                attempt,
                elapsed_ms = elapsed.as_millis() as u64,
                acceptor = ?decision.acceptor,
                state = %decision.state,
                next_delay_ms = ?next_delay.map(|d| d.as_millis() as u64),
                reason = %decision.reason,
                "waiter attempt"
            );
            if let Some(callback) = &self.on_attempt {
                callback(&AttemptReport {
                    waiter: self.name.clone(),
                    attempt,
                    elapsed,
                    acceptor: decision.acceptor,
                    state: decision.state,
                    reason: decision.reason.clone(),
                    observed: match &result {
                        Ok(_) => "output".to_string(),
                        Err(_) => format!(
                            "error {} (status {})",
                            observation.error_code.unwrap_or("<no code>"),
                            observation.status.map_or("none".to_string(), |s| s.to_string())
                        ),
                    },
                    next_delay,
                });
            }
            match (decision.state, decision.acceptor) {
                (State::Success, Some(acceptor)) => {
                    return Ok(Success { output: result.ok(), acceptor, attempts: attempt, elapsed });
                }
                (State::Failure, Some(acceptor)) => {
                    return Err(WaitError::FailureState {
                        waiter: self.name.clone(),
                        acceptor,
                        description: self.acceptors[acceptor].to_string(),
                        attempts: attempt,
                        elapsed,
                        last: last(),
                    });
                }
                (State::Failure, None) => {
                    let (code, status) = (observation.error_code.map(str::to_string), observation.status);
                    return Err(WaitError::UnexpectedError {
                        waiter: self.name.clone(),
                        code,
                        status,
                        attempts: attempt,
                        elapsed,
                        last: last(),
                    });
                }
                _ => {}
            }
            let Some(delay) = next_delay else {
                return Err(WaitError::Timeout {
                    waiter: self.name.clone(),
                    attempts: attempt,
                    elapsed,
                    last: last(),
                });
            };
            self.clock.sleep(delay).await;
            previous = Some(seen);
        }
    }

    /// The timeout of a wait whose call `attempt` got no response before the max wait time.
    fn cut_off(&self, attempt: u32, elapsed: Duration, previous: Option<String>) -> WaitError {
        let reason = format!("attempt {attempt} got no response within the max wait time");
        tracing::debug!(waiter = %self.name, attempt, elapsed_ms = elapsed.as_millis() as u64, "waiter attempt: {reason}");
        if let Some(callback) = &self.on_attempt {
            callback(&AttemptReport {
                waiter: self.name.clone(),
                attempt,
                elapsed,
                acceptor: None,
                state: State::Retry,
                reason: reason.clone(),
                observed: "no response".to_string(),
                next_delay: None,
            });
        }
        let last = match previous {
            Some(seen) => format!("{seen}, then {reason}"),
            None => reason,
        };
        WaitError::Timeout { waiter: self.name.clone(), attempts: attempt, elapsed, last: Some(last) }
    }
}
