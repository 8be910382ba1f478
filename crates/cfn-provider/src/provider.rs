//! [`Provider`]: a resource type's typed handlers, and the [`Context`] each one gets.

use std::future::Future;

use aws_settle::chain::{Chain, Checkpoint, Deadline, HandlerErrorCode, Memo, ProgressEvent};
use aws_types::SdkConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::payload::Invocation;

/// One page of a LIST.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<M> {
    /// The models (primary identifiers at least).
    pub models: Vec<M>,
    /// The token of the next page, if any.
    pub next_token: Option<String>,
}

/// A resource type: CREATE, READ, UPDATE, DELETE and LIST over its model. Each handler gets
/// the invocation's [`Context`] (models, SDK configuration from the caller's credentials, the
/// memo, a [`Chain`] that saves it) and answers a [`ProgressEvent`]; the runtime turns it into
/// CloudFormation's JSON. READ and LIST must finish in one invocation: an IN_PROGRESS from them
/// is answered as `InternalFailure`.
pub trait Provider: Send + Sync {
    /// The resource model (the resource type's schema as a serde type).
    type Model: Serialize + DeserializeOwned + Send + Sync;

    /// Top-level properties never answered back (write-only in the schema, e.g. a secret
    /// value): removed from every model the runtime answers.
    const WRITE_ONLY: &'static [&'static str] = &[];

    /// CREATE.
    fn create(
        &self,
        cx: &mut Context<Self::Model>,
    ) -> impl Future<Output = ProgressEvent<Self::Model>> + Send;
    /// READ: NotFound when the resource does not exist.
    fn read(&self, cx: &mut Context<Self::Model>) -> impl Future<Output = ProgressEvent<Self::Model>> + Send;
    /// UPDATE: NotFound when the resource does not exist.
    fn update(
        &self,
        cx: &mut Context<Self::Model>,
    ) -> impl Future<Output = ProgressEvent<Self::Model>> + Send;
    /// DELETE: NotFound when the resource does not exist. A success answers no model.
    fn delete(
        &self,
        cx: &mut Context<Self::Model>,
    ) -> impl Future<Output = ProgressEvent<Self::Model>> + Send;
    /// LIST: one page.
    fn list(
        &self,
        cx: &mut Context<Self::Model>,
    ) -> impl Future<Output = Result<Listed<Self::Model>, ProgressEvent<Self::Model>>> + Send;
}

/// What a handler gets.
#[derive(Debug)]
pub struct Context<M> {
    /// The invocation (credentials show as `<redacted>`).
    pub invocation: Invocation,
    /// The desired state, read into the model.
    pub desired: Option<M>,
    /// The previous state (UPDATE), read into the model.
    pub previous: Option<M>,
    /// SDK configuration signed with the caller's credentials, for the invocation's region
    /// (and `AWS_ENDPOINT_URL` when set).
    pub config: SdkConfig,
    /// The memo: from the memo store, else from the callback context, else empty.
    pub memo: Memo,
    pub(crate) checkpoint: Option<Checkpoint>,
    pub(crate) deadline: Option<Deadline>,
}

impl<M> Context<M> {
    /// A chain over the memo that saves it to the memo store around each call and stops at the
    /// invocation's deadline (see [`Chain::checkpoint`], [`Chain::deadline`]).
    pub fn chain(&mut self) -> Chain<'_> {
        let mut chain = Chain::new(&mut self.memo);
        if let Some(checkpoint) = &self.checkpoint {
            chain = chain.checkpoint(checkpoint);
        }
        if let Some(deadline) = &self.deadline {
            chain = chain.deadline(deadline);
        }
        chain
    }

    /// The invocation's deadline, when it has one.
    pub fn deadline(&self) -> Option<&Deadline> {
        self.deadline.as_ref()
    }

    /// The desired model, or an `InvalidRequest` event to answer when the request has none.
    pub fn desired_model(&self) -> Result<M, ProgressEvent<M>>
    where
        M: Clone,
    {
        self.desired.clone().ok_or_else(|| {
            ProgressEvent::failed(
                HandlerErrorCode::InvalidRequest,
                "the request has no desired resource state",
            )
        })
    }
}
