//! DynamoDB items: an item write settles once an *eventually consistent* GetItem shows it.
//!
//! Why not read back with `ConsistentRead=true`: a strongly consistent read is served by the
//! partition's leader, the replica that acknowledged the write; it shows the write at once,
//! every time, so it proves nothing about what the default reads will show: GetItem, BatchGetItem,
//! Query and Scan without `ConsistentRead` (any replica, half the price), and every read of a
//! global secondary index (never consistent). The checks read as those readers read, two
//! matching reads in a row (a read lands on one of several replicas), until they show the write.
//!
//! A later write to the same item by someone else keeps the check from matching until its bound;
//! the error then shows the last item seen.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput};
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemInput, DeleteItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{NOT_FOUND, waiter};
use crate::errors::ErrorSummary;
use crate::post::check::Check;

type Item = HashMap<String, AttributeValue>;

/// Matching eventually consistent reads in a row before an item write counts as settled.
const IN_A_ROW: u32 = 2;

/// What an eventually consistent GetItem must show.
#[derive(Debug, Clone)]
enum Want {
    /// This item (numbers compared as numbers, sets in any order).
    Item(Item),
    /// No item.
    Absent,
    /// What a strongly consistent read shows once, right after the write: the result of an
    /// update whose answer did not carry the new item, learnt from the leader.
    Latest,
}

/// How the item's key is known.
#[derive(Debug, Clone)]
enum KeyOf {
    /// Given (UpdateItem, DeleteItem).
    Key(Item),
    /// Cut from a put item with the table's key schema (DescribeTable, read once).
    Put(Item),
}

/// One attempt: the state wanted, and what the eventually consistent read showed.
#[derive(Debug)]
pub(crate) struct Seen {
    want: Option<Item>,
    item: Option<Item>,
}

/// What one check learns once and keeps across attempts.
#[derive(Debug, Default)]
struct Learnt {
    key: Option<Item>,
    latest: Option<Option<Item>>,
}

fn item_check(ddb: &Client, operation: &'static str, table: &str, key: KeyOf, want: Want) -> Check {
    let resource = match &key {
        KeyOf::Key(key) => format!("{table} {}", show_key(key)),
        KeyOf::Put(_) => format!("{table} (the item put)"),
    };
    let expected = match &want {
        Want::Item(_) => "GetItem without ConsistentRead returns the item written",
        Want::Absent => "GetItem without ConsistentRead returns no item",
        Want::Latest => "GetItem without ConsistentRead returns the item a consistent read showed after the write",
    };
    let (ddb, table) = (ddb.clone(), table.to_string());
    let learnt = Arc::new(Mutex::new(Learnt::default()));
    Check::new(
        operation,
        resource,
        expected,
        waiter::<Seen>()
            .success_when(|s| match (&s.want, &s.item) {
                (Some(want), Some(item)) => same_item(want, item),
                (None, None) => true,
                _ => false,
            })
            .retry_when(|_| true)
            .retry_on_error_code(NOT_FOUND)
            .successes_in_a_row(IN_A_ROW),
        move || {
            let (ddb, table, key, want, learnt) =
                (ddb.clone(), table.clone(), key.clone(), want.clone(), learnt.clone());
            async move { read(&ddb, &table, &key, &want, &learnt).await }
        },
    )
}

/// One attempt: the key (learnt once), the wanted state (learnt once, for [`Want::Latest`]), and
/// an eventually consistent GetItem.
async fn read(
    ddb: &Client,
    table: &str,
    key_of: &KeyOf,
    want: &Want,
    learnt: &Mutex<Learnt>,
) -> Result<Seen, ErrorSummary> {
    let known = || learnt.lock().unwrap_or_else(|e| e.into_inner());
    // Each lock is taken and dropped in one statement: never held across an await.
    let cached = known().key.clone();
    let key = match (cached, key_of) {
        (Some(key), _) => key,
        (None, KeyOf::Key(key)) => key.clone(),
        (None, KeyOf::Put(item)) => {
            let described =
                ddb.describe_table().table_name(table).send().await.map_err(|e| ErrorSummary::of(&e))?;
            let schema = described.table().map(|t| t.key_schema().to_vec()).unwrap_or_default();
            let key: Item = schema
                .iter()
                .filter_map(|k| Some((k.attribute_name().to_string(), item.get(k.attribute_name())?.clone())))
                .collect();
            known().key = Some(key.clone());
            key
        }
    };
    let cached_latest = known().latest.clone();
    let want = match want {
        Want::Item(item) => Some(item.clone()),
        Want::Absent => None,
        Want::Latest => match cached_latest {
            Some(latest) => latest,
            None => {
                let get = ddb.get_item().table_name(table).set_key(Some(key.clone())).consistent_read(true);
                let latest = get.send().await.map_err(|e| ErrorSummary::of(&e))?.item;
                known().latest = Some(latest.clone());
                latest
            }
        },
    };
    // No ConsistentRead: read as the readers this write must reach read.
    let got = ddb.get_item().table_name(table).set_key(Some(key)).send().await.map_err(|e| ErrorSummary::of(&e))?;
    Ok(Seen { want, item: got.item })
}

