//! `settle`: the aws-settle command line. One module per subcommand.

mod demo;
mod proxy;
mod report;
mod waiter;

use clap::{Parser, Subcommand};

/// Make AWS calls settle.
#[derive(Debug, Parser)]
#[command(name = "settle", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start moto (the AWS emulator) and show aws-settle at work against it.
    Demo,
    /// Run the fault-injection proxy in front of an AWS endpoint (e.g. moto).
    Proxy(proxy::Args),
    /// Summarise `settle proxy --record` recordings: throttling, errors, lag, latency, rates.
    Report(report::Args),
    /// Debug and validate custom waiters (botocore waiters-2.json models).
    #[command(subcommand)]
    Waiter(waiter::Command),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Demo => runtime.block_on(demo::run()),
        Command::Proxy(args) => runtime.block_on(proxy::run(args)),
        Command::Report(args) => report::run(args),
        Command::Waiter(command) => waiter::run(command),
    }
}
