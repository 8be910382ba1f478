//! A CloudFormation-style CreateTable handler through settle-proxy (writes held invisible until the
//! test releases them: the table reads CREATING) in front of moto: a callback after the call, a
//! resume from the memo's JSON that does not call CreateTable again, stabilization to ACTIVE, and
//! AlreadyExists for a second create. No wall-clock window: what the handler sees before the
//! release is decided by the release, not by a lag running out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use std::time::Duration;
use tokio::sync::Notify;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};
use aws_settle::chain::{Chain, HandlerErrorCode, Memo, OperationStatus, ProgressEvent};
use aws_settle::wait::{Delays, Waiter};
use serde::{Deserialize, Serialize};

/// The resource model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TableModel {
    table_name: String,
    arn: Option<String>,
}

/// Stabilization polls made, and a signal after each.
#[derive(Default)]
struct Polls {
    count: AtomicU32,
    made: Notify,
}

impl Polls {
    fn count(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }

    /// Returns once `n` polls were made.
    async fn reached(&self, n: u32) {
        while self.count() < n {
            self.made.notified().await;
        }
    }
}

/// The request recorded in the memo (the SDK's input is not serializable).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CreateReq {
    name: String,
}

/// CreateTable of an on-demand table keyed by a string `pk`.
fn create_table(ddb: &Client, name: String) -> CreateTableFluentBuilder {
    let attribute =
        AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S);
    let key = KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash);
    ddb.create_table()
        .table_name(name)
        .attribute_definitions(attribute.build().unwrap())
        .key_schema(key.build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
}

/// The CreateTable handler: call, call back in 1 s, then stabilize to ACTIVE.
async fn create_handler(
    ddb: &Client,
    model: TableModel,
    memo: &mut Memo,
    polls: Arc<Polls>,
) -> ProgressEvent<TableModel> {
    let active = Waiter::new(
        Delays::smithy(Duration::from_millis(200), Duration::from_secs(1)).max_wait(Duration::from_secs(30)),
    )
    .named("TableActive")
    .success_when(|o: &DescribeTableOutput| {
        o.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active)
    })
    .retry_on_error_code("ResourceNotFoundException")
    .on_attempt(move |_| {
        polls.count.fetch_add(1, Ordering::SeqCst);
        polls.made.notify_one();
    });
    Chain::new(memo)
        .initiate("create-table", model)
        .translate(|m| CreateReq { name: m.table_name.clone() })
        .call(|req| create_table(ddb, req.name).send())
        .record(|out| out.table_description().and_then(|t| t.table_arn()).map(str::to_string))
        .callback_in(Duration::from_secs(1))
        .stabilize(active, |req| ddb.describe_table().table_name(&req.name).send())
        .done(|model, arn| ProgressEvent::success(TableModel { arn, ..model }))
        .await
}

#[tokio::test]
async fn a_create_table_handler_calls_back_resumes_without_calling_again_and_stabilizes() {
    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::held());
    let telemetry = aws_settle::observe::Telemetry::new();
    let ddb = Client::new(&settle_emulator::sdk_config(&proxy.endpoint()));
    let ddb = aws_settle::observe::instrument(ddb, &telemetry);
    let name = settle_emulator::unique_name("settle-chain");
    let model = TableModel { table_name: name.clone(), arn: None };
    let polls = Arc::new(Polls::default());

    // First invocation: CreateTable, then "call me back in 1 s".
    let mut memo = Memo::new();
    let first = create_handler(&ddb, model.clone(), &mut memo, polls.clone()).await;
    assert_eq!(first.status, OperationStatus::InProgress, "{first:?}");
    assert_eq!(first.callback_delay_seconds, 1);
    assert_eq!(polls.count(), 0, "no stabilization in the first invocation");
    let record = first.memo.call("create-table").expect("recorded");
    assert!(record.called && !record.stabilized);
    let arn = record.response.clone().expect("the ARN view is recorded");
    assert!(arn.as_str().is_some_and(|a| a.ends_with(&name)), "{arn}");

    // The callback context travels as JSON (as CloudFormation hands it back).
    let json = serde_json::to_string(&first).unwrap();
    let event: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(event["status"], "IN_PROGRESS");
    let mut memo = Memo::from_json(&event["callbackContext"].to_string()).unwrap();

    // Second invocation: no second CreateTable; DescribeTable reads CREATING while the write is
    // held, and ACTIVE once the test releases it after two polls.
    let release = async {
        polls.reached(2).await;
        assert_eq!(proxy.release_resource(&format!("dynamodb-table:{name}")), 1);
    };
    let (second, ()) = tokio::join!(create_handler(&ddb, model.clone(), &mut memo, polls.clone()), release);
    assert_eq!(second.status, OperationStatus::Success, "{second:?}");
    let done = second.model.expect("the model");
    assert_eq!(done.table_name, name);
    assert_eq!(done.arn.as_deref(), arn.as_str());
    let counters = proxy.counters();
    assert_eq!(counters.per_operation.get("dynamodb:CreateTable"), Some(&1), "{counters:?}");
    assert!(polls.count() >= 3, "CREATING twice, then ACTIVE: {counters:?}");
    // The stabilization polls are read-backs to an instrumented client; CreateTable is the call.
    let report = telemetry.report();
    let checks = report.read_back_row("dynamodb", "DescribeTable").expect("read-backs reported");
    assert_eq!(checks.calls, u64::from(polls.count()), "{report}");
    assert!(report.row("dynamodb", "DescribeTable").is_none(), "{report}");
    assert_eq!(report.row("dynamodb", "CreateTable").map(|r| r.calls), Some(1), "{report}");
    assert!(memo.is_stabilized("create-table"));

    // A second handler creating the same table fails with AlreadyExists.
    let mut other = Memo::new();
    let again = create_handler(&ddb, model, &mut other, polls.clone()).await;
    assert_eq!(
        (again.status, again.error_code),
        (OperationStatus::Failed, Some(HandlerErrorCode::AlreadyExists))
    );
    let message = again.message.unwrap_or_default();
    assert!(message.contains("create-table") && message.contains("ResourceInUseException"), "{message}");
    assert_eq!(proxy.counters().per_operation.get("dynamodb:CreateTable"), Some(&2));
}

