//! `settle demo`: the README's main command.
//!
//! At this stage it proves the emulator round-trip through the real SDK; it grows
//! into "naive script fails under lag, settled script passes" as capabilities land.

use std::time::Instant;

use anyhow::{Context, bail};

pub async fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    println!(
        "Starting moto {} (first run installs it into a project-local virtualenv)...",
        settle_testbed::MOTO_VERSION
    );
    let moto = tokio::task::spawn_blocking(settle_testbed::MotoServer::start).await??;
    println!("moto is up at {} after {:.1?}", moto.endpoint(), started.elapsed());

    let ssm = aws_sdk_ssm::Client::new(&settle_testbed::sdk_config(&moto.endpoint()));
    let name = format!("/settle/demo/{}", settle_testbed::unique_name("param"));
    let t = Instant::now();
    let put = ssm.put_parameter().name(&name).value("hello").send().await.context("PutParameter")?;
    let got = ssm.get_parameter().name(&name).send().await.context("GetParameter")?;
    let value = got.parameter().and_then(|p| p.value()).unwrap_or_default();
    println!(
        "PutParameter {name} (version {}) then GetParameter -> {value:?} in {:.1?}",
        put.version(),
        t.elapsed()
    );
    if value != "hello" {
        bail!("round-trip returned {value:?}, expected \"hello\"");
    }
    println!("round-trip OK");
    Ok(())
}
