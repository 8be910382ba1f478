//! The Resource Groups Tagging API view of tag writes (opt-in with
//! [`Enforcer::with_tagging_view`](crate::post::Enforcer::with_tagging_view)).
//!
//! Some tag readers (cost reports, tag policies, `GetResources`-based inventories) see tags
//! through the tagging API, which lags behind each service's own view. With the view on, every tag
//! write of SSM, Secrets Manager, S3 and DynamoDB also waits until `GetResources` shows it.

use aws_sdk_resourcegroupstagging::Client;
use aws_sdk_resourcegroupstagging::error::SdkError;
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesError;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, TagFilter};

use super::{show_tags, waiter};
use crate::post::check::Check;

/// What a tag write should make `GetResources` show for one resource.
pub(crate) enum Change {
    /// These tags, with these values.
    Added(Vec<(String, String)>),
    /// None of these keys.
    Removed(Vec<String>),
    /// No tags at all.
    Cleared,
}

/// Every page of `GetResources` for `resource_type`, filtered on the change's keys.
async fn get_resources(
    client: Client,
    resource_type: &'static str,
    filters: Vec<TagFilter>,
) -> Result<Vec<ResourceTagMapping>, SdkError<GetResourcesError>> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_resources()
            .resource_type_filters(resource_type)
            .set_tag_filters((!filters.is_empty()).then(|| filters.clone()))
            .set_pagination_token(token.clone())
            .send()
            .await?;
        all.extend(page.resource_tag_mapping_list().iter().cloned());
        match page.pagination_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(all),
        }
    }
}

/// A check that polls `GetResources` until the resource whose ARN satisfies `is_resource` shows
/// `change`.
pub(crate) fn view_check(
    client: &Client,
    operation: &'static str,
    resource: &str,
    resource_type: &'static str,
    is_resource: impl Fn(&str) -> bool + Send + Sync + 'static,
    change: Change,
) -> Check {
    let filters: Vec<TagFilter> = match &change {
        Change::Added(tags) => {
            tags.iter().map(|(k, v)| TagFilter::builder().key(k).values(v).build()).collect()
        }
        Change::Removed(keys) => keys.iter().map(|k| TagFilter::builder().key(k).build()).collect(),
        Change::Cleared => Vec::new(),
    };
    let expected = match &change {
        Change::Added(tags) => format!("GetResources shows {}", show_tags(tags)),
        Change::Removed(keys) => format!("GetResources shows none of {}", keys.join(", ")),
        Change::Cleared => "GetResources shows no tags".to_string(),
    };
    let done = move |mappings: &Vec<ResourceTagMapping>| {
        let tags_of = |m: &ResourceTagMapping| -> Vec<(String, String)> {
            m.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
        };
        let mine: Vec<Vec<(String, String)>> =
            mappings.iter().filter(|m| m.resource_arn().is_some_and(&is_resource)).map(tags_of).collect();
        match &change {
            Change::Added(wanted) => mine.iter().any(|have| wanted.iter().all(|w| have.contains(w))),
            Change::Removed(keys) => mine.iter().all(|have| have.iter().all(|(k, _)| !keys.contains(k))),
            Change::Cleared => mine.iter().all(Vec::is_empty),
        }
    };
    let client = client.clone();
    Check::new(
        operation,
        resource,
        format!("{expected} (tagging API view)"),
        waiter::<Vec<ResourceTagMapping>>().success_when(done),
        move || get_resources(client.clone(), resource_type, filters.clone()),
    )
}