/// A DynamoDB conditional put that fails and returns the old item (with a secret attribute) in
/// its error body: the failure event says the code and the service's message, never the raw
/// response, the item, or the credentials the request was signed with.
#[tokio::test]
async fn a_failed_call_is_reported_by_code_and_message_without_the_raw_response() {
    use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
    use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

    const SECRET_KEY: &str = "chain-SECRETKEY-wJalrXUtnFEMI";
    const SESSION_TOKEN: &str = "chain-SESSIONTOKEN-FwoGZXIvYXdzEJr";
    const ITEM_SECRET: &str = "chain-ITEMSECRET-hunter2";

    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::default());
    let credentials =
        Credentials::new("AKIDCHAINTEST", SECRET_KEY, Some(SESSION_TOKEN.into()), None, "chain");
    let config = settle_emulator::sdk_config(&proxy.endpoint())
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    let ddb = Client::new(&config);
    let table = settle_emulator::unique_name("settle-chain-secret");
    create_table(&ddb, table.clone()).send().await.unwrap();
    ddb.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("user-1".into()))
        .item("password", AttributeValue::S(ITEM_SECRET.into()))
        .send()
        .await
        .unwrap();
    let put_once = |pk: String| {
        ddb.put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk))
            .item("password", AttributeValue::S("new".into()))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
    };

    // The raw response does carry the secret: what `{error:?}` used to put into the message.
    let raw = put_once("user-1".into()).await.unwrap_err();
    assert!(format!("{raw:?}").contains(ITEM_SECRET), "the test needs a response that holds the secret");

    let mut memo = Memo::new();
    let event = Chain::new(&mut memo)
        .initiate("put-user", "user-1".to_string())
        .translate(|pk| pk.clone())
        .call(put_once)
        .done(|pk, _| ProgressEvent::success(pk))
        .await;
    assert_eq!(
        (event.status, event.error_code),
        (OperationStatus::Failed, Some(HandlerErrorCode::GeneralServiceException)),
        "{event:?}"
    );
    let message = event.message.clone().unwrap_or_default();
    assert!(
        message.contains("chain step put-user")
            && message.contains("ConditionalCheckFailedException (HTTP 400): The conditional request failed"),
        "{message}"
    );
    assert!(message.len() < 400, "a bounded summary: {message}");
    let json = serde_json::to_string(&event).unwrap();
    for secret in [ITEM_SECRET, SECRET_KEY, SESSION_TOKEN, "x-amz-security-token", "Signature="] {
        assert!(!json.contains(secret), "the event leaks {secret}: {json}");
    }
}

/// The DynamoDB memo store through settle-proxy in front of moto: versions, a stale save refused, racing writers of whom exactly one wins,
/// the TTL attribute, and an oversized memo refused before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_memo_store_lets_exactly_one_of_racing_writers_win() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_settle::chain::store::{DynamoDbStore, ITEM_LIMIT};
    use aws_settle::chain::{MemoStore, MemoStoreError, Versioned};

    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::default());
    let ddb = Client::new(&settle_emulator::sdk_config(&proxy.endpoint()));
    let table = settle_emulator::unique_name("settle-memos");
    create_table(&ddb, table.clone()).send().await.unwrap();
    let store = Arc::new(DynamoDbStore::new(ddb.clone(), &table));
    let memo = |who: &str| {
        let mut memo = Memo::new();
        memo.set("who", who);
        memo
    };

    assert_eq!(store.load("tok").await.unwrap(), None);
    assert_eq!(store.save("tok", &memo("a"), 0).await.unwrap(), 1);
    let stale = store.save("tok", &memo("again"), 0).await.unwrap_err();
    assert!(matches!(&stale, MemoStoreError::Conflict { expected: 0, .. }), "{stale}");
    assert_eq!(store.save("tok", &memo("b"), 1).await.unwrap(), 2);
    assert_eq!(store.load("tok").await.unwrap(), Some(Versioned { memo: memo("b"), version: 2 }));

    let writers: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { (i, store.save("tok", &memo(&format!("w{i}")), 2).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for writer in writers {
        match writer.await.unwrap() {
            (i, Ok(version)) => winners.push((i, version)),
            (_, Err(e)) => assert!(e.is_conflict(), "{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = store.load("tok").await.unwrap().unwrap();
    assert_eq!(stored, Versioned { memo: memo(&format!("w{}", winners[0].0)), version: 3 });

    let item =
        ddb.get_item().table_name(&table).key("pk", AttributeValue::S("tok".into())).send().await.unwrap();
    let expires: u64 = item.item().unwrap()["expiresAt"].as_n().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expires > now + 6 * 86_400, "a TTL of 7 days: {expires} vs {now}");

    let puts = proxy.counters().per_operation.get("dynamodb:PutItem").copied();
    let mut big = Memo::new();
    big.set("blob", "x".repeat(ITEM_LIMIT));
    let err = store.save("big", &big, 0).await.unwrap_err();
    assert!(matches!(err, MemoStoreError::TooLarge { limit: ITEM_LIMIT, .. }), "{err}");
    assert_eq!(
        proxy.counters().per_operation.get("dynamodb:PutItem").copied(),
        puts,
        "refused before a call"
    );
    store.delete("tok").await.unwrap();
    assert_eq!(store.load("tok").await.unwrap(), None);
}
