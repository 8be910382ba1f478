//! A [`Rule`]: how one mutating operation is read back; service tables of rules; [`Attach`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use aws_smithy_runtime_api::client::interceptors::context::{Input, Output};

use super::Enforcer;
use super::check::Check;

type CaptureFn = Box<dyn Fn(&Input) -> Option<Box<dyn Any + Send + Sync>> + Send + Sync>;
type BuildFn<C> = Box<dyn Fn(&C, &(dyn Any + Send + Sync), &Output) -> Vec<Check> + Send + Sync>;

/// How one mutating operation of an SDK client `C` is read back: the write (its operation name
/// and typed input `I` and output `O`) and a function that turns them into [`Check`]s, each a
/// read call and the acceptors of a [`Waiter`](crate::wait::Waiter).
///
/// The built-in service tables are made of these, and a user adds their own with
/// [`EnforcerBuilder::with_rule`](super::EnforcerBuilder::with_rule): they run exactly as the
/// built-in ones (bounded waits, the same errors, batched in [`Enforcer::scope`]). A rule for an
/// operation that has a built-in rule replaces it.
///
/// ```no_run
/// # #[cfg(feature = "s3")]
/// # async fn demo(sdk_config: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
/// use aws_sdk_s3::operation::copy_object::{CopyObjectInput, CopyObjectOutput};
/// use aws_sdk_s3::operation::head_object::HeadObjectOutput;
/// use aws_settle::post::{Check, Enforcer, Rule, SettleExt, attach};
/// use aws_settle::wait::Waiter;
///
/// // CopyObject is readable once HeadObject on the target answers the copy's ETag.
/// let copy_object = Rule::new(
///     "CopyObject",
///     "HeadObject: the copy's ETag",
///     |s3: &aws_sdk_s3::Client, input: &CopyObjectInput, output: &CopyObjectOutput| {
///         let (Some(bucket), Some(key)) = (input.bucket(), input.key()) else { return vec![] };
///         let Some(etag) = output.copy_object_result().and_then(|r| r.e_tag()) else { return vec![] };
///         let (s3, b, k, etag) = (s3.clone(), bucket.to_string(), key.to_string(), etag.to_string());
///         let waiter = Waiter::default()
///             .success_when(move |o: &HeadObjectOutput| o.e_tag() == Some(etag.as_str()))
///             .retry_on_error_code("NotFound");
///         vec![Check::new("CopyObject", format!("s3://{b}/{k}"), "HeadObject answers the copy's ETag", waiter,
///             move || s3.head_object().bucket(&b).key(&k).send())]
///     },
/// );
/// let enforcer = Enforcer::builder().with_rule(copy_object).build();
/// let s3 = attach(aws_sdk_s3::Client::new(sdk_config), &enforcer);
/// s3.copy_object().copy_source("src/a").bucket("dst").key("a").send().settled().await?;
/// # Ok(()) }
/// ```
pub struct Rule<C> {
    /// The operation, as the SDK's metadata names it (`PutParameter`).
    pub(crate) operation: &'static str,
    /// What the read-back checks, in words (the README's coverage table).
    pub(crate) checks: &'static str,
    capture: CaptureFn,
    build: BuildFn<C>,
}

impl<C> fmt::Debug for Rule<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule").field("operation", &self.operation).field("checks", &self.checks).finish()
    }
}

impl<C: 'static> Rule<C> {
    /// A rule for `operation` (as the SDK names it: `CopyObject`), whose typed input `I` and
    /// output `O` give the checks `build` makes with the reader client `C` (the same client,
    /// without recording). `checks` says in words what is read back. `build` returning no
    /// check means the write cannot be confirmed for this input: settling it fails unless
    /// lenient.
    pub fn new<I, O>(
        operation: &'static str,
        checks: &'static str,
        build: impl Fn(&C, &I, &O) -> Vec<Check> + Send + Sync + 'static,
    ) -> Self
    where
        I: Clone + fmt::Debug + Send + Sync + 'static,
        O: fmt::Debug + Send + Sync + 'static,
    {
        Self::with_kept(operation, checks, I::clone, build)
    }

    /// As [`new`](Self::new), for inputs that cannot be cloned (a streaming body): `keep`
    /// extracts what the checks need from the input before it is sent.
    pub fn with_kept<I, K, O>(
        operation: &'static str,
        checks: &'static str,
        keep: impl Fn(&I) -> K + Send + Sync + 'static,
        build: impl Fn(&C, &K, &O) -> Vec<Check> + Send + Sync + 'static,
    ) -> Self
    where
        I: fmt::Debug + Send + Sync + 'static,
        K: Send + Sync + 'static,
        O: fmt::Debug + Send + Sync + 'static,
    {
        Rule {
            operation,
            checks,
            capture: Box::new(move |input| {
                input.downcast_ref::<I>().map(|i| Box::new(keep(i)) as Box<dyn Any + Send + Sync>)
            }),
            build: Box::new(move |client, kept, output| {
                match (kept.downcast_ref::<K>(), output.downcast_ref::<O>()) {
                    (Some(kept), Some(output)) => build(client, kept, output),
                    _ => Vec::new(),
                }
            }),
        }
    }

    /// The operation.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// What the read-back checks, in words.
    pub fn checks(&self) -> &'static str {
        self.checks
    }

    pub(crate) fn capture(&self, input: &Input) -> Option<Box<dyn Any + Send + Sync>> {
        (self.capture)(input)
    }

    pub(crate) fn build(&self, client: &C, input: &(dyn Any + Send + Sync), output: &Output) -> Vec<Check> {
        (self.build)(client, input, output)
    }
}

