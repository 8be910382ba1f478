//! CloudFormation-style call chains: initiate → translate → call → record → stabilize →
//! handle errors → done / progress / then, with a serializable [`Memo`] so that a handler
//! invoked again after a callback (or a crash) continues where it left off.
//!
//! ```no_run
//! # #[cfg(feature = "dynamodb")]
//! # async fn handler(ddb: aws_sdk_dynamodb::Client, model: Table, memo: &mut aws_settle::chain::Memo)
//! #     -> aws_settle::chain::ProgressEvent<Table> {
//! use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
//! use aws_sdk_dynamodb::types::*;
//! use aws_settle::chain::{Chain, ProgressEvent};
//! use aws_settle::wait::{Delays, Waiter};
//! use std::time::Duration;
//!
//! let ready = Waiter::new(Delays::smithy(Duration::from_secs(1), Duration::from_secs(10)).max_wait(Duration::from_secs(120)))
//!     .success_when(|o: &DescribeTableOutput| o.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active))
//!     .retry_on_error_code("ResourceNotFoundException");
//! Chain::new(memo)
//!     .initiate("create-table", model)
//!     .translate(|m| m.name.clone())                       // the request: a String, recorded in the memo
//!     .call(|name| {                                    // the fluent builder owns what it sends
//!         ddb.create_table().table_name(name)
//!             .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
//!             .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
//!             .billing_mode(BillingMode::PayPerRequest)
//!             .send()
//!     })
//!     .record(|out| out.table_description().and_then(|t| t.table_arn()).map(str::to_string))
//!     .callback_in(Duration::from_secs(5))                 // first invocation: call, then "call me back in 5 s"
//!     .stabilize(ready, |name| ddb.describe_table().table_name(name).send())
//!     .done(|model, arn| ProgressEvent::success(Table { arn, ..model }))  // arn: Option<String>
//!     .await
//! # }
//! # #[derive(Clone)] struct Table { name: String, arn: Option<String> }
//! # fn main() {}
//! ```
//!
//! * **Resume.** The memo records each named call: the request (as the user's serializable
//!   `Req`, which the SDK's input types are not), the [`Step::record`]ed view of the response,
//!   whether it stabilized and how many attempts it took. A call the memo says succeeded is not
//!   made again; a stabilized one is not polled again. Hand the memo back via
//!   [`ProgressEvent::memo`] (`callbackContext` in JSON).
//! * **Errors.** A failed call goes to [`Step::handle_error`] (default [`default_action`]: retry
//!   throttling, 5xx and no-response errors with the step's jittered exponential
//!   [`delay`](Step::delay), then fail with the [`ERROR_CODES`] mapping). Stabilization uses a
//!   [`Waiter`](crate::wait::Waiter); its timeout is [`HandlerErrorCode::NotStabilized`] with the
//!   last state seen.
//! * **Secrets.** Requests and responses are the user's types: keep secrets out of them, or
//!   [`Step::redact`] / [`Step::redact_secrets`] named fields before they are stored ([`redact`]).
//! * **Bounded.** Call retries are bounded by their delays' max wait (a hanging call is dropped
//!   there), stabilization by the waiter's. Dropping the future stops everything.

mod codes;
mod deadline;
#[cfg(test)]
mod durable_tests;
mod event;
mod memo;
mod redact;
mod status;
mod step;
pub mod store;
#[cfg(test)]
mod tests;

pub use codes::{ERROR_CODES, ErrorAction, classify, classify_error, default_action};
pub use deadline::Deadline;
pub use event::ProgressEvent;
pub use memo::{CallRecord, Memo};
pub use redact::{REDACTED, SECRET_FIELDS, redact, redact_secrets};
pub use status::{HandlerErrorCode, OperationStatus};
pub use step::{Chain, Initiated, Step, StepResult, Translated, default_call_delays};
pub use store::{Checkpoint, FileStore, InMemoryStore, MemoStore, MemoStoreError, Versioned};
