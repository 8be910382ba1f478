//! Cross-service propagation: a consumer call that names a principal another service created a
//! moment before (a new IAM role, instance profile, a key policy's principal) is retried while
//! it fails with the consumer's *propagation* error, and only then.
//!
//! Reading the role back from IAM does not help: IAM answers at once, the consumer (Lambda, EC2,
//! KMS…) sees the role seconds later. So the retry lives on the consumer client, attached once:
//!
//! ```no_run
//! # #[cfg(feature = "lambda")]
//! # async fn demo(sdk_config: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use aws_settle::propagate::{Propagation, attach};
//!
//! let propagation = Propagation::new();
//! let lambda = attach(aws_sdk_lambda::Client::new(sdk_config), &propagation); // once
//! // CreateFunction right after CreateRole: retried while Lambda cannot assume the role yet.
//! lambda.create_function().function_name("f").role("arn:aws:iam::123456789012:role/new").send().await?;
//! for waited in propagation.waits() {
//!     println!("{waited}"); // waited 7.2 s for IAM role propagation before lambda:CreateFunction
//! }
//! # Ok(()) }
//! ```
//!
//! - Which errors are propagation errors is data: [`signatures`] lists the built-in rows (service,
//!   operation, error code, message substring, what it waits for, budget), from the retries
//!   Terraform's AWS provider hand-writes for each; [`Propagation::with_signature`] adds a row.
//! - Only those errors are retried, with the [`wait`](crate::wait) engine's [`Delays`], until the
//!   row's budget is spent; then the error is returned as the service answered it. Every other
//!   error gets the SDK's own retry policy, unchanged.
//! - Each call that waited is recorded ([`Propagation::waits`]) and logged (`tracing`, target
//!   `aws_settle::propagate`).
//!
//! Settling the producer for a named consumer needs a probe without side effects: for a role
//! that trusts the caller, [`Propagation::until_assumable`] (`sts:AssumeRole`, feature `sts`).
//! A role whose trust policy names a service (`lambda.amazonaws.com`) cannot be assumed by the
//! caller, so nothing tells when *that service* sees it: retrying the consumer is the only
//! reliable check (the `probe` module's table lists each consumer).

#[cfg(feature = "sts")]
pub mod probe;
mod retry;
pub(crate) mod table;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[allow(unused_imports)]
use aws_smithy_runtime_api::client::interceptors::Intercept;
#[allow(unused_imports)]
use aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry;

use crate::wait::Delays;

/// One propagation error: the consumer call, how its error reads, what it waits for, and how long
/// to wait at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// The consumer service, as its cargo feature spells it (`lambda`, `ec2`).
    pub service: &'static str,
    /// The consumer operation (`CreateFunction`).
    pub operation: &'static str,
    /// The error code (`InvalidParameterValueException`).
    pub code: &'static str,
    /// A substring of the error message; empty matches any message of `code`.
    pub message: &'static str,
    /// What is propagating, in words (`IAM role`).
    pub waits_for: &'static str,
    /// The longest the call is retried for (from its first attempt).
    pub budget: Duration,
}

/// The built-in signatures.
pub fn signatures() -> &'static [Signature] {
    table::SIGNATURES
}

/// One call that waited for propagation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    /// The consumer service.
    pub service: &'static str,
    /// The consumer operation.
    pub operation: String,
    /// What it waited for ([`Signature::waits_for`]).
    pub waits_for: &'static str,
    /// Propagation retries made.
    pub retries: u32,
    /// The call's time from its start to its end: its attempts and the sleeps between them.
    pub waited: Duration,
    /// Whether the call succeeded in the end (else its budget ran out or another error came).
    pub succeeded: bool,
}

impl fmt::Display for Waited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = if self.succeeded { "" } else { ", and gave up" };
        write!(
            f,
            "waited {:.1} s for {} propagation before {}:{} ({} retries{outcome})",
            self.waited.as_secs_f64(),
            self.waits_for,
            self.service,
            self.operation,
            self.retries
        )
    }
}

/// Most [`Waited`] records kept (oldest dropped first).
const MAX_WAITS: usize = 10_000;

/// The signatures and delays attached clients retry with, and the record of their waits.
/// Cloning shares the record.
///
/// Defaults: the built-in [`signatures`]; delays [`Delays::smithy`] from 1 s to 10 s (each row's
/// budget is the max wait).
#[derive(Debug, Clone)]
pub struct Propagation {
    signatures: Arc<Vec<Signature>>,
    delays: Delays,
    waits: Arc<Mutex<Vec<Waited>>>,
}

impl Default for Propagation {
    fn default() -> Self {
        Self::new()
    }
}

impl Propagation {
    /// The built-in signatures and default delays.
    pub fn new() -> Self {
        Propagation {
            signatures: Arc::new(table::SIGNATURES.to_vec()),
            delays: Delays::smithy(Duration::from_secs(1), Duration::from_secs(10)),
            waits: Arc::default(),
        }
    }

    /// Adds a row (checked before the built-in ones).
    pub fn with_signature(mut self, signature: Signature) -> Self {
        Arc::make_mut(&mut self.signatures).insert(0, signature);
        self
    }

    /// The delays between retries (their max wait is replaced by each row's budget).
    pub fn with_delays(mut self, delays: Delays) -> Self {
        self.delays = delays;
        self
    }

    /// The signatures in force, user rows first.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The calls that waited so far, oldest first.
    pub fn waits(&self) -> Vec<Waited> {
        self.waits.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, waited: Waited) {
        let mut waits = self.waits.lock().unwrap_or_else(|e| e.into_inner());
        if waits.len() >= MAX_WAITS {
            waits.remove(0);
        }
        waits.push(waited);
    }
}

/// A client type propagation retries can be attached to: one impl per service feature.
pub trait Attach: Sized {
    /// This client, retrying `propagation`'s errors for its service.
    fn attach_propagation(self, propagation: &Propagation) -> Self;
}

/// Returns `client` retrying the propagation errors of its service (the one line existing code
/// changes). Attaching again replaces the earlier attachment.
pub fn attach<C: Attach>(client: C, propagation: &Propagation) -> C {
    client.attach_propagation(propagation)
}

/// Per supported client ([`crate::clients`]): its [`Attach`] impl.
macro_rules! attach_impls {
    ($(($module:ident, $feature:literal, $sdk:ident)),* $(,)?) => {
        $(
            #[cfg(feature = $feature)]
            impl Attach for $sdk::Client {
                fn attach_propagation(self, propagation: &Propagation) -> Self {
                    let config = self.config();
                    let mut builder = config.to_builder();
                    builder.set_interceptors(config.interceptors().filter(|i| !retry::is_ours(i.name())));
                    builder.set_retry_classifiers(
                        config.retry_classifiers().filter(|c| !retry::is_ours(c.name())),
                    );
                    let (interceptor, classifier) = retry::parts($feature, propagation);
                    $sdk::Client::from_conf(builder.interceptor(interceptor).retry_classifier(classifier).build())
                }
            }
        )*
    };
}
crate::clients::for_each_client!(attach_impls);
