//! Lambda: function states (a new function is `Pending` until `Active`, an update
//! `InProgress` until `Successful`), deletes, tags and event source mappings.
//!
//! A function is usable (invoked, updated again) only once its state settles: a second update
//! while one is in progress is refused with ResourceConflictException.

use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::create_event_source_mapping::{
    CreateEventSourceMappingInput, CreateEventSourceMappingOutput,
};
use aws_sdk_lambda::operation::create_function::{CreateFunctionInput, CreateFunctionOutput};
use aws_sdk_lambda::operation::delete_event_source_mapping::{
    DeleteEventSourceMappingInput, DeleteEventSourceMappingOutput,
};
use aws_sdk_lambda::operation::delete_function::{DeleteFunctionInput, DeleteFunctionOutput};
use aws_sdk_lambda::operation::get_event_source_mapping::GetEventSourceMappingOutput;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::operation::list_tags::ListTagsOutput;
use aws_sdk_lambda::operation::tag_resource::{TagResourceInput, TagResourceOutput};
use aws_sdk_lambda::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
use aws_sdk_lambda::operation::update_function_code::{UpdateFunctionCodeInput, UpdateFunctionCodeOutput};
use aws_sdk_lambda::operation::update_function_configuration::{
    UpdateFunctionConfigurationInput, UpdateFunctionConfigurationOutput,
};
use aws_sdk_lambda::types::{LastUpdateStatus, State};

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

/// Terraform's Lambda function create/update timeout.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(600);
const NOT_FOUND: &str = "ResourceNotFoundException";

