//! Stage 6b: **item views**: DynamoDB item writes hold each item's pre-write state (one
//! consistent BatchGetItem before the write is forwarded), and eventually consistent item reads
//! are answered from, or rewritten to, that state while the write lags. Item keys and answers
//! are built by [`crate::rules::dynamodb::items`].

use std::collections::HashMap;
use std::time::Instant;

use http::{Method, StatusCode};
use serde_json::{Map, Value};

use super::{Outcome, Request};
use crate::protocol::{StoredResponse, awsjson};
use crate::rules::dynamodb::{items, set_body};
use crate::rules::{Key, SnapshotRead};
use crate::server::Shared;
use crate::visibility::Hold;

/// The read id item snapshots are kept under.
const READ_ID: &str = "GetItem";

/// The answer to a DynamoDB item read or write; the request back if it is neither.
pub(crate) async fn dynamodb(request: Request<'_>, hold: Hold) -> Result<Outcome, Request<'_>> {
    let parsed = request.parsed;
    let operation = parsed.info.operation.as_str();
    if parsed.info.service != "dynamodb" || parsed.json.is_none() {
        return Err(request);
    }
    if items::WRITES.contains(&operation) {
        return Ok(write(request, hold).await);
    }
    if items::READS.contains(&operation) {
        return read(request).await;
    }
    Err(request)
}

/// Reads: GetItem from the held item, the others forwarded and rewritten.
async fn read(request: Request<'_>) -> Result<Outcome, Request<'_>> {
    let (shared, parsed) = (request.shared, request.parsed);
    let Some(body) = parsed.json.as_ref() else { return Err(request) };
    let operation = parsed.info.operation.as_str();
    if operation != "BatchGetItem" && items::consistent(body) {
        return Err(request);
    }
    if operation == "GetItem" {
        let (Some(table), Some(key)) =
            (parsed.json_str("TableName"), body.get("Key").and_then(Value::as_object))
        else {
            return Err(request);
        };
        let id = format!("{}:{}", items::ITEM, items::item_name(table, key));
        let mut state = shared.lock();
        let Some(snapshot) = state.book.snapshot(&id, READ_ID, Instant::now()) else { return Err(request) };
        let old = items::snapshot_item(&snapshot.body);
        state.counters.served_from_snapshot += 1;
        return Ok(Outcome::local(answer(items::get_item_answer(body, old.as_ref())), "lag"));
    }
    let held = held(shared);
    if held.is_empty() {
        return Err(request);
    }
    let mut outcome = request.forward().await;
    if !outcome.response.status.is_success() {
        return Ok(outcome);
    }
    let patched = match operation {
        "BatchGetItem" => items::patch_batch_get(body, &outcome.response.body, &held),
        _ => items::patch_query(operation, body, &outcome.response.body, &held),
    };
    if let Some(patched) = patched {
        set_body(&mut outcome.response, patched);
        shared.lock().counters.served_from_snapshot += 1;
        outcome.fault = Some("lag");
    }
    Ok(outcome)
}

/// Every item whose write still lags, with its pre-write state.
fn held(shared: &Shared) -> Vec<items::Held> {
    let state = shared.lock();
    let now = Instant::now();
    let prefix = format!("{}:", items::ITEM);
    state
        .book
        .snapshots
        .iter()
        .filter(|((key, read), s)| read == READ_ID && key.starts_with(&prefix) && s.window.open(now))
        .filter_map(|((key, _), s)| {
            let (table, key) = items::parse_name(&key[prefix.len()..])?;
            Some(items::Held { table, key, old: items::snapshot_item(&s.response.body) })
        })
        .collect()
}

/// A JSON answer made by the proxy.
fn answer(body: Vec<u8>) -> StoredResponse {
    let mut response = StoredResponse::new(StatusCode::OK, awsjson::content_type("dynamodb"), Vec::new());
    set_body(&mut response, body);
    response
}

/// An awsJson read issued upstream with the write's credentials.
async fn issue(request: &Request<'_>, operation: &str, body: String) -> Option<Value> {
    let prefix = request.parsed.target_prefix.as_deref().unwrap_or("DynamoDB_20120810");
    let read = SnapshotRead {
        read_id: operation.to_string(),
        method: Method::POST,
        path: "/".into(),
        target: Some(format!("{prefix}.{operation}")),
        content_type: Some(awsjson::content_type("dynamodb")),
        body,
    };
    let response = request.shared.snapshot(&read, &request.parts.headers, "dynamodb").await?;
    if !response.status.is_success() {
        request.shared.lock().counters.snapshot_failures += 1;
        return None;
    }
    serde_json::from_slice(&response.body).ok()
}

/// The keys of written items; a put's key is cut from its item with the table's key schema.
async fn keys_of(request: &Request<'_>, written: &[items::Written]) -> Vec<(String, Map<String, Value>)> {
    let mut schemas: HashMap<String, Vec<String>> = HashMap::new();
    for table in items::tables_needing_schema(written) {
        let described =
            issue(request, "DescribeTable", serde_json::json!({ "TableName": table }).to_string()).await;
        let schema = described.map(|d| items::key_schema(&d)).unwrap_or_default();
        schemas.insert(table, schema);
    }
    let mut keys: Vec<(String, Map<String, Value>)> = Vec::new();
    for w in written {
        let key = w.key.clone().or_else(|| items::key_of(w.item.as_ref()?, schemas.get(&w.table)?));
        if let Some(key) = key {
            let name = items::item_name(&w.table, &key);
            if !keys.iter().any(|(t, k)| items::item_name(t, k) == name) {
                keys.push((w.table.clone(), key));
            }
        }
    }
    keys
}

/// Writes: the items' pre-write state taken, the write forwarded, its windows opened on the items
/// it wrote (a BatchWriteItem's `UnprocessedItems` were not written: they do not lag).
async fn write(request: Request<'_>, hold: Hold) -> Outcome {
    let (shared, parsed) = (request.shared, request.parsed);
    let written = parsed.json.as_ref().map(|b| items::written(&parsed.info.operation, b)).unwrap_or_default();
    if hold.is_zero() || written.is_empty() {
        return request.forward().await;
    }
    let keys = keys_of(&request, &written).await;
    let before = match keys.is_empty() {
        true => None,
        false => issue(&request, "BatchGetItem", items::snapshot_request(&keys)).await,
    };
    // Without the whole pre-write state the write goes on unlagged (counted as a snapshot failure).
    let Some(before) =
        before.filter(|b| b.get("UnprocessedKeys").and_then(Value::as_object).is_none_or(Map::is_empty))
    else {
        return request.forward().await;
    };
    let outcome = request.forward().await;
    if !outcome.response.status.is_success() {
        return outcome;
    }
    let unprocessed = match parsed.info.operation.as_str() {
        "BatchWriteItem" => {
            let answer = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
            keys_of_unprocessed(&answer, &keys)
        }
        _ => Vec::new(),
    };
    let mut lagged: Vec<Key> = Vec::new();
    let mut taken: Vec<(Key, String, StoredResponse)> = Vec::new();
    for (table, key) in &keys {
        let name = items::item_name(table, key);
        if unprocessed.contains(&name) {
            continue;
        }
        let item = Key { class: items::ITEM, name, reference: Vec::new() };
        let old = items::found(&before, table, key);
        let body = items::snapshot_body(old.as_ref());
        taken.push((
            item.clone(),
            READ_ID.to_string(),
            StoredResponse::new(StatusCode::OK, "application/json", body),
        ));
        lagged.push(item);
    }
    if lagged.is_empty() {
        return outcome;
    }
    let mut state = shared.lock();
    state.book.open(Instant::now(), hold, "dynamodb", &parsed.info.operation, &lagged, taken);
    state.counters.writes_lagged += 1;
    outcome
}

/// The names of the written items a BatchWriteItem answer left unprocessed.
fn keys_of_unprocessed(answer: &Value, keys: &[(String, Map<String, Value>)]) -> Vec<String> {
    items::unprocessed(answer)
        .iter()
        .filter_map(|w| {
            let from_item = || {
                let item = w.item.as_ref()?;
                keys.iter().find(|(t, k)| {
                    t == &w.table
                        && items::key_of(item, &k.keys().cloned().collect::<Vec<_>>()).as_ref() == Some(k)
                })
            };
            let key =
                w.key.as_ref().map(|k| (w.table.clone(), k.clone())).or_else(|| from_item().cloned())?;
            Some(items::item_name(&key.0, &key.1))
        })
        .collect()
}
