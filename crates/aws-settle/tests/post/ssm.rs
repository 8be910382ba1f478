//! SSM rules under lag.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};

use crate::scenario::{Scenario, bx, nothing, run, send};
use crate::unique;

fn name() -> String {
    format!("/settle/post/{}", unique("p"))
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// `(version, value)`, or `None` if the read fails.
async fn read(ssm: &Client, name: &str) -> Option<(i64, String)> {
    let p = ssm.get_parameter().name(name).send().await.ok()?.parameter?;
    Some((p.version, p.value.unwrap_or_default()))
}

async fn not_found(ssm: &Client, name: &str) -> bool {
    ssm.get_parameter()
        .name(name)
        .send()
        .await
        .is_err_and(|e| e.into_service_error().is_parameter_not_found())
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

fn create(ssm: Client, name: String) -> crate::scenario::BoxFut<()> {
    bx(async move {
        let put = ssm.put_parameter().name(&name).value("v1").r#type(ParameterType::String);
        send(put.send(), true).await;
    })
}

fn add_tag(
    ssm: &Client,
    name: &str,
) -> aws_sdk_ssm::operation::add_tags_to_resource::builders::AddTagsToResourceFluentBuilder {
    ssm.add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(name)
        .tags(tag("env", "prod"))
}

#[tokio::test]
async fn every_ssm_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        name,
        vec![
            Scenario {
                rule: "PutParameter (new, with tags)",
                setup: nothing,
                write: |ssm, n, settle| {
                    bx(async move {
                        let put = ssm
                            .put_parameter()
                            .name(&n)
                            .value("v1")
                            .r#type(ParameterType::String)
                            .tags(tag("team", "blue"));
                        send(put.send(), settle).await;
                    })
                },
                visible: |ssm, n| {
                    bx(async move {
                        read(&ssm, &n).await == Some((1, "v1".into())) && tag_keys(&ssm, &n).await == ["team"]
                    })
                },
            },
            Scenario {
                rule: "PutParameter (overwrite)",
                setup: create,
                write: |ssm, n, settle| {
                    bx(async move {
                        send(ssm.put_parameter().name(&n).value("v2").overwrite(true).send(), settle).await;
                    })
                },
                visible: |ssm, n| bx(async move { read(&ssm, &n).await == Some((2, "v2".into())) }),
            },
            Scenario {
                rule: "DeleteParameter",
                setup: create,
                write: |ssm, n, settle| {
                    bx(async move {
                        send(ssm.delete_parameter().name(&n).send(), settle).await;
                    })
                },
                visible: |ssm, n| bx(async move { not_found(&ssm, &n).await }),
            },
            Scenario {
                rule: "DeleteParameters",
                setup: create,
                write: |ssm, n, settle| {
                    bx(async move {
                        let out = send(ssm.delete_parameters().names(&n).send(), settle).await;
                        assert_eq!(out.deleted_parameters(), [n]);
                    })
                },
                visible: |ssm, n| bx(async move { not_found(&ssm, &n).await }),
            },
            Scenario {
                rule: "AddTagsToResource",
                setup: create,
                write: |ssm, n, settle| {
                    bx(async move {
                        send(add_tag(&ssm, &n).send(), settle).await;
                    })
                },
                visible: |ssm, n| bx(async move { tag_keys(&ssm, &n).await == ["env"] }),
            },
            Scenario {
                rule: "RemoveTagsFromResource",
                setup: |ssm, n| {
                    bx(async move {
                        create(ssm.clone(), n.clone()).await;
                        send(add_tag(&ssm, &n).send(), true).await;
                    })
                },
                write: |ssm, n, settle| {
                    bx(async move {
                        let remove = ssm
                            .remove_tags_from_resource()
                            .resource_type(ResourceTypeForTagging::Parameter)
                            .resource_id(&n)
                            .tag_keys("env");
                        send(remove.send(), settle).await;
                    })
                },
                visible: |ssm, n| bx(async move { tag_keys(&ssm, &n).await.is_empty() }),
            },
            Scenario {
                rule: "LabelParameterVersion",
                setup: create,
                write: |ssm, n, settle| {
                    bx(async move {
                        send(
                            ssm.label_parameter_version()
                                .name(&n)
                                .parameter_version(1)
                                .labels("stable")
                                .send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |ssm, n| {
                    bx(async move { read(&ssm, &format!("{n}:stable")).await == Some((1, "v1".into())) })
                },
            },
        ],
    )
    .await;
}
