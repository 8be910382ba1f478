//! Secrets Manager rules under lag.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::Tag;
use aws_settle::post::Settle;

use crate::{LAG, Lagged, unique};

async fn create(sm: &Client, name: &str) -> String {
    let out = sm.create_secret().name(name).secret_string("initial").send().settled().await.unwrap();
    out.arn().unwrap().to_string()
}

async fn current_version(sm: &Client, id: &str) -> String {
    sm.get_secret_value().secret_id(id).send().await.unwrap().version_id().unwrap().to_string()
}

async fn tag_keys(sm: &Client, id: &str) -> Vec<String> {
    let out = sm.describe_secret().secret_id(id).send().await.unwrap();
    out.tags().iter().filter_map(|t| t.key().map(str::to_string)).collect()
}

#[tokio::test]
async fn create_secret_with_tags() {
    let env = Lagged::new(LAG);
    let (plain, sm) = env.clients(Client::new);
    let naive = unique("naive-secret");
    plain.create_secret().name(&naive).secret_string("x").send().await.unwrap();
    let err = plain.get_secret_value().secret_id(&naive).send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_not_found_exception(), "naive read of a new secret: {err:?}");

    let name = unique("settled-secret");
    let out = sm
        .create_secret()
        .name(&name)
        .secret_string("x")
        .tags(Tag::builder().key("owner").value("me").build())
        .send()
        .settled()
        .await
        .unwrap();
    assert_eq!(current_version(&plain, &name).await, out.version_id().unwrap());
    assert_eq!(tag_keys(&plain, &name).await, ["owner"]);
    env.assert_all_settled(2);
}

#[tokio::test]
async fn put_secret_value_and_update_secret() {
    let env = Lagged::new(LAG);
    let (plain, sm) = env.clients(Client::new);
    let arn = create(&sm, &unique("versions")).await;
    let first = current_version(&plain, &arn).await;

    let naive = plain.put_secret_value().secret_id(&arn).secret_string("v2").send().await.unwrap();
    assert_eq!(current_version(&plain, &arn).await, first, "naive: the old version is still current");
    assert_ne!(naive.version_id().unwrap(), first);

    let put = sm.put_secret_value().secret_id(&arn).secret_string("v3").send().settled().await.unwrap();
    assert_eq!(current_version(&plain, &arn).await, put.version_id().unwrap());

    let update = sm
        .update_secret()
        .secret_id(&arn)
        .secret_string("v4")
        .description("fourth")
        .send()
        .settled()
        .await
        .unwrap();
    assert_eq!(current_version(&plain, &arn).await, update.version_id().unwrap());
    let described = plain.describe_secret().secret_id(&arn).send().await.unwrap();
    assert_eq!(described.description(), Some("fourth"));
    env.assert_all_settled(4);
}

#[tokio::test]
async fn delete_with_recovery_window_restore_and_force_delete() {
    let env = Lagged::new(LAG);
    let (plain, sm) = env.clients(Client::new);
    let arn = create(&sm, &unique("deletion")).await;

    plain.delete_secret().secret_id(&arn).recovery_window_in_days(7).send().await.unwrap();
    let described = plain.describe_secret().secret_id(&arn).send().await.unwrap();
    assert!(described.deleted_date().is_none(), "naive: the deletion is not visible yet");
    sm.restore_secret().secret_id(&arn).send().settled().await.unwrap();
    assert!(plain.describe_secret().secret_id(&arn).send().await.unwrap().deleted_date().is_none());

    sm.delete_secret().secret_id(&arn).recovery_window_in_days(7).send().settled().await.unwrap();
    assert!(plain.describe_secret().secret_id(&arn).send().await.unwrap().deleted_date().is_some());

    sm.delete_secret().secret_id(&arn).force_delete_without_recovery(true).send().settled().await.unwrap();
    let err = plain.describe_secret().secret_id(&arn).send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    env.assert_all_settled(4);
}

#[tokio::test]
async fn tag_untag_and_version_stage() {
    let env = Lagged::new(LAG);
    let (plain, sm) = env.clients(Client::new);
    let arn = create(&sm, &unique("tags")).await;
    plain
        .tag_resource()
        .secret_id(&arn)
        .tags(Tag::builder().key("naive").value("1").build())
        .send()
        .await
        .unwrap();
    assert!(tag_keys(&plain, &arn).await.is_empty(), "naive: tags not visible yet");

    sm.tag_resource()
        .secret_id(&arn)
        .tags(Tag::builder().key("team").value("a").build())
        .send()
        .settled()
        .await
        .unwrap();
    let keys = tag_keys(&plain, &arn).await;
    assert!(keys.contains(&"team".to_string()), "{keys:?}");
    sm.untag_resource().secret_id(&arn).tag_keys("team").send().settled().await.unwrap();
    assert!(!tag_keys(&plain, &arn).await.contains(&"team".to_string()));

    // A pending version, then move a custom stage onto it.
    let staged = sm
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("next")
        .version_stages("AWSPENDING")
        .send()
        .settled()
        .await
        .unwrap();
    let version = staged.version_id().unwrap();
    sm.update_secret_version_stage()
        .secret_id(&arn)
        .version_stage("BLUE")
        .move_to_version_id(version)
        .send()
        .settled()
        .await
        .unwrap();
    let described = plain.describe_secret().secret_id(&arn).send().await.unwrap();
    let stages = described.version_ids_to_stages().unwrap().get(version).unwrap();
    assert!(stages.contains(&"BLUE".to_string()), "{stages:?}");
    env.assert_all_settled(5);
}
