//! moto: custom JSON waiters (botocore `waiters-2.json`) over the typed DynamoDB client,
//! evaluated on the raw response bodies captured by `CaptureBody`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_settle::wait::{CaptureBody, Model, VirtualClock, WaitError};

/// TableExists-like semantics, plus a pathAll and an inputOutput-free TableGone waiter.
const MODEL: &str = r#"{
  "version": 2,
  "waiters": {
    "TableReady": {
      "delay": 0.1, "maxAttempts": 50, "operation": "DescribeTable",
      "acceptors": [
        {"state": "success", "matcher": "path", "argument": "Table.TableStatus", "expected": "ACTIVE"},
        {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"}
      ]
    },
    "KeysAreStrings": {
      "delay": 0.1, "maxAttempts": 3, "operation": "DescribeTable",
      "acceptors": [
        {"state": "success", "matcher": "pathAll", "argument": "Table.AttributeDefinitions[].AttributeType", "expected": "S"},
        {"state": "failure", "matcher": "pathAny", "argument": "Table.AttributeDefinitions[].AttributeType", "expected": "N"}
      ]
    },
    "TableGone": {
      "delay": 0.1, "maxAttempts": 3, "operation": "DescribeTable",
      "acceptors": [{"state": "success", "matcher": "error", "expected": "ResourceNotFoundException"}]
    }
  }
}"#;

async fn create_table(ddb: &Client, name: &str, key_type: ScalarAttributeType) {
    ddb.create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("pk").attribute_type(key_type).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
}

#[tokio::test]
async fn a_json_waiter_retries_on_not_found_until_the_table_is_active() {
    let ddb = Client::new(&settle_testbed::moto_sdk_config());
    let name = settle_testbed::unique_name("settle-wait");
    let model = Model::from_json_str(MODEL).unwrap();
    let capture = CaptureBody::new();
    let waiter = model.waiter("TableReady").unwrap().typed::<DescribeTableOutput>().capture(&capture);

    // The table is created between the first poll and the second (no timed creator: the first
    // poll sees ResourceNotFoundException however loaded the machine is; moto makes it ACTIVE).
    let polls = AtomicU32::new(0);
    let settled = waiter
        .clock(VirtualClock::new())
        .wait(|| {
            let poll = polls.fetch_add(1, Ordering::SeqCst) + 1;
            let (ddb, name, capture) = (&ddb, &name, &capture);
            async move {
                if poll == 2 {
                    create_table(ddb, name, ScalarAttributeType::S).await;
                }
                ddb.describe_table().table_name(name).customize().interceptor(capture.clone()).send().await
            }
        })
        .await
        .expect("the table becomes ACTIVE");
    assert_eq!(settled.attempts, 2, "it retried once on ResourceNotFoundException: {settled:?}");
    assert_eq!(settled.acceptor, 0);
    let output = settled.output.expect("success on an output");
    assert_eq!(output.table().and_then(|t| t.table_name()), Some(name.as_str()));

    // pathAll over the attribute types, on the same real response shape.
    let keys = model.waiter("KeysAreStrings").unwrap().typed::<DescribeTableOutput>().capture(&capture);
    let settled = keys
        .wait(|| ddb.describe_table().table_name(&name).customize().interceptor(capture.clone()).send())
        .await
        .unwrap();
    assert_eq!((settled.attempts, settled.acceptor), (1, 0));

    // A delete waiter: success on the error.
    ddb.delete_table().table_name(&name).send().await.expect("DeleteTable");
    let gone = model.waiter("TableGone").unwrap().typed::<DescribeTableOutput>().capture(&capture);
    let settled = gone
        .wait(|| ddb.describe_table().table_name(&name).customize().interceptor(capture.clone()).send())
        .await
        .unwrap();
    assert!(settled.output.is_none());
}

#[tokio::test]
async fn a_json_waiter_reports_a_failure_acceptor_and_a_timeout_with_the_last_error() {
    let ddb = Client::new(&settle_testbed::moto_sdk_config());
    let name = settle_testbed::unique_name("settle-wait-n");
    create_table(&ddb, &name, ScalarAttributeType::N).await;
    let model = Model::from_json_str(MODEL).unwrap();
    let capture = CaptureBody::new();
    let err = model
        .waiter("KeysAreStrings")
        .unwrap()
        .typed::<DescribeTableOutput>()
        .capture(&capture)
        .wait(|| ddb.describe_table().table_name(&name).customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::FailureState { acceptor: 1, attempts: 1, .. }), "{err}");

    // A table that never appears: 3 attempts (botocore maxAttempts), then a timeout naming the error.
    let missing = settle_testbed::unique_name("settle-missing");
    let err = model
        .waiter("TableReady")
        .unwrap()
        .typed::<DescribeTableOutput>()
        .with_delays(aws_settle::wait::Delays::fixed(Duration::from_millis(20), 3))
        .capture(&capture)
        .wait(|| ddb.describe_table().table_name(&missing).customize().interceptor(capture.clone()).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.attempts(), 3);
    assert!(err.last().unwrap().contains("ResourceNotFoundException"), "{err}");
}

#[tokio::test]
async fn an_input_output_path_sees_the_captured_request() {
    use aws_settle::wait::{Acceptor, Comparator, Delays, State, Waiter};
    let ddb = Client::new(&settle_testbed::moto_sdk_config());
    let name = settle_testbed::unique_name("settle-wait-io");
    create_table(&ddb, &name, ScalarAttributeType::S).await;
    let capture = CaptureBody::new();
    let settled = Waiter::new(Delays::fixed(Duration::from_millis(20), 3))
        .acceptor(
            Acceptor::input_output(
                State::Success,
                "input.TableName == output.Table.TableName",
                Comparator::BooleanEquals(true),
            )
            .unwrap(),
        )
        .capture(&capture)
        .wait(|| ddb.describe_table().table_name(&name).customize().interceptor(capture.clone()).send())
        .await
        .unwrap();
    assert_eq!(settled.attempts, 1);
}
