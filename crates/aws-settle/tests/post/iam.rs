//! IAM rules under lag.

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::unique;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

/// moto's default account.
fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::123456789012:policy/{name}")
}

const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY_V2: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;

async fn default_version(iam: &Client, name: &str) -> String {
    let policy = iam.get_policy().policy_arn(policy_arn(name)).send().await.unwrap().policy.unwrap();
    policy.default_version_id.unwrap_or_default()
}

/// A managed policy `name` with a second version, v2, not the default.
fn policy_with_second_version(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        policy(iam.clone(), name.clone()).await;
        let create = iam.create_policy_version().policy_arn(policy_arn(&name)).policy_document(POLICY_V2);
        send(create.send(), true).await;
    })
}

fn tag(key: &str) -> Tag {
    Tag::builder().key(key).value("v").build().unwrap()
}

fn role(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(
            iam.create_role().role_name(&name).assume_role_policy_document(TRUST).tags(tag("team")).send(),
            true,
        )
        .await;
    })
}

fn user(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(iam.create_user().user_name(&name).send(), true).await;
    })
}

fn policy(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(iam.create_policy().policy_name(&name).policy_document(POLICY).send(), true).await;
    })
}

/// A role `name` and a managed policy `name-pol`.
fn role_and_policy(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        role(iam.clone(), name.clone()).await;
        policy(iam, format!("{name}-pol")).await;
    })
}

fn role_with_attached_policy(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        role_and_policy(iam.clone(), name.clone()).await;
        send(
            iam.attach_role_policy().role_name(&name).policy_arn(policy_arn(&format!("{name}-pol"))).send(),
            true,
        )
        .await;
    })
}

fn role_with_inline_policy(iam: Client, name: String) -> BoxFut<()> {
    bx(async move {
        role(iam.clone(), name.clone()).await;
        send(
            iam.put_role_policy().role_name(&name).policy_name("inline").policy_document(POLICY).send(),
            true,
        )
        .await;
    })
}

async fn attached(iam: &Client, role: &str) -> Vec<String> {
    let out = iam.list_attached_role_policies().role_name(role).send().await.unwrap();
    out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
}

async fn role_tags(iam: &Client, role: &str) -> Option<Vec<String>> {
    let out = iam.list_role_tags().role_name(role).send().await.ok()?;
    Some(out.tags().iter().map(|t| t.key().to_string()).collect())
}

fn is_no_such_entity<E: aws_sdk_iam::error::ProvideErrorMetadata>(result: Result<impl Sized, E>) -> bool {
    result.is_err_and(|e| e.code() == Some("NoSuchEntity"))
}