/// The client of the Resource Groups Tagging API view.
#[cfg(feature = "tagging")]
pub(crate) type ViewClient = aws_sdk_resourcegroupstagging::Client;

/// The coverage text of a write that needs no read-back.
const CONFIRMED_BY_RESPONSE: &str = "none needed: only its response is read (a step of a larger write)";

/// A service's post-condition table.
pub(crate) struct Table<C> {
    /// The service, as in `Stats::unchecked` keys (`ssm`).
    pub(crate) service: &'static str,
    /// Operations that change nothing: never unchecked writes. Every other operation without a
    /// rule is a write nothing confirms (fail closed).
    pub(crate) reads: &'static [&'static str],
    /// Writes whose only reader is the caller, through the response (e.g. the steps of a
    /// multipart upload): they need no read-back and are listed in the coverage as such.
    pub(crate) confirmed_by_response: &'static [&'static str],
    pub(crate) rules: Vec<Arc<Rule<C>>>,
    /// Tag writes and how the tagging API view shows them (used when the enforcer opts in).
    #[cfg(feature = "tagging")]
    pub(crate) view: Vec<Arc<Rule<ViewClient>>>,
}

impl<C> Table<C> {
    /// The table of a client without built-in rules.
    pub(crate) fn user(service: &'static str, reads: &'static [&'static str]) -> Self {
        Table {
            service,
            reads,
            confirmed_by_response: &[],
            rules: Vec::new(),
            #[cfg(feature = "tagging")]
            view: Vec::new(),
        }
    }

    pub(crate) fn find(&self, operation: &str) -> Option<&Arc<Rule<C>>> {
        self.rules.iter().find(|r| r.operation == operation)
    }

    /// Whether `operation` needs no read-back: it only reads, or its response confirms it.
    pub(crate) fn needs_no_check(&self, operation: &str) -> bool {
        self.reads.contains(&operation) || self.confirmed_by_response.contains(&operation)
    }

    #[cfg(feature = "tagging")]
    pub(crate) fn find_view(&self, operation: &str) -> Option<&Arc<Rule<ViewClient>>> {
        self.view.iter().find(|r| r.operation == operation)
    }

    pub(crate) fn coverage(&self) -> Vec<Coverage> {
        let row = |operation, checks| Coverage { service: self.service, operation, checks };
        #[allow(unused_mut)]
        let mut rows: Vec<Coverage> = self.rules.iter().map(|r| row(r.operation, r.checks)).collect();
        #[cfg(feature = "tagging")]
        rows.extend(self.view.iter().map(|r| row(r.operation, r.checks)));
        rows.extend(self.confirmed_by_response.iter().map(|op| row(op, CONFIRMED_BY_RESPONSE)));
        rows
    }
}

/// A client type an [`Enforcer`] can be attached to: one impl per service feature.
pub trait Attach: Sized {
    /// This client, recording its writes into `enforcer`.
    fn attach(self, enforcer: &Enforcer) -> Self;
}

/// Returns `client` with `enforcer` attached: its writes are recorded, and settled by
/// [`SettleExt::settled`](super::SettleExt::settled) or [`Enforcer::scope`]. The one line existing
/// code changes. Attaching a client that already has an enforcer moves it to `enforcer` (a write
/// is never recorded twice).
///
/// ```no_run
/// # #[cfg(feature = "ssm")]
/// # fn demo(sdk_config: &aws_types::SdkConfig) {
/// let enforcer = aws_settle::post::Enforcer::new();
/// let ssm = aws_settle::post::attach(aws_sdk_ssm::Client::new(sdk_config), &enforcer);
/// # }
/// ```
pub fn attach<C: Attach>(client: C, enforcer: &Enforcer) -> C {
    client.attach(enforcer)
}

/// One covered operation: what its read-back checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// The service feature (`ssm`, `secretsmanager`, `s3`, `iam`, `dynamodb`).
    pub service: &'static str,
    /// The operation.
    pub operation: &'static str,
    /// What is read back until visible.
    pub checks: &'static str,
}
