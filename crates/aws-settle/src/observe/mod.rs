//! Observability: every call, attempt, throttle, retry decision with its exact backoff sleep, and
//! give-up of an instrumented client becomes an [`Event`], sent to `tracing` (target
//! `aws_settle::observe`), to the `metrics` facade ([`meter`]), into a [`Report`] that answers "why
//! is my job slow?", and to subscribers chosen by wildcard [`Pattern`]s over
//! `service:Operation:kind`.
//!
//! ```no_run
//! # async fn f(sdk_config: aws_types::SdkConfig) {
//! use aws_settle::observe::{Telemetry, instrument};
//!
//! let telemetry = Telemetry::new();
//! # #[cfg(feature = "dynamodb")] {
//! let dynamodb = instrument(aws_sdk_dynamodb::Client::new(&sdk_config), &telemetry); // the one changed line
//! telemetry.on("dynamodb:*:throttled", |e| eprintln!("{} throttled on attempt {}", e.operation, e.attempt)).unwrap();
//! // ... use `dynamodb` as before ...
//! # let _ = dynamodb; }
//! println!("{}", telemetry.report()); // e.g. "62% of 41.2 s call time was backoff after throttling on dynamodb:PutItem ..."
//! # }
//! ```
//!
//! How it sees what it sees: an SDK interceptor reports calls and attempts (service from the
//! client, operation from the config bag's `Metadata`, HTTP status, error code from the
//! `x-amzn-errortype` header or the error body's code, never any other content). Retry decisions
//! live in the client's retry strategy, which interceptors cannot see; the generated config
//! builders do not let a client-wide runtime plugin wrap it, so the backoff is read where the
//! strategy's decision is carried out: the client's sleep, wrapped in a probe that knows which
//! sleep is the backoff of which failed attempt (see `backoff.rs`). The SDK's own retry behaviour
//! (standard or adaptive mode, attempts, token bucket) is untouched.
//!
//! With post-conditions, instrument first and then [`attach`](crate::post::attach): the enforcer's
//! reader is built from the instrumented config, so its read-backs are observed too. Calls made
//! inside [`read_back`] (a chain's stabilization polls; a post-condition's read-backs once the
//! enforcer runs its checks in it) are reported as read-backs, in report rows of their own.
//!
//! Throttling and retryable failures are recognised by [`crate::errors`]' vocabulary (error code,
//! or HTTP 429 / 5xx / no response); `THROTTLING_CODES`, `is_throttling` and `is_retryable` are
//! re-exported from there.

mod backoff;
pub(crate) mod classify;
mod event;
mod interceptor;
pub mod meter;
mod origin;
mod pattern;
mod report;
mod services;
mod telemetry;
mod trace;

pub use crate::errors::{THROTTLING_CODES, is_retryable, is_throttling};
pub use event::{Event, EventKind, KIND_NAMES};
pub use origin::read_back;
pub use pattern::{Pattern, PatternError, PatternErrorReason};
pub use report::{Report, Row};
pub use services::{Instrument, instrument};
pub use telemetry::{SubscriptionId, Telemetry};
