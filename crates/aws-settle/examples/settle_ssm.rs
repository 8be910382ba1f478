//! The README's post-condition snippet, runnable against moto behind a lagging settle-proxy:
//!
//! `cargo run -p aws-settle --features ssm --example settle_ssm`
//!
//! A test (`tests/post/readme.rs`) checks that the README's snippet is this file's, line for line.

use std::time::Instant;

use aws_sdk_ssm::types::ParameterType;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::with_lag("1s..2s".parse()?));
    let sdk_config = settle_testbed::sdk_config(&proxy.endpoint());
    let t = Instant::now();
    let app = format!("/settle/example/{}", settle_testbed::unique_name("app"));

    // README: post-conditions
    use aws_settle::post::{Enforcer, SettleExt, attach};

    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&sdk_config), &enforcer); // the one changed line

    // Serial: returns once GetParameter reads version >= the returned one, with this value.
    let db = format!("{app}/db");
    ssm.put_parameter().name(&db).value("pg://db-1").r#type(ParameterType::String).send().settled().await?;
    ssm.put_parameter().name(&db).value("pg://db-2").overwrite(true).send().settled().await?;

    // Batch: record many writes, settle them all concurrently at the end (about max(lag), not sum(lag)).
    enforcer
        .scope(async {
            for i in 0..50 {
                let name = format!("{app}/p{i}");
                ssm.put_parameter().name(name).value("x").r#type(ParameterType::String).send().await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .await?;
    // README: end

    let read = ssm.get_parameter().name(&db).send().await?;
    println!("{db} = {:?}", read.parameter().and_then(|p| p.value()));
    println!("52 writes settled in {:.2?}; {:?}", t.elapsed(), enforcer.stats());
    proxy.shutdown();
    Ok(())
}
