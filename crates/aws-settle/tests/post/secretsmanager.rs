//! Secrets Manager rules under lag.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::Tag;

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::unique;

fn tag(key: &str) -> Tag {
    Tag::builder().key(key).value("v").build()
}

async fn value(sm: &Client, id: &str) -> Option<String> {
    sm.get_secret_value().secret_id(id).send().await.ok()?.secret_string.map(|s| s.to_string())
}

async fn describe(sm: &Client, id: &str) -> Option<DescribeSecretOutput> {
    sm.describe_secret().secret_id(id).send().await.ok()
}

async fn tag_keys(sm: &Client, id: &str) -> Vec<String> {
    describe(sm, id)
        .await
        .map(|d| d.tags().iter().filter_map(|t| t.key().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn create(sm: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(sm.create_secret().name(&name).secret_string("v1").tags(tag("team")).send(), true).await;
    })
}

fn create_and_schedule_deletion(sm: Client, name: String) -> BoxFut<()> {
    bx(async move {
        create(sm.clone(), name.clone()).await;
        send(sm.delete_secret().secret_id(&name).recovery_window_in_days(7).send(), true).await;
    })
}

#[tokio::test]
async fn every_secrets_manager_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || unique("settle-secret"),
        vec![
            Scenario {
                rule: "CreateSecret (with tags)",
                setup: nothing,
                write: |sm, n, settle| {
                    bx(async move {
                        send(
                            sm.create_secret().name(&n).secret_string("v1").tags(tag("team")).send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |sm, n| {
                    bx(async move {
                        value(&sm, &n).await.as_deref() == Some("v1") && tag_keys(&sm, &n).await == ["team"]
                    })
                },
            },
            Scenario {
                rule: "PutSecretValue",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        send(sm.put_secret_value().secret_id(&n).secret_string("v2").send(), settle).await;
                    })
                },
                visible: |sm, n| bx(async move { value(&sm, &n).await.as_deref() == Some("v2") }),
            },
            Scenario {
                rule: "UpdateSecret (value and description)",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        send(
                            sm.update_secret().secret_id(&n).secret_string("v3").description("third").send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |sm, n| {
                    bx(async move {
                        value(&sm, &n).await.as_deref() == Some("v3")
                            && describe(&sm, &n).await.is_some_and(|d| d.description() == Some("third"))
                    })
                },
            },
            Scenario {
                rule: "DeleteSecret (recovery window)",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        send(sm.delete_secret().secret_id(&n).recovery_window_in_days(7).send(), settle)
                            .await;
                    })
                },
                visible: |sm, n| {
                    bx(async move { describe(&sm, &n).await.is_some_and(|d| d.deleted_date().is_some()) })
                },
            },
            Scenario {
                rule: "DeleteSecret (force)",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        send(
                            sm.delete_secret().secret_id(&n).force_delete_without_recovery(true).send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |sm, n| {
                    bx(async move {
                        let read = sm.describe_secret().secret_id(&n).send().await;
                        read.is_err_and(|e| e.into_service_error().is_resource_not_found_exception())
                    })
                },
            },
            Scenario {
                rule: "RestoreSecret",
                setup: create_and_schedule_deletion,
                write: |sm, n, settle| {
                    bx(async move {
                        send(sm.restore_secret().secret_id(&n).send(), settle).await;
                    })
                },
                visible: |sm, n| {
                    bx(async move { describe(&sm, &n).await.is_some_and(|d| d.deleted_date().is_none()) })
                },
            },
            Scenario {
                rule: "TagResource",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        send(sm.tag_resource().secret_id(&n).tags(tag("owner")).send(), settle).await;
                    })
                },
                visible: |sm, n| bx(async move { tag_keys(&sm, &n).await.contains(&"owner".to_string()) }),
            },
            Scenario {
                rule: "UntagResource",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        send(sm.untag_resource().secret_id(&n).tag_keys("team").send(), settle).await;
                    })
                },
                visible: |sm, n| {
                    bx(async move { describe(&sm, &n).await.is_some() && tag_keys(&sm, &n).await.is_empty() })
                },
            },
            Scenario {
                rule: "UpdateSecretVersionStage",
                setup: create,
                write: |sm, n, settle| {
                    bx(async move {
                        let current =
                            sm.get_secret_value().secret_id(&n).send().await.unwrap().version_id.unwrap();
                        let stage = sm
                            .update_secret_version_stage()
                            .secret_id(&n)
                            .version_stage("BLUE")
                            .move_to_version_id(current);
                        send(stage.send(), settle).await;
                    })
                },
                visible: |sm, n| {
                    bx(async move {
                        describe(&sm, &n).await.is_some_and(|d| {
                            d.version_ids_to_stages()
                                .is_some_and(|m| m.values().any(|s| s.contains(&"BLUE".to_string())))
                        })
                    })
                },
            },
        ],
    )
    .await;
}
