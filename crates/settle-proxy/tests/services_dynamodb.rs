//! DynamoDB items through the real aws-sdk-dynamodb client against moto: item writes held
//! invisible to eventually consistent reads (`Config::held()`) and released explicitly; strongly
//! consistent reads see them at once, global secondary index queries never do.

mod services_support;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as V, BillingMode, DeleteRequest, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, PutRequest, ScalarAttributeType,
    TransactWriteItem, Update, WriteRequest,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use services_support::held;
use settle_emulator::unique_name;
use settle_proxy::ProxyHandle;

type Item = HashMap<String, V>;

fn attribute(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build().unwrap()
}

fn key_element(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap()
}

/// A held proxy and a client, and a table (`pk` S, `sk` N; index `by-g` on `g`) made visible.
async fn held_table() -> (ProxyHandle, Client, String) {
    let (proxy, config) = held();
    let ddb = Client::new(&config);
    let table = unique_name("settle-items");
    let index = GlobalSecondaryIndex::builder()
        .index_name("by-g")
        .key_schema(key_element("g", KeyType::Hash))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .unwrap();
    ddb.create_table()
        .table_name(&table)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .attribute_definitions(attribute("g", ScalarAttributeType::S))
        .key_schema(key_element("pk", KeyType::Hash))
        .key_schema(key_element("sk", KeyType::Range))
        .global_secondary_indexes(index)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.release_operation("CreateTable"), 1);
    (proxy, ddb, table)
}

fn item(sk: i64, v: &str) -> Item {
    HashMap::from([
        ("pk".to_string(), V::S("a".into())),
        ("sk".to_string(), V::N(sk.to_string())),
        ("g".to_string(), V::S("group".into())),
        ("v".to_string(), V::S(v.into())),
    ])
}

fn key(sk: i64) -> Item {
    HashMap::from([("pk".to_string(), V::S("a".into())), ("sk".to_string(), V::N(sk.to_string()))])
}

/// `v` of the item at `sk`, read eventually or strongly consistently.
async fn value(ddb: &Client, table: &str, sk: i64, consistent: bool) -> Option<String> {
    let got = ddb
        .get_item()
        .table_name(table)
        .set_key(Some(key(sk)))
        .consistent_read(consistent)
        .send()
        .await
        .unwrap();
    got.item().and_then(|i| i.get("v")).and_then(|v| v.as_s().ok()).cloned()
}

/// `sk=v` of each item, in answer order.
fn shown(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            let sk = i.get("sk").and_then(|v| v.as_n().ok()).cloned().unwrap_or_default();
            let v = i.get("v").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            format!("{sk}={v}")
        })
        .collect()
}

