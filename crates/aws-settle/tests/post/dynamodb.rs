//! DynamoDB rules under lag: tables read back CREATING/DELETING while the lag lasts.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableStatus, Tag,
};
use aws_settle::post::Settle;

use crate::{LAG, Lagged, unique};

fn create(
    ddb: &Client,
    name: &str,
) -> aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder {
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
        .provisioned_throughput(
            ProvisionedThroughput::builder().read_capacity_units(1).write_capacity_units(1).build().unwrap(),
        )
}

async fn status(ddb: &Client, name: &str) -> Option<TableStatus> {
    ddb.describe_table()
        .table_name(name)
        .send()
        .await
        .unwrap()
        .table()
        .and_then(|t| t.table_status().cloned())
}

fn put_item(
    ddb: &Client,
    table: &str,
) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
    ddb.put_item().table_name(table).item("pk", AttributeValue::S("k".into()))
}

#[tokio::test]
async fn create_update_and_delete_table() {
    let env = Lagged::new(LAG);
    let (plain, ddb) = env.clients(Client::new);
    let naive = unique("naive-table");
    create(&plain, &naive).send().await.unwrap();
    assert_eq!(status(&plain, &naive).await, Some(TableStatus::Creating), "naive: the new table is CREATING");
    assert!(put_item(&plain, &naive).send().await.is_err(), "naive: items cannot be written yet");

    let name = unique("table");
    create(&ddb, &name).send().settled().await.unwrap();
    assert_eq!(status(&plain, &name).await, Some(TableStatus::Active));
    put_item(&plain, &name).send().await.unwrap();

    ddb.update_table()
        .table_name(&name)
        .provisioned_throughput(
            ProvisionedThroughput::builder().read_capacity_units(5).write_capacity_units(5).build().unwrap(),
        )
        .send()
        .settled()
        .await
        .unwrap();
    let table = plain.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(table.provisioned_throughput().unwrap().read_capacity_units(), Some(5));

    ddb.delete_table().table_name(&name).send().settled().await.unwrap();
    let err = plain.describe_table().table_name(&name).send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    env.assert_all_settled(3);
}

#[tokio::test]
async fn tag_and_untag_table() {
    let env = Lagged::new(LAG);
    let (plain, ddb) = env.clients(Client::new);
    let name = unique("tagged-table");
    let arn =
        create(&ddb, &name).send().settled().await.unwrap().table_description.unwrap().table_arn.unwrap();
    let tag = |k: &str| Tag::builder().key(k).value("v").build().unwrap();
    let keys = |out: aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceOutput| {
        out.tags().iter().map(|t| t.key().to_string()).collect::<Vec<_>>()
    };

    plain.tag_resource().resource_arn(&arn).tags(tag("naive")).send().await.unwrap();
    let seen = keys(plain.list_tags_of_resource().resource_arn(&arn).send().await.unwrap());
    assert!(seen.is_empty(), "naive: tags not visible yet: {seen:?}");

    ddb.tag_resource().resource_arn(&arn).tags(tag("team")).send().settled().await.unwrap();
    assert!(
        keys(plain.list_tags_of_resource().resource_arn(&arn).send().await.unwrap()).contains(&"team".into())
    );
    ddb.untag_resource().resource_arn(&arn).tag_keys("team").send().settled().await.unwrap();
    assert!(
        !keys(plain.list_tags_of_resource().resource_arn(&arn).send().await.unwrap())
            .contains(&"team".into())
    );
    env.assert_all_settled(3);
}
