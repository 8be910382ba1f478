//! Secrets Manager: secrets, their versions and staging labels, deletion and tags.
//!
//! Secret values are never read, compared or logged: a new value is proven visible by its version
//! id in DescribeSecret's `VersionIdsToStages` (no permission to read the secret needed).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::create_secret::{CreateSecretInput, CreateSecretOutput};
use aws_sdk_secretsmanager::operation::delete_secret::{DeleteSecretInput, DeleteSecretOutput};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::put_secret_value::{PutSecretValueInput, PutSecretValueOutput};
use aws_sdk_secretsmanager::operation::restore_secret::{RestoreSecretInput, RestoreSecretOutput};
use aws_sdk_secretsmanager::operation::tag_resource::{TagResourceInput, TagResourceOutput};
use aws_sdk_secretsmanager::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
use aws_sdk_secretsmanager::operation::update_secret::{UpdateSecretInput, UpdateSecretOutput};
use aws_sdk_secretsmanager::operation::update_secret_version_stage::{
    UpdateSecretVersionStageInput, UpdateSecretVersionStageOutput,
};
use aws_sdk_secretsmanager::types::Tag;

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

/// Operations that change nothing: the SDK's Get/List/Describe/BatchGet/Query/Scan-style reads.
const READS: &[&str] = &[
    "BatchGetSecretValue",
    "DescribeSecret",
    "GetRandomPassword",
    "GetResourcePolicy",
    "GetSecretValue",
    "ListSecretVersionIds",
    "ListSecrets",
    "ValidateResourcePolicy",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "secretsmanager",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "CreateSecret",
                "DescribeSecret: exists, with every tag given, and the returned VersionId is AWSCURRENT",
                create_secret,
            ),
            rule(
                "PutSecretValue",
                "DescribeSecret: the returned VersionId is AWSCURRENT (or has the stages given)",
                put_secret_value,
            ),
            rule(
                "UpdateSecret",
                "DescribeSecret: a new value's VersionId is AWSCURRENT; the new description",
                update_secret,
            ),
            rule(
                "DeleteSecret",
                "DescribeSecret: DeletedDate set (recovery window) or ResourceNotFoundException (force delete)",
                delete_secret,
            ),
            rule("RestoreSecret", "DescribeSecret: DeletedDate cleared", restore_secret),
            rule("TagResource", "DescribeSecret: every tag added, with its value", tag_resource),
            rule("UntagResource", "DescribeSecret: no removed key", untag_resource),
            rule(
                "UpdateSecretVersionStage",
                "DescribeSecret: the stage on MoveToVersionId and off RemoveFromVersionId",
                update_version_stage,
            ),
        ],
        #[cfg(feature = "tagging")]
        view: view::rules(),
    }
}

fn tags(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
        .collect()
}

