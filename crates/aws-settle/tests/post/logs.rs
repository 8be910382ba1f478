//! CloudWatch Logs rules under lag: a new log group is not listed, a deleted one still is,
//! retention and tags read old.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::LogGroup;

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::unique;

/// The log group `name` of the emulator's region and account.
fn arn(name: &str) -> String {
    format!("arn:aws:logs:{}:123456789012:log-group:{name}", settle_emulator::REGION)
}

fn group(logs: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(logs.create_log_group().log_group_name(&name).tags("team", "v").send(), true).await;
    })
}

fn group_with_retention(logs: Client, name: String) -> BoxFut<()> {
    bx(async move {
        group(logs.clone(), name.clone()).await;
        send(logs.put_retention_policy().log_group_name(&name).retention_in_days(7).send(), true).await;
    })
}

async fn listed(logs: &Client, name: &str) -> Option<LogGroup> {
    let out = logs.describe_log_groups().log_group_name_prefix(name).send().await.unwrap();
    out.log_groups().iter().find(|g| g.log_group_name() == Some(name)).cloned()
}

async fn tag_keys(logs: &Client, name: &str) -> Vec<String> {
    let out = logs.list_tags_for_resource().resource_arn(arn(name)).send().await.unwrap();
    out.tags.unwrap_or_default().into_keys().collect()
}

#[tokio::test]
async fn every_logs_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || format!("/settle/{}", unique("lg")),
        vec![
            Scenario {
                rule: "CreateLogGroup",
                setup: nothing,
                write: |logs, n, settle| {
                    bx(async move {
                        send(logs.create_log_group().log_group_name(&n).tags("team", "v").send(), settle)
                            .await;
                    })
                },
                visible: |logs, n| bx(async move { listed(&logs, &n).await.is_some() }),
            },
            Scenario {
                rule: "DeleteLogGroup",
                setup: group,
                write: |logs, n, settle| {
                    bx(async move {
                        send(logs.delete_log_group().log_group_name(&n).send(), settle).await;
                    })
                },
                visible: |logs, n| bx(async move { listed(&logs, &n).await.is_none() }),
            },
            Scenario {
                rule: "PutRetentionPolicy",
                setup: group,
                write: |logs, n, settle| {
                    bx(async move {
                        send(
                            logs.put_retention_policy().log_group_name(&n).retention_in_days(14).send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |logs, n| {
                    bx(async move { listed(&logs, &n).await.and_then(|g| g.retention_in_days) == Some(14) })
                },
            },
            Scenario {
                rule: "DeleteRetentionPolicy",
                setup: group_with_retention,
                write: |logs, n, settle| {
                    bx(async move {
                        send(logs.delete_retention_policy().log_group_name(&n).send(), settle).await;
                    })
                },
                visible: |logs, n| {
                    bx(async move { listed(&logs, &n).await.is_some_and(|g| g.retention_in_days.is_none()) })
                },
            },
            Scenario {
                rule: "TagResource",
                setup: group,
                write: |logs, n, settle| {
                    bx(async move {
                        send(logs.tag_resource().resource_arn(arn(&n)).tags("env", "prod").send(), settle)
                            .await;
                    })
                },
                visible: |logs, n| bx(async move { tag_keys(&logs, &n).await.contains(&"env".to_string()) }),
            },
            Scenario {
                rule: "UntagResource",
                setup: group,
                write: |logs, n, settle| {
                    bx(async move {
                        send(logs.untag_resource().resource_arn(arn(&n)).tag_keys("team").send(), settle)
                            .await;
                    })
                },
                visible: |logs, n| bx(async move { tag_keys(&logs, &n).await.is_empty() }),
            },
            Scenario {
                rule: "TagLogGroup",
                setup: group,
                write: |logs, n, settle| {
                    bx(async move {
                        #[allow(deprecated)]
                        let tag = logs.tag_log_group().log_group_name(&n).tags("env", "prod");
                        send(tag.send(), settle).await;
                    })
                },
                visible: |logs, n| {
                    bx(async move {
                        #[allow(deprecated)]
                        let out = logs.list_tags_log_group().log_group_name(&n).send().await.unwrap();
                        out.tags().is_some_and(|t| t.contains_key("env"))
                    })
                },
            },
            Scenario {
                rule: "UntagLogGroup",
                setup: group,
                write: |logs, n, settle| {
                    bx(async move {
                        #[allow(deprecated)]
                        let untag = logs.untag_log_group().log_group_name(&n).tags("team");
                        send(untag.send(), settle).await;
                    })
                },
                visible: |logs, n| {
                    bx(async move {
                        #[allow(deprecated)]
                        let out = logs.list_tags_log_group().log_group_name(&n).send().await.unwrap();
                        out.tags().is_none_or(|t| t.is_empty())
                    })
                },
            },
        ],
    )
    .await;
}
