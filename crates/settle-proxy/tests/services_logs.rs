//! CloudWatch Logs through the real aws-sdk-cloudwatchlogs client (awsJson 1.1) against moto:
//! writes held invisible (`Config::held()`) and released explicitly, never a wall-clock window.

mod services_support;

use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::{held, throttled, throttled_attempts};
use settle_proxy::ProxyHandle;
use settle_testbed::unique_name;

fn held_logs() -> (ProxyHandle, Client) {
    let (proxy, config) = held();
    (proxy, Client::new(&config))
}

/// The groups DescribeLogGroups lists under the name as prefix, with their retention.
async fn groups(logs: &Client, name: &str) -> Vec<(String, Option<i32>)> {
    let listed = logs.describe_log_groups().log_group_name_prefix(name).send().await.unwrap();
    let groups = listed.log_groups().iter();
    groups.map(|g| (g.log_group_name().unwrap_or_default().to_string(), g.retention_in_days())).collect()
}

#[tokio::test]
async fn a_new_log_group_is_not_listed_and_a_deleted_one_still_is_until_released() {
    let (proxy, logs) = held_logs();
    let name = unique_name("/settle/logs");
    let key = format!("logs-log-group:{name}");
    logs.create_log_group().log_group_name(&name).send().await.unwrap();
    assert!(groups(&logs, &name).await.is_empty(), "not listed while held");
    assert_eq!(proxy.release_resource(&key), 1);
    assert_eq!(groups(&logs, &name).await, [(name.clone(), None)]);

    logs.delete_log_group().log_group_name(&name).send().await.unwrap();
    assert_eq!(groups(&logs, &name).await, [(name.clone(), None)], "still listed while held");
    assert_eq!(proxy.release_operation("DeleteLogGroup"), 1);
    assert!(groups(&logs, &name).await.is_empty());
    assert_eq!(proxy.counters().served_from_snapshot, 2);
}

#[tokio::test]
async fn retention_reads_old_until_released() {
    let (proxy, logs) = held_logs();
    let name = unique_name("/settle/retention");
    logs.create_log_group().log_group_name(&name).send().await.unwrap();
    proxy.release_all();
    logs.put_retention_policy().log_group_name(&name).retention_in_days(7).send().await.unwrap();
    assert_eq!(groups(&logs, &name).await, [(name.clone(), None)], "no retention while held");
    assert_eq!(proxy.release_operation("PutRetentionPolicy"), 1);
    assert_eq!(groups(&logs, &name).await, [(name.clone(), Some(7))]);

    logs.delete_retention_policy().log_group_name(&name).send().await.unwrap();
    assert_eq!(groups(&logs, &name).await, [(name.clone(), Some(7))], "old retention while held");
    proxy.release_all();
    assert_eq!(groups(&logs, &name).await, [(name.clone(), None)]);
}

#[tokio::test]
async fn tags_by_arn_and_by_name_read_old_until_released() {
    let (proxy, logs) = held_logs();
    let name = unique_name("/settle/tags");
    logs.create_log_group().log_group_name(&name).send().await.unwrap();
    proxy.release_all();
    let listed = logs.describe_log_groups().log_group_name_prefix(&name).send().await.unwrap();
    let arn = listed.log_groups()[0].log_group_arn().unwrap().to_string();
    let tags = |logs: Client, arn: String| async move {
        let listed = logs.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
        listed.tags().map(|t| t.len()).unwrap_or(0)
    };
    logs.tag_resource().resource_arn(&arn).tags("team", "blue").send().await.unwrap();
    assert_eq!(tags(logs.clone(), arn.clone()).await, 0, "untagged while held");
    assert_eq!(proxy.release_resource(&format!("logs-log-group:{name}")), 1);
    assert_eq!(tags(logs.clone(), arn.clone()).await, 1);
    logs.untag_resource().resource_arn(&arn).tag_keys("team").send().await.unwrap();
    assert_eq!(tags(logs.clone(), arn.clone()).await, 1, "still tagged while held");
    proxy.release_all();
    assert_eq!(tags(logs.clone(), arn.clone()).await, 0);

    #[allow(deprecated)] // the name-based tag calls AWS still answers
    let (tag, list) = (logs.tag_log_group(), logs.list_tags_log_group());
    tag.log_group_name(&name).tags("env", "dev").send().await.unwrap();
    let by_name = list.log_group_name(&name);
    let old = by_name.clone().send().await.unwrap();
    assert!(old.tags().is_none_or(|t| !t.contains_key("env")), "old tags while held: {old:?}");
    assert_eq!(proxy.release_operation("TagLogGroup"), 1);
    let new = by_name.send().await.unwrap();
    assert_eq!(new.tags().and_then(|t| t.get("env")).map(String::as_str), Some("dev"));
}

#[tokio::test]
async fn logs_throttling_is_classified_and_retried_by_the_sdk() {
    let (proxy, config) = throttled();
    let logs = Client::new(&config);
    let _ = logs.describe_log_groups().send().await;
    let err = logs.describe_log_groups().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    assert_eq!(throttled_attempts(&proxy, "logs:DescribeLogGroups"), Some(3));
}