#[tokio::test]
async fn every_iam_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || unique("settle-iam"),
        vec![
            Scenario {
                rule: "CreateRole (with tags)",
                setup: nothing,
                write: |iam, n, settle| {
                    bx(async move {
                        let create = iam.create_role().role_name(&n).assume_role_policy_document(TRUST).tags(tag("team"));
                        send(create.send(), settle).await;
                    })
                },
                visible: |iam, n| {
                    bx(async move {
                        iam.get_role().role_name(&n).send().await.is_ok() && role_tags(&iam, &n).await == Some(vec!["team".into()])
                    })
                },
            },
            Scenario {
                rule: "DeleteRole",
                setup: role,
                write: |iam, n, settle| bx(async move { send(iam.delete_role().role_name(&n).send(), settle).await; }),
                visible: |iam, n| bx(async move { is_no_such_entity(iam.get_role().role_name(&n).send().await) }),
            },
            Scenario {
                rule: "CreateUser",
                setup: nothing,
                write: |iam, n, settle| bx(async move { send(iam.create_user().user_name(&n).send(), settle).await; }),
                visible: |iam, n| bx(async move { iam.get_user().user_name(&n).send().await.is_ok() }),
            },
            Scenario {
                rule: "DeleteUser",
                setup: user,
                write: |iam, n, settle| bx(async move { send(iam.delete_user().user_name(&n).send(), settle).await; }),
                visible: |iam, n| bx(async move { is_no_such_entity(iam.get_user().user_name(&n).send().await) }),
            },
            Scenario {
                rule: "CreatePolicy",
                setup: nothing,
                write: |iam, n, settle| {
                    bx(async move { send(iam.create_policy().policy_name(&n).policy_document(POLICY).send(), settle).await; })
                },
                visible: |iam, n| bx(async move { iam.get_policy().policy_arn(policy_arn(&n)).send().await.is_ok() }),
            },
            Scenario {
                rule: "DeletePolicy",
                setup: policy,
                write: |iam, n, settle| bx(async move { send(iam.delete_policy().policy_arn(policy_arn(&n)).send(), settle).await; }),
                visible: |iam, n| bx(async move { is_no_such_entity(iam.get_policy().policy_arn(policy_arn(&n)).send().await) }),
            },
            Scenario {
                rule: "AttachRolePolicy",
                setup: role_and_policy,
                write: |iam, n, settle| {
                    bx(async move {
                        let arn = policy_arn(&format!("{n}-pol"));
                        send(iam.attach_role_policy().role_name(&n).policy_arn(arn).send(), settle).await;
                    })
                },
                visible: |iam, n| bx(async move { attached(&iam, &n).await == [policy_arn(&format!("{n}-pol"))] }),
            },
            Scenario {
                rule: "DetachRolePolicy",
                setup: role_with_attached_policy,
                write: |iam, n, settle| {
                    bx(async move {
                        let arn = policy_arn(&format!("{n}-pol"));
                        send(iam.detach_role_policy().role_name(&n).policy_arn(arn).send(), settle).await;
                    })
                },
                visible: |iam, n| bx(async move { attached(&iam, &n).await.is_empty() }),
            },
            Scenario {
                rule: "PutRolePolicy",
                setup: role,
                write: |iam, n, settle| {
                    bx(async move {
                        let put = iam.put_role_policy().role_name(&n).policy_name("inline").policy_document(POLICY);
                        send(put.send(), settle).await;
                    })
                },
                visible: |iam, n| {
                    bx(async move {
                        let got = iam.get_role_policy().role_name(&n).policy_name("inline").send().await;
                        got.is_ok_and(|p| p.policy_name() == "inline")
                    })
                },
            },
            Scenario {
                rule: "DeleteRolePolicy",
                setup: role_with_inline_policy,
                write: |iam, n, settle| {
                    bx(async move { send(iam.delete_role_policy().role_name(&n).policy_name("inline").send(), settle).await; })
                },
                visible: |iam, n| {
                    bx(async move { is_no_such_entity(iam.get_role_policy().role_name(&n).policy_name("inline").send().await) })
                },
            },
            Scenario {
                rule: "TagRole",
                setup: role,
                write: |iam, n, settle| bx(async move { send(iam.tag_role().role_name(&n).tags(tag("env")).send(), settle).await; }),
                visible: |iam, n| bx(async move { role_tags(&iam, &n).await.is_some_and(|t| t.contains(&"env".to_string())) }),
            },
            Scenario {
                rule: "UntagRole",
                setup: role,
                write: |iam, n, settle| bx(async move { send(iam.untag_role().role_name(&n).tag_keys("team").send(), settle).await; }),
                visible: |iam, n| bx(async move { role_tags(&iam, &n).await.is_some_and(|t| t.is_empty()) }),
            },
            Scenario {
                rule: "UpdateRole",
                setup: role,
                write: |iam, n, settle| {
                    bx(async move {
                        let update = iam.update_role().role_name(&n).description("new").max_session_duration(7200);
                        send(update.send(), settle).await;
                    })
                },
                visible: |iam, n| {
                    bx(async move {
                        let role = iam.get_role().role_name(&n).send().await.unwrap().role.unwrap();
                        role.description() == Some("new") && role.max_session_duration() == Some(7200)
                    })
                },
            },
            Scenario {
                rule: "UpdateAssumeRolePolicy",
                setup: role,
                write: |iam, n, settle| {
                    bx(async move {
                        let update = iam.update_assume_role_policy().role_name(&n).policy_document(EC2_TRUST);
                        send(update.send(), settle).await;
                    })
                },
                visible: |iam, n| {
                    bx(async move {
                        let role = iam.get_role().role_name(&n).send().await.unwrap().role.unwrap();
                        role.assume_role_policy_document().is_some_and(|d| d.contains("ec2"))
                    })
                },
            },
            Scenario {
                rule: "CreatePolicyVersion",
                setup: policy,
                write: |iam, n, settle| {
                    bx(async move {
                        let create = iam
                            .create_policy_version()
                            .policy_arn(policy_arn(&n))
                            .policy_document(POLICY_V2)
                            .set_as_default(true);
                        send(create.send(), settle).await;
                    })
                },
                visible: |iam, n| bx(async move { default_version(&iam, &n).await == "v2" }),
            },
            Scenario {
                rule: "SetDefaultPolicyVersion",
                setup: policy_with_second_version,
                write: |iam, n, settle| {
                    bx(async move {
                        let set = iam.set_default_policy_version().policy_arn(policy_arn(&n)).version_id("v2");
                        send(set.send(), settle).await;
                    })
                },
                visible: |iam, n| bx(async move { default_version(&iam, &n).await == "v2" }),
            },
        ],
    )
    .await;
}
