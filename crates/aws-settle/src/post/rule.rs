//! A [`Rule`]: how one mutating operation is read back; and [`Attach`], per service.

use std::any::Any;
use std::fmt;

use aws_smithy_runtime_api::client::interceptors::context::{Input, Output};

use super::Enforcer;
use super::check::Check;

type CaptureFn = Box<dyn Fn(&Input) -> Option<Box<dyn Any + Send + Sync>> + Send + Sync>;
type BuildFn<C> = Box<dyn Fn(&C, &(dyn Any + Send + Sync), &Output) -> Vec<Check> + Send + Sync>;

/// How one mutating operation of a service is read back: the row of a service table.
pub(crate) struct Rule<C> {
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

/// A table row: `operation`, whose typed input `I` and output `O` give the checks `build` makes
/// with the reader client `C`. An empty list means "nothing this rule can check for this input"
/// and is counted as unchecked.
pub(crate) fn rule<C, I, O>(
    operation: &'static str,
    checks: &'static str,
    build: fn(&C, &I, &O) -> Vec<Check>,
) -> Rule<C>
where
    C: 'static,
    I: Clone + fmt::Debug + Send + Sync + 'static,
    O: fmt::Debug + Send + Sync + 'static,
{
    rule_with(operation, checks, I::clone, build)
}

/// As [`rule`], for inputs that cannot be cloned (a streaming body): `keep` extracts what the
/// checks need from the input before it is sent.
pub(crate) fn rule_with<C, I, K, O>(
    operation: &'static str,
    checks: &'static str,
    keep: fn(&I) -> K,
    build: fn(&C, &K, &O) -> Vec<Check>,
) -> Rule<C>
where
    C: 'static,
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

impl<C> Rule<C> {
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

/// A service's post-condition table.
pub(crate) struct Table<C> {
    /// The service, as in `Stats::unchecked` keys (`ssm`).
    pub(crate) service: &'static str,
    pub(crate) rules: Vec<Rule<C>>,
    /// Tag writes and how the tagging API view shows them (used when the enforcer opts in).
    #[cfg(feature = "tagging")]
    pub(crate) view: Vec<Rule<ViewClient>>,
}

impl<C> Table<C> {
    pub(crate) fn find(&self, operation: &str) -> Option<&Rule<C>> {
        self.rules.iter().find(|r| r.operation == operation)
    }

    #[cfg(feature = "tagging")]
    pub(crate) fn find_view(&self, operation: &str) -> Option<&Rule<ViewClient>> {
        self.view.iter().find(|r| r.operation == operation)
    }

    fn coverage(&self) -> impl Iterator<Item = Coverage> + '_ {
        let row = |r: &Rule<_>| Coverage { service: self.service, operation: r.operation, checks: r.checks };
        let rows: Vec<Coverage> = self.rules.iter().map(row).collect();
        #[cfg(feature = "tagging")]
        let rows: Vec<Coverage> = rows
            .into_iter()
            .chain(self.view.iter().map(|r| Coverage {
                service: self.service,
                operation: r.operation,
                checks: r.checks,
            }))
            .collect();
        rows.into_iter()
    }
}

/// A client type an [`Enforcer`] can be attached to: one impl per service feature.
pub trait Attach: Sized {
    /// This client, recording its writes into `enforcer`.
    fn attach(self, enforcer: &Enforcer) -> Self;
}

/// Returns `client` with `enforcer` attached: its writes are recorded, and settled by
/// [`Settle::settled`](super::Settle::settled) or [`Enforcer::scope`]. The one line existing code
/// changes. Attaching a client that already has an enforcer moves it to `enforcer` (a write is
/// never recorded twice).
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

/// Every operation the enabled service features cover.
pub fn coverage() -> Vec<Coverage> {
    #[allow(unused_mut)]
    let mut all = Vec::new();
    #[cfg(feature = "ssm")]
    all.extend(super::services::ssm::table().coverage());
    #[cfg(feature = "secretsmanager")]
    all.extend(super::services::secretsmanager::table().coverage());
    #[cfg(feature = "s3")]
    all.extend(super::services::s3::table().coverage());
    #[cfg(feature = "iam")]
    all.extend(super::services::iam::table().coverage());
    #[cfg(feature = "dynamodb")]
    all.extend(super::services::dynamodb::table().coverage());
    all
}
