//! Post-conditions: every mutating call returns only once its change is *realized*.
//!
//! Attach an [`Enforcer`] to a client once; the client records each write it knows (typed input
//! and output, via an SDK interceptor) and the awaited step reads the resource back, with the
//! [`wait`](crate::wait) engine, until the change is visible.
//!
//! ```no_run
//! # #[cfg(feature = "ssm")]
//! # async fn demo(sdk_config: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use aws_settle::post::{Enforcer, Settle};
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
//!         Ok::<_, aws_sdk_ssm::Error>(())
//!     })
//!     .await??;
//! # Ok(()) }
//! ```
//!
//! - Which operations are checked, and how, is data: one table per service in `post/services/`
//!   ([`coverage`] lists them all). A write without a rule passes through untouched and is
//!   counted ([`Stats::unchecked`]), never claimed as settled.
//! - Settling never retries the write itself; it only reads.
//! - Every check has a bounded wait (the rule's default, [`Enforcer::with_timeout`], or
//!   [`Settle::settled_within`]); the error names the operation, the resource, what was expected
//!   and what was last seen.
//! - Writes made outside [`Settle::settled`] and [`Enforcer::scope`] (or in a task spawned from
//!   them: the collector is task-local) are kept in the enforcer until
//!   [`Enforcer::settle_pending`].

mod check;
mod enforcer;
mod recorder;
mod rule;
pub mod services;

pub use check::{NotSettled, SettleError, Unsettled};
pub use enforcer::{Enforcer, Settle, Stats};
pub use rule::{Attach, Coverage, attach, coverage};
