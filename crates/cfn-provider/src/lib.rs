//! A CloudFormation resource-provider runtime for Rust: typed CREATE / READ / UPDATE / DELETE /
//! LIST handlers ([`Provider`]) over a serde resource model, written as aws-settle call chains
//! that survive callbacks, crashes and deadlines.
//!
//! The [`Runtime`] accepts CloudFormation's handler request and the CloudFormation CLI's local
//! test payload, builds SDK configuration from the credentials it was given (never logging
//! them), loads the handler's memo (a [`FileStore`](aws_settle::chain::FileStore) by default,
//! keyed by the client request token), runs the handler with the invocation's deadline, and
//! answers the ProgressEvent JSON ([`Response`]). A malformed payload or an unknown action is
//! `FAILED` / `InvalidRequest`, a panicking handler `FAILED` / `InternalFailure`; neither panics
//! the runtime. It runs on AWS Lambda (feature `lambda`: `serve_lambda`) and locally from a file
//! or stdin ([`Runtime::handle_reader`]).
//!
//! ```no_run
//! use aws_settle::chain::ProgressEvent;
//! use cfn_provider::{Context, Listed, Provider, Runtime};
//! # #[derive(Clone, serde::Serialize, serde::Deserialize)] struct Model { name: String }
//! struct Things;
//! impl Provider for Things {
//!     type Model = Model;
//!     async fn create(&self, cx: &mut Context<Model>) -> ProgressEvent<Model> {
//!         match cx.desired_model() { Ok(m) => ProgressEvent::success(m), Err(e) => e }
//!     }
//! #   async fn read(&self, cx: &mut Context<Model>) -> ProgressEvent<Model> { todo!() }
//! #   async fn update(&self, cx: &mut Context<Model>) -> ProgressEvent<Model> { todo!() }
//! #   async fn delete(&self, cx: &mut Context<Model>) -> ProgressEvent<Model> { todo!() }
//!     async fn list(&self, _cx: &mut Context<Model>) -> Result<Listed<Model>, ProgressEvent<Model>> {
//!         Ok(Listed { models: vec![], next_token: None })
//!     }
//! }
//! # async fn run() {
//! let response = Runtime::new(Things).handle_reader(std::io::stdin(), None).await;
//! println!("{}", response.to_json());
//! # }
//! ```

mod credentials;
#[cfg(feature = "lambda")]
mod lambda;
mod payload;
mod provider;
mod response;
mod runtime;

pub use credentials::{Credentials, sdk_config};
#[cfg(feature = "lambda")]
pub use lambda::serve_lambda;
pub use payload::{Action, Invocation, MAX_PAYLOAD_BYTES, PayloadError, Shape};
pub use provider::{Context, Listed, Provider};
pub use response::Response;
pub use runtime::Runtime;
