//! Create role → attach policy → create Lambda function → create event source mapping, as call
//! chains, against moto behind a settle-proxy with a 5 s propagation lag and 20% of requests
//! throttled (each service's own throttling error), with no hand-written retry:
//!
//! `cargo run -p aws-settle --features iam,lambda,sqs --example propagation`
//!
//! `tests/post/propagate.rs` runs the same handler under held visibility.

mod stack;

use aws_settle::chain::{Memo, OperationStatus};
use aws_settle::propagate::{Propagation, attach};
use aws_smithy_types::retry::RetryConfig;
use stack::{Clients, Stack, handler};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let faults =
        settle_proxy::Faults { lag: Some("5s".parse()?), throttle_share: Some(0.2), ..Default::default() };
    let proxy = settle_emulator::proxy_in_front_of_moto(settle_proxy::Config {
        faults,
        seed: Some(11),
        ..Default::default()
    });
    // The SDK's own retry takes the throttling (6 attempts: at 20%, three in a row are common enough).
    let retry = RetryConfig::standard().with_max_attempts(6);
    let sdk_config = settle_emulator::sdk_config(&proxy.endpoint()).to_builder().retry_config(retry).build();
    let queue = aws_sdk_sqs::Client::new(&settle_emulator::moto_sdk_config()); // the source exists already
    let url =
        queue.create_queue().queue_name(settle_emulator::unique_name("settle-src")).send().await?.queue_url;
    let arn = queue
        .get_queue_attributes()
        .queue_url(url.unwrap_or_default())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();

    let propagation = Propagation::new();
    let clients = Clients {
        iam: aws_sdk_iam::Client::new(&sdk_config),
        lambda: attach(aws_sdk_lambda::Client::new(&sdk_config), &propagation), // the one added line
    };
    let mut model = Stack {
        role: settle_emulator::unique_name("settle-stack-role"),
        function: settle_emulator::unique_name("settle-stack-fn"),
        queue_arn: arn,
        role_arn: None,
        mapping: None,
    };
    let mut memo = Memo::default();
    for invocation in 1.. {
        let event = handler(&clients, model.clone(), &mut memo).await;
        println!("invocation {invocation}: {:?} {}", event.status, event.message.as_deref().unwrap_or(""));
        match event.status {
            OperationStatus::InProgress => {
                tokio::time::sleep(std::time::Duration::from_secs(event.callback_delay_seconds.into())).await;
                model = event.model.unwrap_or(model);
                memo = event.memo;
            }
            OperationStatus::Success => {
                println!("mapping {:?}", event.model.and_then(|m| m.mapping));
                break;
            }
            OperationStatus::Failed => return Err(event.message.unwrap_or_default().into()),
        }
    }
    for waited in propagation.waits() {
        println!("{waited}");
    }
    let counters = proxy.counters();
    println!("the proxy throttled {} of {} requests", counters.throttled, counters.requests);
    proxy.shutdown();
    Ok(())
}
