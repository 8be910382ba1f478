//! DynamoDB items: eventually consistent reads see an item's pre-write state during the lag.
//!
//! AWS: "a read might not reflect the results of a recently completed write" unless it asks for
//! `ConsistentRead`; reads on a global secondary index are always eventually consistent (moto
//! refuses `ConsistentRead` there, as AWS does). moto is strongly consistent everywhere, so the
//! proxy keeps, per item, its state before the write (one consistent BatchGetItem issued before
//! the write is forwarded) and rebuilds the answers of eventually consistent reads from it:
//!
//! - GetItem is answered from the held item (`{}` if it did not exist);
//! - BatchGetItem, Query and Scan go upstream, then each lagging item in the answer is replaced
//!   by its old state (or dropped, if it did not exist); an old item missing from the answer
//!   (deleted, or moved out of an index) is added back when the answer is one whole page, has no
//!   filter and, for a Query, the old item meets the key condition.
//!
//! An item's key is `dynamodb-item:TABLE/{"attr":{"S":"v"},…}`, attributes sorted by name and
//! numbers in a canonical form, so `1` and `1.0` name the same item. What is not simulated:
//! a `FilterExpression` is not re-applied to an old item put back in place of the new one, an
//! index answer is not cut down to the index's projection (a `ProjectionExpression` is applied),
//! `Select=COUNT` answers keep moto's count, binary key values compare for equality
//! only (a range condition on one is not evaluated), a Query whose key condition the proxy cannot
//! read (beyond `=`, `<`, `<=`, `>`, `>=`, `BETWEEN`, `begins_with`, `AND`) is answered as moto
//! gives it, and items deleted on a multi-page answer stay away.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The resource class of an item.
pub(crate) const ITEM: &str = "dynamodb-item";
/// The writes whose items lag.
pub(crate) const WRITES: &[&str] =
    &["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];
/// The reads rebuilt from held items.
pub(crate) const READS: &[&str] = &["GetItem", "BatchGetItem", "Query", "Scan"];
/// Most items one write lags: TransactWriteItems takes 100, as does one BatchGetItem snapshot.
pub(crate) const MAX_ITEMS: usize = 100;

/// An item a write names: its table, and its key (or, for a put, the whole item: the key is cut
/// from it once the table's key schema is known).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Written {
    pub table: String,
    pub key: Option<Map<String, Value>>,
    pub item: Option<Map<String, Value>>,
}

/// The items a write request names (at most [`MAX_ITEMS`]).
pub(crate) fn written(operation: &str, body: &Value) -> Vec<Written> {
    let obj = |v: Option<&Value>| v.and_then(Value::as_object).cloned();
    let table = |v: &Value| v.get("TableName").and_then(Value::as_str).map(str::to_string);
    let mut out = Vec::new();
    match operation {
        "PutItem" => {
            out.extend(table(body).map(|t| Written { table: t, key: None, item: obj(body.get("Item")) }))
        }
        "UpdateItem" | "DeleteItem" => {
            out.extend(table(body).map(|t| Written { table: t, key: obj(body.get("Key")), item: None }))
        }
        "BatchWriteItem" => {
            for (t, requests) in body.get("RequestItems").and_then(Value::as_object).into_iter().flatten() {
                for request in requests.as_array().into_iter().flatten() {
                    let put = obj(request.pointer("/PutRequest/Item"));
                    let delete = obj(request.pointer("/DeleteRequest/Key"));
                    if put.is_some() || delete.is_some() {
                        out.push(Written { table: t.clone(), key: delete, item: put });
                    }
                }
            }
        }
        "TransactWriteItems" => {
            for entry in body.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                // ConditionCheck entries write nothing.
                for (kind, field) in [("Put", "Item"), ("Update", "Key"), ("Delete", "Key")] {
                    let Some(action) = entry.get(kind) else { continue };
                    let Some(t) = table(action) else { continue };
                    let value = obj(action.get(field));
                    let (key, item) = if kind == "Put" { (None, value) } else { (value, None) };
                    out.push(Written { table: t, key, item });
                }
            }
        }
        _ => {}
    }
    out.truncate(MAX_ITEMS);
    out
}

/// The tables of `written` whose key schema is needed (a put names a whole item).
pub(crate) fn tables_needing_schema(written: &[Written]) -> Vec<String> {
    let mut tables: Vec<String> =
        written.iter().filter(|w| w.key.is_none()).map(|w| w.table.clone()).collect();
    tables.sort();
    tables.dedup();
    tables
}

