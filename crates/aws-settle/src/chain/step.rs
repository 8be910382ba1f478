//! The chain builder: [`Chain`] → [`Initiated`] → [`Translated`] → [`Step`], run by
//! [`Step::done`], [`Step::progress`] or [`Step::run`].

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{BoxFuture, Either, select};
use rand::SeedableRng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::codes::{ErrorAction, classify, classify_error, default_action};
use super::deadline::{Deadline, delay_seconds};
use super::event::ProgressEvent;
use super::memo::Memo;
use super::redact::{redact, redact_secrets};
use super::status::HandlerErrorCode;
use super::store::{Checkpoint, MemoStoreError};
use crate::errors::ErrorSummary;
use crate::wait::{Clock, Delays, PollError, TokioClock, WaitError, Waiter};

/// The default retry delays of a call: Smithy's jittered exponential backoff from 500 ms to
/// 10 s, at most 4 attempts, within 60 s (on top of the SDK's own retries).
pub fn default_call_delays() -> Delays {
    Delays::smithy(std::time::Duration::from_millis(500), std::time::Duration::from_secs(10))
        .max_wait(std::time::Duration::from_secs(60))
        .max_attempts(4)
}

/// The start of a chain over a memo: [`initiate`](Self::initiate) names the call.
#[derive(Debug)]
pub struct Chain<'a> {
    memo: &'a mut Memo,
    bounds: Bounds,
}

/// Where a step saves its memo and when it must stop.
#[derive(Debug, Clone, Default)]
struct Bounds {
    checkpoint: Option<Checkpoint>,
    deadline: Option<Deadline>,
}

impl<'a> Chain<'a> {
    /// A chain that records into (and resumes from) `memo`.
    pub fn new(memo: &'a mut Memo) -> Self {
        Self { memo, bounds: Bounds::default() }
    }

    /// Saves the memo through `checkpoint` before each call (the request is then fixed), after
    /// it, and after stabilization, so a handler killed between steps resumes from the store.
    /// A save that finds another writer's version fails the step with
    /// [`HandlerErrorCode::ResourceConflict`].
    pub fn checkpoint(mut self, checkpoint: &Checkpoint) -> Self {
        self.bounds.checkpoint = Some(checkpoint.clone());
        self
    }

    /// Stops a step at `deadline` minus its margin (see [`Deadline`]): the memo is saved and the
    /// step returns IN_PROGRESS with the deadline's callback delay.
    pub fn deadline(mut self, deadline: &Deadline) -> Self {
        self.bounds.deadline = Some(deadline.clone());
        self
    }

    /// Names the call (its key in the memo: unique within a handler) and gives the resource model.
    pub fn initiate<M>(self, name: impl Into<String>, model: M) -> Initiated<'a, M> {
        Initiated { memo: self.memo, bounds: self.bounds, name: name.into(), model }
    }
}

/// A named call with its model: [`translate`](Self::translate) it into a request.
#[derive(Debug)]
pub struct Initiated<'a, M> {
    memo: &'a mut Memo,
    bounds: Bounds,
    name: String,
    model: M,
}

impl<'a, M> Initiated<'a, M> {
    /// Derives the request from the model. The request is the user's own serializable type (the
    /// SDK's inputs are not serializable); it is recorded in the memo before the call is made and,
    /// on resume, the recorded one is used (so a generated name stays the same), unless the step
    /// [redacts](Step::redact) (then this translation is used again: keep it deterministic).
    pub fn translate<Req>(self, translate: impl FnOnce(&M) -> Req) -> Translated<'a, M, Req> {
        let request = translate(&self.model);
        Translated { memo: self.memo, bounds: self.bounds, name: self.name, model: self.model, request }
    }
}

/// A named call with its request: [`call`](Self::call) says how to make it.
#[derive(Debug)]
pub struct Translated<'a, M, Req> {
    memo: &'a mut Memo,
    bounds: Bounds,
    name: String,
    model: M,
    request: Req,
}

