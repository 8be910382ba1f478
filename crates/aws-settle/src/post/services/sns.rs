//! SNS: topics (and the attributes and tags they were given), topic attributes, subscriptions
//! and tags.

use std::collections::HashMap;

use aws_sdk_sns::Client;
use aws_sdk_sns::error::SdkError;
use aws_sdk_sns::operation::create_topic::{CreateTopicInput, CreateTopicOutput};
use aws_sdk_sns::operation::delete_topic::{DeleteTopicInput, DeleteTopicOutput};
use aws_sdk_sns::operation::get_topic_attributes::GetTopicAttributesOutput;
use aws_sdk_sns::operation::list_subscriptions_by_topic::ListSubscriptionsByTopicError;
use aws_sdk_sns::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_sns::operation::set_topic_attributes::{SetTopicAttributesInput, SetTopicAttributesOutput};
use aws_sdk_sns::operation::subscribe::{SubscribeInput, SubscribeOutput};
use aws_sdk_sns::operation::tag_resource::{TagResourceInput, TagResourceOutput};
use aws_sdk_sns::operation::unsubscribe::{UnsubscribeInput, UnsubscribeOutput};
use aws_sdk_sns::operation::untag_resource::{UntagResourceInput, UntagResourceOutput};
use aws_sdk_sns::types::{Subscription, Tag};

use super::{has_tags, lacks_keys, rule, same_json, show_tags, waiter};
use crate::post::check::Check;
use crate::post::rule::Table;

const NOT_FOUND: &str = "NotFound";

/// Operations that change nothing.
const READS: &[&str] = &[
    "CheckIfPhoneNumberIsOptedOut",
    "GetDataProtectionPolicy",
    "GetEndpointAttributes",
    "GetPlatformApplicationAttributes",
    "GetSMSAttributes",
    "GetSMSSandboxAccountStatus",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListEndpointsByPlatformApplication",
    "ListOriginationNumbers",
    "ListPhoneNumbersOptedOut",
    "ListPlatformApplications",
    "ListSMSSandboxPhoneNumbers",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
];

pub(crate) fn table() -> Table<Client> {
    Table {
        service: "sns",
        reads: READS,
        confirmed_by_response: &[],
        rules: vec![
            rule(
                "CreateTopic",
                "GetTopicAttributes: found, with the attributes given; ListTagsForResource: the tags given",
                create_topic,
            ),
            rule(
                "SetTopicAttributes",
                "GetTopicAttributes: the value written (policies as JSON)",
                set_topic_attributes,
            ),
            rule("DeleteTopic", "GetTopicAttributes: NotFound", delete_topic),
            rule(
                "Subscribe",
                "ListSubscriptionsByTopic: the subscription listed (its ARN, or its endpoint while pending confirmation)",
                subscribe,
            ),
            rule("Unsubscribe", "ListSubscriptionsByTopic: the subscription not listed", unsubscribe),
            rule("TagResource", "ListTagsForResource: every tag added, with its value", tag_resource),
            rule("UntagResource", "ListTagsForResource: no removed key", untag_resource),
        ],
        #[cfg(feature = "tagging")]
        view: Vec::new(),
    }
}

/// GetTopicAttributes on `arn` until every `(name, value)` of `wanted` reads as written.
fn topic_attributes(operation: &'static str, sns: &Client, arn: &str, wanted: Vec<(String, String)>) -> Check {
    let names: Vec<&str> = wanted.iter().map(|(k, _)| k.as_str()).collect();
    let expected = if wanted.is_empty() {
        "GetTopicAttributes finds the topic".to_string()
    } else {
        format!("GetTopicAttributes shows the {} written", names.join(", "))
    };
    let matches = move |o: &GetTopicAttributesOutput| {
        let present: Option<&HashMap<String, String>> = o.attributes();
        wanted.iter().all(|(k, v)| present.and_then(|p| p.get(k)).is_some_and(|have| same_json(have, v)))
    };
    let (sns, topic) = (sns.clone(), arn.to_string());
    Check::new(
        operation,
        arn,
        expected,
        waiter::<GetTopicAttributesOutput>().success_when(matches).retry_on_error_code(NOT_FOUND),
        move || sns.get_topic_attributes().topic_arn(&topic).send(),
    )
}