/// The key attribute names of a DescribeTable answer.
pub(crate) fn key_schema(describe: &Value) -> Vec<String> {
    describe
        .pointer("/Table/KeySchema")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k.get("AttributeName")?.as_str().map(str::to_string))
        .collect()
}

/// The key of a put item under `schema` (`None` if an attribute of the key is missing).
pub(crate) fn key_of(item: &Map<String, Value>, schema: &[String]) -> Option<Map<String, Value>> {
    if schema.is_empty() {
        return None;
    }
    schema.iter().map(|a| Some((a.clone(), item.get(a)?.clone()))).collect()
}

/// The canonical name of an item: `TABLE/{"a":{"N":"1"},"b":{"S":"x"}}`, attributes sorted.
pub(crate) fn item_name(table: &str, key: &Map<String, Value>) -> String {
    let sorted: BTreeMap<&String, String> = key.iter().map(|(k, v)| (k, canonical(v))).collect();
    let parts: Vec<String> = sorted.iter().map(|(k, v)| format!("{}:{v}", Value::from(k.as_str()))).collect();
    format!("{table}/{{{}}}", parts.join(","))
}

/// A key attribute value in a canonical form: numbers without `+`, leading or trailing zeros.
fn canonical(value: &Value) -> String {
    match value.get("N").and_then(Value::as_str) {
        Some(n) => format!("{{\"N\":\"{}\"}}", canonical_number(n)),
        None => value.to_string(),
    }
}

fn canonical_number(n: &str) -> String {
    let (sign, digits) = match n.trim().strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", n.trim().trim_start_matches('+')),
    };
    if digits.contains(['e', 'E']) {
        return n.trim().to_string();
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if int == "0" && frac.is_empty() {
        return "0".into();
    }
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
}

/// Whether `item` is the item `key` names.
fn is_item(item: &Map<String, Value>, key: &Map<String, Value>) -> bool {
    key.iter().all(|(a, v)| item.get(a).is_some_and(|i| canonical(i) == canonical(v)))
}

