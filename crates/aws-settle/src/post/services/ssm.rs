//! SSM Parameter Store: parameters, their versions, labels and tags.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::add_tags_to_resource::{AddTagsToResourceInput, AddTagsToResourceOutput};
use aws_sdk_ssm::operation::delete_parameter::{DeleteParameterInput, DeleteParameterOutput};
use aws_sdk_ssm::operation::delete_parameters::{DeleteParametersInput, DeleteParametersOutput};
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::operation::label_parameter_version::{
    LabelParameterVersionInput, LabelParameterVersionOutput,
};
use aws_sdk_ssm::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_ssm::operation::put_parameter::{PutParameterInput, PutParameterOutput};
use aws_sdk_ssm::operation::remove_tags_from_resource::{
    RemoveTagsFromResourceInput, RemoveTagsFromResourceOutput,
};
use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

/// Operations that change nothing: the SDK's Get/List/Describe/BatchGet/Query/Scan-style reads.
const READS: &[&str] = &[
    "DescribeActivations",
    "DescribeAssociation",
    "DescribeAssociationExecutionTargets",
    "DescribeAssociationExecutions",
    "DescribeAutomationExecutions",
    "DescribeAutomationStepExecutions",
    "DescribeAvailablePatches",
    "DescribeDocument",
    "DescribeDocumentPermission",
    "DescribeEffectiveInstanceAssociations",
    "DescribeEffectivePatchesForPatchBaseline",
    "DescribeInstanceAssociationsStatus",
    "DescribeInstanceInformation",
    "DescribeInstancePatchStates",
    "DescribeInstancePatchStatesForPatchGroup",
    "DescribeInstancePatches",
    "DescribeInstanceProperties",
    "DescribeInventoryDeletions",
    "DescribeMaintenanceWindowExecutionTaskInvocations",
    "DescribeMaintenanceWindowExecutionTasks",
    "DescribeMaintenanceWindowExecutions",
    "DescribeMaintenanceWindowSchedule",
    "DescribeMaintenanceWindowTargets",
    "DescribeMaintenanceWindowTasks",
    "DescribeMaintenanceWindows",
    "DescribeMaintenanceWindowsForTarget",
    "DescribeOpsItems",
    "DescribeParameters",
    "DescribePatchBaselines",
    "DescribePatchGroupState",
    "DescribePatchGroups",
    "DescribePatchProperties",
    "DescribeSessions",
    "GetAccessToken",
    "GetAutomationExecution",
    "GetCalendarState",
    "GetCloudConnector",
    "GetCommandInvocation",
    "GetConnectionStatus",
    "GetDefaultPatchBaseline",
    "GetDeployablePatchSnapshotForInstance",
    "GetDocument",
    "GetExecutionPreview",
    "GetInventory",
    "GetInventorySchema",
    "GetMaintenanceWindow",
    "GetMaintenanceWindowExecution",
    "GetMaintenanceWindowExecutionTask",
    "GetMaintenanceWindowExecutionTaskInvocation",
    "GetMaintenanceWindowTask",
    "GetOpsItem",
    "GetOpsMetadata",
    "GetOpsSummary",
    "GetParameter",
    "GetParameterHistory",
    "GetParameters",
    "GetParametersByPath",
    "GetPatchBaseline",
    "GetPatchBaselineForPatchGroup",
    "GetResourcePolicies",
    "GetServiceSetting",
    "ListAssociationVersions",
    "ListAssociations",
    "ListCloudConnectors",
    "ListCommandInvocations",
    "ListCommands",
    "ListComplianceItems",
    "ListComplianceSummaries",
    "ListDocumentMetadataHistory",
    "ListDocumentVersions",
    "ListDocuments",
    "ListInventoryEntries",
    "ListNodes",
    "ListNodesSummary",
    "ListOpsItemEvents",
    "ListOpsItemRelatedItems",
    "ListOpsMetadata",
    "ListResourceComplianceSummaries",
    "ListResourceDataSync",
    "ListTagsForResource",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "ssm",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "PutParameter",
                "GetParameter: version ≥ the returned Version and the value written (unless SecureString); ListTagsForResource: every tag given",
                put_parameter,
            ),
            rule("DeleteParameter", "GetParameter: ParameterNotFound", delete_parameter),
            rule(
                "DeleteParameters",
                "GetParameter: ParameterNotFound, for each deleted name",
                delete_parameters,
            ),
            rule(
                "AddTagsToResource",
                "ListTagsForResource: every tag added, with its value (parameters)",
                add_tags,
            ),
            rule("RemoveTagsFromResource", "ListTagsForResource: no removed key (parameters)", remove_tags),
            rule(
                "LabelParameterVersion",
                "GetParameter name:label: the labelled version, for each label",
                label_version,
            ),
        ],
        #[cfg(feature = "tagging")]
        view: view::rules(),
    }
}

