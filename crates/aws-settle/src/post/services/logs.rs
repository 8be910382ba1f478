//! CloudWatch Logs: log groups (listed by DescribeLogGroups), their retention and tags.
//!
//! TagLogGroup, UntagLogGroup and ListTagsLogGroup are deprecated in the SDK but still served and
//! still called: their writes settle too.
#![allow(deprecated)]

use std::collections::HashMap;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::create_log_group::{CreateLogGroupInput, CreateLogGroupOutput};
use aws_sdk_cloudwatchlogs::operation::delete_log_group::{DeleteLogGroupInput, DeleteLogGroupOutput};
use aws_sdk_cloudwatchlogs::operation::delete_retention_policy::{
    DeleteRetentionPolicyInput, DeleteRetentionPolicyOutput,
};
use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_cloudwatchlogs::operation::list_tags_log_group::ListTagsLogGroupOutput;
use aws_sdk_cloudwatchlogs::operation::put_retention_policy::{PutRetentionPolicyInput, PutRetentionPolicyOutput};
use aws_sdk_cloudwatchlogs::operation::tag_log_group::{TagLogGroupInput, TagLogGroupOutput};
use aws_sdk_cloudwatchlogs::operation::tag_resource::{TagResourceInput, TagResourceOutput};
use aws_sdk_cloudwatchlogs::operation::untag_log_group::{UntagLogGroupInput, UntagLogGroupOutput};
use aws_sdk_cloudwatchlogs::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
use aws_sdk_cloudwatchlogs::types::LogGroup;

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

const NOT_FOUND: &str = "ResourceNotFoundException";

/// Operations that change nothing.
const READS: &[&str] = &[
    "DescribeAccountPolicies",
    "DescribeConfigurationTemplates",
    "DescribeDeliveries",
    "DescribeDeliveryDestinations",
    "DescribeDeliverySources",
    "DescribeDestinations",
    "DescribeExportTasks",
    "DescribeFieldIndexes",
    "DescribeImportTaskBatches",
    "DescribeImportTasks",
    "DescribeIndexPolicies",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeLookupTables",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeQueryDefinitions",
    "DescribeResourcePolicies",
    "DescribeSubscriptionFilters",
    "FilterLogEvents",
    "GetDataProtectionPolicy",
    "GetDelivery",
    "GetDeliveryDestination",
    "GetDeliveryDestinationPolicy",
    "GetDeliverySource",
    "GetIntegration",
    "GetLogAnomalyDetector",
    "GetLogEvents",
    "GetLogFields",
    "GetLogGroupFields",
    "GetLogObject",
    "GetLogRecord",
    "GetLookupTable",
    "GetQueryResults",
    "GetScheduledQuery",
    "GetScheduledQueryHistory",
    "GetStorageTierPolicy",
    "GetTransformer",
    "ListAggregateLogGroupSummaries",
    "ListAnomalies",
    "ListIntegrations",
    "ListLogAnomalyDetectors",
    "ListLogGroups",
    "ListLogGroupsForQuery",
    "ListScheduledQueries",
    "ListSourcesForS3TableIntegration",
    "ListSyslogConfigurations",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "TestMetricFilter",
    "TestTransformer",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "logs",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "CreateLogGroup",
                "DescribeLogGroups: the group listed; ListTagsLogGroup: the tags given",
                create_log_group,
            ),
            rule("DeleteLogGroup", "DescribeLogGroups: the group not listed", delete_log_group),
            rule("PutRetentionPolicy", "DescribeLogGroups: retentionInDays written", put_retention_policy),
            rule("DeleteRetentionPolicy", "DescribeLogGroups: no retentionInDays", delete_retention_policy),
            rule("TagResource", "ListTagsForResource: every tag added, with its value", tag_resource),
            rule("UntagResource", "ListTagsForResource: no removed key", untag_resource),
            rule("TagLogGroup", "ListTagsLogGroup: every tag added, with its value", tag_log_group),
            rule("UntagLogGroup", "ListTagsLogGroup: no removed key", untag_log_group),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

/// DescribeLogGroups (the group's whole name as prefix) until `done` holds for the group as
/// listed (`None`: not listed).
fn group_until(
    operation: &'static str,
    logs: &Client,
    name: &str,
    expected: String,
    done: impl Fn(Option<&LogGroup>) -> bool + Send + Sync + 'static,
) -> Check {
    let (logs, group) = (logs.clone(), name.to_string());
    let wanted = group.clone();
    Check::new(
        operation,
        name,
        expected,
        waiter::<DescribeLogGroupsOutput>().success_when(move |o| {
            done(o.log_groups().iter().find(|g| g.log_group_name() == Some(wanted.as_str())))
        }),
        move || logs.describe_log_groups().log_group_name_prefix(&group).send(),
    )
}

fn pairs(tags: Option<&HashMap<String, String>>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = tags.into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    pairs.sort();
    pairs
}

