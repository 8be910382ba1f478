//! The `Settle::SecretsManager::Secret` resource provider. On AWS Lambda (built with the
//! `lambda` feature) it serves the runtime API; anywhere else it reads one handler payload on
//! stdin and prints the ProgressEvent JSON as its last stdout line.
//!
//! Environment: `AWS_ENDPOINT_URL` (every SDK client honours it), `SETTLE_MEMO_DIR` (the file
//! memo store's directory), `SETTLE_MEMO_TABLE` (keep memos in this DynamoDB table instead),
//! `SETTLE_REMAINING_MS` (the invocation's remaining time, locally).

mod secret;

use std::sync::Arc;
use std::time::Duration;

use aws_settle::chain::store::DynamoDbStore;
use cfn_provider::Runtime;

fn runtime() -> Runtime<secret::SecretProvider> {
    let runtime = Runtime::new(secret::SecretProvider)
        .with_margin(Duration::from_millis(500))
        .with_callback_delay(Duration::from_secs(1));
    match std::env::var("SETTLE_MEMO_TABLE") {
        Ok(table) => runtime.with_store_for(move |config| {
            Arc::new(DynamoDbStore::new(aws_sdk_dynamodb::Client::new(config), table.clone()))
        }),
        Err(_) => runtime,
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    #[cfg(feature = "lambda")]
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        if let Err(e) = cfn_provider::serve_lambda(runtime()).await {
            eprintln!("lambda runtime: {e}");
            std::process::exit(1);
        }
        return;
    }
    let remaining =
        std::env::var("SETTLE_REMAINING_MS").ok().and_then(|ms| ms.parse().ok()).map(Duration::from_millis);
    let response = runtime().handle_reader(std::io::stdin(), remaining).await;
    println!("{}", response.to_json());
}
