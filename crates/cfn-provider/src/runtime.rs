//! [`Runtime`]: reads a payload, runs the provider's handler, answers a [`Response`].
//!
//! Stages, in order: read the payload ([`Invocation`]) → read the models → build the SDK
//! configuration from the invocation's credentials → load the memo (store, else callback
//! context) → run the handler (a panic is caught) → check the contract (READ/LIST answer
//! synchronously, DELETE answers no model) → save or clear the memo → shape the response
//! (write-only properties and nulls removed).

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use aws_settle::chain::{
    Checkpoint, Deadline, FileStore, HandlerErrorCode, Memo, MemoStore, MemoStoreError, OperationStatus,
    ProgressEvent,
};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use aws_types::sdk_config::RetryConfig;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::credentials::sdk_config;
use crate::payload::{Action, Invocation, MAX_PAYLOAD_BYTES, PayloadError};
use crate::provider::{Context, Provider};
use crate::response::{Response, drop_nulls};

type StoreFor = dyn Fn(&SdkConfig) -> Arc<dyn MemoStore> + Send + Sync;

#[derive(Clone)]
enum Store {
    None,
    Fixed(Arc<dyn MemoStore>),
    PerInvocation(Arc<StoreFor>),
}

/// Runs a [`Provider`]'s handlers on invocation payloads.
///
/// Defaults: memos in a [`FileStore`] at [`FileStore::default_dir`] keyed by the request's
/// client request token; a plain-HTTP client (give a TLS one with
/// [`with_http_client`](Self::with_http_client) for AWS itself); steps stop 5 s before the
/// invocation's deadline and ask to be called back in 5 s.
pub struct Runtime<P> {
    provider: P,
    store: Store,
    http_client: Option<SharedHttpClient>,
    endpoint_url: Option<String>,
    retry: Option<RetryConfig>,
    margin: Duration,
    callback: Duration,
}

impl<P> std::fmt::Debug for Runtime<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("margin", &self.margin)
            .field("callback", &self.callback)
            .finish_non_exhaustive()
    }
}

/// Why the memo could not be loaded or kept, as the handler error to answer.
fn store_failure(error: &MemoStoreError) -> Response {
    let code = match error {
        MemoStoreError::Conflict { .. } => HandlerErrorCode::ResourceConflict,
        MemoStoreError::InvalidKey { .. } => HandlerErrorCode::InvalidRequest,
        _ => HandlerErrorCode::InternalFailure,
    };
    Response::failed(code, format!("memo store: {error}"))
}

/// A model that does not read: the message names what the model expected, never the value
/// found (it could be a secret sent in the wrong property).
fn model_error(field: &str, error: &serde_json::Error) -> Response {
    let text = error.to_string();
    let detail = if text.starts_with("missing field") || text.starts_with("unknown field") {
        text.split(" at line").next().unwrap_or(&text).to_string()
    } else {
        match text.split_once(", expected ") {
            Some((_, expected)) => format!(
                "a property has the wrong type or value (expected {})",
                expected.split(" at line").next().unwrap_or(expected)
            ),
            None => "a property has the wrong type or value".to_string(),
        }
    };
    Response::failed(
        HandlerErrorCode::InvalidRequest,
        format!("{field} does not match the resource model: {detail}"),
    )
}

fn read_model<M: DeserializeOwned>(value: Option<&Value>) -> Result<Option<M>, serde_json::Error> {
    value.map(|v| serde_json::from_value(v.clone())).transpose()
}

impl<P: Provider> Runtime<P> {
    /// A runtime with the defaults above.
    pub fn new(provider: P) -> Self {
        Self {
            provider,
            store: Store::Fixed(Arc::new(FileStore::default())),
            http_client: None,
            endpoint_url: None,
            retry: None,
            margin: Duration::from_secs(5),
            callback: Duration::from_secs(5),
        }
    }

    /// Keeps memos in `store`.
    pub fn with_store(mut self, store: Arc<dyn MemoStore>) -> Self {
        self.store = Store::Fixed(store);
        self
    }

    /// Keeps memos in the store `make` builds per invocation from the SDK configuration of the
    /// provider's credentials (the caller's when the request has none), e.g. a
    /// `DynamoDbStore` on the provider's own table.
    pub fn with_store_for(
        mut self,
        make: impl Fn(&SdkConfig) -> Arc<dyn MemoStore> + Send + Sync + 'static,
    ) -> Self {
        self.store = Store::PerInvocation(Arc::new(make));
        self
    }

