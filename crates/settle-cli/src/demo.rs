//! `settle demo`: the README's main command.
//!
//! Starts moto and settle-proxy and runs the same little deployment script twice: naively, and
//! with an aws-settle enforcer attached. The naive run's writes are held invisible until it is over
//! (any lag longer than the gap between two calls trips it; holding makes the demo the same on a
//! fast or a loaded machine); the settled run meets 1–3 s of drawn lag after each write and passes.
//! Exits non-zero unless both behave so.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_ssm::types::ParameterType;
use aws_settle::post::{Enforcer, SettleExt, attach};

/// The lag the proxy puts on every write's visibility.
const LAG: &str = "1s..3s";

/// The clients a script runs with.
struct Clients {
    ssm: aws_sdk_ssm::Client,
    secrets: aws_sdk_secretsmanager::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

/// One write of the script: awaited plainly, or settled.
async fn write<T, E>(call: impl Future<Output = Result<T, E>>, settle: bool) -> anyhow::Result<T>
where
    E: std::error::Error + aws_sdk_ssm::error::ProvideErrorMetadata + Send + Sync + 'static,
{
    if settle { Ok(call.settled().await?) } else { Ok(call.await?) }
}

/// The deployment script: each step writes, then does what depends on the write.
async fn script(c: &Clients, run: &str, settle: bool) -> Vec<(&'static str, Duration, anyhow::Result<()>)> {
    let mut steps = Vec::new();
    let param = format!("/settle-demo/{run}/db-url");
    let t = Instant::now();
    let result = async {
        let put = c.ssm.put_parameter().name(&param).value("postgres://db-1").r#type(ParameterType::String);
        write(put.send(), settle).await?;
        let got = c.ssm.get_parameter().name(&param).send().await.context("GetParameter")?;
        let value = got.parameter().and_then(|p| p.value()).unwrap_or_default();
        if value != "postgres://db-1" {
            bail!("read {value:?}");
        }
        Ok(())
    }
    .await;
    steps.push(("PutParameter, then GetParameter reads it", t.elapsed(), result));

    let t = Instant::now();
    let result = async {
        let put = c.ssm.put_parameter().name(&param).value("postgres://db-2").overwrite(true);
        write(put.send(), settle).await?;
        let got = c.ssm.get_parameter().name(&param).send().await.context("GetParameter")?;
        let value = got.parameter().and_then(|p| p.value()).unwrap_or_default();
        if value != "postgres://db-2" {
            bail!("read the old value {value:?} after the overwrite");
        }
        Ok(())
    }
    .await;
    steps.push(("overwrite it, then read the new value", t.elapsed(), result));

    let t = Instant::now();
    let secret = format!("settle-demo-{run}-api-key");
    let result = async {
        write(c.secrets.create_secret().name(&secret).secret_string("k3y").send(), settle).await?;
        c.secrets.get_secret_value().secret_id(&secret).send().await.context("GetSecretValue")?;
        Ok(())
    }
    .await;
    steps.push(("CreateSecret, then GetSecretValue", t.elapsed(), result));

    let t = Instant::now();
    let table = format!("settle-demo-{run}-orders");
    let result = async {
        let create = c
            .dynamodb
            .create_table()
            .table_name(&table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()?,
            )
            .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build()?)
            .billing_mode(BillingMode::PayPerRequest);
        write(create.send(), settle).await?;
        let put = c.dynamodb.put_item().table_name(&table).item("id", AttributeValue::S("order-1".into()));
        put.send().await.context("PutItem")?;
        Ok(())
    }
    .await;
    steps.push(("CreateTable, then PutItem", t.elapsed(), result));
    steps
}

fn show(title: &str, steps: &[(&'static str, Duration, anyhow::Result<()>)]) -> usize {
    println!("\n{title}");
    let mut failed = 0;
    for (step, took, result) in steps {
        match result {
            Ok(()) => println!("  ok    {step:<42} {took:>8.2?}"),
            Err(e) => {
                failed += 1;
                let reason = format!("{e:#}");
                let reason: String = reason.chars().take(110).collect();
                println!("  FAIL  {step:<42} {took:>8.2?}  {reason}");
            }
        }
    }
    failed
}

pub async fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    println!(
        "Starting moto {} (the first run installs it into a project-local virtualenv)...",
        settle_testbed::MOTO_VERSION
    );
    let moto = tokio::task::spawn_blocking(settle_testbed::MotoServer::start).await??;
    let proxy = settle_proxy::Proxy::builder()
        .upstream(moto.endpoint())
        .listen("127.0.0.1:0".parse()?)
        .config(settle_proxy::Config::held())
        .seed(7)
        .start()
        .await?;
    println!(
        "moto at {}, settle-proxy at {}: the naive run's writes are held until it ends, the settled run's \
         become visible after {LAG} ({:.1?})",
        moto.endpoint(),
        proxy.endpoint(),
        started.elapsed()
    );
    let config = settle_testbed::sdk_config(&proxy.endpoint());
    let run = settle_testbed::unique_name("run");

    let naive = Clients {
        ssm: aws_sdk_ssm::Client::new(&config),
        secrets: aws_sdk_secretsmanager::Client::new(&config),
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
    };
    let t = Instant::now();
    let naive_steps = script(&naive, &format!("{run}-naive"), false).await;
    let naive_failed =
        show(&format!("Naive script (write, then use it at once): {:.2?}", t.elapsed()), &naive_steps);

    // The naive run is over: what it wrote becomes visible, and later writes lag as AWS's do.
    proxy.set_config(settle_proxy::Config::with_lag(LAG.parse()?));
    proxy.release_all();

    let enforcer = Enforcer::builder()
        .with_options(aws_settle::post::SettleOptions::new().with_max_wait(Duration::from_secs(30)))
        .build();
    let settled = Clients {
        ssm: attach(naive.ssm.clone(), &enforcer),
        secrets: attach(naive.secrets.clone(), &enforcer),
        dynamodb: attach(naive.dynamodb.clone(), &enforcer),
    };
    let t = Instant::now();
    let settled_steps = script(&settled, &format!("{run}-settled"), true).await;
    let settled_failed = show(
        &format!("Settled script (the same, with `.send().settled().await`): {:.2?}", t.elapsed()),
        &settled_steps,
    );

    let stats = enforcer.stats();
    let counters = proxy.counters();
    println!(
        "\naws-settle: {} read-back checks settled, {} did not; the proxy answered {} reads from pre-write snapshots \
         and rewrote {} statuses.",
        stats.checks_passed, stats.checks_failed, counters.served_from_snapshot, counters.status_rewrites
    );
    proxy.shutdown();
    if settled_failed > 0 {
        bail!("the settled script failed {settled_failed} step(s)");
    }
    if naive_failed == 0 {
        bail!("the naive script did not trip over the lag: the proxy's lag is not in effect");
    }
    println!(
        "The naive script failed {naive_failed} of {} steps; the settled one passed them all.",
        naive_steps.len()
    );
    Ok(())
}
