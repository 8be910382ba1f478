//! DynamoDB rules under lag: tables read back CREATING / UPDATING / DELETING while it lasts; items
//! read old through eventually consistent reads.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType,
    ProvisionedThroughput, Put, PutRequest, ScalarAttributeType, TableDescription, TableStatus, Tag,
    TransactWriteItem, Update, WriteRequest,
};

use crate::scenario::{BoxFut, Scenario, bx, nothing, run, send};
use crate::unique;

fn throughput(units: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder().read_capacity_units(units).write_capacity_units(units).build().unwrap()
}

fn create_table(ddb: &Client, name: &str) -> CreateTableFluentBuilder {
    ddb.create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(1))
        .tags(Tag::builder().key("team").value("v").build().unwrap())
}

fn table(ddb: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(create_table(&ddb, &name).send(), true).await;
    })
}

async fn describe(ddb: &Client, name: &str) -> Option<TableDescription> {
    ddb.describe_table().table_name(name).send().await.ok()?.table
}

async fn arn(ddb: &Client, name: &str) -> String {
    describe(ddb, name).await.unwrap().table_arn.unwrap()
}

async fn tag_keys(ddb: &Client, name: &str) -> Vec<String> {
    let out = ddb.list_tags_of_resource().resource_arn(arn(ddb, name).await).send().await.unwrap();
    out.tags().iter().map(|t| t.key().to_string()).collect()
}

#[tokio::test]
async fn every_dynamodb_rule_turns_the_pitfall_into_a_settled_read() {
    run(
        Client::new,
        || unique("settle-table"),
        vec![
            Scenario {
                rule: "CreateTable",
                setup: nothing,
                write: |ddb, n, settle| {
                    bx(async move {
                        send(create_table(&ddb, &n).send(), settle).await;
                    })
                },
                visible: |ddb, n| {
                    bx(async move {
                        describe(&ddb, &n)
                            .await
                            .is_some_and(|t| t.table_status() == Some(&TableStatus::Active))
                            && ddb
                                .put_item()
                                .table_name(&n)
                                .item("pk", AttributeValue::S("k".into()))
                                .send()
                                .await
                                .is_ok()
                    })
                },
            },
            Scenario {
                rule: "UpdateTable",
                setup: table,
                write: |ddb, n, settle| {
                    bx(async move {
                        send(
                            ddb.update_table().table_name(&n).provisioned_throughput(throughput(5)).send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |ddb, n| {
                    bx(async move {
                        describe(&ddb, &n).await.is_some_and(|t| {
                            t.table_status() == Some(&TableStatus::Active)
                                && t.provisioned_throughput().and_then(|p| p.read_capacity_units()) == Some(5)
                        })
                    })
                },
            },
            Scenario {
                rule: "DeleteTable",
                setup: table,
                write: |ddb, n, settle| {
                    bx(async move {
                        send(ddb.delete_table().table_name(&n).send(), settle).await;
                    })
                },
                visible: |ddb, n| {
                    bx(async move {
                        let read = ddb.describe_table().table_name(&n).send().await;
                        read.is_err_and(|e| e.into_service_error().is_resource_not_found_exception())
                    })
                },
            },
            Scenario {
                rule: "TagResource",
                setup: table,
                write: |ddb, n, settle| {
                    bx(async move {
                        let tag = Tag::builder().key("env").value("prod").build().unwrap();
                        send(ddb.tag_resource().resource_arn(arn(&ddb, &n).await).tags(tag).send(), settle)
                            .await;
                    })
                },
                visible: |ddb, n| bx(async move { tag_keys(&ddb, &n).await.contains(&"env".to_string()) }),
            },
            Scenario {
                rule: "UntagResource",
                setup: table,
                write: |ddb, n, settle| {
                    bx(async move {
                        send(
                            ddb.untag_resource().resource_arn(arn(&ddb, &n).await).tag_keys("team").send(),
                            settle,
                        )
                        .await;
                    })
                },
                visible: |ddb, n| bx(async move { tag_keys(&ddb, &n).await.is_empty() }),
            },
        ],
    )
    .await;
}

fn key(k: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), AttributeValue::S(k.into()))])
}

