//! The SDK interceptor that records a client's writes for its [`Enforcer`].
//!
//! Vocabulary: our "call" is smithy's "execution" (one `send()`, all its attempts).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::Enforcer;
use super::check::UncheckedWrite;
use super::rule::{Rule, Table};

/// The SDK interceptor that records one client's calls for an [`Enforcer`].
///
/// It captures the typed input of a write before serialization, and after a successful execution
/// builds the rule's checks from input and output with `reader` (the same client without this
/// interceptor) and hands them to the enforcer. A write without a rule is handed over as
/// unchecked; every call marks the settle step around it as recorded.
///
/// [`attach`](super::attach) installs one on the built-in clients. For a client of any other SDK
/// crate, get one from [`Enforcer::recorder`] and add it to the client's config:
///
/// ```no_run
/// # #[cfg(feature = "dynamodb")]
/// # fn demo(sdk_config: &aws_types::SdkConfig, enforcer: aws_settle::post::Enforcer) {
/// // (DynamoDB stands in for any SDK crate here.)
/// let reader = aws_sdk_dynamodb::Client::new(sdk_config);
/// let recorder = enforcer.recorder("dynamodb", &["GetItem", "Query"], reader);
/// let config = aws_sdk_dynamodb::config::Builder::from(sdk_config).interceptor(recorder).build();
/// let client = aws_sdk_dynamodb::Client::from_conf(config);
/// # }
/// ```
pub struct Recorder<C> {
    pub(crate) reader: C,
    pub(crate) table: Arc<Table<C>>,
    pub(crate) enforcer: Enforcer,
}

impl<C> fmt::Debug for Recorder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").field("service", &self.table.service).finish()
    }
}

/// The typed input of the current call, as its rule keeps it, kept in the call's config bag.
struct Captured<C> {
    rule: Arc<Rule<C>>,
    input: Box<dyn Any + Send + Sync>,
}

impl<C> fmt::Debug for Captured<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Captured").field("operation", &self.rule.operation).finish_non_exhaustive()
    }
}

impl<C: Send + Sync + 'static> Storable for Captured<C> {
    type Storer = StoreReplace<Self>;
}

/// The typed input of the current call as the tagging-view rule keeps it.
#[cfg(feature = "tagging")]
struct CapturedViewInput(Box<dyn Any + Send + Sync>);

#[cfg(feature = "tagging")]
impl fmt::Debug for CapturedViewInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CapturedViewInput")
    }
}

#[cfg(feature = "tagging")]
impl Storable for CapturedViewInput {
    type Storer = StoreReplace<Self>;
}

/// The name every [`Recorder`] reports, by which re-attaching finds and replaces it.
pub(crate) const RECORDER_NAME: &str = "aws-settle post-condition recorder";

/// Whether `interceptor` is a recorder of some enforcer.
pub(crate) fn is_recorder(interceptor: &SharedInterceptor) -> bool {
    interceptor.name() == RECORDER_NAME
}

impl<C: Send + Sync + 'static> Recorder<C> {
    /// The user's rule for `operation`, else the built-in one.
    fn rule(&self, operation: &str) -> Option<Arc<Rule<C>>> {
        self.enforcer.user_rule::<C>(operation).or_else(|| self.table.find(operation).cloned())
    }
}

impl<C: Send + Sync + 'static> Intercept for Recorder<C> {
    fn name(&self) -> &'static str {
        RECORDER_NAME
    }

    // Not `read_before_execution`: client-level interceptors run that hook before the operation's
    // configuration (and its `Metadata`) is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(operation) = cfg.load::<Metadata>().map(|m| m.name().to_string()) else { return Ok(()) };
        if let Some(rule) = self.rule(&operation)
            && let Some(input) = rule.capture(context.input())
        {
            cfg.interceptor_state().store_put(Captured { rule, input });
        }
        #[cfg(feature = "tagging")]
        if self.enforcer.tagging_view().is_some()
            && let Some(captured) =
                self.table.find_view(&operation).and_then(|rule| rule.capture(context.input()))
        {
            cfg.interceptor_state().store_put(CapturedViewInput(captured));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.enforcer.saw_call();
        // A failed call changed nothing to settle.
        let Some(Ok(output)) = context.output_or_error() else { return Ok(()) };
        let Some(operation) = cfg.load::<Metadata>().map(|m| m.name().to_string()) else { return Ok(()) };
        let captured = cfg.load::<Captured<C>>();
        #[allow(unused_mut)]
        let mut checks = match captured {
            Some(captured) => captured.rule.build(&self.reader, captured.input.as_ref(), output),
            None => Vec::new(),
        };
        #[cfg(feature = "tagging")]
        if let (Some(view), Some(rule), Some(input)) =
            (self.enforcer.tagging_view(), self.table.find_view(&operation), cfg.load::<CapturedViewInput>())
        {
            checks.extend(rule.build(view, input.0.as_ref(), output));
        }
        if checks.is_empty() {
            if !self.table.needs_no_check(&operation) {
                let has_rule = self.rule(&operation).is_some();
                self.enforcer.record_unchecked(UncheckedWrite {
                    service: self.table.service,
                    operation,
                    has_rule,
                });
            }
            return Ok(());
        }
        let region = cfg.load::<aws_types::region::Region>().map(|r| r.to_string());
        for check in checks {
            let key = super::ScheduleKey::new(self.table.service, check.operation, region.clone());
            self.enforcer.record_keyed(check, key);
        }
        Ok(())
    }
}
