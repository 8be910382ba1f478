//! IAM rules under lag.

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use aws_settle::post::Settle;

use crate::{LAG, Lagged, unique};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

async fn role(iam: &Client, name: &str) {
    iam.create_role().role_name(name).assume_role_policy_document(TRUST).send().settled().await.unwrap();
}

async fn policy(iam: &Client, name: &str) -> String {
    let out = iam.create_policy().policy_name(name).policy_document(POLICY).send().settled().await.unwrap();
    out.policy().unwrap().arn().unwrap().to_string()
}

async fn attached(iam: &Client, role: &str) -> Vec<String> {
    let out = iam.list_attached_role_policies().role_name(role).send().await.unwrap();
    out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
}

async fn role_tag_keys(iam: &Client, role: &str) -> Vec<String> {
    let out = iam.list_role_tags().role_name(role).send().await.unwrap();
    out.tags().iter().map(|t| t.key().to_string()).collect()
}

#[tokio::test]
async fn create_and_delete_role() {
    let env = Lagged::new(LAG);
    let (plain, iam) = env.clients(Client::new);
    let naive = unique("naive-role");
    plain.create_role().role_name(&naive).assume_role_policy_document(TRUST).send().await.unwrap();
    let err = plain.get_role().role_name(&naive).send().await.unwrap_err().into_service_error();
    assert!(err.is_no_such_entity_exception(), "naive: a new role is not found: {err:?}");

    let name = unique("role");
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document(TRUST)
        .tags(Tag::builder().key("team").value("a").build().unwrap())
        .send()
        .settled()
        .await
        .unwrap();
    assert_eq!(plain.get_role().role_name(&name).send().await.unwrap().role().unwrap().role_name(), name);
    assert_eq!(role_tag_keys(&plain, &name).await, ["team"]);

    iam.delete_role().role_name(&name).send().settled().await.unwrap();
    let err = plain.get_role().role_name(&name).send().await.unwrap_err().into_service_error();
    assert!(err.is_no_such_entity_exception(), "{err:?}");
    env.assert_all_settled(3);
}

#[tokio::test]
async fn create_and_delete_user() {
    let env = Lagged::new(LAG);
    let (plain, iam) = env.clients(Client::new);
    let naive = unique("naive-user");
    plain.create_user().user_name(&naive).send().await.unwrap();
    assert!(plain.get_user().user_name(&naive).send().await.is_err(), "naive: a new user is not found");

    let name = unique("user");
    iam.create_user().user_name(&name).send().settled().await.unwrap();
    plain.get_user().user_name(&name).send().await.unwrap();
    iam.delete_user().user_name(&name).send().settled().await.unwrap();
    let err = plain.get_user().user_name(&name).send().await.unwrap_err().into_service_error();
    assert!(err.is_no_such_entity_exception(), "{err:?}");
    env.assert_all_settled(2);
}

#[tokio::test]
async fn create_delete_attach_and_detach_policy() {
    let env = Lagged::new(LAG);
    let (plain, iam) = env.clients(Client::new);
    let naive =
        plain.create_policy().policy_name(unique("naive-pol")).policy_document(POLICY).send().await.unwrap();
    let naive_arn = naive.policy().unwrap().arn().unwrap();
    assert!(
        plain.get_policy().policy_arn(naive_arn).send().await.is_err(),
        "naive: a new policy is not found"
    );

    let r = unique("role");
    role(&iam, &r).await;
    let arn = policy(&iam, &unique("pol")).await;
    plain.get_policy().policy_arn(&arn).send().await.unwrap();

    plain.attach_role_policy().role_name(&r).policy_arn(naive_arn).send().await.unwrap();
    assert!(attached(&plain, &r).await.is_empty(), "naive: the attachment is not visible yet");
    iam.attach_role_policy().role_name(&r).policy_arn(&arn).send().settled().await.unwrap();
    assert!(attached(&plain, &r).await.contains(&arn));
    iam.detach_role_policy().role_name(&r).policy_arn(&arn).send().settled().await.unwrap();
    assert!(!attached(&plain, &r).await.contains(&arn));

    iam.delete_policy().policy_arn(&arn).send().settled().await.unwrap();
    let err = plain.get_policy().policy_arn(&arn).send().await.unwrap_err().into_service_error();
    assert!(err.is_no_such_entity_exception(), "{err:?}");
    env.assert_all_settled(5);
}

#[tokio::test]
async fn inline_role_policy_and_role_tags() {
    let env = Lagged::new(LAG);
    let (plain, iam) = env.clients(Client::new);
    let r = unique("role");
    role(&iam, &r).await;
    plain.put_role_policy().role_name(&r).policy_name("naive").policy_document(POLICY).send().await.unwrap();
    assert!(
        plain.get_role_policy().role_name(&r).policy_name("naive").send().await.is_err(),
        "naive: a new inline policy is not found"
    );
    iam.put_role_policy()
        .role_name(&r)
        .policy_name("inline")
        .policy_document(POLICY)
        .send()
        .settled()
        .await
        .unwrap();
    let got = plain.get_role_policy().role_name(&r).policy_name("inline").send().await.unwrap();
    assert_eq!(got.policy_name(), "inline");
    iam.delete_role_policy().role_name(&r).policy_name("inline").send().settled().await.unwrap();
    assert!(plain.get_role_policy().role_name(&r).policy_name("inline").send().await.is_err());

    iam.tag_role()
        .role_name(&r)
        .tags(Tag::builder().key("env").value("dev").build().unwrap())
        .send()
        .settled()
        .await
        .unwrap();
    assert_eq!(role_tag_keys(&plain, &r).await, ["env"]);
    iam.untag_role().role_name(&r).tag_keys("env").send().settled().await.unwrap();
    assert!(role_tag_keys(&plain, &r).await.is_empty());
    env.assert_all_settled(5);
}