fn item(k: &str, v: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(k.into())),
        ("v".to_string(), AttributeValue::S(v.into())),
    ])
}

/// A table holding items `a` and `b` with `v = "0"`.
fn table_with_items(ddb: Client, name: String) -> BoxFut<()> {
    bx(async move {
        send(create_table(&ddb, &name).send(), true).await;
        for k in ["a", "b"] {
            send(ddb.put_item().table_name(&name).set_item(Some(item(k, "0"))).send(), true).await;
        }
    })
}

/// `v` of item `k`, read as most readers read: without ConsistentRead.
async fn value(ddb: &Client, table: &str, k: &str) -> Option<String> {
    let got = ddb.get_item().table_name(table).set_key(Some(key(k))).send().await.unwrap();
    got.item().and_then(|i| i.get("v")).and_then(|v| v.as_s().ok()).cloned()
}

#[tokio::test]
async fn every_item_rule_settles_for_eventually_consistent_readers() {
    run(
        Client::new,
        || unique("settle-items"),
        vec![
            Scenario {
                rule: "PutItem",
                setup: table_with_items,
                write: |ddb, n, settle| {
                    bx(async move {
                        send(ddb.put_item().table_name(&n).set_item(Some(item("a", "1"))).send(), settle)
                            .await;
                    })
                },
                visible: |ddb, n| bx(async move { value(&ddb, &n, "a").await.as_deref() == Some("1") }),
            },
            Scenario {
                rule: "UpdateItem",
                setup: table_with_items,
                write: |ddb, n, settle| {
                    bx(async move {
                        let update = ddb
                            .update_item()
                            .table_name(&n)
                            .set_key(Some(key("a")))
                            .update_expression("SET v = :v")
                            .expression_attribute_values(":v", AttributeValue::S("1".into()));
                        send(update.send(), settle).await;
                    })
                },
                visible: |ddb, n| bx(async move { value(&ddb, &n, "a").await.as_deref() == Some("1") }),
            },
            Scenario {
                rule: "DeleteItem",
                setup: table_with_items,
                write: |ddb, n, settle| {
                    bx(async move {
                        send(ddb.delete_item().table_name(&n).set_key(Some(key("a"))).send(), settle).await;
                    })
                },
                visible: |ddb, n| bx(async move { value(&ddb, &n, "a").await.is_none() }),
            },
            Scenario {
                rule: "BatchWriteItem",
                setup: table_with_items,
                write: |ddb, n, settle| {
                    bx(async move {
                        let put = PutRequest::builder().set_item(Some(item("c", "1"))).build().unwrap();
                        let delete = DeleteRequest::builder().set_key(Some(key("a"))).build().unwrap();
                        let requests = vec![
                            WriteRequest::builder().put_request(put).build(),
                            WriteRequest::builder().delete_request(delete).build(),
                        ];
                        send(ddb.batch_write_item().request_items(&n, requests).send(), settle).await;
                    })
                },
                visible: |ddb, n| {
                    bx(async move {
                        value(&ddb, &n, "c").await.as_deref() == Some("1")
                            && value(&ddb, &n, "a").await.is_none()
                    })
                },
            },
            Scenario {
                rule: "TransactWriteItems",
                setup: table_with_items,
                write: |ddb, n, settle| {
                    bx(async move {
                        let put =
                            Put::builder().table_name(&n).set_item(Some(item("c", "1"))).build().unwrap();
                        let update = Update::builder()
                            .table_name(&n)
                            .set_key(Some(key("b")))
                            .update_expression("SET v = :v")
                            .expression_attribute_values(":v", AttributeValue::S("1".into()))
                            .build()
                            .unwrap();
                        let write = ddb
                            .transact_write_items()
                            .transact_items(TransactWriteItem::builder().put(put).build())
                            .transact_items(TransactWriteItem::builder().update(update).build());
                        send(write.send(), settle).await;
                    })
                },
                visible: |ddb, n| {
                    bx(async move {
                        value(&ddb, &n, "c").await.as_deref() == Some("1")
                            && value(&ddb, &n, "b").await.as_deref() == Some("1")
                    })
                },
            },
        ],
    )
    .await;
}
