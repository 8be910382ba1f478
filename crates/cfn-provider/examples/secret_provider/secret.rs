//! `Settle::SecretsManager::Secret`: a Secrets Manager secret as a CloudFormation resource type,
//! its handlers written as call chains with post-conditions.
//!
//! Properties: `Id` (read-only primary identifier: the ARN), `Name` (create-only; generated from
//! the logical id and the request token when absent), `Description`, `SecretString`
//! (write-only: never answered, never in the memo, never logged) and `Tags` (`Key`/`Value`).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_settle::chain::{ErrorAction, HandlerErrorCode, ProgressEvent, default_action};
use aws_settle::errors::ErrorSummary;
use aws_settle::post::{Enforcer, SettleError, SettleExt, attach};
use aws_settle::wait::{Delays, PollError, Waiter};
use cfn_provider::{Context, Listed, Provider};
use serde::{Deserialize, Serialize};

/// The resource model.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Secret {
    /// The ARN (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name (create-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The secret value (write-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<String>,
    /// The tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Shows everything but the secret value.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("description", &self.description)
            .field("secret_string", &self.secret_string.as_ref().map(|_| "<redacted>"))
            .field("tags", &self.tags)
            .finish()
    }
}

impl Secret {
    fn tag_map(&self) -> BTreeMap<String, String> {
        self.tags.iter().flatten().map(|t| (t.key.clone(), t.value.clone())).collect()
    }

    /// The model DescribeSecret shows (no secret value).
    fn described(out: &DescribeSecretOutput) -> Self {
        let tags: Vec<Tag> = out
            .tags()
            .iter()
            .filter_map(|t| Some(Tag { key: t.key()?.to_string(), value: t.value()?.to_string() }))
            .collect();
        Self {
            id: out.arn().map(str::to_string),
            name: out.name().map(str::to_string),
            description: out.description().map(str::to_string).filter(|d| !d.is_empty()),
            secret_string: None,
            tags: (!tags.is_empty()).then_some(tags),
        }
    }
}

/// What CreateSecret is asked, as recorded in the memo: everything but the secret value.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CreateRequest {
    name: String,
    description: Option<String>,
    tags: Vec<Tag>,
    token: String,
}

/// The resource type.
#[derive(Debug, Clone, Default)]
pub struct SecretProvider;

/// A secret scheduled for deletion counts as gone, as the handler contract wants.
fn gone(out: &DescribeSecretOutput) -> bool {
    out.deleted_date().is_some()
}

fn sdk_tag(tag: &Tag) -> aws_sdk_secretsmanager::types::Tag {
    aws_sdk_secretsmanager::types::Tag::builder().key(&tag.key).value(&tag.value).build()
}

fn not_found(id: &str) -> ProgressEvent<Secret> {
    ProgressEvent::failed(HandlerErrorCode::NotFound, format!("secret {id} not found"))
}

/// A settled write: the call's error keeps its code and status (so throttling is retried),
/// a post-condition that did not hold is `NotStabilized`.
async fn settled<T, E>(call: impl Future<Output = Result<T, SettleError<E>>>) -> Result<T, ErrorSummary>
where
    E: PollError + std::error::Error + aws_sdk_secretsmanager::error::ProvideErrorMetadata + 'static,
{
    call.await.map_err(|e| match e {
        SettleError::Call(e) => ErrorSummary::of(&e),
        other => ErrorSummary::new(Some("NotStabilized"), None, Some(&other.to_string())),
    })
}

fn settle_errors(error: &ErrorSummary, _: &Secret) -> ErrorAction {
    match error.code.as_deref() {
        Some("NotStabilized") => ErrorAction::Fail(HandlerErrorCode::NotStabilized),
        Some("ResourceNotFoundException") => ErrorAction::Fail(HandlerErrorCode::NotFound),
        _ => default_action(error),
    }
}

