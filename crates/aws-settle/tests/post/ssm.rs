//! SSM rules under lag.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};
use aws_settle::post::Settle;

use crate::{LAG, Lagged, unique};

fn name() -> String {
    format!("/settle/post/{}", unique("p"))
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

async fn value(ssm: &Client, name: &str) -> Result<(i64, String), aws_sdk_ssm::Error> {
    let p = ssm.get_parameter().name(name).send().await?.parameter.unwrap();
    Ok((p.version, p.value.unwrap_or_default()))
}

async fn tag_keys(ssm: &Client, name: &str) -> Vec<String> {
    let out = ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(name)
        .send()
        .await
        .unwrap();
    out.tag_list().iter().map(|t| t.key().to_string()).collect()
}

async fn create(ssm: &Client, name: &str, value: &str) {
    ssm.put_parameter().name(name).value(value).r#type(ParameterType::String).send().settled().await.unwrap();
}

#[tokio::test]
async fn put_parameter_new_and_overwrite() {
    let env = Lagged::new(LAG);
    let (plain, ssm) = env.clients(Client::new);
    // Naive: a new parameter is not found; an overwrite reads the old value.
    let naive = name();
    plain.put_parameter().name(&naive).value("one").r#type(ParameterType::String).send().await.unwrap();
    let err = plain.get_parameter().name(&naive).send().await.unwrap_err().into_service_error();
    assert!(err.is_parameter_not_found(), "naive read of a new parameter: {err:?}");

    let settled = name();
    ssm.put_parameter()
        .name(&settled)
        .value("one")
        .r#type(ParameterType::String)
        .tags(tag("team", "blue"))
        .send()
        .settled()
        .await
        .unwrap();
    assert_eq!(value(&plain, &settled).await.unwrap(), (1, "one".to_string()));
    assert_eq!(tag_keys(&plain, &settled).await, ["team"]);

    // Overwrite: naive reads the old version, settled reads the new one.
    plain.put_parameter().name(&settled).value("two").overwrite(true).send().await.unwrap();
    assert_eq!(value(&plain, &settled).await.unwrap(), (1, "one".to_string()), "naive overwrite reads old");
    ssm.put_parameter().name(&settled).value("three").overwrite(true).send().settled().await.unwrap();
    assert_eq!(value(&plain, &settled).await.unwrap(), (3, "three".to_string()));
    env.assert_all_settled(3);
}

#[tokio::test]
async fn delete_parameter_and_delete_parameters() {
    let env = Lagged::new(LAG);
    let (plain, ssm) = env.clients(Client::new);
    let (a, b, c) = (name(), name(), name());
    for n in [&a, &b, &c] {
        create(&ssm, n, "v").await;
    }
    plain.delete_parameter().name(&a).send().await.unwrap();
    assert!(value(&plain, &a).await.is_ok(), "naive: a deleted parameter still reads");

    ssm.delete_parameter().name(&b).send().settled().await.unwrap();
    let err = plain.get_parameter().name(&b).send().await.unwrap_err().into_service_error();
    assert!(err.is_parameter_not_found(), "{err:?}");

    ssm.delete_parameters().names(&c).send().settled().await.unwrap();
    let err = plain.get_parameter().name(&c).send().await.unwrap_err().into_service_error();
    assert!(err.is_parameter_not_found(), "{err:?}");
    env.assert_all_settled(5);
}

#[tokio::test]
async fn add_and_remove_tags() {
    let env = Lagged::new(LAG);
    let (plain, ssm) = env.clients(Client::new);
    let (naive, settled) = (name(), name());
    create(&ssm, &naive, "v").await;
    create(&ssm, &settled, "v").await;
    let add = |client: &Client, n: &str| {
        client
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(n)
            .tags(tag("env", "prod"))
            .send()
    };
    add(&plain, &naive).await.unwrap();
    assert!(tag_keys(&plain, &naive).await.is_empty(), "naive: tags not visible yet");
    add(&ssm, &settled).settled().await.unwrap();
    assert_eq!(tag_keys(&plain, &settled).await, ["env"]);

    let remove = |client: &Client, n: &str| {
        client
            .remove_tags_from_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(n)
            .tag_keys("env")
            .send()
    };
    remove(&ssm, &settled).settled().await.unwrap();
    assert!(tag_keys(&plain, &settled).await.is_empty());
    env.assert_all_settled(4);
}

#[tokio::test]
async fn label_parameter_version() {
    let env = Lagged::new(LAG);
    let (plain, ssm) = env.clients(Client::new);
    let n = name();
    create(&ssm, &n, "v1").await;
    plain.label_parameter_version().name(&n).parameter_version(1).labels("naive").send().await.unwrap();
    let naive = plain.get_parameter().name(format!("{n}:naive")).send().await;
    assert!(naive.is_err(), "naive: the label is not visible yet: {naive:?}");

    ssm.label_parameter_version()
        .name(&n)
        .parameter_version(1)
        .labels("stable")
        .send()
        .settled()
        .await
        .unwrap();
    let (version, value) = value(&plain, &format!("{n}:stable")).await.unwrap();
    assert_eq!((version, value.as_str()), (1, "v1"));
    env.assert_all_settled(2);
}