async fn query(ddb: &Client, table: &str, consistent: bool) -> Vec<String> {
    let answer = ddb
        .query()
        .table_name(table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", V::S("a".into()))
        .consistent_read(consistent)
        .send()
        .await
        .unwrap();
    shown(answer.items())
}

#[tokio::test]
async fn a_naive_write_then_read_sees_the_old_item_a_consistent_read_the_new_one() {
    let (proxy, ddb, table) = held_table().await;
    ddb.put_item().table_name(&table).set_item(Some(item(1, "v1"))).send().await.unwrap();
    assert_eq!(
        value(&ddb, &table, 1, false).await,
        None,
        "created: absent for an eventually consistent read"
    );
    assert_eq!(value(&ddb, &table, 1, true).await.as_deref(), Some("v1"), "ConsistentRead sees it at once");
    assert_eq!(proxy.release_operation("PutItem"), 1);
    assert_eq!(value(&ddb, &table, 1, false).await.as_deref(), Some("v1"), "visible once released");

    // The condition is evaluated against the latest state, as on AWS.
    let conditional = ddb
        .update_item()
        .table_name(&table)
        .set_key(Some(key(1)))
        .update_expression("SET v = :new")
        .condition_expression("v = :old")
        .expression_attribute_values(":new", V::S("v2".into()))
        .expression_attribute_values(":old", V::S("v1".into()));
    conditional.clone().send().await.unwrap();
    assert_eq!(value(&ddb, &table, 1, false).await.as_deref(), Some("v1"), "updated: the old value");
    let refused = conditional.send().await.unwrap_err();
    assert_eq!(refused.code(), Some("ConditionalCheckFailedException"), "moto saw v2 already");
    assert_eq!(value(&ddb, &table, 1, true).await.as_deref(), Some("v2"));

    ddb.delete_item().table_name(&table).set_key(Some(key(1))).send().await.unwrap();
    assert_eq!(value(&ddb, &table, 1, false).await.as_deref(), Some("v1"), "deleted: still the oldest state");
    assert_eq!(value(&ddb, &table, 1, true).await, None);
    assert_eq!(proxy.release_all(), 2, "the update and the delete");
    assert_eq!(value(&ddb, &table, 1, false).await, None);
    assert_eq!(proxy.counters().served_from_snapshot, 3, "one stale GetItem per held write");
}

#[tokio::test]
async fn batch_writes_lag_in_query_scan_batch_get_and_always_on_the_global_index() {
    let (proxy, ddb, table) = held_table().await;
    for sk in [1, 2] {
        ddb.put_item().table_name(&table).set_item(Some(item(sk, "old"))).send().await.unwrap();
    }
    proxy.release_all();
    let put = |i: Item| {
        WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(i)).build().unwrap()).build()
    };
    let delete = WriteRequest::builder()
        .delete_request(DeleteRequest::builder().set_key(Some(key(1))).build().unwrap())
        .build();
    ddb.batch_write_item()
        .request_items(&table, vec![delete, put(item(2, "new")), put(item(3, "new"))])
        .send()
        .await
        .unwrap();

    assert_eq!(query(&ddb, &table, false).await, ["1=old", "2=old"], "the old view, in key order");
    assert_eq!(query(&ddb, &table, true).await, ["2=new", "3=new"]);
    let scanned = ddb.scan().table_name(&table).send().await.unwrap();
    let mut scanned = shown(scanned.items());
    scanned.sort();
    assert_eq!(scanned, ["1=old", "2=old"]);
    let batch = ddb
        .batch_get_item()
        .request_items(
            &table,
            aws_sdk_dynamodb::types::KeysAndAttributes::builder().keys(key(2)).keys(key(3)).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(shown(batch.responses().and_then(|r| r.get(&table)).unwrap()), ["2=old"]);
    let index = || {
        ddb.query()
            .table_name(&table)
            .index_name("by-g")
            .key_condition_expression("g = :g")
            .expression_attribute_values(":g", V::S("group".into()))
    };
    let mut on_index = shown(index().send().await.unwrap().items());
    on_index.sort();
    assert_eq!(on_index, ["1=old", "2=old"], "the index lags too");
    let strong = index().consistent_read(true).send().await.unwrap_err();
    assert_eq!(strong.code(), Some("ValidationException"), "no consistent reads on a global index");

    assert_eq!(proxy.release_operation("BatchWriteItem"), 3);
    assert_eq!(query(&ddb, &table, false).await, ["2=new", "3=new"]);
    let mut on_index = shown(index().send().await.unwrap().items());
    on_index.sort();
    assert_eq!(on_index, ["2=new", "3=new"]);
}

#[tokio::test]
async fn transactions_lag_every_item_they_write_until_released() {
    let (proxy, ddb, table) = held_table().await;
    ddb.put_item().table_name(&table).set_item(Some(item(1, "old"))).send().await.unwrap();
    proxy.release_all();
    let put = Put::builder().table_name(&table).set_item(Some(item(2, "new"))).build().unwrap();
    let update = Update::builder()
        .table_name(&table)
        .set_key(Some(key(1)))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", V::S("new".into()))
        .build()
        .unwrap();
    ddb.transact_write_items()
        .transact_items(TransactWriteItem::builder().put(put).build())
        .transact_items(TransactWriteItem::builder().update(update).build())
        .send()
        .await
        .unwrap();
    assert_eq!(value(&ddb, &table, 1, false).await.as_deref(), Some("old"));
    assert_eq!(value(&ddb, &table, 2, false).await, None);
    let records = proxy.visibility(None, Some("TransactWriteItems"));
    assert_eq!(records.len(), 2, "one record per item: {records:?}");
    assert!(records.iter().all(|r| r.resource.starts_with(&format!("dynamodb-item:{table}/"))));
    let first = records.iter().find(|r| r.resource.contains(r#""sk":{"N":"1"}"#)).unwrap();
    assert_eq!(proxy.release_resource(&first.resource), 1);
    assert_eq!(value(&ddb, &table, 1, false).await.as_deref(), Some("new"));
    assert_eq!(value(&ddb, &table, 2, false).await, None, "the other item is still held");
    proxy.release_all();
    assert_eq!(value(&ddb, &table, 2, false).await.as_deref(), Some("new"));
}
