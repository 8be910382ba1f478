//! Post-conditions: every mutating call returns only once its change is *confirmed* by reading
//! it back.
//!
//! Attach an [`Enforcer`] to a client once; the client records each write it knows (typed input
//! and output, via an SDK interceptor) and the awaited step reads the resource back, with the
//! [`wait`](crate::wait) engine, until the change is visible.
//!
//! ```no_run
//! # #[cfg(feature = "ssm")]
//! # async fn demo(sdk_config: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use aws_settle::post::{Enforcer, SettleExt};
//!
//! let enforcer = Enforcer::new();
//! let ssm = aws_settle::post::attach(aws_sdk_ssm::Client::new(sdk_config), &enforcer); // once
//!
//! // Serial: returns once GetParameter reads version >= the returned one, with this value.
//! ssm.put_parameter().name("/app/a").value("1").send().settled().await?;
//!
//! // Batch: record many writes, settle them all concurrently at the end of the scope.
//! enforcer
//!     .scope(async {
//!         for i in 0..50 {
//!             ssm.put_parameter().name(format!("/app/p{i}")).value("x").send().await?;
//!         }
//!         Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//!     })
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - Which operations are checked, and how, is data: one table per service in `post/services/`
//!   ([`coverage`] lists them all); users add their own [`Rule`]s with
//!   [`EnforcerBuilder::with_rule`].
//! - Settling fails closed: a call no enforcer recorded (its client is not attached) and a write
//!   no rule checks are errors ([`NotRecorded`], [`UncheckedWrite`]), unless lenient
//!   ([`SettleOptions::with_lenient`]: one `tracing` warning and a count each). Reads pass.
//! - Settling never retries the write itself; it only reads. Reads are paced by a
//!   [`LearnedSchedule`] per service, operation and region (learned from the enforcer's own
//!   read-backs; the fixed schedule until it has enough), or fixed ([`Pacing::Fixed`]).
//! - Every check has a bounded wait (the rule's default or [`SettleOptions::with_max_wait`], per
//!   enforcer or per call); the error names the operation, the resource, what was expected and
//!   what was last seen (bounded, secrets redacted).
//! - Writes made outside [`SettleExt::settled`] and [`Enforcer::scope`] are kept in the enforcer
//!   until [`Enforcer::settle_pending`]; a scope also settles the writes recorded on other tasks
//!   (e.g. ones it spawned) while it ran.

mod check;
mod enforcer;
mod options;
mod recorder;
mod rule;
mod schedule;
mod services;

pub use check::{Check, CheckFailed, NotRecorded, ReadBackError, SettleError, UncheckedWrite};
pub use enforcer::{Enforcer, EnforcerBuilder, SettleExt, Stats};
pub use options::{DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, SettleOptions};
pub use recorder::Recorder;
pub use rule::{Attach, Coverage, Rule, attach};
pub use schedule::{LearnedSchedule, LearnedWait, Observation, Pacing, ScheduleKey, Summary};
pub use services::coverage;