/// `pk=S:a, sk=N:1`, attributes sorted, for the check's resource.
fn show_key(key: &Item) -> String {
    let mut parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={}", show_value(v))).collect();
    parts.sort();
    parts.join(", ")
}

fn show_value(value: &AttributeValue) -> String {
    match value {
        AttributeValue::S(s) => format!("S:{s}"),
        AttributeValue::N(n) => format!("N:{n}"),
        AttributeValue::B(_) => "B:(binary)".into(),
        other => format!("{other:?}"),
    }
}

/// Whether two items are the same: the same attributes, equal values.
fn same_item(a: &Item, b: &Item) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w)))
}

/// DynamoDB's equality: numbers as numbers (`1.0` is `1`), sets in any order, maps and lists deep.
fn same_value(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    let same_numbers = |x: &[String], y: &[String]| {
        x.len() == y.len() && x.iter().all(|n| y.iter().any(|m| same_number(n, m)))
    };
    let same_set = |x: &[String], y: &[String]| x.len() == y.len() && x.iter().all(|s| y.contains(s));
    match (a, b) {
        (V::N(x), V::N(y)) => same_number(x, y),
        (V::Ns(x), V::Ns(y)) => same_numbers(x, y),
        (V::Ss(x), V::Ss(y)) => same_set(x, y),
        (V::Bs(x), V::Bs(y)) => x.len() == y.len() && x.iter().all(|v| y.contains(v)),
        (V::M(x), V::M(y)) => same_item(x, y),
        (V::L(x), V::L(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_value(v, w)),
        _ => a == b,
    }
}

fn same_number(a: &str, b: &str) -> bool {
    a == b || matches!((a.trim().parse::<f64>(), b.trim().parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

pub(super) fn put_item(ddb: &Client, input: &PutItemInput, _: &PutItemOutput) -> Vec<Check> {
    let (Some(table), Some(item)) = (input.table_name(), input.item()) else { return Vec::new() };
    vec![item_check(ddb, "PutItem", table, KeyOf::Put(item.clone()), Want::Item(item.clone()))]
}

pub(super) fn update_item(ddb: &Client, input: &UpdateItemInput, output: &UpdateItemOutput) -> Vec<Check> {
    let (Some(table), Some(key)) = (input.table_name(), input.key()) else { return Vec::new() };
    let want = match (input.return_values(), output.attributes()) {
        (Some(ReturnValue::AllNew), Some(item)) => Want::Item(item.clone()),
        _ => Want::Latest,
    };
    vec![item_check(ddb, "UpdateItem", table, KeyOf::Key(key.clone()), want)]
}

pub(super) fn delete_item(ddb: &Client, input: &DeleteItemInput, _: &DeleteItemOutput) -> Vec<Check> {
    let (Some(table), Some(key)) = (input.table_name(), input.key()) else { return Vec::new() };
    vec![item_check(ddb, "DeleteItem", table, KeyOf::Key(key.clone()), Want::Absent)]
}

/// Each processed request read back; the unprocessed ones (`UnprocessedItems`, which the SDK
/// does not resend) fail the settle: the write did not happen, nothing may call it settled.
pub(super) fn batch_write_item(
    ddb: &Client,
    input: &BatchWriteItemInput,
    output: &BatchWriteItemOutput,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let unprocessed = output.unprocessed_items();
    for (table, requests) in input.request_items().into_iter().flatten() {
        let left: &[_] = unprocessed.and_then(|u| u.get(table)).map(Vec::as_slice).unwrap_or_default();
        for request in requests.iter().filter(|r| !left.contains(r)) {
            if let Some(item) = request.put_request().map(|p| p.item()) {
                checks.push(item_check(ddb, "BatchWriteItem", table, KeyOf::Put(item.clone()), Want::Item(item.clone())));
            } else if let Some(key) = request.delete_request().map(|d| d.key()) {
                checks.push(item_check(ddb, "BatchWriteItem", table, KeyOf::Key(key.clone()), Want::Absent));
            }
        }
        if !left.is_empty() {
            checks.push(unprocessed_check(table, left.len()));
        }
    }
    checks
}

/// A check that fails at once: `count` requests on `table` were not written.
fn unprocessed_check(table: &str, count: usize) -> Check {
    Check::new(
        "BatchWriteItem",
        table,
        format!("no UnprocessedItems ({count} left unwritten: resend them)"),
        waiter::<usize>().failure_when(|_| true),
        move || std::future::ready(Ok::<usize, Infallible>(count)),
    )
}

pub(super) fn transact_write_items(
    ddb: &Client,
    input: &TransactWriteItemsInput,
    _: &TransactWriteItemsOutput,
) -> Vec<Check> {
    let op = "TransactWriteItems";
    let mut checks = Vec::new();
    for entry in input.transact_items() {
        // A ConditionCheck writes nothing.
        if let Some(put) = entry.put() {
            let item = put.item().clone();
            checks.push(item_check(ddb, op, put.table_name(), KeyOf::Put(item.clone()), Want::Item(item)));
        } else if let Some(update) = entry.update() {
            checks.push(item_check(ddb, op, update.table_name(), KeyOf::Key(update.key().clone()), Want::Latest));
        } else if let Some(delete) = entry.delete() {
            checks.push(item_check(ddb, op, delete.table_name(), KeyOf::Key(delete.key().clone()), Want::Absent));
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_compare_numbers_as_numbers_and_sets_in_any_order() {
        let n = |s: &str| AttributeValue::N(s.into());
        let a: Item = HashMap::from([
            ("n".into(), n("1.0")),
            ("ss".into(), AttributeValue::Ss(vec!["x".into(), "y".into()])),
            ("m".into(), AttributeValue::M(HashMap::from([("k".into(), n("2"))]))),
        ]);
        let b: Item = HashMap::from([
            ("n".into(), n("1")),
            ("ss".into(), AttributeValue::Ss(vec!["y".into(), "x".into()])),
            ("m".into(), AttributeValue::M(HashMap::from([("k".into(), n("2.00"))]))),
        ]);
        assert!(same_item(&a, &b));
        let mut c = b.clone();
        c.insert("extra".into(), AttributeValue::Bool(true));
        assert!(!same_item(&a, &c), "an extra attribute is a different item");
        c.remove("extra");
        c.insert("n".into(), n("1.5"));
        assert!(!same_item(&a, &c));
        assert_eq!(show_key(&HashMap::from([("sk".into(), n("1")), ("pk".into(), AttributeValue::S("a".into()))])), "pk=S:a, sk=N:1");
    }

    #[tokio::test]
    async fn unprocessed_items_fail_the_settle_and_only_processed_ones_are_read_back() {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        let ddb = Client::from_conf(config);
        let put = |k: &str| {
            let item = HashMap::from([("pk".to_string(), AttributeValue::S(k.into()))]);
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
        };
        let input = BatchWriteItemInput::builder().request_items("t", vec![put("a"), put("b"), put("c")]).build().unwrap();
        let output = BatchWriteItemOutput::builder().unprocessed_items("t", vec![put("b"), put("c")]).build();
        let checks = batch_write_item(&ddb, &input, &output);
        assert_eq!(checks.len(), 2, "one read-back for `a`, one failure for the two unprocessed");
        assert_eq!(checks[0].expected(), "GetItem without ConsistentRead returns the item written");
        let failure = checks.into_iter().nth(1).unwrap();
        assert_eq!(failure.expected(), "no UnprocessedItems (2 left unwritten: resend them)");
        let error = failure.run(&crate::post::SettleOptions::default()).await.unwrap_err();
        assert!(error.to_string().contains("2 left unwritten"), "{error}");
    }
}
