//! SQS through the real aws-sdk-sqs client (awsJson 1.0, query-compatible errors) against moto:
//! writes held invisible (`Config::held()`) and released explicitly, never a wall-clock window.

mod services_support;

use aws_sdk_sqs::types::QueueAttributeName as Attr;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::{held, throttled, throttled_attempts};
use settle_proxy::ProxyHandle;
use settle_testbed::unique_name;

fn held_sqs() -> (ProxyHandle, aws_sdk_sqs::Client) {
    let (proxy, config) = held();
    (proxy, aws_sdk_sqs::Client::new(&config))
}

async fn visibility_timeout(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<String> {
    let attrs = sqs.get_queue_attributes().queue_url(url).attribute_names(Attr::VisibilityTimeout);
    attrs.send().await.unwrap().attributes().and_then(|a| a.get(&Attr::VisibilityTimeout)).cloned()
}

#[tokio::test]
async fn a_new_queue_is_not_found_by_name_nor_usable_until_released() {
    let (proxy, sqs) = held_sqs();
    let name = unique_name("settle-q");
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    for _ in 0..2 {
        let err = sqs.get_queue_url().queue_name(&name).send().await.unwrap_err();
        assert_eq!(err.code(), Some("AWS.SimpleQueueService.NonExistentQueue"), "{err:?}");
        assert!(err.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "{err:?}");
    }
    let err = sqs.get_queue_attributes().queue_url(&url).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AWS.SimpleQueueService.NonExistentQueue"), "attributes by URL too");
    let err = sqs.send_message().queue_url(&url).message_body("m").send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "not usable yet: {err:?}");
    assert_eq!(proxy.counters().blocked, 1);
    assert_eq!(proxy.release_resource(&format!("sqs-queue:{name}")), 1);
    let found = sqs.get_queue_url().queue_name(&name).send().await.unwrap();
    assert_eq!(found.queue_url(), Some(url.as_str()));
    sqs.send_message().queue_url(&url).message_body("m").send().await.unwrap();
    assert_eq!(proxy.counters().served_from_snapshot, 3);
}

#[tokio::test]
async fn set_queue_attributes_reads_the_old_values_until_released() {
    let (proxy, sqs) = held_sqs();
    let name = unique_name("settle-qattr");
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    proxy.release_all();
    assert_eq!(visibility_timeout(&sqs, &url).await.as_deref(), Some("30"), "SQS's default");

    let set = sqs.set_queue_attributes().queue_url(&url).attributes(Attr::VisibilityTimeout, "45");
    set.send().await.unwrap();
    assert_eq!(visibility_timeout(&sqs, &url).await.as_deref(), Some("30"), "old while held");
    assert_eq!(proxy.release_operation("SetQueueAttributes"), 1);
    assert_eq!(visibility_timeout(&sqs, &url).await.as_deref(), Some("45"));
}

#[tokio::test]
async fn a_deleted_queue_still_reads_present_and_its_name_is_refused_until_released() {
    let (proxy, sqs) = held_sqs();
    let name = unique_name("settle-qdel");
    let key = format!("sqs-queue:{name}");
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    proxy.release_all();
    let tag = sqs.tag_queue().queue_url(&url).tags("team", "blue");
    tag.send().await.unwrap();
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
    assert!(tags.tags().is_none_or(|t| t.is_empty()), "tags read old while held: {tags:?}");
    proxy.release_all();

    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let found = sqs.get_queue_url().queue_name(&name).send().await.unwrap();
    assert_eq!(found.queue_url(), Some(url.as_str()), "still there while the delete is held");
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
    assert_eq!(tags.tags().and_then(|t| t.get("team")).map(String::as_str), Some("blue"));

    let err = sqs.create_queue().queue_name(&name).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AWS.SimpleQueueService.QueueDeletedRecently"), "{err:?}");
    assert!(err.as_service_error().is_some_and(|e| e.is_queue_deleted_recently()), "{err:?}");
    assert_eq!(proxy.counters().conflicts, 1);

    assert_eq!(proxy.release_resource(&key), 1);
    let err = sqs.get_queue_url().queue_name(&name).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AWS.SimpleQueueService.NonExistentQueue"), "gone once released");
    sqs.create_queue().queue_name(&name).send().await.unwrap();
}

#[tokio::test]
async fn sqs_throttling_is_classified_and_retried_by_the_sdk() {
    let (proxy, config) = throttled();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let _ = sqs.list_queues().send().await;
    let err = sqs.list_queues().send().await.unwrap_err();
    assert_eq!(err.code(), Some("RequestThrottled"), "{err:?}");
    assert!(err.as_service_error().is_some_and(|e| e.is_request_throttled()), "modeled: {err:?}");
    assert_eq!(throttled_attempts(&proxy, "sqs:ListQueues"), Some(3));
}