type CallFn<'a, Req, Out, E> = Box<dyn FnMut(Req) -> BoxFuture<'a, Result<Out, E>> + Send + Sync + 'a>;
type RecordFn<'a, Out, Resp> = Box<dyn Fn(&Out) -> Option<Resp> + Send + Sync + 'a>;
type ErrorFn<'a, M, E> = Box<dyn Fn(&E, &M) -> ErrorAction + Send + Sync + 'a>;
/// Stabilizes a request within a max wait.
type StabilizeFn<'a, Req> =
    Box<dyn FnOnce(Req, Duration) -> BoxFuture<'a, Result<u32, WaitError>> + Send + Sync + 'a>;

impl<'a, M, Req> Translated<'a, M, Req> {
    /// Makes the call from a clone of the request, e.g.
    /// `|req| ddb.create_table().table_name(req.name).send()` (the SDK's fluent builders own
    /// what they send, so the future borrows neither the request nor the client). The error is
    /// any [`PollError`] that is also a `std::error::Error` (the SDK's `SdkError` is both): its
    /// code and status drive [`handle_error`](Step::handle_error), and failure messages show only
    /// its [`ErrorSummary`] (code, status, service message), never its `Debug`, which for an
    /// `SdkError` holds the raw HTTP response.
    pub fn call<Out, E, F, Fut>(self, mut call: F) -> Step<'a, M, Req, Out, E>
    where
        F: FnMut(Req) -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<Out, E>> + Send + 'a,
        E: PollError + std::error::Error + Send + 'a,
    {
        Step {
            memo: self.memo,
            bounds: self.bounds,
            name: self.name,
            model: Some(self.model),
            request: self.request,
            call: Box::new(move |req| Box::pin(call(req))),
            record: Box::new(|_| None),
            has_view: false,
            on_error: Box::new(|e, _| default_action(e)),
            delays: default_call_delays(),
            clock: Arc::new(TokioClock),
            seed: None,
            redact_fields: Vec::new(),
            redact_secrets: false,
            callback: None,
            stabilizer: None,
            stabilize_max: Duration::ZERO,
        }
    }
}

/// One call of a chain, with how to record, retry, stabilize and handle it. Run it with
/// [`done`](Self::done), [`progress`](Self::progress) or [`run`](Self::run).
///
/// When run, in order:
/// 1. If the memo says the call succeeded, it is **not** made again (its recorded response is
///    read back). Otherwise the request is recorded, then the call is made; an error goes to
///    [`handle_error`](Self::handle_error) (default [`default_action`]): `Retry` sleeps as the
///    step's [`delay`](Self::delay) says and calls again (failing with the error's code when the
///    delays run out), `Fail(code)` ends the handler with that code, `Ignore` treats the call as
///    made. A call still running at the delays' max wait is dropped (`NetworkFailure`). The
///    [`record`](Self::record)ed view of the output is stored (`null` without one).
/// 2. With [`callback_in`](Self::callback_in), a call made in this invocation ends it with an
///    in-progress event: invoke the handler again with its memo.
/// 3. If a [`stabilize`](Self::stabilize) waiter is set and the memo does not say stabilized, it
///    polls (bounded by its max wait); a timeout or failure state fails with
///    [`HandlerErrorCode::NotStabilized`] and the last state seen.
///
/// Every failure message names the step; failure events carry the memo.
pub struct Step<'a, M, Req, Out, E, Resp = ()> {
    memo: &'a mut Memo,
    bounds: Bounds,
    name: String,
    /// `Some` until the step ends.
    model: Option<M>,
    request: Req,
    call: CallFn<'a, Req, Out, E>,
    record: RecordFn<'a, Out, Resp>,
    has_view: bool,
    on_error: ErrorFn<'a, M, E>,
    delays: Delays,
    clock: Arc<dyn Clock>,
    seed: Option<u64>,
    redact_fields: Vec<String>,
    redact_secrets: bool,
    callback: Option<Duration>,
    stabilizer: Option<StabilizeFn<'a, Req>>,
    /// The stabilization waiter's max wait, over every invocation.
    stabilize_max: Duration,
}