/// The snapshot body of an item: `{"Item":{…}}`, or `{}` when it did not exist.
pub(crate) fn snapshot_body(item: Option<&Map<String, Value>>) -> Vec<u8> {
    let body = match item {
        Some(item) => serde_json::json!({ "Item": item }),
        None => serde_json::json!({}),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The item held in a snapshot body.
pub(crate) fn snapshot_item(body: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<Value>(body).ok()?.get("Item")?.as_object().cloned()
}

/// The BatchGetItem body reading `keys` (grouped by table) consistently, for the snapshot.
pub(crate) fn snapshot_request(keys: &[(String, Map<String, Value>)]) -> String {
    let mut tables: Map<String, Value> = Map::new();
    for (table, key) in keys {
        let entry = tables
            .entry(table.clone())
            .or_insert_with(|| serde_json::json!({ "Keys": [], "ConsistentRead": true }));
        if let Some(list) = entry.get_mut("Keys").and_then(Value::as_array_mut)
            && !list.contains(&Value::Object(key.clone()))
        {
            list.push(Value::Object(key.clone()));
        }
    }
    serde_json::json!({ "RequestItems": tables }).to_string()
}

/// The item of `table` with `key` in a BatchGetItem answer.
pub(crate) fn found(answer: &Value, table: &str, key: &Map<String, Value>) -> Option<Map<String, Value>> {
    let items = answer.get("Responses")?.get(table)?.as_array()?;
    items.iter().filter_map(Value::as_object).find(|i| is_item(i, key)).cloned()
}

/// The `(table, key)` pairs of a BatchWriteItem answer's `UnprocessedItems`: not written.
pub(crate) fn unprocessed(answer: &Value) -> Vec<Written> {
    let items =
        serde_json::json!({ "RequestItems": answer.get("UnprocessedItems").cloned().unwrap_or_default() });
    written("BatchWriteItem", &items)
}

/// Whether a read asks for strong consistency (which sees every write at once).
pub(crate) fn consistent(request: &Value) -> bool {
    request.get("ConsistentRead").and_then(Value::as_bool).unwrap_or(false)
}

/// The attribute names a read projects to (top level), `None` for the whole item.
fn projection(request: &Value) -> Option<Vec<String>> {
    if let Some(expression) = request.get("ProjectionExpression").and_then(Value::as_str) {
        let names = request.get("ExpressionAttributeNames");
        return Some(
            expression
                .split(',')
                .map(|path| {
                    let top = path.trim().split(['.', '[']).next().unwrap_or("").trim();
                    names.and_then(|n| n.get(top)).and_then(Value::as_str).unwrap_or(top).to_string()
                })
                .collect(),
        );
    }
    let legacy = request.get("AttributesToGet")?.as_array()?;
    Some(legacy.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn project(item: &Map<String, Value>, to: Option<&[String]>) -> Map<String, Value> {
    match to {
        Some(names) => {
            item.iter().filter(|(k, _)| names.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        None => item.clone(),
    }
}

/// The GetItem answer from a held item.
pub(crate) fn get_item_answer(request: &Value, old: Option<&Map<String, Value>>) -> Vec<u8> {
    let projected = old.map(|item| project(item, projection(request).as_deref()));
    snapshot_body(projected.as_ref())
}

/// A held item: its table, key and pre-write state.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub table: String,
    pub key: Map<String, Value>,
    pub old: Option<Map<String, Value>>,
}

/// The key of an item name made by [`item_name`].
pub(crate) fn parse_name(name: &str) -> Option<(String, Map<String, Value>)> {
    let (table, key) = name.split_once('/')?;
    let key = serde_json::from_str::<Value>(key).ok()?.as_object()?.clone();
    Some((table.to_string(), key))
}

/// Rewrites a BatchGetItem answer: per table read eventually consistently, each held item
/// requested shows its old state. `None` if nothing changed.
pub(crate) fn patch_batch_get(request: &Value, answer: &[u8], held: &[Held]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(answer).ok()?;
    let mut changed = false;
    for (table, wanted) in request.get("RequestItems")?.as_object()? {
        if consistent(wanted) {
            continue;
        }
        let keys: Vec<&Map<String, Value>> = wanted
            .get("Keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let to = projection(wanted);
        for h in held.iter().filter(|h| &h.table == table && keys.iter().any(|k| is_item(&h.key, k))) {
            let responses =
                value.as_object_mut()?.entry("Responses").or_insert_with(|| Value::Object(Map::new()));
            let list =
                responses.as_object_mut()?.entry(table.clone()).or_insert_with(|| Value::Array(Vec::new()));
            let list = list.as_array_mut()?;
            list.retain(|i| i.as_object().is_none_or(|i| !is_item(i, &h.key)));
            if let Some(old) = &h.old {
                list.push(Value::Object(project(old, to.as_deref())));
            }
            changed = true;
        }
    }
    changed.then(|| serde_json::to_vec(&value).ok()).flatten()
}

/// Rewrites a Query or Scan answer to the old state of the held items of its table (see the
/// module docs for what is put back). `None` if nothing changed.
pub(crate) fn patch_query(operation: &str, request: &Value, answer: &[u8], held: &[Held]) -> Option<Vec<u8>> {
    let table = request.get("TableName")?.as_str()?;
    let held: Vec<&Held> = held.iter().filter(|h| h.table == table).collect();
    if held.is_empty() {
        return None;
    }
    let mut value: Value = serde_json::from_slice(answer).ok()?;
    let whole = request.get("ExclusiveStartKey").is_none() && value.get("LastEvaluatedKey").is_none();
    let condition = match operation {
        "Query" => Some(KeyCondition::of(request)?),
        _ => None,
    };
    let filtered =
        ["FilterExpression", "QueryFilter", "ScanFilter"].iter().any(|f| request.get(*f).is_some());
    let add_back = whole && !filtered && (condition.is_some() || request.get("IndexName").is_none());
    let to = projection(request);
    let items = value.get_mut("Items")?.as_array_mut()?;
    let before = items.clone();
    for h in &held {
        let meets = |old: &Map<String, Value>| condition.as_ref().is_none_or(|c| c.holds(old));
        let at = items.iter().position(|i| i.as_object().is_some_and(|i| is_item(i, &h.key)));
        match (at, &h.old) {
            (Some(i), Some(old)) if meets(old) => items[i] = Value::Object(project(old, to.as_deref())),
            (Some(i), _) => {
                items.remove(i);
            }
            (None, Some(old)) if add_back && meets(old) => {
                items.push(Value::Object(project(old, to.as_deref())))
            }
            (None, _) => {}
        }
    }
    if *items == before {
        return None;
    }
    if let Some(sort) = condition.as_ref().and_then(|c| c.sort_key(request, &held[0].key)) {
        let forward = request.get("ScanIndexForward").and_then(Value::as_bool).unwrap_or(true);
        items.sort_by(|a, b| {
            let order = compare(a.get(&sort), b.get(&sort)).unwrap_or(Ordering::Equal);
            if forward { order } else { order.reverse() }
        });
    }
    let count = items.len();
    value["Count"] = count.into();
    serde_json::to_vec(&value).ok()
}

/// A Query's key condition: a conjunction of comparisons on key attributes.
#[derive(Debug)]
pub(crate) struct KeyCondition {
    terms: Vec<Term>,
}

#[derive(Debug)]
enum Term {
    Compare(String, &'static str, Value),
    Between(String, Value, Value),
    BeginsWith(String, Value),
}

impl KeyCondition {
    /// The condition of a Query request (`KeyConditionExpression` or legacy `KeyConditions`);
    /// `None` if it cannot be read.
    pub(crate) fn of(request: &Value) -> Option<KeyCondition> {
        if let Some(expression) = request.get("KeyConditionExpression").and_then(Value::as_str) {
            let names = request.get("ExpressionAttributeNames");
            let values = request.get("ExpressionAttributeValues");
            return parse_expression(expression, names, values);
        }
        let mut terms = Vec::new();
        for (attr, c) in request.get("KeyConditions")?.as_object()? {
            let args: Vec<Value> = c.get("AttributeValueList")?.as_array()?.clone();
            let op = c.get("ComparisonOperator")?.as_str()?;
            let first = args.first()?.clone();
            terms.push(match op {
                "EQ" => Term::Compare(attr.clone(), "=", first),
                "LT" => Term::Compare(attr.clone(), "<", first),
                "LE" => Term::Compare(attr.clone(), "<=", first),
                "GT" => Term::Compare(attr.clone(), ">", first),
                "GE" => Term::Compare(attr.clone(), ">=", first),
                "BEGINS_WITH" => Term::BeginsWith(attr.clone(), first),
                "BETWEEN" => Term::Between(attr.clone(), first, args.get(1)?.clone()),
                _ => return None,
            });
        }
        Some(KeyCondition { terms })
    }

    /// Whether an item meets the condition.
    pub(crate) fn holds(&self, item: &Map<String, Value>) -> bool {
        self.terms.iter().all(|term| match term {
            Term::Compare(attr, op, v) => compare(item.get(attr), Some(v)).is_some_and(|o| match *op {
                "=" => o == Ordering::Equal,
                "<" => o == Ordering::Less,
                "<=" => o != Ordering::Greater,
                ">" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }),
            Term::Between(attr, low, high) => {
                compare(item.get(attr), Some(low)).is_some_and(|o| o != Ordering::Less)
                    && compare(item.get(attr), Some(high)).is_some_and(|o| o != Ordering::Greater)
            }
            Term::BeginsWith(attr, prefix) => match (item.get(attr), prefix) {
                (Some(v), p) => {
                    let (v, p) = (scalar(v), scalar(p));
                    matches!((v, p), (Some((t, v)), Some((u, p))) if t == u && t != "N" && v.starts_with(p))
                }
                _ => false,
            },
        })
    }

    /// The attribute the answer is ordered by: the one with a range term, else (on the table
    /// itself) the key attribute the partition equality does not name.
    fn sort_key(&self, request: &Value, key: &Map<String, Value>) -> Option<String> {
        let ranged = self.terms.iter().find_map(|t| match t {
            Term::Compare(a, op, _) if *op != "=" => Some(a.clone()),
            Term::Between(a, ..) | Term::BeginsWith(a, _) => Some(a.clone()),
            _ => None,
        });
        if ranged.is_some() || request.get("IndexName").is_some() {
            return ranged;
        }
        let equal: Vec<&String> = self
            .terms
            .iter()
            .filter_map(|t| if let Term::Compare(a, "=", _) = t { Some(a) } else { None })
            .collect();
        let rest: Vec<&String> = key.keys().filter(|k| !equal.contains(k)).collect();
        match rest.as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        }
    }
}

/// The type and text of a scalar attribute value (`S`, `N` or `B`).
fn scalar(v: &Value) -> Option<(&'static str, &str)> {
    ["S", "N", "B"].into_iter().find_map(|t| Some((t, v.get(t)?.as_str()?)))
}

/// DynamoDB's order of two scalar values of the same type; `None` across types or if absent.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Option<Ordering> {
    let ((ta, a), (tb, b)) = (scalar(a?)?, scalar(b?)?);
    if ta != tb {
        return None;
    }
    match ta {
        "N" => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        // Base64 text does not sort as its bytes: binary values compare for equality only.
        "B" => (a == b).then_some(Ordering::Equal),
        _ => Some(a.as_bytes().cmp(b.as_bytes())),
    }
}

/// Parses `a = :v AND b BETWEEN :x AND :y`, `begins_with(b, :p)`, comparisons, parentheses.
fn parse_expression(expression: &str, names: Option<&Value>, values: Option<&Value>) -> Option<KeyCondition> {
    let tokens = tokenize(expression);
    let mut at = 0;
    let name = |t: &str| names.and_then(|n| n.get(t)).and_then(Value::as_str).unwrap_or(t).to_string();
    let value = |t: &str| values.and_then(|v| v.get(t)).cloned();
    let mut terms = Vec::new();
    loop {
        while tokens.get(at).is_some_and(|t| t == "(" || t == ")") {
            at += 1;
        }
        let first = tokens.get(at)?.clone();
        if first.eq_ignore_ascii_case("begins_with") {
            // begins_with ( attr , :v )
            let (attr, v) = (tokens.get(at + 2)?, tokens.get(at + 4)?);
            terms.push(Term::BeginsWith(name(attr), value(v)?));
            at += 6;
        } else {
            let op = tokens.get(at + 1)?;
            if op.eq_ignore_ascii_case("BETWEEN") {
                let (low, high) = (value(tokens.get(at + 2)?)?, value(tokens.get(at + 4)?)?);
                terms.push(Term::Between(name(&first), low, high));
                at += 5;
            } else {
                let op = ["=", "<", "<=", ">", ">="].into_iter().find(|o| o == op)?;
                terms.push(Term::Compare(name(&first), op, value(tokens.get(at + 2)?)?));
                at += 3;
            }
        }
        while tokens.get(at).is_some_and(|t| t == ")") {
            at += 1;
        }
        match tokens.get(at) {
            None => return Some(KeyCondition { terms }),
            Some(t) if t.eq_ignore_ascii_case("AND") => at += 1,
            Some(_) => return None,
        }
    }
}

fn tokenize(expression: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' | ')' | ',' => tokens.push(c.to_string()),
            '<' | '>' | '=' => {
                let mut op = c.to_string();
                if chars.peek() == Some(&'=') {
                    op.push('=');
                    chars.next();
                }
                tokens.push(op);
            }
            _ => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "()<>=,".contains(n) {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                tokens.push(word);
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn item_names_are_canonical_whatever_the_order_and_number_spelling() {
        let a = map(json!({"sk": {"N": "1.50"}, "pk": {"S": "a"}}));
        let b = map(json!({"pk": {"S": "a"}, "sk": {"N": "+01.5"}}));
        assert_eq!(item_name("t", &a), item_name("t", &b));
        assert_eq!(item_name("t", &a), r#"t/{"pk":{"S":"a"},"sk":{"N":"1.5"}}"#);
        assert_eq!(parse_name(&item_name("t", &a)).map(|(t, k)| (t, k.len())), Some(("t".into(), 2)));
        assert_eq!(canonical_number("-0.0"), "0");
        assert_eq!(canonical_number("100"), "100");
    }

    #[test]
    fn every_write_names_its_items_and_condition_checks_write_nothing() {
        let batch = json!({"RequestItems": {"t": [
            {"PutRequest": {"Item": {"pk": {"S": "a"}, "v": {"S": "x"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}
        ]}});
        let items = written("BatchWriteItem", &batch);
        assert_eq!(items.len(), 2);
        assert!(items[0].item.is_some() && items[1].key.is_some());
        let transact = json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "c"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "d"}}}}
        ]});
        assert_eq!(written("TransactWriteItems", &transact).len(), 1);
        let schema = vec!["pk".to_string()];
        assert_eq!(key_of(items[0].item.as_ref().unwrap(), &schema), Some(map(json!({"pk": {"S": "a"}}))));
        assert_eq!(key_of(&map(json!({"v": {"S": "x"}})), &schema), None, "no key attribute: no key");
    }

    #[test]
    fn key_conditions_read_expressions_and_legacy_maps() {
        let request = json!({
            "KeyConditionExpression": "#p = :p AND (sk BETWEEN :lo AND :hi)",
            "ExpressionAttributeNames": {"#p": "pk"},
            "ExpressionAttributeValues": {":p": {"S": "a"}, ":lo": {"N": "2"}, ":hi": {"N": "10"}}
        });
        let c = KeyCondition::of(&request).unwrap();
        assert!(c.holds(&map(json!({"pk": {"S": "a"}, "sk": {"N": "9"}}))));
        assert!(!c.holds(&map(json!({"pk": {"S": "a"}, "sk": {"N": "11"}}))), "numbers compare as numbers");
        assert!(!c.holds(&map(json!({"pk": {"S": "b"}, "sk": {"N": "3"}}))));
        let prefix = json!({
            "KeyConditionExpression": "pk = :p and begins_with(sk, :s)",
            "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"S": "2024-"}}
        });
        let c = KeyCondition::of(&prefix).unwrap();
        assert!(c.holds(&map(json!({"pk": {"S": "a"}, "sk": {"S": "2024-01"}}))));
        assert!(!c.holds(&map(json!({"pk": {"S": "a"}, "sk": {"S": "2023-01"}}))));
        let legacy = json!({"KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}}});
        assert!(KeyCondition::of(&legacy).unwrap().holds(&map(json!({"pk": {"S": "a"}}))));
        assert!(KeyCondition::of(&json!({"KeyConditionExpression": "pk = :missing"})).is_none());
        assert!(KeyCondition::of(&json!({"KeyConditionExpression": "pk = :p OR x"})).is_none());
    }

    #[test]
    fn a_query_answer_shows_old_items_in_place_drops_new_ones_and_puts_deleted_ones_back_in_order() {
        let request = json!({
            "TableName": "t",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}}
        });
        let item = |sk: &str, v: &str| json!({"pk": {"S": "a"}, "sk": {"S": sk}, "v": {"S": v}});
        let answer =
            json!({"Items": [item("1", "new"), item("2", "created")], "Count": 2, "ScannedCount": 2});
        let key = |sk: &str| map(json!({"pk": {"S": "a"}, "sk": {"S": sk}}));
        let held = vec![
            Held { table: "t".into(), key: key("1"), old: Some(map(item("1", "old"))) },
            Held { table: "t".into(), key: key("2"), old: None },
            Held { table: "t".into(), key: key("0"), old: Some(map(item("0", "deleted"))) },
            Held { table: "other".into(), key: key("9"), old: Some(map(item("9", "x"))) },
        ];
        let patched = patch_query("Query", &request, &serde_json::to_vec(&answer).unwrap(), &held).unwrap();
        let patched: Value = serde_json::from_slice(&patched).unwrap();
        assert_eq!(patched["Items"], json!([item("0", "deleted"), item("1", "old")]));
        assert_eq!(patched["Count"], 2);
        let paged = json!({"Items": [], "Count": 0, "LastEvaluatedKey": {"pk": {"S": "a"}}});
        let unchanged = patch_query("Query", &request, &serde_json::to_vec(&paged).unwrap(), &held);
        assert!(unchanged.is_none(), "nothing is put back on one page of many");
    }

    #[test]
    fn batch_get_answers_are_patched_per_table_unless_read_consistently() {
        let key = map(json!({"pk": {"S": "a"}}));
        let held = vec![Held {
            table: "t".into(),
            key: key.clone(),
            old: Some(map(json!({"pk": {"S": "a"}, "v": {"S": "old"}, "w": {"S": "x"}}))),
        }];
        let answer =
            serde_json::to_vec(&json!({"Responses": {"t": [{"pk": {"S": "a"}, "v": {"S": "new"}}]}}))
                .unwrap();
        let request = json!({"RequestItems": {"t": {"Keys": [key], "ProjectionExpression": "pk, #v", "ExpressionAttributeNames": {"#v": "v"}}}});
        let patched: Value =
            serde_json::from_slice(&patch_batch_get(&request, &answer, &held).unwrap()).unwrap();
        assert_eq!(patched["Responses"]["t"], json!([{"pk": {"S": "a"}, "v": {"S": "old"}}]));
        let strong = json!({"RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}], "ConsistentRead": true}}});
        assert!(patch_batch_get(&strong, &answer, &held).is_none());
    }
}
