//! DynamoDB: tables (ACTIVE, with their indexes and throughput), tags, and items ([`items`]:
//! settled for eventually consistent readers).

mod items;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::{CreateTableInput, CreateTableOutput};
use aws_sdk_dynamodb::operation::delete_table::{DeleteTableInput, DeleteTableOutput};
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceOutput;
use aws_sdk_dynamodb::operation::tag_resource::{TagResourceInput, TagResourceOutput};
use aws_sdk_dynamodb::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
use aws_sdk_dynamodb::operation::update_table::{UpdateTableInput, UpdateTableOutput};
use aws_sdk_dynamodb::types::{IndexStatus, TableDescription, TableStatus};

use super::{has_tags, lacks_keys, rule, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

const NOT_FOUND: &str = "ResourceNotFoundException";

/// Operations that change nothing: the SDK's Get/List/Describe/BatchGet/Query/Scan-style reads.
const READS: &[&str] = &[
    "BatchGetItem",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeEndpoints",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "GetItem",
    "GetResourcePolicy",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "ListTables",
    "ListTagsOfResource",
    "Query",
    "Scan",
    "SearchVectors",
    "TransactGetItems",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "dynamodb",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "CreateTable",
                "DescribeTable: TableStatus ACTIVE and every global secondary index ACTIVE",
                create_table,
            ),
            rule("DeleteTable", "DescribeTable: ResourceNotFoundException", delete_table),
            rule(
                "UpdateTable",
                "DescribeTable: ACTIVE, indexes ACTIVE, the throughput written, created indexes present and deleted ones gone",
                update_table,
            ),
            rule("TagResource", "ListTagsOfResource: every tag added, with its value", tag_resource),
            rule("UntagResource", "ListTagsOfResource: no removed key", untag_resource),
            rule("PutItem", "GetItem (eventually consistent, 2 in a row): the item written", items::put_item),
            rule(
                "UpdateItem",
                "GetItem (eventually consistent, 2 in a row): the ALL_NEW item returned, else what a consistent read showed after the write",
                items::update_item,
            ),
            rule("DeleteItem", "GetItem (eventually consistent, 2 in a row): no item", items::delete_item),
            rule(
                "BatchWriteItem",
                "GetItem (eventually consistent, 2 in a row): each item put, no item for each delete; UnprocessedItems fail",
                items::batch_write_item,
            ),
            rule(
                "TransactWriteItems",
                "GetItem (eventually consistent, 2 in a row): each Put's item, each Update's new item, no item for each Delete",
                items::transact_write_items,
            ),
        ],
        #[cfg(feature = "tagging")]
        view: view::rules(),
    }
}

fn all_active(table: &TableDescription) -> bool {
    table.table_status() == Some(&TableStatus::Active)
        && table.global_secondary_indexes().iter().all(|i| i.index_status() == Some(&IndexStatus::Active))
}

/// A check that polls DescribeTable on `name` until `done` holds for the table.
fn describe_until(
    operation: &'static str,
    ddb: &Client,
    name: &str,
    expected: String,
    done: impl Fn(&TableDescription) -> bool + Send + Sync + 'static,
) -> Check {
    let (ddb, table) = (ddb.clone(), name.to_string());
    Check::new(
        operation,
        name,
        expected,
        waiter::<DescribeTableOutput>()
            .success_when(move |o| o.table().is_some_and(&done))
            .retry_on_error_code(NOT_FOUND),
        move || ddb.describe_table().table_name(&table).send(),
    )
}

fn create_table(ddb: &Client, input: &CreateTableInput, _: &CreateTableOutput) -> Vec<Check> {
    let Some(name) = input.table_name() else { return Vec::new() };
    vec![describe_until("CreateTable", ddb, name, "DescribeTable shows ACTIVE".into(), all_active)]
}

fn delete_table(ddb: &Client, input: &DeleteTableInput, _: &DeleteTableOutput) -> Vec<Check> {
    let Some(name) = input.table_name() else { return Vec::new() };
    let (client, table) = (ddb.clone(), name.to_string());
    vec![Check::new(
        "DeleteTable",
        name,
        "DescribeTable answers ResourceNotFoundException",
        waiter::<DescribeTableOutput>().success_on_error_code(NOT_FOUND).retry_when(|_| true),
        move || client.describe_table().table_name(&table).send(),
    )]
}