fn tags(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn tags_read(
    operation: &'static str,
    sns: &Client,
    arn: &str,
    expected: String,
    done: impl Fn(&ListTagsForResourceOutput) -> bool + Send + Sync + 'static,
) -> Check {
    let (sns, resource) = (sns.clone(), arn.to_string());
    Check::new(
        operation,
        arn,
        expected,
        waiter::<ListTagsForResourceOutput>().success_when(done).retry_on_error_code(NOT_FOUND),
        move || sns.list_tags_for_resource().resource_arn(&resource).send(),
    )
}

fn has_all(operation: &'static str, sns: &Client, arn: &str, wanted: Vec<(String, String)>) -> Check {
    let expected = format!("ListTagsForResource shows {}", show_tags(&wanted));
    tags_read(operation, sns, arn, expected, move |o| {
        has_tags(o.tags().iter().map(|t| (t.key(), t.value())), &wanted)
    })
}

fn create_topic(sns: &Client, input: &CreateTopicInput, output: &CreateTopicOutput) -> Vec<Check> {
    let Some(arn) = output.topic_arn() else { return Vec::new() };
    let mut wanted: Vec<(String, String)> =
        input.attributes().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    wanted.sort();
    let mut checks = vec![topic_attributes("CreateTopic", sns, arn, wanted)];
    if !input.tags().is_empty() {
        checks.push(has_all("CreateTopic", sns, arn, tags(input.tags())));
    }
    checks
}

fn set_topic_attributes(
    sns: &Client,
    input: &SetTopicAttributesInput,
    _: &SetTopicAttributesOutput,
) -> Vec<Check> {
    let (Some(arn), Some(name)) = (input.topic_arn(), input.attribute_name()) else { return Vec::new() };
    let value = input.attribute_value().unwrap_or_default().to_string();
    vec![topic_attributes("SetTopicAttributes", sns, arn, vec![(name.to_string(), value)])]
}

fn delete_topic(sns: &Client, input: &DeleteTopicInput, _: &DeleteTopicOutput) -> Vec<Check> {
    let Some(arn) = input.topic_arn() else { return Vec::new() };
    let (client, topic) = (sns.clone(), arn.to_string());
    vec![Check::new(
        "DeleteTopic",
        arn,
        "GetTopicAttributes answers NotFound",
        waiter::<GetTopicAttributesOutput>().success_on_error_code(NOT_FOUND).retry_when(|_| true),
        move || client.get_topic_attributes().topic_arn(&topic).send(),
    )]
}

/// Every subscription of `topic`, all pages.
async fn subscriptions(
    sns: Client,
    topic: String,
) -> Result<Vec<Subscription>, SdkError<ListSubscriptionsByTopicError>> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sns.list_subscriptions_by_topic().topic_arn(&topic).set_next_token(token.take()).send().await?;
        all.extend(page.subscriptions().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(all),
        }
    }
}

/// ListSubscriptionsByTopic on `topic` until `listed` says whether the subscription is there.
fn listed(
    operation: &'static str,
    sns: &Client,
    topic: &str,
    resource: &str,
    expected: String,
    done: impl Fn(&Vec<Subscription>) -> bool + Send + Sync + 'static,
) -> Check {
    let (sns, topic) = (sns.clone(), topic.to_string());
    Check::new(
        operation,
        resource,
        expected,
        waiter::<Vec<Subscription>>().success_when(done).retry_on_error_code(NOT_FOUND),
        move || subscriptions(sns.clone(), topic.clone()),
    )
}

/// Whether a `Subscribe` answer is a subscription ARN (not "pending confirmation").
fn is_arn(subscription: &str) -> bool {
    subscription.starts_with("arn:")
}

fn subscribe(sns: &Client, input: &SubscribeInput, output: &SubscribeOutput) -> Vec<Check> {
    let Some(topic) = input.topic_arn() else { return Vec::new() };
    match output.subscription_arn() {
        Some(arn) if is_arn(arn) => {
            let wanted = arn.to_string();
            let expected = format!("ListSubscriptionsByTopic lists {arn}");
            vec![listed("Subscribe", sns, topic, arn, expected, move |subs| {
                subs.iter().any(|s| s.subscription_arn() == Some(wanted.as_str()))
            })]
        }
        _ => {
            let (protocol, endpoint) = (input.protocol().map(str::to_string), input.endpoint().map(str::to_string));
            let expected = format!(
                "ListSubscriptionsByTopic lists the {} endpoint {}",
                protocol.as_deref().unwrap_or("?"),
                endpoint.as_deref().unwrap_or("?")
            );
            vec![listed("Subscribe", sns, topic, topic, expected, move |subs| {
                subs.iter().any(|s| s.protocol() == protocol.as_deref() && s.endpoint() == endpoint.as_deref())
            })]
        }
    }
}

fn unsubscribe(sns: &Client, input: &UnsubscribeInput, _: &UnsubscribeOutput) -> Vec<Check> {
    let Some(arn) = input.subscription_arn() else { return Vec::new() };
    // `arn:aws:sns:REGION:ACCOUNT:TOPIC:ID` belongs to the topic `arn:aws:sns:REGION:ACCOUNT:TOPIC`.
    let Some((topic, _)) = arn.rsplit_once(':') else { return Vec::new() };
    let gone = arn.to_string();
    let expected = format!("ListSubscriptionsByTopic does not list {arn}");
    vec![listed("Unsubscribe", sns, topic, arn, expected, move |subs| {
        subs.iter().all(|s| s.subscription_arn() != Some(gone.as_str()))
    })]
}

fn tag_resource(sns: &Client, input: &TagResourceInput, _: &TagResourceOutput) -> Vec<Check> {
    input.resource_arn().map(|arn| has_all("TagResource", sns, arn, tags(input.tags()))).into_iter().collect()
}

fn untag_resource(sns: &Client, input: &UntagResourceInput, _: &UntagResourceOutput) -> Vec<Check> {
    let Some(arn) = input.resource_arn() else { return Vec::new() };
    let keys = input.tag_keys().to_vec();
    let expected = format!("ListTagsForResource shows none of {}", keys.join(", "));
    vec![tags_read("UntagResource", sns, arn, expected, move |o| {
        lacks_keys(o.tags().iter().map(|t| t.key()), &keys)
    })]
}
