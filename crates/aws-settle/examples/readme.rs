//! The README's snippets for call chains, observability and the client cache, compiled and
//! runnable against moto behind a lagging settle-proxy (`tests/readme_snippets.rs` keeps each
//! README block equal to its place here):
//!
//! `cargo run -p aws-settle --features full --example readme`

use std::error::Error;
use std::time::Duration;

use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};
use aws_settle::chain::{Chain, Memo, OperationStatus, ProgressEvent};
use aws_settle::wait::{Delays, Waiter};
use serde::{Deserialize, Serialize};

/// The resource model of the chain snippet.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TableModel {
    table_name: String,
    arn: Option<String>,
}

/// The request the chain records in its memo.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CreateReq {
    name: String,
}

/// One invocation of the CreateTable handler (the README's chain snippet): its memo is the
/// `callbackContext` of the previous invocation's event (empty on the first).
#[rustfmt::skip]
async fn create_table_handler(
    ddb: &aws_sdk_dynamodb::Client,
    mut memo: Memo,
    model: TableModel,
) -> Result<ProgressEvent<TableModel>, Box<dyn Error>> {
    let table_active = Waiter::new(Delays::smithy(Duration::from_millis(200), Duration::from_secs(2)))
        .success_when(|o: &DescribeTableOutput| {
            o.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active)
        })
        .retry_on_error_code("ResourceNotFoundException");
    // README: chain
    let key = KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build()?;
    let attribute = AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build()?;
    let event = Chain::new(&mut memo)
        .initiate("create-table", model)
        .translate(|m| CreateReq { name: m.table_name.clone() })  // your serializable request, kept in the memo
        .call(|req| {
            ddb.create_table().table_name(req.name).key_schema(key.clone()).attribute_definitions(attribute.clone())
                .billing_mode(BillingMode::PayPerRequest).send()     // the fluent builder owns what it sends
        })
        .record(|out| out.table_description().and_then(|t| t.table_arn()).map(str::to_string))
        .callback_in(Duration::from_secs(1))                        // first invocation: "call me back in 1 s"
        .stabilize(table_active, |req| ddb.describe_table().table_name(&req.name).send())
        .done(|model, arn| ProgressEvent::success(TableModel { arn, ..model }))
        .await;
    // README: end
    Ok(event)
}

/// The README's observability snippet; returns the instrumented client and its telemetry.
#[rustfmt::skip]
fn observed(
    sdk_config: aws_types::SdkConfig,
) -> Result<(aws_sdk_dynamodb::Client, aws_settle::observe::Telemetry), Box<dyn Error>> {
    // README: observe
    let telemetry = aws_settle::observe::Telemetry::new();
    let ddb = aws_settle::observe::instrument(aws_sdk_dynamodb::Client::new(&sdk_config), &telemetry);
    telemetry.on("*:*:throttled", |e| eprintln!("{} throttled (attempt {})", e.operation, e.attempt))?;
    // ... run the job ...
    println!("{}", telemetry.report());
    // README: end
    Ok((ddb, telemetry))
}

/// The README's client cache snippet.
#[rustfmt::skip]
async fn cached(sdk_config: aws_types::SdkConfig) -> aws_sdk_ssm::Client {
    use aws_settle::cache::{ClientCache, ClientCacheKey};
    use aws_settle::post::{Enforcer, attach};
    let enforcer = Enforcer::new();
    // README: cache
    let cache: ClientCache<aws_sdk_ssm::Client> = ClientCache::lru(64);             // or ClientCache::lfu(64)
    let key = ClientCacheKey::from_sdk_config("ssm", &sdk_config, "role/deployer");
    let ssm = cache.get_or_build(&key, || aws_sdk_ssm::Client::new(&sdk_config)).await;
    let settled = cache.get_or_build(&key.clone().attached("default"), || attach(aws_sdk_ssm::Client::new(&sdk_config), &enforcer)).await;
    // README: end
    assert_eq!(cache.builds(), 2, "a plain and an attached client: two entries");
    drop(settled);
    ssm
}

/// The README's rate governor snippet (feature `fleet`).
#[cfg(feature = "fleet")]
#[rustfmt::skip]
#[allow(dead_code)]
fn governed(sdk_config: aws_types::SdkConfig, valkey_url: &str) -> Result<aws_sdk_ssm::Client, Box<dyn Error>> {
    // README: govern
    use aws_settle::govern::{FleetOptions, Governor, Limits, govern};
    // SSM allows 40 GetParameter/s per account and region; 20/s for the other operations here.
    let limits = Limits::new(20.0).with_operation("ssm", "GetParameter", 40.0).with_account("prod");
    let governor = Governor::fleet(valkey_url, limits, FleetOptions::default())?; // or Governor::local(limits)
    let ssm = govern(aws_sdk_ssm::Client::new(&sdk_config), &governor);
    // README: end
    Ok(ssm)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config::with_lag("1s..2s".parse()?));
    let sdk_config = settle_emulator::sdk_config(&proxy.endpoint());
    let ssm = cached(sdk_config.clone()).await;
    ssm.describe_parameters().send().await?;
    let (ddb, telemetry) = observed(sdk_config)?;

    let model = TableModel { table_name: settle_emulator::unique_name("readme"), arn: None };
    let mut memo = Memo::new();
    let event = loop {
        let event = create_table_handler(&ddb, memo, model.clone()).await?;
        if event.status != OperationStatus::InProgress {
            break event;
        }
        println!("IN_PROGRESS: invoking again in {} s with the memo", event.callback_delay_seconds);
        tokio::time::sleep(Duration::from_secs(event.callback_delay_seconds.into())).await;
        memo = event.memo;
    };
    println!("{}: {:?}", event.status, event.model);
    println!("{}", telemetry.report());
    proxy.shutdown();
    Ok(())
}
