//! `settle`: the aws-settle command line.

mod demo;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Demo => runtime.block_on(demo::run()),
    }
}