/// ListTagsLogGroup on `name` until every tag of `wanted` is there.
fn group_tags(operation: &'static str, logs: &Client, name: &str, wanted: Vec<(String, String)>) -> Check {
    let expected = format!("ListTagsLogGroup shows {}", show_tags(&wanted));
    let (logs, group) = (logs.clone(), name.to_string());
    Check::new(
        operation,
        name,
        expected,
        waiter::<ListTagsLogGroupOutput>()
            .success_when(move |o| {
                has_tags(o.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())), &wanted)
            })
            .retry_on_error_code(NOT_FOUND),
        #[allow(deprecated)]
        move || logs.list_tags_log_group().log_group_name(&group).send(),
    )
}

fn create_log_group(logs: &Client, input: &CreateLogGroupInput, _: &CreateLogGroupOutput) -> Vec<Check> {
    let Some(name) = input.log_group_name() else { return Vec::new() };
    let mut checks =
        vec![group_until("CreateLogGroup", logs, name, "DescribeLogGroups lists the group".into(), |g| g.is_some())];
    let tags = pairs(input.tags());
    if !tags.is_empty() {
        checks.push(group_tags("CreateLogGroup", logs, name, tags));
    }
    checks
}

fn delete_log_group(logs: &Client, input: &DeleteLogGroupInput, _: &DeleteLogGroupOutput) -> Vec<Check> {
    let Some(name) = input.log_group_name() else { return Vec::new() };
    let expected = "DescribeLogGroups does not list the group".to_string();
    vec![group_until("DeleteLogGroup", logs, name, expected, |g| g.is_none())]
}

fn put_retention_policy(
    logs: &Client,
    input: &PutRetentionPolicyInput,
    _: &PutRetentionPolicyOutput,
) -> Vec<Check> {
    let (Some(name), Some(days)) = (input.log_group_name(), input.retention_in_days()) else { return Vec::new() };
    let expected = format!("DescribeLogGroups shows retentionInDays {days}");
    vec![group_until("PutRetentionPolicy", logs, name, expected, move |g| {
        g.is_some_and(|g| g.retention_in_days() == Some(days))
    })]
}

fn delete_retention_policy(
    logs: &Client,
    input: &DeleteRetentionPolicyInput,
    _: &DeleteRetentionPolicyOutput,
) -> Vec<Check> {
    let Some(name) = input.log_group_name() else { return Vec::new() };
    let expected = "DescribeLogGroups shows no retentionInDays".to_string();
    vec![group_until("DeleteRetentionPolicy", logs, name, expected, |g| {
        g.is_some_and(|g| g.retention_in_days().is_none())
    })]
}

fn resource_tags(
    operation: &'static str,
    logs: &Client,
    arn: &str,
    expected: String,
    done: impl Fn(&ListTagsForResourceOutput) -> bool + Send + Sync + 'static,
) -> Check {
    let (logs, resource) = (logs.clone(), arn.to_string());
    Check::new(
        operation,
        arn,
        expected,
        waiter::<ListTagsForResourceOutput>().success_when(done).retry_on_error_code(NOT_FOUND),
        move || logs.list_tags_for_resource().resource_arn(&resource).send(),
    )
}

fn tag_resource(logs: &Client, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource_arn() else { return Vec::new() };
    let wanted = pairs(input.tags());
    let expected = format!("ListTagsForResource shows {}", show_tags(&wanted));
    vec![resource_tags("TagResource", logs, arn, expected, move |o| {
        has_tags(o.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())), &wanted)
    })]
}

fn untag_resource(logs: &Client, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource_arn() else { return Vec::new() };
    let keys = input.tag_keys().to_vec();
    let expected = format!("ListTagsForResource shows none of {}", keys.join(", "));
    vec![resource_tags("UntagResource", logs, arn, expected, move |o| {
        lacks_keys(o.tags().into_iter().flatten().map(|(k, _)| k.as_str()), &keys)
    })]
}

fn tag_log_group(logs: &Client, input: &TagLogGroupInput, _: &TagLogGroupOutput) -> Vec<Check> {
    let Some(name) = input.log_group_name() else { return Vec::new() };
    vec![group_tags("TagLogGroup", logs, name, pairs(input.tags()))]
}

fn untag_log_group(logs: &Client, input: &UntagLogGroupInput, _: &UntagLogGroupOutput) -> Vec<Check> {
    let Some(name) = input.log_group_name() else { return Vec::new() };
    let keys = input.tags().to_vec();
    let expected = format!("ListTagsLogGroup shows none of {}", keys.join(", "));
    let (client, group) = (logs.clone(), name.to_string());
    vec![Check::new(
        "UntagLogGroup",
        name,
        expected,
        waiter::<ListTagsLogGroupOutput>()
            .success_when(move |o| lacks_keys(o.tags().into_iter().flatten().map(|(k, _)| k.as_str()), &keys))
            .retry_on_error_code(NOT_FOUND),
        #[allow(deprecated)]
        move || client.list_tags_log_group().log_group_name(&group).send(),
    )]
}