fn tags(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn tag_list(output: &ListTagsForResourceOutput) -> impl Iterator<Item = (&str, &str)> {
    output.tag_list().iter().map(|t| (t.key(), t.value()))
}

fn get_parameter(
    ssm: &Client,
    name: &str,
) -> impl FnMut() -> aws_sdk_ssm::operation::get_parameter::builders::GetParameterFluentBuilder + use<> {
    let (ssm, name) = (ssm.clone(), name.to_string());
    move || ssm.get_parameter().name(&name)
}

fn list_tags(
    ssm: &Client,
    id: &str,
) -> impl FnMut() -> aws_sdk_ssm::operation::list_tags_for_resource::builders::ListTagsForResourceFluentBuilder
+ use<> {
    let (ssm, id) = (ssm.clone(), id.to_string());
    move || ssm.list_tags_for_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id(&id)
}

fn parameter_gone(operation: &'static str, ssm: &Client, name: &str) -> Check {
    let mut read = get_parameter(ssm, name);
    Check::new(
        operation,
        name,
        "GetParameter answers ParameterNotFound",
        waiter::<GetParameterOutput>().success_on_error_code("ParameterNotFound").retry_when(|_| true),
        move || read().send(),
    )
}

fn tags_present(operation: &'static str, ssm: &Client, id: &str, wanted: Vec<(String, String)>) -> Check {
    let mut read = list_tags(ssm, id);
    let expected = format!("ListTagsForResource shows {}", show_tags(&wanted));
    Check::new(
        operation,
        id,
        expected,
        waiter::<ListTagsForResourceOutput>()
            .success_when(move |o| has_tags(tag_list(o), &wanted))
            .retry_on_error_code("InvalidResourceId"),
        move || read().send(),
    )
}

fn put_parameter(ssm: &Client, input: &PutParameterInput, output: &PutParameterOutput) -> Vec<Check> {
    let Some(name) = input.name() else { return Vec::new() };
    let version = output.version();
    // The value is compared unless the parameter is a SecureString (GetParameter answers it
    // encrypted): as written, or as read back, since an overwrite without `Type` keeps the type.
    let secure = input.r#type() == Some(&ParameterType::SecureString);
    let value = input.value().unwrap_or_default().to_string();
    let expected = if secure {
        format!("GetParameter shows version ≥ {version}")
    } else {
        format!("GetParameter shows version ≥ {version} with the value written")
    };
    let mut read = get_parameter(ssm, name);
    let mut checks = vec![Check::new(
        "PutParameter",
        name,
        expected,
        waiter::<GetParameterOutput>()
            .success_when(move |o| {
                o.parameter().is_some_and(|p| {
                    let encrypted = secure || p.r#type() == Some(&ParameterType::SecureString);
                    p.version() > version
                        || (p.version() == version && (encrypted || p.value() == Some(&value)))
                })
            })
            .retry_on_error_code("ParameterNotFound"),
        move || read().send(),
    )];
    if !input.tags().is_empty() {
        checks.push(tags_present("PutParameter", ssm, name, tags(input.tags())));
    }
    checks
}

fn delete_parameter(ssm: &Client, input: &DeleteParameterInput, _: &DeleteParameterOutput) -> Vec<Check> {
    input.name().map(|name| parameter_gone("DeleteParameter", ssm, name)).into_iter().collect()
}

fn delete_parameters(ssm: &Client, _: &DeleteParametersInput, output: &DeleteParametersOutput) -> Vec<Check> {
    output.deleted_parameters().iter().map(|name| parameter_gone("DeleteParameters", ssm, name)).collect()
}

fn add_tags(ssm: &Client, input: &AddTagsToResourceInput, _: &AddTagsToResourceOutput) -> Vec<Check> {
    match (input.resource_type(), input.resource_id()) {
        (Some(ResourceTypeForTagging::Parameter), Some(id)) => {
            vec![tags_present("AddTagsToResource", ssm, id, tags(input.tags()))]
        }
        _ => Vec::new(),
    }
}

fn remove_tags(
    ssm: &Client,
    input: &RemoveTagsFromResourceInput,
    _: &RemoveTagsFromResourceOutput,
) -> Vec<Check> {
    let (Some(ResourceTypeForTagging::Parameter), Some(id)) = (input.resource_type(), input.resource_id())
    else {
        return Vec::new();
    };
    let keys = input.tag_keys().to_vec();
    let expected = format!("ListTagsForResource shows none of {}", keys.join(", "));
    let mut read = list_tags(ssm, id);
    vec![Check::new(
        "RemoveTagsFromResource",
        id,
        expected,
        waiter::<ListTagsForResourceOutput>()
            .success_when(move |o| lacks_keys(o.tag_list().iter().map(|t| t.key()), &keys)),
        move || read().send(),
    )]
}

fn label_version(
    ssm: &Client,
    input: &LabelParameterVersionInput,
    output: &LabelParameterVersionOutput,
) -> Vec<Check> {
    let Some(name) = input.name() else { return Vec::new() };
    let version = output.parameter_version();
    input
        .labels()
        .iter()
        .filter(|label| !output.invalid_labels().contains(label))
        .map(|label| {
            let selector = format!("{name}:{label}");
            let mut read = get_parameter(ssm, &selector);
            Check::new(
                "LabelParameterVersion",
                selector.clone(),
                format!("GetParameter {selector} shows version {version}"),
                waiter::<GetParameterOutput>()
                    .success_when(move |o| o.parameter().is_some_and(|p| p.version() == version))
                    .retry_on_error_code("ParameterVersionLabelNotFound")
                    .retry_on_error_code("ParameterNotFound"),
                move || read().send(),
            )
        })
        .collect()
}

/// The tagging API view of parameter tags.
#[cfg(feature = "tagging")]
mod view {
    use super::*;
    use crate::post::rule::{Rule, ViewClient};
    use crate::post::services::tagging::{Change, view_check};

    pub(super) fn rules() -> Vec<std::sync::Arc<Rule<ViewClient>>> {
        vec![
            rule("PutParameter", "GetResources (tagging view, opt-in): every tag given", put_parameter),
            rule("AddTagsToResource", "GetResources (tagging view, opt-in): every tag added", add_tags),
            rule(
                "RemoveTagsFromResource",
                "GetResources (tagging view, opt-in): no removed key",
                remove_tags,
            ),
        ]
    }

    fn check(view: &ViewClient, operation: &'static str, name: &str, change: Change) -> Check {
        let suffix =
            if name.starts_with('/') { format!(":parameter{name}") } else { format!(":parameter/{name}") };
        view_check(view, operation, name, "ssm:parameter", move |arn| arn.ends_with(&suffix), change)
    }

    fn put_parameter(view: &ViewClient, input: &PutParameterInput, _: &PutParameterOutput) -> Vec<Check> {
        match input.name() {
            Some(name) if !input.tags().is_empty() => {
                vec![check(view, "PutParameter", name, Change::Added(tags(input.tags())))]
            }
            _ => Vec::new(),
        }
    }

    fn add_tags(
        view: &ViewClient,
        input: &AddTagsToResourceInput,
        _: &AddTagsToResourceOutput,
    ) -> Vec<Check> {
        match (input.resource_type(), input.resource_id()) {
            (Some(ResourceTypeForTagging::Parameter), Some(id)) => {
                vec![check(view, "AddTagsToResource", id, Change::Added(tags(input.tags())))]
            }
            _ => Vec::new(),
        }
    }

    fn remove_tags(
        view: &ViewClient,
        input: &RemoveTagsFromResourceInput,
        _: &RemoveTagsFromResourceOutput,
    ) -> Vec<Check> {
        match (input.resource_type(), input.resource_id()) {
            (Some(ResourceTypeForTagging::Parameter), Some(id)) => {
                vec![check(view, "RemoveTagsFromResource", id, Change::Removed(input.tag_keys().to_vec()))]
            }
            _ => Vec::new(),
        }
    }
}