/// Polls DescribeSecret every 0.2–2 s for up to 2 minutes until the secret is seen.
fn visible() -> Waiter<DescribeSecretOutput> {
    Waiter::new(
        Delays::smithy(Duration::from_millis(200), Duration::from_secs(2)).max_wait(Duration::from_secs(120)),
    )
    .named("SecretVisible")
    .success_when(|o: &DescribeSecretOutput| o.arn().is_some())
    .retry_on_error_code("ResourceNotFoundException")
}

// The error is the event the handler answers, returned once per invocation: its size costs nothing.
#[allow(clippy::result_large_err)]
impl SecretProvider {
    /// DescribeSecret of `id`: the model, or the event to answer (NotFound when missing or deleted).
    async fn describe(sm: &Client, id: &str) -> Result<Secret, ProgressEvent<Secret>> {
        match sm.describe_secret().secret_id(id).send().await {
            Ok(out) if gone(&out) => Err(not_found(id)),
            Ok(out) => Ok(Secret::described(&out)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                Err(not_found(id))
            }
            Err(e) => {
                let summary = ErrorSummary::of(&e);
                Err(ProgressEvent::failed(
                    aws_settle::chain::classify_error(&summary),
                    format!("DescribeSecret: {summary}"),
                ))
            }
        }
    }

    /// The primary identifier of the desired model, or NotFound.
    fn id(cx: &Context<Secret>) -> Result<String, ProgressEvent<Secret>> {
        cx.desired.as_ref().and_then(|m| m.id.clone()).ok_or_else(|| not_found("(no Id given)"))
    }
}

