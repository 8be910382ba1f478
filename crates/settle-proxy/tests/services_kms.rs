//! KMS through the real aws-sdk-kms client (awsJson 1.1) against moto: writes held invisible
//! (`Config::held()`) and released explicitly, never a wall-clock window.

mod services_support;

use aws_sdk_kms::types::{KeyState, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::{held, throttled, throttled_attempts};
use settle_emulator::unique_name;
use settle_proxy::ProxyHandle;

/// A held proxy, a client, and a key made visible already.
async fn held_key() -> (ProxyHandle, aws_sdk_kms::Client, String) {
    let (proxy, config) = held();
    let kms = aws_sdk_kms::Client::new(&config);
    let created = kms.create_key().description("settle").send().await.unwrap();
    let id = created.key_metadata().map(|m| m.key_id().to_string()).unwrap();
    assert_eq!(proxy.release_operation("CreateKey"), 1);
    (proxy, kms, id)
}

async fn state(kms: &aws_sdk_kms::Client, key: &str) -> Option<KeyState> {
    let described = kms.describe_key().key_id(key).send().await.unwrap();
    described.key_metadata().and_then(|m| m.key_state()).cloned()
}

#[tokio::test]
async fn a_new_key_is_not_found_by_id_or_arn_until_released() {
    let (proxy, config) = held();
    let kms = aws_sdk_kms::Client::new(&config);
    let created = kms.create_key().description("settle").send().await.unwrap().key_metadata.unwrap();
    for reference in [created.key_id(), created.arn().unwrap()] {
        let err = kms.describe_key().key_id(reference).send().await.unwrap_err();
        assert!(err.as_service_error().is_some_and(|e| e.is_not_found_exception()), "{err:?}");
        assert!(err.message().is_some_and(|m| m.contains(created.key_id())), "{err:?}");
    }
    let err = kms.get_key_policy().key_id(created.key_id()).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NotFoundException"));
    assert_eq!(proxy.release_resource(&format!("kms-key:{}", created.key_id())), 1);
    assert_eq!(state(&kms, created.key_id()).await, Some(KeyState::Enabled));
    assert_eq!(proxy.counters().served_from_snapshot, 3);
}

#[tokio::test]
async fn disable_and_enable_read_the_old_key_state_until_released_by_id_or_arn() {
    let (proxy, kms, id) = held_key().await;
    let arn = kms.describe_key().key_id(&id).send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    kms.disable_key().key_id(&id).send().await.unwrap();
    assert_eq!(state(&kms, &id).await, Some(KeyState::Enabled), "old state while held");
    assert_eq!(state(&kms, &arn).await, Some(KeyState::Enabled), "the ARN names the same key");
    assert_eq!(proxy.release_resource(&format!("kms-key:{id}")), 1);
    assert_eq!(state(&kms, &id).await, Some(KeyState::Disabled));

    kms.enable_key().key_id(&id).send().await.unwrap(); // moto 5.2.5 answers 500 to an ARN here
    assert_eq!(state(&kms, &id).await, Some(KeyState::Disabled));
    assert_eq!(proxy.release_operation("EnableKey"), 1);
    assert_eq!(state(&kms, &id).await, Some(KeyState::Enabled));

    kms.schedule_key_deletion().key_id(&id).pending_window_in_days(7).send().await.unwrap();
    assert_eq!(state(&kms, &id).await, Some(KeyState::Enabled), "not yet PendingDeletion");
    proxy.release_all();
    assert_eq!(state(&kms, &id).await, Some(KeyState::PendingDeletion));
    assert_eq!(proxy.counters().served_from_snapshot, 4);
}

#[tokio::test]
async fn key_policy_reads_old_until_released() {
    let (proxy, kms, id) = held_key().await;
    let policy = |kms: aws_sdk_kms::Client, id: String| async move {
        kms.get_key_policy().key_id(id).policy_name("default").send().await.unwrap().policy.unwrap()
    };
    let before = policy(kms.clone(), id.clone()).await;
    let new = r#"{"Version":"2012-10-17","Statement":[{"Sid":"settle","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy().key_id(&id).policy_name("default").policy(new).send().await.unwrap();
    assert_eq!(policy(kms.clone(), id.clone()).await, before, "old policy while held");
    assert_eq!(proxy.release_operation("PutKeyPolicy"), 1);
    assert!(policy(kms.clone(), id.clone()).await.contains("settle"));
}

#[tokio::test]
async fn tags_and_rotation_read_old_until_released() {
    let (proxy, kms, id) = held_key().await;
    let tags = |kms: aws_sdk_kms::Client, id: String| async move {
        let listed = kms.list_resource_tags().key_id(id).send().await.unwrap();
        listed.tags().iter().map(|t| format!("{}={}", t.tag_key(), t.tag_value())).collect::<Vec<_>>()
    };
    let tag = Tag::builder().tag_key("team").tag_value("blue").build().unwrap();
    kms.tag_resource().key_id(&id).tags(tag).send().await.unwrap();
    assert!(tags(kms.clone(), id.clone()).await.is_empty(), "no tags while held");
    assert_eq!(proxy.release_operation("TagResource"), 1);
    assert_eq!(tags(kms.clone(), id.clone()).await, ["team=blue"]);
    kms.untag_resource().key_id(&id).tag_keys("team").send().await.unwrap();
    assert_eq!(tags(kms.clone(), id.clone()).await, ["team=blue"], "still tagged while held");
    proxy.release_all();
    assert!(tags(kms.clone(), id.clone()).await.is_empty());

    let rotation = |kms: aws_sdk_kms::Client, id: String| async move {
        kms.get_key_rotation_status().key_id(id).send().await.unwrap().key_rotation_enabled()
    };
    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    assert!(!rotation(kms.clone(), id.clone()).await, "rotation off while held");
    proxy.release_all();
    assert!(rotation(kms.clone(), id.clone()).await);
}

#[tokio::test]
async fn a_new_alias_is_not_found_and_a_deleted_one_still_resolves_until_released() {
    let (proxy, kms, id) = held_key().await;
    let alias = unique_name("alias/settle");
    kms.create_alias().alias_name(&alias).target_key_id(&id).send().await.unwrap();
    let err = kms.describe_key().key_id(&alias).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NotFoundException"), "{err:?}");
    assert!(err.as_service_error().is_some_and(|e| e.is_not_found_exception()));
    let name = alias.trim_start_matches("alias/");
    assert_eq!(proxy.release_resource(&format!("kms-key:{name}")), 1);
    assert_eq!(state(&kms, &alias).await, Some(KeyState::Enabled));

    kms.delete_alias().alias_name(&alias).send().await.unwrap();
    assert_eq!(state(&kms, &alias).await, Some(KeyState::Enabled), "resolves while held");
    proxy.release_all();
    let err = kms.describe_key().key_id(&alias).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NotFoundException"));
}

#[tokio::test]
async fn kms_throttling_is_classified_and_retried_by_the_sdk() {
    let (proxy, config) = throttled();
    let kms = aws_sdk_kms::Client::new(&config);
    let _ = kms.list_keys().send().await;
    let err = kms.list_keys().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    assert_eq!(throttled_attempts(&proxy, "kms:ListKeys"), Some(3));
}
