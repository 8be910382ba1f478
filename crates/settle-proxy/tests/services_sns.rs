//! SNS through the real aws-sdk-sns client (query protocol) against moto: writes held invisible
//! (`Config::held()`) and released explicitly, never a wall-clock window.

mod services_support;

use aws_sdk_sns::Client;
use aws_sdk_sns::types::Tag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::{held, throttled, throttled_attempts};
use settle_emulator::unique_name;
use settle_proxy::ProxyHandle;

fn held_sns() -> (ProxyHandle, Client) {
    let (proxy, config) = held();
    (proxy, Client::new(&config))
}

async fn display_name(sns: &Client, arn: &str) -> Option<String> {
    let got = sns.get_topic_attributes().topic_arn(arn).send().await.unwrap();
    got.attributes().and_then(|a| a.get("DisplayName")).cloned()
}

#[tokio::test]
async fn a_new_topic_is_not_found_and_a_deleted_one_still_is_until_released() {
    let (proxy, sns) = held_sns();
    let name = unique_name("settle-topic");
    let key = format!("sns-topic:{name}");
    let arn = sns.create_topic().name(&name).send().await.unwrap().topic_arn.unwrap();
    for _ in 0..2 {
        let err = sns.get_topic_attributes().topic_arn(&arn).send().await.unwrap_err();
        assert_eq!(err.code(), Some("NotFound"), "{err:?}");
        assert!(err.as_service_error().is_some_and(|e| e.is_not_found_exception()), "{err:?}");
    }
    assert_eq!(proxy.release_resource(&key), 1);
    assert!(display_name(&sns, &arn).await.is_some_and(|d| d.is_empty()));

    sns.delete_topic().topic_arn(&arn).send().await.unwrap();
    assert!(display_name(&sns, &arn).await.is_some(), "still there while held");
    assert_eq!(proxy.release_operation("DeleteTopic"), 1);
    let err = sns.get_topic_attributes().topic_arn(&arn).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NotFound"));
    assert_eq!(proxy.counters().served_from_snapshot, 3);
}

#[tokio::test]
async fn topic_attributes_subscriptions_and_tags_read_old_until_released() {
    let (proxy, sns) = held_sns();
    let name = unique_name("settle-tattr");
    let arn = sns.create_topic().name(&name).send().await.unwrap().topic_arn.unwrap();
    proxy.release_all();

    let set = sns.set_topic_attributes().topic_arn(&arn).attribute_name("DisplayName");
    set.attribute_value("settled").send().await.unwrap();
    assert_eq!(display_name(&sns, &arn).await.as_deref(), Some(""), "old while held");
    assert_eq!(proxy.release_operation("SetTopicAttributes"), 1);
    assert_eq!(display_name(&sns, &arn).await.as_deref(), Some("settled"));

    let subscriptions = |sns: Client, arn: String| async move {
        let listed = sns.list_subscriptions_by_topic().topic_arn(arn).send().await.unwrap();
        listed.subscriptions().len()
    };
    let subscribe = sns.subscribe().topic_arn(&arn).protocol("email").endpoint("ops@example.com");
    let subscription = subscribe.send().await.unwrap().subscription_arn.unwrap();
    assert_eq!(subscriptions(sns.clone(), arn.clone()).await, 0, "not listed while held");
    let attributes = |sns: Client, subscription: String| async move {
        sns.get_subscription_attributes().subscription_arn(subscription).send().await
    };
    let err = attributes(sns.clone(), subscription.clone()).await.unwrap_err();
    assert_eq!(err.code(), Some("NotFound"), "the new subscription's ARN is unknown while held: {err:?}");
    assert!(err.as_service_error().is_some_and(|e| e.is_not_found_exception()));
    // The topic's list and the subscription itself: two keys of one write.
    assert_eq!(proxy.release_operation("Subscribe"), 2);
    assert_eq!(subscriptions(sns.clone(), arn.clone()).await, 1);
    let found = attributes(sns.clone(), subscription.clone()).await.unwrap();
    assert_eq!(found.attributes().and_then(|a| a.get("TopicArn")), Some(&arn));
    sns.unsubscribe().subscription_arn(&subscription).send().await.unwrap();
    assert_eq!(subscriptions(sns.clone(), arn.clone()).await, 1, "still listed while held");
    assert_eq!(proxy.release_resource(&format!("sns-topic:{name}")), 1);
    assert_eq!(subscriptions(sns.clone(), arn.clone()).await, 0);

    let tags = |sns: Client, arn: String| async move {
        sns.list_tags_for_resource().resource_arn(arn).send().await.unwrap().tags().len()
    };
    let tag = Tag::builder().key("team").value("blue").build().unwrap();
    sns.tag_resource().resource_arn(&arn).tags(tag).send().await.unwrap();
    assert_eq!(tags(sns.clone(), arn.clone()).await, 0, "untagged while held");
    proxy.release_all();
    assert_eq!(tags(sns.clone(), arn.clone()).await, 1);
}

#[tokio::test]
async fn sns_throttling_is_classified_and_retried_by_the_sdk() {
    let (proxy, config) = throttled();
    let sns = Client::new(&config);
    let _ = sns.list_topics().send().await;
    let err = sns.list_topics().send().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    assert_eq!(throttled_attempts(&proxy, "sns:ListTopics"), Some(3));
}
