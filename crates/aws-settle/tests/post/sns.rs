//! SNS rules under lag: a new topic is not found, attributes and tags read old, a new
//! subscription is not listed and a removed one still is.

use aws_sdk_sns::Client;

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::unique;

/// The topic `name` of the emulator's region and account.
fn arn(name: &str) -> String {
    format!("arn:aws:sns:{}:123456789012:{name}", settle_emulator::REGION)
}

fn topic(sns: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(sns.create_topic().name(&name).send(), true).await;
        let tag = aws_sdk_sns::types::Tag::builder().key("team").value("v").build().unwrap();
        send(sns.tag_resource().resource_arn(arn(&name)).tags(tag).send(), true).await;
    })
}

fn topic_with_subscription(sns: Client, name: String) -> BoxFut<()> {
    bx(async move {
        topic(sns.clone(), name.clone()).await;
        send(subscribe(&sns, &name).send(), true).await;
    })
}

fn subscribe(
    sns: &Client,
    name: &str,
) -> aws_sdk_sns::operation::subscribe::builders::SubscribeFluentBuilder {
    sns.subscribe().topic_arn(arn(name)).protocol("email").endpoint("ops@example.com")
}

async fn subscriptions(sns: &Client, name: &str) -> Vec<String> {
    let listed = sns.list_subscriptions_by_topic().topic_arn(arn(name)).send().await.unwrap();
    listed.subscriptions().iter().filter_map(|s| s.subscription_arn().map(str::to_string)).collect()
}

async fn display_name(sns: &Client, name: &str) -> Option<String> {
    let read = sns.get_topic_attributes().topic_arn(arn(name)).send().await.ok()?;
    read.attributes?.remove("DisplayName")
}

async fn tag_keys(sns: &Client, name: &str) -> Vec<String> {
    let tags = sns.list_tags_for_resource().resource_arn(arn(name)).send().await.unwrap();
    tags.tags().iter().map(|t| t.key().to_string()).collect()
}

#[tokio::test]
async fn every_sns_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || unique("settle-topic"),
        vec![
            Scenario {
                rule: "CreateTopic",
                setup: nothing,
                write: |sns, n, settle| {
                    bx(async move {
                        send(sns.create_topic().name(&n).attributes("DisplayName", "made").send(), settle)
                            .await;
                    })
                },
                visible: |sns, n| bx(async move { display_name(&sns, &n).await.as_deref() == Some("made") }),
            },
            Scenario {
                rule: "SetTopicAttributes",
                setup: topic,
                write: |sns, n, settle| {
                    bx(async move {
                        let set = sns.set_topic_attributes().topic_arn(arn(&n)).attribute_name("DisplayName");
                        send(set.attribute_value("renamed").send(), settle).await;
                    })
                },
                visible: |sns, n| {
                    bx(async move { display_name(&sns, &n).await.as_deref() == Some("renamed") })
                },
            },
            Scenario {
                rule: "DeleteTopic",
                setup: topic,
                write: |sns, n, settle| {
                    bx(async move {
                        send(sns.delete_topic().topic_arn(arn(&n)).send(), settle).await;
                    })
                },
                visible: |sns, n| {
                    bx(async move {
                        let read = sns.get_topic_attributes().topic_arn(arn(&n)).send().await;
                        read.is_err_and(|e| e.into_service_error().is_not_found_exception())
                    })
                },
            },
            Scenario {
                rule: "Subscribe",
                setup: topic,
                write: |sns, n, settle| {
                    bx(async move {
                        send(subscribe(&sns, &n).send(), settle).await;
                    })
                },
                visible: |sns, n| bx(async move { subscriptions(&sns, &n).await.len() == 1 }),
            },
            Scenario {
                rule: "Unsubscribe",
                setup: topic_with_subscription,
                write: |sns, n, settle| {
                    bx(async move {
                        let subscription = subscriptions(&sns, &n).await.remove(0);
                        send(sns.unsubscribe().subscription_arn(subscription).send(), settle).await;
                    })
                },
                visible: |sns, n| bx(async move { subscriptions(&sns, &n).await.is_empty() }),
            },
            Scenario {
                rule: "TagResource",
                setup: topic,
                write: |sns, n, settle| {
                    bx(async move {
                        let tag =
                            aws_sdk_sns::types::Tag::builder().key("env").value("prod").build().unwrap();
                        send(sns.tag_resource().resource_arn(arn(&n)).tags(tag).send(), settle).await;
                    })
                },
                visible: |sns, n| bx(async move { tag_keys(&sns, &n).await.contains(&"env".to_string()) }),
            },
            Scenario {
                rule: "UntagResource",
                setup: topic,
                write: |sns, n, settle| {
                    bx(async move {
                        send(sns.untag_resource().resource_arn(arn(&n)).tag_keys("team").send(), settle)
                            .await;
                    })
                },
                visible: |sns, n| bx(async move { tag_keys(&sns, &n).await.is_empty() }),
            },
        ],
    )
    .await;
}