fn secret_tags(output: &DescribeSecretOutput) -> impl Iterator<Item = (&str, &str)> {
    output.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

/// A check that polls DescribeSecret on `id` until `done`.
fn describe_until(
    operation: &'static str,
    sm: &Client,
    id: &str,
    expected: String,
    done: impl Fn(&DescribeSecretOutput) -> bool + Send + Sync + 'static,
) -> Check {
    let (sm, secret) = (sm.clone(), id.to_string());
    Check::new(
        operation,
        id,
        expected,
        waiter::<DescribeSecretOutput>().success_when(done).retry_on_error_code("ResourceNotFoundException"),
        move || sm.describe_secret().secret_id(&secret).send(),
    )
}

/// A check that polls DescribeSecret on `id` until `VersionIdsToStages` puts AWSCURRENT on
/// `version`. Not GetSecretValue: that needs permission to read the secret, and would put it in
/// memory just to compare version ids.
fn current_version(operation: &'static str, sm: &Client, id: &str, version: &str) -> Check {
    let wanted = version.to_string();
    let expected = format!("DescribeSecret shows VersionId {version} as AWSCURRENT");
    describe_until(operation, sm, id, expected, move |o| {
        o.version_ids_to_stages()
            .and_then(|m| m.get(&wanted))
            .is_some_and(|stages| stages.iter().any(|s| s == "AWSCURRENT"))
    })
}

fn tags_present(operation: &'static str, sm: &Client, id: &str, wanted: Vec<(String, String)>) -> Check {
    let expected = format!("DescribeSecret shows tags {}", show_tags(&wanted));
    describe_until(operation, sm, id, expected, move |o| has_tags(secret_tags(o), &wanted))
}

fn create_secret(sm: &Client, input: &CreateSecretInput, output: &CreateSecretOutput) -> Vec<Check> {
    let Some(id) = output.arn().or(input.name()) else { return Vec::new() };
    let mut checks = vec![if input.tags().is_empty() {
        describe_until("CreateSecret", sm, id, "DescribeSecret finds the secret".into(), |_| true)
    } else {
        tags_present("CreateSecret", sm, id, tags(input.tags()))
    }];
    if let Some(version) = output.version_id() {
        checks.push(current_version("CreateSecret", sm, id, version));
    }
    checks
}

/// A new version's visibility: AWSCURRENT on it when it became current, else its stages.
fn version_visible(
    operation: &'static str,
    sm: &Client,
    id: &str,
    version: &str,
    stages: &[String],
) -> Check {
    if stages.is_empty() || stages.iter().any(|s| s == "AWSCURRENT") {
        return current_version(operation, sm, id, version);
    }
    let (wanted, stages) = (version.to_string(), stages.to_vec());
    let expected = format!("DescribeSecret shows version {version} with stages {}", stages.join(", "));
    describe_until(operation, sm, id, expected, move |o| {
        o.version_ids_to_stages()
            .and_then(|m| m.get(&wanted))
            .is_some_and(|have| stages.iter().all(|s| have.contains(s)))
    })
}

fn put_secret_value(sm: &Client, input: &PutSecretValueInput, output: &PutSecretValueOutput) -> Vec<Check> {
    match (output.arn().or(input.secret_id()), output.version_id()) {
        (Some(id), Some(version)) => {
            vec![version_visible("PutSecretValue", sm, id, version, output.version_stages())]
        }
        _ => Vec::new(),
    }
}

fn update_secret(sm: &Client, input: &UpdateSecretInput, output: &UpdateSecretOutput) -> Vec<Check> {
    let Some(id) = output.arn().or(input.secret_id()) else { return Vec::new() };
    let mut checks = Vec::new();
    if let Some(version) = output.version_id() {
        checks.push(current_version("UpdateSecret", sm, id, version));
    }
    if let Some(description) = input.description() {
        let wanted = description.to_string();
        let expected = format!("DescribeSecret shows description {wanted:?}");
        checks.push(describe_until("UpdateSecret", sm, id, expected, move |o| {
            o.description() == Some(wanted.as_str())
        }));
    }
    checks
}

fn delete_secret(sm: &Client, input: &DeleteSecretInput, output: &DeleteSecretOutput) -> Vec<Check> {
    let Some(id) = output.arn().or(input.secret_id()) else { return Vec::new() };
    if input.force_delete_without_recovery() == Some(true) {
        let (sm, secret) = (sm.clone(), id.to_string());
        return vec![Check::new(
            "DeleteSecret",
            id,
            "DescribeSecret answers ResourceNotFoundException",
            waiter::<DescribeSecretOutput>()
                .success_on_error_code("ResourceNotFoundException")
                .retry_when(|_| true),
            move || sm.describe_secret().secret_id(&secret).send(),
        )];
    }
    vec![describe_until("DeleteSecret", sm, id, "DescribeSecret shows DeletedDate".into(), |o| {
        o.deleted_date().is_some()
    })]
}

fn restore_secret(sm: &Client, input: &RestoreSecretInput, output: &RestoreSecretOutput) -> Vec<Check> {
    let Some(id) = output.arn().or(input.secret_id()) else { return Vec::new() };
    vec![describe_until("RestoreSecret", sm, id, "DescribeSecret shows no DeletedDate".into(), |o| {
        o.deleted_date().is_none()
    })]
}

fn tag_resource(sm: &Client, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
    input.secret_id().map(|id| tags_present("TagResource", sm, id, tags(input.tags()))).into_iter().collect()
}

fn untag_resource(sm: &Client, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
    let Some(id) = input.secret_id() else { return Vec::new() };
    let keys = input.tag_keys().to_vec();
    let expected = format!("DescribeSecret shows none of the tag keys {}", keys.join(", "));
    vec![describe_until("UntagResource", sm, id, expected, move |o| {
        lacks_keys(o.tags().iter().map(|t| t.key().unwrap_or_default()), &keys)
    })]
}

fn update_version_stage(
    sm: &Client,
    input: &UpdateSecretVersionStageInput,
    output: &UpdateSecretVersionStageOutput,
) -> Vec<Check> {
    let (Some(id), Some(stage)) = (output.arn().or(input.secret_id()), input.version_stage()) else {
        return Vec::new();
    };
    let stage = stage.to_string();
    let on = input.move_to_version_id().map(str::to_string);
    let off = input.remove_from_version_id().map(str::to_string);
    let expected = format!(
        "DescribeSecret shows stage {stage}{}{}",
        on.as_deref().map(|v| format!(" on {v}")).unwrap_or_default(),
        off.as_deref().map(|v| format!(" and not on {v}")).unwrap_or_default()
    );
    vec![describe_until("UpdateSecretVersionStage", sm, id, expected, move |o| {
        let has = |version: &str| {
            o.version_ids_to_stages().and_then(|m| m.get(version)).is_some_and(|s| s.contains(&stage))
        };
        on.as_deref().is_none_or(has) && off.as_deref().is_none_or(|v| !has(v))
    })]
}

/// The tagging API view of secret tags.
#[cfg(feature = "tagging")]
mod view {
    use super::*;
    use crate::post::rule::{Rule, ViewClient};
    use crate::post::services::tagging::{Change, view_check};

    pub(super) fn rules() -> Vec<std::sync::Arc<Rule<ViewClient>>> {
        vec![
            rule("CreateSecret", "GetResources (tagging view, opt-in): every tag given", create_secret),
            rule("TagResource", "GetResources (tagging view, opt-in): every tag added", tag_resource),
            rule("UntagResource", "GetResources (tagging view, opt-in): no removed key", untag_resource),
        ]
    }

    /// A secret id is its ARN, or its name (then the ARN is `...:secret:NAME-xxxxxx`).
    fn check(view: &ViewClient, operation: &'static str, id: &str, change: Change) -> Check {
        let (exact, by_name) = (id.to_string(), format!(":secret:{id}-"));
        let is_secret = move |arn: &str| arn == exact || arn.contains(&by_name);
        view_check(view, operation, id, "secretsmanager:secret", is_secret, change)
    }

    fn create_secret(
        view: &ViewClient,
        input: &CreateSecretInput,
        output: &CreateSecretOutput,
    ) -> Vec<Check> {
        match output.arn().or(input.name()) {
            Some(id) if !input.tags().is_empty() => {
                vec![check(view, "CreateSecret", id, Change::Added(tags(input.tags())))]
            }
            _ => Vec::new(),
        }
    }

    fn tag_resource(view: &ViewClient, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
        let change = Change::Added(tags(input.tags()));
        input.secret_id().map(|id| check(view, "TagResource", id, change)).into_iter().collect()
    }

    fn untag_resource(view: &ViewClient, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
        let change = Change::Removed(input.tag_keys().to_vec());
        input.secret_id().map(|id| check(view, "UntagResource", id, change)).into_iter().collect()
    }
}
