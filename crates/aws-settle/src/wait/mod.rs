//! The poll engine: waiters, acceptors, Smithy waiter delays and botocore `waiters-2.json` models.
//!
//! A [`Waiter`] calls an async operation, shows each result to its [`Acceptor`]s in order, and
//! the first that matches decides: [`State::Success`], [`State::Failure`] or [`State::Retry`].
//! An error that no acceptor matches fails the wait at once; an output that none matches is
//! retried. Between attempts it sleeps as its [`Delays`] say (Smithy's jittered exponential
//! delays by default, botocore's fixed delay as an option), never past the max wait time; a call
//! still running at the max wait time is dropped and the wait times out.
//!
//! Matchers look at the typed output (Rust closures), the error (its code, or any error / no
//! error), the HTTP status, or a JMESPath over the JSON view of the output with botocore's
//! `path` / `pathAll` / `pathAny` semantics or Smithy's comparators ([`Comparator`]).
//!
//! A closure waiter over an SDK call, retrying while the parameter does not exist yet:
//!
//! ```no_run
//! # #[cfg(feature = "ssm")]
//! # async fn example(ssm: aws_sdk_ssm::Client) -> Result<(), aws_settle::wait::WaitError> {
//! use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
//! use aws_settle::wait::{Delays, Waiter};
//! use std::time::Duration;
//!
//! let settled = Waiter::new(
//!     Delays::smithy(Duration::from_secs(2), Duration::from_secs(120)).max_wait(Duration::from_secs(300)),
//! )
//! .named("ParameterVersion2")
//! .success_when(|o: &GetParameterOutput| o.parameter().is_some_and(|p| p.version() >= 2))
//! .retry_on_error_code("ParameterNotFound")
//! .wait(|| ssm.get_parameter().name("/app/config").send())
//! .await?;
//! println!("settled after {} attempt(s) in {:?}", settled.attempts, settled.elapsed);
//! # Ok(()) }
//! # fn main() {}
//! ```
//!
//! (Compiled with the `ssm` feature; `tests/wait/ssm.rs` runs the same against moto.)
//!
//! JSON waiters come from botocore `waiters-2.json` files ([`Model`]); their JMESPath
//! acceptors read the raw response body captured by [`CaptureBody`] — exact for awsJson and
//! restJson services; XML-protocol services (S3, EC2, IAM, …) and header-only outputs (an empty
//! body, e.g. S3 HeadObject) are **not supported** for JMESPath acceptors (the wait fails with
//! [`WaitError::Unsupported`] at the first output a path acceptor is reached on; status and error
//! matchers still work); closure matchers work everywhere. A model's waiter with a `CaptureBody`
//! checks that the polled operation is the model's ([`WaitError::WrongOperation`]).
//!
//! Every attempt emits a `tracing` debug event (`attempt`, `elapsed_ms`, `acceptor`, `state`,
//! `next_delay_ms`) and calls the optional [`Waiter::on_attempt`] callback. Time and jitter are
//! injectable ([`Clock`], [`VirtualClock`], [`Waiter::seed`]) so tests run in virtual time.

mod acceptor;
mod capture;
mod clock;
mod delay;
mod error;
mod jmespath;
mod model;
mod seen;
mod waiter;

pub use acceptor::{
    Acceptor, Comparator, Decision, EvalError, Matcher, Observation, OutputFn, State, evaluate,
};
pub use capture::CaptureBody;
pub use clock::{Clock, Sleep, TokioClock, VirtualClock};
pub use delay::{DEFAULT_MAX_WAIT, Delays, Schedule};
pub use error::WaitError;
pub use jmespath::{
    JsonPath, JsonPathError, JsonPathErrorKind, MAX_AST_DEPTH, MAX_EVALUATION_UNITS, MAX_EXPRESSION_BYTES,
    MAX_NESTING, MAX_NESTING_TOKENS,
};
pub use model::{MAX_DELAY_SECS, MAX_MODEL_BYTES, Model, ModelError, WaiterModel};
pub use seen::MAX_LAST_SEEN;
pub use waiter::{AttemptReport, ErrorResponse, PollError, Success, Waiter};