/// Operations that change nothing to read back: the SDK's Get/List reads, and the invocations
/// (their effects are the function's own, not a resource of this client).
const READS: &[&str] = &[
    "Invoke",
    "InvokeAsync",
    "InvokeWithResponseStream",
    "GetAccountSettings",
    "GetAlias",
    "GetCapacityProvider",
    "GetCodeSigningConfig",
    "GetDurableExecution",
    "GetDurableExecutionHistory",
    "GetDurableExecutionState",
    "GetEventSourceMapping",
    "GetFunction",
    "GetFunctionCodeSigningConfig",
    "GetFunctionConcurrency",
    "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig",
    "GetFunctionRecursionConfig",
    "GetFunctionScalingConfig",
    "GetFunctionUrlConfig",
    "GetLayerVersion",
    "GetLayerVersionByArn",
    "GetLayerVersionPolicy",
    "GetPolicy",
    "GetProvisionedConcurrencyConfig",
    "GetResourcePolicy",
    "GetRuntimeManagementConfig",
    "ListAliases",
    "ListCapacityProviders",
    "ListCodeSigningConfigs",
    "ListDurableExecutionsByFunction",
    "ListEventSourceMappings",
    "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs",
    "ListFunctionVersionsByCapacityProvider",
    "ListFunctions",
    "ListFunctionsByCodeSigningConfig",
    "ListLayerVersions",
    "ListLayers",
    "ListProvisionedConcurrencyConfigs",
    "ListTags",
    "ListVersionsByFunction",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "lambda",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule("CreateFunction", "GetFunctionConfiguration: State Active (fails on Failed)", create_function),
            rule(
                "UpdateFunctionCode",
                "GetFunctionConfiguration: LastUpdateStatus Successful (fails on Failed)",
                update_function_code,
            ),
            rule(
                "UpdateFunctionConfiguration",
                "GetFunctionConfiguration: LastUpdateStatus Successful (fails on Failed)",
                update_function_configuration,
            ),
            rule("DeleteFunction", "GetFunction: ResourceNotFoundException", delete_function),
            rule("TagResource", "ListTags: every tag added, with its value", tag_resource),
            rule("UntagResource", "ListTags: no removed key", untag_resource),
            rule(
                "CreateEventSourceMapping",
                "GetEventSourceMapping: found, State neither Creating nor Enabling",
                create_event_source_mapping,
            ),
            rule("DeleteEventSourceMapping", "GetEventSourceMapping: ResourceNotFoundException", delete_mapping),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

/// GetFunctionConfiguration until `done` says the function settled; `failed` ends the wait.
fn configuration(
    lambda: &Client,
    operation: &'static str,
    function: &str,
    expected: &'static str,
    done: fn(&GetFunctionConfigurationOutput) -> bool,
    failed: fn(&GetFunctionConfigurationOutput) -> bool,
) -> Check {
    let (lambda, name) = (lambda.clone(), function.to_string());
    let waiter = waiter::<GetFunctionConfigurationOutput>()
        .success_when(done)
        .failure_when(failed)
        .retry_when(|_| true)
        .retry_on_error_code(NOT_FOUND);
    Check::new(operation, function, expected, waiter, move || {
        lambda.get_function_configuration().function_name(&name).send()
    })
    .with_max_wait(LAMBDA_TIMEOUT)
}

fn active(o: &GetFunctionConfigurationOutput) -> bool {
    o.state() == Some(&State::Active)
}

fn state_failed(o: &GetFunctionConfigurationOutput) -> bool {
    o.state() == Some(&State::Failed)
}

fn updated(o: &GetFunctionConfigurationOutput) -> bool {
    // A function that never reports a last update (older API versions) has nothing in progress.
    o.last_update_status().is_none_or(|s| *s == LastUpdateStatus::Successful)
}

fn update_failed(o: &GetFunctionConfigurationOutput) -> bool {
    o.last_update_status() == Some(&LastUpdateStatus::Failed)
}

fn create_function(lambda: &Client, input: &CreateFunctionInput, _: &CreateFunctionOutput) -> Vec<Check> {
    let Some(name) = input.function_name() else { return Vec::new() };
    vec![configuration(lambda, "CreateFunction", name, "GetFunctionConfiguration shows State Active", active, state_failed)]
}

fn update(lambda: &Client, operation: &'static str, name: Option<&str>) -> Vec<Check> {
    let Some(name) = name else { return Vec::new() };
    let expected = "GetFunctionConfiguration shows LastUpdateStatus Successful";
    vec![configuration(lambda, operation, name, expected, updated, update_failed)]
}

fn update_function_code(lambda: &Client, input: &UpdateFunctionCodeInput, _: &UpdateFunctionCodeOutput) -> Vec<Check> {
    update(lambda, "UpdateFunctionCode", input.function_name())
}

fn update_function_configuration(
    lambda: &Client,
    input: &UpdateFunctionConfigurationInput,
    _: &UpdateFunctionConfigurationOutput,
) -> Vec<Check> {
    update(lambda, "UpdateFunctionConfiguration", input.function_name())
}

fn delete_function(lambda: &Client, input: &DeleteFunctionInput, _: &DeleteFunctionOutput) -> Vec<Check> {
    let Some(function) = input.function_name() else { return Vec::new() };
    let (lambda, name) = (lambda.clone(), function.to_string());
    let waiter = waiter::<GetFunctionOutput>().success_on_error_code(NOT_FOUND).retry_when(|_| true);
    let check = Check::new("DeleteFunction", function, "GetFunction answers ResourceNotFoundException", waiter, move || {
        lambda.get_function().function_name(&name).send()
    });
    vec![check.with_max_wait(LAMBDA_TIMEOUT)]
}

fn list_tags(
    lambda: &Client,
    operation: &'static str,
    arn: &str,
    expected: String,
    done: impl Fn(&ListTagsOutput) -> bool + Send + Sync + 'static,
) -> Check {
    let (lambda, resource) = (lambda.clone(), arn.to_string());
    let waiter = waiter::<ListTagsOutput>().success_when(done).retry_when(|_| true).retry_on_error_code(NOT_FOUND);
    Check::new(operation, arn, expected, waiter, move || lambda.list_tags().resource(&resource).send())
}

fn tag_pairs(o: &ListTagsOutput) -> Vec<(&str, &str)> {
    o.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn tag_resource(lambda: &Client, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource() else { return Vec::new() };
    let wanted: Vec<(String, String)> =
        input.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    let expected = format!("ListTags shows {}", show_tags(&wanted));
    vec![list_tags(lambda, "TagResource", arn, expected, move |o| has_tags(tag_pairs(o), &wanted))]
}

fn untag_resource(lambda: &Client, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource() else { return Vec::new() };
    let keys: Vec<String> = input.tag_keys().to_vec();
    let expected = format!("ListTags shows none of {}", keys.join(", "));
    vec![list_tags(lambda, "UntagResource", arn, expected, move |o| {
        lacks_keys(tag_pairs(o).into_iter().map(|(k, _)| k), &keys)
    })]
}

/// States of a mapping that is still being set up.
const SETTING_UP: &[&str] = &["Creating", "Enabling"];

fn create_event_source_mapping(
    lambda: &Client,
    _: &CreateEventSourceMappingInput,
    output: &CreateEventSourceMappingOutput,
) -> Vec<Check> {
    let Some(uuid) = output.uuid() else { return Vec::new() };
    let (lambda, id) = (lambda.clone(), uuid.to_string());
    let waiter = waiter::<GetEventSourceMappingOutput>()
        .success_when(|o| o.state().is_some_and(|s| !SETTING_UP.contains(&s)))
        .retry_when(|_| true)
        .retry_on_error_code(NOT_FOUND);
    let expected = "GetEventSourceMapping finds it, State neither Creating nor Enabling";
    vec![Check::new("CreateEventSourceMapping", uuid, expected, waiter, move || {
        lambda.get_event_source_mapping().uuid(&id).send()
    })]
}

fn delete_mapping(
    lambda: &Client,
    input: &DeleteEventSourceMappingInput,
    _: &DeleteEventSourceMappingOutput,
) -> Vec<Check> {
    let Some(uuid) = input.uuid() else { return Vec::new() };
    let (lambda, id) = (lambda.clone(), uuid.to_string());
    let waiter = waiter::<GetEventSourceMappingOutput>().success_on_error_code(NOT_FOUND).retry_when(|_| true);
    vec![Check::new("DeleteEventSourceMapping", uuid, "GetEventSourceMapping answers ResourceNotFoundException", waiter, move || {
        lambda.get_event_source_mapping().uuid(&id).send()
    })]
}