impl<M, Req, Out, E, Resp> fmt::Debug for Step<'_, M, Req, Out, E, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("name", &self.name)
            .field("delays", &self.delays)
            .field("callback", &self.callback)
            .field("stabilizes", &self.stabilizer.is_some())
            .finish_non_exhaustive()
    }
}

/// A step that stopped the handler (`Err`) or the model and recorded response to go on with.
pub type StepResult<M, Resp> = Result<(M, Option<Resp>), ProgressEvent<M>>;

impl<'a, M, Req, Out, E, Resp> Step<'a, M, Req, Out, E, Resp>
where
    Req: Serialize + DeserializeOwned + Clone + Send + Sync + 'a,
    Resp: Serialize + DeserializeOwned,
    E: PollError + std::error::Error + Send + 'a,
{
    /// Records this view of the output in the memo (and hands it to [`done`](Self::done)), e.g.
    /// `|out| out.table_description().and_then(|t| t.table_arn()).map(str::to_string)`. The view
    /// is optional, as the SDK's output fields are: `None` records `null`, and `done` gets `None`.
    /// Without a view the memo records `null`: a resumed handler then has no response, only the
    /// request.
    pub fn record<R>(self, view: impl Fn(&Out) -> Option<R> + Send + Sync + 'a) -> Step<'a, M, Req, Out, E, R>
    where
        R: Serialize + DeserializeOwned,
    {
        Step {
            memo: self.memo,
            bounds: self.bounds,
            name: self.name,
            model: self.model,
            request: self.request,
            call: self.call,
            record: Box::new(view),
            has_view: true,
            on_error: self.on_error,
            delays: self.delays,
            clock: self.clock,
            seed: self.seed,
            redact_fields: self.redact_fields,
            redact_secrets: self.redact_secrets,
            callback: self.callback,
            stabilizer: self.stabilizer,
            stabilize_max: self.stabilize_max,
        }
    }

    /// The delays between retries of the call (default [`default_call_delays`]).
    pub fn delay(mut self, delays: Delays) -> Self {
        self.delays = delays;
        self
    }

    /// The clock of the retry sleeps (e.g. a [`VirtualClock`](crate::wait::VirtualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Seeds the jitter of the retry delays.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Redacts these fields (at any depth, see [`redact`](super::redact())) of the request and the
    /// recorded response before they enter the memo. The call, when it must be made again, then
    /// uses a fresh translation instead of the recorded request.
    pub fn redact(mut self, fields: &[&str]) -> Self {
        self.redact_fields.extend(fields.iter().map(|f| f.to_string()));
        self
    }

    /// Redacts [`SECRET_FIELDS`](super::SECRET_FIELDS) and SecureString values (see
    /// [`redact_secrets`](super::redact_secrets())) before anything enters the memo.
    pub fn redact_secrets(mut self) -> Self {
        self.redact_secrets = true;
        self
    }

    /// After a call made in this invocation, return an in-progress event asking to be invoked
    /// again after `delay` (with the memo) instead of stabilizing now. The event's
    /// `callbackDelaySeconds` is the delay in whole seconds, rounded up.
    pub fn callback_in(mut self, delay: Duration) -> Self {
        self.callback = Some(delay);
        self
    }

    /// Stabilizes after the call: `waiter` polls `poll(&request)` until it succeeds, bounded by
    /// its max wait. The future `poll` returns must not borrow the request (the SDK's fluent
    /// builders copy their arguments, so `|req| ddb.describe_table().table_name(&req.name).send()`
    /// is fine). The waiter sees each error as its [`ErrorSummary`] (same code and status, so
    /// its acceptors match as before), so "last seen" never holds a raw HTTP response. An instrumented client reports
    /// the polls as [read-backs](crate::observe::read_back).
    pub fn stabilize<SO, SE, F, Fut>(mut self, waiter: Waiter<SO>, poll: F) -> Self
    where
        SO: fmt::Debug + Send + Sync + 'a,
        SE: PollError + std::error::Error + Send + Sync + 'a,
        F: Fn(&Req) -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<SO, SE>> + Send + 'a,
    {
        self.stabilize_max = waiter.delays().max_wait_time();
        self.stabilizer = Some(Box::new(move |req: Req, max_wait: Duration| {
            let delays = waiter.delays().clone().max_wait(max_wait);
            let waiter = waiter.with_delays(delays);
            Box::pin(async move {
                let poll = || {
                    let read = poll(&req);
                    async move { read.await.map_err(|e| ErrorSummary::of(&e)) }
                };
                let stabilized = crate::observe::read_back(waiter.wait(poll)).await;
                stabilized.map(|settled| settled.attempts)
            })
        }));
        self
    }

    /// Decides what a failed call does (default [`default_action`]): see [`ErrorAction`].
    pub fn handle_error(mut self, handle: impl Fn(&E, &M) -> ErrorAction + Send + Sync + 'a) -> Self {
        self.on_error = Box::new(handle);
        self
    }

    /// Runs the step, then `done(model, response)` makes the event. An in-progress event from
    /// `done` is given the memo. The response is `None` without a [`record`](Self::record) view
    /// or when the error was ignored.
    pub async fn done(self, done: impl FnOnce(M, Option<Resp>) -> ProgressEvent<M>) -> ProgressEvent<M> {
        let (memo, result) = self.execute().await;
        match result {
            Ok((model, response)) => {
                let mut event = done(model, response);
                if event.status == super::OperationStatus::InProgress {
                    event.memo = memo.clone();
                }
                event
            }
            Err(event) => event,
        }
    }

    /// Runs the step and, when it completes, returns an in-progress event with no callback
    /// delay, so that [`ProgressEvent::then`] runs the next step at once.
    pub async fn progress(self) -> ProgressEvent<M> {
        let (memo, result) = self.execute().await;
        match result {
            Ok((model, _)) => ProgressEvent::progress(model, memo.clone(), 0),
            Err(event) => event,
        }
    }

    /// Runs the step: the model and recorded response, or the event that ends the invocation
    /// (a failure or a callback).
    pub async fn run(self) -> StepResult<M, Resp> {
        self.execute().await.1
    }

    fn to_memo_json<T: Serialize>(&self, value: &T) -> Result<Value, serde_json::Error> {
        let mut json = serde_json::to_value(value)?;
        let fields: Vec<&str> = self.redact_fields.iter().map(String::as_str).collect();
        redact(&mut json, &fields);
        if self.redact_secrets {
            redact_secrets(&mut json);
        }
        Ok(json)
    }

    fn redacts(&self) -> bool {
        self.redact_secrets || !self.redact_fields.is_empty()
    }

    async fn execute(mut self) -> (&'a mut Memo, StepResult<M, Resp>) {
        let result = self.execute_inner().await;
        (self.memo, result)
    }

    fn fail(&self, code: HandlerErrorCode, message: impl fmt::Display) -> ProgressEvent<M> {
        let mut event = ProgressEvent::failed(code, format!("chain step {}: {message}", self.name));
        event.memo = self.memo.clone();
        event
    }

    async fn execute_inner(&mut self) -> StepResult<M, Resp> {
        let name = self.name.clone();
        let existing = self.memo.call(&name).cloned();
        let called = existing.as_ref().is_some_and(|r| r.is_called());
        let request: Req = match &existing {
            Some(record) if !self.redacts() && !record.request.is_null() => {
                match serde_json::from_value(record.request.clone()) {
                    Ok(request) => request,
                    Err(e) => {
                        return Err(self.fail(
                            HandlerErrorCode::HandlerInternalFailure,
                            format!("the recorded request cannot be read: {e}"),
                        ));
                    }
                }
            }
            _ => self.request.clone(),
        };

        let response: Option<Resp> = if called {
            // Without a view of its own (e.g. a different handler version), the step reads nothing.
            let recorded = existing.and_then(|r| r.response).filter(|_| self.has_view);
            match recorded.map(serde_json::from_value::<Resp>).transpose() {
                Ok(response) => response,
                Err(e) => {
                    return Err(self.fail(
                        HandlerErrorCode::HandlerInternalFailure,
                        format!("the recorded response cannot be read: {e}"),
                    ));
                }
            }
        } else {
            if self.bounds.deadline.as_ref().is_some_and(Deadline::is_up) {
                return Err(self.stop("before the call").await);
            }
            let response = self.make_call(&request).await?;
            if self.stabilizer.is_none() {
                self.memo.record_mut(&name).stabilized = true;
            }
            self.save().await?;
            if let Some(delay) = self.callback {
                let model = self.take_model();
                return Err(ProgressEvent::progress(model, self.memo.clone(), delay_seconds(delay)));
            }
            response
        };

        if let Some(stabilizer) = self.stabilizer.take()
            && !self.memo.is_stabilized(&name)
        {
            // The waiter's max wait spans invocations: what earlier ones waited is taken off,
            // and this one waits at most until the deadline.
            let waited = Duration::from_millis(self.memo.call(&name).map_or(0, |r| r.waited_ms));
            let budget = self.stabilize_max.saturating_sub(waited);
            let usable = self.bounds.deadline.as_ref().map(Deadline::usable);
            let by_deadline = usable.is_some_and(|usable| usable < budget);
            let max_wait = usable.map_or(budget, |usable| usable.min(budget));
            if by_deadline && max_wait.is_zero() {
                return Err(self.stop("before stabilization").await);
            }
            match stabilizer(request, max_wait).await {
                Err(WaitError::Timeout { elapsed, .. }) if by_deadline => {
                    let waited_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
                    let record = self.memo.record_mut(&name);
                    record.waited_ms = record.waited_ms.saturating_add(waited_ms);
                    return Err(self.stop("stabilization").await);
                }
                Ok(attempts) => {
                    tracing::debug!(step = %name, attempts, "chain step stabilized");
                    self.memo.record_mut(&name).stabilized = true;
                    self.save().await?;
                }
                Err(e) => {
                    let (code, what) = match &e {
                        WaitError::Timeout { .. } | WaitError::FailureState { .. } => {
                            (HandlerErrorCode::NotStabilized, "did not stabilize")
                        }
                        WaitError::UnexpectedError { code, status, .. } => {
                            (classify(code.as_deref(), *status), "stabilization failed")
                        }
                        _ => (HandlerErrorCode::HandlerInternalFailure, "stabilization failed"),
                    };
                    return Err(self.fail(code, format!("{what}: {e}")));
                }
            }
        }
        Ok((self.take_model(), response))
    }

    /// Records the request, makes the call with retries, records the response.
    async fn make_call(&mut self, request: &Req) -> Result<Option<Resp>, ProgressEvent<M>> {
        let name = self.name.clone();
        let request_json = match self.to_memo_json(request) {
            Ok(json) => json,
            Err(e) => {
                return Err(self.fail(
                    HandlerErrorCode::HandlerInternalFailure,
                    format!("the request cannot be recorded: {e}"),
                ));
            }
        };
        self.memo.record_mut(&name).request = request_json;
        self.save().await?;

        let mut rng = match self.seed {
            Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
            None => rand::rngs::StdRng::from_rng(&mut rand::rng()),
        };
        let start = self.clock.now();
        let deadline = start.saturating_add(self.delays.max_wait_time());
        let mut attempt: u32 = 0;
        let mut last_error: Option<String> = None;
        loop {
            attempt += 1;
            self.memo.record_mut(&name).attempts += 1;
            let call = (self.call)(request.clone());
            let stop = self.bounds.deadline.as_ref().map(Deadline::stop);
            let stop = async move {
                match stop {
                    Some(stop) => stop.await,
                    None => std::future::pending().await,
                }
            };
            let call = async move {
                tokio::select! {
                    result = call => Some(result),
                    () = stop => None,
                }
            };
            let result = match select(pin!(call), self.clock.deadline(deadline)).await {
                Either::Left((Some(result), _)) => result,
                Either::Left((None, _)) => return Err(self.stop("the call").await),
                Either::Right(_) => {
                    return Err(self.fail(
                        HandlerErrorCode::NetworkFailure,
                        format!(
                            "attempt {attempt} of the call got no response within {:?}; last error: {}",
                            self.delays.max_wait_time(),
                            last_error.as_deref().unwrap_or("none")
                        ),
                    ));
                }
            };
            let error = match result {
                Ok(output) => {
                    let response = (self.record)(&output);
                    let json = match response.as_ref().map(|r| self.to_memo_json(r)).transpose() {
                        Ok(json) => json,
                        Err(e) => {
                            return Err(self.fail(
                                HandlerErrorCode::HandlerInternalFailure,
                                format!("the response cannot be recorded: {e}"),
                            ));
                        }
                    };
                    let record = self.memo.record_mut(&name);
                    record.called = true;
                    record.response = json;
                    return Ok(response);
                }
                Err(error) => error,
            };
            let described = ErrorSummary::of(&error).to_string();
            let elapsed = self.clock.now().saturating_sub(start);
            let action = match &self.model {
                Some(model) => (self.on_error)(&error, model),
                None => default_action(&error),
            };
            match action {
                ErrorAction::Ignore => {
                    tracing::debug!(step = %name, attempt, error = %described, "chain call error ignored");
                    let record = self.memo.record_mut(&name);
                    record.called = true;
                    record.response = None;
                    self.save().await?;
                    return Ok(None);
                }
                ErrorAction::Fail(code) => {
                    return Err(
                        self.fail(code, format!("call failed after {attempt} attempt(s): {described}"))
                    );
                }
                ErrorAction::Retry => match self.delays.next_delay(attempt, elapsed, &mut rng) {
                    Some(delay) if self.bounds.deadline.as_ref().is_some_and(|d| d.usable() < delay) => {
                        return Err(self
                            .stop(&format!("instead of retrying the call after {described}"))
                            .await);
                    }
                    Some(delay) => {
                        tracing::debug!(step = %name, attempt, delay_ms = delay.as_millis() as u64,
                            error = %described, "chain call retried");
                        last_error = Some(described);
                        self.clock.sleep(delay).await;
                    }
                    None => {
                        return Err(self.fail(
                            classify_error(&error),
                            format!("call gave up after {attempt} attempt(s) in {elapsed:?}: {described}"),
                        ));
                    }
                },
            }
        }
    }

    /// Saves the memo through the checkpoint, if any.
    async fn save(&self) -> Result<(), ProgressEvent<M>> {
        let Some(checkpoint) = &self.bounds.checkpoint else { return Ok(()) };
        checkpoint.save(self.memo).await.map_err(|e| match e {
            MemoStoreError::Conflict { .. } => self.fail(
                HandlerErrorCode::ResourceConflict,
                format!("another invocation saved the memo first: {e}"),
            ),
            e => {
                self.fail(HandlerErrorCode::HandlerInternalFailure, format!("the memo cannot be saved: {e}"))
            }
        })
    }

    /// The deadline is near: saves the memo and asks to be called back.
    async fn stop(&mut self, during: &str) -> ProgressEvent<M> {
        if let Err(failed) = self.save().await {
            return failed;
        }
        let delay = self.bounds.deadline.as_ref().map_or(Duration::ZERO, Deadline::callback);
        tracing::debug!(step = %self.name, during, "chain step stopped at the invocation's deadline");
        let message = format!("chain step {}: stopped {during} at the invocation's deadline", self.name);
        ProgressEvent::progress(self.take_model(), self.memo.clone(), delay_seconds(delay))
            .with_message(message)
    }

    fn take_model(&mut self) -> M {
        self.model.take().expect("the model is taken once, at the end of a step")
    }
}
