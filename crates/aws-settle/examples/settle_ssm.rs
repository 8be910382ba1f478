//! The README's post-condition snippet, runnable against moto behind a lagging settle-proxy:
//!
//! `cargo run -p aws-settle --features ssm --example settle_ssm`

use std::time::Instant;

use aws_settle::post::{Enforcer, SettleExt, attach};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proxy = settle_testbed::proxy_in_front_of_moto(settle_proxy::Config::with_lag("1s..2s".parse()?));
    let sdk_config = settle_testbed::sdk_config(&proxy.endpoint());

    let enforcer = Enforcer::new();
    let ssm = attach(aws_sdk_ssm::Client::new(&sdk_config), &enforcer); // the one changed line

    // Serial: returns once GetParameter reads version >= the returned one, with this value.
    let t = Instant::now();
    let name = format!("/settle/example/{}", settle_testbed::unique_name("db"));
    ssm.put_parameter().name(&name).value("postgres://db-1").r#type("String".into()).send().settled().await?;
    ssm.put_parameter().name(&name).value("postgres://db-2").overwrite(true).send().settled().await?;
    let read = ssm.get_parameter().name(&name).send().await?;
    println!("{name} = {:?} after {:.2?}", read.parameter().and_then(|p| p.value()), t.elapsed());

    // Batch: record many writes, settle them all concurrently at the end.
    let t = Instant::now();
    enforcer
        .scope(async {
            for i in 0..50 {
                ssm.put_parameter()
                    .name(format!("{name}/p{i}"))
                    .value("x")
                    .r#type("String".into())
                    .send()
                    .await?;
            }
            Ok::<_, Box<dyn std::error::Error>>(())
        })
        .await?;
    println!("50 parameters written and settled in {:.2?}; {:?}", t.elapsed(), enforcer.stats());
    proxy.shutdown();
    Ok(())
}
