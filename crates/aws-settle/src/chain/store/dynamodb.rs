//! [`DynamoDbStore`]: memos in a DynamoDB table, written with conditional puts on a version
//! attribute, so a fleet of handler instances shares them without lost updates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::{BoxFuture, FutureExt};

use super::{Memo, MemoStore, MemoStoreError, Versioned, check_key};
use crate::errors::ErrorSummary;

/// DynamoDB's item size limit is 400 KB; a memo item is kept below this many bytes (attribute
/// names and values, as DynamoDB counts them) and refused with [`MemoStoreError::TooLarge`] above.
pub const ITEM_LIMIT: usize = 400_000;

/// Memos in a DynamoDB table whose partition key is a string attribute (default `pk`). Each
/// item holds the memo's JSON (`memo`), its version (`version`, a number) and an expiry time in
/// epoch seconds (`expiresAt`: turn on TTL on that attribute so finished or abandoned memos go
/// away). A save is a `PutItem` conditioned on the version read (`attribute_not_exists` for the
/// first), so a racing writer gets [`MemoStoreError::Conflict`]; loads are strongly consistent
/// reads. Defaults: key attribute `pk`, a time to live of 7 days, items below [`ITEM_LIMIT`].
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
    key_attribute: String,
    ttl: Duration,
}

const MEMO: &str = "memo";
const VERSION: &str = "version";
const EXPIRES: &str = "expiresAt";

impl DynamoDbStore {
    /// A store in `table`, whose partition key is the string attribute `pk`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            key_attribute: "pk".to_string(),
            ttl: Duration::from_secs(7 * 86_400),
        }
    }

    /// The name of the table's partition key attribute (a string).
    pub fn with_key_attribute(mut self, name: impl Into<String>) -> Self {
        self.key_attribute = name.into();
        self
    }

    /// How long after its last save a memo may be expired by DynamoDB's TTL.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn service_error<E>(
        &self,
        key: &str,
        what: &'static str,
        error: &SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    ) -> MemoStoreError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        MemoStoreError::Backend { key: key.to_string(), what, reason: ErrorSummary::of(error).to_string() }
    }

    fn item_size(&self, key: &str, json: &str) -> usize {
        // Names plus values; a number counts at most 21 bytes.
        self.key_attribute.len()
            + key.len()
            + MEMO.len()
            + json.len()
            + VERSION.len()
            + 21
            + EXPIRES.len()
            + 21
    }
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl MemoStore for DynamoDbStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, MemoStoreError>> {
        async move {
            check_key(key)?;
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key(&self.key_attribute, AttributeValue::S(key.to_string()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.service_error(key, "GetItem", &e))?;
            let Some(item) = out.item else { return Ok(None) };
            let corrupt = |reason: String| MemoStoreError::Corrupt { key: key.to_string(), reason };
            let version =
                number(&item, VERSION).ok_or_else(|| corrupt(format!("no number attribute {VERSION}")))?;
            let json = item
                .get(MEMO)
                .and_then(|v| v.as_s().ok())
                .ok_or_else(|| corrupt(format!("no string attribute {MEMO}")))?;
            let memo = Memo::from_json(json).map_err(|e| corrupt(e.to_string()))?;
            Ok(Some(Versioned { memo, version }))
        }
        .boxed()
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        memo: &'a Memo,
        expected: u64,
    ) -> BoxFuture<'a, Result<u64, MemoStoreError>> {
        async move {
            check_key(key)?;
            let json = memo.to_json();
            let bytes = self.item_size(key, &json);
            if bytes > ITEM_LIMIT {
                return Err(MemoStoreError::TooLarge { key: key.to_string(), bytes, limit: ITEM_LIMIT });
            }
            let expires = SystemTime::now().checked_add(self.ttl).unwrap_or(SystemTime::now());
            let expires = expires.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item(&self.key_attribute, AttributeValue::S(key.to_string()))
                .item(MEMO, AttributeValue::S(json))
                .item(VERSION, AttributeValue::N((expected + 1).to_string()))
                .item(EXPIRES, AttributeValue::N(expires.to_string()));
            let put = if expected == 0 {
                put.condition_expression("attribute_not_exists(#k)")
                    .expression_attribute_names("#k", &self.key_attribute)
            } else {
                put.condition_expression("#v = :expected")
                    .expression_attribute_names("#v", VERSION)
                    .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            };
            match put.send().await {
                Ok(_) => Ok(expected + 1),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                    Err(MemoStoreError::Conflict { key: key.to_string(), expected, found: None })
                }
                Err(e) => Err(self.service_error(key, "PutItem", &e)),
            }
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), MemoStoreError>> {
        async move {
            check_key(key)?;
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(&self.key_attribute, AttributeValue::S(key.to_string()))
                .send()
                .await
                .map_err(|e| self.service_error(key, "DeleteItem", &e))?;
            Ok(())
        }
        .boxed()
    }
}