fn update_table(ddb: &Client, input: &UpdateTableInput, _: &UpdateTableOutput) -> Vec<Check> {
    let Some(name) = input.table_name() else { return Vec::new() };
    let throughput =
        input.provisioned_throughput().map(|t| (t.read_capacity_units(), t.write_capacity_units()));
    let created: Vec<String> = input
        .global_secondary_index_updates()
        .iter()
        .filter_map(|u| u.create().map(|c| c.index_name().to_string()))
        .collect();
    let deleted: Vec<String> = input
        .global_secondary_index_updates()
        .iter()
        .filter_map(|u| u.delete().map(|d| d.index_name().to_string()))
        .collect();
    let mut expected = "DescribeTable shows ACTIVE".to_string();
    if let Some((read, write)) = throughput {
        expected += &format!(", throughput {read}/{write}");
    }
    if !created.is_empty() {
        expected += &format!(", indexes {} present", created.join(", "));
    }
    if !deleted.is_empty() {
        expected += &format!(", indexes {} gone", deleted.join(", "));
    }
    vec![describe_until("UpdateTable", ddb, name, expected, move |t| {
        let indexes: Vec<&str> = t.global_secondary_indexes().iter().filter_map(|i| i.index_name()).collect();
        all_active(t)
            && throughput.is_none_or(|(read, write)| {
                t.provisioned_throughput().is_some_and(|p| {
                    p.read_capacity_units() == Some(read) && p.write_capacity_units() == Some(write)
                })
            })
            && created.iter().all(|c| indexes.contains(&c.as_str()))
            && deleted.iter().all(|d| !indexes.contains(&d.as_str()))
    })]
}

fn list_tags_until(
    operation: &'static str,
    ddb: &Client,
    arn: &str,
    expected: String,
    done: impl Fn(&ListTagsOfResourceOutput) -> bool + Send + Sync + 'static,
) -> Check {
    let (ddb, resource) = (ddb.clone(), arn.to_string());
    Check::new(
        operation,
        arn,
        expected,
        waiter::<ListTagsOfResourceOutput>().success_when(done).retry_on_error_code(NOT_FOUND),
        move || ddb.list_tags_of_resource().resource_arn(&resource).send(),
    )
}

fn tag_resource(ddb: &Client, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource_arn() else { return Vec::new() };
    let wanted: Vec<(String, String)> =
        input.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    let expected = format!("ListTagsOfResource shows {}", show_tags(&wanted));
    vec![list_tags_until("TagResource", ddb, arn, expected, move |o| {
        has_tags(o.tags().iter().map(|t| (t.key(), t.value())), &wanted)
    })]
}

fn untag_resource(ddb: &Client, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource_arn() else { return Vec::new() };
    let keys = input.tag_keys().to_vec();
    let expected = format!("ListTagsOfResource shows none of {}", keys.join(", "));
    vec![list_tags_until("UntagResource", ddb, arn, expected, move |o| {
        lacks_keys(o.tags().iter().map(|t| t.key()), &keys)
    })]
}

/// The tagging API view of table tags.
#[cfg(feature = "tagging")]
mod view {
    use super::*;
    use crate::post::rule::{Rule, ViewClient};
    use crate::post::services::tagging::{Change, view_check};

    pub(super) fn rules() -> Vec<std::sync::Arc<Rule<ViewClient>>> {
        vec![
            rule("TagResource", "GetResources (tagging view, opt-in): every tag added", tag_resource),
            rule("UntagResource", "GetResources (tagging view, opt-in): no removed key", untag_resource),
        ]
    }

    fn check(view: &ViewClient, operation: &'static str, arn: &str, change: Change) -> Check {
        let wanted = arn.to_string();
        view_check(view, operation, arn, "dynamodb:table", move |a| a == wanted, change)
    }

    fn tag_resource(view: &ViewClient, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
        let tags = input.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        input
            .resource_arn()
            .map(|arn| check(view, "TagResource", arn, Change::Added(tags)))
            .into_iter()
            .collect()
    }

    fn untag_resource(view: &ViewClient, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
        let change = Change::Removed(input.tag_keys().to_vec());
        input.resource_arn().map(|arn| check(view, "UntagResource", arn, change)).into_iter().collect()
    }
}