    /// Keeps memos only in the callback context CloudFormation hands back.
    pub fn without_store(mut self) -> Self {
        self.store = Store::None;
        self
    }

    /// The HTTP client of the SDK configurations built for handlers.
    pub fn with_http_client(mut self, client: SharedHttpClient) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The endpoint of every SDK configuration built for handlers (default: `AWS_ENDPOINT_URL`
    /// when set, else the service's own).
    pub fn with_endpoint_url(mut self, endpoint_url: impl Into<String>) -> Self {
        self.endpoint_url = Some(endpoint_url.into());
        self
    }

    /// The retry configuration of every SDK configuration built for handlers (default: the
    /// SDK's, standard mode with 3 attempts), e.g. more attempts for an account whose APIs are
    /// often throttled.
    pub fn with_retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// How long before the invocation's deadline a step stops (default 5 s).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The callback delay asked for when a step stops at the deadline (default 5 s).
    pub fn with_callback_delay(mut self, delay: Duration) -> Self {
        self.callback = delay;
        self
    }

    /// Handles one payload; `remaining` is the invocation's time left (none: no deadline).
    pub async fn handle(&self, payload: &[u8], remaining: Option<Duration>) -> Response {
        match Invocation::from_slice(payload) {
            Ok(invocation) => self.invoke(invocation, remaining).await,
            Err(e) => invalid(&e),
        }
    }

    /// Handles one parsed payload (as the Lambda runtime hands it over).
    pub async fn handle_value(&self, payload: &Value, remaining: Option<Duration>) -> Response {
        match Invocation::from_value(payload) {
            Ok(invocation) => self.invoke(invocation, remaining).await,
            Err(e) => invalid(&e),
        }
    }

    /// Reads one payload from `input` (e.g. stdin or a file; at most [`MAX_PAYLOAD_BYTES`]) and
    /// handles it.
    pub async fn handle_reader(&self, input: impl Read, remaining: Option<Duration>) -> Response {
        let mut payload = Vec::new();
        if let Err(e) = input.take(MAX_PAYLOAD_BYTES as u64 + 1).read_to_end(&mut payload) {
            return Response::failed(
                HandlerErrorCode::InvalidRequest,
                format!("the payload cannot be read: {e}"),
            );
        }
        self.handle(&payload, remaining).await
    }

    async fn invoke(&self, invocation: Invocation, remaining: Option<Duration>) -> Response {
        let action = invocation.action;
        tracing::info!(%action, resource_type = invocation.resource_type.as_deref().unwrap_or("-"), "handler invoked");
        let response = self.run(invocation, remaining).await;
        tracing::info!(%action, status = %response.status, error_code = ?response.error_code, "handler answered");
        response
    }

    async fn run(&self, invocation: Invocation, remaining: Option<Duration>) -> Response {
        let action = invocation.action;
        let desired = match read_model(invocation.desired.as_ref()) {
            Ok(model) => model,
            Err(e) => return model_error(desired_field(&invocation), &e),
        };
        let previous = match read_model(invocation.previous.as_ref()) {
            Ok(model) => model,
            Err(e) => return model_error("the previous resource state", &e),
        };
        let Some(caller) = invocation.caller_credentials.as_ref() else {
            return Response::failed(
                HandlerErrorCode::InvalidRequest,
                "requestData.callerCredentials is missing",
            );
        };
        let config_for = |credentials| {
            let config = sdk_config(
                &invocation.region,
                credentials,
                self.http_client.clone(),
                self.endpoint_url.as_deref(),
            );
            match &self.retry {
                Some(retry) => config.into_builder().retry_config(retry.clone()).build(),
                None => config,
            }
        };
        let config = config_for(caller);
        let provider_config =
            invocation.provider_credentials.as_ref().map_or_else(|| config.clone(), config_for);
        let store = match &self.store {
            Store::None => None,
            Store::Fixed(store) => Some(store.clone()),
            Store::PerInvocation(make) => Some(make(&provider_config)),
        };
        let (checkpoint, memo) = match self.load_memo(store, &invocation).await {
            Ok(loaded) => loaded,
            Err(response) => return response,
        };
        let deadline = remaining.map(|remaining| {
            Deadline::after(remaining).with_margin(self.margin).with_callback(self.callback)
        });
        let mut cx = Context { invocation, desired, previous, config, memo, checkpoint, deadline };

        let event = match AssertUnwindSafe(self.dispatch(&mut cx)).catch_unwind().await {
            Ok(event) => event,
            Err(_) => {
                tracing::error!(%action, "the handler panicked");
                return Response::failed(
                    HandlerErrorCode::InternalFailure,
                    format!("the {action} handler panicked"),
                );
            }
        };
        let mut response = match event {
            Dispatched::Event(event) => self.event_response(action, event),
            Dispatched::Response(response) => response,
        };
        if let Some(checkpoint) = &cx.checkpoint {
            let kept = if response.status == OperationStatus::InProgress {
                let memo =
                    response.callback_context.clone().and_then(|c| serde_json::from_value::<Memo>(c).ok());
                checkpoint.save(&memo.unwrap_or_else(|| cx.memo.clone())).await
            } else {
                checkpoint.clear().await
            };
            if let Err(e) = kept {
                if response.status == OperationStatus::InProgress {
                    response = store_failure(&e);
                } else {
                    tracing::warn!(%action, error = %e, "the finished handler's memo was not removed");
                }
            }
        }
        response
    }

    /// The memo to resume from: the store's when it holds one (it is saved around every
    /// call, so it is the newest), else the callback context, else an empty one.
    async fn load_memo(
        &self,
        store: Option<Arc<dyn MemoStore>>,
        invocation: &Invocation,
    ) -> Result<(Option<Checkpoint>, Memo), Response> {
        let from_context = match &invocation.callback_context {
            None => Memo::new(),
            Some(context) => serde_json::from_value::<Memo>(context.clone()).map_err(|_| {
                Response::failed(
                    HandlerErrorCode::InvalidRequest,
                    "callbackContext is not a memo this runtime wrote",
                )
            })?,
        };
        let Some(store) = store else { return Ok((None, from_context)) };
        let (checkpoint, stored) = Checkpoint::open(store, invocation.client_request_token.clone())
            .await
            .map_err(|e| store_failure(&e))?;
        let memo = if checkpoint.version() > 0 { stored } else { from_context };
        Ok((Some(checkpoint), memo))
    }

    async fn dispatch(&self, cx: &mut Context<P::Model>) -> Dispatched<P::Model> {
        let provider = &self.provider;
        Dispatched::Event(match cx.invocation.action {
            Action::Create => provider.create(cx).await,
            Action::Read => provider.read(cx).await,
            Action::Update => provider.update(cx).await,
            Action::Delete => provider.delete(cx).await,
            Action::List => match provider.list(cx).await {
                Ok(listed) => {
                    let models = listed.models.iter().map(|m| self.model_json(m)).collect();
                    return Dispatched::Response(Response {
                        resource_models: Some(models),
                        next_token: listed.next_token,
                        ..Response::success()
                    });
                }
                Err(event) => event,
            },
        })
    }

    fn model_json(&self, model: &P::Model) -> Value {
        let mut json = serde_json::to_value(model).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut json {
            for field in P::WRITE_ONLY {
                map.remove(*field);
            }
        }
        drop_nulls(&mut json);
        json
    }

    fn event_response(&self, action: Action, event: ProgressEvent<P::Model>) -> Response {
        if action.is_synchronous() && event.status == OperationStatus::InProgress {
            return Response::failed(
                HandlerErrorCode::InternalFailure,
                format!("the {action} handler answered IN_PROGRESS: {action} must finish in one invocation"),
            );
        }
        let in_progress = event.status == OperationStatus::InProgress;
        let keeps_model = !(action == Action::Delete && event.status == OperationStatus::Success);
        Response {
            status: event.status,
            error_code: event.error_code,
            message: event.message,
            callback_context: in_progress.then(|| serde_json::to_value(&event.memo).unwrap_or(Value::Null)),
            callback_delay_seconds: if in_progress { event.callback_delay_seconds } else { 0 },
            resource_model: event.model.as_ref().filter(|_| keeps_model).map(|m| self.model_json(m)),
            resource_models: None,
            next_token: None,
        }
    }
}

enum Dispatched<M> {
    Event(ProgressEvent<M>),
    Response(Response),
}

fn desired_field(invocation: &Invocation) -> &'static str {
    match invocation.shape {
        crate::payload::Shape::HandlerRequest => "requestData.resourceProperties",
        crate::payload::Shape::TestEvent => "request.desiredResourceState",
    }
}

fn invalid(error: &PayloadError) -> Response {
    tracing::warn!(error = %error, "invalid handler payload");
    Response::failed(HandlerErrorCode::InvalidRequest, error.to_string())
}