impl Provider for SecretProvider {
    type Model = Secret;
    const WRITE_ONLY: &'static [&'static str] = &["SecretString"];

    async fn create(&self, cx: &mut Context<Secret>) -> ProgressEvent<Secret> {
        let desired = match cx.desired_model() {
            Ok(model) => model,
            Err(event) => return event,
        };
        let sm = Client::new(&cx.config);
        // Secrets Manager takes tokens of 32 to 64 characters; CloudFormation's are UUIDs (36).
        let token: String = format!("{:-<32}", cx.invocation.client_request_token).chars().take(64).collect();
        let logical = cx.invocation.logical_resource_id.clone().unwrap_or_else(|| "Secret".to_string());
        let secret_value = desired.secret_string.clone();
        cx.chain()
            .initiate("create-secret", desired)
            .translate(|m| CreateRequest {
                name: m.name.clone().unwrap_or_else(|| {
                    let suffix: String = token.chars().filter(char::is_ascii_alphanumeric).take(12).collect();
                    format!("{logical}-{suffix}")
                }),
                description: m.description.clone(),
                tags: m.tags.clone().unwrap_or_default(),
                token: token.clone(),
            })
            .call(|req| {
                let tags = req.tags.iter().map(sdk_tag);
                sm.create_secret()
                    .name(req.name)
                    .set_description(req.description)
                    .set_secret_string(secret_value.clone())
                    .set_tags(Some(tags.collect()))
                    .client_request_token(req.token)
                    .send()
            })
            .record(|out| out.arn().map(str::to_string))
            .stabilize(visible(), |req| sm.describe_secret().secret_id(&req.name).send())
            .done(|model, arn| ProgressEvent::success(Secret { id: arn, secret_string: None, ..model }))
            .await
    }

    async fn read(&self, cx: &mut Context<Secret>) -> ProgressEvent<Secret> {
        let id = match Self::id(cx) {
            Ok(id) => id,
            Err(event) => return event,
        };
        match Self::describe(&Client::new(&cx.config), &id).await {
            Ok(model) => ProgressEvent::success(model),
            Err(event) => event,
        }
    }

    async fn update(&self, cx: &mut Context<Secret>) -> ProgressEvent<Secret> {
        let (id, desired) = match (Self::id(cx), cx.desired_model()) {
            (Ok(id), Ok(desired)) => (id, desired),
            (Err(event), _) | (_, Err(event)) => return event,
        };
        let enforcer = Enforcer::new();
        let sm = attach(Client::new(&cx.config), &enforcer);
        let current = match Self::describe(&sm, &id).await {
            Ok(model) => model,
            Err(event) => return event,
        };
        if desired.name.is_some() && desired.name != current.name {
            return ProgressEvent::failed(HandlerErrorCode::NotUpdatable, "Name is create-only");
        }
        let (old, new) = (current.tag_map(), desired.tag_map());
        let removed: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
        let added: Vec<Tag> = new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(*v))
            .map(|(k, v)| Tag { key: k.clone(), value: v.clone() })
            .collect();
        let secret_value = desired.secret_string.clone();
        let step = cx
            .chain()
            .initiate("update-secret", desired)
            .translate(|m| (id.clone(), m.description.clone().unwrap_or_default()))
            .call(|(id, description)| {
                let update = sm.update_secret().secret_id(id).description(description);
                settled(update.set_secret_string(secret_value.clone()).send().settled())
            })
            .handle_error(settle_errors)
            .run()
            .await;
        let desired = match step {
            Ok((desired, _)) => desired,
            Err(event) => return event,
        };
        if !removed.is_empty() {
            let step = cx
                .chain()
                .initiate("untag", desired.clone())
                .translate(|_| (id.clone(), removed))
                .call(|(id, keys)| {
                    settled(sm.untag_resource().secret_id(id).set_tag_keys(Some(keys)).send().settled())
                })
                .handle_error(settle_errors)
                .run()
                .await;
            if let Err(event) = step {
                return event;
            }
        }
        if !added.is_empty() {
            let step = cx
                .chain()
                .initiate("tag", desired)
                .translate(|_| (id.clone(), added))
                .call(|(id, tags)| {
                    let tags = tags.iter().map(sdk_tag);
                    settled(sm.tag_resource().secret_id(id).set_tags(Some(tags.collect())).send().settled())
                })
                .handle_error(settle_errors)
                .run()
                .await;
            if let Err(event) = step {
                return event;
            }
        }
        match Self::describe(&sm, &id).await {
            Ok(model) => ProgressEvent::success(model),
            Err(event) => event,
        }
    }

    async fn delete(&self, cx: &mut Context<Secret>) -> ProgressEvent<Secret> {
        let id = match Self::id(cx) {
            Ok(id) => id,
            Err(event) => return event,
        };
        let enforcer = Enforcer::new();
        let sm = attach(Client::new(&cx.config), &enforcer);
        let model = match (cx.memo.is_called("delete-secret"), Self::describe(&sm, &id).await) {
            // Already deleted by an earlier invocation of this request: finish it.
            (true, _) => Secret { id: Some(id.clone()), ..Secret::default() },
            (false, Ok(model)) => model,
            (false, Err(event)) => return event,
        };
        cx.chain()
            .initiate("delete-secret", model)
            .translate(|_| id.clone())
            .call(|id| {
                settled(sm.delete_secret().secret_id(id).force_delete_without_recovery(true).send().settled())
            })
            .handle_error(settle_errors)
            .done(|model, _| ProgressEvent::success(model))
            .await
    }

    async fn list(&self, cx: &mut Context<Secret>) -> Result<Listed<Secret>, ProgressEvent<Secret>> {
        let sm = Client::new(&cx.config);
        let page =
            sm.list_secrets().set_next_token(cx.invocation.next_token.clone()).send().await.map_err(|e| {
                let summary = ErrorSummary::of(&e);
                ProgressEvent::failed(
                    aws_settle::chain::classify_error(&summary),
                    format!("ListSecrets: {summary}"),
                )
            })?;
        let models = page
            .secret_list()
            .iter()
            .filter(|s| s.deleted_date().is_none())
            .map(|s| Secret {
                id: s.arn().map(str::to_string),
                name: s.name().map(str::to_string),
                ..Secret::default()
            })
            .collect();
        Ok(Listed { models, next_token: page.next_token().map(str::to_string) })
    }
}
