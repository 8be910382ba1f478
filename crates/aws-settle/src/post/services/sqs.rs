//! SQS: queues (found by name), their attributes and tags.
//!
//! Attribute changes are served by several endpoints that do not all see them at once (AWS: "can
//! take up to 60 seconds"); one matching read is not enough, so an attribute check needs 6
//! matching reads in a row, as Terraform's AWS provider asks.

use std::collections::HashMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::operation::create_queue::{CreateQueueInput, CreateQueueOutput};
use aws_sdk_sqs::operation::delete_queue::{DeleteQueueInput, DeleteQueueOutput};
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_sdk_sqs::operation::list_queue_tags::ListQueueTagsOutput;
use aws_sdk_sqs::operation::set_queue_attributes::{SetQueueAttributesInput, SetQueueAttributesOutput};
use aws_sdk_sqs::operation::tag_queue::{TagQueueInput, TagQueueOutput};
use aws_sdk_sqs::operation::untag_queue::{UntagQueueInput, UntagQueueOutput};
use aws_sdk_sqs::types::QueueAttributeName;

use super::{has_tags, lacks_keys, rule, same_json, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;
use crate::wait::Waiter;

/// Matching attribute reads in a row before a change counts (Terraform's AWS provider: 6).
pub(crate) const ATTRIBUTE_READS_IN_A_ROW: u32 = 6;

/// SQS's missing-queue codes: the query-compatible one the SDK reports, and the JSON one.
const NO_QUEUE: &[&str] = &["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"];

/// Operations that change nothing (ReceiveMessage changes message visibility: not a read).
const READS: &[&str] = &[
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "sqs",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "CreateQueue",
                "GetQueueUrl: the queue's URL; GetQueueAttributes: the attributes given, 6 reads in a row; ListQueueTags: the tags given",
                create_queue,
            ),
            rule(
                "SetQueueAttributes",
                "GetQueueAttributes: every value written (policies as JSON), 6 reads in a row",
                set_queue_attributes,
            ),
            rule("DeleteQueue", "GetQueueAttributes: AWS.SimpleQueueService.NonExistentQueue", delete_queue),
            rule("TagQueue", "ListQueueTags: every tag added, with its value", tag_queue),
            rule("UntagQueue", "ListQueueTags: no removed key", untag_queue),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

/// Retries while the queue is not found.
fn until_found<O>(waiter: Waiter<O>) -> Waiter<O> {
    NO_QUEUE.iter().fold(waiter, |w, code| w.retry_on_error_code(*code))
}

type Attributes = Vec<(QueueAttributeName, String)>;

fn attributes(map: Option<&HashMap<QueueAttributeName, String>>) -> Attributes {
    let mut attributes: Attributes = map.into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    attributes.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    attributes
}

/// GetQueueAttributes on `url` until every attribute reads as written, 6 reads in a row.
fn attributes_read(operation: &'static str, sqs: &Client, url: &str, wanted: Attributes) -> Check {
    let names: Vec<&str> = wanted.iter().map(|(k, _)| k.as_str()).collect();
    let expected = format!(
        "GetQueueAttributes shows the {} written, {ATTRIBUTE_READS_IN_A_ROW} reads in a row",
        names.join(", ")
    );
    let read_names: Vec<QueueAttributeName> = wanted.iter().map(|(k, _)| k.clone()).collect();
    let (sqs, queue) = (sqs.clone(), url.to_string());
    let matches = move |o: &GetQueueAttributesOutput| {
        let present = o.attributes();
        wanted.iter().all(|(k, v)| present.and_then(|p| p.get(k)).is_some_and(|have| same_json(have, v)))
    };
    Check::new(
        operation,
        url,
        expected,
        until_found(waiter::<GetQueueAttributesOutput>())
            .success_when(matches)
            .successes_in_a_row(ATTRIBUTE_READS_IN_A_ROW),
        move || sqs.get_queue_attributes().queue_url(&queue).set_attribute_names(Some(read_names.clone())).send(),
    )
}

fn queue_tags(operation: &'static str, sqs: &Client, url: &str, wanted: Vec<(String, String)>) -> Check {
    let expected = format!("ListQueueTags shows {}", show_tags(&wanted));
    let (sqs, queue) = (sqs.clone(), url.to_string());
    Check::new(
        operation,
        url,
        expected,
        until_found(waiter::<ListQueueTagsOutput>())
            .success_when(move |o| has_tags(o.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())), &wanted)),
        move || sqs.list_queue_tags().queue_url(&queue).send(),
    )
}

fn create_queue(sqs: &Client, input: &CreateQueueInput, output: &CreateQueueOutput) -> Vec<Check> {
    let (Some(name), Some(url)) = (input.queue_name(), output.queue_url()) else { return Vec::new() };
    let (client, queue, wanted_url) = (sqs.clone(), name.to_string(), url.to_string());
    let mut checks = vec![Check::new(
        "CreateQueue",
        url,
        "GetQueueUrl finds the queue",
        until_found(waiter::<GetQueueUrlOutput>()).success_when(move |o| o.queue_url() == Some(wanted_url.as_str())),
        move || client.get_queue_url().queue_name(&queue).send(),
    )];
    let wanted = attributes(input.attributes());
    if !wanted.is_empty() {
        checks.push(attributes_read("CreateQueue", sqs, url, wanted));
    }
    let tags: Vec<(String, String)> =
        input.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    if !tags.is_empty() {
        checks.push(queue_tags("CreateQueue", sqs, url, tags));
    }
    checks
}

fn set_queue_attributes(
    sqs: &Client,
    input: &SetQueueAttributesInput,
    _: &SetQueueAttributesOutput,
) -> Vec<Check> {
    let Some(url) = input.queue_url() else { return Vec::new() };
    let wanted = attributes(input.attributes());
    if wanted.is_empty() {
        return Vec::new();
    }
    vec![attributes_read("SetQueueAttributes", sqs, url, wanted)]
}

fn delete_queue(sqs: &Client, input: &DeleteQueueInput, _: &DeleteQueueOutput) -> Vec<Check> {
    let Some(url) = input.queue_url() else { return Vec::new() };
    let (client, queue) = (sqs.clone(), url.to_string());
    let gone = NO_QUEUE.iter().fold(waiter::<GetQueueAttributesOutput>(), |w, code| w.success_on_error_code(*code));
    vec![Check::new(
        "DeleteQueue",
        url,
        "GetQueueAttributes answers AWS.SimpleQueueService.NonExistentQueue",
        gone.retry_when(|_| true),
        move || client.get_queue_attributes().queue_url(&queue).send(),
    )]
}

fn tag_queue(sqs: &Client, input: &TagQueueInput, _: &TagQueueOutput) -> Vec<Check> {
    let Some(url) = input.queue_url() else { return Vec::new() };
    let tags = input.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    vec![queue_tags("TagQueue", sqs, url, tags)]
}

fn untag_queue(sqs: &Client, input: &UntagQueueInput, _: &UntagQueueOutput) -> Vec<Check> {
    let Some(url) = input.queue_url() else { return Vec::new() };
    let keys = input.tag_keys().to_vec();
    let expected = format!("ListQueueTags shows none of {}", keys.join(", "));
    let (client, queue) = (sqs.clone(), url.to_string());
    vec![Check::new(
        "UntagQueue",
        url,
        expected,
        until_found(waiter::<ListQueueTagsOutput>())
            .success_when(move |o| lacks_keys(o.tags().into_iter().flatten().map(|(k, _)| k.as_str()), &keys)),
        move || client.list_queue_tags().queue_url(&queue).send(),
    )]
}
